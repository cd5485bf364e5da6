/**
 * batchnorm and dropout against TF.js's layers, on random small stacks that mix them with convolutions, pooling
 * and dense layers, compiled with the TypeScript and the WebAssembly kernels in f64 and f32:
 * - training mode: tf.layers.batchNormalization applied with { training: true } (batch statistics, their
 *   gradient terms), momentum converted to Keras's sense (1 − PyTorch's); each dropout layer a multiplication by
 *   the mask the reference generator (ir/random.ts) gives for the state's seed and step, the layer's stream and
 *   each value's place — trainingLoss, trainingForward and the gradient of every parameter; then the state after
 *   the step: each running mean and variance moved toward the statistics of the batchnorm's input in TF.js
 *   (the variance unbiased, n/(n − 1));
 * - inference mode: TF.js's layer with its moving mean and variance set to our running statistics, dropout the
 *   identity (as TF.js's dropout is outside training) — forward and loss.
 * TF.js computes in float32, so both precisions are held to float32's accuracy.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildLayerNet } from "../src/frontend/layers/index.ts";
import type { Net, NetLayer } from "../src/ir/net.ts";
import { uniform24 } from "../src/ir/random.ts";
import type { FloatArray, StatefulNetModule } from "../src/module-api.ts";
import type { Kernels, Precision } from "../src/pipeline.ts";
import { parseSpec } from "../src/spec/load.ts";
import { isLayerSpec, type LayerNetSpec, type LayerSpec } from "../src/spec/types.ts";
import { type Rng, makeRng, mismatch, normalisedRows, randomArray } from "./helpers/ir-util.ts";
import { compileStateful } from "./helpers/stateful-nets.ts";
import { applyActivation } from "./oracle/tf-layers.ts";
import { scoped } from "./oracle/tf-equations.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

type Spec = LayerNetSpec<LayerSpec>;
type Module = StatefulNetModule<FloatArray>;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
// no relu in front of a batchnorm: a channel that is 0 everywhere has no variance, and 1/√eps magnifies rounding
const ACTIVATIONS = ["linear", "tanh", "sigmoid"] as const;

// ---- random stacks --------------------------------------------------------------------------------------------

const batchnorm = (rng: Rng): LayerSpec => ({ type: "batchnorm", ...(rng() < 0.5 ? { momentum: pick(rng, [0.01, 0.3, 0.9]) } : {}), ...(rng() < 0.5 ? { eps: 1e-3 } : {}) });
const dropout = (rng: Rng): LayerSpec => ({ type: "dropout", ...(rng() < 0.7 ? { rate: pick(rng, [0.1, 0.3, 0.6]) } : {}) });

function randomLayer(rng: Rng, n: 1 | 2): LayerSpec {
  switch (pick(rng, ["conv", "batchnorm", "batchnorm", "dropout", "pool"])) {
    case "conv":
      return { type: `conv${n}d`, filters: int(rng, 1, 3), kernel: int(rng, 1, 3), stride: rng() < 0.7 ? 1 : 2, padding: pick(rng, ["valid", "same"] as const), activation: pick(rng, ACTIVATIONS) };
    case "batchnorm":
      return batchnorm(rng);
    case "dropout":
      return dropout(rng);
    default:
      return { type: pick(rng, [`max_pool${n}d`, `avg_pool${n}d`] as const), size: 2, padding: "valid" };
  }
}

/** A random stack of `n` spatial axes with at least one batchnorm and one dropout, that builds, with a dense head. */
function randomSpec(rng: Rng, n: 1 | 2, index: number): Spec {
  for (;;) {
    const input = [...Array.from({ length: n }, () => int(rng, 4, 6)), int(rng, 1, 3)];
    const layers: LayerSpec[] = Array.from({ length: int(rng, 2, 4) }, () => randomLayer(rng, n));
    if (rng() < 0.5) layers.push({ type: "flatten" }, { type: "dense", units: int(rng, 3, 4), activation: pick(rng, ACTIVATIONS) }, batchnorm(rng), dropout(rng));
    else layers.push({ type: "global_avg_pool" });
    layers.push({ type: "dense", units: int(rng, 2, 3) });
    const types = layers.map((l) => l.type);
    if (!types.includes("batchnorm") || !types.includes("dropout")) continue;
    const spec: Spec = { name: `modes_${n}d_${index}`, input, layers, loss: rng() < 0.5 ? "softmax_cross_entropy" : "mse" };
    try {
      return { ...spec, net: build(spec) } as Spec & { net: Net };
    } catch {
      // windows that do not fit the input: draw again
    }
  }
}

