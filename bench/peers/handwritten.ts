/**
 * The expert baseline: forward, loss, backward and SGD for the reference networks, written by hand over typed
 * arrays, in bpgen's parameter layout (W_l [units, fanIn] row-major, then b_l; J = mean over the batch +
 * λ/2 Σ‖W‖²), so its gradient can be compared with bpgen's element by element.
 *
 * How it is written (the benchmark's BENCHMARKS.md repeats this):
 * - Layer at a time over the whole batch. Every buffer (activations per layer, deltas per layer, the
 *   gradient) is allocated once, in the constructor, for the largest batch; calls allocate nothing.
 * - The three products of a dense layer are register-tiled loops with no calls, closures or per-element
 *   dispatch inside:
 *     forward  Z = A·Wᵀ + b      4 samples × 2 weight rows = 8 independent accumulators, both operands read
 *                                along contiguous rows, the bias loaded into the accumulators (fused);
 *     backward dA = dZ·W         2 samples × 4 columns = 8 accumulators, walking down W's rows;
 *     weights  dW = dZᵀ·A (+λW)  i-k-j order: 2 rows of dW × 4 samples per pass, streaming the rows of A and
 *                                dW (each loaded value feeds 4 or 2 multiply-adds);
 *   edges that do not fill a tile use 4 independent accumulators (dot products) or plain loops.
 *   These tile shapes were picked by timing alternatives (plain 4-accumulator dot products, 2×2 and 4×4 tiles,
 *   axpy forms) on the mnist and wide shapes.
 * - Activation (one loop per activation kind, chosen once per layer), derivative from the stored activation
 *   (σ' = a(1−a), tanh' = 1−a², relu' = [a > 0]), the loss and its delta are fused passes; the delta is scaled
 *   by 1/batch once at the output, so no gradient needs rescaling afterwards; λW initialises the dW rows.
 * - chain3 (three scalar parameters) is one loop over the samples with the derivation written out.
 *
 * The arrays may be Float32Array (the benchmark) or Float64Array (only the gradient test uses it, to check
 * the derivation tightly against bpgen's f64 module and finite differences).
 */
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import { isChain3, mlpLayout, type Batch, type DenseLayer, type MlpLayout } from "../nets.ts";
import { BENCH_LR, syncCall, type PeerRun } from "./types.ts";

export type FloatArray = Float32Array | Float64Array;
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/** The same API as a generated module's hot functions, for up to `maxBatch` samples per call. */
export interface HandNet<T extends FloatArray> {
  readonly paramCount: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly maxBatch: number;
  loss(p: T, x: T, y: T, batch: number): number;
  /** Overwrites g with dJ/dp; returns J. */
  gradient(p: T, x: T, y: T, g: T, batch: number): number;
  /** p −= lr · dJ/dp (the whole gradient from the parameters before the step); returns J before the step. */
  step(p: T, x: T, y: T, lr: number, batch: number): number;
  forward(p: T, x: T, out: T, batch: number): void;
}

export function createHandwritten<T extends FloatArray>(spec: NetSpec, maxBatch: number, make: (n: number) => T): HandNet<T> {
  const name = spec.name;
  if (isLayerSpec(spec)) return new HandMlp<T>(mlpLayout(spec), maxBatch, make);
  if (isChain3(spec)) return new HandChain3<T>(maxBatch, make);
  throw new Error(`no hand-written baseline for the equation net ${name}`);
}

export const f32 = (n: number): Float32Array => new Float32Array(n);
export const f64 = (n: number): Float64Array => new Float64Array(n);

export function handRun(net: HandNet<Float32Array>, params: Float32Array, data: Batch): PeerRun {
  const p = Float32Array.from(params);
  const { x, y, batch } = data;
  const out = new Float32Array(batch * net.outputSize);
  const sink = new Float64Array(1);
  return {
    id: "hand",
    activate: async () => {},
    loss: () => net.loss(p, x, y, batch),
    step: syncCall(() => {
      sink[0] += net.step(p, x, y, BENCH_LR, batch);
    }),
    forward: syncCall(() => net.forward(p, x, out, batch)),
    output: async () => {
      net.forward(p, x, out, batch);
      return Float32Array.from(out);
    },
    dispose: () => {},
  };
}

// ---- chain3 -----------------------------------------------------------------------------------------

