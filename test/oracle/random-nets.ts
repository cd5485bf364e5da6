/**
 * Seeded generators of random valid networks (both net.json forms), parameters and data, for the oracle tests.
 * Deterministic: the same seed gives the same spec, parameters and data on every platform. The layer form's
 * other layer types are drawn in stacks by random-layer-stacks.ts.
 */
import { type EquationNetSpec, type LayerLoss, type LayerNetSpec, type NetSpec } from "../../src/spec/types.ts";
import { isLayerSpec } from "../../src/spec/types.ts";
import { ORACLE_ACTIVATIONS, equationLayout, equationOutputSize } from "./tf-equations.ts";
import { layerLayout } from "./tf-layers.ts";

// ---- PRNG --------------------------------------------------------------------------------------------

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  bool(p?: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Standard normal. */
  normal(): number;
}

/** mulberry32, with Box–Muller normals. */
export function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    bool: (p = 0.5) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
  return rng;
}

// ---- sizes -------------------------------------------------------------------------------------------

export interface NetSizes {
  inputSize: number;
  targetSize: number;
  outputSize: number;
  paramCount: number;
  /** Parameter names, shapes and offsets in the flat layout. */
  params: { name: string; shape: number[]; offset: number; size: number }[];
}

/** Per-sample input and target sizes (no TF.js needed). */
export function ioSizes(spec: NetSpec): { inputSize: number; targetSize: number; paramCount: number } {
  const l = isLayerSpec(spec) ? layerLayout(spec) : equationLayout(spec);
  return { inputSize: l.inputSize, targetSize: l.targetSize, paramCount: l.paramCount };
}

/** All sizes; the output size of an equation net is found by evaluating its shapes with TF.js. */
export function netSizes(spec: NetSpec): NetSizes {
  if (isLayerSpec(spec)) {
    const l = layerLayout(spec);
    return { inputSize: l.inputSize, targetSize: l.targetSize, outputSize: l.outputSize, paramCount: l.paramCount, params: l.params };
  }
  const e = equationLayout(spec);
  return {
    inputSize: e.inputSize,
    targetSize: e.targetSize,
    outputSize: equationOutputSize(spec),
    paramCount: e.paramCount,
    params: e.params,
  };
}

// ---- layer form --------------------------------------------------------------------------------------

/** Custom activations (mathjs expressions in x) that stay well-behaved when stacked. */
export const CUSTOM_ACTIVATIONS = [
  "x / (1 + abs(x))",
  "tanh(x) * 0.5 + x",
  "sqrt(1 + x^2) - 1",
  "x * sigmoid(x) - 0.1",
  "max(x, 0.2 * x)",
  "exp(-x^2) + 0.1 * x",
  "log(1 + exp(x))",
] as const;

function randomActivation(rng: Rng): string {
  return rng.bool(0.15) ? rng.pick(CUSTOM_ACTIVATIONS) : rng.pick(ORACLE_ACTIVATIONS);
}

/** Size ranges of random layer nets; wide ones make bpgen use its batched dense kernels. */
export interface LayerNetSizes {
  input: [number, number];
  units: [number, number];
}
export const NARROW: LayerNetSizes = { input: [1, 10], units: [1, 12] };
export const WIDE: LayerNetSizes = { input: [20, 60], units: [24, 64] };

export function randomLayerNet(rng: Rng, name = "random_layer_net", sizes: LayerNetSizes = NARROW): LayerNetSpec {
  const depth = rng.int(1, 4);
  const loss: LayerLoss = rng.pick(["mse", "binary_cross_entropy", "softmax_cross_entropy"] as const);
  const inputSize = rng.int(...sizes.input);
  let input: number | number[] = inputSize;
  if (inputSize >= 4 && rng.bool(0.15)) {
    const d = [2, 3, 5].find((k) => inputSize % k === 0);
    if (d) input = [d, inputSize / d];
  }
  const layers: LayerNetSpec["layers"] = [];
  for (let i = 0; i < depth; i++) {
    const isLast = i === depth - 1;
    let units = rng.int(...sizes.units);
    let activation = randomActivation(rng);
    if (isLast && loss === "softmax_cross_entropy") {
      units = Math.max(units, 2);
      activation = rng.bool(0.7) ? "linear" : rng.pick(["tanh", "elu", "softsign", "x / (1 + abs(x))"]);
    }
    if (isLast && loss === "binary_cross_entropy") activation = "sigmoid";
    if (isLast && loss === "mse" && rng.bool(0.5)) activation = "linear";
    const layer: LayerNetSpec["layers"][number] = { type: "dense", units };
    if (activation !== "linear" || rng.bool(0.5)) layer.activation = activation;
    if (rng.bool(0.2)) layer.bias = false;
    else if (rng.bool(0.2)) layer.bias = true;
    layers.push(layer);
  }
  const spec: LayerNetSpec = { name, input, layers, loss };
  if (rng.bool(0.5)) spec.l2 = rng.pick([0.001, 0.01, 0.05]);
  return spec;
}

