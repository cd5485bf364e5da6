/**
 * The plan's stages (src/lower/plan.ts) when batch means appear mid-network: each batch barrier ends a stage,
 * the values after it are computed once and read by the next stage's loops, values read across a barrier are
 * stored one row per sample, and a network whose only means are its results keeps its single stage.
 */
import { describe, expect, it } from "vitest";
import { Graph } from "../../src/ir/graph.ts";
import type { Node } from "../../src/ir/node.ts";
import { type FunctionPlan, planFunction, segmentNodes } from "../../src/lower/plan.ts";
import { COUPLED_LOSS, DENSE_AROUND_NORM, MEAN_CENTRING, MEAN_OUTPUT, TWO_BARRIERS, batchNormSpec } from "../helpers/batch-nets.ts";
import { lowerSpec } from "../helpers/interp.ts";
import { PHASES, named } from "../helpers/small-nets.ts";

/** Where a value is ready: [stage, segment] in the loops, [stage, ∞] after the barrier ending a stage, [−1, ∞] before any loop. */
type Position = readonly [number, number];

function positions(plan: FunctionPlan): Map<Node, Position> {
  const at = new Map<Node, Position>();
  for (const n of plan.computed) if (plan.phase.get(n) === "pre") at.set(n, [-1, Infinity]);
  let segment = 0;
  plan.stages.forEach((stage, k) => {
    for (const seg of stage.segments) {
      for (const n of segmentNodes(seg)) at.set(n, n.op === "batchMean" ? [k, Infinity] : [k, segment]);
      segment++;
    }
    for (const n of stage.after) at.set(n, [k, Infinity]);
  });
  return at;
}

const before = (a: Position, b: Position) => a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);

/**
 * Every operand is ready where its reader runs: a per-sample operand in the same segment or stored one row per
 * sample, a value of the batch as a whole before the reader's stage (after an earlier barrier, or before the loops).
 */
function expectSchedulable(plan: FunctionPlan): void {
  const at = positions(plan);
  const underlying = (n: Node): Node => (plan.views.has(n) ? underlying(n.inputs[0]) : n);
  for (const n of plan.computed) {
    const own = at.get(n);
    expect(own, `#${n.id} ${n.op} is scheduled`).toBeDefined();
    // a batch mean reads its operand in the loops, before its barrier
    const readAt: Position = n.op === "batchMean" ? [(own as Position)[0], Infinity] : (own as Position);
    for (const input of n.inputs.map(underlying)) {
      const ready = at.get(input);
      if (!ready) continue; // a leaf, or an operand a dense kernel computes inside its contraction
      const what = `#${n.id} ${n.op} reads #${input.id} ${input.op}`;
      if (!input.batched) {
        // unbatched operands of loop work must be ready before the loops of its stage
        const need: Position = n.batched || n.op === "batchMean" ? [readAt[0] - 1, Infinity] : readAt;
        expect(before(ready, need), what).toBe(true);
        continue;
      }
      expect(before(ready, readAt), what).toBe(true);
      const sameSegment = n.op !== "batchMean" ? ready[1] === readAt[1] : plan.segments.some((s) => s.kind === "samples" && s.nodes.includes(n) && s.nodes.includes(input));
      if (!sameSegment) expect(["rows", "region"], `${what} in another segment`).toContain(plan.storage.get(input)?.kind);
    }
  }
}

const stageCounts = (spec: Parameters<typeof lowerSpec>[0]) => {
  const { plans } = lowerSpec(spec).materialized;
  return { forward: plans.forward.stages.length, loss: plans.loss.stages.length, gradient: plans.gradient.stages.length };
};

describe("plan: one stage without mid-network means", () => {
  it("keeps the pre / loop / post schedule: one stage, the means its results", () => {
    const lowered = lowerSpec(PHASES);
    for (const plan of Object.values(lowered.materialized.plans)) {
      expect(plan.stages).toHaveLength(1);
      expect(plan.stages[0].segments).toEqual(plan.segments);
      expectSchedulable(plan);
    }
    const gradient = lowered.materialized.plans.gradient;
    const post = gradient.computed.filter((n) => gradient.phase.get(n) === "post" && n.op !== "batchMean");
    expect(gradient.stages[0].after).toEqual(post);
  });
});

describe("plan: stages at batch barriers", () => {
  it("takes one barrier for mean and mean of squares in one stage, and one more for the backward sweep", () => {
    expect(stageCounts(batchNormSpec("moments"))).toEqual({ forward: 2, loss: 2, gradient: 3 });
    expect(stageCounts(batchNormSpec("shifted"))).toEqual({ forward: 2, loss: 2, gradient: 3 });
    expect(stageCounts(batchNormSpec("shiftArgument"))).toEqual({ forward: 2, loss: 2, gradient: 3 });
  });

  it("takes two barriers for a variance centred on the batch mean first, and two more backward", () => {
    expect(stageCounts(batchNormSpec("centred"))).toEqual({ forward: 3, loss: 3, gradient: 5 });
  });

  it("schedules two barriers in a row, a mean-centring layer and a mean as the output", () => {
    expect(stageCounts(TWO_BARRIERS).forward).toBe(3);
    expect(stageCounts(MEAN_CENTRING).forward).toBe(2);
    expect(stageCounts(MEAN_OUTPUT).forward).toBe(1);
  });

  it("has every operand ready where its reader runs, in every function", () => {
    for (const spec of [batchNormSpec("centred"), batchNormSpec("moments"), batchNormSpec("shifted"), batchNormSpec("shiftArgument"), MEAN_CENTRING, TWO_BARRIERS, MEAN_OUTPUT, COUPLED_LOSS, DENSE_AROUND_NORM]) {
      for (const plan of Object.values(lowerSpec(spec).materialized.plans)) expectSchedulable(plan);
    }
  });

  it("finishes the means at their barrier and computes what reads them after it, once", () => {
    const lowered = lowerSpec(batchNormSpec("moments"));
    const forward = lowered.materialized.plans.forward;
    const node = (name: string) => named(lowered, "forward", name);
    expect(forward.stages[0].means).toEqual(expect.arrayContaining([node("mu"), node("m2")]));
    expect(forward.stages[0].after).toContain(node("v"));
    expect(forward.phase.get(node("v"))).toBe("post");
    // the per-sample values after the barrier run in the second stage's loop
    const secondLoop = forward.stages[1].segments.flatMap((s) => (s.kind === "samples" ? s.nodes : []));
    expect(secondLoop).toContain(node("y"));
    expect(secondLoop).toContain(node("o"));
  });
});

