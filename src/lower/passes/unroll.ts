/**
 * Unrolling: a loop of at most `maxTrips` constant trips whose copies stay within `budget` IR nodes is
 * written out with literal indices (straight-line code for small tensors, as a hand derivation reads); a sum
 * of at most `maxTrips` terms becomes one expression. Longer sums become an accumulator and a loop.
 */
import { type Expr, type Local, type Stmt, constIndex, get, num } from "../kernel.ts";
import { bodySize, mapExpr, mapStmtExprs, ownExprs, substituteVar, visitExpr, visitStmts } from "../walk.ts";

export interface UnrollOptions {
  readonly maxTrips: number;
  readonly budget: number;
  /** A fresh accumulator local. */
  readonly temp: (base: string) => Local;
  /** Loops left as loops however short (a backend's SIMD loops). */
  readonly keeps?: (loop: Extract<Stmt, { k: "loop" }>) => boolean;
}

export function unroll(body: readonly Stmt[], options: UnrollOptions): Stmt[] {
  return body.flatMap((s): Stmt[] => {
    if (s.k === "ifBatch") return [{ ...s, body: unroll(s.body, options) }];
    if (s.k === "loop") {
      const inner = unroll(s.body, options);
      const n = s.v.extent;
      const kept = options.keeps?.({ ...s, body: inner }) ?? false;
      if (!kept && s.kind !== "samples" && s.kind !== "time" && typeof n === "number" && n <= options.maxTrips && n * bodySize(inner) <= options.budget) {
        // each copy declares its own locals (an accumulator per copy)
        return Array.from({ length: n }, (_, k) => freshLocals(substituteVar(inner, s.v, constIndex(k)))).flat();
      }
      return [{ ...s, body: inner }];
    }
    return reduceSums(s, options);
  });
}

/**
 * Short sums written out in place; each long one computed first, into an accumulator. Outer sums first, so
 * a sum inside a long one is reduced inside its accumulator loop, where its variables are bound.
 */
function reduceSums(s: Stmt, options: UnrollOptions): Stmt[] {
  if (!ownExprs(s).some(hasSum)) return [s];
  const before: Stmt[] = [];
  const rewrite = (e: Expr): Expr => {
    if (e.k === "op") return { ...e, args: e.args.map(rewrite) };
    if (e.k !== "sum") return e;
    const n = e.v.extent;
    if (typeof n === "number" && n <= options.maxTrips) {
      const terms = Array.from({ length: n }, (_, k) => rewrite(substituteExprVar(e.term, e.v, k)));
      return terms.reduce((acc, t) => ({ k: "op", op: "add", args: [acc, t] }));
    }
    const acc = options.temp("acc");
    const update: Stmt = { k: "update", local: acc, value: e.term, mode: "+=" };
    before.push({ k: "let", local: acc, value: num(0), mutable: true }, ...unroll([{ k: "loop", v: e.v, kind: "structure", body: reduceSums(update, options) }], options));
    return get(acc);
  };
  const value = rewrite((s as Extract<Stmt, { value: Expr }>).value);
  return [...before, { ...s, value } as Stmt];
}

function hasSum(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => (found ||= x.k === "sum"));
  return found;
}

function substituteExprVar(e: Expr, v: Extract<Expr, { k: "sum" }>["v"], k: number): Expr {
  const [stmt] = substituteVar([{ k: "return", value: e }], v, constIndex(k));
  return (stmt as Extract<Stmt, { k: "return" }>).value;
}

/** `body` with every local it declares replaced by a new one of the same hint. */
function freshLocals(body: readonly Stmt[]): Stmt[] {
  const renamed = new Map<Local, Local>();
  visitStmts(body, (s) => {
    if (s.k === "let" && !s.local.node && !s.local.fixed) renamed.set(s.local, { ...s.local });
  });
  if (renamed.size === 0) return [...body];
  const swap = (l: Local) => renamed.get(l) ?? l;
  const inExprs = mapStmtExprs(body, (e) => mapExpr(e, (x) => (x.k === "get" ? { ...x, local: swap(x.local) } : x)));
  const go = (stmts: readonly Stmt[]): Stmt[] =>
    stmts.map((s): Stmt => {
      if (s.k === "let" || s.k === "update") return { ...s, local: swap(s.local) };
      if (s.k === "loop" || s.k === "ifBatch") return { ...s, body: go(s.body) };
      return s;
    });
  return go(inExprs);
}
