/**
 * The kernel IR: how a function computes, as data, between the scheduled DAG (plan.ts) and the renderers
 * (render/ts, render/wasm). A function is a list of statements over
 *   buffers  — the caller's arrays (params, inputs, targets, out, grads) and the module's workspace,
 *   locals   — scalar values,
 *   loops    — with a constant trip count, or the batch (the one bound known only at run time),
 * with index expressions (affine in the loop variables) and arithmetic (the op table's elementwise ops) as data.
 * Loads, stores and accumulations (`+=`, `*=`) address buffer elements; batched products of dense layers are
 * contractions, one statement each, tiled by a pass. Nothing here is text in any language.
 */
import type { MathExpr } from "../ir/math.ts";
import type { ElementwiseOp, Node } from "../ir/node.ts";

// ---- loop variables and index expressions ----------------------------------------------------------

/** The trip count of a loop: a constant, or the batch size of the call. */
export type Extent = number | "batch";

/** A loop variable; `name` is a hint for renderers (i, j, s…). Identity matters, not the name. */
export interface Var {
  readonly name: string;
  readonly extent: Extent;
}

export interface Term {
  readonly v: Var;
  readonly k: number;
}

/**
 * c + Σ k·v over loop variables: every address the kernels use. `base` is the part of c that is where a
 * region starts (a parameter's offset): it changes no value, only how a renderer may show the address
 * (`params[80 + i * 16 + 3]`: row i, column 3 of the matrix at 80).
 */
export interface Index {
  readonly c: number;
  readonly terms: readonly Term[];
  readonly base?: number;
}

// ---- storage -------------------------------------------------------------------------------------------

/**
 * The caller's arrays, and the module's own workspace. `state` is the values kept between calls (running
 * statistics, a generator's step); `counter` is no memory at all: element i of it is the number i (a random
 * op's position, ir/random.ts), so renderers print its index where another buffer would be read.
 */
export type BufferRole = "params" | "inputs" | "targets" | "out" | "grads" | "work" | "state" | "counter";

/** A buffer: one of the caller's arrays (named by its role), or the workspace of one value (named by it). */
export interface Buffer {
  readonly role: BufferRole;
  /** Elements; per sample when `perSample` (the buffer then holds one row per sample of the batch). */
  readonly size: number;
  readonly perSample: boolean;
  /** The DAG value a workspace buffer holds. */
  readonly node?: Node;
  /** What names a workspace buffer of the compiler's own, which holds no value of the DAG (a thread's partial sums). */
  readonly hint?: string;
}

/**
 * A scalar value: a named intermediate, an accumulator, or a leaf read once into a local. Renderers name it
 * after its node, or after `hint` (made unique), or exactly `hint` when `fixed` (a name the module reserves).
 */
export interface Local {
  readonly hint: string;
  readonly fixed?: boolean;
  readonly node?: Node;
  /** A user-facing name (an equation's, a layer value's, a delta's): kept even when read only once. */
  readonly named: boolean;
}

// ---- expressions ---------------------------------------------------------------------------------------

export type Expr =
  | { readonly k: "num"; readonly value: number }
  | { readonly k: "load"; readonly buf: Buffer; readonly index: Index }
  | { readonly k: "get"; readonly local: Local }
  | { readonly k: "op"; readonly op: ElementwiseOp; readonly args: readonly Expr[] }
  /** Σ over v < extent of term (a reduction inside one element's value). */
  | { readonly k: "sum"; readonly v: Var; readonly term: Expr }
  /** A run-time argument of the function: the batch size, the learning rate. */
  | { readonly k: "arg"; readonly name: "batch" | "lr" };

// ---- statements ----------------------------------------------------------------------------------------

/** `=`, `+=`, `*=`; `max=` keeps the larger (a running maximum). */
export type UpdateMode = "=" | "+=" | "*=" | "max=";

/**
 * What a loop iterates: the samples of the batch, the elements of a value, a structural op's loops, or the steps
 * of a recurrence (each step reads what the one before wrote: never reordered, fused or written out).
 */
export type LoopKind = "samples" | "elements" | "structure" | "time";

