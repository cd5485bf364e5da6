/**
 * Independent oracle for recurrent layer stacks (`rnn`, `lstm`, `gru` in the layer form), computed with
 * TensorFlow.js (float32) and differentiated by TF.js autodiff, in bpgen's flat parameter layout.
 *
 * The layers follow PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU` (one layer, batch_first), channels last: a sample is
 * `[T, F]`, the initial state is zero, and a layer outputs every h_t (`[T, H]`) with `return_sequences`, otherwise
 * h_T (`[H]`). A `bidirectional` layer (PyTorch's bidirectional=True) runs a second cell, with parameters of its own
 * (named with PyTorch's `_reverse` suffix, after the forward ones), over the steps from T down to 1, and joins the
 * two along the features, forward first: at every step (`[T, 2H]`), or each direction's last state (`[2H]`, the
 * backward one's after reading x_1). TF.js runs it as Keras's Bidirectional wrapper does: the backward cell on the
 * input reversed along time, its sequence reversed back.
 *
 *   rnn:  h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh),  act tanh (the default) or relu
 *   lstm: (i, f, g, o) = (σ, σ, tanh, σ)(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), split in 4 blocks of H in that order
 *         c_t = f ⊙ c_{t−1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
 *   gru:  blocks r, z, n of W_ih x_t + b_ih (written a_r, a_z, a_n) and of W_hh h_{t−1} + b_hh (u_r, u_z, u_n)
 *         r = σ(a_r + u_r),  z = σ(a_z + u_z),  n = tanh(a_n + r ⊙ u_n),  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
 *
 * Parameters, per layer counted from 1 as docs/net-json.md names them, each row-major with PyTorch's shape (G the
 * number of gate blocks: 1 rnn, 4 lstm, 3 gru; `in` the layer's input width):
 *   W_ih<l> [G·H, in], W_hh<l> [G·H, H], b_ih<l> [G·H], b_hh<l> [G·H]  (PyTorch's weight_ih_l0, weight_hh_l0,
 *   bias_ih_l0, bias_hh_l0 as they are); a dense layer has W<l> [units, in] and b<l> [units] as in tf-layers.ts.
 *
 * Assumptions to align with bpgen when its layers land:
 * - `return_sequences` defaults to false (Keras's default; PyTorch always returns the sequence), an rnn's
 *   `activation` to tanh (PyTorch's `nonlinearity` default);
 * - a dense layer after a sequence output applies to every step (`[T, in]` → `[T, units]`, as PyTorch's `Linear`
 *   on the last axis, and Keras's `Dense` on a rank-3 input), after a vector output as usual; a recurrent layer
 *   needs a sequence input (the network's input, or a layer before it with `return_sequences`);
 * - losses, per sample, on the network's output of shape `[T, K]` (a sequence) or `[K]`, with a target of the same
 *   shape: `mse` is ½ Σ (a − y)² over every element (docs/net-json.md); `softmax_cross_entropy` is a softmax over
 *   the last axis, and the loss the sum over steps of each step's cross-entropy −Σ_k y_k log softmax(a)_k. Under
 *   `softmax_cross_entropy` the output is the probabilities (per step). J is the mean over the batch;
 * - `l2` (λ) adds λ/2 Σ ‖W‖² over the dense weights and the recurrent layers' W_ih and W_hh (not the biases).
 *
 * How the TF.js layers are set from those parameters (the Keras conventions, which TF.js follows). Keras keeps a
 * layer's input weights as `kernel [in, G·H]` and its recurrent weights as `recurrent_kernel [H, G·H]`: PyTorch's
 * matrices transposed, gate block by gate block:
 *   kernel[k, κ(g)·H + j] = W_ih[g·H + j, k],  recurrent_kernel[k, κ(g)·H + j] = W_hh[g·H + j, k]
 * where κ maps PyTorch's gate blocks to Keras's:
 * - rnn → `tf.layers.simpleRNN({ activation, returnSequences })`: one block, κ = identity; one bias
 *   `bias [H] = b_ih + b_hh`.
 * - lstm → `tf.layers.lstm({ recurrentActivation: "sigmoid", returnSequences })`: Keras's blocks are i, f, c, o,
 *   PyTorch's i, f, g, o, so κ = identity; one bias `bias [4H] = b_ih + b_hh`. TF.js's default
 *   `recurrentActivation` is `hardSigmoid`, not PyTorch's sigmoid: it must be given.
 * - gru: Keras's blocks are z, r, h and PyTorch's r, z, n, so κ = (r → 1, z → 0, n → 2). PyTorch applies the reset
 *   gate after the recurrent product (r ⊙ (W_hn h + b_hn)), which is Keras's `reset_after=True`, whose bias is
 *   `[2, 3H]`: row 0 the input bias (κ-permuted b_ih), row 1 the recurrent bias (κ-permuted b_hh), with
 *   h_t = z ⊙ h_{t−1} + (1 − z) ⊙ hh (Keras's z is PyTorch's z; hh is n). TF.js's `tf.layers.gru` does not
 *   implement `resetAfter: true` (it throws "GRUCell does not support reset_after parameter set to true"), and its
 *   reset-before cell (hh = tanh(x W_h + b_h + (r ⊙ h) U_h), one bias) is not PyTorch's (r scales h before the
 *   product, and b_hn has no place inside r); so the GRU here is Keras's GRUCell with `reset_after=True` written with TF.js ops (`kerasGru`),
 *   on the Keras weights above. Written with `resetAfter: false`, the same function is checked against
 *   `tf.layers.gru` in test/oracle-recurrent-self.test.ts, which checks the gate order of the kernels.
 * The weights of TF.js's layers are set by their Keras names (`kernel`, `recurrent_kernel`, `bias`: setWeights's
 * order). TF.js's gradient of an unstack into one tensor fails, and its RNN layers unstack their input along time,
 * so for T = 1 an rnn or lstm layer runs on its input with a step of zeros after it and keeps the first step.
 * Gradients: the Keras weights are a linear function of the PyTorch parameters, so the gradients go back by its
 * adjoint: transposed and un-permuted for the matrices, un-permuted for the biases, and for rnn and lstm the one
 * bias's gradient is both b_ih's and b_hh's.
 */
