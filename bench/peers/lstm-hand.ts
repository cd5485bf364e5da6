/**
 * The hand-written LSTM: forward pass and backpropagation through time over typed arrays, in the parameter layout
 * of bench/peers/lstm-net.ts (Wi [4H, F], Wh [4H, H], b, V [O, H], d, one after another).
 *
 * Written as bench/peers/handwritten.ts writes the dense layers:
 * - A step at a time over the whole batch. Every buffer is allocated once, in the constructor: the activated gates
 *   of every step [T, B, 4H], the cell and hidden states [T + 1, B, H], tanh(c_t) [T, B, H] (kept for the backward
 *   pass, so nothing is recomputed), the deltas and the gradient. Calls allocate nothing.
 * - The three products are register-tiled loops with no calls inside:
 *     z_t += X_t·Wiᵀ, H_{t−1}·Whᵀ    4 samples × 2 gate rows = 8 accumulators, both operands read along rows
 *     dWi, dWh += dZᵀ·X_t, dZᵀ·H_{t−1}   2 gate rows × 4 samples per pass, streaming the rows of X (or H) and dW
 *     dH_{t−1} = dZ·Wh                2 samples × 4 gate rows per pass, walking down Wh's rows
 *   the bias is written into z_t before the products (fused); the product with h_0 = 0 is skipped.
 * - The gates' nonlinearities, the cell update and, going back, the gates' derivatives (from the stored
 *   activations: σ' = a(1 − a), tanh' = 1 − a²) are one fused loop per step.
 * The arrays may be Float32Array (the benchmark) or Float64Array (the gradient test, against finite differences).
 */
import type { PeerRun } from "./types.ts";
import { syncCall } from "./types.ts";
import { LSTM_LR, type LstmBatch, type LstmShape } from "./lstm-net.ts";

export type FloatArray = Float32Array | Float64Array;

/** C[m, n] += Σ_k A[m, k] · B[n, k]   (A rows aStride apart, B [N, K] row-major, C rows cStride apart). */
function productNT(A: FloatArray, aOff: number, aStride: number, M: number, B: FloatArray, bOff: number, N: number, K: number, C: FloatArray, cOff: number, cStride: number): void {
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const a0 = aOff + m * aStride, a1 = a0 + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
    const c0 = cOff + m * cStride, c1 = c0 + cStride, c2 = c1 + cStride, c3 = c2 + cStride;
    let n = 0;
    for (; n + 2 <= N; n += 2) {
      const w0 = bOff + n * K, w1 = w0 + K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let k = 0; k < K; k++) {
        const u = B[w0 + k], v = B[w1 + k];
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        s00 += x0 * u; s01 += x0 * v;
        s10 += x1 * u; s11 += x1 * v;
        s20 += x2 * u; s21 += x2 * v;
        s30 += x3 * u; s31 += x3 * v;
      }
      C[c0 + n] += s00; C[c0 + n + 1] += s01;
      C[c1 + n] += s10; C[c1 + n + 1] += s11;
      C[c2 + n] += s20; C[c2 + n + 1] += s21;
      C[c3 + n] += s30; C[c3 + n + 1] += s31;
    }
    for (; n < N; n++) {
      const w = bOff + n * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const u = B[w + k];
        s0 += A[a0 + k] * u; s1 += A[a1 + k] * u; s2 += A[a2 + k] * u; s3 += A[a3 + k] * u;
      }
      C[c0 + n] += s0; C[c1 + n] += s1; C[c2 + n] += s2; C[c3 + n] += s3;
    }
  }
  for (; m < M; m++) {
    const a = aOff + m * aStride, c = cOff + m * cStride;
    for (let n = 0; n < N; n++) {
      const w = bOff + n * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a + k] * B[w + k];
      C[c + n] += s;
    }
  }
}

/** C[n, k] += Σ_m A[m, n] · B[m, k]   (A rows aStride apart, B rows bStride apart, C [N, K] row-major). */
function productTN(A: FloatArray, aOff: number, aStride: number, M: number, N: number, B: FloatArray, bOff: number, bStride: number, K: number, C: FloatArray, cOff: number): void {
  let n = 0;
  for (; n + 2 <= N; n += 2) {
    const c0 = cOff + n * K, c1 = c0 + K;
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const r0 = aOff + m * aStride + n, r1 = r0 + aStride, r2 = r1 + aStride, r3 = r2 + aStride;
      const p00 = A[r0], p01 = A[r0 + 1], p10 = A[r1], p11 = A[r1 + 1];
      const p20 = A[r2], p21 = A[r2 + 1], p30 = A[r3], p31 = A[r3 + 1];
      const b0 = bOff + m * bStride, b1 = b0 + bStride, b2 = b1 + bStride, b3 = b2 + bStride;
      for (let k = 0; k < K; k++) {
        const v0 = B[b0 + k], v1 = B[b1 + k], v2 = B[b2 + k], v3 = B[b3 + k];
        C[c0 + k] += p00 * v0 + p10 * v1 + p20 * v2 + p30 * v3;
        C[c1 + k] += p01 * v0 + p11 * v1 + p21 * v2 + p31 * v3;
      }
    }
    for (; m < M; m++) {
      const r = aOff + m * aStride + n, b = bOff + m * bStride;
      const p0 = A[r], p1 = A[r + 1];
      for (let k = 0; k < K; k++) {
        C[c0 + k] += p0 * B[b + k];
        C[c1 + k] += p1 * B[b + k];
      }
    }
  }
  for (; n < N; n++) {
    const c = cOff + n * K;
    for (let m = 0; m < M; m++) {
      const p = A[aOff + m * aStride + n], b = bOff + m * bStride;
      for (let k = 0; k < K; k++) C[c + k] += p * B[b + k];
    }
  }
}

