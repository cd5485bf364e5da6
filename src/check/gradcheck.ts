/**
 * The gradient checker behind `bpgen gradcheck` and the test suite. For each parameter:
 *  - central differences of the f64 module's loss, per element (every element of small parameters, a
 *    seeded sample of large ones), against its `gradient`;
 *  - a seeded random-direction test ⟨∇J, t⟩ = (J(p + ht) − J(p − ht)) / 2h over the whole block, which
 *    scales to any size;
 *  - the f32 module's gradient against the f64 one at the same (f32-rounded) parameters.
 * A network with state is checked in training mode: `gradient` against differences of `trainingLoss`, every
 * evaluation from the same initial state (initState(seed)), so batch statistics come from the same batch and
 * dropout keeps one mask throughout (the state's seed and step fix it).
 */
import { type TargetKind, makeRandom, normal, randomInputs, randomTargets } from "./data.ts";
import type { FloatArray, ParamLayout } from "./module.ts";
import { type AnyNetModule, isStatefulModule } from "../module-api.ts";

export interface GradcheckOptions {
  seed?: number;
  batch?: number;
  targets?: TargetKind;
  /** Elements checked one by one per parameter; larger parameters are sampled. */
  maxElements?: number;
  /** Relative tolerance of the f64 checks, and of the f32 module against f64. */
  tolerance?: number;
  f32Tolerance?: number;
}

export interface GradcheckRow {
  param: string;
  shape: readonly number[];
  checked: number;
  /** Largest |analytic − numeric| over the checked elements and the directional test. */
  maxAbsError: number;
  /** The same, relative to the parameter's gradient scale. */
  maxRelError: number;
  /** |g32 − g64| relative to the gradient scale. */
  f32RelError: number;
  ok: boolean;
}

export interface GradcheckReport {
  rows: GradcheckRow[];
  loss: number;
  ok: boolean;
}

const STEP = 1e-5;

/** What the checker calls: J and its gradient at a point, for one batch, state restored before each call. */
interface Checked<T extends FloatArray> {
  gradient(params: T, inputs: T, targets: T, grads: T, batch: number): number;
  loss(params: T, inputs: T, targets: T, batch: number): number;
}

/** A module as the checker calls it: a network with state in training mode, from `state` every time. */
function checked<T extends FloatArray>(m: AnyNetModule<T>, state: readonly number[]): Checked<T> {
  if (!isStatefulModule(m)) return m;
  const fresh = (like: T) => {
    const s = like instanceof Float64Array ? new Float64Array(state.length) : new Float32Array(state.length);
    s.set(state);
    return s as T;
  };
  return {
    gradient: (p, x, y, g, batch) => m.gradient(p, fresh(p), x, y, g, batch),
    loss: (p, x, y, batch) => m.trainingLoss(p, fresh(p), x, y, batch),
  };
}

