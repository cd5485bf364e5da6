/**
 * Kernel IR for the pass tests: small builders for hand-made functions, random networks lowered to kernel IR,
 * and running a body with the interpreter on seeded random arrays to compare two versions of it.
 */
import { expect } from "vitest";
import type { LoweredModule } from "../../src/lower/functions.ts";
import type { FunctionName } from "../../src/lower/functions.ts";
import type { Buffer, BufferRole, Expr, Index, KernelFunction, Local, LoopKind, Stmt, UpdateMode, Var } from "../../src/lower/kernel.ts";
import { PASSES, type PassContext } from "../../src/pipeline.ts";
import { libraryTiles } from "../../src/lower/passes/tile.ts";
import { type FloatArray, type Precision, type Workspace, arrayType, interpret } from "../../src/render/interp/interpret.ts";
import type { LayerNetSpec, NetSpec } from "../../src/spec/types.ts";
import { makeRng, randomConvNet, randomEquationNet, randomLayerNet, randomSharedNet } from "../oracle/random-nets.ts";
import { type Lowered, lowerSpec } from "./interp.ts";

// ---- building kernel IR by hand ----------------------------------------------------------------------

export const loopVar = (name: string, extent: number | "batch"): Var => ({ name, extent });
export const localVar = (hint: string): Local => ({ hint, named: false });
/** c + Σ k·v. */
export const idx = (c: number, ...terms: [Var, number][]): Index => ({ c, terms: terms.map(([v, k]) => ({ v, k })) });
export const loop = (v: Var, body: Stmt[], kind: LoopKind = "elements"): Stmt => ({ k: "loop", v, kind, body });
export const store = (buf: Buffer, index: Index, value: Expr, mode: UpdateMode = "="): Stmt => ({ k: "store", buf, index, value, mode });
export const declare = (local: Local, value: Expr, mutable = false): Stmt => ({ k: "let", local, value, mutable });
export const ret = (value: Expr): Stmt => ({ k: "return", value });

/** The caller's arrays of a hand-made function, and workspace buffers made on demand. */
export class HandBuffers {
  readonly params: Buffer;
  readonly inputs: Buffer;
  readonly targets: Buffer;
  readonly out: Buffer;
  readonly grads: Buffer;

  constructor(readonly sizes: Sizes) {
    this.params = { role: "params", size: sizes.paramCount, perSample: false };
    this.grads = { role: "grads", size: sizes.paramCount, perSample: false };
    this.inputs = { role: "inputs", size: sizes.inputSize, perSample: true };
    this.targets = { role: "targets", size: sizes.targetSize, perSample: true };
    this.out = { role: "out", size: sizes.outputSize, perSample: true };
  }

  work(size: number, perSample = false): Buffer {
    return { role: "work", size, perSample };
  }
}

// ---- running a body --------------------------------------------------------------------------------

export interface Sizes {
  readonly paramCount: number;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
}

export interface RunOptions {
  readonly batch: number;
  readonly precision: Precision;
  readonly seed: number;
  readonly workspace?: Workspace;
}

/** What a call leaves the caller: the returned value and the arrays it may write. */
export interface Outcome {
  readonly result: number | undefined;
  readonly out: FloatArray;
  readonly grads: FloatArray;
}

/** Seeded arrays: parameters ~ N(0, 0.5²), inputs ~ N(0, 1), targets uniform in [0, 1). */
export function callerArrays(sizes: Sizes, options: RunOptions) {
  const rng = makeRng(options.seed);
  const Array = arrayType(options.precision);
  const filled = (n: number, f: () => number): FloatArray => {
    const a = new Array(n);
    for (let i = 0; i < n; i++) a[i] = f();
    return a;
  };
  return {
    params: filled(sizes.paramCount, () => 0.5 * rng.normal()),
    inputs: filled(options.batch * sizes.inputSize, () => rng.normal()),
    targets: filled(options.batch * sizes.targetSize, () => rng.next()),
    // NaN where nothing is written: an element a version forgets to write shows
    out: new Array(options.batch * sizes.outputSize).fill(Number.NaN),
    grads: new Array(sizes.paramCount).fill(Number.NaN),
  };
}

export function run(body: readonly Stmt[], sizes: Sizes, options: RunOptions): Outcome {
  const arrays = callerArrays(sizes, options);
  const fn: KernelFunction = { name: "test", body };
  const result = interpret(fn, arrays, { batch: options.batch, precision: options.precision, lr: 0.1, ...(options.workspace ? { workspace: options.workspace } : {}) });
  return { result, out: arrays.out, grads: arrays.grads };
}

/**
 * How two outcomes must agree: `bits` every element the same float (NaN with NaN); `value` the same number
 * (also 0 with −0: a sum started from 0 rather than its first term); or within a relative tolerance.
 */
export type Agreement = "bits" | "value" | { readonly tolerance: number };

function agree(a: number, b: number, how: Agreement): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (how === "bits") return Object.is(a, b);
  if (how === "value") return a === b;
  return a === b || Math.abs(a - b) <= how.tolerance * Math.max(1, Math.abs(a), Math.abs(b));
}

