/**
 * Loops for the structural ops, as kernel IR. Each sees its node through a NodeContext that knows where every
 * operand lives and where the result goes; reductions are `sum` expressions, unrolled or turned into
 * accumulator loops later (passes/unroll.ts). New layer types add their loops here: a strided convolution is
 * a nest over output positions with a `sum` over kernel taps whose operand index is oy·stride + ky, a pooling
 * a running maximum (`max=`) over the window, a reduction along one axis a nest over the other axes.
 */
import type { Node, StructuralOp } from "../ir/node.ts";
import type { NodeContext } from "./build.ts";
import { elementNest } from "./build.ts";
import { type Expr, type Index, type LoopKind, type Stmt, addIndex, constIndex, get, num, op, varIndex } from "./kernel.ts";

type Lowering = (ctx: NodeContext) => Stmt[];

/** Σ over `extent` values of `term(index)`; a single term needs no sum. */
function sum(ctx: NodeContext, name: string, extent: number, term: (index: Index) => Expr): Expr {
  if (extent === 1) return term(constIndex(0));
  const v = ctx.loopVar(name, extent);
  return { k: "sum", v, term: term(varIndex(v)) };
}

/** Every product: [m,k]·[k,n], [m,k]·[k], [k]·[k,n] and [k]·[k]. */
const matmul: Lowering = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const rows = a.shape.length === 2 ? a.shape[0] : 1;
  const cols = b.shape.length === 2 ? b.shape[1] : 1;
  const inner = a.shape.length === 2 ? a.shape[1] : a.shape[0];
  const aAt = (i: Index, t: Index) => (a.shape.length === 2 ? ctx.read2(a, i, t) : ctx.read(a, t));
  const bAt = (t: Index, j: Index) => (b.shape.length === 2 ? ctx.read2(b, t, j) : ctx.read(b, t));
  return nest2(ctx, rows, cols, "structure", (i, j, flat) => [ctx.write(flat, sum(ctx, "k", inner, (t) => op("mul", aAt(i, t), bAt(t, j))))]);
};

const outer: Lowering = (ctx) => {
  const [a, b] = ctx.node.inputs;
  // each element on its own: an element nest, so a batch mean of it can take the product in place
  return nest2(ctx, a.shape[0], b.shape[0], "elements", (i, j, flat) => [ctx.write(flat, op("mul", ctx.read(a, i), ctx.read(b, j)))]);
};

const transpose: Lowering = (ctx) => {
  const [rows, cols] = ctx.node.shape;
  return nest2(ctx, rows, cols, "structure", (i, j, flat) => [ctx.write(flat, ctx.read2(ctx.node.inputs[0], j, i))]);
};

const sumAll: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  return [ctx.write(constIndex(0), sumOver(ctx, x, (index) => ctx.read(x, index)))];
};

const broadcast: Lowering = (ctx) => elementNest(ctx.node.shape, (index) => [ctx.write(index, ctx.read(ctx.node.inputs[0], constIndex(0)))]);

/** max first, so exp never overflows: lse(x) = m + log Σ exp(x − m) */
const logsumexp: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const m = ctx.temp("max");
  // a running maximum: the iterations depend on each other
  const scan = elementNest(x.shape, (index): Stmt[] => [{ k: "update", local: m, value: ctx.read(x, index), mode: "max=" }], "structure");
  const total = sumOver(ctx, x, (index) => op("exp", op("sub", ctx.read(x, index), get(m))));
  return [{ k: "let", local: m, value: num(-Infinity), mutable: true }, ...scan, ctx.write(constIndex(0), op("add", get(m), op("log", total)))];
};

/** Σ over every element of `x` (one sum per dimension, row-major). */
function sumOver(ctx: NodeContext, x: Node, term: (index: Index) => Expr): Expr {
  const dims = x.shape.length === 0 ? [1] : x.shape;
  const strides = dims.map((_, axis) => dims.slice(axis + 1).reduce((p, q) => p * q, 1));
  const build = (axis: number, at: Index): Expr =>
    axis === dims.length ? term(at) : sum(ctx, ["i", "j", "k"][axis] ?? `i${axis}`, dims[axis], (i) => build(axis + 1, addIndex(at, scale(i, strides[axis]))));
  return build(0, constIndex(0));
}

const scale = (i: Index, k: number): Index => ({ c: i.c * k, terms: i.terms.map((t) => ({ v: t.v, k: t.k * k })) });

/** Loops over (i < rows, j < cols) with the flat index i·cols + j; a dimension of 1 gets no loop. */
function nest2(ctx: NodeContext, rows: number, cols: number, kind: LoopKind, body: (i: Index, j: Index, flat: Index) => Stmt[]): Stmt[] {
  const vi = rows > 1 ? ctx.loopVar("i", rows) : undefined;
  const vj = cols > 1 ? ctx.loopVar("j", cols) : undefined;
  const i = vi ? varIndex(vi) : constIndex(0);
  const j = vj ? varIndex(vj) : constIndex(0);
  let stmts = body(i, j, addIndex(scale(i, cols), j));
  if (vj) stmts = [{ k: "loop", v: vj, kind, body: stmts }];
  if (vi) stmts = [{ k: "loop", v: vi, kind, body: stmts }];
  return stmts;
}

const LOWERINGS: Record<Exclude<StructuralOp, "batchMean">, Lowering> = { matmul, outer, transpose, sum: sumAll, broadcast, logsumexp };

export function lowerStructural(ctx: NodeContext): Stmt[] {
  const name = ctx.node.op;
  if (name === "batchMean" || !(name in LOWERINGS)) throw new Error(`internal: no loops for op "${name}"`);
  return LOWERINGS[name as keyof typeof LOWERINGS](ctx);
}