/** y = w1·x, z = w2·y, e = w3·z, per-sample loss ½(e − t)². */
class HandChain3<T extends FloatArray> implements HandNet<T> {
  readonly paramCount = 3;
  readonly inputSize = 1;
  readonly outputSize = 1;
  private readonly g: T;
  constructor(
    readonly maxBatch: number,
    make: (n: number) => T,
  ) {
    this.g = make(3);
  }

  loss(p: T, x: T, y: T, batch: number): number {
    const w1 = p[0], w2 = p[1], w3 = p[2];
    let sum = 0;
    for (let s = 0; s < batch; s++) {
      const d = w3 * (w2 * (w1 * x[s])) - y[s];
      sum += 0.5 * d * d;
    }
    return sum / batch;
  }

  gradient(p: T, x: T, y: T, g: T, batch: number): number {
    const w1 = p[0], w2 = p[1], w3 = p[2];
    let sum = 0, g1 = 0, g2 = 0, g3 = 0;
    for (let s = 0; s < batch; s++) {
      const xs = x[s];
      const ys = w1 * xs;
      const zs = w2 * ys;
      const d = w3 * zs - y[s]; // ∂L/∂e
      sum += 0.5 * d * d;
      g3 += d * zs;
      const dz = d * w3;
      g2 += dz * ys;
      g1 += dz * w2 * xs;
    }
    const inv = 1 / batch;
    g[0] = g1 * inv;
    g[1] = g2 * inv;
    g[2] = g3 * inv;
    return sum * inv;
  }

  step(p: T, x: T, y: T, lr: number, batch: number): number {
    const g = this.g;
    const J = this.gradient(p, x, y, g, batch);
    p[0] -= lr * g[0];
    p[1] -= lr * g[1];
    p[2] -= lr * g[2];
    return J;
  }

  forward(p: T, x: T, out: T, batch: number): void {
    const w1 = p[0], w2 = p[1], w3 = p[2];
    for (let s = 0; s < batch; s++) out[s] = w3 * (w2 * (w1 * x[s]));
  }
}

// ---- layer nets -------------------------------------------------------------------------------------

const enum Act {
  Linear,
  Sigmoid,
  Tanh,
  Relu,
}

const enum Loss {
  Mse,
  /** Binary cross-entropy on a sigmoid output, from the logits. */
  SigmoidBce,
  /** Softmax cross-entropy on a linear output, from the logits. */
  SoftmaxCe,
}

function actOf(name: string): Act {
  switch (name) {
    case "linear":
      return Act.Linear;
    case "sigmoid":
      return Act.Sigmoid;
    case "tanh":
      return Act.Tanh;
    case "relu":
      return Act.Relu;
    default:
      throw new Error(`the hand-written baseline has no activation ${name}`);
  }
}

class HandMlp<T extends FloatArray> implements HandNet<T> {
  readonly paramCount: number;
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly layers: readonly DenseLayer[];
  private readonly acts: readonly Act[];
  private readonly lossKind: Loss;
  private readonly l2: number;
  /** Per layer: activations [maxBatch, units] (the last layer keeps its logits under a cross-entropy). */
  private readonly a: T[];
  /** Per layer: ∂J/∂z [maxBatch, units]. */
  private readonly d: T[];
  private readonly g: T;

  constructor(
    layout: MlpLayout,
    readonly maxBatch: number,
    make: (n: number) => T,
  ) {
    this.paramCount = layout.paramCount;
    this.inputSize = layout.inputSize;
    this.outputSize = layout.outputSize;
    this.layers = layout.layers;
    this.acts = layout.layers.map((l) => actOf(l.activation));
    this.l2 = layout.l2;
    const last = this.acts[this.acts.length - 1];
    if (layout.loss === "mse") this.lossKind = Loss.Mse;
    else if (layout.loss === "binary_cross_entropy" && last === Act.Sigmoid) this.lossKind = Loss.SigmoidBce;
    else if (layout.loss === "softmax_cross_entropy" && last === Act.Linear) this.lossKind = Loss.SoftmaxCe;
    else throw new Error(`the hand-written baseline has no ${layout.loss} after a ${layout.layers[layout.layers.length - 1].activation} output`);
    this.a = layout.layers.map((l) => make(maxBatch * l.units));
    this.d = layout.layers.map((l) => make(maxBatch * l.units));
    this.g = make(layout.paramCount);
  }

