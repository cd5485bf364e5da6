/**
 * Compiles the peer cases' nets and evaluates their gradients, with the kernel-IR interpreter or a generated
 * module of either kernel back end.
 *
 * Every check is an equation-form net of its own (`unitSpec`). Compiling ~500 tiny nets for each variant one
 * by one would take minutes, so checks are compiled in packs: the
 * pack's net holds each check's parameters, inputs and equations under a prefix (`u12_x`), and its loss is the
 * sum of the checks' losses. The checks share nothing, so d(sum)/d(u12_x) is check 12's own gradient. When a pack
 * does not compile, the checks its error names are compiled on their own (which gives each its own message) and
 * the rest are packed again; an error that names no check splits the pack in halves.
 */
import { BpgenError } from "../../src/errors.ts";
import { compile, type Precision } from "../../src/pipeline.ts";
import { loadModule, type FloatArray } from "../helpers/load-module.ts";
import type { BackendName } from "../../src/render/backends.ts";
import { InterpretedNet } from "../helpers/interpreted.ts";
import type { EquationNetSpec } from "../../src/spec/types.ts";
import type { GradientCheck, PeerTensor } from "./types.ts";

/** One net to compile and the points to evaluate it at (checks with the same net share a unit). */
export interface Unit {
  readonly key: string;
  readonly equations: readonly string[];
  readonly loss: string;
  readonly functions: Readonly<Record<string, string>>;
  readonly paramShapes: Readonly<Record<string, readonly number[]>>;
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  readonly points: readonly UnitPoint[];
}

export interface UnitPoint {
  readonly params: Readonly<Record<string, readonly number[]>>;
  readonly inputs: Readonly<Record<string, readonly number[]>>;
}

/** What a variant made of a unit: bpgen's error, or the gradients at each point (per parameter, row-major). */
export type UnitResult = { readonly error: string } | { readonly grads: readonly Readonly<Record<string, readonly number[]>>[] };

/** What runs the nets: the interpreter on the kernel IR, or a generated module of one kernel back end. */
export interface Variant {
  readonly engine: "interpreter" | BackendName;
  readonly precision: Precision;
}

export const variantName = (v: Variant): string => `${v.engine === "interpreter" ? "interpreter" : `${v.engine} kernels`}, ${v.precision}`;

/** What the harness reads of a compiled net. */
interface GradientModule {
  readonly meta: { readonly paramCount: number; readonly inputSize: number; readonly params: readonly { readonly name: string; readonly offset: number; readonly size: number }[] };
  gradient(params: FloatArray, inputs: FloatArray, targets: FloatArray, grads: FloatArray, batch?: number): number;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The unit key of a check: its net (equations, loss, functions, shapes), not its point. */
export function checkKey(c: Pick<GradientCheck, "equations" | "loss" | "functions" | "params" | "inputs">): string {
  const shapes = (r: Readonly<Record<string, PeerTensor>>) => Object.entries(r).map(([n, t]) => [n, t.shape]);
  return JSON.stringify([c.equations, c.loss, c.functions ?? {}, shapes(c.params), shapes(c.inputs)]);
}

/** Groups checks into units (checks of one net share its module); returns the units and each check's place. */
export function unitsOf(checks: readonly GradientCheck[]): { units: Unit[]; place: { unit: number; point: number }[] } {
  const byKey = new Map<string, { unit: Omit<Unit, "points">; points: UnitPoint[]; index: number }>();
  const place: { unit: number; point: number }[] = [];
  for (const c of checks) {
    const key = checkKey(c);
    let entry = byKey.get(key);
    if (!entry) {
      entry = {
        unit: {
          key,
          equations: c.equations,
          loss: c.loss,
          functions: c.functions ?? {},
          paramShapes: Object.fromEntries(Object.entries(c.params).map(([n, t]) => [n, t.shape])),
          inputShapes: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, t.shape])),
        },
        points: [],
        index: byKey.size,
      };
      byKey.set(key, entry);
    }
    place.push({ unit: entry.index, point: entry.points.length });
    entry.points.push({
      params: Object.fromEntries(Object.entries(c.params).map(([n, t]) => [n, t.values])),
      inputs: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, t.values])),
    });
  }
  const units = [...byKey.values()].sort((a, b) => a.index - b.index).map((e) => ({ ...e.unit, points: e.points }));
  return { units, place };
}

