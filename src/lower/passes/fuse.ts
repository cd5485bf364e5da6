/**
 * Loop fusion: consecutive element loops with the same trip count run as one loop when each iteration then
 * still sees what it saw before — every buffer both loops touch, with at least one writing it, is touched at
 * the same element in both. Their comments move above the fused loop. Loops short enough to be written
 * out are left alone (they read better one value at a time).
 */
import { type Index, type Stmt, type Var, sameIndex, varIndex } from "../kernel.ts";
import type { Buffer } from "../kernel.ts";
import { ownExprs, substituteVar, visitExpr, visitStmts } from "../walk.ts";

type Loop = Extract<Stmt, { k: "loop" }>;

export function fuse(body: readonly Stmt[], minTrips: number): Stmt[] {
  const out: Stmt[] = [];
  let notes: Stmt[] = [];
  for (const s of body) {
    if (s.k === "note") {
      notes.push(s);
      continue;
    }
    const stmt = s.k === "loop" || s.k === "ifBatch" ? { ...s, body: fuse(s.body, minTrips) } : s;
    const last = out[out.length - 1];
    if (stmt.k === "loop" && last?.k === "loop" && fusable(last, stmt, minTrips)) {
      out.pop();
      out.push(...notes, fused(last, stmt));
    } else out.push(...notes, stmt);
    notes = [];
  }
  return [...out, ...notes];
}

function fusable(a: Loop, b: Loop, minTrips: number): boolean {
  if (a.kind !== "elements" || b.kind !== "elements" || a.v.extent !== b.v.extent) return false;
  if (typeof a.v.extent !== "number" || a.v.extent <= minTrips) return false;
  if (![...a.body, ...b.body].every((s) => s.k === "store" || s.k === "note")) return false;
  const accesses = [...accessesOf(a.body, a.v, a.v), ...accessesOf(b.body, b.v, a.v)];
  const written = new Set(accesses.filter((x) => x.write).map((x) => x.buf));
  return [...written].every((buf) => {
    const at = accesses.filter((x) => x.buf === buf);
    return at.every((x) => sameIndex(x.index, at[0].index));
  });
}

/** Buffer accesses of a loop body, with its variable renamed to `as`. */
function accessesOf(body: readonly Stmt[], v: Var, as: Var): { buf: Buffer; index: Index; write: boolean }[] {
  const renamed = v === as ? body : substituteVar(body, v, varIndex(as));
  const out: { buf: Buffer; index: Index; write: boolean }[] = [];
  visitStmts(renamed, (s) => {
    if (s.k === "store") out.push({ buf: s.buf, index: s.index, write: true });
    for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === "load" && out.push({ buf: x.buf, index: x.index, write: false }));
  });
  return out;
}

function fused(a: Loop, b: Loop): Loop {
  const notes = (l: Loop) => l.body.filter((s) => s.k === "note");
  const work = (l: Loop) => l.body.filter((s) => s.k !== "note");
  return { ...a, body: [...notes(a), ...notes(b), ...work(a), ...substituteVar(work(b), b.v, varIndex(a.v))] };
}
