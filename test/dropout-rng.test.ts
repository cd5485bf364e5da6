/**
 * Dropout's counter-based random numbers (ir/random.ts) and the mask they make in a module: the kept fraction,
 * the scaling, zero gradients where dropped, identity in inference, a mask fixed by seed and step and new each
 * step, and the same masks bit for bit from the TypeScript and WebAssembly kernels in f32 and f64.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { Graph } from "../src/ir/graph.ts";
import { interpret } from "../src/ir/interpret.ts";
import { OPS } from "../src/ir/ops.ts";
import { STEP_PERIOD, dropoutMask, randomState, uniform24 } from "../src/ir/random.ts";
import type { FloatArray, StatefulNetModule } from "../src/module-api.ts";
import type { Kernels, Precision } from "../src/pipeline.ts";
import { uniform24 as templateUniform24 } from "../templates/rng.ts";
import { DROPOUT_STREAM, compileStateful, dropoutNet } from "./helpers/stateful-nets.ts";

const RATE = 0.3;
const WIDTH = 600;
const BATCH = 8;

describe("the generator", () => {
  test("the op table's reference and the modules' template are one function", () => {
    for (let i = 0; i < 2000; i++) {
      const args = [i * 7919, i % 13, i % 5, i * 31] as const;
      expect(templateUniform24(...args)).toBe(uniform24(...args));
    }
  });

  test("24-bit numbers in [0, 1), roughly uniform (each tenth within 5 standard deviations of a tenth)", () => {
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    let outside = 0;
    for (let c = 0; c < n; c++) {
      const u = uniform24(1, 0, 0, c);
      if (!(u >= 0 && u < 1 && Number.isInteger(u * 2 ** 24))) outside++;
      else bins[Math.floor(u * 10)]!++;
    }
    expect(outside).toBe(0);
    const sd = Math.sqrt(n * 0.1 * 0.9);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(5 * sd);
  });

  test("each argument changes the number", () => {
    const base = uniform24(5, 6, 7, 8);
    expect(uniform24(4, 6, 7, 8)).not.toBe(base);
    expect(uniform24(5, 5, 7, 8)).not.toBe(base);
    expect(uniform24(5, 6, 6, 8)).not.toBe(base);
    expect(uniform24(5, 6, 7, 9)).not.toBe(base);
  });

  test("the op has no gradient, and the reference interpreter hashes sample·size + element", () => {
    const g = new Graph();
    const rng = randomState(g);
    const u = g.uniform(rng.seed, rng.step, g.constant(2), g.counter([3]));
    for (let i = 0; i < 4; i++) expect(OPS.uniform.vjp(g, u, g.constant(1), i)).toBeNull();
    const values = interpret([u], (leaf) => Float64Array.of(leaf === rng.seed ? 11 : 4), 2).get(u) as Float64Array[];
    values.forEach((row, s) => row.forEach((v, e) => expect(v).toBe(uniform24(11, 4, 2, s * 3 + e))));
  });

  test("the step wraps at 2^24, where a Float32Array still holds it exactly", () => {
    const g = new Graph();
    const rng = randomState(g);
    const next = rng.updates.get(rng.step);
    if (!next) throw new Error("no step update");
    const at = (step: number) => (interpret([next], () => Float64Array.of(step), 1).get(next) as Float64Array)[0];
    expect(at(0)).toBe(1);
    expect(at(STEP_PERIOD - 1)).toBe(0);
    expect(STEP_PERIOD).toBe(2 ** 24);
  });

  test("a rate outside [0, 1) is refused", () => {
    const g = new Graph();
    expect(() => dropoutMask(g, randomState(g), [2], 1, 0)).toThrow(RangeError);
  });
});

type Module = StatefulNetModule<FloatArray>;
const builds: [Kernels, Precision][] = [
  ["js", "f32"],
  ["wasm", "f32"],
  ["js", "f64"],
  ["wasm", "f64"],
];
const modules = new Map<string, Module>();
const key = (kernels: Kernels, precision: Precision) => `${kernels} ${precision}`;

beforeAll(async () => {
  for (const [kernels, precision] of builds) {
    modules.set(key(kernels, precision), (await compileStateful<FloatArray>(dropoutNet(WIDTH, 1, RATE), precision, kernels)).module);
  }
});

const arrayOf = (m: Module) => (m.meta.params.length > 0 && m.initParams() instanceof Float64Array ? Float64Array : Float32Array);

/**
 * The mask of each sample at the state's step, read through the module (W = 1, y = 0, one output): z_s =
 * Σ_j mask_sj from trainingForward with every input 1; then, with sample s's inputs 1 and the others' 0, the
 * gradient of J = mean_s z_s² is dJ/dW_j = 2·z_s·mask_sj / batch. Each gradient call runs on a copy of the state.
 */
function masksOf(m: Module, state: FloatArray, batch: number): Float64Array[] {
  const A = arrayOf(m);
  const params = new A(WIDTH).fill(1);
  const inputs = new A(WIDTH * batch).fill(1);
  const out = new A(batch);
  m.trainingForward(params, state, inputs, out, batch);
  return Array.from({ length: batch }, (_, s) => {
    const only = new A(WIDTH * batch);
    only.fill(1, s * WIDTH, (s + 1) * WIDTH);
    const grads = new A(WIDTH);
    const copy = new A(state.length);
    copy.set(state);
    m.gradient(params, copy, only, new A(batch), grads, batch);
    const z = out[s]!;
    return Float64Array.from(grads, (g) => (z === 0 ? 0 : (g * batch) / (2 * z)));
  });
}

