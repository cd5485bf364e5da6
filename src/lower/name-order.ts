/**
 * Names are claimed before any backend prints anything, in one defined order: the functions of the module in
 * order, and in each the statements in order — a comment's formula (its values left to right), then the value it
 * computes; a statement's target, then what it reads (left to right). Every backend then
 * finds every name taken, so no renderer's printing order decides what a value is called (`t3` or `t4`,
 * `z` or `z$1`).
 */
import { children, type MathExpr } from "../ir/math.ts";
import type { Expr, KernelFunction, Stmt } from "./kernel.ts";
import type { IrNames } from "./names.ts";

export function claimNames(functions: readonly KernelFunction[], names: IrNames): void {
  for (const f of functions) claimInBody(f.body, names);
}

function claimInBody(body: readonly Stmt[], names: IrNames): void {
  for (const s of body) claimInStmt(s, names);
}

function claimInStmt(s: Stmt, names: IrNames): void {
  const expr = (e: Expr) => claimInExpr(e, names);
  switch (s.k) {
    case "note":
      if (s.note.rhs) claimInMath(s.note.rhs, names);
      names.note(s.note.lhs);
      return;
    case "store":
      names.buffer(s.buf);
      return expr(s.value);
    case "let":
    case "update":
      names.local(s.local);
      return expr(s.value);
    case "fill":
      names.buffer(s.buf);
      return;
    case "contract":
      [s.c.out.buf, s.c.a.buf, s.c.b.buf].forEach((b) => names.buffer(b));
      if (s.c.scale) expr(s.c.scale);
      return;
    case "loop":
    case "ifBatch":
      return claimInBody(s.body, names);
    case "return":
      return expr(s.value);
  }
}

function claimInExpr(e: Expr, names: IrNames): void {
  switch (e.k) {
    case "load":
      names.buffer(e.buf);
      return;
    case "get":
      names.local(e.local);
      return;
    case "op":
      return e.args.forEach((a) => claimInExpr(a, names));
    case "sum":
      return claimInExpr(e.term, names);
    case "num":
    case "arg":
      return;
  }
}

function claimInMath(e: MathExpr, names: IrNames): void {
  if (e.k === "sym") names.nodes.of(e.node);
  else children(e).forEach((c) => claimInMath(c, names));
}
