/**
 * Formulas of the derivation: a small math tree read off the DAG. Named values stay symbols; other nodes
 * are spelled out through the op they apply, so a formula shows exactly what the DAG (and the generated
 * code) computes. select(z > 0, δ, 0) reads as δ ⊙ 1[z > 0]; a product of two tensors is Hadamard (⊙).
 */
import type { Node } from "../ir/node.ts";

export type Fn = "exp" | "log" | "sqrt" | "abs" | "sign" | "tanh" | "sigmoid" | "softplus" | "max" | "min" | "logsumexp";

export type Expr =
  | { k: "sym"; node: Node }
  | { k: "num"; value: number }
  /** A fixed piece of notation, such as f′(z¹). */
  | { k: "raw"; latex: string; plain: string }
  | { k: "neg"; a: Expr }
  /** scale: a product with a scalar (·); had: elementwise (⊙); mm: matrix product; outer: a bᵀ. */
  | { k: "add" | "sub" | "scale" | "had" | "mm" | "outer" | "div" | "pow"; a: Expr; b: Expr }
  | { k: "T"; a: Expr }
  | { k: "fn"; name: Fn; args: readonly Expr[] }
  | { k: "cmp"; op: ">" | "≤"; a: Expr; b: Expr }
  /** 1[cond]: one where the condition holds, zero elsewhere. */
  | { k: "ind"; cond: Expr }
  | { k: "sel"; cond: Expr; a: Expr; b: Expr }
  /** Σ over the elements; the mean over the samples of the batch; a scalar repeated over a tensor. */
  | { k: "sum" | "mean" | "bcast"; a: Expr };

export const sym = (node: Node): Expr => ({ k: "sym", node });
export const num = (value: number): Expr => ({ k: "num", value });
export const raw = (latex: string, plain: string): Expr => ({ k: "raw", latex, plain });

/** `n` as a formula, with the nodes for which `isSymbol` holds (and all leaves) left as symbols. */
export function toExpr(n: Node, isSymbol: (m: Node) => boolean): Expr {
  if (n.op === "const") return num(n.attr as number);
  if (n.inputs.length === 0 || isSymbol(n)) return sym(n);
  return spell(n, isSymbol);
}

/** The definition of `n`: its own op spelled out, whatever `isSymbol` says about `n` itself. */
export function spell(n: Node, isSymbol: (m: Node) => boolean): Expr {
  if (n.inputs.length === 0) return toExpr(n, isSymbol);
  const args = n.inputs.map((i) => toExpr(i, isSymbol));
  const [a, b, c] = args;
  const tensors = n.inputs.length === 2 && n.inputs.every((i) => i.shape.length > 0);
  switch (n.op) {
    case "neg":
      return { k: "neg", a };
    case "add":
    case "sub":
    case "div":
    case "pow":
      return { k: n.op, a, b };
    case "mul":
      return { k: tensors ? "had" : "scale", a, b };
    case "gt":
      return { k: "cmp", op: ">", a, b };
    case "select":
      return select(n, a, b, c);
    case "matmul":
      return n.inputs.every((i) => i.shape.length === 1) ? { k: "mm", a: { k: "T", a }, b } : { k: "mm", a, b };
    case "outer":
      return { k: "outer", a, b };
    case "transpose":
      return { k: "T", a };
    case "sum":
    case "broadcast":
    case "batchMean":
      return { k: n.op === "sum" ? "sum" : n.op === "broadcast" ? "bcast" : "mean", a };
    default:
      return { k: "fn", name: n.op as Fn, args };
  }
}

/** select(c, x, 0) = x ⊙ 1[c] and select(c, 0, x) = x ⊙ 1[not c]; anything else stays a case split. */
function select(n: Node, cond: Expr, a: Expr, b: Expr): Expr {
  const product = n.shape.length > 0 ? "had" : "scale";
  if (isNum(b, 0)) return { k: product, a, b: { k: "ind", cond } };
  if (isNum(a, 0) && cond.k === "cmp" && cond.op === ">") return { k: product, a: b, b: { k: "ind", cond: { ...cond, op: "≤" } } };
  return { k: "sel", cond, a, b };
}

export function isNum(e: Expr, value: number): boolean {
  return e.k === "num" && e.value === value;
}

/** `e` with every occurrence of the symbol `node` replaced by `by`, then products with 1 dropped. */
export function substitute(e: Expr, node: Node, by: Expr): Expr {
  const go = (x: Expr): Expr => substitute(x, node, by);
  switch (e.k) {
    case "sym":
      return e.node === node ? by : e;
    case "num":
    case "raw":
      return e;
    case "neg":
    case "T":
    case "sum":
    case "mean":
    case "bcast":
      return { ...e, a: go(e.a) };
    case "fn":
      return { ...e, args: e.args.map(go) };
    case "ind":
      return { ...e, cond: go(e.cond) };
    case "sel":
      return { ...e, cond: go(e.cond), a: go(e.a), b: go(e.b) };
    case "cmp":
      return { ...e, a: go(e.a), b: go(e.b) };
    default: {
      const [a, b] = [go(e.a), go(e.b)];
      const product = e.k === "scale" || e.k === "had";
      if (product && isNum(a, 1)) return b;
      if (product && isNum(b, 1)) return a;
      return { k: e.k, a, b };
    }
  }
}

/** Whether the symbol `node` occurs in `e`. */
export function mentions(e: Expr, node: Node): boolean {
  return symbols(e).includes(node);
}

/** The symbols of `e`, left to right, each once. */
export function symbols(e: Expr): Node[] {
  const out: Node[] = [];
  const walk = (x: Expr): void => {
    if (x.k === "sym") {
      if (!out.includes(x.node)) out.push(x.node);
    } else if (x.k === "fn") x.args.forEach(walk);
    else if (x.k === "ind") walk(x.cond);
    else if (x.k === "sel") [x.cond, x.a, x.b].forEach(walk);
    else if ("b" in x) [x.a, x.b].forEach(walk);
    else if ("a" in x) walk(x.a);
  };
  walk(e);
  return out;
}
