/**
 * Property-based tests (fast-check) over random networks of both forms and random data:
 *  - a malformed file either compiles or fails with a clear error (exit 2, file:line:column, expected), and
 *    a failed run leaves the existing output untouched;
 *  - gradients agree with f64 central finite differences and with TF.js autodiff (on the kernel-IR interpreter;
 *    test/renderers.test.ts holds both kernel back ends' modules of the same generators' nets to it);
 *  - output is deterministic (same input, same bytes, whatever the key order of the objects in memory), with
 *    either kernel back end;
 *  - `--verify` passes on what was just written, and fails once it is edited.
 *
 * `npm test` runs a few dozen cases per property. `npm run fuzz` runs the same properties with FUZZ_RUNS
 * cases each (FUZZ_SEED fixes the seed) and prints a summary: cases, failures and time per property.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { tempDir } from "./helpers/cli.ts";
import { anyNet, data, equationNet, layerNet, malformed } from "./helpers/fuzz-arbitraries.ts";
import { type Checked, finiteDifferenceProblems, oracleProblems, pointFor, unclearErrorProblems } from "./helpers/fuzz-checks.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { assertNoTrace, runCli, snapshot } from "./helpers/fuzz-cli.ts";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 0);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Cases per property: `quick` under npm test, FUZZ_RUNS under npm run fuzz. */
const runs = (quick: number) => (FUZZ_RUNS > 0 ? FUZZ_RUNS : quick);
/** A generous per-property time limit (ms): about two seconds a case. */
const limit = (quick: number) => Math.max(60_000, runs(quick) * 2_000);

interface Tally {
  property: string;
  cases: number;
  failures: number;
  millis: number;
  seed: number;
}
const tallies: Tally[] = [];
/** How the malformed files ended: compiled, or rejected at the JSON, schema/name or expression stage. */
const outcomes = new Map<string, number>();
const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);

