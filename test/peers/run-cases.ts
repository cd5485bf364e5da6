/**
 * The peer cases as the peer suites run them (test/peer-suites.test.ts): mathjs's derivative cases as one check
 * per point (the expected value evaluated from the peer's derivative string), TF.js's as their checks, with the
 * tolerance used where a check states none; and the out-of-scope cases with their reasons.
 */
import { compile as mathCompile, type EvalFunction } from "mathjs";
import { MATHJS_CASES, type MathjsCase } from "./mathjs-cases.ts";
import { TFJS_CASES } from "./tfjs-cases.ts";
import type { GradientCheck } from "./types.ts";

export type Source = "mathjs" | "tfjs";

/** A case as the harness runs it: its checks (mathjs: one per point) and how to compare. */
export interface RunCase {
  readonly source: Source;
  readonly id: string;
  readonly note?: string;
  readonly checks: readonly GradientCheck[];
  /** The tolerance at f64 when the check states none (mathjs: relative). */
  readonly tolerance: number;
}

export interface OutCase {
  readonly source: Source;
  readonly id: string;
  readonly reason: string;
}

export const MATHJS_RTOL = 1e-9;
export const TFJS_TOLERANCE = 1e-4;

const compiledDerivatives = new Map<string, EvalFunction>();
export function mathjsValue(expr: string, x: number): number {
  let f = compiledDerivatives.get(expr);
  if (!f) compiledDerivatives.set(expr, (f = mathCompile(expr)));
  const v: unknown = f.evaluate({ x });
  if (typeof v !== "number") throw new Error(`the peer's derivative ${expr} is not a real number at x = ${x}`);
  return v;
}

function mathjsChecks(c: Extract<MathjsCase, { scope: "in" }>): GradientCheck[] {
  return c.points.map((x) => ({
    equations: c.equations,
    loss: "y",
    ...(c.functions ? { functions: c.functions } : {}),
    params: { x: { shape: [], values: [x] } },
    inputs: {},
    expected: { x: [mathjsValue(c.derivative, x)] },
  }));
}

export const IN_CASES: RunCase[] = [];
export const OUT_CASES: OutCase[] = [];
for (const c of MATHJS_CASES) {
  if (c.scope === "in") IN_CASES.push({ source: "mathjs", id: c.id, note: c.note, checks: mathjsChecks(c), tolerance: MATHJS_RTOL });
  else OUT_CASES.push({ source: "mathjs", id: c.id, reason: c.reason });
}
for (const c of TFJS_CASES) {
  if (c.scope === "in") IN_CASES.push({ source: "tfjs", id: c.id, note: c.note, checks: c.checks, tolerance: TFJS_TOLERANCE });
  else OUT_CASES.push({ source: "tfjs", id: c.id, reason: c.reason });
}