/** C[m, k] += Σ_j A[m, j] · B[j, k]   (A rows aStride apart, B [J, K] row-major, C rows cStride apart). */
function productNN(A: FloatArray, aOff: number, aStride: number, M: number, J: number, B: FloatArray, bOff: number, K: number, C: FloatArray, cOff: number, cStride: number): void {
  let m = 0;
  for (; m + 2 <= M; m += 2) {
    const a0 = aOff + m * aStride, a1 = a0 + aStride;
    const c0 = cOff + m * cStride, c1 = c0 + cStride;
    let j = 0;
    for (; j + 4 <= J; j += 4) {
      const p0 = A[a0 + j], p1 = A[a0 + j + 1], p2 = A[a0 + j + 2], p3 = A[a0 + j + 3];
      const q0 = A[a1 + j], q1 = A[a1 + j + 1], q2 = A[a1 + j + 2], q3 = A[a1 + j + 3];
      const w0 = bOff + j * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
      for (let k = 0; k < K; k++) {
        const u0 = B[w0 + k], u1 = B[w1 + k], u2 = B[w2 + k], u3 = B[w3 + k];
        C[c0 + k] += p0 * u0 + p1 * u1 + p2 * u2 + p3 * u3;
        C[c1 + k] += q0 * u0 + q1 * u1 + q2 * u2 + q3 * u3;
      }
    }
    for (; j < J; j++) {
      const p = A[a0 + j], q = A[a1 + j], w = bOff + j * K;
      for (let k = 0; k < K; k++) {
        C[c0 + k] += p * B[w + k];
        C[c1 + k] += q * B[w + k];
      }
    }
  }
  for (; m < M; m++) {
    const a = aOff + m * aStride, c = cOff + m * cStride;
    for (let j = 0; j < J; j++) {
      const p = A[a + j], w = bOff + j * K;
      for (let k = 0; k < K; k++) C[c + k] += p * B[w + k];
    }
  }
}

export class HandLstm<T extends FloatArray> {
  readonly paramCount: number;
  /** Where Wi, Wh, b, V and d start in the flat parameters. */
  private readonly oWi = 0;
  private readonly oWh: number;
  private readonly ob: number;
  private readonly oV: number;
  private readonly od: number;
  /** Activated gates i, f, g, o of every step: [T, B, 4H]. */
  private readonly gates: T;
  /** c_t and h_t for t = 0 … T: [T + 1, B, H] (t = 0 the zero state). */
  private readonly cs: T;
  private readonly hs: T;
  /** tanh(c_t), t = 1 … T: [T, B, H]. */
  private readonly tcs: T;
  private readonly yh: T;
  private readonly dY: T;
  private readonly dh: T;
  private readonly dc: T;
  private readonly dz: T;
  private readonly grad: T;

  constructor(
    readonly shape: LstmShape,
    make: (n: number) => T,
  ) {
    const { steps: T, features: F, units: H, outputs: O, batch: B } = shape;
    const G = 4 * H;
    this.oWh = G * F;
    this.ob = this.oWh + G * H;
    this.oV = this.ob + G;
    this.od = this.oV + O * H;
    this.paramCount = this.od + O;
    this.gates = make(T * B * G);
    this.cs = make((T + 1) * B * H);
    this.hs = make((T + 1) * B * H);
    this.tcs = make(T * B * H);
    this.yh = make(B * O);
    this.dY = make(B * O);
    this.dh = make(B * H);
    this.dc = make(B * H);
    this.dz = make(B * G);
    this.grad = make(this.paramCount);
  }

