/** Generic traversals of the kernel IR that the passes share: rebuilding, visiting and substituting. */
import type { Access, Buffer, Expr, Index, Stmt, Var } from "./kernel.ts";
import { substituteIndex } from "./kernel.ts";

/** `e` rebuilt bottom-up: `f` sees each node with its children already rebuilt. */
export function mapExpr(e: Expr, f: (x: Expr) => Expr): Expr {
  switch (e.k) {
    case "op":
      return f({ ...e, args: e.args.map((a) => mapExpr(a, f)) });
    case "sum":
      return f({ ...e, term: mapExpr(e.term, f) });
    default:
      return f(e);
  }
}

/** Calls `f` on every node of `e`, parents first. */
export function visitExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  if (e.k === "op") e.args.forEach((a) => visitExpr(a, f));
  else if (e.k === "sum") visitExpr(e.term, f);
}

/** The expressions a statement evaluates (not those of nested statements). */
export function ownExprs(s: Stmt): Expr[] {
  switch (s.k) {
    case "store":
    case "let":
    case "update":
    case "return":
      return [s.value];
    case "contract":
      return s.c.scale ? [s.c.scale] : [];
    default:
      return [];
  }
}

/** The statements directly nested in `s`. */
export function innerStmts(s: Stmt): readonly Stmt[] {
  return s.k === "loop" || s.k === "ifBatch" || s.k === "single" ? s.body : [];
}

/** Calls `f` on every statement, outer ones first, with the loops that enclose it. */
export function visitStmts(body: readonly Stmt[], f: (s: Stmt, loops: readonly Stmt[]) => void, loops: readonly Stmt[] = []): void {
  for (const s of body) {
    f(s, loops);
    if (s.k === "loop") visitStmts(s.body, f, [...loops, s]);
    else if (s.k === "ifBatch" || s.k === "single") visitStmts(s.body, f, loops);
  }
}

/** `body` with each statement's expressions rewritten by `f` (nested statements too). */
export function mapStmtExprs(body: readonly Stmt[], f: (e: Expr) => Expr): Stmt[] {
  return body.map((s) => mapStmtExpr(s, f));
}

function mapStmtExpr(s: Stmt, f: (e: Expr) => Expr): Stmt {
  switch (s.k) {
    case "store":
    case "let":
    case "update":
    case "return":
      return { ...s, value: f(s.value) };
    case "contract":
      return s.c.scale ? { ...s, c: { ...s.c, scale: f(s.c.scale) } } : s;
    case "loop":
    case "ifBatch":
    case "single":
      return { ...s, body: mapStmtExprs(s.body, f) };
    default:
      return s;
  }
}

/** `body` with variable `v` replaced by the index `by` everywhere (addresses and reductions alike). */
export function substituteVar(body: readonly Stmt[], v: Var, by: Index): Stmt[] {
  return mapAccesses(body, (buf, index) => ({ buf, index: substituteIndex(index, v, by) }));
}

/** `body` with every buffer access (loads, stores, fills, a contraction's operands) moved by `f`, nested ones too. */
export function mapAccesses(body: readonly Stmt[], f: (buf: Buffer, index: Index) => Access): Stmt[] {
  const inExpr = (e: Expr): Expr => mapExpr(e, (x) => (x.k === "load" ? { ...x, ...f(x.buf, x.index) } : x));
  const access = (a: Access): Access => f(a.buf, a.index);
  return body.map((s): Stmt => {
    switch (s.k) {
      case "store":
        return { ...s, ...f(s.buf, s.index), value: inExpr(s.value) };
      case "let":
      case "update":
      case "return":
        return { ...s, value: inExpr(s.value) };
      case "fill":
        return { ...s, ...f(s.buf, s.index) };
      case "loop":
      case "ifBatch":
      case "single":
        return { ...s, body: mapAccesses(s.body, f) };
      case "contract":
        return { ...s, c: { ...s.c, out: access(s.c.out), a: access(s.c.a), b: access(s.c.b), ...(s.c.scale ? { scale: inExpr(s.c.scale) } : {}) } };
      case "note":
      case "barrier":
        return s;
    }
  });
}

/** An address reads about as long as three operators: the unrolling budget weighs it so. */
const ADDRESS_SIZE = 3;

/** Expression size, for the unrolling budget: one per node, an address three. */
export function exprSize(e: Expr): number {
  let n = 0;
  visitExpr(e, (x) => (n += x.k === "load" ? ADDRESS_SIZE : 1));
  return n;
}

/** Statement size, for the unrolling budget: one per statement plus its expressions (a loop: its body once, as written). */
export function stmtSize(s: Stmt): number {
  const own = s.k === "store" ? ADDRESS_SIZE : 1;
  return own + ownExprs(s).reduce((n, e) => n + exprSize(e), 0) + bodySize(innerStmts(s));
}

export function bodySize(body: readonly Stmt[]): number {
  return body.reduce((n, s) => n + (s.k === "note" ? 0 : stmtSize(s)), 0);
}

/**
 * The size of the code a body renders to, in units of about 10 bytes of V8 bytecode (measured on the examples'
 * TypeScript kernels: 9.3–10.4 bytes a unit): one per statement and operation, and per address one plus two per
 * term of its index (each term a multiply and an add).
 */
export function codeSize(body: readonly Stmt[]): number {
  const address = (index: Index) => 1 + 2 * index.terms.length;
  let n = 0;
  visitStmts(body, (s) => {
    n += s.k === "note" ? 0 : 1;
    if (s.k === "store") n += address(s.index);
    for (const e of ownExprs(s)) visitExpr(e, (x) => (n += x.k === "load" ? address(x.index) : 1));
  });
  return n;
}