/** The comment above a computation: `lhs op rhs`, e.g. `d_z = d_e · w3`, `d_w1 += d_y · x`. */
export interface Note {
  /** The value computed (named as the module names it), or a fixed word such as `grads`. */
  readonly lhs: Node | string;
  readonly op: "=" | "+=" | "←";
  readonly rhs: MathExpr | null;
  /** Words after the formula, e.g. "for every sample at once". */
  readonly tail?: string;
  /** Words between `=` and the formula, e.g. "mean over the batch of". */
  readonly lead?: string;
}

export interface Access {
  readonly buf: Buffer;
  readonly index: Index;
}

/** Register tiles chosen for a contraction by the tile pass (passes/tile.ts), per renderer. */
export interface Tile {
  /** How many elements of each output variable one tile computes (the first is the vector axis when `vector`). */
  readonly rows: number;
  readonly cols: number;
  /** The variable whose consecutive elements share one SIMD register, if any. */
  readonly vector?: "out0" | "out1" | "reduce";
  /** A renderer's library kernel for the pattern (the TypeScript renderer's register-tiled loops). */
  readonly library?: boolean;
}

/**
 * out[…] (=|+=) scale · Σ_reduce a[…] · b[…], for every value of the two output variables. The three dense
 * patterns of plan.ts: forward W·x per sample, transposed Wᵀ·δ per sample, and the weight gradient
 * mean over the batch of δ ⊗ x; and `matrix`, one sample's product of two matrices (all three variables of
 * constant extent, inside the sample loop): a convolution's windows times its filter, and their gradients.
 */
export interface Contraction {
  readonly pattern: "forward" | "transposed" | "weightGradient" | "matrix";
  readonly out: Access;
  readonly a: Access;
  readonly b: Access;
  readonly outVars: readonly [Var, Var];
  readonly reduce: Var;
  readonly scale?: Expr;
  readonly mode: "=" | "+=";
  readonly tile?: Tile;
  /**
   * Split across threads (passes/threads.ts): `samples`, by the output variable that runs over the batch; `outputs`,
   * by the other one (a weight gradient's rows, or a large layer's outputs, whose weights each thread then reads only
   * its part of), the renderer picking one its tile does not run in SIMD lanes. Each output element is computed whole
   * by one thread, in the same order whatever the split.
   */
  readonly shared?: "samples" | "outputs";
  /**
   * A weight gradient over a recurrence's steps: the reduction runs over `steps` rows of every sample, batch × steps
   * rows in all, the reduction variable's coefficient the distance between rows (the operands are stacks, whose
   * samples' rows follow one another).
   */
  readonly steps?: number;
}

export type Stmt =
  /**
   * `reverse`: the variable runs from extent − 1 down to 0 (a recurrence's reverse sweep). `shared`: the iterations
   * are split across the threads running the function, each taking a fixed share (passes/threads.ts).
   */
  | { readonly k: "loop"; readonly v: Var; readonly kind: LoopKind; readonly body: readonly Stmt[]; readonly reverse?: boolean; readonly shared?: boolean }
  | { readonly k: "store"; readonly buf: Buffer; readonly index: Index; readonly value: Expr; readonly mode: UpdateMode; readonly node?: Node }
  /** Declares a local: `const` when `mutable` is false. */
  | { readonly k: "let"; readonly local: Local; readonly value: Expr; readonly mutable: boolean; readonly node?: Node }
  | { readonly k: "update"; readonly local: Local; readonly value: Expr; readonly mode: UpdateMode; readonly node?: Node }
  /** `count` elements of `buf` from `index` set to `value`. */
  | { readonly k: "fill"; readonly buf: Buffer; readonly index: Index; readonly count: number; readonly value: number }
  | { readonly k: "contract"; readonly c: Contraction; readonly node?: Node }
  /** Runs `body` only when the batch has more than one sample (a scaling by 1/1 is skipped). */
  | { readonly k: "ifBatch"; readonly body: readonly Stmt[] }
  /** The comment of the value `node` computes (the statements after it, up to the next note). */
  | { readonly k: "note"; readonly note: Note; readonly node?: Node }
  | { readonly k: "return"; readonly value: Expr }
  /** Run by the first thread only, when several run the function (passes/threads.ts). */
  | { readonly k: "single"; readonly body: readonly Stmt[] }
  /** Every thread running the function waits here until all have arrived: what each wrote before, all see after. */
  | { readonly k: "barrier" };

