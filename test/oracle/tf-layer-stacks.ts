/**
 * The oracle for stacks of every layer type: the stack built from TF.js's own layers (tf.layers.conv1d/2d/3d,
 * maxPooling*, averagePooling*, globalAveragePooling*, layerNormalization, batchNormalization, flatten, dense; a
 * residual block, its projection and dropout written with tf ops), computed in float32 and differentiated by TF.js,
 * with our parameters and state put in TF.js's layouts:
 * - a convolution's kernel [taps..., in, out] is ours; a dilated one is ours with d − 1 zeros between its taps (TF.js
 *   has no gradient of a dilated convolution), its gradient read back at the taps;
 * - a dense kernel [in, out] is our W [out, in] transposed;
 * - a projection P [out, in] is a 1×1 convolution (tf.conv1d/2d/3d) of filter Pᵀ and, per spatial axis, the
 *   smallest stride s that maps the block's input onto its output (docs/net-json.md);
 * - batchnorm's moving mean and variance are our running statistics, its momentum Keras's (1 − ours).
 * Training mode: batch statistics (tf.layers.batchNormalization with { training: true }), each dropout a
 * multiplication by the mask the reference generator (ir/random.ts) gives for the state's seed and step, the
 * layer's stream (numbered from 1 in the order the layers are built, blocks depth first) and each value's place;
 * then each running mean and variance moved toward the statistics of the batchnorm's input in TF.js (the variance
 * unbiased, n/(n − 1)). Inference mode: the running statistics, dropout the identity (as TF.js's outside training).
 */
import * as tf from "@tensorflow/tfjs";
import type { Net, NetLayer } from "../../src/ir/net.ts";
import { uniform24 } from "../../src/ir/random.ts";
import type { LayerSpec, Padding } from "../../src/spec/types.ts";
import type { StackSpec } from "./random-layer-stacks.ts";
import { OracleError, scoped } from "./tf-equations.ts";
import { applyActivation } from "./tf-layers.ts";

/** Where a parameter or a state value lies in its flat array, as a module's meta describes it. */
export interface Place {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** One stack's numbers: our parameters, state (empty without modes), inputs and targets, with their layouts. */
export interface StackPoint {
  readonly spec: StackSpec;
  /** bpgen's record of the stack, read for the names of each layer's parameters only. */
  readonly net: Net;
  readonly params: Float64Array;
  readonly paramLayout: readonly Place[];
  readonly state: Float64Array;
  readonly stateLayout: readonly Place[];
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly batch: number;
}

/** What TF.js computes in one mode. */
export interface ModeResult {
  readonly loss: number;
  /** The output (the probabilities under softmax_cross_entropy). */
  readonly output: Float64Array;
}

export interface TrainingResult extends ModeResult {
  /** dJ/dθ in our flat layout. */
  readonly grad: Float64Array;
  /** Each batchnorm's running mean and variance after a training step, by name. */
  readonly state: Map<string, number[]>;
  /** The mean and (biased) standard deviation of each channel of each batchnorm's input, by its running mean's name. */
  readonly batchnormInputs: Map<string, { mean: number[]; std: number[] }>;
}

/** Our flat values by name, as float32. */
type Lookup = (name: string) => { values: Float32Array; shape: number[]; offset: number };

function lookup(layout: readonly Place[], values: Float64Array): Lookup {
  return (name) => {
    const p = layout.find((q) => q.name === name);
    if (!p) throw new Error(`no value ${name}`);
    return { values: Float32Array.from(values.subarray(p.offset, p.offset + p.size)), shape: [...p.shape], offset: p.offset };
  };
}

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
const perAxis = (v: number | readonly number[], n: number): number[] => (typeof v === "number" ? Array<number>(n).fill(v) : [...v]);

/** A kernel [taps..., in, out] with d − 1 zeros between its taps along each spatial axis. */
function dilate(kernel: tf.Tensor, d: readonly number[]): tf.Tensor {
  const n = d.length;
  const shape = kernel.shape.map((k, a) => (a < n ? (k - 1) * d[a] + 1 : k));
  const big = tf.buffer(shape);
  const small = kernel.bufferSync();
  for (let i = 0; i < kernel.size; i++) {
    const at = small.indexToLoc(i);
    big.set(small.get(...at), ...at.map((c, a) => (a < n ? c * d[a] : c)));
  }
  return big.toTensor();
}

/** The entries of a dilated kernel's gradient at its taps. */
function undilate(g: tf.Tensor, d: readonly number[]): tf.Tensor {
  return tf.stridedSlice(g, g.shape.map(() => 0), g.shape, g.shape.map((_, a) => (a < d.length ? d[a] : 1)));
}

/** The smallest stride s with ⌊(size − 1) / s⌋ + 1 = out: the documented stride of a residual block's projection. */
function projectionStride(size: number, out: number): number {
  for (let s = 1; s <= size; s++) if (Math.floor((size - 1) / s) + 1 === out) return s;
  throw new Error(`no stride maps ${size} cells onto ${out}`);
}

/** Inverted dropout's mask from the reference generator: sample s, element e hashes s·size + e. */
function referenceMask(seed: number, step: number, stream: number, rate: number, shape: readonly number[]): tf.Tensor {
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: shape[0] * size }, (_, c) => (uniform24(seed, step, stream, c) >= rate ? 1 / (1 - rate) : 0));
  return tf.tensor(values, [...shape]);
}