  /** Runs the layers over the batch; the last layer's activation is applied only under MSE (or `applyLast`). */
  private run(p: T, x: T, batch: number, applyLast: boolean): void {
    const n = this.layers.length;
    let input: T = x;
    for (let l = 0; l < n; l++) {
      const L = this.layers[l];
      const a = this.a[l];
      denseForward(a, p, L.wOffset, L.bOffset, input, batch, L.units, L.fanIn);
      if (l < n - 1 || applyLast || this.lossKind === Loss.Mse) activate(this.acts[l], a, batch * L.units);
      input = a;
    }
  }

  /** Σ over the batch of the per-sample losses; with `delta`, also writes ∂J/∂z of the last layer (scaled by 1/batch). */
  private outputLoss(y: T, batch: number, delta: boolean): number {
    const n = this.layers.length;
    const m = this.layers[n - 1].units;
    const z = this.a[n - 1];
    const d = this.d[n - 1];
    const inv = 1 / batch;
    let sum = 0;
    switch (this.lossKind) {
      case Loss.SoftmaxCe:
        for (let s = 0; s < batch; s++) {
          const o = s * m;
          let max = -Infinity;
          for (let j = 0; j < m; j++) if (z[o + j] > max) max = z[o + j];
          let e = 0;
          let yz = 0;
          for (let j = 0; j < m; j++) {
            e += Math.exp(z[o + j] - max);
            yz += y[o + j] * z[o + j];
          }
          const lse = max + Math.log(e);
          sum += lse - yz;
          if (delta) for (let j = 0; j < m; j++) d[o + j] = (Math.exp(z[o + j] - lse) - y[o + j]) * inv;
        }
        break;
      case Loss.SigmoidBce: {
        const total = batch * m;
        for (let i = 0; i < total; i++) {
          const v = z[i];
          const e = Math.exp(-Math.abs(v));
          sum += (v > 0 ? v : 0) + Math.log1p(e) - y[i] * v; // softplus(z) − y·z
          if (delta) d[i] = ((v >= 0 ? 1 / (1 + e) : e / (1 + e)) - y[i]) * inv;
        }
        break;
      }
      case Loss.Mse: {
        const total = batch * m;
        const act = this.acts[n - 1];
        for (let i = 0; i < total; i++) {
          const r = z[i] - y[i];
          sum += 0.5 * r * r;
        }
        if (delta) {
          // ∂J/∂z = (a − y)/batch ⊙ f′(a)
          if (act === Act.Linear) for (let i = 0; i < total; i++) d[i] = (z[i] - y[i]) * inv;
          else if (act === Act.Tanh) for (let i = 0; i < total; i++) d[i] = (z[i] - y[i]) * inv * (1 - z[i] * z[i]);
          else if (act === Act.Sigmoid) for (let i = 0; i < total; i++) d[i] = (z[i] - y[i]) * inv * z[i] * (1 - z[i]);
          else for (let i = 0; i < total; i++) d[i] = z[i] > 0 ? (z[i] - y[i]) * inv : 0;
        }
        break;
      }
    }
    return sum;
  }

  /** λ/2 Σ‖W‖² (0 without l2). */
  private regularizer(p: T): number {
    if (this.l2 === 0) return 0;
    let sq = 0;
    for (const L of this.layers) sq += sumSquares(p, L.wOffset, L.units * L.fanIn);
    return 0.5 * this.l2 * sq;
  }

  loss(p: T, x: T, y: T, batch: number): number {
    this.run(p, x, batch, false);
    return this.outputLoss(y, batch, false) / batch + this.regularizer(p);
  }

