/**
 * The optimizers of the generated module (createOptimizer, applyGradients, trainStep) against reference
 * updates written out here from the textbook formulas, and against TensorFlow.js's optimizers of the same
 * name (sgd, momentum with and without Nesterov, adam) on the same gradients. Conventions:
 * - momentum (TF/PyTorch, no dampening): v ← μv + g; p ← p − lr·v, or Nesterov p ← p − lr·(g + μv);
 * - adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ);
 * - adamw: p ← p(1 − lr·λ) first, then the adam update (decoupled weight decay, PyTorch's AdamW);
 * - clipping: g ← g·min(1, c/‖g‖) over all parameters (TF's clip_by_global_norm), then clamp to [−v, v].
 * TF.js has no AdamW; adamw is checked against the formulas only.
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeRandom, normal, randomInputs, randomTargets } from "../src/check/data.ts";
import { optimizerSection } from "../src/emit/optimizers.ts";
import { compile, compileFile } from "../src/pipeline.ts";
import { withKernels } from "./helpers/kernels.ts";
import { loadSpec } from "../src/spec/load.ts";
import type { NetModule, OptimizerConfig } from "../src/module-api.ts";
import { loadTrainable } from "../src/train/module-api.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";
import { writeFileSync } from "node:fs";

const XOR = join(ROOT, "examples", "xor_sigmoid.json");
let m64: NetModule<Float64Array>;
let m32: NetModule<Float32Array>;

beforeAll(async () => {
  await tf.setBackend("cpu");
  m64 = loadTrainable<Float64Array>((await compileFile(XOR, withKernels({ precision: "f64", format: false }))).source);
  m32 = loadTrainable<Float32Array>((await compileFile(XOR, withKernels({ precision: "f32", format: false }))).source);
});

type Full = Required<OptimizerConfig>;
const DEFAULTS: Omit<Full, "type" | "lr"> = {
  momentum: 0.9,
  nesterov: false,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0,
  clipNorm: Infinity,
  clipValue: Infinity,
};

/** The textbook update, in f64, for `steps` gradients; returns the parameters after each step. */
function reference(c: Full, p0: Float64Array, grads: Float64Array[]): Float64Array[] {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const out: Float64Array[] = [];
  grads.forEach((raw, k) => {
    const t = k + 1;
    const norm = Math.sqrt(raw.reduce((s, x) => s + x * x, 0));
    const scale = norm > c.clipNorm ? c.clipNorm / norm : 1;
    const g = raw.map((x) => Math.min(c.clipValue, Math.max(-c.clipValue, x * scale)));
    for (let i = 0; i < p.length; i++) {
      if (c.type === "sgd") p[i] -= c.lr * g[i];
      else if (c.type === "momentum") {
        m[i] = c.momentum * m[i] + g[i];
        p[i] -= c.lr * (c.nesterov ? g[i] + c.momentum * m[i] : m[i]);
      } else {
        m[i] = c.beta1 * m[i] + (1 - c.beta1) * g[i];
        v[i] = c.beta2 * v[i] + (1 - c.beta2) * g[i] ** 2;
        const mHat = m[i] / (1 - c.beta1 ** t);
        const vHat = v[i] / (1 - c.beta2 ** t);
        if (c.type === "adamw") p[i] -= c.lr * c.weightDecay * p[i];
        p[i] -= (c.lr * mHat) / (Math.sqrt(vHat) + c.epsilon);
      }
    }
    out.push(Float64Array.from(p));
  });
  return out;
}

function randomVectors(seed: number, n: number, count: number, scale = 1): Float64Array[] {
  const rand = makeRandom(seed);
  return Array.from({ length: count }, () => Float64Array.from({ length: n }, () => scale * normal(rand)));
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return worst;
}

const CASES: [string, Partial<Full> & Pick<Full, "type" | "lr">][] = [
  ["sgd", { type: "sgd", lr: 0.1 }],
  ["momentum", { type: "momentum", lr: 0.05, momentum: 0.8 }],
  ["nesterov", { type: "momentum", lr: 0.05, momentum: 0.9, nesterov: true }],
  ["adam", { type: "adam", lr: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 }],
  ["adamw", { type: "adamw", lr: 0.01, weightDecay: 0.1 }],
  ["sgd + clipNorm", { type: "sgd", lr: 0.1, clipNorm: 0.5 }],
  ["momentum + clipValue", { type: "momentum", lr: 0.05, clipValue: 0.3 }],
  ["adam + both clips", { type: "adam", lr: 0.01, clipNorm: 1, clipValue: 0.2 }],
];
const STEPS = 6;

