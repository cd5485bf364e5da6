/**
 * The CNN benchmark's network, shared by its peers (bench/cnn.ts): examples/mnist_cnn.json at any square input size.
 *
 *   a1 = relu(conv2d(img, K1) + c1)      img [H, W, 1], K1 [3, 3, 1, 8]     valid padding, stride 1
 *   p1 = max_pool2d(a1, 2)               windows 2×2, stride 2, valid (an odd last row or column is dropped)
 *   a2 = relu(conv2d(p1, K2) + c2)       K2 [3, 3, 8, 16]
 *   p2 = max_pool2d(a2, 2)
 *   z  = V · reshape(p2, [−1]) + d       V [10, P], P = the cells of p2 (height, width, channel; row-major)
 *   J  = mean over the batch of logsumexp(z) − y·z   (softmax cross-entropy on one-hot targets)
 *
 * The weights are kept in bpgen's layout (filters [kh, kw, in, out] as TF.js's, V [10, P] with P in HWC order);
 * each peer converts them to its own once, untimed. A batch is [B, H, W, 1] images and [B, 10] one-hot targets.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EquationNetSpec } from "../../src/spec/types.ts";
import { ROOT } from "../nets.ts";
import { uniform } from "./lstm-net.ts";

export interface CnnShape {
  /** Input height and width (28 for the digits). */
  readonly size: number;
  readonly batch: number;
}

/** The layer sizes of examples/mnist_cnn.json. */
export const CHANNELS = 1;
export const KERNEL = 3;
export const FILTERS1 = 8;
export const FILTERS2 = 16;
export const POOL = 2;
export const CLASSES = 10;

export const CNN_LR = 0.01;

export interface CnnWeights {
  /** [3, 3, 1, 8] */
  readonly K1: Float32Array;
  /** [8] */
  readonly c1: Float32Array;
  /** [3, 3, 8, 16] */
  readonly K2: Float32Array;
  /** [16] */
  readonly c2: Float32Array;
  /** [10, P], P in p2's (height, width, channel) order */
  readonly V: Float32Array;
  /** [10] */
  readonly d: Float32Array;
}

export interface CnnBatch {
  /** [B, H, W, 1], values in [0, 1) like pixels */
  readonly x: Float32Array;
  /** [B, 10], one-hot */
  readonly y: Float32Array;
}

export const WEIGHT_NAMES = ["K1", "c1", "K2", "c2", "V", "d"] as const;

/** The spatial sizes through the net: conv (valid, 3×3) and pool (2×2, stride 2, valid) each shrink the side. */
export interface CnnSides {
  readonly conv1: number;
  readonly pool1: number;
  readonly conv2: number;
  readonly pool2: number;
  /** Cells of p2, the read-out's fan-in P. */
  readonly flat: number;
}

export function sides(s: CnnShape): CnnSides {
  const conv = (n: number) => n - KERNEL + 1;
  const pool = (n: number) => Math.floor((n - POOL) / POOL) + 1;
  const conv1 = conv(s.size);
  const pool1 = pool(conv1);
  const conv2 = conv(pool1);
  const pool2 = pool(conv2);
  if (pool2 < 1) throw new Error(`CNN: an input of ${s.size}×${s.size} is too small for two 3×3 convolutions and two 2×2 poolings`);
  return { conv1, pool1, conv2, pool2, flat: pool2 * pool2 * FILTERS2 };
}

/**
 * bpgen's net: examples/mnist_cnn.json with the input size (and the read-out's fan-in) set, and the optimizer set
 * to plain SGD at the benchmark's rate (sgdStep does not read it; the module's optimizerDefaults then say what is timed).
 */
