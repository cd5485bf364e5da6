/**
 * The schedule of each function on the DAG (src/lower/plan.ts): phases, segments around batched dense
 * products, and where each value is stored.
 */
import { describe, expect, it } from "vitest";
import { sizeOf } from "../../src/ir/node.ts";
import { DENSE_MIN_WEIGHTS } from "../../src/lower/dense.ts";
import { segmentNodes } from "../../src/lower/plan.ts";
import { lowerSpec } from "../helpers/interp.ts";
import { PHASES, denseSpec, named } from "../helpers/small-nets.ts";

describe("plan: phases", () => {
  const lowered = lowerSpec(PHASES);
  const plan = lowered.materialized.plans.gradient;
  const phaseOf = (name: string) => plan.phase.get(named(lowered, "gradient", name));

  it("computes values of the parameters alone before the batch loop", () => {
    expect(phaseOf("V")).toBe("pre");
    expect(phaseOf("R")).toBe("pre");
  });

  it("computes per-sample values in it", () => {
    for (const name of ["h", "e", "L", "d_e"]) expect(phaseOf(name), name).toBe("loop");
  });

  it("computes what follows a batch mean after it", () => {
    for (const name of ["meanL", "J", "d_b", "d_W"]) expect(phaseOf(name), name).toBe("post");
  });

  it("puts only loop values into the segments, each once, in an order where operands come first", () => {
    const inSegments = plan.segments.flatMap(segmentNodes);
    expect(new Set(inSegments).size).toBe(inSegments.length);
    for (const n of inSegments) expect(plan.phase.get(n) === "loop" || n.op === "batchMean").toBe(true);
    const position = new Map(plan.computed.map((n, k) => [n, k]));
    for (const n of plan.computed) for (const i of n.inputs) if (position.has(i)) expect(position.get(i) as number).toBeLessThan(position.get(n) as number);
  });
});

describe("plan: segments around batched dense products", () => {
  it(`cuts the sample loop around a product with ≥ ${DENSE_MIN_WEIGHTS} weights`, () => {
    const lowered = lowerSpec(denseSpec(32));
    const { forward, gradient } = lowered.materialized.plans;
    expect(forward.segments.map((s) => s.kind)).toEqual(["samples", "dense", "samples"]);
    const dense = gradient.segments.flatMap((s) => (s.kind === "dense" ? [s.call.kind] : []));
    expect(dense).toEqual(["denseForward", "denseWeightGradient"]);
  });

  it("keeps a smaller product in the sample loop", () => {
    const lowered = lowerSpec(denseSpec(8));
    for (const plan of Object.values(lowered.materialized.plans)) expect(plan.segments.map((s) => s.kind)).toEqual(["samples"]);
  });
});

describe("plan: storage", () => {
  const lowered = lowerSpec(denseSpec(32));
  const { forward, gradient } = lowered.materialized.plans;
  const storage = (fn: "forward" | "gradient", name: string) => lowered.materialized.plans[fn].storage.get(named(lowered, fn, name));

  it("stores rows per sample for what a dense product reads or writes, or another segment reads", () => {
    expect(storage("forward", "a")).toEqual({ kind: "rows" });
    expect(storage("forward", "h")).toEqual({ kind: "rows" });
    expect(storage("gradient", "d_h")).toEqual({ kind: "rows" });
  });

  it("keeps a value read only in its own segment in one buffer, a scalar in a local", () => {
    expect(storage("forward", "z")).toEqual({ kind: "buffer" });
    for (const plan of [forward, gradient]) {
      for (const [n, s] of plan.storage) if (sizeOf(n.shape) === 1 && s.kind !== "region") expect(s.kind).toBe("local");
    }
    expect(storage("gradient", "L")).toEqual({ kind: "local" });
  });

  it("writes roots into out and grads, at their places", () => {
    expect(storage("forward", "y")).toEqual({ kind: "region", array: "out", offset: 0 });
    const offsets = lowered.materialized.layout.offsets;
    for (const p of lowered.net.params) {
      const grad = lowered.grads.byParam.get(p.node);
      expect(grad && gradient.storage.get(grad)).toEqual({ kind: "region", array: "grads", offset: offsets.get(p.node) });
    }
  });

  it("reads a transpose feeding a product through, never stores it", () => {
    const transposes = [...gradient.views].filter((n) => n.op === "transpose");
    expect(transposes).toHaveLength(1);
    expect(transposes[0].inputs[0]).toBe(lowered.net.params[1].node);
    expect(gradient.computed.some((n) => n.op === "transpose")).toBe(false);
    expect(gradient.storage.has(transposes[0])).toBe(false);
  });
});
