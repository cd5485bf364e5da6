/** Dead code: workspace stores and locals that nothing reads any more (after inlining), and their comments. */
import type { Node } from "../../ir/node.ts";
import type { Buffer, Local, Stmt } from "../kernel.ts";
import { ownExprs, visitExpr, visitStmts } from "../walk.ts";

export function prune(body: readonly Stmt[]): Stmt[] {
  const read = new Set<Buffer | Local>();
  visitStmts(body, (s) => {
    for (const e of ownExprs(s)) visitExpr(e, (x) => (x.k === "load" ? read.add(x.buf) : x.k === "get" ? read.add(x.local) : undefined));
    if (s.k === "contract") [s.c.a.buf, s.c.b.buf].forEach((b) => read.add(b));
    if (s.k === "contract" && s.c.mode === "+=") read.add(s.c.out.buf);
    if (s.k === "store" && s.mode !== "=") read.add(s.buf);
    if (s.k === "update") read.add(s.local);
  });
  const dead = (s: Stmt) => (s.k === "store" && s.buf.role === "work" && !read.has(s.buf)) || (s.k === "let" && !read.has(s.local));
  const go = (stmts: readonly Stmt[]): Stmt[] =>
    stmts.flatMap((s): Stmt[] => {
      if (dead(s)) return [];
      if (s.k === "loop" || s.k === "ifBatch") {
        const inner = go(s.body);
        return inner.some((x) => x.k !== "note") ? [{ ...s, body: inner }] : [];
      }
      return [s];
    });
  const kept = go(body);
  // a comment stays while some statement still computes its value
  const computed = new Set<Node>();
  visitStmts(kept, (s) => {
    if (s.k !== "note" && "node" in s && s.node) computed.add(s.node);
  });
  const dropNotes = (stmts: readonly Stmt[]): Stmt[] =>
    stmts.flatMap((s): Stmt[] => {
      if (s.k === "note") return !s.node || computed.has(s.node) ? [s] : [];
      return s.k === "loop" || s.k === "ifBatch" ? [{ ...s, body: dropNotes(s.body) }] : [s];
    });
  return dropNotes(kept);
}