  /** The forward pass of the batch, every intermediate kept; leaves the output in yh. */
  private run(p: T, x: T): void {
    const { steps: T, features: F, units: H, outputs: O, batch: B } = this.shape;
    const G = 4 * H;
    const { gates, cs, hs, tcs, ob } = this;
    for (let t = 0; t < T; t++) {
      const z = t * B * G;
      for (let s = 0; s < B; s++) for (let j = 0; j < G; j++) gates[z + s * G + j] = p[ob + j];
      productNT(x, t * F, T * F, B, p, this.oWi, G, F, gates, z, G);
      if (t > 0) productNT(hs, t * B * H, H, B, p, this.oWh, G, H, gates, z, G);
      const prev = t * B * H, next = prev + B * H;
      for (let s = 0; s < B; s++) {
        const zs = z + s * G;
        for (let j = 0; j < H; j++) {
          const i = 1 / (1 + Math.exp(-gates[zs + j]));
          const f = 1 / (1 + Math.exp(-gates[zs + H + j]));
          const g = Math.tanh(gates[zs + 2 * H + j]);
          const o = 1 / (1 + Math.exp(-gates[zs + 3 * H + j]));
          gates[zs + j] = i;
          gates[zs + H + j] = f;
          gates[zs + 2 * H + j] = g;
          gates[zs + 3 * H + j] = o;
          const u = s * H + j;
          const c = f * cs[prev + u] + i * g;
          const tc = Math.tanh(c);
          cs[next + u] = c;
          tcs[prev + u] = tc;
          hs[next + u] = o * tc;
        }
      }
    }
    const yh = this.yh;
    for (let s = 0; s < B; s++) for (let k = 0; k < O; k++) yh[s * O + k] = p[this.od + k];
    productNT(hs, T * B * H, H, B, p, this.oV, O, H, yh, 0, O);
  }

  /** J = mean over the batch of ½ Σ (yh − y)²; with `delta`, dY = (yh − y) / B. */
  private objective(y: T, delta: boolean): number {
    const { outputs: O, batch: B } = this.shape;
    let sum = 0;
    for (let k = 0; k < B * O; k++) {
      const r = this.yh[k] - y[k];
      sum += r * r;
      if (delta) this.dY[k] = r / B;
    }
    return (0.5 * sum) / B;
  }

  forward(p: T, x: T, out: T): void {
    this.run(p, x);
    out.set(this.yh);
  }

  loss(p: T, x: T, y: T): number {
    this.run(p, x);
    return this.objective(y, false);
  }

  /** Overwrites g with dJ/dp; returns J. */
  gradient(p: T, x: T, y: T, g: T): number {
    const { steps: T, features: F, units: H, outputs: O, batch: B } = this.shape;
    const G = 4 * H;
    this.run(p, x);
    const J = this.objective(y, true);
    const { gates, cs, hs, tcs, dY, dh, dc, dz } = this;
    g.fill(0);
    // read-out: dV = dYᵀ·h_T, dd = Σ dY, dh_T = dY·V
    productTN(dY, 0, O, B, O, hs, T * B * H, H, H, g, this.oV);
    for (let s = 0; s < B; s++) for (let k = 0; k < O; k++) g[this.od + k] += dY[s * O + k];
    dh.fill(0);
    productNN(dY, 0, O, B, O, p, this.oV, H, dh, 0, H);
    dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const z = t * B * G, prev = t * B * H;
      for (let s = 0; s < B; s++) {
        const zs = z + s * G, ds = s * G;
        for (let j = 0; j < H; j++) {
          const u = s * H + j;
          const i = gates[zs + j], f = gates[zs + H + j], gg = gates[zs + 2 * H + j], o = gates[zs + 3 * H + j];
          const tc = tcs[prev + u], dhv = dh[u];
          const dcv = dc[u] + dhv * o * (1 - tc * tc);
          dz[ds + j] = dcv * gg * i * (1 - i);
          dz[ds + H + j] = dcv * cs[prev + u] * f * (1 - f);
          dz[ds + 2 * H + j] = dcv * i * (1 - gg * gg);
          dz[ds + 3 * H + j] = dhv * tc * o * (1 - o);
          dc[u] = dcv * f;
        }
      }
      for (let s = 0; s < B; s++) for (let j = 0; j < G; j++) g[this.ob + j] += dz[s * G + j];
      productTN(dz, 0, G, B, G, x, t * F, T * F, F, g, this.oWi);
      if (t > 0) {
        productTN(dz, 0, G, B, G, hs, prev, H, H, g, this.oWh);
        dh.fill(0);
        productNN(dz, 0, G, B, G, p, this.oWh, H, dh, 0, H);
      }
    }
    return J;
  }

  /** p −= lr · dJ/dp; returns J before the step. */
  step(p: T, x: T, y: T, lr: number): number {
    const J = this.gradient(p, x, y, this.grad);
    const g = this.grad;
    for (let k = 0; k < p.length; k++) p[k] -= lr * g[k];
    return J;
  }
}

/** The hand-written peer on its own copy of the flat parameters. */
export function lstmHandRun(shape: LstmShape, params: Float32Array, data: LstmBatch): PeerRun {
  const net = new HandLstm<Float32Array>(shape, (n) => new Float32Array(n));
  const p = Float32Array.from(params);
  const { x, y } = data;
  const out = new Float32Array(shape.batch * shape.outputs);
  const sink = new Float64Array(1);
  return {
    id: "hand",
    activate: async () => {},
    loss: () => net.loss(p, x, y),
    step: syncCall(() => {
      sink[0] += net.step(p, x, y, LSTM_LR);
    }),
    forward: syncCall(() => net.forward(p, x, out)),
    output: async () => {
      net.forward(p, x, out);
      return Float32Array.from(out);
    },
    dispose: () => {},
  };
}