/** Which elements each sample keeps, from the reference generator. */
function referenceKept(seed: number, step: number, batch: number): boolean[][] {
  return Array.from({ length: batch }, (_, s) => Array.from({ length: WIDTH }, (_, j) => uniform24(seed, step, DROPOUT_STREAM, s * WIDTH + j) >= RATE));
}

describe.each(builds)("dropout in a module (%s kernels, %s)", (kernels, precision) => {
  const m = () => modules.get(key(kernels, precision)) as Module;

  test("initState holds the seed and step 0; meta names them", () => {
    expect(m().meta.state.map((s) => s.name)).toEqual(["rng_seed", "rng_step"]);
    expect(Array.from(m().initState(42))).toEqual([42, 0]);
    expect(Array.from(m().initState())).toEqual([1, 0]);
  });

  test("the mask keeps what the reference generator keeps, scaled by 1/(1 − rate), and dropped weights get no gradient", () => {
    const state = m().initState(7);
    const masks = masksOf(m(), state, BATCH);
    const kept = referenceKept(7, 0, BATCH);
    const scale = 1 / (1 - RATE);
    masks.forEach((row, s) =>
      row.forEach((v, j) => {
        if (kept[s]![j]) expect(v).toBeCloseTo(scale, precision === "f32" ? 4 : 10);
        else expect(v).toBe(0);
      }),
    );
  });

  test("the kept fraction over many steps is 1 − rate within binomial bounds", () => {
    const A = arrayOf(m());
    const state = m().initState(3);
    const params = new A(WIDTH).fill(1);
    const inputs = new A(WIDTH * BATCH).fill(1);
    const out = new A(BATCH);
    const steps = 20;
    let keptSum = 0;
    for (let step = 0; step < steps; step++) {
      m().trainingForward(params, state, inputs, out, BATCH);
      // z_s = Σ_j mask_sj = (kept count) / (1 − rate)
      for (let s = 0; s < BATCH; s++) keptSum += out[s]! * (1 - RATE);
      m().gradient(params, state, inputs, new A(BATCH), new A(WIDTH), BATCH);
    }
    const n = steps * BATCH * WIDTH;
    const fraction = keptSum / n;
    const sd = Math.sqrt((RATE * (1 - RATE)) / n);
    expect(Math.abs(fraction - (1 - RATE))).toBeLessThan(5 * sd);
    expect(state[1]).toBe(steps);
  });

  test("the mask is fixed by seed and step: trainingForward twice agrees, the next gradient uses it, the step after differs", () => {
    const A = arrayOf(m());
    const params = new A(WIDTH).fill(1);
    const inputs = new A(WIDTH * BATCH).fill(1);
    const state = m().initState(11);
    const first = new A(BATCH);
    const again = new A(BATCH);
    m().trainingForward(params, state, inputs, first, BATCH);
    m().trainingForward(params, state, inputs, again, BATCH);
    expect(Array.from(again)).toEqual(Array.from(first));
    const J = m().gradient(params, state, inputs, new A(BATCH), new A(WIDTH), BATCH);
    const expected = Array.from(first).reduce((acc, z) => acc + z * z, 0) / BATCH;
    expect(J).toBeCloseTo(expected, precision === "f32" ? 1 : 8);
    expect(state[1]).toBe(1);
    const before = referenceKept(11, 0, BATCH).flat();
    const next = referenceKept(11, 1, BATCH).flat();
    // independent masks differ in 2·rate·(1 − rate) of the elements, 42% here
    expect(next.filter((k, i) => k !== before[i]).length).toBeGreaterThan(0.3 * next.length);
    const nextMasks = masksOf(m(), state, BATCH).flatMap((row) => Array.from(row, (v) => v !== 0));
    expect(nextMasks).toEqual(next);
    const other = m().initState(12);
    const withOtherSeed = new A(BATCH);
    m().trainingForward(params, other, inputs, withOtherSeed, BATCH);
    expect(Array.from(withOtherSeed)).not.toEqual(Array.from(first));
  });

  test("inference is the identity: forward is W·x", () => {
    const A = arrayOf(m());
    const params = new A(WIDTH).fill(0.5);
    const inputs = new A(WIDTH * 2).fill(2);
    const out = new A(2);
    const state = m().initState(5);
    m().forward(params, state, inputs, out, 2);
    expect(Array.from(out)).toEqual([WIDTH, WIDTH]);
    expect(Array.from(state)).toEqual([5, 0]);
  });
});

test("the masks are the same bit for bit on both back ends and in both precisions", () => {
  const outs = builds.map(([kernels, precision]) => {
    const m = modules.get(key(kernels, precision)) as Module;
    const A = arrayOf(m);
    const params = new A(WIDTH).fill(1);
    const inputs = new A(WIDTH * BATCH).fill(1);
    const state = m.initState(21);
    m.gradient(params, state, inputs, new A(BATCH), new A(WIDTH), BATCH);
    // the whole mask of each sample, as which elements are kept (the scale is rounded to the precision)
    return masksOf(m, state, BATCH).map((row) => Array.from(row, (v) => (v === 0 ? 0 : 1)).join(""));
  });
  const reference = referenceKept(21, 1, BATCH).map((row) => row.map((k) => (k ? 1 : 0)).join(""));
  for (const o of outs) expect(o).toEqual(reference);
});
