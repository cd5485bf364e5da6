/**
 * The math form of a value: a small expression tree in the notation of a hand derivation. Each op of the
 * op table says how it reads (ops.ts `math`); code comments, the derivation's LaTeX and its plain text are
 * all printed from these trees (notation.ts), so an op's notation is written down once.
 * Symbols stand for named values (a node of the DAG); the printer asks for their names.
 */
import type { Node } from "./node.ts";

/** How a function application is typeset: `f(x)`, √x, |x|, or a list of its arguments `[a, b]`. */
export type FnForm = "call" | "root" | "bars" | "list";

export type MathExpr =
  | { k: "sym"; node: Node }
  | { k: "num"; value: number }
  /** A fixed piece of notation, such as f′(z¹). */
  | { k: "raw"; latex: string; plain: string }
  | { k: "neg"; a: MathExpr }
  /** scale: a product with a scalar (·); had: elementwise (⊙); mm: matrix product; outer: a bᵀ. */
  | { k: "add" | "sub" | "scale" | "had" | "mm" | "outer" | "div" | "pow"; a: MathExpr; b: MathExpr }
  | { k: "T"; a: MathExpr }
  /** A named function; `plain` and `latex` are its name in each notation. */
  | { k: "fn"; plain: string; latex: string; form: FnForm; args: readonly MathExpr[] }
  | { k: "cmp"; op: ">" | "≤" | "≥" | "=" | "≠"; a: MathExpr; b: MathExpr }
  /** 1[cond]: one where the condition holds, zero elsewhere. */
  | { k: "ind"; cond: MathExpr }
  | { k: "sel"; cond: MathExpr; a: MathExpr; b: MathExpr }
  /** A part of a tensor, `a[2, 1:3]` (one-based and inclusive, as equations write it). */
  | { k: "index"; a: MathExpr; parts: string }
  /** Σ over the elements; the mean over the samples of the batch; a scalar repeated over a tensor. */
  | { k: "sum" | "mean" | "bcast"; a: MathExpr };

export type BinaryKind = Extract<MathExpr, { b: MathExpr; a: MathExpr; k: string }>["k"];

export const sym = (node: Node): MathExpr => ({ k: "sym", node });
export const num = (value: number): MathExpr => ({ k: "num", value });
export const raw = (latex: string, plain: string): MathExpr => ({ k: "raw", latex, plain });
export const binary = (k: Exclude<BinaryKind, "cmp" | "sel">, a: MathExpr, b: MathExpr): MathExpr => ({ k, a, b }) as MathExpr;
export const fn = (plain: string, latex: string, args: readonly MathExpr[], form: FnForm = "call"): MathExpr => ({ k: "fn", plain, latex, form, args });

export function isNum(e: MathExpr, value: number): boolean {
  return e.k === "num" && e.value === value;
}

/** The direct subexpressions of `e`, rebuilt by `f` (the shape of `e` kept). */
export function mapChildren(e: MathExpr, f: (x: MathExpr) => MathExpr): MathExpr {
  switch (e.k) {
    case "sym":
    case "num":
    case "raw":
      return e;
    case "neg":
    case "T":
    case "index":
    case "sum":
    case "mean":
    case "bcast":
      return { ...e, a: f(e.a) };
    case "fn":
      return { ...e, args: e.args.map(f) };
    case "ind":
      return { ...e, cond: f(e.cond) };
    case "sel":
      return { ...e, cond: f(e.cond), a: f(e.a), b: f(e.b) };
    default:
      return { ...e, a: f(e.a), b: f(e.b) };
  }
}

/** The direct subexpressions of `e`, left to right. */
export function children(e: MathExpr): MathExpr[] {
  const out: MathExpr[] = [];
  mapChildren(e, (x) => (out.push(x), x));
  return out;
}

/** `e` with every occurrence of the symbol `node` replaced by `by`, then products with 1 dropped. */
export function substitute(e: MathExpr, node: Node, by: MathExpr): MathExpr {
  if (e.k === "sym") return e.node === node ? by : e;
  const out = mapChildren(e, (x) => substitute(x, node, by));
  if ((out.k === "scale" || out.k === "had") && isNum(out.a, 1)) return out.b;
  if ((out.k === "scale" || out.k === "had") && isNum(out.b, 1)) return out.a;
  return out;
}

/** Whether the symbol `node` occurs in `e`. */
export function mentions(e: MathExpr, node: Node): boolean {
  return symbols(e).includes(node);
}

/** The symbols of `e`, left to right, each once. */
export function symbols(e: MathExpr): Node[] {
  const out: Node[] = [];
  const walk = (x: MathExpr): void => {
    if (x.k === "sym") {
      if (!out.includes(x.node)) out.push(x.node);
    } else children(x).forEach(walk);
  };
  walk(e);
  return out;
}