import * as tf from "@tensorflow/tfjs";
import { OracleError, scoped, type OracleResult, type Slot } from "./tf-equations.ts";
import { applyActivation } from "./tf-layers.ts";
import type { Rng } from "./random-nets.ts";

export type { OracleResult } from "./tf-equations.ts";

// ---- specs and layout --------------------------------------------------------------------------------

export interface RnnLayerSpec {
  type: "rnn";
  units: number;
  activation?: "tanh" | "relu";
  return_sequences?: boolean;
  bidirectional?: boolean;
}
export interface LstmLayerSpec {
  type: "lstm";
  units: number;
  return_sequences?: boolean;
  bidirectional?: boolean;
}
export interface GruLayerSpec {
  type: "gru";
  units: number;
  return_sequences?: boolean;
  bidirectional?: boolean;
}
export type RecurrentCellSpec = RnnLayerSpec | LstmLayerSpec | GruLayerSpec;
export type RecurrentKind = RecurrentCellSpec["type"];

export interface StepDenseSpec {
  type: "dense";
  units: number;
  activation?: string;
  bias?: boolean;
}
export type RecurrentStackLayer = RecurrentCellSpec | StepDenseSpec;

export interface RecurrentNetSpec {
  name?: string;
  /** `[T, F]`: T steps of F channels. */
  input: [number, number];
  layers: RecurrentStackLayer[];
  loss: "mse" | "softmax_cross_entropy";
  l2?: number;
}

/** Gate blocks per layer type. */
export const GATES: Record<RecurrentKind, number> = { rnn: 1, lstm: 4, gru: 3 };
/** κ: the Keras block of each PyTorch block (see the header). */
export const KERAS_BLOCK_OF_TORCH_BLOCK: Record<RecurrentKind, readonly number[]> = { rnn: [0], lstm: [0, 1, 2, 3], gru: [1, 0, 2] };