  gradient(p: T, x: T, y: T, g: T, batch: number): number {
    if (batch > this.maxBatch) throw new RangeError(`batch ${batch} > ${this.maxBatch}`);
    this.run(p, x, batch, false);
    const J = this.outputLoss(y, batch, true) / batch;
    const lambda = this.l2;
    let sq = 0;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l];
      const d = this.d[l];
      const input = l === 0 ? x : this.a[l - 1];
      // dW = λW + dZᵀ·A (dZ already carries 1/batch); db = Σ_s dZ
      if (lambda !== 0) sq += scaledCopy(g, p, L.wOffset, L.units * L.fanIn, lambda);
      else g.fill(0, L.wOffset, L.wOffset + L.units * L.fanIn);
      denseWeightGradient(g, L.wOffset, d, input, batch, L.units, L.fanIn);
      if (L.bOffset >= 0) biasGradient(g, L.bOffset, d, batch, L.units);
      if (l > 0) {
        // dA_{l-1} = dZ_l · W_l, then ⊙ f′(a_{l-1}) in place
        const below = this.d[l - 1];
        denseTransposed(below, p, L.wOffset, d, batch, L.units, L.fanIn);
        derivative(this.acts[l - 1], below, this.a[l - 1], batch * L.fanIn);
      }
    }
    return J + 0.5 * lambda * sq;
  }

  step(p: T, x: T, y: T, lr: number, batch: number): number {
    const g = this.g;
    const J = this.gradient(p, x, y, g, batch);
    const n = this.paramCount;
    for (let i = 0; i < n; i++) p[i] -= lr * g[i];
    return J;
  }

  forward(p: T, x: T, out: T, batch: number): void {
    this.run(p, x, batch, this.lossKind !== Loss.SoftmaxCe);
    const n = this.layers.length;
    const m = this.layers[n - 1].units;
    const a = this.a[n - 1];
    if (this.lossKind === Loss.SoftmaxCe) softmaxRows(out, a, batch, m);
    else out.set(a.subarray(0, batch * m));
  }
}

// ---- kernels ----------------------------------------------------------------------------------------

/**
 * Z[s·m + j] = b[j] + Σ_t A[s·k + t] · P[w + j·k + t] (no bias when b < 0).
 * Tiles of 4 samples × 2 weight rows (8 accumulators); the remaining samples take 4 rows at a time.
 */
function denseForward(Z: FloatArray, P: FloatArray, w: number, b: number, A: FloatArray, batch: number, m: number, k: number): void {
  const s4 = batch - (batch % 4);
  const m2 = m - (m % 2);
  const m4 = m - (m % 4);
  for (let s = 0; s < s4; s += 4) {
    const x0 = s * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    for (let j = 0; j < m2; j += 2) {
      const r0 = w + j * k, r1 = r0 + k;
      const bu = b >= 0 ? P[b + j] : 0;
      const bv = b >= 0 ? P[b + j + 1] : 0;
      let a0 = bu, a1 = bu, a2 = bu, a3 = bu, c0 = bv, c1 = bv, c2 = bv, c3 = bv;
      for (let t = 0; t < k; t++) {
        const u = P[r0 + t];
        const v = P[r1 + t];
        const p0 = A[x0 + t], p1 = A[x1 + t], p2 = A[x2 + t], p3 = A[x3 + t];
        a0 += u * p0; a1 += u * p1; a2 += u * p2; a3 += u * p3;
        c0 += v * p0; c1 += v * p1; c2 += v * p2; c3 += v * p3;
      }
      const o = s * m + j;
      Z[o] = a0; Z[o + m] = a1; Z[o + 2 * m] = a2; Z[o + 3 * m] = a3;
      Z[o + 1] = c0; Z[o + 1 + m] = c1; Z[o + 1 + 2 * m] = c2; Z[o + 1 + 3 * m] = c3;
    }
    if (m2 < m) {
      // the last row (m odd) for these 4 samples: 4 accumulators
      const r = w + m2 * k;
      const bu = b >= 0 ? P[b + m2] : 0;
      let a0 = bu, a1 = bu, a2 = bu, a3 = bu;
      for (let t = 0; t < k; t++) {
        const u = P[r + t];
        a0 += u * A[x0 + t]; a1 += u * A[x1 + t]; a2 += u * A[x2 + t]; a3 += u * A[x3 + t];
      }
      const o = s * m + m2;
      Z[o] = a0; Z[o + m] = a1; Z[o + 2 * m] = a2; Z[o + 3 * m] = a3;
    }
  }
  // the last samples (batch not a multiple of 4): 4 rows at a time, then single rows with 4 partial sums
  for (let s = s4; s < batch; s++) {
    const x0 = s * k;
    const o = s * m;
    for (let j = 0; j < m4; j += 4) {
      const r0 = w + j * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let t = 0; t < k; t++) {
        const p0 = A[x0 + t];
        a0 += P[r0 + t] * p0; a1 += P[r1 + t] * p0; a2 += P[r2 + t] * p0; a3 += P[r3 + t] * p0;
      }
      if (b >= 0) {
        a0 += P[b + j]; a1 += P[b + j + 1]; a2 += P[b + j + 2]; a3 += P[b + j + 3];
      }
      Z[o + j] = a0; Z[o + j + 1] = a1; Z[o + j + 2] = a2; Z[o + j + 3] = a3;
    }
    const k4 = k - (k % 4);
    for (let j = m4; j < m; j++) {
      const r = w + j * k;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let t = 0;
      for (; t < k4; t += 4) {
        a0 += P[r + t] * A[x0 + t];
        a1 += P[r + t + 1] * A[x0 + t + 1];
        a2 += P[r + t + 2] * A[x0 + t + 2];
        a3 += P[r + t + 3] * A[x0 + t + 3];
      }
      for (; t < k; t++) a0 += P[r + t] * A[x0 + t];
      Z[o + j] = (b >= 0 ? P[b + j] : 0) + (a0 + a1 + (a2 + a3));
    }
  }
}

