/**
 * Values coupled through the batch (batch_mean, batch_var mid-network): what the kernel IR computes against
 * the DAG's reference interpreter over the whole batch, gradients against central finite differences of the
 * whole-batch objective, real compiled modules of both kernel back ends in both precisions against the
 * interpreter, and batch normalisation in training form against TF.js (tf.moments, tf.batchNorm, gradients
 * by tf.grads).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModule, type NetModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import type { BackendName } from "../src/render/backends.ts";
import { arrayType } from "../src/render/interp/interpret.ts";
import type { InterpretedModule } from "../src/render/interp/module.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";
import {
  type Arrays,
  COUPLED_LOSS,
  DENSE_AROUND_NORM,
  MEAN_CENTRING,
  MEAN_OUTPUT,
  TWO_BARRIERS,
  arraysFor,
  batchNormSpec,
  finiteDifferences,
  reference,
  relativeError,
} from "./helpers/batch-nets.ts";
import { type FloatArray, InterpretedNet, type Precision } from "./helpers/interpreted.ts";

const SPECS: readonly EquationNetSpec[] = [
  batchNormSpec("centred"),
  batchNormSpec("moments"),
  batchNormSpec("shifted"),
  batchNormSpec("shiftArgument"),
  MEAN_CENTRING,
  TWO_BARRIERS,
  MEAN_OUTPUT,
  COUPLED_LOSS,
  DENSE_AROUND_NORM,
];
const BATCHES = [1, 2, 3, 5, 7];

const nets = new Map<string, InterpretedNet>();
const netOf = (spec: EquationNetSpec) => {
  const key = JSON.stringify(spec);
  let n = nets.get(key);
  if (!n) nets.set(key, (n = new InterpretedNet(spec)));
  return n;
};

interface Results {
  readonly J: number;
  readonly loss: number;
  readonly grads: FloatArray;
  readonly out: FloatArray;
}

/** forward, loss and gradient of `m` on `a` (converted to the module's precision). */
function run(m: InterpretedModule | NetModule<FloatArray>, a: Arrays, precision: Precision): Results {
  const Type = arrayType(precision);
  const [params, inputs, targets] = [Type.from(a.params), Type.from(a.inputs), Type.from(a.targets)];
  const grads = new Type(m.meta.paramCount);
  const out = new Type(m.meta.outputSize * a.batch);
  m.forward(params, inputs, out, a.batch);
  const loss = m.loss(params, inputs, targets, a.batch);
  const J = m.gradient(params, inputs, targets, grads, a.batch);
  return { J, loss, grads, out };
}

describe("batch coupling: the kernel IR on the interpreter against the DAG's reference interpreter", () => {
  for (const spec of SPECS) {
    it(`${spec.name}: forward, loss and gradient at batches ${BATCHES.join(", ")}, before and after each backend's passes`, () => {
      const n = netOf(spec);
      for (const batch of BATCHES) {
        const a = arraysFor(n, batch, 17 + batch);
        const want = reference(n, a);
        const modules = { materialized: n.module("f64"), js: n.module("f64", "js"), wasm: n.module("f64", "wasm") };
        for (const [which, m] of Object.entries(modules)) {
          const got = run(m, a, "f64");
          const what = `${which}, batch ${batch}`;
          expect(Math.abs(got.J - want.J) / Math.max(1, Math.abs(want.J)), `${what}: J`).toBeLessThan(1e-12);
          expect(got.loss, `${what}: loss is gradient's J`).toBe(got.J);
          expect(relativeError(got.grads, want.grads), `${what}: gradient`).toBeLessThan(1e-12);
          expect(relativeError(got.out, want.out), `${what}: forward`).toBeLessThan(1e-12);
        }
      }
    });
  }
});

describe("batch coupling: gradients against finite differences of the whole-batch objective", () => {
  for (const spec of SPECS) {
    it(`${spec.name} at batches 1 and 5`, () => {
      const n = netOf(spec);
      for (const batch of [1, 5]) {
        const a = arraysFor(n, batch, 101 + batch);
        const got = run(n.module("f64", "js"), a, "f64");
        const fd = finiteDifferences(n, a);
        expect(relativeError(got.grads, fd), `batch ${batch}`).toBeLessThan(1e-6);
      }
    });
  }

  it("sees each sample's loss move with another sample's input (the samples are coupled)", () => {
    const n = netOf(batchNormSpec("centred"));
    const a = arraysFor(n, 3, 5);
    const m = n.module("f64");
    const out = (inputs: Float64Array) => {
      const o = new Float64Array(n.materialized.layout.outputSize * 3);
      m.forward(a.params, inputs, o, 3);
      return o;
    };
    const moved = Float64Array.from(a.inputs);
    moved[n.materialized.layout.inputSize * 2] += 0.5;
    const [before, after] = [out(a.inputs), out(moved)];
    // sample 0's output changes though only sample 2's input did
    expect(Math.abs(after[0] - before[0])).toBeGreaterThan(1e-6);
  });
});

