/**
 * Every kernel backend a module can ship, by the name `--kernels` gives it: adding a target is its folder under
 * render/ and one line here (and, for `auto` to choose it, a rule in policy.ts). The interpreter
 * (render/interp), which ships nothing, is not here.
 */
import type { Backend } from "./backend.ts";
import { typescriptBackend } from "./ts/backend.ts";
import { webAssemblyBackend } from "./wasm/backend.ts";

export const BACKENDS = {
  js: typescriptBackend,
  wasm: webAssemblyBackend,
} as const satisfies Record<string, Backend>;

export type BackendName = keyof typeof BACKENDS;
