/**
 * The register tiles of the WebAssembly contractions, for the tile pass. x64 gives WebAssembly 16 vector
 * registers: a tile keeps rows × cols accumulators and one register per row and per column it loads in
 * each step, at most 15 in all, so nothing spills while every loaded vector feeds several multiply-adds.
 *   forward (dot form): 4 weight rows × 2 samples, vectors along the reduction;
 *   transposed, weight gradient (axpy form): 2 rows × 4 vectors (16 f32 columns: one cache line of weights);
 *   one sample's matrix product: by its form; in the axpy form as many vectors as its columns fill (up to 4),
 *   and as many rows as the registers then hold (a convolution with 8 filters: 4 rows × 2 vectors).
 */
import type { Contraction, Tile } from "../../lower/kernel.ts";
import { contractionForm } from "./contract.ts";

/** Rows of an axpy tile of so many vectors: accumulators, vectors and row splats within 15 registers. */
const AXPY_ROWS = [0, 6, 4, 3, 2];

/** Lanes of the f32 vectors the tiles are sized for (an f64 module runs the same tile, over half the columns). */
const LANES = 4;

export function wasmTiles(c: Contraction): Tile {
  if (c.pattern !== "matrix") return c.pattern === "forward" ? { rows: 4, cols: 2, vector: "reduce" } : { rows: 2, cols: 4, vector: "out1" };
  const form = contractionForm(c);
  if (form.kind === "dot") return { rows: 4, cols: 2, vector: "reduce" };
  const columns = (form.vector === "out1" ? c.outVars[1] : c.outVars[0]).extent as number;
  const vectors = Math.max(1, Math.min(4, Math.ceil(columns / LANES)));
  return { rows: AXPY_ROWS[vectors], cols: vectors, vector: form.vector };
}