/**
 * D[s·k + t] = Σ_j G[s·m + j] · P[w + j·k + t]: the delta through the weights to the layer's input.
 * Tiles of 2 samples × 4 columns (8 accumulators) walking down the rows of W.
 */
function denseTransposed(D: FloatArray, P: FloatArray, w: number, G: FloatArray, batch: number, m: number, k: number): void {
  const s2 = batch - (batch % 2);
  const k4 = k - (k % 4);
  for (let s = 0; s < s2; s += 2) {
    const g0 = s * m, g1 = g0 + m;
    for (let t = 0; t < k4; t += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let j = 0; j < m; j++) {
        const r = w + j * k + t;
        const u0 = P[r], u1 = P[r + 1], u2 = P[r + 2], u3 = P[r + 3];
        const p = G[g0 + j];
        const q = G[g1 + j];
        a0 += u0 * p; a1 += u1 * p; a2 += u2 * p; a3 += u3 * p;
        c0 += u0 * q; c1 += u1 * q; c2 += u2 * q; c3 += u3 * q;
      }
      const o = s * k + t;
      D[o] = a0; D[o + 1] = a1; D[o + 2] = a2; D[o + 3] = a3;
      D[o + k] = c0; D[o + k + 1] = c1; D[o + k + 2] = c2; D[o + k + 3] = c3;
    }
    for (let t = k4; t < k; t++) {
      let a = 0, c = 0;
      for (let j = 0; j < m; j++) {
        const u = P[w + j * k + t];
        a += u * G[g0 + j];
        c += u * G[g1 + j];
      }
      D[s * k + t] = a;
      D[s * k + k + t] = c;
    }
  }
  if (s2 < batch) {
    // the last sample (odd batch): 4 columns at a time
    const g0 = s2 * m;
    for (let t = 0; t < k4; t += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let j = 0; j < m; j++) {
        const r = w + j * k + t;
        const p = G[g0 + j];
        a0 += P[r] * p; a1 += P[r + 1] * p; a2 += P[r + 2] * p; a3 += P[r + 3] * p;
      }
      const o = s2 * k + t;
      D[o] = a0; D[o + 1] = a1; D[o + 2] = a2; D[o + 3] = a3;
    }
    for (let t = k4; t < k; t++) {
      let a = 0;
      for (let j = 0; j < m; j++) a += P[w + j * k + t] * G[g0 + j];
      D[s2 * k + t] = a;
    }
  }
}

/**
 * Gd[w + j·k + t] += Σ_s G[s·m + j] · A[s·k + t]: the weight gradient, in i-k-j order. Two rows of dW and
 * four samples per pass over t, streaming the rows of A and dW.
 */
