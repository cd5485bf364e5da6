/**
 * rnn, lstm and gru layers against the independent oracle: random stacks of them (test/oracle/tf-recurrent.ts:
 * TF.js's simpleRNN and lstm layers, Keras's reset-after GRU cell in TF.js ops, weights mapped from PyTorch's
 * layout; bidirectional layers as Keras's Bidirectional wrapper runs them; dense layers per step after a sequence) computed by bpgen's kernel IR after each backend's passes, in
 * f64 and f32 — J, the gradient of every parameter and the forward output — and a sample compiled into
 * generated modules of both kernel back ends. A long sequence (T = 200) in f64 is held to finite differences.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import type { NetModule } from "../src/module-api.ts";
import { compile } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { mismatch } from "./helpers/ir-util.ts";
import { makeRng, randomParams } from "./oracle/random-nets.ts";
import { RECURRENT_SMALL, type RecurrentNetSpec, type RecurrentSizes, randomRecurrentData, randomRecurrentNet, recurrentLayout, tfRecurrentNet } from "./oracle/tf-recurrent.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

interface Case {
  readonly seed: number;
  readonly spec: RecurrentNetSpec;
  readonly batch: number;
  readonly params: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
}

function makeCase(seed: number, sizes: RecurrentSizes = RECURRENT_SMALL, batches: [number, number] = [1, 4]): Case {
  const rng = makeRng(seed);
  const spec = randomRecurrentNet(rng, `recurrent_${seed}`, sizes);
  const batch = rng.int(...batches);
  const layout = recurrentLayout(spec);
  const params = randomParams(layout.paramCount, rng);
  const { x, y } = randomRecurrentData(spec, batch, rng);
  return { seed, spec, batch, params, x, y };
}

const asNet = (spec: RecurrentNetSpec) => spec as unknown as NetSpec;
// small cells run one sample at a time; cells whose recurrent weights have 512 or more entries run across the
// batch, each step's products as dense kernels (plan.ts BatchedRecurrence)
const WIDE: RecurrentSizes = { steps: [2, 5], features: [2, 6], units: [24, 32], depth: [1, 2] };
const CASES = [...Array.from({ length: 16 }, (_, i) => makeCase(9100 + i)), ...Array.from({ length: 4 }, (_, i) => makeCase(9200 + i, WIDE))];
// TF.js computes in float32: both precisions are held to float32's accuracy
const TOL = { value: 2e-4, grad: 2e-3 };

function expectAgrees(c: Case, got: { J: number; grad: Float64Array | Float32Array; output: Float64Array | Float32Array }, what: string): void {
  const want = tfRecurrentNet(c.spec, c.params, c.x, c.y, c.batch);
  const scale = Math.max(1e-3, ...want.grad.map(Math.abs));
  expect(mismatch([got.J], [want.loss], TOL.value), `${what}: J`).toBeUndefined();
  expect(mismatch(got.grad, want.grad, TOL.grad, scale), `${what}: gradient`).toBeUndefined();
  expect(mismatch(got.output, want.output, TOL.value), `${what}: forward`).toBeUndefined();
}

describe("random recurrent stacks against TF.js (interpreted kernel IR)", () => {
  for (const c of CASES) {
    it(`seed ${c.seed}: ${c.spec.layers.map((l) => (l.type !== "dense" && l.bidirectional ? `bidirectional ${l.type}` : l.type)).join(" → ")}, ${c.spec.loss}`, () => {
      const net = new InterpretedNet(asNet(c.spec));
      const layout = recurrentLayout(c.spec);
      expect(net.params().map((p) => [p.name, p.shape])).toEqual(layout.params.map((p) => [p.name, p.shape]));
      for (const backend of ["js", "wasm"] as const) {
        for (const precision of ["f64", "f32"] as const) {
          const Arr = precision === "f64" ? Float64Array : Float32Array;
          const m = net.module(precision, backend);
          const grad = new Arr(c.params.length);
          const J = m.gradient(new Arr(c.params), new Arr(c.x), new Arr(c.y), grad, c.batch);
          const output = new Arr(c.batch * layout.outputSize);
          m.forward(new Arr(c.params), new Arr(c.x), output, c.batch);
          expectAgrees(c, { J, grad, output }, `${backend} ${precision}`);
        }
      }
    });
  }

  it("covered every cell, both outputs and both losses, and recurrences run across the batch", () => {
    const batched = CASES.filter((c) => new InterpretedNet(asNet(c.spec)).materialized.plans.gradient.segments.some((s) => s.kind === "recurrence"));
    expect(batched.length).toBeGreaterThanOrEqual(4);
    const types = new Set(CASES.flatMap((c) => c.spec.layers.map((l) => l.type)));
    expect([...types].sort()).toEqual(["dense", "gru", "lstm", "rnn"]);
    expect(new Set(CASES.map((c) => c.spec.loss)).size).toBe(2);
    const outputs = CASES.map((c) => recurrentLayout(c.spec).outputShape.length);
    expect(new Set(outputs)).toEqual(new Set([1, 2]));
    // bidirectional layers of every cell, returning the sequence and the last states, and one run across the batch
    const bidirectional = CASES.flatMap((c) => c.spec.layers.flatMap((l) => (l.type !== "dense" && l.bidirectional ? [{ c, l }] : [])));
    expect(new Set(bidirectional.map(({ l }) => l.type))).toEqual(new Set(["rnn", "lstm", "gru"]));
    expect(new Set(bidirectional.map(({ l }) => l.return_sequences ?? false))).toEqual(new Set([true, false]));
    expect(bidirectional.some(({ c }) => batched.includes(c))).toBe(true);
  });
});

describe("generated modules of both kernel back ends agree with TF.js", () => {
  for (const c of [...CASES.slice(0, 2), CASES[CASES.length - 1]]) {
    for (const kernels of ["js", "wasm"] as const) {
      it(`seed ${c.seed} (${kernels}, f32)`, async () => {
        const { source } = await compile(asNet(c.spec), { precision: "f32", kernels, format: false });
        const m = loadModule(source) as unknown as NetModule<Float32Array>;
        const layout = recurrentLayout(c.spec);
        const grad = new Float32Array(c.params.length);
        const J = m.gradient(Float32Array.from(c.params), Float32Array.from(c.x), Float32Array.from(c.y), grad, c.batch);
        const output = new Float32Array(c.batch * layout.outputSize);
        m.forward(Float32Array.from(c.params), Float32Array.from(c.x), output, c.batch);
        expectAgrees(c, { J, grad, output }, kernels);
      });
    }
  }
});

describe("a recurrent weight's gradient over many steps and samples", () => {
  // one product over every step of every sample after the sweep, taken in chunks of rows: 416 rows of 108 + 27
  // columns are four chunks in f64 WebAssembly, the last one short (the TypeScript kernel takes two)
  const LONG: RecurrentSizes = { steps: [28, 32], features: [3, 6], units: [26, 32], depth: [1, 1] };
  const c = makeCase(9317, LONG, [11, 13]);
  for (const [kernels, precision] of [["wasm", "f64"], ["js", "f64"]] as const) {
    it(`${c.spec.layers.map((l) => l.type).join(" → ")}, batch ${c.batch} (${kernels}, ${precision})`, async () => {
      const lowered = new InterpretedNet(asNet(c.spec)).lowered(kernels).functions.gradient;
      expect(lowered.body.some((st) => st.k === "contract" && st.c.steps !== undefined)).toBe(true);
      const { source } = await compile(asNet(c.spec), { precision, kernels, format: false });
      const Arr = precision === "f64" ? Float64Array : Float32Array;
      const m = loadModule(source) as unknown as NetModule<Float32Array | Float64Array>;
      const grad = new Arr(c.params.length).fill(Number.NaN);
      const J = m.gradient(Arr.from(c.params), Arr.from(c.x), Arr.from(c.y), grad, c.batch);
      const output = new Arr(c.batch * recurrentLayout(c.spec).outputSize);
      m.forward(Arr.from(c.params), Arr.from(c.x), output, c.batch);
      expectAgrees(c, { J, grad, output }, `${kernels} ${precision}`);
    });
  }
});

describe("a long sequence: backpropagation through 200 steps", () => {
  const LONG_STACKS: readonly { what: string; layers: RecurrentNetSpec["layers"] }[] = [
    { what: "an lstm → gru stack", layers: [{ type: "lstm", units: 3, return_sequences: true }, { type: "gru", units: 2 }, { type: "dense", units: 2 }] },
    // the reverse direction's gradient runs from the first step to the last, through all 200
    { what: "a bidirectional gru", layers: [{ type: "gru", units: 2, bidirectional: true }, { type: "dense", units: 2 }] },
  ];
  for (const { what, layers } of LONG_STACKS) it(`${what} over T = 200 (f64, interpreted wasm kernel IR) agrees with central differences`, () => {
    const spec: RecurrentNetSpec = { name: "long", input: [200, 2], layers, loss: "mse" };
    const rng = makeRng(77);
    const layout = recurrentLayout(spec);
    const params = randomParams(layout.paramCount, rng);
    const { x, y } = randomRecurrentData(spec, 2, rng);
    const m = new InterpretedNet(asNet(spec)).module<Float64Array>("f64", "wasm");
    const grad = new Float64Array(params.length);
    m.gradient(params, x, y, grad, 2);
    const fd = params.map((p0, i) => {
      const h = 1e-6 * Math.max(1, Math.abs(p0));
      const at = (v: number) => m.loss(params.map((q, j) => (j === i ? v : q)), x, y, 2);
      return (at(p0 + h) - at(p0 - h)) / (2 * h);
    });
    expect(mismatch(grad, fd, 1e-6, 1e-4)).toBeUndefined();
  });
});