export function cnnSpec(s: CnnShape): EquationNetSpec {
  const example = JSON.parse(readFileSync(join(ROOT, "examples", "mnist_cnn.json"), "utf8")) as EquationNetSpec & { $schema?: string };
  const { $schema: _schema, ...spec } = example;
  const flat = sides(s).flat;
  return {
    ...spec,
    name: s.size === 28 ? spec.name : `${spec.name}_${s.size}`,
    params: { ...spec.params, V: { ...spec.params.V, shape: [CLASSES, flat] } },
    inputs: { img: [s.size, s.size, CHANNELS] },
    optimizer: { type: "sgd", lr: CNN_LR },
  };
}

/** A layer of the net compiled on its own, to time it alone (bpgen's module has no per-layer timing). */
export interface LayerNet {
  readonly layer: "conv1" | "conv2";
  readonly spec: EquationNetSpec;
  /** Numbers per sample of its input and target. */
  readonly inputSize: number;
  readonly targetSize: number;
}

/**
 * Each convolution layer as a net of its own: conv, bias, relu and the pooling after it, as in the whole net, and
 * the loss Σ p·t, linear in the layer's output, so its gradient costs what the layer's backward pass costs and
 * little more. conv2's input gets a parameter added to it (e, zero), so that the gradient goes back through the
 * convolution to its input as it does in the whole net; conv1's input needs none there either.
 */
export function layerNets(s: CnnShape): LayerNet[] {
  const z = sides(s);
  const conv1: EquationNetSpec = {
    name: `mnist_cnn_conv1_${s.size}`,
    params: { K1: { shape: [KERNEL, KERNEL, CHANNELS, FILTERS1], init: "he" }, c1: { shape: [FILTERS1], init: 0 } },
    inputs: { img: [s.size, s.size, CHANNELS] },
    targets: { t: [z.pool1, z.pool1, FILTERS1] },
    equations: ["a1 = relu(conv2d(img, K1) + c1)", "p1 = max_pool2d(a1, 2)"],
    output: "p1",
    loss: "sum(p1 .* t)",
    optimizer: { type: "sgd", lr: CNN_LR },
  };
  const conv2: EquationNetSpec = {
    name: `mnist_cnn_conv2_${s.size}`,
    params: { e: { shape: [z.pool1, z.pool1, FILTERS1], init: 0 }, K2: { shape: [KERNEL, KERNEL, FILTERS1, FILTERS2], init: "he" }, c2: { shape: [FILTERS2], init: 0 } },
    inputs: { p1: [z.pool1, z.pool1, FILTERS1] },
    targets: { t: [z.pool2, z.pool2, FILTERS2] },
    equations: ["q = p1 + e", "a2 = relu(conv2d(q, K2) + c2)", "p2 = max_pool2d(a2, 2)"],
    output: "p2",
    loss: "sum(p2 .* t)",
    optimizer: { type: "sgd", lr: CNN_LR },
  };
  return [
    { layer: "conv1", spec: conv1, inputSize: s.size * s.size * CHANNELS, targetSize: z.pool1 * z.pool1 * FILTERS1 },
    { layer: "conv2", spec: conv2, inputSize: z.pool1 * z.pool1 * FILTERS1, targetSize: z.pool2 * z.pool2 * FILTERS2 },
  ];
}

const filled = (n: number, scale: number, next: () => number): Float32Array => Float32Array.from({ length: n }, () => scale * next());

/** He-uniform filters (±√(6 / fan-in)), the read-out ±1/√P, biases ±0.1 (not zero, so their handling is checked), from a fixed seed. */
export function cnnWeights(s: CnnShape, seed = 1): CnnWeights {
  const next = uniform(seed);
  const fan1 = KERNEL * KERNEL * CHANNELS;
  const fan2 = KERNEL * KERNEL * FILTERS1;
  const flat = sides(s).flat;
  return {
    K1: filled(fan1 * FILTERS1, Math.sqrt(6 / fan1), next),
    c1: filled(FILTERS1, 0.1, next),
    K2: filled(fan2 * FILTERS2, Math.sqrt(6 / fan2), next),
    c2: filled(FILTERS2, 0.1, next),
    V: filled(CLASSES * flat, 1 / Math.sqrt(flat), next),
    d: filled(CLASSES, 0.1, next),
  };
}

