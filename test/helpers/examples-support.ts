/**
 * Helpers for test/examples.test.ts: compile the shipped examples into live modules, seeded random
 * numbers, small dense linear algebra for the closed forms, and tolerance checks with useful messages.
 */
import { expect } from "vitest";
import { join } from "node:path";
import { loadModule, type NetModule } from "./load-module.ts";
import { makeRandom, normal } from "../../src/check/data.ts";
import { compile, type Precision } from "../../src/pipeline.ts";
import { withKernels } from "./kernels.ts";
import { loadSpec } from "../../src/spec/load.ts";
import type { NetSpec } from "../../src/spec/types.ts";

export const EXAMPLES_DIR = join(import.meta.dirname, "..", "..", "examples");

export function examplePath(name: string): string {
  return join(EXAMPLES_DIR, `${name}.json`);
}

/** The validated spec of examples/<name>.json. */
export function exampleSpec(name: string): NetSpec {
  return loadSpec(examplePath(name)).spec;
}

export interface Compiled<T extends Float32Array | Float64Array> {
  source: string;
  module: NetModule<T>;
}

/** Compiles a spec and loads the generated module: not formatted (prettier's layout is test/format.test.ts's subject, and most of a compile's time). */
export async function build(spec: NetSpec, precision: "f64"): Promise<Compiled<Float64Array>>;
export async function build(spec: NetSpec, precision: "f32"): Promise<Compiled<Float32Array>>;
export async function build(spec: NetSpec, precision: Precision): Promise<Compiled<Float32Array | Float64Array>> {
  const { source } = await compile(spec, withKernels({ precision, sourceFile: `examples/${spec.name}.json`, format: false }));
  return { source, module: loadModule(source) };
}

export async function buildExample(name: string, precision: "f64"): Promise<Compiled<Float64Array>>;
export async function buildExample(name: string, precision: "f32"): Promise<Compiled<Float32Array>>;
export async function buildExample(name: string, precision: Precision): Promise<Compiled<Float32Array | Float64Array>> {
  return precision === "f64" ? build(exampleSpec(name), "f64") : build(exampleSpec(name), "f32");
}

/** A seeded source of uniform and normal numbers. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = makeRandom(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  normal(scale = 1): number {
    return scale * normal(this.next);
  }
  uniforms(n: number, lo = 0, hi = 1): Float64Array {
    return Float64Array.from({ length: n }, () => this.uniform(lo, hi));
  }
  normals(n: number, scale = 1): Float64Array {
    return Float64Array.from({ length: n }, () => this.normal(scale));
  }
  /** `batch` one-hot rows of width n. */
  oneHot(batch: number, n: number): Float64Array {
    const y = new Float64Array(batch * n);
    for (let s = 0; s < batch; s++) y[s * n + Math.floor(this.next() * n)] = 1;
    return y;
  }
}

/**
 * Seeded random parameters in the module's layout: weights ~ N(0, 1/fanIn) (He-like for fan-in),
 * biases ~ N(0, 0.1²). Independent of the generated initParams.
 */
export function randomParams(module: NetModule, rng: Rng): Float64Array {
  const p = new Float64Array(module.meta.paramCount);
  for (const param of module.meta.params) {
    const fanIn = param.shape.length === 2 ? param.shape[1] : 1;
    const scale = param.shape.length === 2 ? Math.sqrt(1 / fanIn) : 0.1;
    for (let k = 0; k < param.size; k++) p[param.offset + k] = rng.normal(scale);
  }
  return p;
}

/** A view of one named parameter block (or gradient block) in a flat vector. */
export function block<T extends Float32Array | Float64Array>(module: NetModule, v: T, name: string): T {
  const param = module.meta.params.find((q) => q.name === name);
  if (!param) throw new Error(`no parameter ${name} in ${module.meta.name}`);
  return v.subarray(param.offset, param.offset + param.size) as T;
}

// ---- dense linear algebra (row-major matrices as { rows, cols, data }) ----

export interface Matrix {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** W · v for W [rows, cols]. */
export function matVec(W: Matrix, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(W.rows);
  for (let i = 0; i < W.rows; i++) {
    let acc = 0;
    for (let k = 0; k < W.cols; k++) acc += W.data[i * W.cols + k] * v[k];
    out[i] = acc;
  }
  return out;
}

/** Wᵀ · v for W [rows, cols]. */
export function matTVec(W: Matrix, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(W.cols);
  for (let k = 0; k < W.cols; k++) {
    let acc = 0;
    for (let i = 0; i < W.rows; i++) acc += W.data[i * W.cols + k] * v[i];
    out[k] = acc;
  }
  return out;
}

/** u vᵀ, row-major. */
export function outer(u: ArrayLike<number>, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(u.length * v.length);
  for (let i = 0; i < u.length; i++) for (let j = 0; j < v.length; j++) out[i * v.length + j] = u[i] * v[j];
  return out;
}

export function softmax(z: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(z));
  const e = Float64Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** |actual − expected| ≤ rel·|expected| (+ abs), with the value named in the failure message. */
export function expectRelClose(actual: number, expected: number, rel: number, what: string, abs = 0): void {
  const err = Math.abs(actual - expected);
  expect(err, `${what}: got ${actual}, expected ${expected} (|err| ${err.toExponential(2)})`).toBeLessThanOrEqual(rel * Math.abs(expected) + abs);
}

/**
 * Element-wise agreement of two vectors, relative to the expected vector's scale:
 * |a_i − e_i| ≤ rel · max(‖e‖∞, floor). Returns the largest relative error seen.
 */
export function expectVectorClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string, floor = 1e-300): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const scale = Math.max(maxAbs(expected), floor);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / scale;
    if (!(e <= worst)) {
      worst = e;
      worstAt = i;
    }
  }
  expect(
    worst,
    `${what}: worst element ${worstAt}: got ${actual[worstAt]}, expected ${expected[worstAt]} (scale ${scale.toExponential(2)})`,
  ).toBeLessThanOrEqual(rel);
  return worst;
}

/** A copy of `module` whose initParams returns the given vector (as the module's array type). */
export function withInitParams(module: NetModule<Float64Array>, params: Float64Array): NetModule<Float64Array> {
  return { ...module, initParams: () => Float64Array.from(params) };
}
