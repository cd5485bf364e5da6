/**
 * The layer types with modes, batchnorm and dropout, through the layer form: what the builder makes of a stack
 * (one build without them, two with them, the state's names and order), the running statistics after a few
 * training steps against a hand computation, the inference output from them, the gradient against central
 * differences of trainingLoss at a fixed state, dropout's kept fraction, scale and identity in inference, and
 * `bpgen gradcheck` on a layer net with both. Modules are compiled with the TypeScript and WebAssembly kernels.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildLayerNet } from "../src/frontend/layers/index.ts";
import type { Net } from "../src/ir/net.ts";
import { uniform24 } from "../src/ir/random.ts";
import type { FloatArray, StatefulNetModule } from "../src/module-api.ts";
import type { Kernels, Precision } from "../src/pipeline.ts";
import { parseSpec } from "../src/spec/load.ts";
import { isLayerSpec, type LayerNetSpec, type LayerSpec } from "../src/spec/types.ts";
import { bpgen, tempDir } from "./helpers/cli.ts";
import { makeRng, mismatch, randomArray } from "./helpers/ir-util.ts";
import { compileStateful } from "./helpers/stateful-nets.ts";

type Spec = Omit<LayerNetSpec<LayerSpec>, "name">;
type Module = StatefulNetModule<FloatArray>;

function layerNet(net: Spec): Net {
  const { spec } = parseSpec("net.json", JSON.stringify({ name: "modes", ...net }));
  if (!isLayerSpec(spec)) throw new Error("not a layer net");
  return buildLayerNet(spec as unknown as LayerNetSpec<LayerSpec>);
}

const BUILDS: [Kernels, Precision][] = [
  ["js", "f64"],
  ["wasm", "f64"],
  ["js", "f32"],
  ["wasm", "f32"],
];

async function compiled(net: Net, kernels: Kernels, precision: Precision): Promise<Module> {
  return (await compileStateful<FloatArray>(net, precision, kernels)).module;
}

const arrayFor = (precision: Precision) => (precision === "f64" ? Float64Array : Float32Array);

/** The state value `name` of a module's state array. */
function stateValue(m: Module, state: FloatArray, name: string): number[] {
  const place = m.meta.state.find((s) => s.name === name);
  if (!place) throw new Error(`no state ${name}`);
  return Array.from(state.subarray(place.offset, place.offset + place.size));
}

