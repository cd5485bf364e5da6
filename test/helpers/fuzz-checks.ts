/**
 * The checks behind the fuzzing properties: a generated module (or the interpreter) against f64 central finite
 * differences of its own loss, and against the TF.js oracle; and what makes an error message clear. Each returns the list of
 * problems found (empty when all is well), so a failing property prints them with its counterexample.
 */
import type { NetModule } from "../../src/check/module.ts";

/** What the checks call: a generated module, or the kernel-IR interpreter standing in for one. */
export type Checked = Pick<NetModule<Float64Array>, "loss" | "gradient" | "forward"> & {
  readonly meta: Pick<NetModule["meta"], "paramCount" | "outputSize" | "params">;
};
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import { ioSizes, makeRng, randomData, randomParams, toF32Values } from "../oracle/random-nets.ts";
import { tfEquationNet } from "../oracle/tf-equations.ts";
import { tfLayerNet } from "../oracle/tf-layers.ts";

export interface Point {
  p: Float64Array;
  x: Float64Array;
  y: Float64Array;
  batch: number;
}

/** Parameters and data for `spec` from a seed, rounded to float32 so every implementation sees the same numbers. */
export function pointFor(spec: NetSpec, seed: number, batch: number, scale: number): Point {
  const rng = makeRng(seed);
  const p = toF32Values(randomParams(ioSizes(spec).paramCount, rng, 0.5 * scale));
  const { x, y } = randomData(spec, batch, rng);
  return { p, x: toF32Values(x), y: toF32Values(y), batch };
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const allFinite = (a: ArrayLike<number>) => Array.from(a).every(Number.isFinite);

/**
 * Every gradient element (up to 64 of them) against central differences of `loss`, plus one random
 * direction through all parameters. Where two step sizes disagree the loss is not smooth within the step
 * (a relu, abs or max at its kink) and there is no derivative to compare: the element is skipped.
 */
export function finiteDifferenceProblems(m: Checked, { p, x, y, batch }: Point): string[] {
  const n = m.meta.paramCount;
  const g = new Float64Array(n);
  const J0 = m.gradient(p, x, y, g, batch);
  if (!Number.isFinite(J0) || !allFinite(g)) return [`non-finite J ${J0} or gradient ${Array.from(g)}`];
  const J = (q: Float64Array) => m.loss(q, x, y, batch);
  const scale = Math.max(maxAbs(g), 1e-3);
  const slope = (dir: Float64Array, h: number) => {
    const plus = Float64Array.from(p, (v, i) => v + h * dir[i]);
    const minus = Float64Array.from(p, (v, i) => v - h * dir[i]);
    return (J(plus) - J(minus)) / (2 * h);
  };
  const problems: string[] = [];
  const check = (what: string, analytic: number, dir: Float64Array) => {
    const coarse = slope(dir, 1e-5);
    const fine = slope(dir, 2.5e-6);
    if (Math.abs(coarse - fine) > 1e-6 * Math.max(scale, Math.abs(coarse))) return;
    const tol = 1e-5 * scale + 1e-9 * Math.max(1, Math.abs(J0));
    if (!(Math.abs(analytic - coarse) <= tol)) problems.push(`${what}: gradient ${analytic}, finite difference ${coarse} (tolerance ${tol.toExponential(2)})`);
  };
  const step = Math.max(1, Math.ceil(n / 64));
  for (let i = 0; i < n; i += step) {
    const dir = new Float64Array(n);
    dir[i] = 1;
    check(`${paramName(m, i)}`, g[i], dir);
  }
  const rng = makeRng(n + 17);
  const dir = Float64Array.from({ length: n }, () => rng.normal());
  const norm = Math.hypot(...dir) || 1;
  dir.forEach((v, i) => (dir[i] = v / norm));
  check("random direction", dir.reduce((s, v, i) => s + v * g[i], 0), dir);
  return problems;
}

function paramName(m: Checked, i: number): string {
  const param = m.meta.params.find((q) => i >= q.offset && i < q.offset + q.size);
  return param ? `${param.name}[${i - param.offset}]` : `p[${i}]`;
}

/** The f64 module against TF.js (float32): J, the gradient and forward, with the oracle suite's tolerances. */
export function oracleProblems(spec: NetSpec, m: Checked, { p, x, y, batch }: Point, tolerance = 1e-4): string[] {
  const want = isLayerSpec(spec) ? tfLayerNet(spec, p, x, y, batch) : tfEquationNet(spec, p, x, y, batch);
  const g = new Float64Array(m.meta.paramCount);
  const J = m.gradient(p, x, y, g, batch);
  const out = new Float64Array(batch * m.meta.outputSize);
  m.forward(p, x, out, batch);
  const problems: string[] = [];
  if (!(Math.abs(J - want.loss) <= tolerance * (1 + Math.abs(want.loss)))) problems.push(`J ${J}, TF.js ${want.loss}`);
  const gScale = tolerance * Math.max(maxAbs(want.grad), 1e-2);
  g.forEach((v, i) => {
    if (!(Math.abs(v - want.grad[i]) <= gScale)) problems.push(`gradient ${paramName(m, i)}: ${v}, TF.js ${want.grad[i]}`);
  });
  out.forEach((v, i) => {
    if (!(Math.abs(v - want.output[i]) <= tolerance * (1 + Math.abs(want.output[i])))) problems.push(`output[${i}]: ${v}, TF.js ${want.output[i]}`);
  });
  return problems.slice(0, 10);
}

/**
 * What a failed run's stderr must look like: one or more errors, each starting `file:line:column: error: `
 * (or `file: error: ` when there is no position) with something said after it, an "expected:" line per error,
 * no stack trace, and no raw control characters.
 */
export function unclearErrorProblems(stderr: string, file: string): string[] {
  const problems: string[] = [];
  const heads = stderr.split("\n").filter((line) => line !== "" && !line.startsWith(" ") && !/^\d+ errors$/.test(line));
  if (heads.length === 0) problems.push("no error message");
  for (const head of heads) {
    if (!head.startsWith(`${file}:`) || !/^[^\n]*?: error: \S/.test(head)) problems.push(`not "file:line:column: error: …": ${JSON.stringify(head)}`);
  }
  const expected = stderr.match(/\n {2}expected: \S/g)?.length ?? 0;
  if (expected < heads.length) problems.push(`${heads.length} errors but ${expected} "expected:" lines`);
  if (/\n\s+at .*[\\/].*\.(ts|js|mjs|cjs):\d+/.test(stderr)) problems.push("a stack trace");
  if (/internal error/.test(stderr)) problems.push("an internal error");
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/.test(stderr)) problems.push("raw control characters");
  return problems;
}
