/**
 * The reference networks of the benchmark, their batch sizes and FLOP counts, the compiler-scaling MLPs, and
 * the seeded parameters and data every peer is given.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isLayerSpec, type EquationNetSpec, type LayerNetSpec, type NetSpec } from "../src/spec/types.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What the targets of a network look like; the loss decides. */
export type TargetKind = "one-hot" | "binary" | "real";

export interface RefNet {
  /** Short id used by `--only` and in the tables (the spec's name). */
  readonly id: string;
  readonly spec: NetSpec;
  readonly batch: number;
  /** Where the spec comes from (an example file, or bench/nets.ts). */
  readonly source: string;
  /** One line saying what the network is. */
  readonly shape: string;
}

function example(name: string): NetSpec {
  return JSON.parse(readFileSync(join(ROOT, "examples", `${name}.json`), "utf8")) as NetSpec;
}

/** A layer net of `depth` dense layers of `width` units (with the given activation) on `input` features. */
function layers(units: readonly number[], activation: string, last: string): LayerNetSpec["layers"] {
  return units.map((u, i) => (i === units.length - 1 ? { type: "dense", units: u, activation: last } : { type: "dense", units: u, activation }));
}

/** The deep narrow net: 8 dense layers 32 → 32, tanh, squared error. */
export const DEEP_NARROW: LayerNetSpec = {
  name: "deep_narrow",
  input: 32,
  layers: layers(Array(8).fill(32), "tanh", "tanh"),
  loss: "mse",
};

/** The wide net: 784 → 1024 → 1024 → 10, relu hidden layers, softmax cross-entropy. */
export const WIDE: LayerNetSpec = {
  name: "wide",
  input: 784,
  layers: layers([1024, 1024, 10], "relu", "linear"),
  loss: "softmax_cross_entropy",
};

export function referenceNets(): RefNet[] {
  return [
    { id: "chain3", spec: example("chain3"), batch: 1, source: "examples/chain3.json", shape: "e = w3·(w2·(w1·x)), ½(e−t)²" },
    { id: "softmax_10_20_2", spec: example("softmax_10_20_2"), batch: 1, source: "examples/softmax_10_20_2.json", shape: "10→20→2, linear, no bias, softmax-CE" },
    { id: "xor_sigmoid", spec: example("xor_sigmoid"), batch: 4, source: "examples/xor_sigmoid.json", shape: "2→4→1 sigmoid, BCE" },
    { id: "mnist_mlp", spec: example("mnist_mlp"), batch: 64, source: "examples/mnist_mlp.json", shape: "784→128 relu→10, softmax-CE, l2 1e-4" },
    { id: "deep_narrow", spec: DEEP_NARROW, batch: 16, source: "bench/nets.ts", shape: "32→(32 tanh)×8, MSE" },
    { id: "wide", spec: WIDE, batch: 32, source: "bench/nets.ts", shape: "784→1024→1024 relu→10, softmax-CE" },
  ];
}

/**
 * The large-product micro-benchmarks: one dense layer without bias or activation (Z = X·Wᵀ), squared error, so
 * a forward pass is one product and a training step is that product plus the weight-gradient product dW = dZᵀ·X
 * (no gradient to the input). Timed for every peer like the reference nets, reported in GFLOP/s.
 */
export function productNets(): RefNet[] {
  const linear = (input: number, units: number, batch: number): RefNet => ({
    id: `linear_${input}x${units}`,
    spec: { name: `linear_${input}x${units}`, input, layers: [{ type: "dense", units, activation: "linear", bias: false }], loss: "mse" },
    batch,
    source: "bench/nets.ts",
    shape: `${input}→${units}, linear, no bias, MSE`,
  });
  return [linear(784, 128, 64), linear(1024, 1024, 32)];
}

/** An MLP of `depth` dense layers of `width` units (relu, the last linear), softmax cross-entropy: for compile scaling. */
export function scalingMlp(depth: number, width: number): LayerNetSpec {
  return {
    name: `mlp_${depth}x${width}`,
    input: width,
    layers: layers(Array(depth).fill(width), "relu", "linear"),
    loss: "softmax_cross_entropy",
  };
}

// ---- sizes and FLOPs --------------------------------------------------------------------------------

/** A dense layer as the hand-written baseline and the TF.js peer see it. */
export interface DenseLayer {
  readonly fanIn: number;
  readonly units: number;
  readonly activation: string;
  readonly bias: boolean;
  /** Offsets of W (shape [units, fanIn], row-major) and b in the flat parameter vector; b is −1 without bias. */
  readonly wOffset: number;
  readonly bOffset: number;
}