// ---- equation form -----------------------------------------------------------------------------------

/** User functions (scalar elementwise, body in x). */
const USER_FUNCTIONS: Record<string, string> = {
  soft_sign: "x / (1 + abs(x))",
  bumpy: "tanh(x) * 0.5 + x",
  smooth_abs: "sqrt(x^2 + 1) - 1",
  mish: "x * tanh(softplus(x))",
  sq_sat: "x^2 / (1 + x^2)",
};

const EQ_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softsign", "gelu", "swish"] as const;

/** Picks an activation; may register a user function in `functions`. */
function eqActivation(rng: Rng, functions: Record<string, string>): string {
  if (rng.bool(0.25)) {
    const name = rng.pick(Object.keys(USER_FUNCTIONS));
    functions[name] = USER_FUNCTIONS[name];
    return name;
  }
  return rng.pick(EQ_ACTIVATIONS);
}

function finish(
  name: string,
  parts: Omit<EquationNetSpec, "name" | "functions">,
  functions: Record<string, string>,
): EquationNetSpec {
  const spec: EquationNetSpec = { name, ...parts };
  if (Object.keys(functions).length > 0) spec.functions = functions;
  return spec;
}

type Template = (rng: Rng, name: string) => EquationNetSpec;

/** Scalar chain like chain3: y1 = w1 * x, y2 = f(w2 * y1 + c), …; loss on the last one. */
const scalarChain: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const k = rng.int(2, 5);
  const params: EquationNetSpec["params"] = {};
  const equations: string[] = [];
  let prev = "x";
  for (let i = 1; i <= k; i++) {
    params[`w${i}`] = { shape: [] };
    const lin = `w${i} * ${prev}`;
    const form = rng.int(0, 4);
    if (form === 0 || i === 1) equations.push(`y${i} = ${lin}`);
    else if (form === 1) equations.push(`y${i} = ${eqActivation(rng, functions)}(${lin})`);
    else if (form === 2) {
      params[`c${i}`] = { shape: [] };
      equations.push(`y${i} = ${lin} + c${i}`);
    } else if (form === 3) equations.push(`y${i} = (${lin})^2 / (1 + w${i}^2)`);
    else equations.push(`y${i} = ${prev} - ${lin} * pi / 4`);
    prev = `y${i}`;
  }
  const loss = rng.pick([`0.5 * (${prev} - t)^2`, `(${prev} - t)^2 / 2`, `0.5 * square(${prev} - t) + 0.1 * abs(${prev})`]);
  return finish(name, { params, inputs: { x: [] }, targets: { t: [] }, equations, output: prev, loss }, functions);
};

type LossKind = "mse" | "softmax" | "bce";
function vectorLoss(kind: LossKind, o: string, t: string, rng: Rng): string {
  if (kind === "softmax") return `logsumexp(${o}) - sum(${t} .* ${o})`;
  if (kind === "bce") return `sum(softplus(${o}) - ${t} .* ${o})`;
  return rng.pick([`0.5 * sum((${o} - ${t}).^2)`, `mean(square(${o} - ${t}))`, `0.5 * dot(${o} - ${t}, ${o} - ${t})`]);
}

