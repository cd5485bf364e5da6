/**
 * Tiling: each contraction gets the register tile its backend will use, chosen for the network's constant
 * sizes by the backend's own chooser (render/<backend>/tiles.ts), and recorded here for its renderer.
 */
import type { Contraction, Stmt, Tile } from "../kernel.ts";

export type TileChooser = (c: Contraction) => Tile;

export function tile(body: readonly Stmt[], choose: TileChooser): Stmt[] {
  return body.map((s): Stmt => {
    if (s.k === "contract") return { ...s, c: { ...s.c, tile: choose(s.c) } };
    if (s.k === "loop" || s.k === "ifBatch") return { ...s, body: tile(s.body, choose) };
    return s;
  });
}