function denseWeightGradient(Gd: FloatArray, w: number, G: FloatArray, A: FloatArray, batch: number, m: number, k: number): void {
  const m2 = m - (m % 2);
  const s4 = batch - (batch % 4);
  for (let j = 0; j < m2; j += 2) {
    const r0 = w + j * k, r1 = r0 + k;
    for (let s = 0; s < s4; s += 4) {
      const x0 = s * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      const o = s * m + j;
      const p0 = G[o], p1 = G[o + m], p2 = G[o + 2 * m], p3 = G[o + 3 * m];
      const q0 = G[o + 1], q1 = G[o + 1 + m], q2 = G[o + 1 + 2 * m], q3 = G[o + 1 + 3 * m];
      for (let t = 0; t < k; t++) {
        const v0 = A[x0 + t], v1 = A[x1 + t], v2 = A[x2 + t], v3 = A[x3 + t];
        Gd[r0 + t] += p0 * v0 + p1 * v1 + (p2 * v2 + p3 * v3);
        Gd[r1 + t] += q0 * v0 + q1 * v1 + (q2 * v2 + q3 * v3);
      }
    }
    for (let s = s4; s < batch; s++) {
      const x0 = s * k;
      const p = G[s * m + j], q = G[s * m + j + 1];
      for (let t = 0; t < k; t++) {
        const v = A[x0 + t];
        Gd[r0 + t] += p * v;
        Gd[r1 + t] += q * v;
      }
    }
  }
  if (m2 < m) {
    // the last row (m odd): four samples per pass
    const r = w + m2 * k;
    for (let s = 0; s < s4; s += 4) {
      const x0 = s * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      const o = s * m + m2;
      const p0 = G[o], p1 = G[o + m], p2 = G[o + 2 * m], p3 = G[o + 3 * m];
      for (let t = 0; t < k; t++) Gd[r + t] += p0 * A[x0 + t] + p1 * A[x1 + t] + (p2 * A[x2 + t] + p3 * A[x3 + t]);
    }
    for (let s = s4; s < batch; s++) {
      const x0 = s * k;
      const p = G[s * m + m2];
      for (let t = 0; t < k; t++) Gd[r + t] += p * A[x0 + t];
    }
  }
}

/** g[b + j] = Σ_s G[s·m + j]. */
function biasGradient(g: FloatArray, b: number, G: FloatArray, batch: number, m: number): void {
  for (let j = 0; j < m; j++) g[b + j] = G[j];
  for (let s = 1; s < batch; s++) {
    const o = s * m;
    for (let j = 0; j < m; j++) g[b + j] += G[o + j];
  }
}

/** g[o + i] = λ·p[o + i] for i < n; returns Σ p[o + i]² (4 partial sums). */
function scaledCopy(g: FloatArray, p: FloatArray, o: number, n: number, lambda: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    const a = p[o + i], b = p[o + i + 1], c = p[o + i + 2], d = p[o + i + 3];
    s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d;
    g[o + i] = lambda * a; g[o + i + 1] = lambda * b; g[o + i + 2] = lambda * c; g[o + i + 3] = lambda * d;
  }
  for (; i < n; i++) {
    const a = p[o + i];
    s0 += a * a;
    g[o + i] = lambda * a;
  }
  return s0 + s1 + (s2 + s3);
}

function sumSquares(p: FloatArray, o: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    s0 += p[o + i] * p[o + i]; s1 += p[o + i + 1] * p[o + i + 1]; s2 += p[o + i + 2] * p[o + i + 2]; s3 += p[o + i + 3] * p[o + i + 3];
  }
  for (; i < n; i++) s0 += p[o + i] * p[o + i];
  return s0 + s1 + (s2 + s3);
}

/** a = f(a) in place over n values, one loop per activation. */
function activate(act: Act, a: FloatArray, n: number): void {
  switch (act) {
    case Act.Linear:
      return;
    case Act.Relu:
      for (let i = 0; i < n; i++) if (!(a[i] > 0)) a[i] = 0;
      return;
    case Act.Tanh:
      for (let i = 0; i < n; i++) a[i] = Math.tanh(a[i]);
      return;
    case Act.Sigmoid:
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (v >= 0) a[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          a[i] = e / (1 + e);
        }
      }
      return;
  }
}

/** d = d ⊙ f′ where f′ is computed from the activation a = f(z), in place over n values. */
function derivative(act: Act, d: FloatArray, a: FloatArray, n: number): void {
  switch (act) {
    case Act.Linear:
      return;
    case Act.Relu:
      for (let i = 0; i < n; i++) if (!(a[i] > 0)) d[i] = 0;
      return;
    case Act.Tanh:
      for (let i = 0; i < n; i++) d[i] *= 1 - a[i] * a[i];
      return;
    case Act.Sigmoid:
      for (let i = 0; i < n; i++) d[i] *= a[i] * (1 - a[i]);
      return;
  }
}

/** out[s, :] = softmax(z[s, :]). */
function softmaxRows(out: FloatArray, z: FloatArray, batch: number, m: number): void {
  for (let s = 0; s < batch; s++) {
    const o = s * m;
    let max = -Infinity;
    for (let j = 0; j < m; j++) if (z[o + j] > max) max = z[o + j];
    let e = 0;
    for (let j = 0; j < m; j++) {
      const v = Math.exp(z[o + j] - max);
      out[o + j] = v;
      e += v;
    }
    const inv = 1 / e;
    for (let j = 0; j < m; j++) out[o + j] *= inv;
  }
}