/** A 1–2 layer MLP written as equations, with several losses and an optional regularizer. */
const mlp: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const kind: LossKind = rng.pick(["mse", "softmax", "bce"] as const);
  const n = rng.int(1, 6);
  const m = kind === "softmax" ? rng.int(2, 5) : rng.int(1, 5);
  const twoLayers = rng.bool(0.6);
  const params: EquationNetSpec["params"] = {};
  const equations: string[] = [];
  let oName = "o";
  if (twoLayers) {
    const h = rng.int(1, 8);
    params.W1 = { shape: [h, n] };
    const scalarBias = rng.bool(0.25);
    params.b1 = { shape: scalarBias ? [] : [h] };
    params.W2 = { shape: [m, h] };
    params.b2 = { shape: [m] };
    equations.push(`h = ${eqActivation(rng, functions)}(W1 * x + b1)`);
    equations.push(`o = W2 * h + b2`);
  } else {
    params.W1 = { shape: [m, n] };
    params.b1 = { shape: [m] };
    equations.push(`o = W1 * x + b1`);
  }
  const loss = vectorLoss(kind, "o", "t", rng);
  if (kind === "softmax" && rng.bool(0.6)) {
    equations.push("p = softmax(o)");
    oName = "p";
  } else if (kind === "bce" && rng.bool(0.6)) {
    equations.push("p = sigmoid(o)");
    oName = "p";
  }
  const spec = finish(name, { params, inputs: { x: [n] }, targets: { t: [m] }, equations, output: oName, loss }, functions);
  const reg = rng.int(0, 3);
  if (reg === 1) spec.regularizer = "0.001 * sum(W1 .* W1)";
  else if (reg === 2 && twoLayers) spec.regularizer = "0.0005 * (sum(W1 .* W1) + sum(W2 .* W2)) + 0.01 * dot(b2, b2)";
  return spec;
};

/** Transposed weights: V' * x, transpose(V) * x, and the row-vector product h * U. */
const transposed: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const n = rng.int(1, 6);
  const h = rng.int(1, 6);
  const m = rng.int(1, 4);
  const equations = [
    rng.bool() ? `h = ${eqActivation(rng, functions)}(V' * x + b)` : `h = ${eqActivation(rng, functions)}(transpose(V) * x + b)`,
  ];
  const params: EquationNetSpec["params"] = { V: { shape: [n, h] }, b: { shape: [h] } };
  if (rng.bool()) {
    params.U = { shape: [h, m] };
    equations.push("o = h * U");
  } else {
    params.U = { shape: [m, h] };
    equations.push("o = (U')' * h");
  }
  const loss = vectorLoss("mse", "o", "t", rng);
  const spec = finish(name, { params, inputs: { x: [n] }, targets: { t: [m] }, equations, output: "o", loss }, functions);
  if (rng.bool(0.3)) spec.regularizer = "0.001 * sum(V .* V)";
  return spec;
};

/** Elementwise products, quotients and max/min: a gated unit. */
const gated: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const n = rng.int(1, 6);
  const m = rng.int(1, 4);
  const params: EquationNetSpec["params"] = {
    Wg: { shape: [n, n] },
    bg: { shape: [n] },
    Wc: { shape: [n, n] },
    Wo: { shape: [m, n] },
  };
  const equations = ["g = sigmoid(Wg * x + bg)", `c = ${eqActivation(rng, functions)}(Wc * x)`];
  const mix = rng.int(0, 3);
  if (mix === 0) equations.push("h = g .* c + (1 - g) .* x");
  else if (mix === 1) equations.push("h = c ./ (1 + g .* g)");
  else if (mix === 2) equations.push("h = maximum(c, 0.1 * c) .* g");
  else equations.push("h = minimum(c, g) + x .^ 2 ./ 4");
  equations.push("o = Wo * h");
  const loss = vectorLoss(rng.pick(["mse", "bce"] as const), "o", "t", rng);
  return finish(name, { params, inputs: { x: [n] }, targets: { t: [m] }, equations, output: "o", loss }, functions);
};

/** An autoencoder: `targets: {}`, the loss uses only the input. */
const autoencoder: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const n = rng.int(2, 8);
  const k = rng.int(1, n);
  const tied = rng.bool(0.4);
  const params: EquationNetSpec["params"] = { We: { shape: [k, n] }, be: { shape: [k] } };
  if (!tied) params.Wd = { shape: [n, k] };
  params.bd = { shape: [n] };
  const equations = [`code = ${eqActivation(rng, functions)}(We * x + be)`, tied ? "rec = We' * code + bd" : "rec = Wd * code + bd"];
  const loss = rng.pick(["0.5 * sum((rec - x).^2)", "mean((rec - x) .* (rec - x))"]);
  const spec = finish(name, { params, inputs: { x: [n] }, targets: {}, equations, output: "rec", loss }, functions);
  if (rng.bool(0.4)) spec.regularizer = "0.001 * sum(We .* We)";
  return spec;
};