function build(spec: Spec): Net {
  const { spec: checked } = parseSpec("net.json", JSON.stringify(spec));
  if (!isLayerSpec(checked)) throw new Error("not a layer net");
  return buildLayerNet(checked as unknown as Spec);
}

// ---- the same stack in TF.js ----------------------------------------------------------------------------------

/** Our flat values by name: parameters, or state. */
type Lookup = (name: string) => { values: Float32Array; shape: number[]; offset: number };

interface Run {
  objective(X: tf.Tensor, Y: tf.Tensor): tf.Scalar;
  /** The output (probabilities under softmax_cross_entropy); `inputs` collects each batchnorm's input, in order. */
  output(X: tf.Tensor, inputs?: tf.Tensor[]): tf.Tensor;
  readonly variables: { variable: tf.Variable; offset: number; transpose: boolean }[];
  dispose(): void;
}

interface TfOptions {
  readonly training: boolean;
  /** The dropout mask of the k-th dropout layer (from 1) for an input of `shape` [batch, ...]. */
  readonly mask: (stream: number, shape: number[]) => tf.Tensor;
}

function tfNet(spec: Spec, records: readonly NetLayer[], params: Lookup, state: Lookup, options: TfOptions): Run {
  const layers: tf.layers.Layer[] = [];
  const variables: Run["variables"] = [];
  const tensor = (v: ReturnType<Lookup>) => tf.tensor(v.values, v.shape);
  const adopt = (layer: tf.layers.Layer, probe: tf.Tensor, weights: { name: string; transpose?: boolean }[], buffers: string[] = []) => {
    layers.push(layer);
    layer.apply(probe);
    layer.setWeights([...weights.map((w) => (w.transpose ? tensor(params(w.name)).transpose() : tensor(params(w.name)))), ...buffers.map((b) => tensor(state(b)))]);
    layer.trainableWeights.forEach((lw, k) => variables.push({ variable: lw.read() as tf.Variable, offset: params(weights[k].name).offset, transpose: weights[k].transpose ?? false }));
    return layer;
  };
  let streams = 0;
  let probe = tf.zeros([1, ...(typeof spec.input === "number" ? [spec.input] : spec.input)]);
  type Step = (x: tf.Tensor, inputs?: tf.Tensor[]) => tf.Tensor;
  const steps: Step[] = spec.layers.map((layer, k): Step => {
    const record = records[k];
    const name = (i: number) => record.params[i].name;
    let step: Step;
    switch (layer.type) {
      case "conv1d":
      case "conv2d": {
        const make = layer.type === "conv1d" ? tf.layers.conv1d : tf.layers.conv2d;
        const args = { filters: layer.filters, kernelSize: layer.kernel as number, strides: layer.stride ?? 1, padding: layer.padding as "valid" | "same" };
        const conv = adopt(make(args), probe, [{ name: name(0) }, { name: name(1) }]);
        step = (x) => applyActivation(layer.activation ?? "linear", conv.apply(x) as tf.Tensor);
        break;
      }
      case "max_pool1d":
      case "max_pool2d":
      case "avg_pool1d":
      case "avg_pool2d": {
        const two = layer.type.endsWith("2d");
        const make = layer.type.startsWith("max") ? (two ? tf.layers.maxPooling2d : tf.layers.maxPooling1d) : two ? tf.layers.averagePooling2d : tf.layers.averagePooling1d;
        const pool = adopt((make as (a: { poolSize: number; padding: "valid" }) => tf.layers.Layer)({ poolSize: layer.size as number, padding: "valid" }), probe, []);
        step = (x) => pool.apply(x) as tf.Tensor;
        break;
      }
      case "global_avg_pool": {
        const pool = adopt(probe.shape.length === 3 ? tf.layers.globalAveragePooling1d({}) : tf.layers.globalAveragePooling2d({}), probe, []);
        step = (x) => pool.apply(x) as tf.Tensor;
        break;
      }
      case "flatten":
        step = (x) => x.reshape([x.shape[0], -1]);
        break;
      case "dense": {
        const dense = adopt(tf.layers.dense({ units: layer.units }), probe.reshape([probe.shape[0], -1]), [{ name: name(0), transpose: true }, { name: name(1) }]);
        step = (x) => applyActivation(layer.activation ?? "linear", dense.apply(x.reshape([x.shape[0], -1])) as tf.Tensor);
        break;
      }
      case "batchnorm": {
        // Keras's momentum is the weight of the old moving value: 1 − PyTorch's
        const args = { axis: -1, momentum: 1 - (layer.momentum ?? 0.1), epsilon: layer.eps ?? 1e-5 };
        const bn = adopt(tf.layers.batchNormalization(args), probe, [{ name: name(0) }, { name: name(1) }], [`m${record.label}`, `v${record.label}`]);
        step = (x, inputs) => {
          inputs?.push(x);
          return bn.apply(x, { training: options.training }) as tf.Tensor;
        };
        break;
      }
      case "dropout": {
        const stream = ++streams;
        step = (x) => (options.training ? tf.mul(x, options.mask(stream, x.shape)) : x);
        break;
      }
      default:
        throw new Error(`no TF.js layer here for ${layer.type}`);
    }
    probe = step(probe);
    return step;
  });
  const run = (X: tf.Tensor, inputs?: tf.Tensor[]) => steps.reduce((a, f) => f(a, inputs), X);
  return {
    objective: (X, Y) => {
      const a = run(X);
      const axes = Array.from({ length: a.shape.length - 1 }, (_, k) => k + 1);
      const perSample = spec.loss === "mse" ? tf.mul(0.5, tf.sum(tf.square(tf.sub(a, Y)), axes)) : tf.neg(tf.sum(tf.mul(Y, tf.logSoftmax(a, 1)), 1));
      return tf.mean(perSample) as tf.Scalar;
    },
    output: (X, inputs) => {
      const a = run(X, inputs);
      return spec.loss === "softmax_cross_entropy" ? tf.softmax(a, 1) : a;
    },
    variables,
    dispose: () => layers.forEach((l) => l.dispose()),
  };
}

