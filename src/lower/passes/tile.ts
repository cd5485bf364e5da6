/**
 * Tiling: each contraction gets the register tile its renderer will use, chosen for the network's constant
 * sizes. The TypeScript renderer has one library kernel per dense pattern (2×4 tiles in registers); the
 * WebAssembly renderer asks `chooseTile` of its own (render/wasm/) and records the answer here.
 */
import type { Contraction, Stmt, Tile } from "../kernel.ts";

export type TileChooser = (c: Contraction) => Tile;

/** The TypeScript renderer's kernels: two rows by four columns of the output in registers. */
export const libraryTiles: TileChooser = () => ({ rows: 2, cols: 4, library: true });

export function tile(body: readonly Stmt[], choose: TileChooser): Stmt[] {
  return body.map((s): Stmt => {
    if (s.k === "contract") return { ...s, c: { ...s.c, tile: choose(s.c) } };
    if (s.k === "loop" || s.k === "ifBatch") return { ...s, body: tile(s.body, choose) };
    return s;
  });
}
