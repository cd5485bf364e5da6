/**
 * bpgen against other projects' own derivative tests: every case of mathjs's derivative tests and of
 * TensorFlow.js's op gradient tests, from the tables in test/peers/ (which say where each case comes from and
 * how it was translated). Each in-scope case is its own test, run by the kernel-IR interpreter in both precisions
 * (test/renderers.test.ts holds both kernel back ends' generated modules to the interpreter on a sample of the same
 * packs): its net compiles (a failure prints bpgen's message) and `gradient` matches the peer's expected derivative.
 * Out-of-scope cases have a reason from a fixed list, documented in test/peers/README.md; the last test checks
 * that list and prints the counts.
 *
 * Tolerances: mathjs cases 1e-9 relative (f64); TF.js cases the test's own tolerance, else 1e-4 (TF.js compares
 * |actual − expected| ≤ ε; here ε · max(1, |expected|)); f32 at least 1e-3. As in TF.js, an expected value that
 * is not finite is matched by any non-finite one.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { compile as mathCompile } from "mathjs";
import { checkKey, runSingle, runUnits, unitsOf, variantName, type Unit, type UnitResult, type Variant } from "./peers/harness.ts";
import { featuresOf } from "./peers/features.ts";
import { MATHJS_CASES, MATHJS_OUT_OF_SCOPE, MATHJS_SOURCE } from "./peers/mathjs-cases.ts";
import { IN_CASES, OUT_CASES, mathjsValue, type RunCase, type Source } from "./peers/run-cases.ts";
import { TFJS_CASES, TFJS_OUT_OF_SCOPE, TFJS_SOURCE } from "./peers/tfjs-cases.ts";
import type { GradientCheck } from "./peers/types.ts";

const F32_TOLERANCE = 1e-3;
/** Checks compiled together in one net (see harness.ts). */
const PACK = 24;

const { units: UNITS, place: PLACES } = unitsOf(IN_CASES.flatMap((c) => c.checks));
const placeOf = new Map<GradientCheck, { unit: Unit; point: number }>();
{
  let k = 0;
  for (const c of IN_CASES) for (const check of c.checks) placeOf.set(check, { unit: UNITS[PLACES[k].unit], point: PLACES[k++].point });
}

/** The interpreter on the kernel IR, in both precisions; test/renderers.test.ts holds both kernel back ends' modules to it. */
const VARIANTS: readonly Variant[] = [
  { engine: "interpreter", precision: "f64" },
  { engine: "interpreter", precision: "f32" },
];

const results = new Map<string, Map<string, UnitResult>>();
/** Per variant and case: "mismatch" or "error" when it failed, "match" when it passed. */
const outcomes = new Map<string, Map<string, "match" | "mismatch" | "error">>();

