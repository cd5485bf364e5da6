/**
 * TypeScript for kernel-IR expressions: one line per elementwise op (OP_TEXT), addresses as a reader writes
 * them (`params[100352 + i]`, `inputs[xRow + 1]`, `a1[s * 128 + i]`). Operands are parenthesized as prettier
 * prints them (layout.ts), so that the kernels need no formatting.
 */
import type { ElementwiseOp } from "../../ir/node.ts";
import type { Buffer, Expr, Index, Local, Var } from "../../lower/kernel.ts";
import { type BinaryOperator, type Code, atom, binary, conditional, negation, numberCode } from "./layout.ts";

/** How loop variables and per-sample rows are spelled where an expression is printed. */
export interface Scope {
  buffer(b: Buffer): string;
  local(l: Local): string;
  varName(v: Var): string;
  /** The name of the row offset of `buf` in the current sample loop (`xRow`), if it has one. */
  rowName(buf: Buffer): string | undefined;
}

/** An op's code from its operands' code; `operands` and `render` for ops that look at what they apply to. */
type OpText = (args: readonly Code[], operands: readonly Expr[], render: (e: Expr) => Code) => Code;
const call = (f: string): OpText => (a) => atom(`${f}(${a.map((x) => x.text).join(", ")})`);
const infix = (op: BinaryOperator): OpText => (a) => binary(op, a[0], a[1]);
const [ONE, ZERO] = [atom("1"), atom("0")];
/** A comparison as a number: 1 where it holds, else 0. */
const comparison = (op: BinaryOperator): OpText => (a) => conditional(binary(op, a[0], a[1]), ONE, ZERO);
/**
 * Whether `pow` with these operands is written as a product (`x * x`): the square of a value read as it is (a local
 * or one element) is cheaper than `**` and exact. The interpreter asks the same, to compute what the kernels do.
 */
export const squareAsProduct = (operands: readonly Expr[]): boolean => {
  const [base, exponent] = operands;
  return exponent?.k === "num" && exponent.value === 2 && (base?.k === "load" || base?.k === "get");
};

/** The comparisons, as the operators they are. */
const COMPARISON: Partial<Record<ElementwiseOp, BinaryOperator>> = { gt: ">", ge: ">=", eq: "===", ne: "!==" };

export const OP_TEXT: Record<ElementwiseOp, OpText> = {
  neg: (a) => negation(a[0]),
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
  pow: (a, e) => binary(squareAsProduct(e) ? "*" : "**", a[0], squareAsProduct(e) ? a[0] : a[1]),
  atan2: call("Math.atan2"),
  mod: call("floorMod"),
  max: call("Math.max"),
  min: call("Math.min"),
  gt: comparison(">"),
  ge: comparison(">="),
  eq: comparison("==="),
  ne: comparison("!=="),
  // a comparison condition is tested in place
  select: (a, e, render) => {
    const c = e[0];
    const test = c.k === "op" && COMPARISON[c.op] ? binary(COMPARISON[c.op] as BinaryOperator, render(c.args[0]), render(c.args[1])) : binary("!==", a[0], ZERO);
    return conditional(test, a[1], a[2]);
  },
  uniform: call("uniform24"),
};

export function expressionText(e: Expr, scope: Scope): string {
  return expressionCode(e, scope).text;
}

export function expressionCode(e: Expr, scope: Scope): Code {
  switch (e.k) {
    case "num":
      // a running maximum starts below every number
      if (!Number.isFinite(e.value) && e.value !== -Infinity) throw new Error(`internal: non-finite constant ${e.value}`);
      return numberCode(e.value);
    case "get":
      return atom(scope.local(e.local));
    case "load":
      // a counter's element is its own position (kernel.ts BufferRole)
      return e.buf.role === "counter" ? sumCode(indexText(e.index, scope)) : atom(elementText(e.buf, e.index, scope, true));
    case "arg":
      return atom(e.name);
    case "op":
      return OP_TEXT[e.op](
        e.args.map((a) => expressionCode(a, scope)),
        e.args,
        (x) => expressionCode(x, scope),
      );
    case "sum":
      throw new Error("internal: a sum reached the renderer (the unroll pass expands every sum)");
  }
}

/**
 * One element of a buffer. A read carries `!`: typed arrays index as `number | undefined` under
 * `noUncheckedIndexedAccess`, and every address here is in range by construction.
 */
/** An index sum as an expression (`s * 10 + i`), with the form its parentheses depend on. */
function sumCode(text: string): Code {
  const termCode = (t: string): Code => {
    const [name, factor] = t.split(" * ");
    return factor === undefined ? atom(name) : binary("*", atom(name), atom(factor));
  };
  return text.split(" + ").map(termCode).reduce((sum, t) => binary("+", sum, t));
}

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