interface TfStack {
  /** The last layer's output for x [batch, ...input]; `captured` receives each batchnorm's input by its label. */
  run(x: tf.Tensor, captured?: Map<string, tf.Tensor>): tf.Tensor;
  /** Each TF.js variable, with where its gradient goes in our flat layout (and how). */
  readonly variables: { variable: tf.Variable; offset: number; transpose: boolean; dilation?: number[] }[];
  /** The weights L2 reads: convolution and dense kernels, projections. */
  readonly penalised: tf.Variable[];
  dispose(): void;
}

type Fn = (x: tf.Tensor, captured?: Map<string, tf.Tensor>) => tf.Tensor;

/** The stack of `point` in TF.js, in `training` mode or not. */
function tfStack(point: StackPoint, training: boolean): TfStack {
  const params = lookup(point.paramLayout, point.params);
  const state = lookup(point.stateLayout, point.state);
  const stateValue = (name: string) => point.state[point.stateLayout.find((s) => s.name === name)?.offset ?? -1];
  const layers: tf.layers.Layer[] = [];
  const variables: TfStack["variables"] = [];
  const penalised: tf.Variable[] = [];
  let streams = 0;

  /** A TF.js layer applied once (which builds it), then given our weights (and state) in its layout. */
  const adopt = (layer: tf.layers.Layer, probe: tf.Tensor, weights: { name: string; transpose?: boolean; penalise?: boolean; dilation?: number[] }[], buffers: string[] = []) => {
    layers.push(layer);
    layer.apply(probe);
    const tensor = (v: ReturnType<Lookup>) => tf.tensor(v.values, v.shape);
    layer.setWeights([
      ...weights.map((w) => {
        const t = tensor(params(w.name));
        return w.transpose ? t.transpose() : w.dilation ? dilate(t, w.dilation) : t;
      }),
      ...buffers.map((b) => tensor(state(b))),
    ]);
    layer.trainableWeights.forEach((lw, k) => {
      const variable = lw.read() as tf.Variable;
      variables.push({ variable, offset: params(weights[k].name).offset, transpose: weights[k].transpose ?? false, dilation: weights[k].dilation });
      if (weights[k].penalise) penalised.push(variable);
    });
    return layer;
  };
  /**
   * The cells a layer pads each spatial axis with, or undefined where TF.js pads itself: a number on both sides,
   * per axis a number or [before, after];
   * "same" in 3-D, where TF.js pads (⌈size / stride⌉ − 1)·stride + taps − size cells without taking 0 when that is
   * negative (a 1×1 window of stride 2 on 6 cells would read cells 1, 3, 5), so the oracle pads as Keras documents
   * it, that many cells or none, the odd cell after.
   */
  const paddingOf = (padding: Padding | undefined, n: number, probe: tf.Tensor, taps: readonly number[], stride: readonly number[]): [number, number][] | undefined => {
    if (typeof padding === "number") return Array.from({ length: n }, () => [padding, padding]);
    if (Array.isArray(padding)) return padding.map((p): [number, number] => (typeof p === "number" ? [p, p] : [p[0], p[1]]));
    if (padding !== "same" || n < 3) return undefined;
    return taps.map((k, a) => {
      const size = probe.shape[a + 1];
      const total = Math.max(0, (Math.ceil(size / stride[a]) - 1) * stride[a] + k - size);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  };
  const spatialPad = (x: tf.Tensor, sides: [number, number][] | undefined, fill = 0) => (sides ? tf.pad(x, [[0, 0], ...sides, [0, 0]], fill) : x);

  /** Builds the layer on a sample input `probe` (to learn shapes); returns its function. */
  const build = (layer: LayerSpec, record: NetLayer, probe: tf.Tensor): Fn => {
    const param = (k: number) => record.params[k].name;
    switch (layer.type) {
      case "conv1d":
      case "conv2d":
      case "conv3d": {
        const n = Number(layer.type[4]);
        const dilation = perAxis(layer.dilation ?? 1, n);
        const taps = perAxis(layer.kernel, n).map((k, a) => (k - 1) * dilation[a] + 1);
        const sides = paddingOf(layer.padding, n, probe, taps, perAxis(layer.stride ?? 1, n));
        const pad = (x: tf.Tensor) => spatialPad(x, sides);
        const args = { filters: layer.filters, kernelSize: taps, strides: layer.stride ?? 1, padding: (sides ? "valid" : layer.padding ?? "valid") as "valid" | "same", useBias: layer.bias ?? true };
        const make = [tf.layers.conv1d, tf.layers.conv2d, tf.layers.conv3d][n - 1] as (a: ConvArgs) => tf.layers.Layer;
        const conv = adopt(make(args as unknown as ConvArgs), pad(probe), [{ name: param(0), penalise: true, dilation }, ...(layer.bias ?? true ? [{ name: param(1) }] : [])]);
        return (x) => applyActivation(layer.activation ?? "linear", conv.apply(pad(x)) as tf.Tensor);
      }
      case "max_pool1d":
      case "max_pool2d":
      case "max_pool3d":
      case "avg_pool1d":
      case "avg_pool2d":
      case "avg_pool3d": {
        const n = Number(layer.type[layer.type.length - 2]);
        const max = layer.type.startsWith("max");
        const sides = paddingOf(layer.padding, n, probe, perAxis(layer.size, n), perAxis(layer.stride ?? layer.size, n));
        // padded cells never win a maximum, and count as zeros in a mean
        const pad = (x: tf.Tensor) => spatialPad(x, sides, max ? -1e30 : 0);
        const args = { poolSize: layer.size, strides: layer.stride ?? layer.size, padding: (sides ? "valid" : layer.padding ?? "valid") as "valid" | "same" };
        const make = max ? [tf.layers.maxPooling1d, tf.layers.maxPooling2d, tf.layers.maxPooling3d] : [tf.layers.averagePooling1d, tf.layers.averagePooling2d, tf.layers.averagePooling3d];
        const pool = adopt((make[n - 1] as (a: typeof args) => tf.layers.Layer)(args), pad(probe), []);
        return (x) => pool.apply(pad(x)) as tf.Tensor;
      }
      case "global_avg_pool": {
        const make = probe.shape.length === 3 ? tf.layers.globalAveragePooling1d : tf.layers.globalAveragePooling2d;
        const pool = adopt(make({}), probe, []);
        return (x) => pool.apply(x) as tf.Tensor;
      }
      case "flatten": {
        const flatten = adopt(tf.layers.flatten(), probe, []);
        return (x) => flatten.apply(x) as tf.Tensor;
      }
      case "dense": {
        // our dense reads its input flattened
        const flat = (x: tf.Tensor) => x.reshape([x.shape[0], -1]);
        const dense = adopt(tf.layers.dense({ units: layer.units, useBias: layer.bias ?? true }), flat(probe), [{ name: param(0), transpose: true, penalise: true }, ...(layer.bias ?? true ? [{ name: param(1) }] : [])]);
        return (x) => applyActivation(layer.activation ?? "linear", dense.apply(flat(x)) as tf.Tensor);
      }
      case "layernorm": {
        // TF.js normalises tensors of rank ≤ 4: each row of the last axis alone, so rows of [-1, features] are the same
        const rows = (x: tf.Tensor) => x.reshape([-1, x.shape[x.shape.length - 1]]);
        const norm = adopt(tf.layers.layerNormalization({ axis: -1, epsilon: layer.eps ?? 1e-5 }), rows(probe), [{ name: param(0) }, { name: param(1) }]);
        return (x) => (norm.apply(rows(x)) as tf.Tensor).reshape(x.shape);
      }
      case "activation":
        return (x) => applyActivation(layer.activation, x);
      case "batchnorm": {
        // Keras's momentum is the weight of the old moving value: 1 − PyTorch's
        const args = { axis: -1, momentum: 1 - (layer.momentum ?? 0.1), epsilon: layer.eps ?? 1e-5 };
        const bn = adopt(tf.layers.batchNormalization(args), probe, [{ name: param(0) }, { name: param(1) }], [`m${record.label}`, `v${record.label}`]);
        return (x, captured) => {
          captured?.set(record.label, x);
          return bn.apply(x, { training }) as tf.Tensor;
        };
      }
      case "dropout": {
        const rate = layer.rate ?? 0.5;
        if (!training || rate === 0) return (x) => x;
        const stream = ++streams;
        const [seed, step] = [stateValue("rng_seed"), stateValue("rng_step")];
        return (x) => tf.mul(x, referenceMask(seed, step, stream, rate, x.shape));
      }
      case "residual": {
        const block = chain(layer.layers, record.inner, probe);
        if (!layer.projection) return (x, captured) => tf.add(block(x, captured), x);
        const P = params(record.params[0].name);
        const variable = tf.variable(tf.tensor(P.values, P.shape));
        variables.push({ variable, offset: P.offset, transpose: false });
        penalised.push(variable);
        // a 1×1 convolution of the stride that maps the input onto the block's output, its filter Pᵀ
        const n = probe.shape.length - 2;
        const out = block(probe).shape;
        const stride = probe.shape.slice(1, -1).map((size, a) => projectionStride(size, out[a + 1]));
        const project = (x: tf.Tensor) => {
          const filter = tf.reshape(tf.transpose(variable), [...stride.map(() => 1), P.shape[1], P.shape[0]]);
          if (n === 0) return tf.matMul(x as tf.Tensor2D, variable as tf.Tensor2D, false, true);
          if (n === 1) return tf.conv1d(x as tf.Tensor3D, filter as tf.Tensor3D, stride[0], "valid");
          if (n === 2) return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride as [number, number], "valid");
          return tf.conv3d(x as tf.Tensor5D, filter as tf.Tensor5D, stride as [number, number, number], "valid");
        };
        return (x, captured) => tf.add(block(x, captured), project(x));
      }
      default:
        // recurrent layers have their own oracle (tf-recurrent.ts)
        throw new OracleError(`the layer-stack oracle does not compute ${layer.type} layers`);
    }
  };
  const chain = (specs: readonly LayerSpec[], records: readonly NetLayer[], probe: tf.Tensor): Fn => {
    const fns: Fn[] = [];
    let at = probe;
    specs.forEach((layer, k) => {
      const fn = build(layer, records[k], at);
      fns.push(fn);
      at = fn(at);
    });
    return (x, captured) => fns.reduce((a, f) => f(a, captured), x);
  };
  const { spec } = point;
  const probe = tf.zeros([1, ...(typeof spec.input === "number" ? [spec.input] : spec.input)]);
  const run = chain(spec.layers, point.net.layers ?? [], probe);
  return {
    run,
    variables,
    penalised,
    dispose: () => {
      layers.forEach((l) => l.dispose());
      variables.forEach((v) => v.variable.dispose());
    },
  };
}

/** The objective (mean loss + λ/2 Σ‖W‖²) and the output of `net` on the point's inputs and targets. */
function lossAndOutput(point: StackPoint, net: TfStack) {
  const { spec, batch } = point;
  const X = tf.tensor(Float32Array.from(point.x), [batch, ...(typeof spec.input === "number" ? [spec.input] : spec.input)]);
  const Y = tf.tensor(Float32Array.from(point.y), [batch, ...point.net.output.shape]);
  const objective = (): tf.Scalar => {
    const a = net.run(X);
    const axes = Array.from({ length: a.shape.length - 1 }, (_, k) => k + 1);
    const perSample = spec.loss === "mse" ? tf.mul(0.5, tf.sum(tf.square(tf.sub(a, Y)), axes)) : tf.neg(tf.sum(tf.mul(Y, tf.logSoftmax(a, 1)), 1));
    let J = tf.mean(perSample);
    if (spec.l2 && net.penalised.length > 0) J = tf.add(J, tf.mul(spec.l2 / 2, tf.addN(net.penalised.map((v) => tf.sum(tf.square(v))))));
    return J as tf.Scalar;
  };
  const output = (captured?: Map<string, tf.Tensor>) => {
    const a = net.run(X, captured);
    return Float64Array.from((spec.loss === "softmax_cross_entropy" ? tf.softmax(a, 1) : a).dataSync());
  };
  return { objective, output };
}

/** The batchnorm layers of a stack with their records, blocks depth first. */
function batchnorms(specs: readonly LayerSpec[], records: readonly NetLayer[]): { momentum: number; label: string }[] {
  return specs.flatMap((l, k) => {
    if (l.type === "residual") return batchnorms(l.layers, records[k].inner);
    return l.type === "batchnorm" ? [{ momentum: l.momentum ?? 0.1, label: records[k].label }] : [];
  });
}

/** Training mode: loss, output, the gradient in our layout, and each batchnorm's state after the step. */
export function tfTraining(point: StackPoint): TrainingResult {
  return scoped(() => {
    const net = tfStack(point, true);
    try {
      const { objective, output } = lossAndOutput(point, net);
      const { value, grads } = net.variables.length > 0 ? tf.variableGrads(objective, net.variables.map((v) => v.variable)) : { value: objective(), grads: {} as tf.NamedTensorMap };
      const grad = new Float64Array(point.params.length);
      for (const v of net.variables) {
        const g = grads[v.variable.name];
        grad.set((v.transpose ? g.transpose() : v.dilation ? undilate(g, v.dilation) : g).dataSync(), v.offset);
      }
      const captured = new Map<string, tf.Tensor>();
      const trainingOutput = output(captured);
      // the running statistics after the step, from each batchnorm's input in TF.js
      const state = new Map<string, number[]>();
      const batchnormInputs = new Map<string, { mean: number[]; std: number[] }>();
      const old = (name: string) => Array.from(lookup(point.stateLayout, point.state)(name).values);
      for (const { momentum: mu, label } of batchnorms(point.spec.layers, point.net.layers ?? [])) {
        const a = captured.get(label);
        if (!a) throw new Error(`batchnorm ${label} was not run`);
        const rows = a.reshape([-1, a.shape[a.shape.length - 1]]);
        const n = rows.shape[0];
        const mean = Array.from(rows.mean(0).dataSync());
        const unbiased = Array.from(tf.sum(tf.square(tf.sub(rows, tf.tensor(mean))), 0).dataSync(), (s) => s / (n - 1));
        batchnormInputs.set(`m${label}`, { mean, std: unbiased.map((v) => Math.sqrt((v * (n - 1)) / n)) });
        state.set(`m${label}`, old(`m${label}`).map((r, i) => (1 - mu) * r + mu * mean[i]));
        state.set(`v${label}`, old(`v${label}`).map((r, i) => (1 - mu) * r + mu * unbiased[i]));
      }
      return { loss: value.dataSync()[0], output: trainingOutput, grad, state, batchnormInputs };
    } finally {
      net.dispose();
    }
  });
}

/** Inference mode: loss and output with the running statistics, dropout the identity. */
export function tfInference(point: StackPoint): ModeResult {
  return scoped(() => {
    const net = tfStack(point, false);
    try {
      const { objective, output } = lossAndOutput(point, net);
      return { loss: objective().dataSync()[0], output: output() };
    } finally {
      net.dispose();
    }
  });
}
