/**
 * The tile pass: each contraction gets its renderer's register tile. A tile changes how a renderer loops,
 * not what an element is, and the interpreter computes a contraction's math whatever its tile, so results
 * are bit-equal by construction here; that the TypeScript library kernels compute exactly that math is
 * test/interp.test.ts's business (mnist_mlp, whose dense layers are contractions).
 */
import { describe, expect, it } from "vitest";
import type { Contraction, Stmt } from "../../src/lower/kernel.ts";
import { libraryTiles, tile } from "../../src/lower/passes/tile.ts";
import { visitStmts } from "../../src/lower/walk.ts";
import { wasmTiles } from "../../src/render/wasm/tiles.ts";
import { DENSE, FUNCTION_NAMES, aroundPass, expectAgree, expectPassPreserves, run } from "../helpers/kernel-ir.ts";
import { lowerSpec } from "../helpers/interp.ts";

function contractions(body: readonly Stmt[]): Contraction[] {
  const found: Contraction[] = [];
  visitStmts(body, (s) => s.k === "contract" && found.push(s.c));
  return found;
}

describe("tile", () => {
  const { materialized } = lowerSpec(DENSE);
  const gradient = materialized.functions.gradient.body;

  it("gives every contraction the tile of its renderer", () => {
    expect(contractions(gradient).map((c) => c.pattern).sort()).toEqual(["forward", "weightGradient"]);
    expect(contractions(gradient).every((c) => c.tile === undefined)).toBe(true);
    expect(contractions(tile(gradient, libraryTiles)).every((c) => c.tile?.library === true && c.tile.rows === 2 && c.tile.cols === 4)).toBe(true);
    const wasm = contractions(tile(gradient, wasmTiles));
    expect(wasm.every((c) => c.tile !== undefined && c.tile.library === undefined)).toBe(true);
    expect(wasm.find((c) => c.pattern === "forward")?.tile?.vector).toBe("reduce");
  });

  it("changes no result of a network with dense products", () => {
    for (const name of FUNCTION_NAMES) {
      const { before, after } = aroundPass(materialized, "tile", name);
      for (const batch of [1, 5]) {
        const options = { batch, precision: "f32", seed: batch } as const;
        expectAgree(`dense_32 ${name} batch ${batch}`, run(after, materialized.layout, options), run(before, materialized.layout, options), "bits");
      }
    }
  });

  it("preserves results on random networks, bit-equal in f64 and f32", () => {
    expect(expectPassPreserves("tile", { f64: "bits", f32: "bits" })).toBeGreaterThan(100);
  });
});