export interface CellLayout {
  kind: RecurrentKind;
  /** 1-based place in `layers`. */
  place: number;
  units: number;
  fanIn: number;
  activation: "tanh" | "relu" | "lstm" | "gru";
  returnSequences: boolean;
  W_ih: Slot;
  W_hh: Slot;
  b_ih: Slot;
  b_hh: Slot;
  /** A bidirectional layer's second direction: the same cell on the steps in reverse order, its own parameters. */
  backward?: CellLayout;
}
export interface DenseLayout {
  kind: "dense";
  place: number;
  units: number;
  fanIn: number;
  activation: string;
  W: Slot;
  b: Slot | null;
  /** Applied to every step of a sequence. */
  perStep: boolean;
}
export type StageLayout = CellLayout | DenseLayout;

export interface RecurrentLayout {
  params: Slot[];
  layers: StageLayout[];
  paramCount: number;
  steps: number;
  features: number;
  /** T·F. */
  inputSize: number;
  /** `[T, K]` for a sequence output, `[K]` otherwise. */
  outputShape: number[];
  outputSize: number;
  /** Targets have the output's shape. */
  targetSize: number;
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parameter names, shapes and offsets in the flat vector (see the header), and each layer's shapes. */
export function recurrentLayout(spec: RecurrentNetSpec): RecurrentLayout {
  const [steps, features] = spec.input;
  const params: Slot[] = [];
  let offset = 0;
  const slot = (name: string, shape: number[]): Slot => {
    const s: Slot = { name, shape, offset, size: product(shape) };
    offset += s.size;
    params.push(s);
    return s;
  };
  let sequence = true;
  let width = features;
  const layers = spec.layers.map((layer, i): StageLayout => {
    const place = i + 1;
    const fanIn = width;
    width = layer.type !== "dense" && layer.bidirectional ? 2 * layer.units : layer.units;
    if (layer.type === "dense") {
      const W = slot(`W${place}`, [layer.units, fanIn]);
      const b = (layer.bias ?? true) ? slot(`b${place}`, [layer.units]) : null;
      return { kind: "dense", place, units: layer.units, fanIn, activation: layer.activation ?? "linear", W, b, perStep: sequence };
    }
    if (!sequence) throw new OracleError(`layers[${i}]: a ${layer.type} layer needs a sequence input; the layer before it returns a vector`);
    const rows = GATES[layer.type] * layer.units;
    const returnSequences = layer.return_sequences ?? false;
    sequence = returnSequences;
    const activation = layer.type === "rnn" ? (layer.activation ?? "tanh") : layer.type;
    // the reverse direction's parameters follow the forward one's, named with PyTorch's suffix
    const cell = (suffix: string): CellLayout => ({
      kind: layer.type,
      place,
      units: layer.units,
      fanIn,
      activation,
      returnSequences,
      W_ih: slot(`W_ih${place}${suffix}`, [rows, fanIn]),
      W_hh: slot(`W_hh${place}${suffix}`, [rows, layer.units]),
      b_ih: slot(`b_ih${place}${suffix}`, [rows]),
      b_hh: slot(`b_hh${place}${suffix}`, [rows]),
    });
    const forward = cell("");
    return layer.bidirectional ? { ...forward, backward: cell("_reverse") } : forward;
  });
  const outputShape = sequence ? [steps, width] : [width];
  const outputSize = product(outputShape);
  return { params, layers, paramCount: offset, steps, features, inputSize: steps * features, outputShape, outputSize, targetSize: outputSize };
}

// ---- PyTorch ↔ Keras weights ---------------------------------------------------------------------------

/** PyTorch's `[G·H, n]` matrix as Keras's `[n, G·H]` (transposed, blocks moved by κ). */
export function torchMatrixToKeras(W: ArrayLike<number>, kind: RecurrentKind, units: number, n: number): Float32Array {
  const blocks = KERAS_BLOCK_OF_TORCH_BLOCK[kind];
  const cols = blocks.length * units;
  const K = new Float32Array(n * cols);
  blocks.forEach((kb, g) => {
    for (let j = 0; j < units; j++) for (let k = 0; k < n; k++) K[k * cols + kb * units + j] = W[(g * units + j) * n + k];
  });
  return K;
}

/** The adjoint of torchMatrixToKeras: a gradient w.r.t. the Keras matrix as one w.r.t. PyTorch's. */
export function kerasMatrixGradToTorch(dK: ArrayLike<number>, kind: RecurrentKind, units: number, n: number): Float64Array {
  const blocks = KERAS_BLOCK_OF_TORCH_BLOCK[kind];
  const cols = blocks.length * units;
  const dW = new Float64Array(n * cols);
  blocks.forEach((kb, g) => {
    for (let j = 0; j < units; j++) for (let k = 0; k < n; k++) dW[(g * units + j) * n + k] = dK[k * cols + kb * units + j];
  });
  return dW;
}

/** A PyTorch bias `[G·H]` with its blocks moved by κ. */
export function torchBiasToKeras(b: ArrayLike<number>, kind: RecurrentKind, units: number): Float64Array {
  const blocks = KERAS_BLOCK_OF_TORCH_BLOCK[kind];
  const v = new Float64Array(blocks.length * units);
  blocks.forEach((kb, g) => {
    for (let j = 0; j < units; j++) v[kb * units + j] = b[g * units + j];
  });
  return v;
}

/** The adjoint (and inverse) of torchBiasToKeras. */
export function kerasBiasGradToTorch(dv: ArrayLike<number>, kind: RecurrentKind, units: number): Float64Array {
  const blocks = KERAS_BLOCK_OF_TORCH_BLOCK[kind];
  const db = new Float64Array(blocks.length * units);
  blocks.forEach((kb, g) => {
    for (let j = 0; j < units; j++) db[g * units + j] = dv[kb * units + j];
  });
  return db;
}

export interface KerasCellWeights {
  kernel: tf.Tensor2D;
  recurrentKernel: tf.Tensor2D;
  /** `[G·H]` (rnn, lstm: b_ih + b_hh) or `[2, 3H]` (gru, reset after: input and recurrent bias). */
  bias: tf.Tensor;
}

/** A recurrent layer's Keras weights from the flat PyTorch-layout parameters. */
export function kerasCellWeights(layer: CellLayout, params: Float64Array): KerasCellWeights {
  const piece = (s: Slot) => params.subarray(s.offset, s.offset + s.size);
  const cols = GATES[layer.kind] * layer.units;
  const kernel = tf.tensor2d(torchMatrixToKeras(piece(layer.W_ih), layer.kind, layer.units, layer.fanIn), [layer.fanIn, cols]);
  const recurrentKernel = tf.tensor2d(torchMatrixToKeras(piece(layer.W_hh), layer.kind, layer.units, layer.units), [layer.units, cols]);
  const bIh = torchBiasToKeras(piece(layer.b_ih), layer.kind, layer.units);
  const bHh = torchBiasToKeras(piece(layer.b_hh), layer.kind, layer.units);
  const bias =
    layer.kind === "gru" ? tf.tensor2d(Float32Array.from([...bIh, ...bHh]), [2, cols]) : tf.tensor1d(Float32Array.from(bIh, (v, i) => v + bHh[i]));
  return { kernel, recurrentKernel, bias };
}

/** Writes the gradients w.r.t. a recurrent layer's Keras weights into the flat PyTorch-layout gradient. */
export function scatterCellGradients(
  layer: CellLayout,
  d: { kernel: ArrayLike<number>; recurrentKernel: ArrayLike<number>; bias: ArrayLike<number> },
  grad: Float64Array,
): void {
  grad.set(kerasMatrixGradToTorch(d.kernel, layer.kind, layer.units, layer.fanIn), layer.W_ih.offset);
  grad.set(kerasMatrixGradToTorch(d.recurrentKernel, layer.kind, layer.units, layer.units), layer.W_hh.offset);
  const cols = GATES[layer.kind] * layer.units;
  if (layer.kind === "gru") {
    grad.set(kerasBiasGradToTorch(Array.from(d.bias).slice(0, cols), layer.kind, layer.units), layer.b_ih.offset);
    grad.set(kerasBiasGradToTorch(Array.from(d.bias).slice(cols), layer.kind, layer.units), layer.b_hh.offset);
  } else {
    // one Keras bias b_ih + b_hh: its gradient is each one's
    const db = kerasBiasGradToTorch(d.bias, layer.kind, layer.units);
    grad.set(db, layer.b_ih.offset);
    grad.set(db, layer.b_hh.offset);
  }
}

// ---- Keras's GRU cell, written with TF.js ops ------------------------------------------------------------

/**
 * Keras's GRU layer on `x [batch, T, F]` with Keras's weights (blocks z, r, h), as Keras's GRUCell computes it:
 * with `resetAfter` (bias `[2, 3H]`) hh = tanh(x W_h + b_h + r ⊙ (h U_h + b'_h)), otherwise (bias `[3H]`, what
 * `tf.layers.gru` implements) hh = tanh(x W_h + b_h + (r ⊙ h) U_h); h' = z ⊙ h + (1 − z) ⊙ hh.
 */
export function kerasGru(x: tf.Tensor3D, w: KerasCellWeights, options: { resetAfter: boolean; returnSequences: boolean }): tf.Tensor {
  const [batch, steps, features] = x.shape;
  const units = w.recurrentKernel.shape[0];
  // reset before has no recurrent bias (its zeros are read by nothing)
  const [inputBias, recurrentBias] = options.resetAfter ? tf.unstack(w.bias, 0) : [w.bias, tf.zeros([3 * units])];
  const [recurrentZR, recurrentH] = tf.split(w.recurrentKernel, [2 * units, units], 1);
  let h: tf.Tensor2D = tf.zeros([batch, units]);
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    // a slice, not tf.unstack: TF.js's gradient of an unstack into one tensor fails (it stacks a lone tensor)
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [batch, 1, features]), [batch, features]) as tf.Tensor2D;
    const [xZ, xR, xH] = tf.split(tf.add(tf.matMul(xt, w.kernel), inputBias), 3, 1);
    let hh: tf.Tensor;
    let z: tf.Tensor;
    if (options.resetAfter) {
      const [uZ, uR, uH] = tf.split(tf.add(tf.matMul(h, w.recurrentKernel), recurrentBias), 3, 1);
      z = tf.sigmoid(tf.add(xZ, uZ));
      const r = tf.sigmoid(tf.add(xR, uR));
      hh = tf.tanh(tf.add(xH, tf.mul(r, uH)));
    } else {
      const [uZ, uR] = tf.split(tf.matMul(h, recurrentZR), 2, 1);
      z = tf.sigmoid(tf.add(xZ, uZ));
      const r = tf.sigmoid(tf.add(xR, uR));
      hh = tf.tanh(tf.add(xH, tf.matMul(tf.mul(r, h) as tf.Tensor2D, recurrentH as tf.Tensor2D)));
    }
    h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh)) as tf.Tensor2D;
    outputs.push(h);
  }
  return options.returnSequences ? tf.stack(outputs, 1) : h;
}