/** Inverted dropout's mask from the reference generator: sample s, element e hashes s·size + e. */
function referenceMask(seed: number, step: number, rate: (stream: number) => number) {
  return (stream: number, shape: number[]): tf.Tensor => {
    const size = shape.slice(1).reduce((a, b) => a * b, 1);
    const r = rate(stream);
    const values = Float32Array.from({ length: shape[0] * size }, (_, c) => (uniform24(seed, step, stream, c) >= r ? 1 / (1 - r) : 0));
    return tf.tensor(values, shape);
  };
}

// ---- the comparison -------------------------------------------------------------------------------------------

interface Case {
  readonly spec: Spec;
  readonly net: Net;
  readonly params: Float64Array;
  readonly state: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly batch: number;
}

/** The layout of a module's parameters or state as a lookup of float32 values. */
function lookup(layout: readonly { name: string; shape: readonly number[]; offset: number; size: number }[], values: Float64Array): Lookup {
  return (name) => {
    const p = layout.find((q) => q.name === name);
    if (!p) throw new Error(`no value ${name}`);
    return { values: Float32Array.from(values.subarray(p.offset, p.offset + p.size)), shape: [...p.shape], offset: p.offset };
  };
}

interface Expected {
  readonly trainingLoss: number;
  readonly trainingOutput: Float64Array;
  readonly grad: Float64Array;
  /** Each batchnorm's state after the step, by name. */
  readonly state: Map<string, number[]>;
  /** Each batchnorm's input in training mode: the mean and standard deviation of each channel, by the running mean's name. */
  readonly inputs: Map<string, { mean: number[]; std: number[] }>;
  readonly loss: number;
  readonly output: Float64Array;
}