/** A matrix input: matrix·matrix, matrix·vector and Gram products. */
const matrixInput: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const r = rng.int(1, 4);
  const n = rng.int(1, 4);
  const k = rng.int(1, 4);
  const params: EquationNetSpec["params"] = { W: { shape: [n, k] }, v: { shape: [k] }, c: { shape: [] } };
  const equations = [`H = ${eqActivation(rng, functions)}(X * W)`, "o = H * v + c"];
  let loss = "0.5 * sum((o - t).^2)";
  if (rng.bool(0.5)) {
    equations.push(`G = H' * H / ${r}`);
    loss += " + 0.01 * sum(G)";
  }
  if (rng.bool(0.3)) loss += " + 0.05 * mean(H .* H)";
  return finish(name, { params, inputs: { X: [r, n] }, targets: { t: [r] }, equations, output: rng.bool(0.7) ? "o" : "H", loss }, functions);
};

/** Several inputs and targets (concatenated in declaration order), vector·vector dot via `*`, scalars. */
const multiIO: Template = (rng, name) => {
  const functions: Record<string, string> = {};
  const n = rng.int(1, 5);
  const m = rng.int(1, 4);
  const params: EquationNetSpec["params"] = { W: { shape: [m, n] }, w: { shape: [] }, u: { shape: [m] } };
  const equations = [`o = ${eqActivation(rng, functions)}(W * a + w * s) * pi / 4`, "q = u * o", "r = (q + w)^2 / 2"];
  const loss = "0.5 * sum((o - t).^2) + 0.5 * (r - z)^2";
  return finish(
    name,
    { params, inputs: { a: [n], s: [] }, targets: { t: [m], z: [] }, equations, output: rng.bool() ? "o" : "r", loss },
    functions,
  );
};

// ---- parameter sharing: one parameter read 2, 3 or 4 times per sample ---------------------------------

/** Width of the shared-parameter templates: wide ones put the shared weights on the batched dense kernels. */
export interface SharedSizes {
  width: [number, number];
}
export const SHARED_NARROW: SharedSizes = { width: [1, 6] };
/** 23² > 512 weights: the dense kernels take over. */
export const SHARED_WIDE: SharedSizes = { width: [23, 34] };

type SharedTemplate = (rng: Rng, name: string, sizes: SharedSizes) => EquationNetSpec;

/** Tied weights: the same square W in two (or three) layers, directly or through a transpose, the bias too. */
const tiedLayers: SharedTemplate = (rng, name, sizes) => {
  const functions: Record<string, string> = {};
  const n = rng.int(...sizes.width);
  const uses = rng.int(2, 4);
  const params: EquationNetSpec["params"] = { W: { shape: [n, n] }, b: { shape: [n] } };
  const equations: string[] = [];
  let prev = "x";
  for (let i = 1; i < uses; i++) {
    const weight = rng.bool(0.3) ? "W'" : "W";
    equations.push(`h${i} = ${eqActivation(rng, functions)}(${weight} * ${prev} + b)`);
    prev = `h${i}`;
  }
  equations.push(`o = ${rng.bool(0.3) ? "W'" : "W"} * ${prev}${rng.bool(0.7) ? " + b" : ""}`);
  const loss = vectorLoss(rng.pick(["mse", "softmax"] as const), "o", "t", rng);
  const spec = finish(name, { params, inputs: { x: [n] }, targets: { t: [n] }, equations, output: "o", loss }, functions);
  if (rng.bool(0.3)) spec.regularizer = "0.001 * sum(W .* W)";
  return spec;
};