// ---- the network with TF.js layers ------------------------------------------------------------------------

/** One layer of the TF.js network: its forward, its trainable variables, and how their gradients map back. */
interface TfStage {
  apply(a: tf.Tensor): tf.Tensor;
  variables: tf.Variable[];
  /** The variables l2 applies to. */
  weights: tf.Variable[];
  scatter(grads: tf.NamedTensorMap, grad: Float64Array): void;
  dispose(): void;
}

function appliedTensor(layer: tf.layers.Layer, a: tf.Tensor): tf.Tensor {
  const out = layer.apply(a);
  if (!(out instanceof tf.Tensor)) throw new OracleError(`${layer.name}: expected one tensor`);
  return out;
}

/** Builds a layer as its first call does (an RNN layer's `build` alone leaves it unbuilt for `dispose`). */
function buildByApplying(layer: tf.layers.Layer, shape: number[]): void {
  tf.tidy(() => {
    appliedTensor(layer, tf.zeros(shape));
  });
}

/** The variables of a built TF.js layer, by their Keras names (`kernel`, `recurrent_kernel`, `bias`). */
function namedVariables(layer: tf.layers.Layer, names: readonly string[]): tf.Variable[] {
  const weights = layer.trainableWeights;
  return names.map((name) => {
    const w = weights.find((v) => v.originalName.endsWith(`/${name}`) || v.originalName === name);
    if (!w) throw new OracleError(`${layer.name}: no weight ${name} among ${weights.map((v) => v.originalName).join(", ")}`);
    const v = w.read();
    if (!(v instanceof tf.Variable)) throw new OracleError(`${layer.name}: ${name} is not a variable`);
    return v;
  });
}

