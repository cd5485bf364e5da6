/**
 * A convolution's products and a pooling's reductions as the lowering writes them (src/lower/build.ts product,
 * src/lower/structural.ts reduceAcrossRows): each sample's windows times the filter, the delta times the
 * filter's transpose and the filter's gradient are contractions in the sample loop (the gradient's added
 * straight into its batch mean), and a pooling reduces across rows of channels. Run by the interpreter, the
 * functions still compute the DAG's values (ties in the max-pooling included: relu's zeros).
 */
import { describe, expect, it } from "vitest";
import type { Contraction, Stmt } from "../../src/lower/kernel.ts";
import { visitStmts } from "../../src/lower/walk.ts";
import { coefficient } from "../../src/lower/kernel.ts";
import type { LayerNetSpec, LayerSpec } from "../../src/spec/types.ts";
import { lowerSpec } from "../helpers/interp.ts";
import { expectMatchesReference } from "../helpers/dag-reference.ts";

const CNN: LayerNetSpec<LayerSpec> = {
  name: "conv_products",
  input: [12, 12, 3],
  layers: [
    { type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "relu" },
    { type: "max_pool2d", size: 2 },
    { type: "conv2d", filters: 6, kernel: 3, activation: "tanh" },
    { type: "avg_pool2d", size: 2 },
    { type: "flatten" },
    { type: "dense", units: 3 },
  ],
  loss: "mse",
};

const contractions = (body: readonly Stmt[]): Contraction[] => {
  const found: Contraction[] = [];
  visitStmts(body, (s) => s.k === "contract" && found.push(s.c));
  return found;
};

/** Whether every matrix product of `body` is inside a loop over the samples. */
const inSampleLoops = (body: readonly Stmt[]): boolean => {
  let all = true;
  visitStmts(body, (s, loops) => {
    if (s.k === "contract" && s.c.pattern === "matrix") all &&= loops.some((l) => l.k === "loop" && l.kind === "samples");
  });
  return all;
};

describe("convolutions as contractions", () => {
  const lowered = lowerSpec(JSON.stringify(CNN));
  const { forward, gradient } = lowered.materialized.functions;

  it("runs each sample's windows times the filter as a contraction, in the sample loop", () => {
    const products = contractions(forward.body).filter((c) => c.pattern === "matrix");
    // [144, 27]·[27, 4] and [16, 36]·[36, 6]
    expect(products.map((c) => [c.outVars[0].extent, c.reduce.extent, c.outVars[1].extent])).toEqual([
      [144, 27, 4],
      [16, 36, 6],
    ]);
    expect(products.every((c) => c.mode === "=")).toBe(true);
    expect(inSampleLoops(forward.body)).toBe(true);
  });

  it("adds each sample's part of a filter's gradient straight into its mean, and runs the delta's product with the filter's transpose", () => {
    const plan = lowered.materialized.plans.gradient;
    expect([...plan.productsIntoMeans.values()].every((m) => m.op === "batchMean")).toBe(true);
    expect(plan.productsIntoMeans.size).toBe(2);
    const products = contractions(gradient.body).filter((c) => c.pattern === "matrix");
    const added = products.filter((c) => c.mode === "+=");
    // windowsᵀ·δ: [27, 144]·[144, 4] and [36, 16]·[16, 6], into accumulators that are never rows of the batch
    expect(added.map((c) => [c.outVars[0].extent, c.reduce.extent, c.outVars[1].extent])).toEqual([
      [36, 16, 6],
      [27, 144, 4],
    ]);
    expect(added.every((c) => !c.out.buf.perSample)).toBe(true);
    expect(inSampleLoops(gradient.body)).toBe(true);
    // δ·Kᵀ for the second convolution (the first one's input needs no delta): the filter's transpose stored once
    // before the samples, read along its rows (contiguous in the output's columns)
    const transposed = products.filter((c) => c.mode === "=" && c.outVars[1].extent === 36);
    expect(transposed).toHaveLength(1);
    const [{ b, outVars }] = transposed;
    expect([b.buf.role, b.buf.perSample, coefficient(b.index, outVars[1])]).toEqual(["work", false, 1]);
  });

  it("takes a pooling's maximum and mean across rows of channels, in element loops", () => {
    const raised: Stmt[] = [];
    visitStmts(forward.body, (s, loops) => {
      const inner = loops[loops.length - 1];
      if (s.k === "store" && s.mode === "max=" && inner?.k === "loop" && inner.kind === "elements" && coefficient(s.index, inner.v) === 1) raised.push(s);
    });
    expect(raised.length).toBeGreaterThan(0);
  });

  it("computes the DAG's values (interpreted, before any pass)", () => {
    expect(expectMatchesReference("cnn", lowered, 1e-9)).toBe(true);
  });
});
