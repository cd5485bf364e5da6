/**
 * bpgen against an independent oracle: the same random networks (both net.json forms) computed by
 * TensorFlow.js (float32) and differentiated by TF.js autodiff (test/oracle/). Every generated module
 * must agree on `loss`, `gradient` (g and the returned J), `forward` and `sgdStep`, in f64 and in f32.
 *
 * Reproduce a failure from its seed: `rng = makeRng(seed)`, then `randomLayerNet(rng, name)` or
 * `randomEquationNet(rng, name)`, `batch = rng.int(1, 5)`, `randomParams(paramCount, rng)`,
 * `randomData(spec, batch, rng)`, all values rounded to float32 (see `makeCase` below).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, it } from "vitest";
import { loadModule, type FloatArray, type NetModule } from "../src/check/module.ts";
import { compile, type Precision } from "../src/pipeline.ts";
import { withKernels } from "./helpers/kernels.ts";
import { isLayerSpec, type NetSpec } from "../src/spec/types.ts";
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
} from "./oracle/random-nets.ts";
import { tfEquationNet, type OracleResult } from "./oracle/tf-equations.ts";
import { tfLayerNet } from "./oracle/tf-layers.ts";

const LAYER_NETS = 50;
const EQUATION_NETS = 50;
const LAYER_SEED = 10_000;
const EQUATION_SEED = 20_000;
const WIDE_LAYER_NETS = 16;
const WIDE_LAYER_SEED = 30_000;
/** Networks that read one parameter several times per sample (tied weights, unrolled recurrences, shared biases). */
const SHARED_NETS = 24;
const SHARED_SEED = 40_000;
const WIDE_SHARED_NETS = 8;
const WIDE_SHARED_SEED = 50_000;
/** Image nets: conv2d, pooling and reshape on [height, width, channels] inputs. */
const CONV_NETS = 12;
const CONV_SEED = 60_000;
/** Relative tolerances: values |a − b| ≤ tol·(1 + |b|); gradients |a − b| ≤ tol·max(‖b‖∞, 1e-2). */
const TOLERANCE: Record<Precision, number> = { f64: 1e-4, f32: 1e-3 };
const LEARNING_RATE = 0.05;

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

interface Case {
  kind: "layer" | "equation" | "wide layer" | "shared" | "wide shared" | "conv";
  seed: number;
  spec: NetSpec;
  batch: number;
  /** Parameters and data, already rounded to float32 so that every implementation sees the same numbers. */
  p: Float64Array;
  x: Float64Array;
  y: Float64Array;
}

function makeCase(kind: Case["kind"], seed: number): Case {
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

const oracleCache = new Map<Case, { result: OracleResult; sizes: NetSizes }>();
function oracleOf(c: Case): { result: OracleResult; sizes: NetSizes } {
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
    const data =
      c.p.length + c.x.length + c.y.length <= 300 ? `\nparams: ${show(c.p)}\nx: ${show(c.x)}\ny: ${show(c.y)}` : "";
    throw new Error(
      `bpgen (${this.precision}) disagrees with the TF.js oracle on ${c.kind} net seed ${c.seed}, batch ${c.batch}:\n` +
        `${this.problems.join("\n")}\n` +
        `spec: ${JSON.stringify(c.spec)}${data}`,
    );
  }
}

async function checkModule(c: Case, precision: Precision): Promise<void> {
  const { source } = await compile(structuredClone(c.spec), withKernels({ precision }));
  const Arr = precision === "f64" ? Float64Array : Float32Array;
  const mod = loadModule(source) as NetModule<FloatArray>;
  const { result: want, sizes } = oracleOf(c);
  const report = new Report(c, precision);
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

function suite(kind: Case["kind"], count: number, seed0: number): void {
  describe(`bpgen vs TF.js oracle: random ${kind} nets`, () => {
    for (let i = 0; i < count; i++) {
      const c = makeCase(kind, seed0 + i);
      for (const precision of ["f64", "f32"] as const) {
        it(`seed ${c.seed} ${precision} (batch ${c.batch})`, () => checkModule(c, precision));
      }
    }
  });
}

suite("layer", LAYER_NETS, LAYER_SEED);
suite("equation", EQUATION_NETS, EQUATION_SEED);
suite("wide layer", WIDE_LAYER_NETS, WIDE_LAYER_SEED);
suite("shared", SHARED_NETS, SHARED_SEED);
suite("wide shared", WIDE_SHARED_NETS, WIDE_SHARED_SEED);
suite("conv", CONV_NETS, CONV_SEED);
