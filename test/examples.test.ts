/**
 * The shipped examples (examples/*.json), compiled from their JSON files and checked against closed forms
 * written out here by hand: chain3's scalar chain rule, the softmax/BP1–BP4 backpropagation equations,
 * the L2 term, probability outputs, directional derivatives, training runs, and the gradient checker.
 *
 * Parameter vectors are built here (known constants or seeded random numbers), never by initParams.
 */
import { describe, it, expect } from "vitest";
import { gradcheck } from "../src/check/gradcheck.ts";
import { compile } from "../src/pipeline.ts";
import { withKernels } from "./helpers/kernels.ts";
import type { TargetKind } from "../src/check/data.ts";
import type { NetModule } from "../src/check/module.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { kernelText } from "./helpers/kernel-text.ts";
import {
  Rng,
  block,
  build,
  buildExample,
  dot,
  exampleSpec,
  expectRelClose,
  expectVectorClose,
  matTVec,
  matVec,
  maxAbs,
  outer,
  randomParams,
  sigmoid,
  softmax,
  withInitParams,
} from "./helpers/examples-support.ts";

// ---------------------------------------------------------------------------------------------------------
describe("chain3: y = w1·x, z = w2·y, e = w3·z, loss ½(e − t)²", () => {
  const INITIAL = [0.2333, -0.233, -0.52133];

  /** dL/dw for one sample, from the closed forms. */
  function closedForm(w: readonly number[], x: number, t: number): [number, number, number] {
    const [w1, w2, w3] = w;
    const r = w3 * w2 * w1 * x - t;
    return [r * w3 * w2 * x, r * w3 * w1 * x, r * w2 * w1 * x];
  }

  it("f64 gradient equals the closed forms at random points (1e-12 relative)", async () => {
    const { module: m } = await buildExample("chain3", "f64");
    expect(m.meta.params.map((q) => q.name)).toEqual(["w1", "w2", "w3"]);
    const rng = new Rng(31);
    const g = new Float64Array(3);
    for (let trial = 0; trial < 25; trial++) {
      const w = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)];
      const x = rng.uniform(-3, 3);
      const t = rng.uniform(-3, 3);
      const J = m.gradient(Float64Array.from(w), Float64Array.of(x), Float64Array.of(t), g, 1);
      const expected = closedForm(w, x, t);
      for (let i = 0; i < 3; i++) expectRelClose(g[i], expected[i], 1e-12, `trial ${trial}: dL/dw${i + 1} at w=${w}, x=${x}, t=${t}`);
      expectRelClose(J, 0.5 * (w[2] * w[1] * w[0] * x - t) ** 2, 1e-12, `trial ${trial}: J`);
    }
  });

  it("for a batch, the gradient is the mean of the per-sample closed forms", async () => {
    const { module: m } = await buildExample("chain3", "f64");
    const rng = new Rng(32);
    for (const batch of [2, 5, 8]) {
      const w = [rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(-2, 2)];
      const xs = rng.uniforms(batch, -3, 3);
      const ts = rng.uniforms(batch, -3, 3);
      const mean = [0, 0, 0];
      let meanLoss = 0;
      for (let s = 0; s < batch; s++) {
        closedForm(w, xs[s], ts[s]).forEach((v, i) => (mean[i] += v / batch));
        meanLoss += 0.5 * (w[2] * w[1] * w[0] * xs[s] - ts[s]) ** 2 / batch;
      }
      const g = new Float64Array(3);
      const J = m.gradient(Float64Array.from(w), xs, ts, g, batch);
      for (let i = 0; i < 3; i++) expectRelClose(g[i], mean[i], 1e-12, `batch ${batch}: dJ/dw${i + 1}`);
      expectRelClose(J, meanLoss, 1e-12, `batch ${batch}: J`);
      expectRelClose(m.loss(Float64Array.from(w), xs, ts, batch), meanLoss, 1e-12, `batch ${batch}: loss()`);
    }
  });

  /** Per-sample SGD over x ∈ {1, −1} with labels {−1, 1}; returns J before and after, and the trained outputs. */
  function trainChain3<T extends Float32Array | Float64Array>(m: NetModule<T>, make: (v: ArrayLike<number>) => T) {
    const p = make(INITIAL);
    const xs = [1, -1];
    const ts = [-1, 1];
    const all = { x: make(xs), t: make(ts) };
    const before = m.loss(p, all.x, all.t, 2);
    for (let epoch = 0; epoch < 160; epoch++) {
      for (let s = 0; s < 2; s++) m.sgdStep(p, make([xs[s]]), make([ts[s]]), 0.05, 1);
    }
    const after = m.loss(p, all.x, all.t, 2);
    const out = make([0, 0]);
    m.forward(p, all.x, out, 2);
    return { w: Array.from(p), before, after, out: Array.from(out) };
  }

  for (const precision of ["f64", "f32"] as const) {
    it(`per-sample SGD (lr 0.05, 160 epochs) from the initial weights fits x ∈ {1, −1} → {−1, 1} (${precision})`, async () => {
      const { w, before, after, out } =
        precision === "f64"
          ? trainChain3((await buildExample("chain3", "f64")).module, (v) => Float64Array.from(v))
          : trainChain3((await buildExample("chain3", "f32")).module, (v) => Float32Array.from(v));
      console.log(`chain3 ${precision}: w = [${w.map((v) => v.toFixed(4))}], e(1) = ${out[0].toFixed(4)}, e(−1) = ${out[1].toFixed(4)}, J ${before.toFixed(4)} → ${after.toFixed(4)}`);
      expect(Math.sign(out[0]), `e(1) = ${out[0]}`).toBe(-1);
      expect(Math.sign(out[1]), `e(−1) = ${out[1]}`).toBe(1);
      expect(after).toBeLessThan(before);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
describe("softmax_10_20_2: dense 10→20→2, no bias, identity, softmax cross-entropy", () => {
  const IN = 10;
  const HID = 20;
  const OUT = 2;

  /** The hand-derived gradient: z1 = W1x, z2 = W2z1, p = softmax(z2), δ2 = p − y, dW2 = δ2 z1ᵀ, δ1 = W2ᵀδ2, dW1 = δ1 xᵀ. */
  function handGradient(W1: Float64Array, W2: Float64Array, x: Float64Array, y: Float64Array) {
    const z1 = matVec({ rows: HID, cols: IN, data: W1 }, x);
    const z2 = matVec({ rows: OUT, cols: HID, data: W2 }, z1);
    const p = softmax(z2);
    const d2 = p.map((v, i) => v - y[i]);
    const dW2 = outer(d2, z1);
    const d1 = matTVec({ rows: OUT, cols: HID, data: W2 }, d2);
    const dW1 = outer(d1, x);
    const loss = -y.reduce((s, yi, i) => s + yi * Math.log(p[i]), 0);
    return { z1, p, dW1, dW2, loss };
  }

  it("with all weights 0.1 and label [1, 0], output 1's weights (row 1 of W2) get a non-zero gradient equal to the hand-derived one", async () => {
    const { module: m } = await buildExample("softmax_10_20_2", "f64");
    expect(m.meta.params.map((q) => [q.name, q.shape])).toEqual([
      ["W1", [HID, IN]],
      ["W2", [OUT, HID]],
    ]);
    const p = new Float64Array(m.meta.paramCount).fill(0.1);
    const x = new Rng(41).normals(IN);
    const y = Float64Array.of(1, 0);
    const g = new Float64Array(m.meta.paramCount);
    const J = m.gradient(p, x, y, g, 1);

    const hand = handGradient(block(m, p, "W1"), block(m, p, "W2"), x, y);
    const gW2 = block(m, g, "W2");
    const row1 = gW2.subarray(HID, 2 * HID);
    // p = [½, ½] by symmetry, so δ2 = [−½, ½] and row 1 of dW2 is ½·z1, which is non-zero.
    expect(maxAbs(hand.z1)).toBeGreaterThan(0);
    expect(maxAbs(row1), `row 1 of dW2: ${Array.from(row1)}`).toBeGreaterThan(0.1 * maxAbs(hand.z1));
    for (let j = 0; j < HID; j++) expectRelClose(row1[j], 0.5 * hand.z1[j], 1e-12, `dW2[1, ${j}] = ½·z1[${j}]`, 1e-15);

    const scale = Math.max(maxAbs(hand.dW1), maxAbs(hand.dW2));
    expectVectorClose(gW2, hand.dW2, 1e-12, "dW2");
    expectVectorClose(block(m, g, "W1"), hand.dW1, 1e-12, "dW1", scale);
    expectRelClose(J, hand.loss, 1e-12, "J = −log p0");
  });

  it("at random weights and a batch, every gradient element matches the hand-derived one", async () => {
    const { module: m } = await buildExample("softmax_10_20_2", "f64");
    const rng = new Rng(42);
    const p = rng.normals(m.meta.paramCount, 0.3);
    const batch = 4;
    const x = rng.normals(batch * IN);
    const y = rng.oneHot(batch, OUT);
    const dW1 = new Float64Array(HID * IN);
    const dW2 = new Float64Array(OUT * HID);
    let loss = 0;
    for (let s = 0; s < batch; s++) {
      const hand = handGradient(block(m, p, "W1"), block(m, p, "W2"), x.subarray(s * IN, (s + 1) * IN), y.subarray(s * OUT, (s + 1) * OUT));
      hand.dW1.forEach((v, i) => (dW1[i] += v / batch));
      hand.dW2.forEach((v, i) => (dW2[i] += v / batch));
      loss += hand.loss / batch;
    }
    const g = new Float64Array(m.meta.paramCount);
    const J = m.gradient(p, x, y, g, batch);
    expect(maxAbs(dW1)).toBeGreaterThan(1e-3);
    expectVectorClose(block(m, g, "W1"), dW1, 1e-12, "dW1");
    expectVectorClose(block(m, g, "W2"), dW2, 1e-12, "dW2");
    expectRelClose(J, loss, 1e-12, "J");
  });

  it("one sgdStep with lr 0.1 changes the params by exactly −0.1·gradient", async () => {
    const { module: m } = await buildExample("softmax_10_20_2", "f64");
    const rng = new Rng(43);
    for (const start of ["all 0.1", "random"] as const) {
      const p0 = start === "all 0.1" ? new Float64Array(m.meta.paramCount).fill(0.1) : rng.normals(m.meta.paramCount, 0.3);
      const x = rng.normals(IN);
      const y = Float64Array.of(1, 0);
      const g = new Float64Array(m.meta.paramCount);
      const J = m.gradient(p0, x, y, g, 1);
      const p = Float64Array.from(p0);
      const returned = m.sgdStep(p, x, y, 0.1, 1);
      expect(returned, `${start}: sgdStep returns J before the step`).toBe(J);
      const expected = p0.map((v, i) => v - 0.1 * g[i]);
      let changed = 0;
      for (let i = 0; i < p.length; i++) {
        expect(p[i], `${start}: p[${i}]`).toBe(expected[i]);
        if (p[i] !== p0[i]) changed++;
      }
      expect(changed, `${start}: parameters moved`).toBeGreaterThan(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("xor_sigmoid: 2→4 sigmoid → 1 sigmoid, binary cross-entropy", () => {
  const X = Float64Array.of(0, 0, 0, 1, 1, 0, 1, 1);
  const Y = Float64Array.of(0, 1, 1, 0);
  // A deterministic seed. With lr 1, seeds 1–20 solve XOR within 200–450 steps, except seed 2, which stays in a
  // local minimum for 4000 steps (a property of XOR and plain SGD, not of the compiler); this test asserts seed 7.
  const SEED = 7;
  const LR = 1;
  const MAX_STEPS = 4000;

  it(`trains XOR to 4/4 with full-batch sgdStep (lr ${LR}, ≤ ${MAX_STEPS} steps) from a seeded uniform(−1, 1) init`, async () => {
    const { module: m } = await buildExample("xor_sigmoid", "f64");
    const p = new Rng(SEED).uniforms(m.meta.paramCount, -1, 1);
    const out = new Float64Array(4);
    const correct = () => {
      m.forward(p, X, out, 4);
      return Array.from(out).filter((o, s) => (o > 0.5 ? 1 : 0) === Y[s]).length;
    };
    const before = m.loss(p, X, Y, 4);
    let firstSolved = -1;
    for (let step = 1; step <= MAX_STEPS; step++) {
      m.sgdStep(p, X, Y, LR, 4);
      if (firstSolved < 0 && correct() === 4) firstSolved = step;
    }
    const after = m.loss(p, X, Y, 4);
    const solved = correct();
    console.log(`xor_sigmoid: seed ${SEED}, 4/4 first after ${firstSolved} steps; J ${before.toFixed(4)} → ${after.toFixed(4)} after ${MAX_STEPS}; outputs ${Array.from(out, (o) => o.toFixed(3))}`);
    expect(solved, `outputs ${Array.from(out)}`).toBe(4);
    expect(firstSolved).toBeGreaterThan(0);
    expect(after).toBeLessThan(0.1);
  });

  it("the generated gradient computes the output delta as a2 − y", async () => {
    for (const precision of ["f64", "f32"] as const) {
      // the module as a user reads it: formatted
      const { source } = await compile(exampleSpec("xor_sigmoid"), withKernels({ precision, sourceFile: "examples/xor_sigmoid.json" }));
      const body = kernelText(source, "gradient");
      expect(body.length, `${precision}: gradient kernel in the source`).toBeGreaterThan(0);
      expect(body, `${precision}: output delta`).toMatch(/^\s*(?:const|let)\s+d_z2\s*=\s*a2\s*-\s*y\s*;/m);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("mse_sigmoid: 3→5→4→2, all sigmoid, MSE", () => {
  it("gradients equal BP1–BP4 written out with explicit loops (batch of 3)", async () => {
    const { module: m } = await buildExample("mse_sigmoid", "f64");
    const sizes = [3, 5, 4, 2];
    const L = sizes.length - 1;
    expect(m.meta.params.map((q) => q.name)).toEqual(["W1", "b1", "W2", "b2", "W3", "b3"]);
    const rng = new Rng(51);
    const p = rng.normals(m.meta.paramCount, 0.8);
    const batch = 3;
    const x = rng.normals(batch * sizes[0]);
    const y = rng.uniforms(batch * sizes[L]);
    const W = (l: number) => block(m, p, `W${l}`);
    const b = (l: number) => block(m, p, `b${l}`);

    const dW: Float64Array[] = [];
    const db: Float64Array[] = [];
    for (let l = 1; l <= L; l++) {
      dW[l] = new Float64Array(sizes[l] * sizes[l - 1]);
      db[l] = new Float64Array(sizes[l]);
    }
    let cost = 0;
    for (let s = 0; s < batch; s++) {
      // forward: z^l = W^l a^{l-1} + b^l, a^l = σ(z^l)
      const a: number[][] = [Array.from(x.subarray(s * sizes[0], (s + 1) * sizes[0]))];
      const z: number[][] = [[]];
      for (let l = 1; l <= L; l++) {
        z[l] = [];
        a[l] = [];
        for (let j = 0; j < sizes[l]; j++) {
          let acc = b(l)[j];
          for (let k = 0; k < sizes[l - 1]; k++) acc += W(l)[j * sizes[l - 1] + k] * a[l - 1][k];
          z[l][j] = acc;
          a[l][j] = sigmoid(acc);
        }
      }
      const sigmaPrime = (l: number, j: number) => sigmoid(z[l][j]) * (1 - sigmoid(z[l][j]));
      const target = (j: number) => y[s * sizes[L] + j];
      for (let j = 0; j < sizes[L]; j++) cost += (0.5 * (a[L][j] - target(j)) ** 2) / batch;
      // BP1: δ^L = (a^L − y) ⊙ σ'(z^L)
      const delta: number[][] = [];
      delta[L] = [];
      for (let j = 0; j < sizes[L]; j++) delta[L][j] = (a[L][j] - target(j)) * sigmaPrime(L, j);
      // BP2: δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ'(z^l)
      for (let l = L - 1; l >= 1; l--) {
        delta[l] = [];
        for (let k = 0; k < sizes[l]; k++) {
          let acc = 0;
          for (let j = 0; j < sizes[l + 1]; j++) acc += W(l + 1)[j * sizes[l] + k] * delta[l + 1][j];
          delta[l][k] = acc * sigmaPrime(l, k);
        }
      }
      // BP3: ∂C/∂b^l = δ^l;  BP4: ∂C/∂W^l = δ^l (a^{l-1})ᵀ  (averaged over the batch)
      for (let l = 1; l <= L; l++) {
        for (let j = 0; j < sizes[l]; j++) {
          db[l][j] += delta[l][j] / batch;
          for (let k = 0; k < sizes[l - 1]; k++) dW[l][j * sizes[l - 1] + k] += (delta[l][j] * a[l - 1][k]) / batch;
        }
      }
    }

    const g = new Float64Array(m.meta.paramCount);
    const J = m.gradient(p, x, y, g, batch);
    for (let l = 1; l <= L; l++) {
      expect(maxAbs(dW[l]), `dW${l} is not trivially zero`).toBeGreaterThan(1e-6);
      expectVectorClose(block(m, g, `W${l}`), dW[l], 1e-12, `dC/dW${l} (BP4)`);
      expectVectorClose(block(m, g, `b${l}`), db[l], 1e-12, `dC/db${l} (BP3)`);
    }
    expectRelClose(J, cost, 1e-12, "C");
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("deep_l2: 5 dense layers with l2 = 0.001", () => {
  it("loss and gradient differ from the l2-free network by exactly the L2 term on weights", async () => {
    const spec = exampleSpec("deep_l2") as NetSpec & { l2?: number };
    const lambda = spec.l2;
    expect(lambda).toBe(0.001);
    const plain = structuredClone(spec);
    delete plain.l2;
    const { module: withL2 } = await build(spec, "f64");
    const { module: without } = await build(plain, "f64");
    expect(without.meta).toEqual(withL2.meta);
    const weights = withL2.meta.params.filter((q) => q.name.startsWith("W"));
    const biases = withL2.meta.params.filter((q) => !q.name.startsWith("W"));
    expect(weights.map((q) => q.name)).toEqual(["W1", "W2", "W3", "W4", "W5"]);
    expect(biases.map((q) => q.name)).toEqual(["b1", "b2", "b3", "b4", "b5"]);

    const rng = new Rng(61);
    const batch = 4;
    const p = randomParams(withL2, rng);
    for (const q of biases) for (let k = 0; k < q.size; k++) p[q.offset + k] = rng.normal(0.5); // biases large enough to matter
    const x = rng.normals(batch * withL2.meta.inputSize);
    const y = rng.oneHot(batch, withL2.meta.targetSize);

    let sumSquares = 0;
    for (const q of weights) for (let k = 0; k < q.size; k++) sumSquares += p[q.offset + k] ** 2;
    const penalty = (lambda! / 2) * sumSquares;
    const lossDiff = withL2.loss(p, x, y, batch) - without.loss(p, x, y, batch);
    expectRelClose(lossDiff, penalty, 1e-9, "loss(l2) − loss(no l2) = λ/2 Σ‖W‖²");

    const g1 = new Float64Array(withL2.meta.paramCount);
    const g0 = new Float64Array(withL2.meta.paramCount);
    const J1 = withL2.gradient(p, x, y, g1, batch);
    const J0 = without.gradient(p, x, y, g0, batch);
    expectRelClose(J1 - J0, penalty, 1e-9, "gradient()'s J difference");
    const scale = maxAbs(g0);
    for (const q of weights) {
      const diff = Float64Array.from({ length: q.size }, (_, k) => g1[q.offset + k] - g0[q.offset + k]);
      const expected = Float64Array.from({ length: q.size }, (_, k) => lambda! * p[q.offset + k]);
      expectVectorClose(diff, expected, 1e-9, `g(l2) − g(no l2) on ${q.name} = λ·${q.name}`);
    }
    for (const q of biases) {
      for (let k = 0; k < q.size; k++) {
        const d = g1[q.offset + k] - g0[q.offset + k];
        expect(Math.abs(d), `g(l2) − g(no l2) on ${q.name}[${k}]`).toBeLessThanOrEqual(1e-14 * scale);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("mnist_mlp: 784→128 relu→10, softmax cross-entropy", () => {
  const BATCH = 8;

  async function setup() {
    const { module: m64 } = await buildExample("mnist_mlp", "f64");
    const { module: m32 } = await buildExample("mnist_mlp", "f32");
    const rng = new Rng(71);
    // f32-representable numbers, so both modules see exactly the same point
    const f32 = (v: Float64Array) => Float64Array.from(Float32Array.from(v));
    const p = f32(randomParams(m64, rng));
    const x = f32(rng.uniforms(BATCH * 784));
    const y = rng.oneHot(BATCH, 10);
    return { m64, m32, p, x, y, rng };
  }

  it("compiles in both precisions with the same layout", async () => {
    const { m64, m32 } = await setup();
    expect(m64.meta).toEqual(m32.meta);
    expect(m64.meta.paramCount).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect([m64.meta.inputSize, m64.meta.outputSize, m64.meta.targetSize]).toEqual([784, 10, 10]);
  });

  it("forward writes probability rows (non-negative, summing to 1) in both precisions", async () => {
    const { m64, m32, p, x } = await setup();
    const out64 = new Float64Array(BATCH * 10);
    const out32 = new Float32Array(BATCH * 10);
    m64.forward(p, x, out64, BATCH);
    m32.forward(Float32Array.from(p), Float32Array.from(x), out32, BATCH);
    for (const [out, tol] of [
      [out64, 1e-12],
      [out32, 1e-5],
    ] as const) {
      for (let s = 0; s < BATCH; s++) {
        const row = Array.from(out.subarray(s * 10, (s + 1) * 10));
        for (const v of row) expect(v).toBeGreaterThanOrEqual(0);
        expect(Math.abs(row.reduce((a, v) => a + v, 0) - 1), `row ${s} sums to 1: ${row}`).toBeLessThanOrEqual(tol);
      }
    }
    // not a constant output: rows differ between samples
    expect(maxAbs(out64.subarray(0, 10).map((v, i) => v - out64[10 + i]))).toBeGreaterThan(1e-6);
  });

  it("the f32 gradient agrees with the f64 gradient at the same params (batch 8)", async () => {
    const { m64, m32, p, x, y } = await setup();
    const g64 = new Float64Array(m64.meta.paramCount);
    const g32 = new Float32Array(m32.meta.paramCount);
    const J64 = m64.gradient(p, x, y, g64, BATCH);
    const J32 = m32.gradient(Float32Array.from(p), Float32Array.from(x), Float32Array.from(y), g32, BATCH);
    expectRelClose(J32, J64, 1e-5, "J (f32 vs f64)");
    const worst: string[] = [];
    for (const q of m64.meta.params) {
      const err = expectVectorClose(g32.subarray(q.offset, q.offset + q.size), g64.subarray(q.offset, q.offset + q.size), 1e-3, `${q.name}: f32 vs f64`);
      worst.push(`${q.name} ${err.toExponential(2)}`);
    }
    console.log(`mnist_mlp f32 vs f64 gradient, max error relative to block scale: ${worst.join(", ")}`);
  });

  it("directional derivative: (J(p + ht) − J(p − ht)) / 2h ≈ ⟨g, t⟩ (f64, h = 1e-5, relative 1e-6)", async () => {
    const { m64, p, x, y, rng } = await setup();
    const g = new Float64Array(m64.meta.paramCount);
    m64.gradient(p, x, y, g, BATCH);
    const t = rng.normals(m64.meta.paramCount);
    const norm = Math.sqrt(dot(t, t));
    t.forEach((v, i) => (t[i] = v / norm));
    const h = 1e-5;
    const plus = m64.loss(p.map((v, i) => v + h * t[i]), x, y, BATCH);
    const minus = m64.loss(p.map((v, i) => v - h * t[i]), x, y, BATCH);
    const numeric = (plus - minus) / (2 * h);
    const analytic = dot(g, t);
    console.log(`mnist_mlp directional: numeric ${numeric}, analytic ${analytic}, rel err ${(Math.abs(numeric - analytic) / Math.abs(analytic)).toExponential(2)}`);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-6);
    expectRelClose(numeric, analytic, 1e-6, "directional derivative");
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("gradcheck passes on every example", () => {
  const EXAMPLES = ["chain3", "softmax_10_20_2", "xor_sigmoid", "mse_sigmoid", "deep_l2", "mnist_mlp"];

  function targetKind(spec: NetSpec): TargetKind {
    const loss = (spec as { loss: string }).loss;
    return loss === "softmax_cross_entropy" ? "one-hot" : loss === "binary_cross_entropy" ? "binary" : "real";
  }

  /** The starting point gradcheck jitters: the known constants where the example has them, else seeded random. */
  function startingPoint(name: string, m: NetModule): Float64Array {
    if (name === "chain3") return Float64Array.of(0.2333, -0.233, -0.52133);
    if (name === "softmax_10_20_2") return new Float64Array(m.meta.paramCount).fill(0.1);
    return randomParams(m, new Rng(81));
  }

  it.each(EXAMPLES)("%s", async (name) => {
    const spec = exampleSpec(name);
    const { module: m64 } = await build(spec, "f64");
    const { module: m32 } = await build(spec, "f32");
    const targets = targetKind(spec);
    const report = gradcheck(withInitParams(m64, startingPoint(name, m64)), m32, { targets });
    const table = report.rows.map((r) => `${r.param}: rel ${r.maxRelError.toExponential(2)}, f32 ${r.f32RelError.toExponential(2)}${r.ok ? "" : " FAIL"}`);
    console.log(`gradcheck ${name} (${targets}): J = ${report.loss.toPrecision(6)}; ${table.join("; ")}`);
    expect(report.rows.map((r) => r.param)).toEqual(m64.meta.params.map((q) => q.name));
    for (const r of report.rows) {
      expect(r.checked, `${r.param}: elements checked`).toBeGreaterThan(0);
      expect(r.maxRelError, `${r.param}: max relative error`).toBeLessThanOrEqual(1e-5);
      expect(r.ok, `${r.param} ok`).toBe(true);
    }
    expect(report.ok).toBe(true);
  });
});
