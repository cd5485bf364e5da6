/**
 * Recurrent cells built on the DAG with Graph.recurrence, for the IR, autodiff and lowering tests: an Elman cell
 * and an LSTM cell (PyTorch's equations) over a sequence input, with a loss on the last state and on every step.
 */
import { Graph } from "../../src/ir/graph.ts";
import type { Node } from "../../src/ir/node.ts";
import type { Env, Rng } from "./ir-util.ts";
import { randomArray } from "./ir-util.ts";

export interface CellNet {
  readonly g: Graph;
  readonly params: readonly Node[];
  readonly x: Node;
  readonly y: Node;
  /** Per-sample loss. */
  readonly loss: Node;
  /** Mean over the batch of the loss. */
  readonly objective: Node;
  readonly output: Node;
}

export interface CellOptions {
  readonly kind: "elman" | "lstm";
  readonly steps: number;
  readonly features: number;
  readonly units: number;
  /** The loss reads every step's state (a sequence output) or the last. */
  readonly everyStep: boolean;
  /** Runs the recurrence backwards over the sequence. */
  readonly reverse?: boolean;
}

/** A one-layer recurrent net with a dense head and a squared-error loss. */
export function cellNet(o: CellOptions): CellNet {
  const g = new Graph();
  const gates = o.kind === "lstm" ? 4 : 1;
  const Wi = g.param("Wi", [gates * o.units, o.features]);
  const Wh = g.param("Wh", [gates * o.units, o.units]);
  const b = g.param("b", [gates * o.units]);
  const V = g.param("V", [2, o.units]);
  const x = g.input("x", [o.steps, o.features]);
  const zeros = g.broadcast(g.constant(0), [o.units]);
  const part = (z: Node, k: number) => g.slice(z, [{ keep: true, start: k * o.units, count: o.units }]);
  const run = g.recurrence({
    length: o.steps,
    reverse: o.reverse,
    init: o.kind === "lstm" ? [zeros, zeros] : [zeros],
    names: o.kind === "lstm" ? ["h", "c"] : ["h"],
    cell: ({ carries, step }) => {
      const z = g.add(g.add(g.matmul(Wi, step(x)), g.matmul(Wh, carries[0])), b);
      if (o.kind === "elman") {
        const h = g.tanh(z);
        return { next: [h], outputs: [h] };
      }
      const [i, f, gg, out] = [g.sigmoid(part(z, 0)), g.sigmoid(part(z, 1)), g.tanh(part(z, 2)), g.sigmoid(part(z, 3))];
      const c = g.add(g.mul(f, carries[1]), g.mul(i, gg));
      const h = g.mul(out, g.tanh(c));
      return { next: [h, c], outputs: [h] };
    },
  });
  let output: Node;
  let y: Node;
  if (o.everyStep) {
    // V applied at every step: [T, units] · Vᵀ
    output = g.matmul(run.stacks[0], g.transpose(V));
    y = g.target("y", [o.steps, 2]);
  } else {
    output = g.matmul(V, run.finals[0]);
    y = g.target("y", [2]);
  }
  const loss = g.sum(g.square(g.sub(output, y)));
  return { g, params: [Wi, Wh, b, V], x, y, loss, objective: g.batchMean(loss), output };
}

/** Random parameters and samples for a cell net. */
export function cellEnv(net: CellNet, batch: number, rng: Rng): Env {
  const params = new Map(net.params.map((p) => [String(p.attr), randomArray(rng, p.shape, -0.6, 0.6)] as const));
  const samples = new Map<string, Float64Array[]>([
    ["x", Array.from({ length: batch }, () => randomArray(rng, net.x.shape))],
    ["y", Array.from({ length: batch }, () => randomArray(rng, net.y.shape))],
  ]);
  return { params, samples };
}

/** The cell net as a Net the lowering takes (parameters, input and target in that order). */
export function cellAsNet(net: CellNet): import("../../src/ir/net.ts").Net {
  return {
    name: "cell",
    graph: net.g,
    params: net.params.map((p) => ({ name: String(p.attr), node: p, shape: p.shape, init: { kind: "constant", value: 0 } })),
    inputs: [{ name: "x", node: net.x, shape: net.x.shape }],
    targets: [{ name: "y", node: net.y, shape: net.y.shape }],
    output: net.output,
    loss: net.loss,
    objective: net.objective,
  };
}

/** The flat parameter vector and the batch's input and target rows of an environment. */
export function flatten(net: CellNet, env: Env, batch: number): { params: Float64Array; inputs: Float64Array; targets: Float64Array } {
  const params = Float64Array.from(net.params.flatMap((p) => [...(env.params.get(String(p.attr)) as Float64Array)]));
  const rows = (name: string) => Float64Array.from(Array.from({ length: batch }, (_, s) => [...(env.samples?.get(name)?.[s] as Float64Array)]).flat());
  return { params, inputs: rows("x"), targets: rows("y") };
}
