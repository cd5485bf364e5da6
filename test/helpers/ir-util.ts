/**
 * Shared helpers for the IR tests (ops, autodiff, simplify): a seeded PRNG, leaf binding for the reference
 * interpreter, central finite differences, DAG walks and closeness checks.
 */
import type { Graph } from "../../src/ir/graph.ts";
import { interpret, type Value } from "../../src/ir/interpret.ts";
import { type Node, type Shape, sizeOf } from "../../src/ir/node.ts";

// ---- seeded randomness --------------------------------------------------------------------------------

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;

export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

export function randomArray(rng: Rng, shape: Shape, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: sizeOf(shape) }, () => uniform(rng, lo, hi));
}

// ---- binding leaves --------------------------------------------------------------------------------------

/** Values of parameters by name, and of inputs/targets by name and sample. */
export interface Env {
  params: Map<string, Float64Array>;
  samples?: Map<string, Float64Array[]>;
}

export function bindEnv(env: Env) {
  return (leaf: Node, sample: number | undefined): Float64Array => {
    const name = String(leaf.attr);
    if (sample === undefined) {
      const v = env.params.get(name);
      if (!v) throw new Error(`test: no value for parameter ${name}`);
      return v;
    }
    const v = env.samples?.get(name)?.[sample];
    if (!v) throw new Error(`test: no value for ${leaf.op} ${name} at sample ${sample}`);
    return v;
  };
}

/** The value of an unbatched node (a parameter-only expression or a batch mean). */
export function evalUnbatched(root: Node, env: Env, batch = 1): Float64Array {
  const v = interpret([root], bindEnv(env), batch).get(root) as Value;
  if (Array.isArray(v)) throw new Error(`test: node ${root.op} is batched`);
  return v;
}

/** Evaluates several unbatched roots in one interpreter run. */
export function evalMany(roots: readonly Node[], env: Env, batch = 1): Float64Array[] {
  const values = interpret(roots, bindEnv(env), batch);
  return roots.map((r) => {
    const v = values.get(r) as Value;
    if (Array.isArray(v)) throw new Error(`test: node ${r.op} is batched`);
    return v;
  });
}

/** The value of a node for each sample (an unbatched value is repeated). */
export function evalPerSample(root: Node, env: Env, batch: number): Float64Array[] {
  const v = interpret([root], bindEnv(env), batch).get(root) as Value;
  return Array.isArray(v) ? v : Array.from({ length: batch }, () => v);
}

// ---- finite differences --------------------------------------------------------------------------------

/** Central differences of the scalar `f` with respect to every element of parameter `name`. */
export function finiteDifference(f: Node, env: Env, name: string, batch = 1, relStep = 1e-5): Float64Array {
  const x = env.params.get(name);
  if (!x) throw new Error(`test: no parameter ${name}`);
  const out = new Float64Array(x.length);
  const value = () => {
    const v = evalUnbatched(f, env, batch);
    if (v.length !== 1) throw new Error("test: objective is not a scalar");
    return v[0];
  };
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    const h = relStep * Math.max(1, Math.abs(x0));
    x[i] = x0 + h;
    const up = value();
    x[i] = x0 - h;
    const down = value();
    x[i] = x0;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

// ---- closeness --------------------------------------------------------------------------------------------

/**
 * Per-element relative error |a − b| / max(|a|, |b|, floor); returns a description of the worst element,
 * or undefined when every element is within `tol`.
 */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, floor = 1): string | undefined {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    const err = a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
    if (!(err <= worstErr) || Number.isNaN(err)) {
      worstErr = Number.isNaN(err) ? Infinity : err;
      worst = i;
    }
  }
  if (worst < 0 || worstErr <= tol) return undefined;
  return `[${worst}] got ${got[worst]} want ${want[worst]} (rel err ${worstErr.toExponential(2)} > ${tol})`;
}

// ---- DAG walks ----------------------------------------------------------------------------------------------

/** Every node reachable from `roots` (inputs included), in increasing id order. */
export function walk(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Whether `target` is `root` or one of its transitive inputs. */
export function dependsOn(root: Node, target: Node): boolean {
  return walk([root]).includes(target);
}

/** The hash-consing key of a node: op, attribute, shape and input ids. */
export function nodeKey(n: Node): string {
  return `${n.op}|${String(n.attr)}|${n.shape.join("x")}|${n.inputs.map((i) => i.id).join(",")}`;
}

/**
 * Keys that are shared by two distinct nodes. Ids are unique per object, so distinct keys over a DAG mean
 * (by induction in id order) that no expression is represented by two different objects.
 */
export function duplicateKeys(nodes: readonly Node[]): string[] {
  const seen = new Map<string, Node>();
  const dups: string[] = [];
  for (const n of nodes) {
    const k = nodeKey(n);
    const prev = seen.get(k);
    if (prev && prev !== n) dups.push(k);
    seen.set(k, n);
  }
  return dups;
}

/** Renders a node as an expression, for failure messages. */
export function show(n: Node, g?: Graph, depth = 4): string {
  if (n.inputs.length === 0) return n.op === "const" ? String(n.attr) : String(n.attr ?? n.op);
  const hint = g?.hint(n);
  if (depth === 0) return hint ?? `${n.op}#${n.id}`;
  return `${n.op}(${n.inputs.map((i) => show(i, g, depth - 1)).join(", ")})`;
}

/** Rows of `width` positive values scaled to sum to 1: probability targets for a softmax cross-entropy. */
export function normalisedRows(values: Float64Array, width: number): Float64Array {
  const out = Float64Array.from(values);
  for (let r = 0; r < out.length / width; r++) {
    const row = out.subarray(r * width, (r + 1) * width);
    const total = row.reduce((s, v) => s + v, 0);
    row.forEach((v, k) => (row[k] = v / total));
  }
  return out;
}
