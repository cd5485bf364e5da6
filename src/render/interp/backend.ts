/**
 * The interpreter as a backend record: it runs the kernel IR itself (module.ts), so it ships nothing in a
 * module and is not in the registry of render/backends.ts; the tests take it from here. Its passes are the
 * TypeScript backend's, with no code budget (an interpreted function has no engine limit to stay under).
 */
import type { Backend } from "../backend.ts";
import { libraryTiles } from "../ts/tiles.ts";

export const interpreterBackend = {
  name: "interp",
  // a contraction is computed as written whatever tile it carries
  tiles: libraryTiles,
  codeBudget: Infinity,
  runsEverywhere: true,
} as const satisfies Backend;