export function gradcheck(m64: AnyNetModule<Float64Array>, m32: AnyNetModule<Float32Array> | undefined, options: GradcheckOptions = {}): GradcheckReport {
  const { seed = 1, batch = 3, targets = "real", maxElements = 64, tolerance = 1e-5, f32Tolerance = 2e-3 } = options;
  const rand = makeRandom(seed);
  const meta = m64.meta;
  // one initial state for every evaluation of both modules (f32-representable, as the parameters)
  const state = isStatefulModule(m64) ? Array.from(Float32Array.from(m64.initState(seed))) : [];
  const c64 = checked(m64, state);
  // f32-representable parameters, so both modules see exactly the same point
  const p = Float64Array.from(Float32Array.from(jitter(m64.initParams(seed), rand)));
  const x = Float64Array.from(Float32Array.from(randomInputs(meta, batch, rand)));
  const y = Float64Array.from(Float32Array.from(randomTargets(meta, batch, targets, rand)));
  const g = new Float64Array(meta.paramCount);
  const loss = c64.gradient(p, x, y, g, batch);
  const g32 = m32 ? new Float32Array(meta.paramCount) : undefined;
  if (m32 && g32) checked(m32, state).gradient(Float32Array.from(p), Float32Array.from(x), Float32Array.from(y), g32, batch);
  const J = (q: Float64Array) => c64.loss(q, x, y, batch);

  // errors are relative to the parameter's gradient scale, floored so a near-zero block is not judged on noise
  const floor = Math.max(maxAbs(g, 0, meta.paramCount) * 1e-3, 1e-7);
  const rows = meta.params.map((param) => {
    const scale = Math.max(maxAbs(g, param.offset, param.size), floor);
    const elements = pickElements(param, maxElements, rand);
    let maxAbsError = 0;
    for (const i of elements) maxAbsError = Math.max(maxAbsError, Math.abs(g[i] - centralDifference(J, p, [i], [1])));
    maxAbsError = Math.max(maxAbsError, directionalError(J, p, g, param, rand));
    const f32Error = g32 ? maxDiff(g32, g, param.offset, param.size) / scale : 0;
    const maxRelError = maxAbsError / scale;
    const ok = Number.isFinite(loss) && maxRelError <= tolerance && f32Error <= f32Tolerance;
    return { param: param.name, shape: param.shape, checked: elements.length, maxAbsError, maxRelError, f32RelError: f32Error, ok };
  });
  return { rows, loss, ok: rows.every((r) => r.ok) };
}

/** Moves the initial point off symmetric starts (all-equal weights, zero biases) so every path is exercised. */
function jitter(p: Float64Array, rand: () => number): Float64Array {
  return p.map((v) => v + 0.05 * normal(rand));
}

function pickElements(param: ParamLayout, max: number, rand: () => number): number[] {
  if (param.size <= max) return Array.from({ length: param.size }, (_, k) => param.offset + k);
  return Array.from({ length: max }, () => param.offset + Math.floor(rand() * param.size));
}

function centralDifference(J: (q: Float64Array) => number, p: Float64Array, indices: readonly number[], direction: readonly number[]): number {
  const q = Float64Array.from(p);
  indices.forEach((i, k) => (q[i] = p[i] + STEP * direction[k]));
  const plus = J(q);
  indices.forEach((i, k) => (q[i] = p[i] - STEP * direction[k]));
  return (plus - J(q)) / (2 * STEP);
}

/** |⟨g, t⟩ − directional difference| for a random unit direction t within one parameter. */
function directionalError(J: (q: Float64Array) => number, p: Float64Array, g: Float64Array, param: ParamLayout, rand: () => number): number {
  const t = Array.from({ length: param.size }, () => normal(rand));
  const norm = Math.sqrt(t.reduce((s, v) => s + v * v, 0)) || 1;
  const unit = t.map((v) => v / norm);
  const indices = unit.map((_, k) => param.offset + k);
  const analytic = unit.reduce((s, v, k) => s + v * g[param.offset + k], 0);
  return Math.abs(analytic - centralDifference(J, p, indices, unit));
}

function maxAbs(a: ArrayLike<number>, offset: number, size: number): number {
  let m = 0;
  for (let i = offset; i < offset + size; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, offset: number, size: number): number {
  let m = 0;
  for (let i = offset; i < offset + size; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function formatReport(file: string, report: GradcheckReport): string {
  const header = ["param", "shape", "checked", "max abs err", "max rel err", "f32 rel err", ""];
  const rows = report.rows.map((r) => [
    r.param,
    `[${r.shape.join(", ")}]`,
    String(r.checked),
    r.maxAbsError.toExponential(2),
    r.maxRelError.toExponential(2),
    r.f32RelError.toExponential(2),
    r.ok ? "ok" : "FAIL",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [`${file}: J = ${report.loss.toPrecision(6)}`, line(header), ...rows.map(line), report.ok ? "gradcheck passed" : "gradcheck FAILED"].join("\n");
}
