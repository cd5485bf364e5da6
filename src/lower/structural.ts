/**
 * Loops for the structural ops, as kernel IR. Each sees its node through a NodeContext that knows where every
 * operand lives and where the result goes; reductions are `sum` expressions, unrolled or turned into
 * accumulator loops later (passes/unroll.ts). New layer types add their loops here: a strided convolution is
 * a nest over output positions with a `sum` over kernel taps whose operand index is oy·stride + ky, a pooling
 * a running maximum (`max=`) over the window, a reduction along one axis a nest over the other axes.
 */
import { type AxisMap, type SlicePart, parseAxisMap, parseReduce, parseSlice, parseView, strides, unsliceFill } from "../ir/axes.ts";
import { type Node, type Shape, type StructuralOp, sizeOf } from "../ir/node.ts";
import type { NodeContext } from "./build.ts";
import { type Expr, type Index, type LoopKind, type Stmt, addIndex, constIndex, elementNest, get, num, op, varIndex } from "./kernel.ts";

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

/**
 * One loop per dimension of `extents` (none for a dimension of 1), the body given each dimension's index.
 * `names` are the loop variables' hints.
 */
function dimNest(ctx: NodeContext, extents: Shape, kind: LoopKind, body: (at: Index[]) => Stmt[], names = ["i", "j", "k", "l"]): Stmt[] {
  const vars = extents.map((extent, d) => (extent > 1 ? ctx.loopVar(names[d] ?? `i${d}`, extent) : undefined));
  const at = vars.map((v) => (v ? varIndex(v) : constIndex(0)));
  return vars.reduceRight<Stmt[]>((inner, v) => (v ? [{ k: "loop", v, kind, body: inner }] : inner), body(at));
}

/** The flat index of per-dimension indices `at` in a tensor of `shape`, moved by `offsets`. */
function flatIndex(shape: Shape, at: readonly Index[], offsets: readonly number[] = []): Index {
  const st = strides(shape);
  return at.reduce((acc, i, d) => addIndex(acc, scale(addIndex(i, constIndex(offsets[d] ?? 0)), st[d])), constIndex(0));
}

/** Where the small operand of a broadcast is read, given the indices of the big shape's dimensions. */
function smallAt(map: AxisMap, small: Shape, at: readonly Index[]): Index {
  const smallAtDim = small.map((_, j) => {
    const d = map.indexOf(j);
    return d >= 0 && small[j] > 1 ? at[d] : constIndex(0);
  });
  return flatIndex(small, smallAtDim);
}

/** Each element of the result reads one element of the operand: an element nest, like an elementwise op. */
const expand: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const map = parseAxisMap(ctx.node.attr);
  return dimNest(ctx, ctx.node.shape, "elements", (at) => [ctx.write(flatIndex(ctx.node.shape, at), ctx.read(x, smallAt(map, x.shape, at)))]);
};

/** Each element of the result sums the elements of the operand that read it: a `sum` per broadcast dimension. */
const sumTo: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const small = ctx.node.shape;
  const map = parseAxisMap(ctx.node.attr);
  return dimNest(ctx, small, "structure", (smallIdx) => {
    const summed = (d: number): boolean => map[d] === null || (small[map[d] as number] === 1 && x.shape[d] > 1);
    const build = (d: number, at: Index[]): Expr => {
      if (d === x.shape.length) return ctx.read(x, flatIndex(x.shape, at));
      if (!summed(d)) return build(d + 1, [...at, small[map[d] as number] > 1 ? smallIdx[map[d] as number] : constIndex(0)]);
      return sum(ctx, ["r", "q", "p"][d] ?? `r${d}`, x.shape[d], (i) => build(d + 1, [...at, i]));
    };
    return [ctx.write(flatIndex(small, smallIdx), build(0, []))];
  });
};

/**
 * Along one axis, for each position of the others: a `sum`, or a running value — a maximum (`max=`; the
 * minimum is the negated maximum of the negated values), a product (`*=`), or for log-sum-exp the maximum
 * first, so that exp never overflows.
 */