export interface MlpLayout {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly paramCount: number;
  readonly layers: readonly DenseLayer[];
  readonly loss: LayerNetSpec["loss"];
  readonly l2: number;
}

/** bpgen's flat parameter layout of a layer net (docs/net-json.md): W1 [units, in] row-major, b1, W2, b2, … */
export function mlpLayout(spec: LayerNetSpec): MlpLayout {
  const inputSize = typeof spec.input === "number" ? spec.input : spec.input.reduce((a, b) => a * b, 1);
  const out: DenseLayer[] = [];
  let offset = 0;
  let fanIn = inputSize;
  for (const l of spec.layers) {
    const wOffset = offset;
    offset += l.units * fanIn;
    const bias = l.bias ?? true;
    const bOffset = bias ? offset : -1;
    if (bias) offset += l.units;
    out.push({ fanIn, units: l.units, activation: l.activation ?? "linear", bias, wOffset, bOffset });
    fanIn = l.units;
  }
  return { inputSize, outputSize: fanIn, paramCount: offset, layers: out, loss: spec.loss, l2: spec.l2 ?? 0 };
}

/** Multiply-adds of one sample's forward pass, counted as 2 FLOPs each: Σ 2·in·out over dense layers (chain3: 3 scalar products). */
export function forwardFlopsPerSample(spec: NetSpec): number {
  if (!isLayerSpec(spec)) return 2 * Object.keys(spec.params).length;
  return mlpLayout(spec).layers.reduce((acc, l) => acc + 2 * l.fanIn * l.units, 0);
}

/**
 * A training step: per dense layer the forward product and the weight-gradient product, plus the product back
 * to its input for every layer but the first (the input needs no gradient): 2·in·out FLOPs each. chain3: 3×
 * its forward products.
 */
export function trainFlopsPerSample(spec: NetSpec): number {
  if (!isLayerSpec(spec)) return 3 * forwardFlopsPerSample(spec);
  return mlpLayout(spec).layers.reduce((acc, l, i) => acc + (i === 0 ? 2 : 3) * 2 * l.fanIn * l.units, 0);
}

export function targetKind(spec: NetSpec): TargetKind {
  if (!isLayerSpec(spec)) return "real";
  if (spec.loss === "softmax_cross_entropy") return "one-hot";
  if (spec.loss === "binary_cross_entropy") return "binary";
  return "real";
}

/** chain3 is the one equation-form reference net; the baselines implement exactly its equations. */
export function isChain3(spec: NetSpec): spec is EquationNetSpec {
  if (isLayerSpec(spec)) return false;
  const p = Object.keys(spec.params);
  return (
    p.join(",") === "w1,w2,w3" &&
    p.every((k) => spec.params[k].shape.length === 0) &&
    JSON.stringify(spec.equations) === JSON.stringify(["y = w1 * x", "z = w2 * y", "e = w3 * z"]) &&
    spec.output === "e" &&
    spec.loss.replace(/\s+/g, "") === "0.5*(e-t)^2"
  );
}

// ---- seeded data --------------------------------------------------------------------------------------

/** mulberry32: a seeded uniform [0, 1) generator. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Batch {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly batch: number;
  readonly inputSize: number;
  readonly targetSize: number;
}

/** Inputs uniform in [0, 1) (like pixel intensities); targets one-hot, 0/1, or uniform in [−0.5, 0.5). */
export function makeBatch(spec: NetSpec, batch: number, seed = 7): Batch {
  const rand = seeded(seed);
  const inputSize = isLayerSpec(spec) ? mlpLayout(spec).inputSize : 1;
  const targetSize = isLayerSpec(spec) ? mlpLayout(spec).outputSize : 1;
  const x = new Float32Array(batch * inputSize);
  for (let i = 0; i < x.length; i++) x[i] = rand();
  const y = new Float32Array(batch * targetSize);
  const kind = targetKind(spec);
  for (let s = 0; s < batch; s++) {
    if (kind === "one-hot") y[s * targetSize + Math.floor(rand() * targetSize)] = 1;
    else for (let i = 0; i < targetSize; i++) y[s * targetSize + i] = kind === "binary" ? (rand() < 0.5 ? 0 : 1) : rand() - 0.5;
  }
  return { x, y, batch, inputSize, targetSize };
}

/**
 * The parameters every peer starts from: bpgen's initParams(1) plus seeded uniform noise of ±0.01, so that a
 * constant initialisation (softmax_10_20_2 has every weight 0.1) does not make the step-0 loss check trivial.
 */
export function benchParams(init: Float32Array, seed = 11): Float32Array {
  const rand = seeded(seed);
  const p = Float32Array.from(init);
  for (let i = 0; i < p.length; i++) p[i] += 0.02 * (rand() - 0.5);
  return p;
}
