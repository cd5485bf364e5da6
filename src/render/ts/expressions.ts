/**
 * TypeScript for kernel-IR expressions: one line per elementwise op (OP_TEXT), addresses as a reader writes
 * them (`params[100352 + i]`, `inputs[xRow + 1]`, `a1[s * 128 + i]`). Every operator application is
 * parenthesized here; prettier drops the parentheses the grammar does not need, never ones that group.
 */
import type { ElementwiseOp } from "../../ir/node.ts";
import type { Buffer, Expr, Index, Local, Var } from "../../lower/kernel.ts";
import { numberLiteral } from "../../emit/literals.ts";

/** How loop variables and per-sample rows are spelled where an expression is printed. */
export interface Scope {
  buffer(b: Buffer): string;
  local(l: Local): string;
  varName(v: Var): string;
  /** The name of the row offset of `buf` in the current sample loop (`xRow`), if it has one. */
  rowName(buf: Buffer): string | undefined;
}

/** An op's text from its operands' texts; `operands` and `render` for ops that look at what they apply to. */
type OpText = (args: readonly string[], operands: readonly Expr[], render: (e: Expr) => string) => string;
const call = (f: string): OpText => (a) => `${f}(${a.join(", ")})`;
const infix = (symbol: string): OpText => (a) => `(${a[0]} ${symbol} ${a[1]})`;
/**
 * Whether `pow` with these operands is written as a product (`x * x`): the square of a value read as it is (a local
 * or one element) is cheaper than `**` and exact. The interpreter asks the same, to compute what the kernels do.
 */
export const squareAsProduct = (operands: readonly Expr[]): boolean => {
  const [base, exponent] = operands;
  return exponent?.k === "num" && exponent.value === 2 && (base?.k === "load" || base?.k === "get");
};

/** The comparisons, as the operators they are. */
const COMPARISON: Partial<Record<ElementwiseOp, string>> = { gt: ">", ge: ">=", eq: "===", ne: "!==" };

export const OP_TEXT: Record<ElementwiseOp, OpText> = {
  neg: (a) => `(-${a[0]})`,
  exp: call("Math.exp"),
  log: call("Math.log"),
  sqrt: call("Math.sqrt"),
  abs: call("Math.abs"),
  sign: call("Math.sign"),
  tanh: call("Math.tanh"),
  sigmoid: call("sigmoid"),
  softplus: call("softplus"),
  expm1: call("Math.expm1"),
  log1p: call("Math.log1p"),
  log2: call("Math.log2"),
  log10: call("Math.log10"),
  cbrt: call("Math.cbrt"),
  sin: call("Math.sin"),
  cos: call("Math.cos"),
  tan: call("Math.tan"),
  asin: call("Math.asin"),
  acos: call("Math.acos"),
  atan: call("Math.atan"),
  sinh: call("Math.sinh"),
  cosh: call("Math.cosh"),
  asinh: call("Math.asinh"),
  acosh: call("Math.acosh"),
  atanh: call("Math.atanh"),
  erf: call("erf"),
  erfc: call("erfc"),
  floor: call("Math.floor"),
  ceil: call("Math.ceil"),
  round: call("roundHalfAway"),
  add: infix("+"),
  sub: infix("-"),
  mul: infix("*"),
  div: infix("/"),
  pow: (a, e) => (squareAsProduct(e) ? `(${a[0]} * ${a[0]})` : `(${a[0]} ** ${a[1]})`),
  atan2: call("Math.atan2"),
  mod: call("floorMod"),
  max: call("Math.max"),
  min: call("Math.min"),
  gt: (a) => `(${a[0]} > ${a[1]} ? 1 : 0)`,
  ge: (a) => `(${a[0]} >= ${a[1]} ? 1 : 0)`,
  eq: (a) => `(${a[0]} === ${a[1]} ? 1 : 0)`,
  ne: (a) => `(${a[0]} !== ${a[1]} ? 1 : 0)`,
  // a comparison condition is tested in place
  select: (a, e, render) => {
    const c = e[0];
    const test = c.k === "op" && c.op in COMPARISON ? `${render(c.args[0])} ${COMPARISON[c.op]} ${render(c.args[1])}` : `${a[0]} !== 0`;
    return `(${test} ? ${a[1]} : ${a[2]})`;
  },
  uniform: call("uniform24"),
};

export function expressionText(e: Expr, scope: Scope): string {
  switch (e.k) {
    case "num":
      // a running maximum starts below every number
      return e.value === -Infinity ? "-Infinity" : numberLiteral(e.value);
    case "get":
      return scope.local(e.local);
    case "load":
      // a counter's element is its own position (kernel.ts BufferRole)
      return e.buf.role === "counter" ? `(${indexText(e.index, scope)})` : elementText(e.buf, e.index, scope, true);
    case "arg":
      return e.name;
    case "op":
      return OP_TEXT[e.op](
        e.args.map((a) => expressionText(a, scope)),
        e.args,
        (x) => expressionText(x, scope),
      );
    case "sum":
      throw new Error("internal: a sum reached the renderer (the unroll pass expands every sum)");
  }
}

/**
 * One element of a buffer. A read carries `!`: typed arrays index as `number | undefined` under
 * `noUncheckedIndexedAccess`, and every address here is in range by construction.
 */
export function elementText(buf: Buffer, index: Index, scope: Scope, read: boolean): string {
  return `${scope.buffer(buf)}[${indexText(index, scope, buf)}]${read ? "!" : ""}`;
}

/**
 * `s`-row first (as a row name where there is one), then the other variables, with the constant before them
 * when it is an offset (at least the largest stride: `params[100352 + i]`) and after them when it is a
 * column within a row (`params[i * 10 + 3]`).
 */
export function indexText(index: Index, scope: Scope, buf?: Buffer): string {
  const sample = index.terms.find((t) => t.v.extent === "batch");
  const others = index.terms.filter((t) => t !== sample);
  const row = sample && buf && buf.perSample && sample.k === buf.size ? scope.rowName(buf) : undefined;
  const head = sample ? [row ?? term(scope.varName(sample.v), sample.k)] : [];
  const vars = others.map((t) => term(scope.varName(t.v), t.k));
  const base = index.base ?? 0;
  // a column within a row after the variables (80 + i * 16 + 3); a whole number of rows stays in the offset
  const column = index.c - base;
  if (base !== 0 && vars.length > 0 && column < Math.max(...others.map((t) => t.k))) return [...head, String(base), ...vars, ...(index.c !== base ? [String(index.c - base)] : [])].join(" + ");
  const constant = index.c !== 0 || index.terms.length === 0 ? [String(index.c)] : [];
  const isOffset = others.length === 0 || index.c >= Math.max(...others.map((t) => t.k));
  return [...head, ...(isOffset ? [...constant, ...vars] : [...vars, ...constant])].join(" + ");
}

const term = (name: string, k: number) => (k === 1 ? name : `${name} * ${k}`);