function gradOf(grads: tf.NamedTensorMap, v: tf.Variable): Float32Array {
  const g = grads[v.name];
  if (!g) throw new OracleError(`no gradient for ${v.name}`);
  return g.dataSync() as Float32Array;
}

function denseStage(layer: DenseLayout, params: Float64Array): TfStage {
  const tfLayer = tf.layers.dense({ units: layer.units, useBias: layer.b !== null, activation: "linear" });
  buildByApplying(tfLayer, [1, layer.fanIn]);
  const W = params.subarray(layer.W.offset, layer.W.offset + layer.W.size);
  const kernel = tf.tensor2d(
    Float32Array.from({ length: W.length }, (_, i) => W[(i % layer.units) * layer.fanIn + Math.floor(i / layer.units)]),
    [layer.fanIn, layer.units],
  );
  const b = layer.b;
  tfLayer.setWeights(b ? [kernel, tf.tensor1d(Float32Array.from(params.subarray(b.offset, b.offset + b.size)))] : [kernel]);
  const variables = namedVariables(tfLayer, b ? ["kernel", "bias"] : ["kernel"]);
  return {
    apply: (a) => applyActivation(layer.activation, appliedTensor(tfLayer, a)),
    variables,
    weights: [variables[0]],
    scatter(grads, grad) {
      const dK = gradOf(grads, variables[0]);
      for (let i = 0; i < dK.length; i++) grad[layer.W.offset + (i % layer.units) * layer.fanIn + Math.floor(i / layer.units)] = dK[i];
      if (b) grad.set(gradOf(grads, variables[1]), b.offset);
    },
    dispose: () => tfLayer.dispose(),
  };
}

