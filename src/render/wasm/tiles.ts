/**
 * The register tiles of the WebAssembly contractions, for the tile pass. x64 gives WebAssembly 16 vector
 * registers: a tile keeps rows × cols accumulators and one register per row and per column it loads in
 * each step, 14 in all, so nothing spills while every loaded vector feeds several multiply-adds.
 *   forward (dot form): 4 weight rows × 2 samples, vectors along the reduction;
 *   transposed, weight gradient (axpy form): 2 rows × 4 vectors (16 f32 columns: one cache line of weights).
 */
import type { Contraction, Tile } from "../../lower/kernel.ts";

export function wasmTiles(c: Contraction): Tile {
  return c.pattern === "forward" ? { rows: 4, cols: 2, vector: "reduce" } : { rows: 2, cols: 4, vector: "out1" };
}
