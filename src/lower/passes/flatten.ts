/**
 * Flattening: a nest of two element loops that walks its buffers row-major (every address moves by the inner
 * trip count when the outer variable does) becomes one loop over all its elements, `for i < m·n`, as a
 * hand-written loop over a flat array would read.
 */
import { type Expr, type Index, type Stmt, type Var, coefficient, varIndex } from "../kernel.ts";
import { mapExpr, mapStmtExprs, ownExprs, substituteVar, visitExpr, visitStmts } from "../walk.ts";

export function flatten(body: readonly Stmt[]): Stmt[] {
  return mapStmtExprs(flattenLoops(body), flattenSums);
}

function flattenLoops(body: readonly Stmt[]): Stmt[] {
  return body.map((s): Stmt => {
    if (s.k === "ifBatch") return { ...s, body: flattenLoops(s.body) };
    if (s.k !== "loop") return s;
    const inner = flattenLoops(s.body);
    const only = inner.length === 1 ? inner[0] : undefined;
    if (s.kind === "elements" && only?.k === "loop" && only.kind === "elements" && typeof s.v.extent === "number" && typeof only.v.extent === "number") {
      if (rowMajor(only.body, s.v, only.v, only.v.extent)) {
        const v: Var = { name: s.v.name, extent: s.v.extent * only.v.extent };
        // outer·n + inner → flat, for every address: outer := 0 and inner := flat
        const body = substituteVar(substituteVar(only.body, s.v, { c: 0, terms: [] }), only.v, varIndex(v));
        return { ...s, v, body };
      }
    }
    return { ...s, body: inner };
  });
}

/** Every address in `body` has coefficient(outer) = n · coefficient(inner), and nothing in it has an order of its own. */
function rowMajor(body: readonly Stmt[], outer: Var, inner: Var, n: number): boolean {
  const indices: Index[] = [];
  let ordered = false;
  visitStmts(body, (s) => {
    if (s.k === "store" || s.k === "fill") indices.push(s.index);
    for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === "load" && indices.push(x.index));
    ordered ||= s.k === "loop" || s.k === "contract" || s.k === "update";
  });
  return !ordered && indices.every((index) => coefficient(index, outer) === n * coefficient(index, inner));
}

/** Σ_i Σ_j t with t row-major in (i, j) → Σ over all elements: one accumulator loop instead of two. */
function flattenSums(e: Expr): Expr {
  return mapExpr(e, (x) => {
    if (x.k !== "sum" || x.term.k !== "sum") return x;
    const [outer, inner] = [x.v, x.term.v];
    const [m, n] = [outer.extent, inner.extent];
    if (typeof m !== "number" || typeof n !== "number") return x;
    const indices: Index[] = [];
    let ordered = false;
    visitExpr(x.term.term, (y) => {
      if (y.k === "load") indices.push(y.index);
      ordered ||= y.k === "sum";
    });
    if (ordered || !indices.every((index) => coefficient(index, outer) === n * coefficient(index, inner))) return x;
    const v: Var = { name: outer.name, extent: m * n };
    const [stmt] = substituteVar(substituteVar([{ k: "return", value: x.term.term }], outer, { c: 0, terms: [] }), inner, varIndex(v));
    return { k: "sum", v, term: (stmt as Extract<Stmt, { k: "return" }>).value };
  });
}
