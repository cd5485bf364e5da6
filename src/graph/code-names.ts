/**
 * What the generated module calls each value, and the comment line that computes it. Pictures and
 * derivations quote these, so a reader can go from a formula to the line of code (and back). Both are read
 * off the kernel IR the module's TypeScript is rendered from (after the passes) and the module's name
 * allocator, never off the module's text.
 */
import type { Node } from "../ir/node.ts";
import type { Stmt } from "../lower/kernel.ts";
import { ownExprs, visitExpr, visitStmts } from "../lower/walk.ts";
import { noteComment } from "../render/ts/statements.ts";
import type { Compiled } from "./compiled.ts";

/**
 * The identifier of every node the module names: the leaves, and each value one of its functions computes
 * in a statement of its own or keeps in a workspace buffer or a local. A value the module computes in place,
 * inside its reader, has no name of its own, and none is invented for it.
 */
export function codeNames(c: Compiled): Map<Node, string> {
  const { net, emitted } = c;
  const named = new Set<Node>([...net.params, ...net.inputs, ...net.targets].map((l) => l.node));
  for (const fn of Object.values(emitted.lowered.functions)) visitStmts(fn.body, (s) => valuesHeldBy(s).forEach((n) => named.add(n)));
  const sorted = [...named].sort((a, b) => a.id - b.id);
  return new Map(sorted.map((n) => [n, emitted.names.nodes.of(n)]));
}

/** The values a statement computes, stores, declares or reads under their own name. */
function valuesHeldBy(s: Stmt): Node[] {
  const out: Node[] = [];
  if (s.k !== "note" && "node" in s && s.node) out.push(s.node);
  if (s.k === "store" || s.k === "fill") out.push(...(s.buf.node ? [s.buf.node] : []));
  if (s.k === "contract") out.push(...[s.c.out, s.c.a, s.c.b].flatMap((a) => (a.buf.node ? [a.buf.node] : [])));
  if ((s.k === "let" || s.k === "update") && s.local.node) out.push(s.local.node);
  for (const e of ownExprs(s)) {
    visitExpr(e, (x) => {
      if (x.k === "load" && x.buf.node) out.push(x.buf.node);
      if (x.k === "get" && x.local.node) out.push(x.local.node);
    });
  }
  return out;
}

/**
 * The formula comments of the module's gradient function, by the value they assign, printed as the
 * TypeScript kernel prints them: d_z → `d_z = d_e · w3`, d_w1 → `d_w1 += d_y · x`. The first note of a value
 * wins; notes of fixed words (`grads ← d_w1`) assign no value.
 */
export function gradientNotes(c: Compiled): Map<Node, string> {
  const { lowered, names } = c.emitted;
  const out = new Map<Node, string>();
  visitStmts(lowered.functions.gradient.body, (s) => {
    // a copy into the state (m2 ← t19) computes nothing: the note of the value copied says how it is computed
    if (s.k !== "note" || typeof s.note.lhs === "string" || s.note.op === "←" || out.has(s.note.lhs)) return;
    out.set(s.note.lhs, noteComment(s.note, names));
  });
  return out;
}