/** Runs an async property, records its numbers for the summary, and fails the test with fast-check's report. */
async function check<T>(property: string, arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, quick: number): Promise<void> {
  const started = performance.now();
  const details = await fc.check(fc.asyncProperty(arbitrary, predicate), { numRuns: runs(quick), seed: SEED, endOnFailure: true });
  tallies.push({ property, cases: details.numRuns, failures: details.failed ? 1 : 0, millis: performance.now() - started, seed: details.seed });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${fc.defaultReportMessage(details) ?? `${property} failed`}\n${cause}`);
  }
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

afterAll(() => {
  assertNoTrace();
  if (FUZZ_RUNS === 0) return;
  const rows = tallies.map((t) => `${t.property.padEnd(62)} ${String(t.cases).padStart(6)} ${String(t.failures).padStart(8)} ${(t.millis / 1000).toFixed(1).padStart(8)}   ${t.seed}`);
  const total = tallies.reduce((a, t) => ({ cases: a.cases + t.cases, failures: a.failures + t.failures, millis: a.millis + t.millis }), { cases: 0, failures: 0, millis: 0 });
  process.stdout.write(
    [
      "",
      `fuzz summary (FUZZ_RUNS=${FUZZ_RUNS}${SEED === undefined ? "" : `, FUZZ_SEED=${SEED}`})`,
      `${"property".padEnd(62)} ${"cases".padStart(6)} ${"failures".padStart(8)} ${"seconds".padStart(8)}   seed`,
      ...rows,
      `${"total".padEnd(62)} ${String(total.cases).padStart(6)} ${String(total.failures).padStart(8)} ${(total.millis / 1000).toFixed(1).padStart(8)}`,
      `malformed files: ${[...outcomes].map(([k, v]) => `${v} ${k}`).join(", ")}`,
      "",
    ].join("\n"),
  );
});

const PREVIOUS = "// previous output\n";

/** The f64 module of `spec` as the kernel-IR interpreter runs it (test/renderers.test.ts holds the modules to it). */
function interpreted(spec: NetSpec): Checked {
  const net = new InterpretedNet(spec);
  const m = net.module<Float64Array>("f64");
  return {
    meta: { ...m.meta, params: net.params() },
    loss: (p, x, y, batch) => m.loss(p, x, y, batch),
    gradient: (p, x, y, g, batch) => m.gradient(p, x, y, g, batch),
    forward: (p, x, out, batch) => m.forward(p, x, out, batch),
  };
}

describe("fuzzing", () => {
  it(
    "a malformed file compiles, or fails with a clear error and leaves the old output untouched",
    async () => {
      await check(
        "malformed files: compile, or a clear error and nothing written",
        malformed,
        async ({ text, how }) => {
          const dir = tempDir();
          const file = join(dir, "fuzz.json");
          writeFileSync(file, text);
          writeFileSync(join(dir, "out.ts"), PREVIOUS);
          const before = snapshot(dir);
          const run = await runCli([file, "-o", join(dir, "out.ts")]);
          const context = `after ${how.join(", ")}:\n${run.stderr}`;
          count(run.code !== 2 ? "compiled" : / {2}in "/.test(run.stderr) ? "rejected in an expression" : /invalid JSON|JSON is nested|file is empty/.test(run.stderr) ? "rejected as JSON" : "rejected by the schema or name checks");
          if (run.code === 0) {
            // a mutation that kept the file valid: the module must load and run
            const m = loadModule(readFileSync(join(dir, "out.ts"), "utf8"));
            expect(m.initParams(1).length, context).toBe(m.meta.paramCount);
            return;
          }
          expect(run.code, context).toBe(2);
          expect(unclearErrorProblems(run.stderr, file), context).toEqual([]);
          expect(snapshot(dir), context).toEqual(before);
        },
        50,
      );
    },
    limit(50),
  );

  it(
    "layer nets (interpreted): gradients agree with f64 finite differences and TF.js autodiff",
    async () => {
      await check(
        "layer nets: gradient = finite differences = TF.js",
        fc.tuple(layerNet, data),
        async ([spec, d]) => {
          const m = interpreted(spec);
          const point = pointFor(spec, d.seed, d.batch, d.scale);
          const context = JSON.stringify(spec);
          expect(finiteDifferenceProblems(m, point), context).toEqual([]);
          expect(oracleProblems(spec, m, point), context).toEqual([]);
        },
        20,
      );
    },
    limit(20),
  );

  it(
    "equation nets (interpreted): gradients agree with f64 finite differences and TF.js autodiff",
    async () => {
      await check(
        "equation nets: gradient = finite differences = TF.js",
        fc.tuple(equationNet, data),
        async ([{ spec }, d]) => {
          const m = interpreted(spec);
          const point = pointFor(spec, d.seed, d.batch, d.scale);
          const context = JSON.stringify(spec);
          expect(finiteDifferenceProblems(m, point), context).toEqual([]);
          expect(oracleProblems(spec, m, point), context).toEqual([]);
        },
        25,
      );
    },
    limit(25),
  );

  it(
    "output is deterministic: the same network gives the same bytes, whatever the order of keys in memory",
    async () => {
      await check(
        "deterministic output",
        fc.tuple(anyNet, fc.constantFrom("f32" as const, "f64" as const), fc.constantFrom("js" as const, "wasm" as const)),
        async ([spec, precision, kernels]) => {
          const first = await compile(structuredClone(spec), { precision, kernels });
          const second = await compile(reorderKeys(spec), { precision, kernels });
          expect(second.source).toBe(first.source);
        },
        10,
      );
    },
    limit(10),
  );

  it(
    "--verify passes on what was just written, and fails once the file is edited",
    async () => {
      await check(
        "--verify after writing",
        anyNet,
        async (spec) => {
          const dir = tempDir();
          const file = join(dir, "net.json");
          writeFileSync(file, JSON.stringify(spec, null, 2));
          const written = await runCli([file, "-o", dir]);
          expect(written.code, written.stderr).toBe(0);
          const verified = await runCli([file, "-o", dir, "--verify"]);
          expect(verified.code, verified.stderr).toBe(0);
          const target = join(dir, `${spec.name}.ts`);
          writeFileSync(target, `${readFileSync(target, "utf8")}\n`);
          const stale = await runCli([file, "-o", dir, "--verify"]);
          expect(stale.code).toBe(1);
          expect(stale.stderr).toContain(target);
        },
        8,
      );
    },
    limit(8),
  );
});

/**
 * The same network with the keys of its top-level object, its params and its layers in reverse order of
 * insertion where order carries no meaning (params, inputs and targets keep theirs: it is the layout).
 */
function reorderKeys(spec: NetSpec): NetSpec {
  const reversed = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).reverse()) as T;
  const copy = structuredClone(spec) as NetSpec & { layers?: object[]; params?: Record<string, object> };
  if (copy.layers) copy.layers = copy.layers.map(reversed);
  if (copy.params) copy.params = Object.fromEntries(Object.entries(copy.params).map(([k, v]) => [k, reversed(v)]));
  return reversed(copy);
}