describe("the builder", () => {
  test("a stack without modal layers has no state and no training mode", () => {
    const net = layerNet({ input: [6, 6, 1], layers: [{ type: "conv2d", filters: 2, kernel: 3 }, { type: "layernorm" }, { type: "flatten" }, { type: "dense", units: 2 }], loss: "mse" });
    expect(net.state).toBeUndefined();
    expect(net.training).toBeUndefined();
  });

  test("batchnorm and dropout: the state named by the layers' places, the generator last, one update each but the seed", () => {
    const net = layerNet({
      input: [6, 6, 1],
      layers: [
        { type: "conv2d", filters: 2, kernel: 3 },
        { type: "dropout" },
        { type: "residual", layers: [{ type: "batchnorm" }, { type: "dropout", rate: 0.2 }] },
        { type: "flatten" },
        { type: "batchnorm", momentum: 0.3 },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
    });
    expect(net.state?.map((s) => [s.name, s.shape, s.init])).toEqual([
      ["m3_1", [2], { kind: "constant", value: 0 }],
      ["v3_1", [2], { kind: "constant", value: 1 }],
      ["m5", [32], { kind: "constant", value: 0 }],
      ["v5", [32], { kind: "constant", value: 1 }],
      ["rng_seed", [], { kind: "seed" }],
      ["rng_step", [], { kind: "constant", value: 0 }],
    ]);
    expect(net.layers?.flatMap(function roles(l): [string, string][] {
      return [...l.inner.flatMap(roles), ...l.params.map((p): [string, string] => [p.name, p.role])];
    })).toEqual([
      ["W1", "weight"],
      ["b1", "bias"],
      ["g3_1", "gain"],
      ["b3_1", "bias"],
      ["g5", "gain"],
      ["b5", "bias"],
      ["W6", "weight"],
      ["b6", "bias"],
    ]);
    const updated = [...(net.training?.updates.keys() ?? [])].map((n) => net.graph.hint(n)).sort();
    expect(updated).toEqual(["m3_1", "m5", "rng_step", "v3_1", "v5"]);
    // the layers before the first modal one are the same nodes in both modes; the outputs differ
    expect(net.training?.output).not.toBe(net.output);
    const conv = net.layers?.[0].output;
    const reaches = (from: unknown, target: unknown): boolean => from === target || (from as { inputs: unknown[] }).inputs.some((i) => reaches(i, target));
    expect(reaches(net.training?.output, conv)).toBe(true);
    expect(net.layers?.map((l) => l.title)).toEqual(["conv2d 3×3, 2 filters", "dropout 0.5", "residual of 2 layers", "flatten", "batchnorm momentum 0.3", "dense 2"]);
  });

  test("the schema refuses a rate of 1 and a negative momentum", () => {
    expect(() => layerNet({ input: 3, layers: [{ type: "dropout", rate: 1 }], loss: "mse" })).toThrow(/dropout rate/);
    expect(() => layerNet({ input: 3, layers: [{ type: "batchnorm", momentum: -0.1 }], loss: "mse" })).toThrow(/momentum/);
  });
});

// ---- running statistics -------------------------------------------------------------------------------------

const POSITIONS = 3;
const CHANNELS = 2;
const MOMENTUM = 0.2;
const EPS = 1e-3;
/** batchnorm first, so its input is x and its statistics can be computed by hand from the batches. */
const FIRST = layerNet({
  input: [POSITIONS, CHANNELS],
  layers: [{ type: "batchnorm", momentum: MOMENTUM, eps: EPS }, { type: "flatten" }, { type: "dense", units: 2 }],
  loss: "mse",
});

/** Each channel's mean and unbiased variance over the samples and positions of a batch [batch, positions, channels]. */
function channelStatistics(x: Float64Array, batch: number): { mean: number[]; unbiased: number[] } {
  const n = batch * POSITIONS;
  const values = (c: number) => Array.from({ length: n }, (_, k) => x[k * CHANNELS + c]);
  const mean = Array.from({ length: CHANNELS }, (_, c) => values(c).reduce((s, v) => s + v, 0) / n);
  const unbiased = mean.map((mu, c) => values(c).reduce((s, v) => s + (v - mu) ** 2, 0) / (n - 1));
  return { mean, unbiased };
}

describe.each(BUILDS)("running statistics, %s kernels %s", (kernels, precision) => {
  test("three sgdSteps move them as PyTorch does (the variance unbiased); forward then normalises with them", async () => {
    const m = await compiled(FIRST, kernels, precision);
    const A = arrayFor(precision);
    const rng = makeRng(7);
    const params = m.initParams(3);
    const state = m.initState(1);
    let mean = [0, 0];
    let variance = [1, 1];
    const batch = 5;
    for (let step = 0; step < 3; step++) {
      // a mean far from 0 and a spread of a few units, different each step
      const x = randomArray(rng, [batch * POSITIONS * CHANNELS], 2 + step, 6 + 2 * step);
      const stats = channelStatistics(x, batch);
      mean = mean.map((r, c) => (1 - MOMENTUM) * r + MOMENTUM * stats.mean[c]);
      variance = variance.map((r, c) => (1 - MOMENTUM) * r + MOMENTUM * stats.unbiased[c]);
      m.sgdStep(params, state, A.from(x), A.from(randomArray(rng, [batch * 2])), 0.01, batch);
    }
    const tol = precision === "f64" ? 1e-12 : 2e-6;
    expect(mismatch(stateValue(m, state, "m1"), mean, tol)).toBeUndefined();
    expect(mismatch(stateValue(m, state, "v1"), variance, tol)).toBeUndefined();

    // forward: W · flatten((x − mean)/√(var + eps) · g + b) + bias, with the running statistics
    const x = randomArray(rng, [POSITIONS * CHANNELS], -3, 3);
    const out = new A(2);
    m.forward(params, state, A.from(x), out, 1);
    const p = (name: string) => {
      const place = m.meta.params.find((q) => q.name === name);
      if (!place) throw new Error(`no parameter ${name}`);
      return Array.from(params.subarray(place.offset, place.offset + place.size));
    };
    const [g, b, W, bias] = [p("g1"), p("b1"), p("W3"), p("b3")];
    const normalised = Array.from(x, (v, k) => ((v - mean[k % CHANNELS]) / Math.sqrt(variance[k % CHANNELS] + EPS)) * g[k % CHANNELS] + b[k % CHANNELS]);
    const want = [0, 1].map((i) => bias[i] + normalised.reduce((s, v, k) => s + W[i * normalised.length + k] * v, 0));
    expect(mismatch(out, want, precision === "f64" ? 1e-12 : 1e-5)).toBeUndefined();
  });
});

test("one value per channel in a training batch: the running variance stays, the mean moves, the loss is finite", async () => {
  const net = layerNet({ input: 2, layers: [{ type: "batchnorm" }, { type: "dense", units: 1 }], loss: "mse" });
  const m = await compiled(net, "js", "f64");
  const params = m.initParams(1);
  const state = m.initState(1);
  const grads = new Float64Array(params.length);
  const J = m.gradient(params, state, Float64Array.of(3, -5), Float64Array.of(1), grads, 1);
  expect(Number.isFinite(J)).toBe(true);
  expect(grads.every(Number.isFinite)).toBe(true);
  expect(stateValue(m, state, "m1")).toEqual([0.1 * 3, 0.1 * -5]);
  expect(stateValue(m, state, "v1")).toEqual([1, 1]);
});

// ---- gradients ----------------------------------------------------------------------------------------------

const DEEP: Spec = {
  input: [6, 2],
  layers: [
    { type: "conv1d", filters: 3, kernel: 3 },
    { type: "batchnorm", momentum: 0.5 },
    { type: "activation", activation: "tanh" },
    { type: "dropout", rate: 0.3 },
    { type: "max_pool1d", size: 2 },
    { type: "flatten" },
    { type: "dense", units: 4, activation: "sigmoid" },
    { type: "batchnorm" },
    { type: "dropout", rate: 0.2 },
    { type: "dense", units: 3 },
  ],
  loss: "softmax_cross_entropy",
};

describe.each(["js", "wasm"] as const)("the gradient, %s kernels, f64", (kernels) => {
  test("is the derivative of trainingLoss at the same state (batch terms, dropout mask and all)", async () => {
    const m = await compiled(layerNet(DEEP), kernels, "f64");
    const rng = makeRng(11);
    const batch = 4;
    const params = m.initParams(2) as Float64Array;
    const state = m.initState(5) as Float64Array;
    // running statistics away from their start, so a state read where the batch's should be would show
    state.set(randomArray(rng, [state.length - 2], 0.5, 1.5));
    const x = randomArray(rng, [batch * 12]);
    const y = new Float64Array(batch * 3).map((_, k) => (k % 3 === k % 2 ? 1 : 0));
    const before = Float64Array.from(state);
    const J = (p: Float64Array) => m.trainingLoss(p, Float64Array.from(before), x, y, batch);
    const grads = new Float64Array(params.length);
    const Jg = m.gradient(params, state, x, y, grads, batch);
    expect(Jg).toBeCloseTo(J(params), 12);
    const h = 1e-5;
    const numeric = Array.from(params, (_, i) => {
      const plus = Float64Array.from(params);
      const minus = Float64Array.from(params);
      plus[i] += h;
      minus[i] -= h;
      return (J(plus) - J(minus)) / (2 * h);
    });
    expect(mismatch(grads, numeric, 1e-6, 1e-2)).toBeUndefined();
    // batch terms: the convolution's bias, a shift per channel right before a batchnorm, is taken out again by the
    // batch mean: its gradient is 0 up to rounding (without the batch terms it would not be)
    const b1 = m.meta.params.find((p) => p.name === "b1");
    if (!b1) throw new Error("no b1");
    expect(Math.max(...Array.from(grads.subarray(b1.offset, b1.offset + b1.size), Math.abs))).toBeLessThan(1e-12);
    // the step advanced, the seed stayed
    expect(stateValue(m, state, "rng_step")).toEqual([1]);
    expect(stateValue(m, state, "rng_seed")).toEqual(stateValue(m, before, "rng_seed"));
  });
});

// ---- dropout ------------------------------------------------------------------------------------------------

const WIDTH = 2000;
const RATE = 0.25;

describe.each(BUILDS)("dropout through the layer form, %s kernels %s", (kernels, precision) => {
  test("keeps 1 − rate of the values, scaled by 1/(1 − rate), with the generator's mask; identity in inference", async () => {
    const net = layerNet({ input: WIDTH, layers: [{ type: "dropout", rate: RATE }, { type: "dense", units: 1, bias: false, init: 1 }], loss: "mse" });
    const m = await compiled(net, kernels, precision);
    const A = arrayFor(precision);
    const params = new A(WIDTH).fill(1);
    const state = m.initState(9);
    const batch = 2;
    // W = 1 and x = 1: the dense layer's output is the sum of what dropout lets through
    const x = new A(batch * WIDTH).fill(1);
    const out = new A(batch);
    m.forward(params, state, x, out, batch);
    expect(Array.from(out)).toEqual([WIDTH, WIDTH]);
    const seed = stateValue(m, state, "rng_seed")[0];
    for (let s = 0; s < batch; s++) {
      const kept = Array.from({ length: WIDTH }, (_, e) => uniform24(seed, 0, 1, s * WIDTH + e) >= RATE).filter(Boolean).length;
      // a binomial(2000, 0.75) count: within 5 standard deviations
      expect(Math.abs(kept - WIDTH * (1 - RATE))).toBeLessThan(5 * Math.sqrt(WIDTH * RATE * (1 - RATE)));
      m.trainingForward(params, state, x, out, batch);
      expect(mismatch([out[s]], [kept / (1 - RATE)], precision === "f64" ? 1e-12 : 1e-5)).toBeUndefined();
    }
    // one sample, J = ½ out²: ∂J/∂W_e = out · mask_e, 0 where dropped
    const grads = new A(WIDTH);
    const J = m.gradient(params, state, x.subarray(0, WIDTH), new A(1), grads, 1);
    const total = Math.sqrt(2 * J);
    const want = Array.from({ length: WIDTH }, (_, e) => (uniform24(seed, 0, 1, e) >= RATE ? total / (1 - RATE) : 0));
    expect(mismatch(grads, want, precision === "f64" ? 1e-12 : 1e-6)).toBeUndefined();
    expect(stateValue(m, state, "rng_step")).toEqual([1]);
  });
});

test("two dropout layers draw different masks (their own streams)", async () => {
  const net = layerNet({ input: 64, layers: [{ type: "dropout", rate: 0.5 }, { type: "residual", layers: [{ type: "dropout", rate: 0.5 }] }], loss: "mse" });
  const m = await compiled(net, "js", "f64");
  const state = m.initState(4);
  const out = new Float64Array(64);
  const x = new Float64Array(64).fill(1);
  m.trainingForward(new Float64Array(0), state, x, out, 1);
  // a = d1(x) + d2(d1(x)): the values are 0 (dropped by the first), 2 (kept by the first only) and 2 + 4
  const first = (e: number) => uniform24(4, 0, 1, e) >= 0.5;
  const second = (e: number) => uniform24(4, 0, 2, e) >= 0.5;
  const want = Array.from({ length: 64 }, (_, e) => (first(e) ? 2 + (second(e) ? 4 : 0) : 0));
  expect(Array.from(out)).toEqual(want);
  expect(new Set(want)).toEqual(new Set([0, 2, 6]));
});

// ---- the command line ---------------------------------------------------------------------------------------

test("bpgen gradcheck passes on a layer net with batchnorm and dropout", () => {
  const file = join(tempDir(), "bn_dropout.json");
  writeFileSync(file, JSON.stringify({ name: "bn_dropout", ...DEEP }));
  const run = bpgen(["gradcheck", file]);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/gradcheck passed/);
  for (const name of ["g2", "b2", "W7", "g8"]) expect(run.stdout).toMatch(new RegExp(`^${name}\\s+\\[`, "m"));
});
