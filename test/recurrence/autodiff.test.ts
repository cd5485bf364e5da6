/**
 * Recurrences on the DAG: the interpreter runs the cell step by step as an unrolled computation would, and the
 * reverse sweep (autodiff/recurrence.ts) gives the gradients finite differences give, for Elman and LSTM
 * cells, forwards and backwards in time, with a loss on the last state or on every step.
 */
import { describe, expect, it } from "vitest";
import { reverse } from "../../src/autodiff/reverse.ts";
import { type Node, reachable } from "../../src/ir/node.ts";
import { type CellOptions, cellEnv, cellNet } from "../helpers/recurrent-cells.ts";
import { evalMany, evalPerSample, finiteDifference, makeRng, mismatch } from "../helpers/ir-util.ts";

const CASES: CellOptions[] = [
  { kind: "elman", steps: 5, features: 3, units: 4, everyStep: false },
  { kind: "elman", steps: 4, features: 2, units: 3, everyStep: true },
  { kind: "lstm", steps: 4, features: 3, units: 3, everyStep: false },
  { kind: "lstm", steps: 3, features: 2, units: 2, everyStep: true },
  { kind: "lstm", steps: 3, features: 2, units: 2, everyStep: true, reverse: true },
];

describe("a recurrence on the DAG", () => {
  it("runs its steps in order: an Elman cell's last state is the hand-unrolled one", () => {
    const net = cellNet({ kind: "elman", steps: 3, features: 2, units: 2, everyStep: false });
    const env = cellEnv(net, 2, makeRng(3));
    const [Wi, Wh, b] = ["Wi", "Wh", "b"].map((n) => env.params.get(n) as Float64Array);
    const V = env.params.get("V") as Float64Array;
    const out = evalPerSample(net.output, env, 2);
    for (let s = 0; s < 2; s++) {
      const x = env.samples?.get("x")?.[s] as Float64Array;
      let h = [0, 0];
      for (let t = 0; t < 3; t++) {
        h = [0, 1].map((i) => Math.tanh(Wi[2 * i] * x[2 * t] + Wi[2 * i + 1] * x[2 * t + 1] + Wh[2 * i] * h[0] + Wh[2 * i + 1] * h[1] + b[i]));
      }
      const want = [0, 1].map((r) => V[2 * r] * h[0] + V[2 * r + 1] * h[1]);
      expect(mismatch(out[s], want, 1e-12)).toBeUndefined();
    }
  });

  for (const c of CASES) {
    it(`${c.kind} over ${c.steps} steps${c.reverse ? ", backwards" : ""}, loss on ${c.everyStep ? "every step" : "the last state"}: gradients agree with finite differences`, () => {
      const net = cellNet(c);
      const env = cellEnv(net, 3, makeRng(c.steps * 7 + c.units));
      const { byParam } = reverse(net.g, net.objective, net.params);
      const grads = net.params.map((p) => byParam.get(p) as Node);
      const values = evalMany(grads, env, 3);
      net.params.forEach((p, k) => {
        const fd = finiteDifference(net.objective, env, String(p.attr), 3);
        expect(mismatch(values[k], fd, 1e-6, 1e-3), `d/d${String(p.attr)}`).toBeUndefined();
      });
    });
  }

  it("the reverse sweep is one more recurrence, whose cell reads stored forward values: none of the forward cell is recomputed", () => {
    const net = cellNet({ kind: "lstm", steps: 4, features: 2, units: 3, everyStep: false });
    const { byParam } = reverse(net.g, net.objective, net.params);
    const nodes = reachable(net.params.map((p) => byParam.get(p) as Node));
    const loops = new Set(nodes.flatMap((n) => (n.loop !== undefined ? [n.loop] : [])));
    expect(loops.size).toBe(2);
    const forward = Math.min(...loops);
    // the forward cell's products run once per step, in the forward loop only
    const products = nodes.filter((n) => n.op === "matmul" && n.loop !== undefined);
    expect(products.filter((n) => n.loop === forward)).toHaveLength(2);
    expect(nodes.some((n) => n.loop === -1), "no value mixes two cells").toBe(false);
  });
});
