/**
 * The register tiles of the TypeScript contractions, for the tile pass: one library kernel per dense pattern
 * (templates/dense.ts), each keeping two rows by four columns of the output in registers.
 */
import type { TileChooser } from "../../lower/passes/tile.ts";

export const libraryTiles: TileChooser = () => ({ rows: 2, cols: 4, library: true });