function expected(c: Case, m: Module): Expected {
  return scoped(() => {
    const dropouts = c.spec.layers.filter((l) => l.type === "dropout").map((l) => (l as { rate?: number }).rate ?? 0.5);
    const seed = c.state[m.meta.state.find((s) => s.name === "rng_seed")?.offset ?? -1];
    const step = c.state[m.meta.state.find((s) => s.name === "rng_step")?.offset ?? -1];
    const params = lookup(m.meta.params, c.params);
    const state = lookup(m.meta.state, c.state);
    const records = c.net.layers ?? [];
    const input = typeof c.spec.input === "number" ? [c.spec.input] : c.spec.input;
    const X = tf.tensor(Float32Array.from(c.x), [c.batch, ...input]);
    const Y = tf.tensor(Float32Array.from(c.y), [c.batch, ...c.net.output.shape]);

    const training = tfNet(c.spec, records, params, state, { training: true, mask: referenceMask(seed, step, (k) => dropouts[k - 1]) });
    const inputs: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => training.objective(X, Y), training.variables.map((v) => v.variable));
    const grad = new Float64Array(c.params.length);
    for (const v of training.variables) {
      const g = grads[v.variable.name];
      grad.set((v.transpose ? g.transpose() : g).dataSync(), v.offset);
    }
    const trainingOutput = Float64Array.from(training.output(X, inputs).dataSync());
    // the running statistics after the step, from each batchnorm's input in TF.js
    const newState = new Map<string, number[]>();
    const inputStats = new Map<string, { mean: number[]; std: number[] }>();
    const bns = records.filter((r) => r.type === "batchnorm");
    bns.forEach((record, k) => {
      const layer = c.spec.layers[Number(record.label) - 1] as { momentum?: number };
      const mu = layer.momentum ?? 0.1;
      const a = inputs[k];
      const channels = a.shape[a.shape.length - 1];
      const rows = a.reshape([-1, channels]);
      const n = rows.shape[0];
      const mean = Array.from(rows.mean(0).dataSync());
      const unbiased = Array.from(tf.sum(tf.square(tf.sub(rows, tf.tensor(mean))), 0).dataSync(), (s) => s / (n - 1));
      inputStats.set(`m${record.label}`, { mean, std: unbiased.map((v) => Math.sqrt((v * (n - 1)) / n)) });
      const old = (name: string) => Array.from(state(name).values);
      newState.set(`m${record.label}`, old(`m${record.label}`).map((r, i) => (1 - mu) * r + mu * mean[i]));
      newState.set(`v${record.label}`, old(`v${record.label}`).map((r, i) => (1 - mu) * r + mu * unbiased[i]));
    });
    training.dispose();

    const inference = tfNet(c.spec, records, params, state, { training: false, mask: () => tf.scalar(NaN) });
    const loss = inference.objective(X, Y).dataSync()[0];
    const output = Float64Array.from(inference.output(X).dataSync());
    inference.dispose();
    return { trainingLoss: value.dataSync()[0], trainingOutput, grad, state: newState, inputs: inputStats, loss, output };
  });
}

const BUILDS: [Kernels, Precision][] = [
  ["js", "f64"],
  ["wasm", "f32"],
  ["js", "f32"],
  ["wasm", "f64"],
];

const seen = new Set<string>();

