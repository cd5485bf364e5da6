/**
 * The layer types against TF.js's own layers (tf.layers.conv1d/2d/3d, maxPooling*, averagePooling*,
 * globalAveragePooling*, layerNormalization, flatten, dense; a residual block built with tf ops), on random small
 * networks built from random stacks of these types with random valid kernels, strides, paddings and dilations:
 * the output and the gradient of every parameter, with bpgen's kernel IR run by the interpreter in f64 and f32.
 * TF.js computes in float32, so both precisions are held to float32's accuracy. The weights go in TF.js's own
 * layouts, which the test states: a convolution's kernel [taps..., in, out] is ours, a dense kernel [in, out] is
 * our W [out, in] transposed.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { NetLayer } from "../src/ir/net.ts";
import type { LayerNetSpec, LayerSpec, Padding } from "../src/spec/types.ts";
import { type FloatArray, InterpretedNet } from "./helpers/interpreted.ts";
import { type Rng, makeRng, mismatch, normalisedRows, randomArray } from "./helpers/ir-util.ts";
import { applyActivation } from "./oracle/tf-layers.ts";
import { scoped } from "./oracle/tf-equations.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Spec = LayerNetSpec<LayerSpec>;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const ACTIVATIONS = ["linear", "tanh", "sigmoid", "softplus", "relu"] as const;

// ---- random stacks ------------------------------------------------------------------------------------

/** A random layer for an input of `n` spatial axes with `channels` channels (its fit is checked by building it). */
function randomLayer(rng: Rng, n: 1 | 2 | 3, channels: number, depth: number): LayerSpec {
  const spatial = (lo: number, hi: number) => (rng() < 0.5 ? int(rng, lo, hi) : Array.from({ length: n }, () => int(rng, lo, hi)));
  const kind = pick(rng, ["conv", "conv", "max", "avg", "layernorm", "activation", ...(depth === 0 ? ["residual"] : [])]);
  switch (kind) {
    case "conv": {
      const stride = rng() < 0.6 ? 1 : 2;
      // TF.js dilates only with stride 1
      const dilation = stride === 1 && rng() < 0.4 ? 2 : 1;
      const padding: Padding = pick(rng, ["valid", "same", 1]);
      return { type: `conv${n}d`, filters: int(rng, 1, 3), kernel: spatial(1, 3), stride, dilation, padding, activation: pick(rng, ACTIVATIONS), bias: rng() < 0.8 };
    }
    case "max":
      return { type: `max_pool${n}d`, size: spatial(1, 2), ...(rng() < 0.5 ? { stride: 1 } : {}), padding: pick(rng, ["valid", "same"] as const) };
    case "avg":
      // TF.js's "same" averages the cells inside the input only; PyTorch's padding (ours) counts zeros: numbers here
      return { type: `avg_pool${n}d`, size: spatial(1, 2), ...(rng() < 0.5 ? { stride: 1 } : {}), padding: pick(rng, ["valid", 1] as const) };
    case "layernorm":
      return { type: "layernorm", ...(rng() < 0.5 ? { eps: 1e-3 } : {}) };
    case "activation":
      return { type: "activation", activation: pick(rng, ["tanh", "softplus", "sigmoid"]) };
    default: {
      const projection = rng() < 0.5;
      const filters = projection ? int(rng, 1, 3) : channels;
      const block: LayerSpec[] = [{ type: `conv${n}d`, filters, kernel: int(rng, 1, 3), padding: "same", activation: pick(rng, ACTIVATIONS) }];
      if (rng() < 0.5) block.push({ type: "layernorm" });
      return { type: "residual", layers: block, ...(projection ? { projection: true } : {}) };
    }
  }
}

/** A random net of `n` spatial axes that builds, ending in a classifier head (softmax) or as it is (mse). */
function randomNet(rng: Rng, n: 1 | 2 | 3, index: number): { spec: Spec; subject: InterpretedNet } {
  for (;;) {
    const input = [...Array.from({ length: n }, () => int(rng, n === 3 ? 3 : 4, n === 3 ? 4 : 7)), int(rng, 1, 3)];
    const layers: LayerSpec[] = [];
    let channels = input[n];
    for (let k = int(rng, 1, 3); k > 0; k--) {
      const layer = randomLayer(rng, n, channels, 0);
      layers.push(layer);
      if (layer.type.startsWith("conv")) channels = (layer as { filters: number }).filters;
      if (layer.type === "residual") channels = (layer.layers[0] as { filters: number }).filters;
    }
    const head = pick(rng, ["global", "flatten", "none"] as const);
    if (head === "global" && n < 3) layers.push({ type: "global_avg_pool" }, { type: "dense", units: int(rng, 2, 3) });
    if (head === "flatten") layers.push({ type: "flatten" }, { type: "dense", units: int(rng, 2, 3), activation: pick(rng, ACTIVATIONS) });
    const classifier = layers[layers.length - 1].type === "dense";
    const spec: Spec = { name: `random_${n}d_${index}`, input, layers, loss: classifier ? "softmax_cross_entropy" : "mse", ...(rng() < 0.3 ? { l2: 0.01 } : {}) };
    try {
      return { spec, subject: new InterpretedNet(JSON.stringify(spec)) };
    } catch {
      // a random stack whose windows do not fit its input: draw again
    }
  }
}