describe("batch coupling: a mean as forward's output", () => {
  it("writes the batch mean for every sample of the batch forward is given", () => {
    const n = netOf(MEAN_OUTPUT);
    const a = arraysFor(n, 3, 9);
    const out = run(n.module("f64", "js"), a, "f64").out;
    const size = n.materialized.layout.outputSize;
    for (let s = 1; s < 3; s++) expect(Array.from(out.subarray(s * size, (s + 1) * size))).toEqual(Array.from(out.subarray(0, size)));
    expect(relativeError(out, reference(n, a).out)).toBeLessThan(1e-12);
  });
});

describe("batch coupling: batch_var", () => {
  it("refuses a shift that differs between samples", () => {
    const spec = { ...batchNormSpec("moments"), equations: ["z = W * x", "mu = batch_mean(z)", "v = batch_var(z, z)", "y = g .* (z - mu) ./ sqrt(v + 0.001) + b", "o = V * tanh(y)"] };
    expect(() => new InterpretedNet(spec)).toThrow(/shift must be the same for every sample/);
  });

  it("keeps in f32, with a shift near the mean, the digits mean and mean of squares lose", () => {
    // activations of mean about 50 and spread below 0.1: E[z²] − E[z]² subtracts two numbers near 2500 in f32
    const forms = ["moments", "shiftArgument", "centred"] as const;
    const errors = forms.map((form) => {
      const n = netOf(batchNormSpec(form));
      const a = arraysFor(n, 6, 77);
      const inputs = a.inputs.map((v) => 10 + 0.01 * v);
      const params = Float64Array.from(a.params);
      const { offsets } = n.materialized.layout;
      const param = (name: string) => n.net.params.find((p) => p.name === name)?.node;
      const W = offsets.get(param("W") as never) ?? 0;
      for (let i = 0; i < 20; i++) params[W + i] = 1.25 + 0.01 * a.params[W + i];
      const c = param("c");
      // the shift: 50, near the mean (as a running mean would be)
      if (c) for (let i = 0; i < 5; i++) params[(offsets.get(c) ?? 0) + i] = Math.fround(50);
      const shifted = { ...a, inputs, params };
      const want = reference(n, shifted);
      const got = run(n.module("f32"), shifted, "f32");
      return relativeError(got.out, want.out);
    });
    const [moments, shiftArgument, centred] = errors;
    expect(Number.isFinite(moments)).toBe(true);
    expect(shiftArgument).toBeLessThan(moments / 10);
    expect(centred).toBeLessThan(moments / 10);
  });
});

const MODULE_SPECS = [batchNormSpec("centred"), batchNormSpec("moments"), TWO_BARRIERS, MEAN_OUTPUT, DENSE_AROUND_NORM];
/** |module − interpreter| per result, relative to the interpreter's largest element (the TypeScript kernels: equal). */
const TOLERANCE: Record<BackendName, Record<Precision, number>> = { js: { f64: 0, f32: 0 }, wasm: { f64: 1e-12, f32: 3e-5 } };

async function generated(spec: EquationNetSpec, precision: Precision, backend: BackendName): Promise<NetModule<FloatArray>> {
  return loadModule((await compile(structuredClone(spec), { precision, kernels: backend, sourceFile: `${spec.name}.json`, format: false })).source);
}