function close(got: number, expected: number, tolerance: number): boolean {
  if (!Number.isFinite(expected)) return !Number.isFinite(got);
  if (!Number.isFinite(got)) return false;
  return Math.abs(got - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

const show = (values: readonly number[]) => `[${values.map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(10))).join(", ")}]`;

function runCase(c: RunCase, v: Variant): void {
  const byUnit = results.get(variantName(v));
  if (!byUnit) throw new Error(`${variantName(v)}: no results (the compile step failed)`);
  const record = (o: "match" | "mismatch" | "error") => outcomes.get(variantName(v))!.set(`${c.source} ${c.id}`, o);
  const problems: string[] = [];
  for (const check of c.checks) {
    const { unit, point } = placeOf.get(check)!;
    const r = byUnit.get(unit.key);
    if (!r) throw new Error(`no result for ${c.id}`);
    if ("error" in r) {
      record("error");
      throw new Error(`bpgen could not compile this case (${variantName(v)}):\n${r.error}\nequations: ${check.equations.join("; ")}; loss: ${check.loss}`);
    }
    const grads = r.grads[point];
    const base = check.tolerance ?? c.tolerance;
    const tolerance = v.precision === "f32" ? Math.max(base, F32_TOLERANCE) : base;
    for (const [name, expected] of Object.entries(check.expected)) {
      const got = grads[name];
      const bad = expected.map((e, i) => [i, got[i], e] as const).filter(([, g, e]) => !close(g, e, tolerance));
      if (bad.length > 0) {
        const at = Object.entries(check.params)
          .map(([n, t]) => `${n} = ${t.shape.length === 0 ? t.values[0] : show(t.values)}`)
          .join(", ");
        problems.push(
          `d loss/d ${name} at ${at}: ${bad.length} of ${expected.length} differ (tolerance ${tolerance}):\n    got      ${show(got)}\n    expected ${show(expected)}`,
        );
      }
    }
  }
  record(problems.length ? "mismatch" : "match");
  if (problems.length) {
    const net = c.checks[0];
    throw new Error(
      `${c.id} (${variantName(v)}) — ${net.equations.join("; ")}; loss ${net.loss}\n  ${problems.join("\n  ")}${c.note ? `\n  note: ${c.note}` : ""}`,
    );
  }
}

describe("peer case tables", () => {
  it("cover every case once: unique ids, and each in-scope check names its parameters", () => {
    const ids = [...MATHJS_CASES.map((c) => c.id), ...TFJS_CASES.map((c) => c.id)];
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of IN_CASES) {
      expect(c.checks.length, c.id).toBeGreaterThan(0);
      for (const check of c.checks) {
        for (const [name, values] of Object.entries(check.expected)) {
          const p = check.params[name];
          expect(p, `${c.id}: expected values for ${name}, which is not a parameter`).toBeDefined();
          expect(values.length, `${c.id}: ${name}`).toBe(p.shape.reduce((a, b) => a * b, 1));
        }
        for (const t of [...Object.values(check.params), ...Object.values(check.inputs)])
          expect(t.values.length, c.id).toBe(t.shape.reduce((a, b) => a * b, 1));
      }
    }
  });

  it("mathjs: the expected derivative strings agree with central differences of the function at every point", () => {
    const bad: string[] = [];
    for (const c of MATHJS_CASES) {
      if (c.scope !== "in") continue;
      const f = mathCompile(c.fx);
      for (const x of c.points) {
        const h = 1e-5 * Math.max(1, Math.abs(x));
        const numeric = ((f.evaluate({ x: x + h }) as number) - (f.evaluate({ x: x - h }) as number)) / (2 * h);
        const expected = mathjsValue(c.derivative, x);
        if (!(Math.abs(numeric - expected) <= 1e-5 * Math.max(1, Math.abs(expected)))) bad.push(`${c.id} at x = ${x}: ${expected} vs ${numeric}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

for (const v of VARIANTS) {
  describe(variantName(v), () => {
    beforeAll(async () => {
      outcomes.set(variantName(v), new Map());
      results.set(variantName(v), await runUnits(UNITS, v, PACK));
    }, 60_000);
    it.each(IN_CASES.map((c) => [c.source, c.id, c] as const))("%s %s", (_source, _id, c) => runCase(c, v));
  });
}

describe("peer suites", () => {
  it("compiling checks in packs gives what compiling them alone gives", async () => {
    const v = VARIANTS[0];
    const packed = results.get(variantName(v));
    expect(packed).toBeDefined();
    const compiled = UNITS.filter((u) => !("error" in packed!.get(u.key)!));
    const sample = compiled.filter((_, i) => i % Math.max(1, Math.floor(compiled.length / 8)) === 0).slice(0, 8);
    for (const u of sample) {
      const alone = await runSingle(u, v);
      const inPack = packed!.get(u.key)!;
      expect("grads" in alone, u.key).toBe(true);
      if ("grads" in alone && "grads" in inPack) {
        alone.grads.forEach((g, k) => {
          for (const [n, values] of Object.entries(g))
            values.forEach((x, i) =>
              expect(
                close(inPack.grads[k][n][i], x, 1e-12) || (Number.isNaN(x) && Number.isNaN(inPack.grads[k][n][i])),
                `${checkKey({ equations: u.equations, loss: u.loss, functions: u.functions, params: {}, inputs: {} })} ${n}[${i}]`,
              ).toBe(true),
            );
        });
      }
    }
  });

  it("counts: in scope, out of scope by reason, compiled, matched; the out-of-scope list is the documented one", () => {
    const lines: string[] = [];
    const sources: { source: Source; total: number; reasons: readonly string[]; commit: string }[] = [
      {
        source: "mathjs",
        total: MATHJS_CASES.length,
        reasons: MATHJS_OUT_OF_SCOPE,
        commit: `${MATHJS_SOURCE.repository}@${MATHJS_SOURCE.commit.slice(0, 10)} ${MATHJS_SOURCE.file}`,
      },
      {
        source: "tfjs",
        total: TFJS_CASES.length,
        reasons: TFJS_OUT_OF_SCOPE,
        commit: `${TFJS_SOURCE.repository}@${TFJS_SOURCE.commit.slice(0, 10)} ${TFJS_SOURCE.folder}/*_test.ts`,
      },
    ];
    for (const s of sources) {
      const inScope = IN_CASES.filter((c) => c.source === s.source);
      const out = OUT_CASES.filter((c) => c.source === s.source);
      lines.push(`${s.source} (${s.commit}): ${s.total} cases, ${inScope.length} in scope, ${out.length} out of scope`);
      for (const r of s.reasons) lines.push(`    out of scope, ${r}: ${out.filter((c) => c.reason === r).length}`);
      for (const v of VARIANTS) {
        const o = outcomes.get(variantName(v));
        const of = (x: string) => inScope.filter((c) => o?.get(`${s.source} ${c.id}`) === x).length;
        lines.push(`    ${variantName(v)}: compiled ${of("match") + of("mismatch")}, matched ${of("match")}`);
      }
    }
    // what the in-scope cases need, and how many of them pass (the interpreter, f64)
    const need = new Map<string, { mathjs: number; tfjs: number; passing: number }>();
    const first = outcomes.get(variantName(VARIANTS[0]));
    for (const c of IN_CASES) {
      const features = new Set<string>();
      for (const check of c.checks) {
        const shapes = {
          ...Object.fromEntries(Object.entries(check.params).map(([n, t]) => [n, t.shape])),
          ...Object.fromEntries(Object.entries(check.inputs).map(([n, t]) => [n, t.shape])),
        };
        // the function's own equations (the loss around them, sum(dy .* y), is the harness's)
        for (const f of featuresOf(check.equations, shapes, Object.keys(check.functions ?? {}))) features.add(f);
      }
      for (const f of features) {
        const n = need.get(f) ?? { mathjs: 0, tfjs: 0, passing: 0 };
        n[c.source]++;
        if (first?.get(`${c.source} ${c.id}`) === "match") n.passing++;
        need.set(f, n);
      }
    }
    lines.push("what the compiled cases use (cases: mathjs + tfjs, passing on the interpreter at f64):");
    const rows = [...need.entries()].sort((a, b) => b[1].mathjs + b[1].tfjs - (a[1].mathjs + a[1].tfjs) || a[0].localeCompare(b[0]));
    for (const [f, n] of rows) lines.push(`    ${f}: ${n.mathjs + n.tfjs} (${n.mathjs} + ${n.tfjs}), passing ${n.passing}`);
    console.log(lines.join("\n"));

    // the documented out-of-scope list (test/peers/README.md) is exactly the tables' one
    const readme = readFileSync(new URL("./peers/README.md", import.meta.url), "utf8");
    const documented = [...readme.matchAll(/^\| (mathjs|tfjs) \| `([^`]+)` \| ([^|]+?) \|$/gm)].map((m) => `${m[1]} | ${m[2]} | ${m[3]}`).sort();
    const actual = OUT_CASES.map((c) => `${c.source} | ${c.id} | ${c.reason}`).sort();
    expect(documented).toEqual(actual);
    expect(MATHJS_CASES.length + TFJS_CASES.length).toBe(IN_CASES.length + OUT_CASES.length);
  });
});
