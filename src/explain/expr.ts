/**
 * Formulas of the derivation: math trees (ir/math.ts) read off the DAG. Named values stay symbols; other
 * nodes are spelled out through the op table's math form of the op they apply, so a formula shows exactly
 * what the DAG (and the generated code) computes.
 */
import { type MathExpr, num, sym } from "../ir/math.ts";
import type { Node } from "../ir/node.ts";
import { OPS } from "../ir/ops.ts";

export type Expr = MathExpr;
export { isNum, mentions, num, raw, substitute, sym, symbols } from "../ir/math.ts";

/** `n` as a formula, with the nodes for which `isSymbol` holds (and all leaves) left as symbols. */
export function toExpr(n: Node, isSymbol: (m: Node) => boolean): Expr {
  if (n.op === "const") return num(n.attr as number);
  if (n.inputs.length === 0 || isSymbol(n)) return sym(n);
  return spell(n, isSymbol);
}

/** The definition of `n`: its own op spelled out, whatever `isSymbol` says about `n` itself. */
export function spell(n: Node, isSymbol: (m: Node) => boolean): Expr {
  if (n.inputs.length === 0) return toExpr(n, isSymbol);
  return OPS[n.op].math(
    n.inputs.map((i) => toExpr(i, isSymbol)),
    n,
  );
}

/**
 * How many nodes `n` spelled out (with `isSymbol`'s symbols) would print, each shared value counted every time it
 * is repeated: a formula's size without building it. Values coupled through the batch (batch norm's backward
 * reads its mean and variance from every delta) can make a fully written-out formula grow exponentially with depth.
 */
export function spelledSize(n: Node, isSymbol: (m: Node) => boolean, memo = new Map<Node, number>()): number {
  if (n.inputs.length === 0 || isSymbol(n)) return 1;
  const known = memo.get(n);
  if (known !== undefined) return known;
  const size = n.inputs.reduce((s, i) => s + spelledSize(i, isSymbol, memo), 1);
  memo.set(n, size);
  return size;
}