const reduce: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const { kind, axis } = parseReduce(ctx.node.attr);
  const extent = x.shape[axis];
  if (acrossRows(kind, x.shape, axis)) return reduceAcrossRows(ctx, kind as RowReduction, axis);
  return dimNest(ctx, ctx.node.shape, "structure", (outAt) => {
    const inAt = (t: Index) => flatIndex(x.shape, [...outAt.slice(0, axis), t, ...outAt.slice(axis)]);
    const out = flatIndex(ctx.node.shape, outAt);
    const along = (update: (t: Index) => Stmt): Stmt[] => {
      if (extent === 1) return [update(constIndex(0))];
      const v = ctx.loopVar("r", extent);
      return [{ k: "loop", v, kind: "structure", body: [update(varIndex(v))] }];
    };
    const running = (hint: string, init: number, mode: "max=" | "*=", value: (t: Index) => Expr, result: (acc: Expr) => Expr): Stmt[] => {
      const acc = ctx.temp(hint);
      return [
        { k: "let", local: acc, value: num(init), mutable: true },
        ...along((t) => ({ k: "update", local: acc, value: value(t), mode })),
        ctx.write(out, result(get(acc))),
      ];
    };
    const read = (t: Index) => ctx.read(x, inAt(t));
    switch (kind) {
      case "sum":
        return [ctx.write(out, sum(ctx, "r", extent, read))];
      case "max":
      case "firstMax":
        return running("max", -Infinity, "max=", read, (m) => m);
      case "min":
        return running("min", -Infinity, "max=", (t) => op("neg", read(t)), (m) => op("neg", m));
      case "prod":
        return running("prod", 1, "*=", read, (p) => p);
      case "lse": {
        const m = ctx.temp("max");
        return [
          { k: "let", local: m, value: num(-Infinity), mutable: true },
          ...along((t) => ({ k: "update", local: m, value: read(t), mode: "max=" })),
          ctx.write(out, op("add", get(m), op("log", sum(ctx, "r", extent, (t) => op("exp", op("sub", read(t), get(m))))))),
        ];
      }
    }
  });
};

/** Reductions that can run row by row (see reduceAcrossRows). */
const ROW_REDUCTIONS = ["sum", "max", "firstMax", "min"] as const;
type RowReduction = (typeof ROW_REDUCTIONS)[number];

/** Elements after the reduced axis below which a row is too short for a vector: reduce element by element instead. */
const MIN_ROW = 4;

/** Whether a reduction runs row by row: an axis before the last, with rows after it long enough for vectors. */
function acrossRows(kind: string, shape: Shape, axis: number): boolean {
  return (ROW_REDUCTIONS as readonly string[]).includes(kind) && sizeOf(shape.slice(axis + 1)) >= MIN_ROW;
}

/**
 * A reduction along an axis before the last, e.g. a pooling's maximum over a window's positions with channels
 * last: the result starts as the first row along the axis, and every further row is added in (or raised into
 * it, `max=`), element by element along the contiguous axes after it. Each row then runs as an element loop
 * (SIMD lanes along the channels) instead of a running value per result element. The minimum is the negated
 * maximum of the negated rows.
 */
function reduceAcrossRows(ctx: NodeContext, kind: RowReduction, axis: number): Stmt[] {
  const x = ctx.node.inputs[0];
  const before = x.shape.slice(0, axis);
  const after = x.shape.slice(axis + 1);
  const mode = kind === "sum" ? "+=" : "max=";
  const sign = (e: Expr) => (kind === "min" ? op("neg", e) : e);
  const row = (r: Index, update: "=" | "+=" | "max=") =>
    dimNest(ctx, before, "structure", (outer) =>
      dimNest(ctx, after, "elements", (inner) => [ctx.write(flatIndex(ctx.node.shape, [...outer, ...inner]), sign(ctx.read(x, flatIndex(x.shape, [...outer, r, ...inner]))), update)], ["l", "m", "n", "o"]),
    );
  const v = ctx.loopVar("r", x.shape[axis] - 1);
  const rest: Stmt[] = x.shape[axis] > 1 ? [{ k: "loop", v, kind: "structure", body: row(addIndex(varIndex(v), constIndex(1)), mode) }] : [];
  const negate = kind === "min" ? elementNest(ctx.node.shape, (index) => [ctx.write(index, op("neg", ctx.read(ctx.node, index)))]) : [];
  return [...row(constIndex(0), "="), ...rest, ...negate];
}

/** Each element of the part reads its element of the whole. */
const slice: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const parts = parseSlice(ctx.node.attr);
  return dimNest(ctx, ctx.node.shape, "elements", (at) => [ctx.write(flatIndex(ctx.node.shape, at), ctx.read(x, flatIndex(x.shape, wholeAt(parts, at))))]);
};

/** The indices in the whole tensor of the part's element at `at` (a dropped dimension is at its index). */
function wholeAt(parts: readonly SlicePart[], at: readonly Index[]): Index[] {
  let k = 0;
  return parts.map((p) => addIndex(p.keep ? at[k++] : constIndex(0), constIndex(p.start)));
}

