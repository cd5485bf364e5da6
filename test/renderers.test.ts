/**
 * The renderers against the kernel-IR interpreter, and the whole path from net.json to a running module against
 * the TF.js oracle, for the kernel back end of this run (vitest.config.ts runs this file once per back end; run
 * on its own it checks both).
 *
 * The numeric tests (test/oracle.test.ts, functions, peer suites, extremes) run the interpreter on the kernel IR;
 * here each backend's generated module (compiled, its types stripped, and loaded) must
 * compute what the interpreter computes on the same kernel IR (the backend's passes, its tiles and code budget):
 *  - TypeScript kernels: bit-equal (every element the same float, NaN to NaN, −0 to −0);
 *  - WebAssembly kernels: within WASM_TOLERANCE of the largest element of each result. Their math library
 *    (exp, log, tanh, …) differs from JavaScript's by a few ulps, and f32 modules accumulate contractions in
 *    f32 lanes where the TypeScript kernels sum in f64 and round once.
 * over every SAMPLE_EVERY-th net of each oracle family (seeds below) and every example, in f64 and in f32,
 * forward, loss, gradient and sgdStep, at the oracle's batch (a net) or batches 1, 3 and 4 (an example).
 * The sampled nets are also held to the oracle end to end (every check of test/oracle/check.ts).
 */
import { readdirSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModule, type NetModule } from "./helpers/load-module.ts";
import { isStateful } from "../src/ir/net.ts";
import { buildNet, compile } from "../src/pipeline.ts";
import type { BackendName } from "../src/render/backends.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { EXAMPLES_DIR, exampleSpec } from "./helpers/examples-support.ts";
import { CASES as EXTREME_CASES, DERIVATIVES, FAR, derivativeNet } from "./helpers/extreme-cases.ts";
import { packUnits } from "./helpers/function-cases.ts";
import { data as fuzzData, equationNet, layerNet } from "./helpers/fuzz-arbitraries.ts";
import { pointFor } from "./helpers/fuzz-checks.ts";
import { type PackUnit, groups, packPoint, packSpec } from "./helpers/packs.ts";
import { type Unit, type UnitResult, runUnits, unitsOf } from "./peers/harness.ts";
import { IN_CASES } from "./peers/run-cases.ts";
import { type FloatArray, InterpretedNet, type Precision, interpretedSgdStep } from "./helpers/interpreted.ts";
import { TEST_KERNELS } from "./helpers/kernels.ts";
import { FAMILIES, LEARNING_RATE, ORACLE_LONG, checkAgainstOracle, familyCases, type Case } from "./oracle/check.ts";
import { makeRng } from "./oracle/random-nets.ts";
import { arrayType } from "../src/render/interp/interpret.ts";

/**
 * Every SAMPLE_EVERY-th net of each oracle family, from its first seed (layer nets 10000, 10003, …); every net
 * under `npm run oracle:long`.
 */
const SAMPLE_EVERY = ORACLE_LONG > 0 ? 1 : 3;
/** |module − interpreter| ≤ tolerance · max(‖interpreter‖∞, 1e-30), per result array, for WebAssembly kernels. */
const WASM_TOLERANCE: Record<Precision, number> = { f64: 1e-12, f32: 3e-5 };
const EXAMPLE_BATCHES = [1, 3, 4];

const BACKENDS_UNDER_TEST: readonly BackendName[] = TEST_KERNELS === "auto" ? ["js", "wasm"] : [TEST_KERNELS];
const PRECISIONS = ["f64", "f32"] as const;

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

async function generated(spec: NetSpec, precision: Precision, backend: BackendName): Promise<NetModule> {
  return loadModule((await compile(structuredClone(spec), { precision, kernels: backend, sourceFile: `${spec.name}.json`, format: false })).source);
}

/** The largest |element| among the finite ones (NaN and ±∞ are compared exactly). */
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Where `got` (the module's) and `want` (the interpreter's) disagree beyond what `backend` allows, or "". */
function disagreement(backend: BackendName, precision: Precision, got: ArrayLike<number>, want: ArrayLike<number>): string {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  const bound = backend === "js" ? 0 : WASM_TOLERANCE[precision] * Math.max(maxAbs(want), 1e-30);
  for (let i = 0; i < want.length; i++) {
    const same = backend === "js" ? Object.is(got[i], want[i]) : Object.is(got[i], want[i]) || Math.abs(got[i] - want[i]) <= bound;
    if (!same) return `[${i}] is ${got[i]} from the module, ${want[i]} interpreted${backend === "js" ? "" : ` (|diff| > ${bound.toExponential(3)})`}`;
  }
  return "";
}

