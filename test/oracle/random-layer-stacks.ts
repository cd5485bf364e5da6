/**
 * Seeded random stacks of every layer type of the layer form (docs/net-json.md), for the oracle's layer-stack
 * families (test/oracle/check-layer-stacks.ts): convolutions of 1, 2 and 3 spatial axes with random kernels,
 * strides, paddings and dilations, max and average pooling, global_avg_pool, flatten, activation, layernorm,
 * batchnorm, dropout, residual blocks (identity, projection of the channels, strided projection of a block that
 * downsamples), and dense heads. Stacks without modes run on the interpreter; stacks with batchnorm and dropout
 * ("modal") are compiled, and compared in training and inference mode. Each stack is drawn again until it builds
 * (its windows fit its input), so a seed gives one valid stack on every platform.
 */
import { buildLayerNet } from "../../src/frontend/layers/index.ts";
import type { Net } from "../../src/ir/net.ts";
import { parseSpec } from "../../src/spec/load.ts";
import { isLayerSpec, type LayerNetSpec, type LayerSpec, type Padding } from "../../src/spec/types.ts";
import type { Rng } from "./random-nets.ts";

export type StackSpec = LayerNetSpec<LayerSpec>;
export type Axes = 1 | 2 | 3;

const ACTIVATIONS = ["linear", "tanh", "sigmoid", "softplus", "relu"] as const;
// no relu in front of a batchnorm: a channel that is 0 everywhere has no variance, and 1/√eps magnifies rounding
const MODAL_ACTIVATIONS = ["linear", "tanh", "sigmoid"] as const;

const batchnorm = (rng: Rng): LayerSpec => ({ type: "batchnorm", ...(rng.bool() ? { momentum: rng.pick([0.01, 0.3, 0.9]) } : {}), ...(rng.bool() ? { eps: 1e-3 } : {}) });
const dropout = (rng: Rng): LayerSpec => ({ type: "dropout", ...(rng.bool(0.7) ? { rate: rng.pick([0.1, 0.3, 0.6]) } : {}) });

/**
 * A residual block on `channels` channels: a convolution (and a layernorm, or in a modal stack a batchnorm or a
 * dropout); the identity, or a projection when the convolution changes the channels, or when it downsamples
 * (stride 2, padded as PyTorch's ResNets, as TF.js's "same", or not at all).
 */
function randomResidual(rng: Rng, n: Axes, channels: number, modal: boolean): LayerSpec {
  const downsample = rng.bool(0.4);
  const projection = downsample || rng.bool();
  const filters = projection ? rng.int(1, 3) : channels;
  const kernel = rng.int(1, 3);
  const conv: LayerSpec = downsample
    ? { type: `conv${n}d`, filters, kernel, stride: 2, padding: rng.pick(["same", "valid", Math.floor(kernel / 2)] as const), activation: rng.pick(modal ? MODAL_ACTIVATIONS : ACTIVATIONS) }
    : { type: `conv${n}d`, filters, kernel, padding: "same", activation: rng.pick(modal ? MODAL_ACTIVATIONS : ACTIVATIONS) };
  const block: LayerSpec[] = [conv];
  if (modal) block.push(rng.bool() ? batchnorm(rng) : dropout(rng));
  else if (rng.bool()) block.push({ type: "layernorm" });
  return { type: "residual", layers: block, ...(projection ? { projection: true } : {}) };
}

/** A layer of a stack without modes for an input of `n` spatial axes with `channels` channels. */
function randomLayer(rng: Rng, n: Axes, channels: number): LayerSpec {
  const spatial = (lo: number, hi: number) => (rng.bool() ? rng.int(lo, hi) : Array.from({ length: n }, () => rng.int(lo, hi)));
  switch (rng.pick(["conv", "conv", "max", "avg", "layernorm", "activation", "residual"] as const)) {
    case "conv": {
      const stride = rng.bool(0.6) ? 1 : 2;
      // TF.js dilates only with stride 1
      const dilation = stride === 1 && rng.bool(0.5) ? 2 : 1;
      const padding: Padding = rng.bool(0.2) ? Array.from({ length: n }, (): [number, number] => [rng.int(0, 1), rng.int(0, 2)]) : rng.pick(["valid", "same", 1] as const);
      return { type: `conv${n}d`, filters: rng.int(1, 3), kernel: spatial(1, 3), stride, dilation, padding, activation: rng.pick(ACTIVATIONS), bias: rng.bool(0.8) };
    }
    case "max":
      return { type: `max_pool${n}d`, size: spatial(1, 2), ...(rng.bool() ? { stride: 1 } : {}), padding: rng.pick(["valid", "same"] as const) };
    case "avg":
      // TF.js's "same" averages the cells inside the input only; PyTorch's padding (ours) counts zeros: numbers here
      return { type: `avg_pool${n}d`, size: spatial(1, 2), ...(rng.bool() ? { stride: 1 } : {}), padding: rng.pick(["valid", 1] as const) };
    case "layernorm":
      return { type: "layernorm", ...(rng.bool() ? { eps: 1e-3 } : {}) };
    case "activation":
      return { type: "activation", activation: rng.pick(["tanh", "softplus", "sigmoid"]) };
    case "residual":
      return randomResidual(rng, n, channels, false);
  }
}