/**
 * The operand at its part, the fill value (0, or −∞ around a maximum's window) everywhere else; each element
 * written once: the part, and around it one box per dimension and side (dimensions before it inside the part,
 * after it whole).
 */
const unslice: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const shape = ctx.node.shape;
  const parts = parseSlice(ctx.node.attr);
  const fill = unsliceFill(ctx.node.attr);
  const zeros: Stmt[] = [];
  parts.forEach((p, d) => {
    for (const [from, count] of [[0, p.start], [p.start + p.count, shape[d] - p.start - p.count]]) {
      if (count === 0) continue;
      const extents = shape.map((size, e) => (e < d ? parts[e].count : e === d ? count : size));
      const offsets = shape.map((_, e) => (e < d ? parts[e].start : e === d ? from : 0));
      zeros.push(...dimNest(ctx, extents, "elements", (at) => [ctx.write(flatIndex(shape, at, offsets), num(fill))]));
    }
  });
  const part = dimNest(ctx, x.shape, "elements", (at) => [ctx.write(flatIndex(shape, wholeAt(parts, at)), ctx.read(x, flatIndex(x.shape, at)))]);
  return [...zeros, ...part];
};

/** Each value copied to its row. */
const pack: Lowering = (ctx) => {
  const inner = ctx.node.shape.slice(1);
  return ctx.node.inputs.flatMap((item, k) =>
    dimNest(ctx, inner, "elements", (at) => [ctx.write(addIndex(constIndex(k * sizeOf(inner)), flatIndex(inner, at)), ctx.read(item, flatIndex(inner, at)))]),
  );
};

/** Each tensor copied to its place along the axis. */
const concat: Lowering = (ctx) => {
  const axis = Number(ctx.node.attr);
  let offset = 0;
  return ctx.node.inputs.flatMap((item) => {
    const offsets = item.shape.map((_, d) => (d === axis ? offset : 0));
    offset += item.shape[axis];
    return dimNest(ctx, item.shape, "elements", (at) => [ctx.write(flatIndex(ctx.node.shape, at, offsets), ctx.read(item, flatIndex(item.shape, at)))]);
  });
};

/** The operand's element at offset + Σ at·strides, for each element of the view. */
const view: Lowering = (ctx) => {
  const x = ctx.node.inputs[0];
  const v = parseView(ctx.node.attr);
  return dimNest(ctx, ctx.node.shape, "elements", (at) => [ctx.write(flatIndex(ctx.node.shape, at), ctx.read(x, viewIndex(v, at)))]);
};

/**
 * Zeros, then each element of the operand (a view's cotangent) added where the view read it: overlapping
 * windows add up. The nest over the operand is a structure loop: two of its elements may land on one place.
 */
const unview: Lowering = (ctx) => {
  const g = ctx.node.inputs[0];
  const v = parseView(ctx.node.attr);
  const shape = ctx.node.shape;
  // a single element is the sum of the whole cotangent
  if (sizeOf(shape) === 1) return [ctx.write(constIndex(0), sumOver(ctx, g, (index) => ctx.read(g, index)))];
  const zeros = dimNest(ctx, shape, "elements", (at) => [ctx.write(flatIndex(shape, at), num(0))]);
  const scatter = dimNest(ctx, g.shape, "structure", (at) => [ctx.write(viewIndex(v, at), ctx.read(g, flatIndex(g.shape, at)), "+=")]);
  return [...zeros, ...scatter];
};

/** Where a view's element at `at` reads its operand. */
function viewIndex(v: ReturnType<typeof parseView>, at: readonly Index[]): Index {
  return at.reduce((acc, i, d) => addIndex(acc, scale(i, v.strides[d])), constIndex(v.offset));
}

const LOWERINGS: Record<Exclude<StructuralOp, "batchMean">, Lowering> = {
  matmul,
  outer,
  transpose,
  sum: sumAll,
  broadcast,
  logsumexp,
  reduce,
  expand,
  sumTo,
  slice,
  unslice,
  pack,
  concat,
  view,
  unview,
};

export function lowerStructural(ctx: NodeContext): Stmt[] {
  const name = ctx.node.op;
  if (name === "batchMean" || !(name in LOWERINGS)) throw new Error(`internal: no loops for op "${name}"`);
  return LOWERINGS[name as keyof typeof LOWERINGS](ctx);
}