/** One function of the module: `forward`, `loss`, `gradient`, … */
export interface KernelFunction {
  readonly name: string;
  readonly body: readonly Stmt[];
  /**
   * Workspace buffers of one value per call that each thread has a copy of (passes/threads.ts): the scratch of the
   * samples' loops, which every thread fills for its own samples.
   */
  readonly perThread?: ReadonlySet<Buffer>;
}

// ---- building ------------------------------------------------------------------------------------------

export const num = (value: number): Expr => ({ k: "num", value });
export const get = (local: Local): Expr => ({ k: "get", local });
export const load = (buf: Buffer, index: Index): Expr => ({ k: "load", buf, index });
export const op = (name: ElementwiseOp, ...args: Expr[]): Expr => ({ k: "op", op: name, args });
export const arg = (name: "batch" | "lr"): Expr => ({ k: "arg", name });

export const constIndex = (c: number): Index => ({ c, terms: [] });
export const varIndex = (v: Var, k = 1): Index => ({ c: 0, terms: [{ v, k }] });

/** a + b, terms of one variable merged, zero terms dropped. */
export function addIndex(a: Index, b: Index): Index {
  const terms: Term[] = [...a.terms];
  for (const t of b.terms) {
    const at = terms.findIndex((u) => u.v === t.v);
    if (at >= 0) terms[at] = { v: t.v, k: terms[at].k + t.k };
    else terms.push(t);
  }
  const base = (a.base ?? 0) + (b.base ?? 0);
  return { c: a.c + b.c, terms: terms.filter((t) => t.k !== 0), ...(base !== 0 ? { base } : {}) };
}

export function scaleIndex(a: Index, k: number): Index {
  return { c: a.c * k, terms: k === 0 ? [] : a.terms.map((t) => ({ v: t.v, k: t.k * k })) };
}

/** `a` moved to the region that starts at `offset`. */
export const offsetIndex = (a: Index, offset: number): Index => ({ c: a.c + offset, terms: a.terms, base: (a.base ?? 0) + offset });

/** The coefficient of `v` in `index` (0 when absent). */
export function coefficient(index: Index, v: Var): number {
  return index.terms.find((t) => t.v === v)?.k ?? 0;
}

/** `index` with `v` replaced by `by` (an index itself). */
export function substituteIndex(index: Index, v: Var, by: Index): Index {
  const k = coefficient(index, v);
  if (k === 0) return index;
  return addIndex({ ...index, terms: index.terms.filter((t) => t.v !== v) }, scaleIndex(by, k));
}

export function sameIndex(a: Index, b: Index): boolean {
  return a.c === b.c && a.terms.length === b.terms.length && a.terms.every((t) => coefficient(b, t.v) === t.k);
}

/**
 * A loop nest over `shape` (one loop per dimension, constant trip counts) whose body gets the row-major flat
 * index of the element; dimensions of size 1 get no loop. A scalar is the body once, at index 0.
 */
export function elementNest(shape: readonly number[], body: (index: Index) => Stmt[], kind: LoopKind = "elements"): Stmt[] {
  const names = ["i", "j", "k", "l"];
  const dims = shape.map((extent, axis) => ({ extent, stride: shape.slice(axis + 1).reduce((a, b) => a * b, 1), axis }));
  const looped = dims.filter((d) => d.extent > 1);
  const vars = looped.map((d, i): Var => ({ name: names[i] ?? `i${i}`, extent: d.extent }));
  const index = looped.reduce((acc, d, i) => addIndex(acc, varIndex(vars[i], d.stride)), constIndex(0));
  return vars.reduceRight<Stmt[]>((inner, v) => [{ k: "loop", v, kind, body: inner }], body(index));
}
