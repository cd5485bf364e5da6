/**
 * The oracle's random networks and what is checked of a module computing one of them: `loss`, `gradient` (g
 * and the returned J), `forward` and `sgdStep` against TensorFlow.js (float32, TF.js autodiff), with the sizes
 * and the flat parameter layout. The same checks run on the interpreter for every network (test/oracle.test.ts)
 * and on generated modules of both kernel back ends for a sample (test/renderers.test.ts).
 *
 * These are the families of dense layer nets and of equation nets (image nets included); the layer-stack
 * families (random stacks of every layer type: conv, pooling, layernorm, batchnorm, dropout, residual blocks, …,
 * in training and inference mode) are test/oracle/check-layer-stacks.ts, run by test/oracle-layer-stacks.test.ts.
 *
 * Reproduce a failure from its seed: `makeCase(kind, seed)` (`rng = makeRng(seed)`, then `randomLayerNet(rng,
 * name)` or `randomEquationNet(rng, name)`, …, `batch = rng.int(1, 5)`, `randomParams(paramCount, rng)`,
 * `randomData(spec, batch, rng)`, all values rounded to float32).
 */
import type { Precision } from "../../src/pipeline.ts";
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import {
  ioSizes,
  makeRng,
  netSizes,
  randomData,
  randomEquationNet,
  randomConvNet,
  randomLayerNet,
  randomParams,
  randomSharedNet,
  toF32Values,
  SHARED_NARROW,
  SHARED_WIDE,
  NARROW,
  WIDE,
  type NetSizes,
} from "./random-nets.ts";
import { tfEquationNet, type OracleResult } from "./tf-equations.ts";
import { tfLayerNet } from "./tf-layers.ts";

export type Kind = "layer" | "equation" | "wide layer" | "shared" | "wide shared" | "conv";

export interface Family {
  readonly kind: Kind;
  readonly count: number;
  readonly seed0: number;
}

/**
 * `npm run oracle:long` sets ORACLE_LONG (default 5): that many times as many networks per family, every one of
 * them also compiled end to end on both kernel back ends (test/renderers.test.ts).
 */
export const ORACLE_LONG = Math.max(0, Math.floor(Number(process.env.ORACLE_LONG ?? 0) || 0));

/**
 * The networks `npm test` checks, by family: seeds seed0 … seed0 + count − 1 (count × ORACLE_LONG under
 * `npm run oracle:long`). Shared nets read one parameter several times per sample (tied weights, unrolled
 * recurrences, shared biases); conv nets are image nets (conv2d, pooling and reshape on [height, width,
 * channels] inputs).
 */
export const FAMILIES: readonly Family[] = ([
  { kind: "layer", count: 50, seed0: 10_000 },
  { kind: "equation", count: 50, seed0: 20_000 },
  { kind: "wide layer", count: 16, seed0: 30_000 },
  { kind: "shared", count: 24, seed0: 40_000 },
  { kind: "wide shared", count: 8, seed0: 50_000 },
  { kind: "conv", count: 12, seed0: 60_000 },
] as const satisfies readonly Family[]).map((f) => (ORACLE_LONG > 0 ? { ...f, count: f.count * ORACLE_LONG } : f));

/** Relative tolerances: values |a − b| ≤ tol·(1 + |b|); gradients |a − b| ≤ tol·max(‖b‖∞, 1e-2). */
const TOLERANCE: Record<Precision, number> = { f64: 1e-4, f32: 1e-3 };
export const LEARNING_RATE = 0.05;

export interface Case {
  readonly kind: Kind;
  readonly seed: number;
  readonly spec: NetSpec;
  readonly batch: number;
  /** Parameters and data, already rounded to float32 so that every implementation sees the same numbers. */
  readonly p: Float64Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
}