/** Pixels uniform in [0, 1), one class per sample, from a fixed seed. */
export function cnnBatch(s: CnnShape, seed = 2): CnnBatch {
  const next = uniform(seed);
  const x = Float32Array.from({ length: s.batch * s.size * s.size * CHANNELS }, () => (next() + 1) / 2);
  const y = new Float32Array(s.batch * CLASSES);
  for (let b = 0; b < s.batch; b++) y[b * CLASSES + Math.min(CLASSES - 1, Math.floor(((next() + 1) / 2) * CLASSES))] = 1;
  return { x, y };
}

// ---- layouts ------------------------------------------------------------------------------------------------

/** Filters [kh, kw, in, out] (bpgen's, TF.js's) → [out, in, kh, kw] (ONNX's, jax-js's OIHW). */
export function filtersOIHW(k: Float32Array, inC: number, outC: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < KERNEL; i++)
    for (let j = 0; j < KERNEL; j++)
      for (let c = 0; c < inC; c++) for (let o = 0; o < outC; o++) out[((o * inC + c) * KERNEL + i) * KERNEL + j] = k[((i * KERNEL + j) * inC + c) * outC + o];
  return out;
}

/** Images [B, H, W, C] → [B, C, H, W]. */
export function imagesNCHW(x: Float32Array, batch: number, side: number, channels: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < side; h++)
      for (let w = 0; w < side; w++) for (let c = 0; c < channels; c++) out[((b * channels + c) * side + h) * side + w] = x[((b * side + h) * side + w) * channels + c];
  return out;
}

/**
 * The read-out for an NCHW net, transposed: V [10, P] reads p2 flattened as (h, w, c); a net that keeps channels
 * first flattens it as (c, h, w). Returns [P, 10] with row c·S² + h·S + w holding V's column (h·S + w)·C + c.
 */
export function readoutCHW(V: Float32Array, s: CnnShape): Float32Array {
  const S = sides(s).pool2;
  const C = FILTERS2;
  const P = S * S * C;
  const out = new Float32Array(V.length);
  for (let k = 0; k < CLASSES; k++)
    for (let c = 0; c < C; c++) for (let h = 0; h < S; h++) for (let w = 0; w < S; w++) out[((c * S + h) * S + w) * CLASSES + k] = V[k * P + (h * S + w) * C + c];
  return out;
}

// ---- work -----------------------------------------------------------------------------------------------------

/** Floating-point operations per sample of one layer's products (multiply-adds count 2). */
export interface LayerFlops {
  readonly layer: "conv1" | "conv2" | "dense";
  /** Its forward product. */
  readonly forward: number;
  /** Its share of a training step: forward, the weight gradient (as many), and the gradient to its input (as many; none for conv1, whose input needs none). */
  readonly train: number;
}

/** The products' FLOPs per sample; bias adds, relu, pooling, the loss and the update are not counted. */
export function layerFlops(s: CnnShape): LayerFlops[] {
  const z = sides(s);
  const conv1 = 2 * z.conv1 * z.conv1 * FILTERS1 * KERNEL * KERNEL * CHANNELS;
  const conv2 = 2 * z.conv2 * z.conv2 * FILTERS2 * KERNEL * KERNEL * FILTERS1;
  const dense = 2 * CLASSES * z.flat;
  return [
    { layer: "conv1", forward: conv1, train: 2 * conv1 },
    { layer: "conv2", forward: conv2, train: 3 * conv2 },
    { layer: "dense", forward: dense, train: 3 * dense },
  ];
}

/** FLOPs of one call for the batch: a forward pass, or a training step. */
export function cnnFlops(s: CnnShape, mode: "forward" | "train"): number {
  return s.batch * layerFlops(s).reduce((n, l) => n + l[mode], 0);
}
