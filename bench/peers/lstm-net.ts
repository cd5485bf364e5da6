/**
 * The LSTM benchmark's network, shared by its peers (bench/lstm.ts): the shape, one set of weights and one batch.
 *
 *   z_t = Wi x_t + Wh h_{t−1} + b    (4H rows in PyTorch's gate order i, f, g, o)
 *   i, f, g, o = σ(z_i), σ(z_f), tanh(z_g), σ(z_o);  c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)
 *   yh = V h_T + d;  J = mean over the batch of ½ Σ (yh − y)²   (bpgen's "mse")
 *
 * h_0 = c_0 = 0. A sample's input is [T, F] row-major, so a batch is [B, T, F]. The weights are kept in bpgen's and
 * PyTorch's layout (Wi [4H, F], Wh [4H, H], V [O, H]); each peer converts them to its own once, untimed. The one
 * bias b stands for PyTorch's b_ih + b_hh.
 */

export interface LstmShape {
  /** Time steps T. */
  readonly steps: number;
  /** Features per step F. */
  readonly features: number;
  /** Hidden units H. */
  readonly units: number;
  /** Outputs of the read-out O. */
  readonly outputs: number;
  readonly batch: number;
}

export interface LstmWeights {
  /** [4H, F] */
  readonly Wi: Float32Array;
  /** [4H, H] */
  readonly Wh: Float32Array;
  /** [4H] */
  readonly b: Float32Array;
  /** [O, H] */
  readonly V: Float32Array;
  /** [O] */
  readonly d: Float32Array;
}

export interface LstmBatch {
  /** [B, T, F] */
  readonly x: Float32Array;
  /** [B, O] */
  readonly y: Float32Array;
}

/** The names and order of the weights in the flat parameter vector of the unrolled net and of the hand-written peer. */
export const WEIGHT_NAMES = ["Wi", "Wh", "b", "V", "d"] as const;
export type WeightName = (typeof WEIGHT_NAMES)[number];

export const LSTM_LR = 0.01;

/** A seeded generator of uniform values in [−1, 1) (a 32-bit LCG; the same stream on every run). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const filled = (n: number, scale: number, next: () => number): Float32Array => Float32Array.from({ length: n }, () => scale * next());

/** PyTorch's initialisation (uniform ±1/√H for every LSTM weight and bias; the read-out the same), from a fixed seed. */
export function lstmWeights(s: LstmShape, seed = 1): LstmWeights {
  const next = uniform(seed);
  const k = 1 / Math.sqrt(s.units);
  const G = 4 * s.units;
  return {
    Wi: filled(G * s.features, k, next),
    Wh: filled(G * s.units, k, next),
    b: filled(G, k, next),
    V: filled(s.outputs * s.units, k, next),
    d: filled(s.outputs, k, next),
  };
}

/** Inputs uniform in ±1, targets uniform in ±0.5, from a fixed seed. */
export function lstmBatch(s: LstmShape, seed = 2): LstmBatch {
  const next = uniform(seed);
  return { x: filled(s.batch * s.steps * s.features, 1, next), y: filled(s.batch * s.outputs, 0.5, next) };
}

/** The weights one after another in WEIGHT_NAMES order. */
export function flatWeights(w: LstmWeights): Float32Array {
  const out = new Float32Array(WEIGHT_NAMES.reduce((n, k) => n + w[k].length, 0));
  let at = 0;
  for (const k of WEIGHT_NAMES) {
    out.set(w[k], at);
    at += w[k].length;
  }
  return out;
}

/** A [rows, cols] row-major matrix transposed to [cols, rows]. */
export function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/** Floating-point operations of one forward pass of the batch (multiply-adds count 2; the gates' nonlinearities not counted). */
export function lstmForwardFlops(s: LstmShape): number {
  return s.batch * (s.steps * 2 * 4 * s.units * (s.features + s.units) + 2 * s.outputs * s.units);
}