function kerasRecurrentLayer(layer: CellLayout, returnSequences: boolean): tf.layers.Layer {
  const common = { units: layer.units, returnSequences, useBias: true };
  if (layer.kind === "rnn") return tf.layers.simpleRNN({ ...common, activation: layer.activation === "relu" ? "relu" : "tanh" });
  return tf.layers.lstm({ ...common, activation: "tanh", recurrentActivation: "sigmoid", unitForgetBias: false });
}

/**
 * rnn and lstm: TF.js's own layers. TF.js's gradient of an unstack into one tensor fails (it stacks a lone
 * tensor), and its RNN layers unstack their input along time: for one step, the layer runs on the input with a
 * step of zeros after it, returning sequences, and the first step's output is kept (the second step is computed
 * after it and read by nothing).
 */
function layerCellStage(layer: CellLayout, params: Float64Array, batch: number, steps: number): TfStage {
  const padded = steps === 1;
  const tfLayer = kerasRecurrentLayer(layer, padded || layer.returnSequences);
  buildByApplying(tfLayer, [batch, padded ? 2 : steps, layer.fanIn]);
  const w = kerasCellWeights(layer, params);
  const variables = namedVariables(tfLayer, ["kernel", "recurrent_kernel", "bias"]);
  variables.forEach((v, i) => v.assign([w.kernel, w.recurrentKernel, w.bias][i]));
  const apply = (a: tf.Tensor) => {
    if (!padded) return appliedTensor(tfLayer, a);
    const first = tf.slice(
      appliedTensor(
        tfLayer,
        tf.pad(a, [
          [0, 0],
          [0, 1],
          [0, 0],
        ]),
      ),
      [0, 0, 0],
      [batch, 1, layer.units],
    );
    return layer.returnSequences ? first : tf.reshape(first, [batch, layer.units]);
  };
  return {
    apply,
    variables,
    weights: variables.slice(0, 2),
    scatter: (grads, grad) =>
      scatterCellGradients(
        layer,
        { kernel: gradOf(grads, variables[0]), recurrentKernel: gradOf(grads, variables[1]), bias: gradOf(grads, variables[2]) },
        grad,
      ),
    dispose: () => tfLayer.dispose(),
  };
}