/** A check's own net.json object (also what a pack merges, renamed). */
export function unitSpec(u: Unit, name = "peer_case"): EquationNetSpec {
  return {
    name,
    params: Object.fromEntries(Object.entries(u.paramShapes).map(([n, shape]) => [n, { shape: [...shape], init: 0 }])),
    inputs: Object.fromEntries(Object.entries(u.inputShapes).map(([n, shape]) => [n, [...shape]])),
    targets: {},
    ...(Object.keys(u.functions).length ? { functions: { ...u.functions } } : {}),
    equations: [...u.equations],
    output: "y",
    loss: u.loss,
  };
}

/** Renames identifiers (outside string literals) that `names` maps; `2x` (implicit multiplication) included. */
export function renameIn(expr: string, names: ReadonlyMap<string, string>): string {
  return expr
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/(?<![A-Za-z_$])[A-Za-z_$][\w$]*/g, (id) => names.get(id) ?? id)))
    .join("");
}

const PREFIX = (i: number) => `u${i}_`;

/** The names a unit defines: parameters, inputs, equation results, its functions. */
function localNames(u: Unit): string[] {
  const lhs = u.equations.map((e) => e.slice(0, e.indexOf("=")).trim());
  return [...Object.keys(u.paramShapes), ...Object.keys(u.inputShapes), ...lhs, ...Object.keys(u.functions)];
}

function packSpec(units: readonly Unit[]): EquationNetSpec {
  const params: Record<string, { shape: number[]; init: number }> = {};
  const inputs: Record<string, number[]> = {};
  const functions: Record<string, string> = {};
  const equations: string[] = [];
  units.forEach((u, i) => {
    const names = new Map(localNames(u).map((n) => [n, PREFIX(i) + n]));
    for (const [n, shape] of Object.entries(u.paramShapes)) params[PREFIX(i) + n] = { shape: [...shape], init: 0 };
    for (const [n, shape] of Object.entries(u.inputShapes)) inputs[PREFIX(i) + n] = [...shape];
    for (const [n, body] of Object.entries(u.functions)) functions[PREFIX(i) + n] = body;
    for (const e of u.equations) equations.push(renameIn(e, names));
    equations.push(`${PREFIX(i)}L = ${renameIn(u.loss, names)}`);
  });
  equations.push(`peer_total = ${units.map((_, i) => `${PREFIX(i)}L`).join(" + ")}`);
  return {
    name: "peer_pack",
    params,
    inputs,
    targets: {},
    ...(Object.keys(functions).length ? { functions } : {}),
    equations,
    output: "peer_total",
    loss: "peer_total",
  };
}