describe("plan: storage across barriers", () => {
  const lowered = lowerSpec(batchNormSpec("centred"));
  const storage = (fn: "forward" | "gradient", name: string) => lowered.materialized.plans[fn].storage.get(named(lowered, fn, name))?.kind;

  it("stores one row per sample for a value read after a barrier", () => {
    expect(storage("forward", "z")).toBe("rows");
    expect(storage("gradient", "z")).toBe("rows");
  });

  it("keeps the statistics once per call, not per sample", () => {
    for (const fn of ["forward", "gradient"] as const) for (const name of ["mu", "v"]) expect(storage(fn, name), `${fn} ${name}`).toBe("buffer");
  });

  it("computes a value read only after a barrier there, from rows stored anyway, instead of storing its own rows", () => {
    const plan = lowered.materialized.plans.gradient;
    const centred = named(lowered, "gradient", "z").id;
    // g ⊙ (z − mu) is built from z − mu, which the variance reads before its barrier and the backward sweep after it
    const scaled = plan.computed.find((n) => n.op === "mul" && n.inputs.some((i) => i.op === "param") && n.inputs.some((i) => i.op === "sub" && i.inputs[0].id === centred));
    expect(scaled).toBeDefined();
    const difference = scaled?.inputs.find((i) => i.op === "sub") as Node;
    expect(plan.storage.get(difference)?.kind).toBe("rows");
    expect(plan.storage.get(scaled as Node)?.kind).not.toBe("rows");
    // after the variance's barrier, in the third stage (where y is)
    const third = plan.stages[2].segments.flatMap((s) => (s.kind === "samples" ? s.nodes : []));
    expect(third).toContain(scaled);
    expect(third).toContain(named(lowered, "gradient", "y"));
  });
});

describe("plan: the cost of batch norm's barriers", () => {
  const rowsOf = (plan: FunctionPlan) => [...plan.storage].filter(([, s]) => s.kind === "rows").map(([n]) => n);

  it("stores one pass over the normalised layer each way in the one-barrier form: its input forward, one delta backward", () => {
    const lowered = lowerSpec(batchNormSpec("moments"));
    const { forward, gradient } = lowered.materialized.plans;
    expect(rowsOf(forward)).toEqual([named(lowered, "forward", "z")]);
    const backward = rowsOf(gradient).filter((n) => n !== named(lowered, "gradient", "z"));
    expect(rowsOf(gradient)).toContain(named(lowered, "gradient", "z"));
    expect(backward).toHaveLength(1);
    expect(backward[0].shape).toEqual([5]);
  });

  it("stores at most twice that with the variance centred first (one more barrier each way)", () => {
    const { forward, gradient } = lowerSpec(batchNormSpec("centred")).materialized.plans;
    expect(rowsOf(forward).length).toBeLessThanOrEqual(2);
    expect(rowsOf(gradient).length).toBeLessThanOrEqual(4);
  });
});

describe("plan: dense layers around a barrier", () => {
  it("runs the product after the barrier as a batched contraction of the second stage", () => {
    const { forward, gradient } = lowerSpec(DENSE_AROUND_NORM).materialized.plans;
    expect(forward.stages.map((s) => s.segments.map((seg) => (seg.kind === "dense" ? seg.call.kind : "samples")))).toEqual([
      ["denseForward", "samples"],
      ["samples", "denseForward"],
    ]);
    const kernels = gradient.stages.map((s) => s.segments.flatMap((seg) => (seg.kind === "dense" ? [seg.call.kind] : [])));
    expect(kernels[0]).toEqual(["denseForward"]);
    expect(kernels[1]).toEqual(expect.arrayContaining(["denseForward", "denseTransposed", "denseWeightGradient"]));
    expect(kernels[2]).toEqual(["denseWeightGradient"]);
  });
});

describe("plan: a DAG built by hand", () => {
  it("reads a mean in the loop after its barrier, and a mean of that as the result", () => {
    const g = new Graph();
    const x = g.input("x", [3]);
    const w = g.param("w", [3]);
    const h = g.mul(w, x);
    const mu = g.batchMean(h);
    const centred = g.sub(h, mu);
    const J = g.batchMean(g.sum(g.mul(centred, centred)));
    const plan = planFunction([J], new Map());
    expect(plan.stages).toHaveLength(2);
    expect(plan.stages[0].means).toEqual([mu]);
    expect(plan.stages[1].means).toEqual([J]);
    expect(plan.storage.get(h)?.kind).toBe("rows");
    expect(plan.storage.get(mu)?.kind).toBe("buffer");
    expect(plan.storage.get(J)?.kind).toBe("local");
    expectSchedulable(plan);
  });
});