/** A layer of a stack with modes: batchnorm and dropout among convolutions, poolings and residual blocks. */
function randomModalLayer(rng: Rng, n: 1 | 2, channels: number): LayerSpec {
  switch (rng.pick(["conv", "batchnorm", "batchnorm", "dropout", "pool", "residual", "other"] as const)) {
    case "conv":
      return { type: `conv${n}d`, filters: rng.int(1, 3), kernel: rng.int(1, 3), stride: rng.bool(0.7) ? 1 : 2, padding: rng.pick(["valid", "same"] as const), activation: rng.pick(MODAL_ACTIVATIONS) };
    case "batchnorm":
      return batchnorm(rng);
    case "dropout":
      return dropout(rng);
    case "pool":
      return { type: rng.pick([`max_pool${n}d`, `avg_pool${n}d`] as const), size: 2, padding: "valid" };
    case "residual":
      return randomResidual(rng, n, channels, true);
    case "other":
      // a layernorm of one channel has no variance either: its output is its bias, and TF.js's gradient through it is noise
      return rng.bool() && channels > 1 ? { type: "layernorm" } : { type: "activation", activation: rng.pick(["tanh", "softplus"]) };
  }
}

/** The output channels of a stack's layer, for the next identity block (only convolutions and blocks change them). */
function channelsAfter(layer: LayerSpec, channels: number): number {
  if (layer.type.startsWith("conv")) return (layer as { filters: number }).filters;
  if (layer.type === "residual") return channelsAfter(layer.layers[0], channels);
  return channels;
}

/** The net of `spec`, built as bpgen builds it; throws when a window does not fit its input. */
export function buildStack(spec: StackSpec): Net {
  const { spec: checked } = parseSpec("net.json", JSON.stringify(spec, null, 2));
  if (!isLayerSpec(checked)) throw new Error("not a layer net");
  return buildLayerNet(checked as unknown as StackSpec);
}

const builds = (spec: StackSpec): boolean => {
  try {
    buildStack(spec);
    return true;
  } catch {
    return false;
  }
};

/** The layers of every stack type, flattened with the layers inside blocks. */
export function allLayers(layers: readonly LayerSpec[]): LayerSpec[] {
  return layers.flatMap((l) => (l.type === "residual" ? [l, ...allLayers(l.layers)] : [l]));
}

/**
 * A random stack without modes of `n` spatial axes that builds: 1–3 random layers, then a classifier head
 * (global_avg_pool or flatten, and a dense layer; softmax cross-entropy), or none (mse on the image); L2 at times.
 */
export function randomStack(rng: Rng, n: Axes, name: string): StackSpec {
  for (;;) {
    const input = [...Array.from({ length: n }, () => rng.int(n === 3 ? 3 : 4, n === 3 ? 4 : 7)), rng.int(1, 3)];
    const layers: LayerSpec[] = [];
    let channels = input[n];
    for (let k = rng.int(1, 3); k > 0; k--) {
      const layer = randomLayer(rng, n, channels);
      layers.push(layer);
      channels = channelsAfter(layer, channels);
    }
    const head = rng.pick(["global", "flatten", "none"] as const);
    if (head === "global" && n < 3) layers.push({ type: "global_avg_pool" }, { type: "dense", units: rng.int(2, 3) });
    if (head === "flatten") layers.push({ type: "flatten" }, { type: "dense", units: rng.int(2, 3), activation: rng.pick(ACTIVATIONS) });
    const classifier = layers[layers.length - 1].type === "dense";
    const spec: StackSpec = { name, input, layers, loss: classifier ? "softmax_cross_entropy" : "mse", ...(rng.bool(0.3) ? { l2: 0.01 } : {}) };
    if (builds(spec)) return spec;
  }
}

/**
 * A random stack with modes of `n` spatial axes that builds, with at least one batchnorm and one dropout (in the
 * stack or in a block): 2–4 random layers, then flatten, dense, batchnorm and dropout, or global_avg_pool; a dense
 * layer last.
 */
export function randomModalStack(rng: Rng, n: 1 | 2, name: string): StackSpec {
  for (;;) {
    const input = [...Array.from({ length: n }, () => rng.int(4, 6)), rng.int(1, 3)];
    const layers: LayerSpec[] = [];
    let channels = input[n];
    for (let k = rng.int(2, 4); k > 0; k--) {
      const layer = randomModalLayer(rng, n, channels);
      layers.push(layer);
      channels = channelsAfter(layer, channels);
    }
    if (rng.bool()) layers.push({ type: "flatten" }, { type: "dense", units: rng.int(3, 4), activation: rng.pick(MODAL_ACTIVATIONS) }, batchnorm(rng), dropout(rng));
    else layers.push({ type: "global_avg_pool" });
    layers.push({ type: "dense", units: rng.int(2, 3) });
    const types = allLayers(layers).map((l) => l.type);
    if (!types.includes("batchnorm") || !types.includes("dropout")) continue;
    const spec: StackSpec = { name, input, layers, loss: rng.bool() ? "softmax_cross_entropy" : "mse", ...(rng.bool(0.2) ? { l2: 0.01 } : {}) };
    if (builds(spec)) return spec;
  }
}

/** What a stack holds: its layer types, and the options the families must cover ("conv stride", "strided projection"). */
export function features(layers: readonly LayerSpec[], inBlock = false): Set<string> {
  const seen = new Set<string>();
  for (const l of layers) {
    seen.add(l.type);
    const family = l.type.slice(0, 3);
    if ("padding" in l && l.padding !== undefined) seen.add(`${family} padding ${Array.isArray(l.padding) ? "per axis" : l.padding}`);
    if ("dilation" in l && l.dilation !== undefined && l.dilation !== 1) seen.add("dilation");
    if ("stride" in l && l.stride !== undefined && l.stride !== 1) seen.add(`${family} stride`);
    if (inBlock && (l.type === "batchnorm" || l.type === "dropout")) seen.add(`${l.type} in a block`);
    if (l.type === "residual") {
      const strided = l.layers.some((inner) => "stride" in inner && inner.stride !== undefined && inner.stride !== 1);
      seen.add(!l.projection ? "identity" : strided ? "strided projection" : "projection");
      for (const f of features(l.layers, true)) seen.add(f);
    }
  }
  return seen;
}