/** An RNN step unrolled over 2–4 inputs: shared Wx, Wh and b, read once per step. */
const unrolledRecurrence: SharedTemplate = (rng, name, sizes) => {
  const functions: Record<string, string> = {};
  const n = rng.int(...sizes.width);
  const h = rng.int(...sizes.width);
  const m = rng.int(1, 4);
  const steps = rng.int(2, 4);
  const act = eqActivation(rng, functions);
  const params: EquationNetSpec["params"] = { Wx: { shape: [h, n] }, Wh: { shape: [h, h] }, b: { shape: [h] }, Wo: { shape: [m, h] } };
  const inputs: EquationNetSpec["inputs"] = {};
  const equations: string[] = [];
  for (let k = 1; k <= steps; k++) {
    inputs[`x${k}`] = [n];
    equations.push(k === 1 ? `h1 = ${act}(Wx * x1 + b)` : `h${k} = ${act}(Wx * x${k} + Wh * h${k - 1} + b)`);
  }
  equations.push(`o = Wo * h${steps}`);
  const loss = vectorLoss(rng.pick(["mse", "bce"] as const), "o", "t", rng);
  return finish(name, { params, inputs, targets: { t: [m] }, equations, output: "o", loss }, functions);
};

/** One bias vector (and one scalar gain) shared by every layer of a stack of distinct weights. */
const sharedBias: SharedTemplate = (rng, name, sizes) => {
  const functions: Record<string, string> = {};
  const n = rng.int(...sizes.width);
  const layers = rng.int(2, 4);
  const params: EquationNetSpec["params"] = { b: { shape: [n] }, g: { shape: [] } };
  const equations: string[] = [];
  let prev = "x";
  for (let i = 1; i <= layers; i++) {
    params[`W${i}`] = { shape: [n, n] };
    const last = i === layers;
    const pre = `g * (W${i} * ${prev}) + b`;
    equations.push(last ? `o = ${pre}` : `h${i} = ${eqActivation(rng, functions)}(${pre})`);
    prev = `h${i}`;
  }
  const loss = vectorLoss("mse", "o", "t", rng);
  return finish(name, { params, inputs: { x: [n] }, targets: { t: [n] }, equations, output: "o", loss }, functions);
};

export const SHARED_TEMPLATES = { tiedLayers, unrolledRecurrence, sharedBias } as const;

/** A network that reads one parameter several times per sample. */
export function randomSharedNet(rng: Rng, name = "random_shared_net", sizes: SharedSizes = SHARED_NARROW): EquationNetSpec {
  return rng.pick(Object.values(SHARED_TEMPLATES))(rng, name, sizes);
}

const narrowShared = (template: SharedTemplate): Template => (rng, name) => template(rng, name, SHARED_NARROW);

export const EQUATION_TEMPLATES = {
  scalarChain,
  mlp,
  transposed,
  gated,
  autoencoder,
  matrixInput,
  multiIO,
  tiedLayers: narrowShared(tiedLayers),
  unrolledRecurrence: narrowShared(unrolledRecurrence),
  sharedBias: narrowShared(sharedBias),
} as const;

export function randomEquationNet(rng: Rng, name = "random_equation_net"): EquationNetSpec {
  const template = rng.pick(Object.values(EQUATION_TEMPLATES));
  return template(rng, name);
}

// ---- convolutional nets ------------------------------------------------------------------------------

/** The activations of the convolutional nets: smooth, or kinked only where a max-pool tie cannot matter. */
const CONV_ACTIVATIONS = ["softsign", "relu", "tanh", "sigmoid", "softplus", "elu", "swish"] as const;

/** Output size along one dimension of a window op, as TF.js computes it. */
function windowed(size: number, window: number, stride: number, padding: "valid" | "same"): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

/**
 * A small image classifier: conv2d (random filter size, stride and padding) + per-channel bias, an activation,
 * optionally max or average pooling, flattened by reshape into a dense layer (a batched kernel when it is wide).
 * The image is [h, w, channels].
 */