/** gru: Keras's reset-after GRU cell written with TF.js ops, on tf.variables. */
function gruStage(layer: CellLayout, params: Float64Array): TfStage {
  const w = kerasCellWeights(layer, params);
  const kernel = tf.variable(w.kernel);
  const recurrentKernel = tf.variable(w.recurrentKernel);
  const bias = tf.variable(w.bias);
  const variables = [kernel, recurrentKernel, bias];
  return {
    apply: (a) => kerasGru(a as tf.Tensor3D, { kernel, recurrentKernel, bias }, { resetAfter: true, returnSequences: layer.returnSequences }),
    variables,
    weights: [kernel, recurrentKernel],
    scatter: (grads, grad) =>
      scatterCellGradients(
        layer,
        { kernel: gradOf(grads, kernel), recurrentKernel: gradOf(grads, recurrentKernel), bias: gradOf(grads, bias) },
        grad,
      ),
    dispose: () => variables.forEach((v) => v.dispose()),
  };
}

function tfStage(layer: StageLayout, params: Float64Array, batch: number, steps: number): TfStage {
  if (layer.kind === "dense") return denseStage(layer, params);
  if (layer.backward) return bidirectionalStage(cellStage(layer, params, batch, steps), cellStage(layer.backward, params, batch, steps), layer.returnSequences);
  return cellStage(layer, params, batch, steps);
}

function cellStage(layer: CellLayout, params: Float64Array, batch: number, steps: number): TfStage {
  return layer.kind === "gru" ? gruStage(layer, params) : layerCellStage(layer, params, batch, steps);
}

/**
 * Both directions of a bidirectional layer, as Keras's Bidirectional wrapper runs them: the backward one on the input
 * reversed along time, its sequence reversed back so that row t is its state after reading x_t … x_{T−1}; the two
 * outputs joined along the features, forward first (for the last state, each direction's own last).
 */
function bidirectionalStage(forward: TfStage, backward: TfStage, returnSequences: boolean): TfStage {
  return {
    apply: (a) => {
      const b = backward.apply(tf.reverse(a, 1));
      return tf.concat([forward.apply(a), returnSequences ? tf.reverse(b, 1) : b], -1);
    },
    variables: [...forward.variables, ...backward.variables],
    weights: [...forward.weights, ...backward.weights],
    scatter: (grads, grad) => {
      forward.scatter(grads, grad);
      backward.scatter(grads, grad);
    },
    dispose: () => {
      forward.dispose();
      backward.dispose();
    },
  };
}

function checkSizes(layout: RecurrentLayout, params: Float64Array, x: Float64Array, y: Float64Array, batch: number): void {
  if (params.length !== layout.paramCount) throw new OracleError(`params: expected ${layout.paramCount}, found ${params.length}`);
  if (x.length !== batch * layout.inputSize) throw new OracleError(`x: expected ${batch * layout.inputSize}, found ${x.length}`);
  if (y.length !== batch * layout.targetSize) throw new OracleError(`y: expected ${batch * layout.targetSize}, found ${y.length}`);
}

/**
 * The recurrent network computed with TF.js (float32): `x [batch, T, F]`, `y [batch, ...outputShape]`; the output
 * `[batch, ...outputShape]` (probabilities under softmax_cross_entropy), J, and dJ/dp in the flat layout.
 */
export function tfRecurrentNet(spec: RecurrentNetSpec, params: Float64Array, x: Float64Array, y: Float64Array, batch: number): OracleResult {
  const layout = recurrentLayout(spec);
  checkSizes(layout, params, x, y, batch);
  return scoped(() => {
    const stages: TfStage[] = [];
    try {
      for (const layer of layout.layers) stages.push(tfStage(layer, params, batch, layout.steps));
      const X = tf.tensor3d(Float32Array.from(x), [batch, layout.steps, layout.features]);
      const Y = tf.tensor(Float32Array.from(y), [batch, ...layout.outputShape]);
      const axes = layout.outputShape.map((_, i) => i + 1);

      const run = () => {
        let a: tf.Tensor = X;
        for (const stage of stages) a = stage.apply(a);
        if (spec.loss === "mse") return { perSample: tf.mul(0.5, tf.sum(tf.square(tf.sub(a, Y)), axes)), output: a };
        if (spec.loss === "softmax_cross_entropy")
          return { perSample: tf.neg(tf.sum(tf.mul(Y, tf.logSoftmax(a, -1)), axes)), output: tf.softmax(a, -1) };
        throw new OracleError(`unknown loss ${String(spec.loss)}`);
      };
      const objective = (): tf.Scalar => {
        let j: tf.Tensor = tf.mean(run().perSample);
        if (spec.l2) {
          const squares = stages.flatMap((s) => s.weights).map((w) => tf.sum(tf.square(w)));
          j = tf.add(j, tf.mul(spec.l2 / 2, tf.addN(squares)));
        }
        return j as tf.Scalar;
      };

      const { value, grads } = tf.variableGrads(
        objective,
        stages.flatMap((s) => s.variables),
      );
      const grad = new Float64Array(layout.paramCount);
      for (const stage of stages) stage.scatter(grads, grad);
      return { loss: value.dataSync()[0], grad, output: Float64Array.from(run().output.dataSync()) };
    } finally {
      for (const stage of stages) stage.dispose();
    }
  });
}