describe("applyGradients matches the textbook update over several steps", () => {
  it.each(CASES)("%s (f64 exactly, f32 to rounding)", (_, config) => {
    const n = m64.meta.paramCount;
    const full: Full = { ...DEFAULTS, ...(config.type === "adamw" ? { weightDecay: 0.01 } : {}), ...config };
    const p0 = m64.initParams(3);
    const grads = randomVectors(11, n, STEPS);
    const expected = reference(full, p0, grads);
    for (const [m, Arr, tol] of [
      [m64, Float64Array, 1e-12],
      [m32, Float32Array, 2e-5],
    ] as const) {
      const state = m.createOptimizer(config);
      expect(state.config).toEqual(full);
      const p = Arr.from(p0);
      grads.forEach((g, k) => {
        const norm = m.applyGradients(p as never, state as never, Arr.from(g) as never);
        expect(norm).toBeCloseTo(Math.sqrt(g.reduce((s, x) => s + x * x, 0)), 4);
        expect(maxRelErr(p, expected[k]), `step ${k + 1}`).toBeLessThan(tol);
      });
      expect(state.step).toBe(STEPS);
    }
  });

  it("clipping by norm bounds the step: lr·clipNorm for sgd, whatever the gradient", () => {
    const state = m64.createOptimizer({ type: "sgd", lr: 1, clipNorm: 2 });
    const p = m64.initParams(1);
    const before = Float64Array.from(p);
    const g = randomVectors(5, p.length, 1, 1e30)[0];
    m64.applyGradients(p, state, g);
    const step = Math.sqrt(p.reduce((s, x, i) => s + (x - before[i]) ** 2, 0));
    expect(step).toBeCloseTo(2, 10);
    expect(state.gradNorm).toBeGreaterThan(1e30);
  });
});

describe("against TensorFlow.js's optimizers on the same gradients", () => {
  const make: [string, Partial<Full> & Pick<Full, "type" | "lr">, () => tf.Optimizer][] = [
    ["sgd", { type: "sgd", lr: 0.1 }, () => tf.train.sgd(0.1)],
    ["momentum", { type: "momentum", lr: 0.05, momentum: 0.8 }, () => tf.train.momentum(0.05, 0.8, false)],
    ["momentum (nesterov)", { type: "momentum", lr: 0.05, momentum: 0.9, nesterov: true }, () => tf.train.momentum(0.05, 0.9, true)],
    ["adam", { type: "adam", lr: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 }, () => tf.train.adam(0.01, 0.8, 0.95, 1e-6)],
  ];
  it.each(make)("%s", (name, config, optimizer) => {
    const n = m32.meta.paramCount;
    const p0 = m32.initParams(4);
    const grads = randomVectors(21, n, STEPS);
    const variable = tf.variable(tf.tensor1d(Float32Array.from(p0)), true, `optim_${name.replace(/\W/g, "_")}`);
    const opt = optimizer();
    const state = m32.createOptimizer(config);
    const p = Float32Array.from(p0);
    for (const [k, g] of grads.entries()) {
      const g32 = Float32Array.from(g);
      m32.applyGradients(p, state, g32);
      tf.tidy(() => opt.applyGradients({ [variable.name]: tf.tensor1d(g32) }));
      const theirs = variable.dataSync();
      expect(maxRelErr(p, theirs), `${name} step ${k + 1}`).toBeLessThan(1e-5);
    }
    opt.dispose();
    variable.dispose();
  });
});