export function makeCase(kind: Kind, seed: number): Case {
  const rng = makeRng(seed);
  const spec =
    kind === "equation"
      ? randomEquationNet(rng, `oracle_eq_${seed}`)
      : kind === "conv"
        ? randomConvNet(rng, `oracle_conv_${seed}`)
        : kind === "shared" || kind === "wide shared"
          ? randomSharedNet(rng, `oracle_shared_${seed}`, kind === "wide shared" ? SHARED_WIDE : SHARED_NARROW)
          : randomLayerNet(rng, `oracle_layer_${seed}`, kind === "wide layer" ? WIDE : NARROW);
  // wide nets run as batched kernels in blocks of four samples: cover the remainders too
  const batch = kind.startsWith("wide") ? rng.int(1, 9) : rng.int(1, 5);
  const p = toF32Values(randomParams(ioSizes(spec).paramCount, rng));
  const { x, y } = randomData(spec, batch, rng);
  return { kind, seed, spec, batch, p, x: toF32Values(x), y: toF32Values(y) };
}

/** The cases of `family`, seed by seed. */
export function familyCases(family: Family, count = family.count, seed0 = family.seed0): Case[] {
  return Array.from({ length: count }, (_, i) => makeCase(family.kind, seed0 + i));
}

const oracleCache = new Map<Case, { result: OracleResult; sizes: NetSizes }>();
export function oracleOf(c: Case): { result: OracleResult; sizes: NetSizes } {
  let o = oracleCache.get(c);
  if (!o) {
    const result = isLayerSpec(c.spec) ? tfLayerNet(c.spec, c.p, c.x, c.y, c.batch) : tfEquationNet(c.spec, c.p, c.x, c.y, c.batch);
    o = { result, sizes: netSizes(c.spec) };
    oracleCache.set(c, o);
  }
  return o;
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const show = (a: ArrayLike<number>) => `[${Array.from(a).join(", ")}]`;

/** Collects every disagreement of one module with the oracle, then fails once with a reproducible report. */
class Report {
  private readonly problems: string[] = [];
  constructor(
    private readonly c: Case,
    private readonly precision: Precision,
    private readonly subject: string,
  ) {}

  same(what: string, got: unknown, want: unknown): void {
    if (JSON.stringify(got) !== JSON.stringify(want)) this.problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }

  close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): void {
    if (got.length !== want.length) {
      this.problems.push(`${what}: length ${got.length}, want ${want.length}`);
      return;
    }
    const bad: string[] = [];
    for (let i = 0; i < want.length; i++) {
      const t = tol(i);
      if (!(Math.abs(got[i] - want[i]) <= t)) bad.push(`  [${i}] got ${got[i]}, want ${want[i]} (|diff| ${Math.abs(got[i] - want[i]).toExponential(3)} > ${t.toExponential(3)})`);
    }
    if (bad.length > 0) this.problems.push(`${what}: ${bad.length} of ${want.length} element(s) differ\n${bad.slice(0, 8).join("\n")}`);
  }

  values(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
    const rtol = TOLERANCE[this.precision];
    this.close(what, got, want, (i) => rtol * (1 + Math.abs(want[i])));
  }

  gradient(what: string, got: ArrayLike<number>, want: ArrayLike<number>, factor = 1, extra: (i: number) => number = () => 0): void {
    const scale = TOLERANCE[this.precision] * Math.max(maxAbs(want), 1e-2 * factor);
    this.close(what, got, want, (i) => scale + extra(i));
  }

  unchanged(what: string, after: ArrayLike<number>, before: ArrayLike<number>): void {
    for (let i = 0; i < before.length; i++) {
      if (!Object.is(after[i], before[i])) {
        this.problems.push(`${what} was modified (first at [${i}]: ${before[i]} → ${after[i]})`);
        return;
      }
    }
  }

  finish(): void {
    if (this.problems.length === 0) return;
    const { c } = this;
    const data = c.p.length + c.x.length + c.y.length <= 300 ? `\nparams: ${show(c.p)}\nx: ${show(c.x)}\ny: ${show(c.y)}` : "";
    throw new Error(
      `${this.subject} (${this.precision}) disagrees with the TF.js oracle on ${c.kind} net seed ${c.seed}, batch ${c.batch}:\n` +
        `${this.problems.join("\n")}\n` +
        `spec: ${JSON.stringify(c.spec)}${data}`,
    );
  }
}