/** The message a failed compile gives (bpgen's own for a BpgenError). */
export function errorText(e: unknown): string {
  if (e instanceof BpgenError) return e.message;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Which units of a pack an error names (by the `uN_` prefix in its paths, equations or messages). */
function blamed(e: unknown, count: number): Set<number> {
  const found = new Set<number>();
  if (!(e instanceof BpgenError) || e.kind !== "input") return found;
  for (const d of e.details) {
    const text = [d.path, d.equation, d.message, d.found].filter((s) => s !== undefined).join(" ");
    let any = false;
    for (const m of text.matchAll(/(?<![A-Za-z_$])u(\d+)_/g)) {
      const i = Number(m[1]);
      if (i < count) (found.add(i), (any = true));
    }
    // an error with no unit named: the pack's own fault or unattributable; the caller splits
    if (!any) return new Set();
  }
  return found;
}

/** Nets lowered for the interpreter, by spec: the kernel IR is the same in both precisions. */
const lowered = new Map<string, InterpretedNet>();

async function compileModule(spec: EquationNetSpec, v: Variant): Promise<GradientModule> {
  if (v.engine === "interpreter") {
    const key = JSON.stringify(spec);
    const net = lowered.get(key) ?? new InterpretedNet(spec);
    lowered.set(key, net);
    const m = net.module(v.precision);
    return { meta: { ...m.meta, params: net.params() }, gradient: (p, x, y, g, batch) => m.gradient(p, x, y, g, batch) };
  }
  const result = await compile(spec, { precision: v.precision, kernels: v.engine, format: false });
  return loadModule(result.source);
}

function arrayOf(v: Variant, n: number): FloatArray {
  return v.precision === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** Evaluates the gradients of `units` (compiled together as `module`, prefixed unless alone) at their points. */
function evaluate(module: GradientModule, units: readonly Unit[], v: Variant, prefixed: boolean): UnitResult[] {
  const meta = module.meta;
  const offsets = new Map(meta.params.map((p) => [p.name, p]));
  const inputOffsets = new Map<string, number>();
  let at = 0;
  units.forEach((u, i) => {
    for (const [n, shape] of Object.entries(u.inputShapes)) {
      inputOffsets.set((prefixed ? PREFIX(i) : "") + n, at);
      at += size(shape);
    }
  });
  if (at !== meta.inputSize) throw new Error(`input layout: expected ${at} values per sample, the module has ${meta.inputSize}`);
  const params = arrayOf(v, meta.paramCount);
  const grads = arrayOf(v, meta.paramCount);
  const inputs = arrayOf(v, meta.inputSize);
  const targets = arrayOf(v, 0);
  const rounds = Math.max(...units.map((u) => u.points.length));
  const out: Readonly<Record<string, readonly number[]>>[][] = units.map(() => []);
  for (let k = 0; k < rounds; k++) {
    units.forEach((u, i) => {
      const point = u.points[Math.min(k, u.points.length - 1)];
      const name = (n: string) => (prefixed ? PREFIX(i) : "") + n;
      for (const [n, values] of Object.entries(point.params)) params.set(values, offsets.get(name(n))!.offset);
      for (const [n, values] of Object.entries(point.inputs)) inputs.set(values, inputOffsets.get(name(n))!);
    });
    grads.fill(0);
    module.gradient(params, inputs, targets, grads, 1);
    units.forEach((u, i) => {
      if (k >= u.points.length) return;
      const record: Record<string, number[]> = {};
      for (const n of Object.keys(u.paramShapes)) {
        const p = offsets.get((prefixed ? PREFIX(i) : "") + n)!;
        record[n] = Array.from(grads.subarray(p.offset, p.offset + p.size));
      }
      out[i].push(record);
    });
  }
  return out.map((g) => ({ grads: g }));
}

async function single(u: Unit, v: Variant): Promise<UnitResult> {
  let module: GradientModule;
  try {
    module = await compileModule(unitSpec(u), v);
  } catch (e) {
    return { error: errorText(e) };
  }
  try {
    return evaluate(module, [u], v, false)[0];
  } catch (e) {
    return { error: `the compiled module failed: ${errorText(e)}` };
  }
}

async function pack(units: readonly Unit[], v: Variant, results: Map<string, UnitResult>): Promise<void> {
  if (units.length === 0) return;
  if (units.length === 1) {
    results.set(units[0].key, await single(units[0], v));
    return;
  }
  let module: GradientModule;
  try {
    module = await compileModule(packSpec(units), v);
  } catch (e) {
    const bad = blamed(e, units.length);
    if (bad.size > 0 && bad.size < units.length) {
      for (const i of bad) results.set(units[i].key, await single(units[i], v));
      await pack(
        units.filter((_, i) => !bad.has(i)),
        v,
        results,
      );
    } else if (bad.size === units.length) {
      for (const u of units) results.set(u.key, await single(u, v));
    } else {
      const half = Math.ceil(units.length / 2);
      await pack(units.slice(0, half), v, results);
      await pack(units.slice(half), v, results);
    }
    return;
  }
  let evaluated: UnitResult[];
  try {
    evaluated = evaluate(module, units, v, true);
  } catch {
    // the pack's module failed at run time: find the unit by compiling them alone
    for (const u of units) results.set(u.key, await single(u, v));
    return;
  }
  units.forEach((u, i) => results.set(u.key, evaluated[i]));
}

/** Compiles every unit for one variant, `size` units to a pack, and evaluates them. */
export async function runUnits(units: readonly Unit[], v: Variant, packSize: number): Promise<Map<string, UnitResult>> {
  const results = new Map<string, UnitResult>();
  for (let i = 0; i < units.length; i += packSize) await pack(units.slice(i, i + packSize), v, results);
  return results;
}

/** Compiles one unit on its own (the harness's check that packing changes nothing). */
export const runSingle = single;