export function expectAgree(what: string, got: Outcome, want: Outcome, how: Agreement): void {
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
    ["result", [got.result ?? Number.NaN], [want.result ?? Number.NaN]],
    ["out", got.out, want.out],
    ["grads", got.grads, want.grads],
  ];
  for (const [name, a, b] of pairs) {
    expect(a.length, `${what}: ${name} length`).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      if (!agree(a[i], b[i], how)) expect.fail(`${what}: ${name}[${i}] is ${a[i]}, expected ${b[i]} (${JSON.stringify(how)})`);
    }
  }
}

/** Whether an outcome holds some finite value (a comparison of all-NaN results proves nothing). */
export function hasFinite(o: Outcome): boolean {
  return [o.result ?? Number.NaN, ...o.out, ...o.grads].some(Number.isFinite);
}

// ---- random networks -------------------------------------------------------------------------------

/** A small random network of each generator in turn (layers, equations, shared weights, convolutions). */
export function randomSpec(seed: number): NetSpec {
  const rng = makeRng(seed);
  const makers = [randomLayerNet, randomEquationNet, randomSharedNet, randomConvNet];
  return makers[seed % makers.length](rng, `random_${seed}`);
}

/**
 * 32 inputs into 32 units: 1 024 weights, a batched dense product (its forward product and weight gradient;
 * nothing flows back into the inputs). The second layer's 96 weights stay below the dense threshold.
 */
export const DENSE: LayerNetSpec = {
  name: "dense_32",
  input: 32,
  layers: [
    { type: "dense", units: 32, activation: "tanh" },
    { type: "dense", units: 3 },
  ],
  loss: "softmax_cross_entropy",
};

export function randomLowered(seed: number): Lowered {
  return lowerSpec(randomSpec(seed));
}

export const FUNCTION_NAMES: readonly FunctionName[] = ["forward", "loss", "gradient"];

export function sizesOf(lowered: LoweredModule): Sizes {
  return lowered.layout;
}

/** The context runPasses gives each pass, for a function of `lowered`. */
export function passContext(lowered: LoweredModule, name: FunctionName): PassContext {
  return { roots: new Set(lowered.plans[name].roots), tiles: libraryTiles, temp: (base) => ({ hint: base, named: false }), unrolling: { maxTrips: 16, budget: 256 } };
}

/** The pass named `name` (of PASSES). */
export function passNamed(name: string): (typeof PASSES)[number] {
  const pass = PASSES.find((p) => p.name === name);
  if (!pass) throw new Error(`no pass ${name}`);
  return pass;
}

/** Every function body of `lowered` just before pass `name` runs in the pipeline, and just after. */
export function aroundPass(lowered: LoweredModule, pass: string, name: FunctionName): { before: Stmt[]; after: Stmt[] } {
  const ctx = passContext(lowered, name);
  const at = PASSES.findIndex((p) => p.name === pass);
  const before = PASSES.slice(0, at).reduce((b, p) => p.run(b, ctx), [...lowered.functions[name].body]);
  return { before, after: PASSES[at].run(before, ctx) };
}

/** Arrays and statements of a kind, anywhere in a body. */
export function countStmts(body: readonly Stmt[], pred: (s: Stmt) => boolean): number {
  let n = 0;
  const walk = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (pred(s)) n++;
      if (s.k === "loop" || s.k === "ifBatch") walk(s.body);
    }
  };
  walk(body);
  return n;
}

export type { BufferRole };

// ---- a pass on random networks ---------------------------------------------------------------------

/** Seeds of the random networks each pass test runs (three of each generator). */
export const PASS_SEEDS = Array.from({ length: 12 }, (_, i) => i);

export interface PassAgreement {
  readonly f64: Agreement;
  readonly f32: Agreement;
}

/**
 * For each random network and function: the body just before `pass` in the pipeline and just after it, and
 * the materialized body before and after `pass` alone, run on the same arrays (batches 1 and 3), agree as
 * `how` says. Returns how many comparisons had some finite value.
 */
export function expectPassPreserves(pass: string, how: PassAgreement, seeds: readonly number[] = PASS_SEEDS): number {
  let meaningful = 0;
  for (const seed of seeds) {
    const { materialized } = randomLowered(seed);
    const sizes = sizesOf(materialized);
    for (const name of FUNCTION_NAMES) {
      const { before, after } = aroundPass(materialized, pass, name);
      const body = materialized.functions[name].body;
      const alone = passNamed(pass).run(body, passContext(materialized, name));
      for (const [label, b0, b1] of [["in the pipeline", before, after], ["alone", body, alone]] as const) {
        for (const precision of ["f64", "f32"] as const) {
          for (const batch of [1, 3]) {
            const options = { batch, precision, seed };
            const want = run(b0, sizes, options);
            expectAgree(`random net ${seed} ${name}, ${pass} ${label}, ${precision} batch ${batch}`, run(b1, sizes, options), want, how[precision]);
            if (hasFinite(want)) meaningful++;
          }
        }
      }
    }
  }
  return meaningful;
}