// ---- random stacks ------------------------------------------------------------------------------------------

export interface RecurrentSizes {
  steps: [number, number];
  features: [number, number];
  units: [number, number];
  /** Recurrent layers per stack. */
  depth: [number, number];
}
export const RECURRENT_SMALL: RecurrentSizes = { steps: [1, 6], features: [1, 4], units: [1, 5], depth: [1, 3] };

/** A random stack: 1–3 recurrent layers of mixed types (a per-step dense between two now and then), an optional dense head. */
export function randomRecurrentNet(rng: Rng, name = "random_recurrent_net", sizes: RecurrentSizes = RECURRENT_SMALL): RecurrentNetSpec {
  const depth = rng.int(...sizes.depth);
  const layers: RecurrentStackLayer[] = [];
  for (let i = 0; i < depth; i++) {
    const last = i === depth - 1;
    const units = rng.int(...sizes.units);
    // every recurrent layer but the last feeds a recurrent layer, which needs a sequence
    const return_sequences = last ? rng.bool() : true;
    const type = rng.pick(["rnn", "lstm", "gru"] as const);
    const bidirectional = rng.bool(0.3);
    const direction = bidirectional ? { bidirectional } : {};
    layers.push(
      type === "rnn"
        ? { type, units, activation: rng.pick(["tanh", "relu"] as const), return_sequences, ...direction }
        : { type, units, return_sequences, ...direction },
    );
    if (!last && rng.bool(0.2)) layers.push({ type: "dense", units: rng.int(...sizes.units), activation: rng.pick(["tanh", "linear", "sigmoid"]) });
  }
  const heads = rng.int(0, 2);
  for (let i = 0; i < heads; i++) {
    const last = i === heads - 1;
    layers.push({
      type: "dense",
      units: rng.int(last ? 2 : 1, 4),
      activation: last ? "linear" : rng.pick(["tanh", "relu", "sigmoid", "linear"]),
      bias: rng.bool(0.8),
    });
  }
  const loss = rng.pick(["mse", "softmax_cross_entropy"] as const);
  const spec: RecurrentNetSpec = { name, input: [rng.int(...sizes.steps), rng.int(...sizes.features)], layers, loss };
  if (rng.bool(0.3)) spec.l2 = 0.01;
  return spec;
}

/** Inputs (standard normal) and targets: normal under mse, one probability row per step under softmax_cross_entropy. */
export function randomRecurrentData(spec: RecurrentNetSpec, batch: number, rng: Rng): { x: Float64Array; y: Float64Array } {
  const layout = recurrentLayout(spec);
  const x = Float64Array.from({ length: batch * layout.inputSize }, () => rng.normal());
  const y = new Float64Array(batch * layout.targetSize);
  if (spec.loss === "mse") {
    for (let i = 0; i < y.length; i++) y[i] = rng.normal();
    return { x, y };
  }
  const classes = layout.outputShape[layout.outputShape.length - 1];
  for (let row = 0; row < y.length / classes; row++) {
    let total = 0;
    for (let k = 0; k < classes; k++) total += y[row * classes + k] = rng.bool(0.5) ? Math.exp(rng.normal()) : 0;
    if (total === 0) y[row * classes + rng.int(0, classes - 1)] = total = 1;
    for (let k = 0; k < classes; k++) y[row * classes + k] /= total;
  }
  return { x, y };
}