describe("trainStep", () => {
  it("is gradient into state.grads followed by applyGradients, and returns J before the step", () => {
    const batch = 5;
    const rand = makeRandom(8);
    const x = randomInputs(m64.meta, batch, rand);
    const y = randomTargets(m64.meta, batch, "binary", rand);
    const a = m64.initParams(2);
    const b = Float64Array.from(a);
    const sa = m64.createOptimizer({ type: "adam", lr: 0.01, clipNorm: 0.1 });
    const sb = m64.createOptimizer({ type: "adam", lr: 0.01, clipNorm: 0.1 });
    const g = new Float64Array(m64.meta.paramCount);
    for (let k = 0; k < 4; k++) {
      const J = m64.loss(a, x, y, batch);
      expect(m64.trainStep(a, sa, x, y, batch)).toBe(J);
      expect(m64.gradient(b, x, y, g, batch)).toBe(J);
      m64.applyGradients(b, sb, g);
      expect(sa.grads).toEqual(g);
      expect(a).toEqual(b);
    }
  });

  it("trains xor to 4/4 with adam", () => {
    const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
    const y = Float32Array.from([0, 1, 1, 0]);
    const p = m32.initParams(1);
    const state = m32.createOptimizer({ type: "adam", lr: 0.05 });
    for (let k = 0; k < 1500; k++) m32.trainStep(p, state, x, y, 4);
    const out = new Float32Array(4);
    m32.forward(p, x, out, 4);
    expect(Array.from(out, (o) => (o > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });
});

describe("createOptimizer", () => {
  it("fills in the built-in defaults and sizes its state to meta.paramCount", () => {
    const n = m64.meta.paramCount;
    expect(m64.optimizerDefaults).toEqual({ type: "adam", lr: 0.001 });
    const adam = m64.createOptimizer();
    expect(adam.config).toEqual({ type: "adam", lr: 0.001, ...DEFAULTS });
    expect([adam.m.length, adam.v.length, adam.grads.length]).toEqual([n, n, n]);
    const sgd = m64.createOptimizer({ type: "sgd" });
    expect(sgd.config.lr).toBe(0.01);
    expect([sgd.m.length, sgd.v.length]).toEqual([0, 0]);
    expect(m64.createOptimizer({ type: "momentum" }).m.length).toBe(n);
    expect(m64.createOptimizer({ type: "adamw" }).config.weightDecay).toBe(0.01);
  });

  it.each([
    [{ type: "rmsprop" }, /type must be "sgd"/],
    [{ lr: 0 }, /lr must be a positive finite number, got 0/],
    [{ lr: Infinity }, /lr must be/],
    [{ beta1: 1 }, /beta1 must be a number in \[0, 1\)/],
    [{ type: "momentum", momentum: -0.1 }, /momentum must be/],
    [{ type: "sgd", weightDecay: 0.1 }, /weightDecay must be 0, or a positive number with adamw/],
    [{ clipNorm: 0 }, /clipNorm must be a positive number/],
    [{ clipValue: -1 }, /clipValue must be a positive number/],
  ])("throws a RangeError for %j", (config, message) => {
    expect(() => m64.createOptimizer(config as Partial<OptimizerConfig>)).toThrow(RangeError);
    expect(() => m64.createOptimizer(config as Partial<OptimizerConfig>)).toThrow(message);
  });

  it("rejects a setting it does not know, naming the nearest one", () => {
    expect(() => m64.createOptimizer({ lrr: 0.1 } as unknown as Partial<OptimizerConfig>)).toThrow(/unknown optimizer setting "lrr"; did you mean "lr"\?/);
    expect(() => m64.createOptimizer({ weight_decay: 0.1 } as unknown as Partial<OptimizerConfig>)).toThrow(/did you mean "weightDecay"/);
    expect(() => m64.createOptimizer({ zzzzzzzz: 1 } as unknown as Partial<OptimizerConfig>)).toThrow(/the settings are type, lr/);
  });

  it("trainStep refuses another network's optimizer state", async () => {
    const other = loadTrainable<Float64Array>((await compileFile(join(ROOT, "examples", "chain3.json"), withKernels({ precision: "f64", format: false }))).source);
    const p = m64.initParams(1);
    const x = new Float64Array(2 * m64.meta.inputSize);
    const y = new Float64Array(2 * m64.meta.targetSize);
    expect(() => m64.trainStep(p, other.createOptimizer({ type: "sgd" }), x, y, 2)).toThrow(TypeError);
    expect(() => m64.trainStep(p, other.createOptimizer({ type: "sgd" }), x, y, 2)).toThrow(/belongs to network "chain3", not "xor_sigmoid"/);
  });

  it("trainStep leaves the parameters as they were when the batch holds a NaN, and says so", () => {
    for (const type of ["sgd", "momentum", "adam"] as const) {
      const p = m64.initParams(1);
      const before = Float64Array.from(p);
      const state = m64.createOptimizer({ type });
      const x = Float64Array.from({ length: 4 * m64.meta.inputSize }, (_, i) => (i === 5 ? Number.NaN : i / 8));
      const y = Float64Array.from({ length: 4 * m64.meta.targetSize }, (_, i) => i % 2);
      const J = m64.trainStep(p, state, x, y, 4);
      expect(Number.isNaN(J)).toBe(true);
      expect(Array.from(p)).toEqual(Array.from(before));
      expect(state.lastStepApplied).toBe(false);
      expect(state.skippedSteps).toBe(1);
      expect(state.step).toBe(0);
      x[5] = 0;
      m64.trainStep(p, state, x, y, 4);
      expect(state.lastStepApplied).toBe(true);
      expect(Array.from(p)).not.toEqual(Array.from(before));
    }
  });

  it("takes net.json's optimizer as optimizerDefaults (when the emitter is given it)", () => {
    const text = optimizerSection({ paramCount: 3, inputSize: 2, array: "Float32Array", optimizer: { type: "momentum", lr: 0.2, nesterov: true } }).join("\n");
    expect(text).toContain('export const optimizerDefaults: OptimizerConfig = { type: "momentum", lr: 0.2, nesterov: true };');
  });

  it("net.json accepts an optimizer key, and the schema rejects a bad one", async () => {
    const dir = tempDir();
    const ok = join(dir, "ok.json");
    const spec = { name: "o", input: 2, layers: [{ type: "dense", units: 1 }], loss: "mse" };
    writeFileSync(ok, JSON.stringify({ ...spec, optimizer: { type: "adamw", lr: 0.003, weightDecay: 0.05, clipNorm: 1 } }));
    expect(loadSpec(ok).spec.optimizer).toEqual({ type: "adamw", lr: 0.003, weightDecay: 0.05, clipNorm: 1 });
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...spec, optimizer: { type: "adam", lr: -1 } }));
    expect(() => loadSpec(bad)).toThrow(/optimizer\.lr/);
    // the module still compiles with the key present
    const m = loadTrainable((await compile(loadSpec(ok).spec, withKernels({ format: false }))).source);
    expect(m.createOptimizer({ type: "sgd" }).config.type).toBe("sgd");
  });
});