describe("batch coupling: compiled modules of both back ends against the interpreter", () => {
  for (const backend of ["js", "wasm"] as const) {
    for (const precision of ["f64", "f32"] as const) {
      it(`${backend} ${precision}: forward, loss, gradient, sgdStep and trainStep`, async () => {
        for (const spec of MODULE_SPECS) {
          const n = netOf(spec);
          const m = await generated(spec, precision, backend);
          const interpreted = n.module(precision, backend);
          for (const batch of [1, 3, 4, 9]) {
            const a = arraysFor(n, batch, 40 + batch);
            const [got, want] = [run(m, a, precision), run(interpreted, a, precision)];
            const what = `${spec.name}, batch ${batch}`;
            const tol = TOLERANCE[backend][precision];
            const exact = tol === 0;
            if (exact) {
              expect(got.J, `${what}: J`).toBe(want.J);
              expect(Array.from(got.grads), `${what}: gradient`).toEqual(Array.from(want.grads));
              expect(Array.from(got.out), `${what}: forward`).toEqual(Array.from(want.out));
            } else {
              expect(Math.abs(got.J - want.J) / Math.max(Math.abs(want.J), 1e-30), `${what}: J`).toBeLessThanOrEqual(tol);
              expect(relativeError(got.grads, want.grads, 1e-30), `${what}: gradient`).toBeLessThanOrEqual(tol);
              expect(relativeError(got.out, want.out, 1e-30), `${what}: forward`).toBeLessThanOrEqual(tol);
            }
            checkTraining(m, a, precision, got, what);
          }
        }
      });
    }
  }
});

/** sgdStep and trainStep (plain SGD) on the module: J as its gradient's, parameters moved by −lr·g. */
function checkTraining(m: NetModule<FloatArray>, a: Arrays, precision: Precision, got: Results, what: string): void {
  const Type = arrayType(precision);
  const lr = 0.05;
  const stepped = Type.from(a.params);
  const J = m.sgdStep(stepped, Type.from(a.inputs), Type.from(a.targets), lr, a.batch);
  expect(J, `${what}: sgdStep's J`).toBe(got.J);
  const expected = Type.from(a.params.map((p, i) => Type.from([p])[0] - Type.from([lr * got.grads[i]])[0]));
  expect(relativeError(stepped, expected), `${what}: sgdStep's parameters`).toBeLessThan(precision === "f64" ? 1e-14 : 1e-6);
  const state = m.createOptimizer({ type: "sgd", lr });
  const trained = Type.from(a.params);
  expect(m.trainStep(trained, state, Type.from(a.inputs), Type.from(a.targets), a.batch), `${what}: trainStep's J`).toBe(got.J);
  expect(Array.from(state.grads), `${what}: trainStep's gradient`).toEqual(Array.from(got.grads));
  expect(relativeError(trained, expected), `${what}: trainStep's parameters`).toBeLessThan(precision === "f64" ? 1e-14 : 1e-6);
}

describe("batch coupling: batch normalisation in training form against TF.js", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
    await tf.ready();
  });

  it("gives TF.js's J and gradients (tf.moments, tf.batchNorm, tf.grads) on a random case", () => {
    const spec = batchNormSpec("centred", { x: 6, h: 5, o: 3 });
    const n = netOf(spec);
    const batch = 7;
    const a = arraysFor(n, batch, 2024);
    const ours = run(n.module("f64", "js"), a, "f64");
    const { offsets } = n.materialized.layout;
    const param = (name: string) => {
      const p = n.net.params.find((q) => q.name === name);
      if (!p) throw new Error(`no parameter ${name}`);
      const at = offsets.get(p.node) ?? 0;
      const size = p.shape.reduce((x, y) => x * y, 1);
      return tf.tensor(Array.from(a.params.subarray(at, at + size)), [...p.shape]);
    };
    const names = ["W", "g", "b", "V"];
    const x = tf.tensor(Array.from(a.inputs), [batch, 6]);
    const t = tf.tensor(Array.from(a.targets), [batch, 3]);
    const objective = (W: tf.Tensor, g: tf.Tensor, b: tf.Tensor, V: tf.Tensor): tf.Scalar => {
      const z = tf.matMul(x, W as tf.Tensor2D, false, true);
      const { mean, variance } = tf.moments(z, 0);
      const y = tf.batchNorm(z as tf.Tensor2D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 0.001);
      const o = tf.matMul(tf.tanh(y), V as tf.Tensor2D, false, true);
      return tf.mean(tf.sum(tf.square(tf.sub(o, t)), 1));
    };
    const values = names.map(param);
    const J = objective(values[0], values[1], values[2], values[3]).dataSync()[0];
    const grads = tf.grads((W, g, b, V) => objective(W, g, b, V))(values);
    const theirs = new Float64Array(n.materialized.layout.paramCount);
    names.forEach((name, k) => {
      const p = n.net.params.find((q) => q.name === name);
      theirs.set(grads[k].dataSync(), offsets.get(p?.node as never) ?? 0);
    });
    // TF.js computes in f32
    expect(Math.abs(ours.J - J) / Math.abs(J)).toBeLessThan(1e-5);
    expect(relativeError(ours.grads, theirs)).toBeLessThan(1e-4);
    tf.dispose([x, t, ...values, ...grads]);
  });
});
