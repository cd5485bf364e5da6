/**
 * Loop fusion: consecutive element loops with the same trip count run as one loop when each iteration then
 * still sees what it saw before — every buffer both loops touch, with at least one writing it, is touched at
 * the same element in both. Their comments move above the fused loop. Loops short enough to be written
 * out are left alone (they read better one value at a time).
 *
 * A run of loops fusing one after another is kept open as a chain: each new loop is checked against a summary
 * of the chain's accesses (per buffer) and appended, so a run of k loops costs their size once, not k times.
 */
import { type Index, type Stmt, type Var, sameIndex, varIndex } from "../kernel.ts";
import type { Buffer } from "../kernel.ts";
import { ownExprs, substituteVar, visitExpr, visitStmts } from "../walk.ts";

type Loop = Extract<Stmt, { k: "loop" }>;

/** How a loop body touches one buffer: the index of its first access, whether every access is at it, whether one writes. */
interface Touch {
  readonly first: Index;
  uniform: boolean;
  written: boolean;
}

/** Loops being fused into the first one: their comments and their work (renamed to the first loop's variable). */
interface Chain {
  readonly head: Loop;
  extended: boolean;
  readonly notes: Stmt[];
  readonly work: Stmt[];
  /**
   * Every access of `work`, per buffer: worked out when a second loop is offered (most loops have none), and
   * null if the head alone touches a buffer it writes at two elements (it then fuses with nothing).
   */
  touches?: Map<Buffer, Touch> | null;
}

export function fuse(body: readonly Stmt[], minTrips: number): Stmt[] {
  const out: Stmt[] = [];
  let notes: Stmt[] = [];
  let chain: Chain | undefined;
  const close = () => {
    if (chain) out.push(chain.extended ? { ...chain.head, body: [...chain.notes, ...chain.work] } : chain.head);
    chain = undefined;
  };
  for (const s of body) {
    if (s.k === "note") {
      notes.push(s);
      continue;
    }
    const stmt = s.k === "loop" || s.k === "ifBatch" ? { ...s, body: fuse(s.body, minTrips) } : s;
    if (stmt.k === "loop" && chain && extend(chain, stmt, minTrips)) {
      // the comments between the loops go above the fused loop
      out.push(...notes);
    } else {
      close();
      out.push(...notes);
      if (stmt.k === "loop" && mayFuse(stmt, minTrips)) chain = open(stmt);
      else out.push(stmt);
    }
    notes = [];
  }
  close();
  return [...out, ...notes];
}

/** Element loops of more than `minTrips` constant trips whose bodies only store. */
function mayFuse(l: Loop, minTrips: number): boolean {
  return l.kind === "elements" && typeof l.v.extent === "number" && l.v.extent > minTrips && l.body.every((s) => s.k === "store" || s.k === "note");
}

function open(head: Loop): Chain {
  return { head, extended: false, notes: head.body.filter((s) => s.k === "note"), work: head.body.filter((s) => s.k !== "note") };
}

function headTouches(head: Loop): Map<Buffer, Touch> | null {
  const touches = touchesOf(head.body);
  return [...touches.values()].some((t) => t.written && !t.uniform) ? null : touches;
}

/**
 * Appends `next` to the chain if the two may run as one loop: every buffer written in either is touched at
 * one element throughout both. The chain is unchanged otherwise.
 */
function extend(chain: Chain, next: Loop, minTrips: number): boolean {
  const head = chain.head;
  if (next.v.extent !== head.v.extent || !mayFuse(next, minTrips)) return false;
  if (chain.touches === undefined) chain.touches = headTouches(head);
  const sofar = chain.touches;
  if (!sofar) return false;
  const work = substituteVar(
    next.body.filter((s) => s.k !== "note"),
    next.v,
    varIndex(head.v),
  );
  const touches = touchesOf(work);
  // the chain itself writes every buffer at one element (or it would not have been extended)
  for (const [buf, t] of touches) {
    const had = sofar.get(buf);
    const written = t.written || had?.written === true;
    if (written && (!t.uniform || (had && (!had.uniform || !sameIndex(had.first, t.first))))) return false;
  }
  for (const [buf, t] of touches) {
    const had = sofar.get(buf);
    if (!had) sofar.set(buf, t);
    else {
      had.uniform &&= t.uniform && sameIndex(had.first, t.first);
      had.written ||= t.written;
    }
  }
  chain.notes.push(...next.body.filter((s) => s.k === "note"));
  for (const s of work) chain.work.push(s);
  chain.extended = true;
  return true;
}

/** The buffers a loop body touches, in the order of their accesses. */
function touchesOf(body: readonly Stmt[]): Map<Buffer, Touch> {
  const touches = new Map<Buffer, Touch>();
  const access = (buf: Buffer, index: Index, write: boolean) => {
    const t = touches.get(buf);
    if (!t) touches.set(buf, { first: index, uniform: true, written: write });
    else {
      t.uniform &&= sameIndex(t.first, index);
      t.written ||= write;
    }
  };
  visitStmts(body, (s) => {
    if (s.k === "store") access(s.buf, s.index, true);
    for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === "load" && access(x.buf, x.index, false));
  });
  return touches;
}