export function randomConvNet(rng: Rng, name = "random_conv_net"): EquationNetSpec {
  // a wide net's dense layer is a batched kernel (512 weights or more)
  const wide = rng.bool(0.5);
  const [h, w, channels] = [rng.int(3, 9), rng.int(3, 9), rng.int(1, 3)];
  const [kh, kw, filters] = [rng.int(1, 3), rng.int(1, 3), wide ? rng.int(6, 10) : rng.int(1, 4)];
  const stride = rng.int(1, 2);
  const padding = rng.pick(["valid", "same"] as const);
  let shape = [windowed(h, kh, stride, padding), windowed(w, kw, stride, padding), filters];
  const equations = [`a = ${rng.pick(CONV_ACTIVATIONS)}(conv2d(img, K, ${stride}, "${padding}") + c)`];
  let last = "a";
  if (shape[0] >= 2 && shape[1] >= 2 && rng.bool(0.7)) {
    const kind = rng.pick(["max", "avg"] as const);
    const poolStride = rng.int(1, 2);
    // average pooling only without padding: TF.js divides by the cells inside the image, bpgen (as PyTorch) by the window
    const poolPadding = kind === "max" ? rng.pick(["valid", "same"] as const) : "valid";
    equations.push(`p = ${kind}_pool2d(a, 2, ${poolStride}, "${poolPadding}")`);
    shape = [windowed(shape[0], 2, poolStride, poolPadding), windowed(shape[1], 2, poolStride, poolPadding), filters];
    last = "p";
  }
  const features = shape[0] * shape[1] * shape[2];
  const classes = wide ? rng.int(10, 16) : rng.int(1, 3);
  equations.push(`f = reshape(${last}, [-1])`, "o = V * f + d");
  return finish(
    name,
    {
      params: { K: { shape: [kh, kw, channels, filters] }, c: { shape: [filters] }, V: { shape: [classes, features] }, d: { shape: [classes] } },
      inputs: { img: [h, w, channels] },
      targets: { t: [classes] },
      equations,
      output: "o",
      loss: vectorLoss(rng.pick(["mse", "softmax"] as const), "o", "t", rng),
    },
    {},
  );
}

// ---- parameters and data -----------------------------------------------------------------------------

export function randomParams(paramCount: number, rng: Rng, std = 0.5): Float64Array {
  return Float64Array.from({ length: paramCount }, () => std * rng.normal());
}

type TargetKind = "normal" | "binary" | "probability";

function targetKind(spec: NetSpec): TargetKind {
  if (isLayerSpec(spec)) {
    if (spec.loss === "binary_cross_entropy") return "binary";
    if (spec.loss === "softmax_cross_entropy") return "probability";
    return "normal";
  }
  if (/logsumexp/.test(spec.loss)) return "probability";
  if (/softplus\(/.test(spec.loss)) return "binary";
  return "normal";
}

/** Fills one probability row: one-hot half of the time, otherwise a random distribution. */
function probabilityRow(out: Float64Array, start: number, size: number, rng: Rng): void {
  if (rng.bool()) {
    const hot = rng.int(0, size - 1);
    for (let i = 0; i < size; i++) out[start + i] = i === hot ? 1 : 0;
    return;
  }
  let total = 0;
  for (let i = 0; i < size; i++) total += out[start + i] = Math.exp(rng.normal());
  for (let i = 0; i < size; i++) out[start + i] /= total;
}

/** Inputs (standard normal) and targets suited to the loss, `[batch, size]` row-major. */
export function randomData(spec: NetSpec, batch: number, rng: Rng): { x: Float64Array; y: Float64Array } {
  const sizes = ioSizes(spec);
  const x = Float64Array.from({ length: batch * sizes.inputSize }, () => rng.normal());
  const y = new Float64Array(batch * sizes.targetSize);
  const kind = targetKind(spec);
  // Target variables of an equation net (each is one probability row under a softmax loss).
  const pieces = isLayerSpec(spec)
    ? [{ offset: 0, size: sizes.targetSize }]
    : equationLayout(spec).targets.map((s) => ({ offset: s.offset, size: s.size }));
  for (let b = 0; b < batch; b++) {
    for (const piece of pieces) {
      const start = b * sizes.targetSize + piece.offset;
      if (kind === "probability") probabilityRow(y, start, piece.size, rng);
      else for (let i = 0; i < piece.size; i++) y[start + i] = kind === "binary" ? (rng.bool() ? 1 : 0) : rng.normal();
    }
  }
  return { x, y };
}

/** Rounds every value to the nearest float32, so that f32 and f64 modules and the oracle see the same numbers. */
export function toF32Values(a: Float64Array): Float64Array {
  return a.map((v) => Math.fround(v));
}
