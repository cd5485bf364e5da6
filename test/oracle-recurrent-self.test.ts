/**
 * Validates the recurrent oracle (test/oracle/tf-recurrent.ts) on its own, before bpgen has recurrent layers:
 * its layout, the PyTorch ↔ Keras weight mapping, agreement with the hand-written float64 BPTT of
 * test/oracle/recurrent-reference.ts on random stacks, and finite differences of that reference on a long sequence.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { makeRng, randomParams, toF32Values } from "./oracle/random-nets.ts";
import { referenceRecurrentNet } from "./oracle/recurrent-reference.ts";
import {
  kerasBiasGradToTorch,
  kerasCellWeights,
  kerasGru,
  kerasMatrixGradToTorch,
  randomRecurrentData,
  randomRecurrentNet,
  recurrentLayout,
  tfRecurrentNet,
  torchBiasToKeras,
  torchMatrixToKeras,
  type CellLayout,
  type RecurrentKind,
  type RecurrentNetSpec,
} from "./oracle/tf-recurrent.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, context = ""): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const t = tol(i);
    if (!(Math.abs(got[i] - want[i]) <= t)) bad.push(`[${i}] got ${got[i]} want ${want[i]} (tol ${t.toExponential(2)})`);
  }
  if (bad.length > 0) throw new Error(`${what}: ${bad.length} mismatch(es)\n${bad.slice(0, 8).join("\n")}\n${context}`);
}
const valueTol = (want: ArrayLike<number>, rtol: number) => (i: number) => rtol * (1 + Math.abs(want[i]));
const gradTol = (want: ArrayLike<number>, rtol: number) => {
  const scale = Math.max(maxAbs(want), 1e-2);
  return () => rtol * scale;
};
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe("recurrentLayout", () => {
  it("names, shapes and offsets follow PyTorch's weight_ih, weight_hh, bias_ih, bias_hh per layer", () => {
    const spec: RecurrentNetSpec = {
      input: [5, 3],
      layers: [
        { type: "lstm", units: 2, return_sequences: true },
        { type: "gru", units: 4 },
        { type: "dense", units: 6 },
      ],
      loss: "mse",
    };
    const layout = recurrentLayout(spec);
    expect(layout.params.map((s) => [s.name, s.shape, s.offset])).toEqual([
      ["W_ih1", [8, 3], 0],
      ["W_hh1", [8, 2], 24],
      ["b_ih1", [8], 40],
      ["b_hh1", [8], 48],
      ["W_ih2", [12, 2], 56],
      ["W_hh2", [12, 4], 80],
      ["b_ih2", [12], 128],
      ["b_hh2", [12], 140],
      ["W3", [6, 4], 152],
      ["b3", [6], 176],
    ]);
    expect(layout.paramCount).toBe(182);
    expect(layout.outputShape).toEqual([6]);
    expect(
      recurrentLayout({
        ...spec,
        layers: [
          { type: "rnn", units: 2, return_sequences: true },
          { type: "dense", units: 3 },
        ],
      }).outputShape,
    ).toEqual([5, 3]);
  });

  it("rejects a recurrent layer after a vector output", () => {
    expect(() =>
      recurrentLayout({
        input: [3, 1],
        layers: [
          { type: "rnn", units: 2 },
          { type: "gru", units: 2 },
        ],
        loss: "mse",
      }),
    ).toThrow(/needs a sequence input/);
  });
});

describe("PyTorch ↔ Keras weights", () => {
  it("move PyTorch's GRU blocks r, z, n to Keras's z, r, h, transposed", () => {
    // W_ih [3H, F] with H = 1, F = 2: rows r, z, n
    const W = [1, 2, 3, 4, 5, 6];
    // Keras kernel [F, 3H], columns z, r, h
    expect(Array.from(torchMatrixToKeras(W, "gru", 1, 2))).toEqual([3, 1, 5, 4, 2, 6]);
    expect(Array.from(torchBiasToKeras([10, 20, 30], "gru", 1))).toEqual([20, 10, 30]);
    // LSTM: i, f, g, o is Keras's i, f, c, o
    expect(Array.from(torchMatrixToKeras([1, 2, 3, 4], "lstm", 1, 1))).toEqual([1, 2, 3, 4]);
  });

  it("the gradient maps are the adjoints of the weight maps (⟨K(W), V⟩ = ⟨W, K*(V)⟩)", () => {
    const rng = makeRng(7);
    for (const kind of ["rnn", "lstm", "gru"] as RecurrentKind[]) {
      const gates = { rnn: 1, lstm: 4, gru: 3 }[kind];
      const [H, n] = [3, 2];
      const W = Float64Array.from({ length: gates * H * n }, () => rng.normal());
      const V = Float64Array.from({ length: gates * H * n }, () => rng.normal());
      const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
      expect(dot(torchMatrixToKeras(W, kind, H, n), V)).toBeCloseTo(dot(W, kerasMatrixGradToTorch(V, kind, H, n)), 5);
      const b = W.subarray(0, gates * H);
      const v = V.subarray(0, gates * H);
      expect(dot(torchBiasToKeras(b, kind, H), v)).toBeCloseTo(dot(b, kerasBiasGradToTorch(v, kind, H)), 10);
    }
  });

  it("TF.js's GRU layer has no reset_after (why the oracle writes Keras's cell with TF.js ops)", () => {
    // TF.js's types leave the option out too; Keras's name for it is reset_after
    const args = { units: 2, resetAfter: true };
    expect(() => tf.layers.gru(args)).toThrow(/reset_after/);
  });

  it("kerasGru without reset after is tf.layers.gru (checks the Keras block order z, r, h)", () => {
    const rng = makeRng(11);
    const [batch, T, F, H] = [2, 4, 3, 2];
    const layer: CellLayout = recurrentLayout({ input: [T, F], layers: [{ type: "gru", units: H, return_sequences: true }], loss: "mse" })
      .layers[0] as CellLayout;
    const params = toF32Values(randomParams(recurrentLayout({ input: [T, F], layers: [{ type: "gru", units: H }], loss: "mse" }).paramCount, rng));
    // reset before has one bias: give the recurrent bias zeros so that kerasCellWeights' row 0 is the whole bias
    params.fill(0, layer.b_hh.offset, layer.b_hh.offset + layer.b_hh.size);
    const x = Float32Array.from({ length: batch * T * F }, () => rng.normal());
    tf.tidy(() => {
      const X = tf.tensor3d(x, [batch, T, F]);
      const w = kerasCellWeights(layer, params);
      const inputBias = tf.unstack(w.bias, 0)[0];
      const ours = kerasGru(X, { ...w, bias: inputBias }, { resetAfter: false, returnSequences: true });
      const tfGru = tf.layers.gru({ units: H, returnSequences: true, recurrentActivation: "sigmoid" });
      tfGru.apply(tf.zeros([batch, T, F]));
      tfGru.setWeights([w.kernel, w.recurrentKernel, inputBias]);
      const theirs = tfGru.apply(X) as tf.Tensor;
      expectClose("gru reset before", ours.dataSync(), theirs.dataSync(), () => 1e-6);
      // and reset after (PyTorch's) differs from it
      const after = kerasGru(X, w, { resetAfter: true, returnSequences: true });
      expect(maxAbs(tf.sub(after, theirs).dataSync())).toBeGreaterThan(1e-3);
      tfGru.dispose();
    });
  });
});

describe("tfRecurrentNet", () => {
  it("leaves no tensors or variables behind (the layer tests call it many times)", () => {
    const spec: RecurrentNetSpec = {
      input: [3, 2],
      layers: [
        { type: "rnn", units: 2, return_sequences: true },
        { type: "lstm", units: 2, return_sequences: true },
        { type: "gru", units: 2 },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
      l2: 0.1,
    };
    const rng = makeRng(5);
    const params = randomParams(recurrentLayout(spec).paramCount, rng);
    const { x, y } = randomRecurrentData(spec, 2, rng);
    tfRecurrentNet(spec, params, x, y, 2);
    const before = tf.memory().numTensors;
    tfRecurrentNet(spec, params, x, y, 2);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("one step by hand", () => {
  const x = [0.5, -1];
  it("gru: h = (1 − z) ⊙ n with n = tanh(a_n + r ⊙ b_hn) from h_0 = 0", () => {
    const spec: RecurrentNetSpec = { input: [1, 2], layers: [{ type: "gru", units: 1 }], loss: "mse" };
    // W_ih rows r, z, n; W_hh (unused at the first step but for its bias); b_ih; b_hh
    const p = Float64Array.from([0.3, -0.2, 0.1, 0.4, -0.5, 0.6, 0.7, 0.8, 0.9, 0.05, -0.1, 0.2, 0.3, 0.25, -0.4]);
    const dotx = (w0: number, w1: number) => w0 * x[0] + w1 * x[1];
    const r = sigmoid(dotx(0.3, -0.2) + 0.05 + 0.3);
    const z = sigmoid(dotx(0.1, 0.4) - 0.1 + 0.25);
    const n = Math.tanh(dotx(-0.5, 0.6) + 0.2 + r * -0.4);
    const h = (1 - z) * n;
    const y = [0.1];
    for (const result of [
      tfRecurrentNet(spec, p, Float64Array.from(x), Float64Array.from(y), 1),
      referenceRecurrentNet(spec, p, Float64Array.from(x), Float64Array.from(y), 1),
    ]) {
      expect(result.output[0]).toBeCloseTo(h, 6);
      expect(result.loss).toBeCloseTo(0.5 * (h - y[0]) ** 2, 6);
    }
  });

  it("lstm: h = o ⊙ tanh(i ⊙ g) from zero state, with the bias b_ih + b_hh", () => {
    const spec: RecurrentNetSpec = { input: [1, 2], layers: [{ type: "lstm", units: 1 }], loss: "mse" };
    const W_ih = [0.3, -0.2, 0.1, 0.4, -0.5, 0.6, 0.7, 0.8];
    const W_hh = [0.9, 0.9, 0.9, 0.9];
    const b_ih = [0.1, 0.2, -0.3, 0.4];
    const b_hh = [0.05, -0.05, 0.15, 0.25];
    const p = Float64Array.from([...W_ih, ...W_hh, ...b_ih, ...b_hh]);
    const pre = [0, 1, 2, 3].map((g) => W_ih[2 * g] * x[0] + W_ih[2 * g + 1] * x[1] + b_ih[g] + b_hh[g]);
    const h = sigmoid(pre[3]) * Math.tanh(sigmoid(pre[0]) * Math.tanh(pre[2]));
    for (const result of [
      tfRecurrentNet(spec, p, Float64Array.from(x), Float64Array.from([0]), 1),
      referenceRecurrentNet(spec, p, Float64Array.from(x), Float64Array.from([0]), 1),
    ]) {
      expect(result.output[0]).toBeCloseTo(h, 6);
    }
  });
});

// ---- the TF.js oracle and the float64 reference on random stacks ------------------------------------------

const SEEDS = Array.from({ length: 24 }, (_, i) => 4000 + i);

describe("the TF.js oracle agrees with the float64 BPTT reference", () => {
  const seen = { rnn: 0, lstm: 0, gru: 0, relu: 0, sequenceOutput: 0, vectorOutput: 0, perStepDense: 0, stacked: 0, softmax: 0, mse: 0, l2: 0 };
  for (const seed of SEEDS) {
    it(`random recurrent stack #${seed}`, () => {
      const rng = makeRng(seed);
      const spec = randomRecurrentNet(rng, `recurrent_${seed}`);
      const layout = recurrentLayout(spec);
      const batch = rng.int(1, 3);
      const params = toF32Values(randomParams(layout.paramCount, rng));
      const data = randomRecurrentData(spec, batch, rng);
      const x = toF32Values(data.x);
      const y = toF32Values(data.y);
      const oracle = tfRecurrentNet(spec, params, x, y, batch);
      const reference = referenceRecurrentNet(spec, params, x, y, batch);
      const context = JSON.stringify(spec);
      expectClose("output", oracle.output, reference.output, valueTol(reference.output, 1e-5), context);
      expectClose("loss", [oracle.loss], [reference.loss], valueTol([reference.loss], 1e-5), context);
      expectClose("gradient", oracle.grad, reference.grad, gradTol(reference.grad, 2e-5), context);

      for (const layer of layout.layers) {
        if (layer.kind === "dense") seen.perStepDense += layer.perStep ? 1 : 0;
        else seen[layer.kind]++;
        if (layer.kind === "rnn" && layer.activation === "relu") seen.relu++;
      }
      seen[layout.outputShape.length === 2 ? "sequenceOutput" : "vectorOutput"]++;
      if (layout.layers.filter((l) => l.kind !== "dense").length > 1) seen.stacked++;
      seen[spec.loss === "mse" ? "mse" : "softmax"]++;
      if (spec.l2) seen.l2++;
    });
  }
  it("the random stacks cover every layer type, both outputs, per-step dense layers, both losses and l2", () => {
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
  });
});

describe("one step (T = 1) after a dense layer, where TF.js's RNN layers need a padded step", () => {
  for (const type of ["rnn", "lstm", "gru"] as const) {
    for (const returnSequences of [true, false]) {
      it(`${type}, return_sequences ${returnSequences}`, () => {
        const spec: RecurrentNetSpec = {
          input: [1, 3],
          layers: [
            { type: "dense", units: 2, activation: "tanh" },
            { type, units: 3, return_sequences: returnSequences },
            { type: "dense", units: 2 },
          ],
          loss: "softmax_cross_entropy",
        };
        const rng = makeRng(returnSequences ? 31 : 32);
        const params = toF32Values(randomParams(recurrentLayout(spec).paramCount, rng));
        const { x, y } = randomRecurrentData(spec, 2, rng);
        const oracle = tfRecurrentNet(spec, params, toF32Values(x), toF32Values(y), 2);
        const reference = referenceRecurrentNet(spec, params, toF32Values(x), toF32Values(y), 2);
        expectClose("output", oracle.output, reference.output, valueTol(reference.output, 1e-5));
        expectClose("gradient", oracle.grad, reference.grad, gradTol(reference.grad, 2e-5));
      });
    }
  }
});

// ---- finite differences of the reference on a long sequence -------------------------------------------------

describe("the float64 reference's BPTT over 200 steps matches central differences", () => {
  const cases: RecurrentNetSpec[] = [
    {
      name: "sequence_output",
      input: [200, 2],
      layers: [
        { type: "rnn", units: 3, activation: "tanh", return_sequences: true },
        { type: "lstm", units: 2, return_sequences: true },
        { type: "gru", units: 2, return_sequences: true },
        { type: "dense", units: 1 },
      ],
      loss: "mse",
      l2: 0.01,
    },
    {
      name: "last_output",
      input: [200, 1],
      layers: [
        { type: "gru", units: 2, return_sequences: true },
        { type: "lstm", units: 2, return_sequences: true },
        { type: "rnn", units: 2, activation: "relu" },
        { type: "dense", units: 3 },
      ],
      loss: "softmax_cross_entropy",
    },
  ];
  for (const [i, spec] of cases.entries()) {
    it(spec.name ?? "", () => {
      const rng = makeRng(900 + i);
      const layout = recurrentLayout(spec);
      const params = randomParams(layout.paramCount, rng, 0.4);
      const { x, y } = randomRecurrentData(spec, 2, rng);
      const { grad } = referenceRecurrentNet(spec, params, x, y, 2);
      const step = 1e-6;
      const numeric = Float64Array.from(params, (_, k) => {
        const at = (delta: number) => {
          const q = params.slice();
          q[k] += delta;
          return referenceRecurrentNet(spec, q, x, y, 2).loss;
        };
        return (at(step) - at(-step)) / (2 * step);
      });
      expectClose("gradient", grad, numeric, (k) => 1e-6 * (1 + Math.abs(numeric[k])));
    });
  }
});