async function compare(n: 1 | 2, index: number): Promise<void> {
  const rng = makeRng(7000 + 100 * n + index);
  const { net, ...spec } = randomSpec(rng, n, index) as Spec & { net: Net };
  spec.layers.forEach((l) => seen.add(l.type));
  const batch = int(rng, 3, 5);
  const what = JSON.stringify(spec.layers);
  let c: Case | undefined;
  let want: Expected | undefined;
  for (const [kernels, precision] of BUILDS) {
    const { module: m } = await compileStateful<FloatArray>(net, precision, kernels);
    if (!c) {
      const state = Float64Array.from(m.initState(int(rng, 1, 1000)));
      // running variances away from their start: inference reads them
      for (const s of m.meta.state) if (s.name.startsWith("v")) state.set(randomArray(rng, [s.size], 0.5, 1.5), s.offset);
      const raw = randomArray(rng, [batch * m.meta.targetSize], 0, 1);
      const y = spec.loss === "softmax_cross_entropy" ? normalisedRows(raw, m.meta.targetSize) : raw;
      c = { spec, net, params: randomArray(rng, [m.meta.paramCount], -0.7, 0.7), state, x: randomArray(rng, [batch * m.meta.inputSize]), y, batch };
      // running means near the batch's, within a standard deviation, as after a few training steps: the batch
      // moments are taken about them, which keeps f32's digits (from far away, f32 loses |mean − shift|²/var of them)
      for (const [name, { mean, std }] of expected(c, m).inputs) {
        const s = m.meta.state.find((q) => q.name === name);
        if (!s) throw new Error(`no state ${name}`);
        state.set(mean.map((v, i) => v + std[i] * (2 * rng() - 1)), s.offset);
      }
      want = expected(c, m);
    }
    if (!want) throw new Error("unreachable");
    const A = precision === "f64" ? Float64Array : Float32Array;
    const [params, x, y] = [A.from(c.params), A.from(c.x), A.from(c.y)];
    const label = `${kernels} ${precision} ${what}`;
    const out = new A(batch * m.meta.outputSize);
    expect(mismatch([m.trainingLoss(params, A.from(c.state), x, y, batch)], [want.trainingLoss], 2e-4), `training loss, ${label}`).toBeUndefined();
    m.trainingForward(params, A.from(c.state), x, out, batch);
    expect(mismatch(out, want.trainingOutput, 2e-4), `training output, ${label}`).toBeUndefined();
    m.forward(params, A.from(c.state), x, out, batch);
    expect(mismatch(out, want.output, 2e-4), `inference output, ${label}`).toBeUndefined();
    expect(mismatch([m.loss(params, A.from(c.state), x, y, batch)], [want.loss], 2e-4), `inference loss, ${label}`).toBeUndefined();
    const grads = new A(m.meta.paramCount);
    const state = A.from(c.state);
    m.gradient(params, state, x, y, grads, batch);
    expect(mismatch(grads, want.grad, 2e-3, 1e-2), `gradient, ${label}`).toBeUndefined();
    for (const [name, values] of want.state) {
      const s = m.meta.state.find((q) => q.name === name);
      if (!s) throw new Error(`no state ${name}`);
      expect(mismatch(state.subarray(s.offset, s.offset + s.size), values, 1e-4), `${name} after the step, ${label}`).toBeUndefined();
    }
  }
}

describe("random stacks with batchnorm and dropout against TF.js, both modes, both kernels, f64 and f32", () => {
  for (let i = 0; i < 4; i++) it(`2-D net ${i}`, () => compare(2, i));
  for (let i = 0; i < 3; i++) it(`1-D net ${i}`, () => compare(1, i));

  it("covered the layer types mixed in", () => {
    const types = ["batchnorm", "dropout", "dense", "flatten", "global_avg_pool", "conv1d", "conv2d"];
    expect(types.filter((t) => !seen.has(t))).toEqual([]);
    expect([...seen].some((t) => t.includes("pool") && t !== "global_avg_pool")).toBe(true);
  });
});