type Arr = Float32Array | Float64Array;

/** What the oracle checks of a module: a generated module, or the interpreter standing in for one. */
export interface OracleSubject {
  readonly meta: {
    readonly paramCount: number;
    readonly inputSize: number;
    readonly outputSize: number;
    readonly targetSize: number;
    readonly params: readonly { readonly name: string; readonly shape: readonly number[]; readonly offset: number; readonly size: number }[];
  };
  forward(params: Arr, inputs: Arr, out: Arr, batch?: number): void;
  loss(params: Arr, inputs: Arr, targets: Arr, batch?: number): number;
  gradient(params: Arr, inputs: Arr, targets: Arr, grads: Arr, batch?: number): number;
  sgdStep(params: Arr, inputs: Arr, targets: Arr, lr: number, batch?: number): number;
}

/**
 * Every check of `mod` (named `subject` in the report) against the oracle on case `c`; throws one error listing
 * every disagreement.
 */
export function checkAgainstOracle(c: Case, precision: Precision, mod: OracleSubject, subject: string): void {
  const Arr = precision === "f64" ? Float64Array : Float32Array;
  const { result: want, sizes } = oracleOf(c);
  const report = new Report(c, precision, subject);
  const { batch } = c;

  // meta: sizes and the flat parameter layout
  report.same("meta.paramCount", mod.meta.paramCount, sizes.paramCount);
  report.same("meta.inputSize", mod.meta.inputSize, sizes.inputSize);
  report.same("meta.outputSize", mod.meta.outputSize, sizes.outputSize);
  report.same("meta.targetSize", mod.meta.targetSize, sizes.targetSize);
  report.same(
    "meta.params",
    mod.meta.params.map((q) => ({ name: q.name, shape: [...q.shape], offset: q.offset, size: q.size })),
    sizes.params,
  );

  const p = Arr.from(c.p);
  const x = Arr.from(c.x);
  const y = Arr.from(c.y);

  // loss
  report.values("loss()", [mod.loss(p, x, y, batch)], [want.loss]);

  // gradient: g is overwritten (not accumulated into), J is returned
  const g = new Arr(sizes.paramCount).fill(7.25);
  const J = mod.gradient(p, x, y, g, batch);
  report.values("gradient() return value J", [J], [want.loss]);
  report.gradient("gradient() g", g, want.grad);

  // forward
  const out = new Arr(batch * sizes.outputSize).fill(-3.5);
  mod.forward(p, x, out, batch);
  report.values("forward() output", out, want.output);

  // none of the above touches its inputs
  report.unchanged("p", p, c.p);
  report.unchanged("x", x, c.x);
  report.unchanged("y", y, c.y);

  // sgdStep: returns J before the step, p ← p − lr·dJ/dp (from the parameters before the step)
  const q = Arr.from(c.p);
  const J0 = mod.sgdStep(q, x, y, LEARNING_RATE, batch);
  report.values("sgdStep() return value", [J0], [want.loss]);
  const step = Array.from(q, (v, i) => v - c.p[i]);
  const expected = Array.from(want.grad, (v) => -LEARNING_RATE * v);
  // in f32 the updated parameter is rounded to float32: allow one ulp of |p| on top
  const ulp = (i: number) => (precision === "f32" ? 2 ** -23 * (Math.abs(c.p[i]) + Math.abs(expected[i])) : 0);
  report.gradient("sgdStep() p_new − p", step, expected, LEARNING_RATE, ulp);

  report.finish();
}
