/**
 * Loop kernels for the structural ops. A kernel sees its node through a KernelContext that knows where
 * each operand lives (parameter array, input row, workspace buffer, local, or an inlined expression) and
 * where the result goes; `loop` and `reduce` unroll small trip counts into straight-line code.
 */
import { type Node, sizeOf } from "../ir/node.ts";
import { flatIndex } from "./index-expr.ts";

export interface KernelContext {
  readonly node: Node;
  /** Element `index` (flat) of `operand`. */
  read(operand: Node, index: string): string;
  /** Element (row, col) of a matrix operand; a transpose is read through, not materialized. */
  read2(operand: Node, row: string, col: string): string;
  /** Statement(s) writing `value` to element `index` of the result. */
  store(index: string, value: string): string;
  /** `for (let v = 0; v < n; v++) body(v)`, or the body repeated with literal indices when small. */
  loop(v: string, n: number, body: (i: string) => string[]): string[];
  /** Σ_{v < n} term(v): the expression for the sum, plus statements that must run before it. */
  reduce(v: string, n: number, term: (i: string) => string): { lines: string[]; value: string };
  /** A fresh local identifier. */
  temp(base: string): string;
}

export type Kernel = (ctx: KernelContext) => string[];

/** One kernel for every product: [m,k]·[k,n], [m,k]·[k], [k]·[k,n] and [k]·[k]. */
const matmul: Kernel = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const rows = a.shape.length === 2 ? a.shape[0] : 1;
  const cols = b.shape.length === 2 ? b.shape[1] : 1;
  const inner = a.shape.length === 2 ? a.shape[1] : a.shape[0];
  const aAt = (i: string, t: string) => (a.shape.length === 2 ? ctx.read2(a, i, t) : ctx.read(a, t));
  const bAt = (t: string, j: string) => (b.shape.length === 2 ? ctx.read2(b, t, j) : ctx.read(b, t));
  return ctx.loop("i", rows, (i) =>
    ctx.loop("j", cols, (j) => {
      const sum = ctx.reduce("k", inner, (t) => `${aAt(i, t)} * ${bAt(t, j)}`);
      return [...sum.lines, ctx.store(flatIndex(i, j, cols), sum.value)];
    }),
  );
};

const outer: Kernel = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const n = b.shape[0];
  return ctx.loop("i", a.shape[0], (i) => ctx.loop("j", n, (j) => [ctx.store(flatIndex(i, j, n), `${ctx.read(a, i)} * ${ctx.read(b, j)}`)]));
};

const transpose: Kernel = (ctx) => {
  const [rows, cols] = ctx.node.shape;
  return ctx.loop("i", rows, (i) => ctx.loop("j", cols, (j) => [ctx.store(flatIndex(i, j, cols), ctx.read2(ctx.node.inputs[0], j, i))]));
};

const sum: Kernel = (ctx) => {
  const x = ctx.node.inputs[0];
  const total = ctx.reduce("i", sizeOf(x.shape), (i) => ctx.read(x, i));
  return [...total.lines, ctx.store("0", total.value)];
};

const broadcast: Kernel = (ctx) =>
  ctx.loop("i", sizeOf(ctx.node.shape), (i) => [ctx.store(i, ctx.read(ctx.node.inputs[0], "0"))]);

/** max first, so exp never overflows: lse(x) = m + log Σ exp(x − m) */
const logsumexp: Kernel = (ctx) => {
  const x = ctx.node.inputs[0];
  const n = sizeOf(x.shape);
  const m = ctx.temp("max");
  const scan = ctx.loop("i", n, (i) => [`if (${ctx.read(x, i)} > ${m}) ${m} = ${ctx.read(x, i)};`]);
  const total = ctx.reduce("i", n, (i) => `Math.exp(${ctx.read(x, i)} - ${m})`);
  return [`let ${m} = -Infinity;`, ...scan, ...total.lines, ctx.store("0", `${m} + Math.log(${total.value})`)];
};

/** Adds this sample's value into the accumulator; the 1/batch scaling is applied once after the loop. */
const batchMean: Kernel = (ctx) =>
  ctx.loop("i", sizeOf(ctx.node.shape), (i) => [ctx.store(i, ctx.read(ctx.node.inputs[0], i))]);

export const KERNELS = { matmul, outer, transpose, sum, broadcast, logsumexp, batchMean } as const;