interface Point {
  readonly batch: number;
  readonly p: ArrayLike<number>;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

/** Parts of the parameter vector compared one by one (a pack's units: each held to its own scale). */
type Segments = readonly { readonly name: string; readonly start: number; readonly end: number }[];

/**
 * forward, loss, gradient (g and J) and sgdStep of the generated module against the interpreter on `backend`'s
 * kernel IR, at `point`; every disagreement in one failure.
 */
function expectSameAsInterpreter(
  what: string,
  mod: NetModule,
  net: InterpretedNet,
  backend: BackendName,
  precision: Precision,
  point: Point,
  nonzero: boolean,
  segments: Segments = [{ name: "", start: 0, end: mod.meta.paramCount }],
): void {
  const A = arrayType(precision);
  const interpreted = net.module<FloatArray>(precision, backend);
  const { batch } = point;
  const fresh = () => ({ p: A.from(point.p), x: A.from(point.x), y: A.from(point.y) });
  const problems: string[] = [];
  const compare = (result: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
    const d = disagreement(backend, precision, got, want);
    if (d) problems.push(`${result}: ${d}`);
  };
  const compareParams = (result: string, got: FloatArray, want: FloatArray) => {
    for (const { name, start, end } of segments) compare(name ? `${result} of ${name}` : result, got.subarray(start, end), want.subarray(start, end));
  };

  expect(interpreted.meta).toEqual({ paramCount: mod.meta.paramCount, inputSize: mod.meta.inputSize, targetSize: mod.meta.targetSize, outputSize: mod.meta.outputSize });
  expect(mod.meta.params.map((q) => ({ ...q, shape: [...q.shape] })), `${what}: meta.params`).toEqual(net.params());

  const [m, i] = [fresh(), fresh()];
  const outs = [new A(batch * mod.meta.outputSize).fill(Number.NaN), new A(batch * mod.meta.outputSize).fill(Number.NaN)];
  mod.forward(m.p, m.x, outs[0], batch);
  interpreted.forward(i.p, i.x, outs[1], batch);
  compare("forward", outs[0], outs[1]);

  compare("loss", [mod.loss(m.p, m.x, m.y, batch)], [interpreted.loss(i.p, i.x, i.y, batch)]);

  const grads = [new A(mod.meta.paramCount).fill(Number.NaN), new A(mod.meta.paramCount).fill(Number.NaN)];
  compare("gradient J", [mod.gradient(m.p, m.x, m.y, grads[0], batch)], [interpreted.gradient(i.p, i.x, i.y, grads[1], batch)]);
  compareParams("gradient g", grads[0], grads[1]);

  compare("sgdStep J", [mod.sgdStep(m.p, m.x, m.y, LEARNING_RATE, batch)], [interpretedSgdStep(interpreted, precision, i.p, i.x, i.y, LEARNING_RATE, batch)]);
  compareParams("sgdStep params", m.p, i.p);

  expect(problems, `${what}: the generated module against the interpreter`).toEqual([]);
  // a comparison of two results that are all zero or all NaN would prove nothing (a random net may have no
  // gradient at its point, a dead relu say: its values are still compared, and held to the oracle)
  if (nonzero) expect(grads[1].some((g) => g !== 0 && Number.isFinite(g)), `${what}: some finite nonzero gradient`).toBe(true);
}

/** The oracle nets sampled here, in family order. */
const SAMPLE: readonly Case[] = FAMILIES.flatMap((f) => familyCases(f).filter((_, i) => i % SAMPLE_EVERY === 0));

/** The units of a pack by their parameters (the pack's are `u<k>_<name>`, in unit order). */
function unitSegments(mod: NetModule, units: readonly PackUnit[]): Segments {
  return units.map((u, k) => {
    const mine = mod.meta.params.filter((q) => q.name.startsWith(`u${k}_`));
    const start = mine.length > 0 ? mine[0].offset : 0;
    return { name: u.name, start, end: mine.length > 0 ? start + mine.reduce((n, q) => n + q.size, 0) : 0 };
  });
}

/** Networks of test/functions.test.ts compiled together (test/helpers/packs.ts). */
const FUNCTION_PACK = 24;
const FUNCTION_PACKS = groups(packUnits(), FUNCTION_PACK);

/** Every PEER_SAMPLE_EVERY-th pack of the peer suites' checks (test/peer-suites.test.ts), from the first. */
const PEER_PACK = 24;
const PEER_SAMPLE_EVERY = 4;
const PEER_PACKS = groups(unitsOf(IN_CASES.flatMap((c) => c.checks)).units, PEER_PACK);

/** The peer units' gradients at their points from the module and from the interpreter: both errors, or the same numbers. */
function peerDisagreements(backend: BackendName, precision: Precision, units: readonly Unit[], got: Map<string, UnitResult>, want: Map<string, UnitResult>): string[] {
  const problems: string[] = [];
  for (const u of units) {
    const [g, w] = [got.get(u.key), want.get(u.key)];
    if (!g || !w) problems.push(`${u.equations.join("; ")}: no result`);
    else if ("error" in g || "error" in w) {
      if (!("error" in g && "error" in w)) problems.push(`${u.equations.join("; ")}: ${"error" in g ? `the module: ${g.error}` : `the interpreter: ${"error" in w ? w.error : ""}`}`);
    } else {
      w.grads.forEach((record, k) => {
        for (const [name, values] of Object.entries(record)) {
          const d = disagreement(backend, precision, g.grads[k][name] ?? [], values);
          if (d) problems.push(`${u.equations.join("; ")} (point ${k + 1}) d/d${name}: ${d}`);
        }
      });
    }
  }
  return problems;
}

/**
 * The networks and points of test/extremes.test.ts: each case's network at its point(s), and the derivative
 * networks in one pack at w = 0, x = 1 and at w = 1, x = ±1e4, ±1e30.
 */
function extremePoints(): { name: string; spec: NetSpec; points: Point[] }[] {
  const bySpec = new Map<NetSpec, { name: string; points: Point[] }>();
  for (const c of EXTREME_CASES) {
    const entry = bySpec.get(c.spec) ?? bySpec.set(c.spec, { name: c.label, points: [] }).get(c.spec)!;
    entry.points.push({ batch: c.batch, p: c.p, x: c.x, y: c.y });
  }
  const units: PackUnit[] = DERIVATIVES.map(([f]) => ({ name: f, spec: derivativeNet(f), draw: () => ({ params: [], inputs: [], targets: [] }) }));
  const at = (w: number, x: number): Point => ({ batch: 1, p: units.map(() => w), x: units.map(() => x), y: [] });
  return [
    ...[...bySpec].map(([spec, { name, points }]) => ({ name, spec, points })),
    { name: "derivatives at 0 and far out", spec: packSpec("derivatives", units), points: [at(0, 1), ...FAR.map((x) => at(1, x))] },
  ];
}

/** Nets of the fuzzing generators (test/helpers/fuzz-arbitraries.ts), a fixed sample of each form. */
const FUZZ_SAMPLE = 4;
const FUZZ_SEED = 2_024;
function fuzzNets(): { name: string; spec: NetSpec; point: Point }[] {
  const layers = fc.sample(fc.tuple(layerNet, fuzzData), { seed: FUZZ_SEED, numRuns: FUZZ_SAMPLE }).map(([spec, d]) => ({ spec, d }));
  const equations = fc.sample(fc.tuple(equationNet, fuzzData), { seed: FUZZ_SEED, numRuns: FUZZ_SAMPLE }).map(([{ spec }, d]) => ({ spec, d }));
  return [...layers, ...equations].map(({ spec, d }, k) => {
    const { p, x, y, batch } = pointFor(spec, d.seed, d.batch, d.scale);
    return { name: `${k < FUZZ_SAMPLE ? "layer" : "equation"} net ${(k % FUZZ_SAMPLE) + 1}`, spec, point: { batch, p, x, y } };
  });
}

// the interpreted module takes no state array: the examples with state (batchnorm, dropout) are compared, in both
// modes and with both kernels, in test/oracle-layer-stacks.test.ts (against TF.js) and test/layers-modes.test.ts
const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .filter((name) => !isStateful(buildNet(exampleSpec(name))))
  .sort();

for (const backend of BACKENDS_UNDER_TEST) {
  describe(`${backend} kernels: random oracle nets, the generated module against the interpreter and TF.js`, () => {
    it("samples every family", () => expect(new Set(SAMPLE.map((c) => c.kind)).size).toBe(FAMILIES.length));
    for (const c of SAMPLE) {
      const net = new InterpretedNet(c.spec);
      for (const precision of PRECISIONS) {
        it(`${c.kind} seed ${c.seed} ${precision} (batch ${c.batch})`, async () => {
          const mod = await generated(c.spec, precision, backend);
          expectSameAsInterpreter(`${c.kind} seed ${c.seed}`, mod, net, backend, precision, c, false);
          checkAgainstOracle(c, precision, mod, `the generated module (${backend} kernels)`);
        });
      }
    }
  });

  describe(`${backend} kernels: every function, convention and regression of test/functions.test.ts, in packs, against the interpreter`, () => {
    FUNCTION_PACKS.forEach((units, k) => {
      const spec = packSpec(`functions_${k + 1}`, units);
      const net = new InterpretedNet(spec);
      for (const precision of PRECISIONS) {
        it(`pack ${k + 1} of ${FUNCTION_PACKS.length}: ${units[0].name} … ${units[units.length - 1].name} (${precision})`, async () => {
          const mod = await generated(spec, precision, backend);
          const rng = makeRng(1_000 + k);
          const { params, inputs, targets } = packPoint(units, 2, () => rng.next());
          const point = { batch: 2, p: params, x: inputs, y: targets };
          expectSameAsInterpreter(`functions pack ${k + 1}`, mod, net, backend, precision, point, true, unitSegments(mod, units));
        });
      }
    });
  });

  describe(`${backend} kernels: peer suite checks, in packs, the generated module against the interpreter`, () => {
    PEER_PACKS.forEach((units, k) => {
      if (k % PEER_SAMPLE_EVERY !== 0) return;
      for (const precision of PRECISIONS) {
        it(`pack ${k + 1} of ${PEER_PACKS.length} (${precision})`, async () => {
          const got = await runUnits(units, { engine: backend, precision }, PEER_PACK);
          const want = await runUnits(units, { engine: "interpreter", precision }, PEER_PACK);
          expect(peerDisagreements(backend, precision, units, got, want)).toEqual([]);
        });
      }
    });
  });

  describe(`${backend} kernels: the numerical extremes of test/extremes.test.ts, the generated module against the interpreter`, () => {
    for (const { name, spec, points } of extremePoints()) {
      const net = new InterpretedNet(spec);
      for (const precision of PRECISIONS) {
        it(`${name}, ${points.length} point(s) (${precision})`, async () => {
          const mod = await generated(spec, precision, backend);
          points.forEach((point, k) => expectSameAsInterpreter(`${name} point ${k + 1}`, mod, net, backend, precision, point, false));
        });
      }
    }
  });

  describe(`${backend} kernels: nets of the fuzzing generators (seed ${FUZZ_SEED}), the generated module against the interpreter`, () => {
    for (const { name, spec, point } of fuzzNets()) {
      const net = new InterpretedNet(spec);
      for (const precision of PRECISIONS) {
        it(`${name} (${precision})`, async () => {
          const mod = await generated(spec, precision, backend);
          expectSameAsInterpreter(name, mod, net, backend, precision, point, false);
        });
      }
    }
  });

  describe(`${backend} kernels: every example, the generated module against the interpreter`, () => {
    it("has examples to compare", () => expect(EXAMPLES.length).toBeGreaterThan(5));
    for (const name of EXAMPLES) {
      for (const precision of PRECISIONS) {
        it(`${name} (${precision})`, async () => {
          const spec = exampleSpec(name);
          const mod = await generated(spec, precision, backend);
          const net = new InterpretedNet(spec);
          const rng = makeRng(name.length * 7919 + (precision === "f64" ? 1 : 2));
          const draw = (n: number, f: () => number) => Array.from({ length: n }, f);
          for (const batch of EXAMPLE_BATCHES) {
            const point = {
              batch,
              p: draw(mod.meta.paramCount, () => 0.5 * rng.normal()),
              x: draw(batch * mod.meta.inputSize, () => rng.normal()),
              y: draw(batch * mod.meta.targetSize, () => rng.next()),
            };
            expectSameAsInterpreter(`${name} batch ${batch}`, mod, net, backend, precision, point, true);
          }
        });
      }
    }
  });
}
