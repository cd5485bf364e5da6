/**
 * The LSTM benchmark's peers compute the same network (bench/lstm.ts checks this again at the benchmark's sizes):
 * the hand-written LSTM's f64 gradient matches central finite differences of its loss and bpgen's f64 module of the
 * unrolled net; jax-js, TF.js (cpu, wasm) and onnxruntime-web give the hand-written f32 LSTM's loss and output on a
 * tiny net. Batch 5, 3 units: the products' register tiles and their edges both run.
 */
import { describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import { lstmUnrolled } from "../bench/lstm-unrolled.ts";
import { HandLstm, lstmHandRun } from "../bench/peers/lstm-hand.ts";
import { lstmJaxRun } from "../bench/peers/lstm-jax.ts";
import { flatWeights, lstmBatch, lstmWeights, type LstmShape } from "../bench/peers/lstm-net.ts";
import { lstmOrtRun } from "../bench/peers/lstm-ort.ts";
import { lstmTfRun } from "../bench/peers/lstm-tfjs.ts";
import type { PeerRun } from "../bench/peers/types.ts";

const SHAPE: LstmShape = { steps: 3, features: 2, units: 3, outputs: 2, batch: 5 };
const weights = lstmWeights(SHAPE, 3);
const data = lstmBatch(SHAPE, 4);
const p64 = Float64Array.from(flatWeights(weights));
const x64 = Float64Array.from(data.x);
const y64 = Float64Array.from(data.y);

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe("hand-written LSTM", () => {
  const hand = new HandLstm<Float64Array>(SHAPE, (n) => new Float64Array(n));
  const g = new Float64Array(hand.paramCount);
  const J = hand.gradient(p64, x64, y64, g);

  it("its gradient is the central finite difference of its loss", () => {
    const h = 1e-6;
    for (let k = 0; k < p64.length; k++) {
      const q = Float64Array.from(p64);
      q[k] += h;
      const up = hand.loss(q, x64, y64);
      q[k] -= 2 * h;
      const down = hand.loss(q, x64, y64);
      expect(Math.abs((up - down) / (2 * h) - g[k]), `parameter ${k}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(g[k]));
    }
  });

  it("matches bpgen's f64 module of the unrolled net (loss and gradient)", async () => {
    const spec = lstmUnrolled(SHAPE.steps, { units: SHAPE.units, input: SHAPE.features, output: SHAPE.outputs, loss: "mse" });
    const m = loadModule<Float64Array>((await compile(spec, { precision: "f64", format: false })).source);
    expect(m.meta.params.map((p) => p.name)).toEqual(["Wi", "Wh", "b", "V", "d"]);
    const gb = new Float64Array(m.meta.paramCount);
    expect(relErr(m.gradient(p64, x64, y64, gb, SHAPE.batch), J)).toBeLessThan(1e-12);
    for (let k = 0; k < g.length; k++) expect(Math.abs(gb[k] - g[k]), `parameter ${k}`).toBeLessThan(1e-12 + 1e-10 * Math.abs(g[k]));
  });
});

describe("the LSTM peers agree with the hand-written one", () => {
  const hand = lstmHandRun(SHAPE, flatWeights(weights), data);
  const peers: [string, () => Promise<PeerRun>][] = [
    ["jax-js", () => lstmJaxRun(SHAPE, weights, data)],
    ["TF.js cpu", () => lstmTfRun("cpu", SHAPE, weights, data)],
    ["TF.js wasm", () => lstmTfRun("wasm", SHAPE, weights, data)],
    ["onnxruntime-web", () => lstmOrtRun(SHAPE, weights, data)],
  ];
  for (const [name, make] of peers) {
    it(name, async () => {
      const run = await make();
      try {
        await run.activate();
        const expected = await hand.output();
        const out = await run.output();
        expect(out.length).toBe(expected.length);
        for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - expected[i]), `output ${i}`).toBeLessThan(1e-5);
        const J = hand.loss?.() ?? NaN;
        if (run.loss) expect(relErr(run.loss(), J)).toBeLessThan(1e-5);
      } finally {
        run.dispose();
      }
    });
  }
});