// ---- the same net in TF.js ----------------------------------------------------------------------------

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
const perAxis = (v: number | number[], n: number): number[] => (typeof v === "number" ? Array<number>(n).fill(v) : v);

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

/** Our flat parameters by name. */
type Values = (name: string) => { values: Float32Array; shape: number[]; offset: number };

interface TfNet {
  /** The output of the last layer for x [batch, ...input]. */
  run(x: tf.Tensor): tf.Tensor;
  /** Each TF.js variable, with where its gradient goes in our flat layout (and how: a dense kernel transposed). */
  readonly variables: { variable: tf.Variable; offset: number; transpose: boolean; dilation?: number[] }[];
  /** The weights L2 reads: convolution and dense kernels, projections. */
  readonly penalised: tf.Variable[];
  dispose(): void;
}

function tfNet(spec: Spec, recorded: readonly NetLayer[], values: Values): TfNet {
  const layers: tf.layers.Layer[] = [];
  const variables: TfNet["variables"] = [];
  const penalised: tf.Variable[] = [];
  /** A TF.js layer applied once (which builds it), then given our weights in its layout. */
  const adopt = (layer: tf.layers.Layer, x: tf.Tensor, weights: { name: string; transpose?: boolean; penalise?: boolean; dilation?: number[] }[]) => {
    layers.push(layer);
    layer.apply(x);
    layer.setWeights(weights.map((w) => {
      const v = values(w.name);
      const t = tf.tensor(v.values, v.shape);
      return w.transpose ? t.transpose() : w.dilation ? dilate(t, w.dilation) : t;
    }));
    layer.trainableWeights.forEach((lw, k) => {
      const variable = lw.read() as tf.Variable;
      variables.push({ variable, offset: values(weights[k].name).offset, transpose: weights[k].transpose ?? false, dilation: weights[k].dilation });
      if (weights[k].penalise) penalised.push(variable);
    });
    return (input: tf.Tensor) => layer.apply(input) as tf.Tensor;
  };
  const spatialPad = (x: tf.Tensor, n: number, cells: number, fill = 0) => tf.pad(x, [[0, 0], ...Array.from({ length: n }, () => [cells, cells] as [number, number]), [0, 0]], fill);

  /** Builds the layer on a sample input `probe` (to learn shapes); returns its function. */
  const build = (layer: LayerSpec, record: NetLayer, probe: tf.Tensor): ((x: tf.Tensor) => tf.Tensor) => {
    const param = (role: number) => record.params[role].name;
    switch (layer.type) {
      case "conv1d":
      case "conv2d":
      case "conv3d": {
        const n = Number(layer.type[4]);
        const numeric = typeof layer.padding === "number";
        const pad = (x: tf.Tensor) => (numeric ? spatialPad(x, n, layer.padding as number) : x);
        // TF.js has no gradient of a dilated convolution: its kernel is ours with zeros between the taps instead
        const dilation = perAxis(layer.dilation ?? 1, n);
        const taps = perAxis(layer.kernel, n).map((k, a) => (k - 1) * dilation[a] + 1);
        const args = { filters: layer.filters, kernelSize: taps, strides: layer.stride ?? 1, padding: (numeric ? "valid" : layer.padding ?? "valid") as "valid" | "same", useBias: layer.bias ?? true };
        const make = [tf.layers.conv1d, tf.layers.conv2d, tf.layers.conv3d][n - 1] as (a: ConvArgs) => tf.layers.Layer;
        const apply = adopt(make(args as unknown as ConvArgs), pad(probe), [{ name: param(0), penalise: true, dilation }, ...(layer.bias ?? true ? [{ name: param(1) }] : [])]);
        return (x) => applyActivation(layer.activation ?? "linear", apply(pad(x)));
      }
      case "max_pool1d":
      case "max_pool2d":
      case "max_pool3d":
      case "avg_pool1d":
      case "avg_pool2d":
      case "avg_pool3d": {
        const n = Number(layer.type[layer.type.length - 2]);
        const max = layer.type.startsWith("max");
        const numeric = typeof layer.padding === "number";
        // padded cells never win a maximum, and count as zeros in a mean
        const pad = (x: tf.Tensor) => (numeric ? spatialPad(x, n, layer.padding as number, max ? -1e30 : 0) : x);
        const args = { poolSize: layer.size, strides: layer.stride ?? layer.size, padding: (numeric ? "valid" : layer.padding ?? "valid") as "valid" | "same" };
        const make = max ? [tf.layers.maxPooling1d, tf.layers.maxPooling2d, tf.layers.maxPooling3d] : [tf.layers.averagePooling1d, tf.layers.averagePooling2d, tf.layers.averagePooling3d];
        const apply = adopt((make[n - 1] as (a: typeof args) => tf.layers.Layer)(args), pad(probe), []);
        return (x) => apply(pad(x));
      }
      case "global_avg_pool": {
        const make = probe.shape.length === 3 ? tf.layers.globalAveragePooling1d : tf.layers.globalAveragePooling2d;
        return adopt(make({}), probe, []);
      }
      case "flatten":
        return adopt(tf.layers.flatten(), probe, []);
      case "dense": {
        // our dense reads its input flattened
        const flat = (x: tf.Tensor) => x.reshape([x.shape[0], -1]);
        const apply = adopt(tf.layers.dense({ units: layer.units, useBias: layer.bias ?? true }), flat(probe), [{ name: param(0), transpose: true, penalise: true }, ...(layer.bias ?? true ? [{ name: param(1) }] : [])]);
        return (x) => applyActivation(layer.activation ?? "linear", apply(flat(x)));
      }
      case "layernorm": {
        // TF.js normalises tensors of rank ≤ 4: each row of the last axis alone, so rows of [-1, features] are the same
        const rows = (x: tf.Tensor) => x.reshape([-1, x.shape[x.shape.length - 1]]);
        const apply = adopt(tf.layers.layerNormalization({ axis: -1, epsilon: layer.eps ?? 1e-5 }), rows(probe), [{ name: param(0) }, { name: param(1) }]);
        return (x) => apply(rows(x)).reshape(x.shape);
      }
      case "activation":
        return (x) => applyActivation(layer.activation, x);
      case "batchnorm":
      case "dropout":
        throw new Error("the layers with modes are compared in layers-modes-tfjs.test.ts");
      case "residual": {
        const block = chain(layer.layers, record.inner, probe);
        if (!layer.projection) return (x) => tf.add(block(x), x);
        const P = values(record.params[0].name);
        const variable = tf.variable(tf.tensor(P.values, P.shape));
        variables.push({ variable, offset: P.offset, transpose: false });
        penalised.push(variable);
        // P x on the channels: each position's channels times Pᵀ
        const project = (x: tf.Tensor) => {
          const channels = x.shape[x.shape.length - 1];
          const rows = x.reshape([-1, channels]) as tf.Tensor2D;
          return tf.matMul(rows, variable as tf.Tensor2D, false, true).reshape([...x.shape.slice(0, -1), P.shape[0]]);
        };
        return (x) => tf.add(block(x), project(x));
      }
    }
  };
  const chain = (specs: readonly LayerSpec[], records: readonly NetLayer[], probe: tf.Tensor) => {
    const fns: ((x: tf.Tensor) => tf.Tensor)[] = [];
    let at = probe;
    specs.forEach((layer, k) => {
      const fn = build(layer, records[k], at);
      fns.push(fn);
      at = fn(at);
    });
    return (x: tf.Tensor) => fns.reduce((a, f) => f(a), x);
  };
  const probe = tf.zeros([1, ...(typeof spec.input === "number" ? [spec.input] : spec.input)]);
  const run = chain(spec.layers, recorded, probe);
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

/** TF.js's objective, output and gradient (in our flat layout) for our parameters, inputs and targets. */
function tfResult(spec: Spec, subject: InterpretedNet, params: Float64Array, x: Float64Array, y: Float64Array, batch: number) {
  return scoped(() => {
    const places = new Map(subject.params().map((p) => [p.name, p]));
    const values: Values = (name) => {
      const p = places.get(name);
      if (!p) throw new Error(`no parameter ${name}`);
      return { values: Float32Array.from(params.subarray(p.offset, p.offset + p.size)), shape: [...p.shape], offset: p.offset };
    };
    const net = tfNet(spec, subject.net.layers ?? [], values);
    try {
      const inputShape = typeof spec.input === "number" ? [spec.input] : spec.input;
      const X = tf.tensor(Float32Array.from(x), [batch, ...inputShape]);
      const outputShape = subject.net.output.shape;
      const Y = tf.tensor(Float32Array.from(y), [batch, ...outputShape]);
      const objective = () => {
        const a = net.run(X);
        const axes = Array.from({ length: a.shape.length - 1 }, (_, k) => k + 1);
        const perSample = spec.loss === "mse" ? tf.mul(0.5, tf.sum(tf.square(tf.sub(a, Y)), axes)) : tf.neg(tf.sum(tf.mul(Y, tf.logSoftmax(a, 1)), 1));
        let J = tf.mean(perSample);
        if (spec.l2) J = tf.add(J, tf.mul(spec.l2 / 2, tf.addN(net.penalised.map((v) => tf.sum(tf.square(v))))));
        return J as tf.Scalar;
      };
      const { value, grads } = net.variables.length > 0 ? tf.variableGrads(objective, net.variables.map((v) => v.variable)) : { value: objective(), grads: {} as tf.NamedTensorMap };
      const grad = new Float64Array(params.length);
      for (const v of net.variables) {
        const g = grads[v.variable.name];
        grad.set((v.transpose ? g.transpose() : v.dilation ? undilate(g, v.dilation) : g).dataSync(), v.offset);
      }
      const a = net.run(X);
      const output = spec.loss === "softmax_cross_entropy" ? tf.softmax(a, 1) : a;
      return { loss: value.dataSync()[0], grad, output: Float64Array.from(output.dataSync()) };
    } finally {
      net.dispose();
    }
  });
}

// ---- the comparison -------------------------------------------------------------------------------------

/** What the random nets held, for the check that they cover every type and option. */
const seen = new Set<string>();

function tally(layers: readonly LayerSpec[]): void {
  for (const l of layers) {
    seen.add(l.type);
    if ("padding" in l && l.padding !== undefined) seen.add(`${l.type.slice(0, 3)} padding ${l.padding}`);
    if ("dilation" in l && l.dilation !== undefined && l.dilation !== 1) seen.add("dilation");
    if ("stride" in l && l.stride !== undefined && l.stride !== 1) seen.add(`${l.type.slice(0, 3)} stride`);
    if (l.type === "residual") {
      seen.add(l.projection ? "projection" : "identity");
      tally(l.layers);
    }
  }
}

function compare(n: 1 | 2 | 3, index: number): void {
  const rng = makeRng(1000 * n + index);
  const { spec, subject } = randomNet(rng, n, index);
  tally(spec.layers);
  const batch = 2;
  const m64 = subject.module<Float64Array>("f64");
  const params = randomArray(rng, [m64.meta.paramCount], -0.7, 0.7);
  const x = randomArray(rng, [batch * m64.meta.inputSize]);
  const raw = randomArray(rng, [batch * m64.meta.targetSize], 0, 1);
  // a classifier's targets sum to 1 per sample
  const y = spec.loss === "softmax_cross_entropy" ? normalisedRows(raw, m64.meta.targetSize) : raw;
  const want = tfResult(spec, subject, params, x, y, batch);
  const what = JSON.stringify(spec.layers);
  for (const precision of ["f64", "f32"] as const) {
    const m = subject.module<FloatArray>(precision);
    const Array_ = precision === "f64" ? Float64Array : Float32Array;
    const grads = new Array_(m.meta.paramCount);
    const out = new Array_(batch * m.meta.outputSize);
    const J = m.gradient(Array_.from(params), Array_.from(x), Array_.from(y), grads, batch);
    m.forward(Array_.from(params), Array_.from(x), out, batch);
    expect(mismatch([J], [want.loss], 2e-4), `${precision} loss of ${what}`).toBeUndefined();
    expect(mismatch(out, want.output, 2e-4), `${precision} output of ${what}`).toBeUndefined();
    expect(mismatch(grads, want.grad, 2e-3, 1e-2), `${precision} gradient of ${what}`).toBeUndefined();
  }
}

describe("random layer stacks against TF.js's layers", () => {
  for (let i = 0; i < 12; i++) it(`2-D net ${i}`, () => compare(2, i));
  for (let i = 0; i < 6; i++) it(`1-D net ${i}`, () => compare(1, i));
  for (let i = 0; i < 4; i++) it(`3-D net ${i}`, () => compare(3, i));

  it("covered every layer type and option", () => {
    const types = ["dense", "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "global_avg_pool", "flatten", "activation", "layernorm", "residual"];
    const options = ["dilation", "projection", "identity", "con padding same", "con padding valid", "con padding 1", "max padding same", "avg padding 1", "con stride"];
    expect([...types, ...options].filter((t) => !seen.has(t))).toEqual([]);
  });
});

describe("TF.js's weight layouts are the ones this test states", () => {
  it("a conv2d kernel is [kh, kw, in, out], a dense kernel [in, out]", () => {
    scoped(() => {
      const conv = tf.layers.conv2d({ filters: 5, kernelSize: [2, 3] });
      conv.apply(tf.zeros([1, 4, 4, 7]));
      const dense = tf.layers.dense({ units: 5 });
      dense.apply(tf.zeros([1, 7]));
      expect(conv.getWeights().map((w) => w.shape)).toEqual([[2, 3, 7, 5], [5]]);
      expect(dense.getWeights().map((w) => w.shape)).toEqual([[7, 5], [5]]);
      conv.dispose();
      dense.dispose();
    });
  });
});
