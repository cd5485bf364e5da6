/**
 * Two recurrences the lowering once could not compile, found while building recurrences from equations: a carry
 * whose previous value the cell never reads (with a computed initial value), and a stack of a value that does not
 * change from step to step.
 */
import { describe, expect, it } from "vitest";
import { reverse } from "../src/autodiff/reverse.ts";
import { Graph } from "../src/ir/graph.ts";
import type { Net } from "../src/ir/net.ts";
import type { Node } from "../src/ir/node.ts";
import { lowerModule } from "../src/lower/functions.ts";
import { interpretModule } from "../src/render/interp/module.ts";
import { evalPerSample, makeRng, mismatch, randomArray } from "./helpers/ir-util.ts";

/** A net of one recurrence over x [5, 3], whose cell is `cell`, and the squared sum of `handOut` of its result. */
function recurrenceNet(cell: (g: Graph, b: Node, x_t: Node) => { next: Node; outputs: Node[] }, init: (g: Graph, b: Node) => Node, handOut: (r: ReturnType<Graph["recurrence"]>) => Node): Net {
  const g = new Graph();
  const b = g.param("b", [3]);
  const x = g.input("x", [5, 3]);
  const run = g.recurrence({
    length: 5,
    init: [init(g, b)],
    names: ["h"],
    cell: ({ step }) => {
      const { next, outputs } = cell(g, b, step(x));
      return { next: [next], outputs };
    },
  });
  const out = handOut(run);
  const loss = g.sum(g.mul(out, out));
  return {
    name: "gap",
    graph: g,
    params: [{ name: "b", node: b, shape: b.shape, init: { kind: "constant", value: 0 } }],
    inputs: [{ name: "x", node: x, shape: x.shape }],
    targets: [],
    output: out,
    loss,
    objective: g.batchMean(loss),
  };
}

const lower = (net: Net) => lowerModule(net, reverse(net.graph, net.objective, net.params.map((p) => p.node)));

/** The lowered forward (kernel-IR interpreter) against the DAG's reference interpreter, on random values. */
function expectComputes(net: Net): void {
  const rng = makeRng(5);
  const params = randomArray(rng, [3]);
  const xs = Array.from({ length: 2 }, () => randomArray(rng, [5, 3]));
  const want = evalPerSample(net.output, { params: new Map([["b", params]]), samples: new Map([["x", xs]]) }, 2);
  const out = new Float64Array(2 * want[0].length);
  interpretModule(lower(net), "f64").forward(params, Float64Array.from(xs.flatMap((x) => [...x])), out, 2);
  expect(mismatch(out, Float64Array.from(want.flatMap((w) => [...w])), 1e-12)).toBeUndefined();
}

describe("recurrences with unread carries or step-invariant outputs", () => {
  it("a carry whose previous value the cell never reads compiles when its initial value is a parameter", () => {
    const net = recurrenceNet((g, b, x_t) => ({ next: g.tanh(g.mul(x_t, b)), outputs: [] }), (_g, b) => b, (r) => r.finals[0]);
    expectComputes(net);
  });

  it("…and when it is computed (zeros)", () => {
    const net = recurrenceNet((g, b, x_t) => ({ next: g.tanh(g.mul(x_t, b)), outputs: [] }), (g) => g.broadcast(g.constant(0), [3]), (r) => r.finals[0]);
    expectComputes(net);
  });

  it("a stack of a value that does not change from step to step", () => {
    const net = recurrenceNet((g, b, x_t) => ({ next: g.tanh(g.mul(x_t, b)), outputs: [g.tanh(b)] }), (_g, b) => b, (r) => r.stacks[0]);
    expectComputes(net);
  });
});
