/**
 * Buffer reuse: workspace buffers of one function whose lifetimes (first to last access, in program order)
 * do not overlap share memory. Nothing in the workspace outlives a call, so each function has a layout of
 * its own, and the module's workspace is as large as the largest. Buffers of one value per call and buffers
 * of one row per sample are packed separately (the second in elements per sample). The WebAssembly renderer
 * addresses its memory with this layout; the TypeScript renderer keeps one array per value, as a reader expects.
 */
import type { Buffer, Index, KernelFunction, Stmt } from "../kernel.ts";
import { ownExprs, visitExpr } from "../walk.ts";

export interface WorkspaceLayout {
  /** Element offset of each fixed-size workspace buffer. */
  readonly fixed: ReadonlyMap<Buffer, number>;
  /** Element offset within one sample's rows of each per-sample workspace buffer. */
  readonly rows: ReadonlyMap<Buffer, number>;
  readonly fixedSize: number;
  /** Elements per sample. */
  readonly rowsSize: number;
}

interface Lifetime {
  buf: Buffer;
  first: number;
  last: number;
}

/** `align` elements: every buffer starts on a 16-byte boundary. */
export function reuse(fn: KernelFunction, align: number): WorkspaceLayout {
  const lifetimes = lifetimesOf(fn.body, fn.perThread !== undefined);
  const fixed = pack(lifetimes.filter((l) => !l.buf.perSample), align);
  const rows = pack(lifetimes.filter((l) => l.buf.perSample), 1);
  return { fixed: fixed.offsets, rows: rows.offsets, fixedSize: fixed.size, rowsSize: rows.size };
}

/**
 * A row buffer that this function uses at its first row only (a value another function stores per sample) is
 * rewritten by every sample, so it lives through the whole sample loop: sharing bytes with a row of another
 * value there would overwrite an earlier sample's row.
 */
function lifetimesOf(body: readonly Stmt[], threaded: boolean): Lifetime[] {
  const spans = new Map<Buffer, Lifetime>();
  const firstRowOnly = new Set<Buffer>();
  let pos = 0;
  /** The buffers touched in the statements being walked, collected per loop body (see `walk`). */
  let touched = new Set<Buffer>();
  /**
   * Loops that fill buffers piece by piece (a recurrence's steps, the rows of a sample loop): where they start and
   * end, and the buffers first touched in them.
   */
  const filledLoops: { start: number; end: number; buffers: Buffer[] }[] = [];
  /** How many loops over a recurrence's steps the walk is inside. */
  let inStep = 0;
  const touch = (buf: Buffer, index?: Index) => {
    if (buf.role !== "work") return;
    if (buf.perSample && index && !index.terms.some((t) => t.v.extent === "batch")) firstRowOnly.add(buf);
    touched.add(buf);
    const l = spans.get(buf);
    if (l) l.last = pos;
    else spans.set(buf, { buf, first: pos, last: pos });
  };
  /** Where the threads' barriers are (passes/threads.ts), in order. */
  const barriers: number[] = [];
  const walk = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      pos++;
      if (s.k === "barrier") barriers.push(pos);
      if (s.k === "store") touch(s.buf, s.index);
      if (s.k === "fill") touch(s.buf);
      if (s.k === "contract") [s.c.out, s.c.a, s.c.b].forEach((a) => touch(a.buf, a.index));
      for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === "load" && touch(x.buf, x.index));
      if (s.k === "loop" || s.k === "ifBatch" || s.k === "single") {
        const start = pos;
        const outside = touched;
        touched = new Set();
        if (s.k === "loop" && s.kind === "time") inStep++;
        walk(s.body);
        if (s.k === "loop" && s.kind === "time") inStep--;
        // only buffers touched in the loop can have lived into it (a span ends where it was last touched), so
        // those are the ones to look at, not every span so far: that would be quadratic in the loops
        const inLoop = touched;
        touched = outside;
        for (const buf of inLoop) touched.add(buf);
        // a value carried from one iteration to the next lives through the whole loop; so does every value of the
        // steps of a shared function whose steps run on without a barrier between them (passes/threads.ts): a thread
        // a step ahead writes its values while another still reads the step before's
        const openSteps = threaded && s.k === "loop" && s.kind === "time" && s.body[s.body.length - 1]?.k !== "barrier";
        for (const buf of inLoop) {
          const l = spans.get(buf) as Lifetime;
          if (openSteps) {
            l.first = Math.min(l.first, start);
            l.last = Math.max(l.last, pos);
          } else if (l.first < start && l.last > start) l.last = Math.max(l.last, pos);
        }
        if (s.k === "loop" && s.kind === "time") filledLoops.push({ start, end: pos, buffers: [...inLoop].filter((b) => (spans.get(b) as Lifetime).first > start) });
        // a sample loop fills its row buffers one row per iteration; inside a recurrence's step (a batched recurrence)
        // some of them die in the loop that wrote them, and may not share bytes with one that lives on
        if (s.k === "loop" && s.kind === "samples" && inStep > 0) filledLoops.push({ start, end: pos, buffers: [...inLoop].filter((b) => b.perSample && (spans.get(b) as Lifetime).first > start) });
        if (s.k === "loop" && s.kind === "samples") {
          for (const buf of inLoop) {
            const l = spans.get(buf) as Lifetime;
            if (firstRowOnly.has(l.buf) && l.first >= start) {
              l.first = start;
              l.last = Math.max(l.last, pos);
            }
          }
        }
      }
    }
  };
  walk(body);
  // a buffer a loop fills piece by piece and that is read after the loop (a recurrence's stack, a value stored one row
  // per sample) holds the pieces of every iteration: it lives through the whole loop, not from its first write in the
  // body (a row buffer of another size sharing its bytes would overwrite an earlier sample's row)
  for (const loop of filledLoops) {
    for (const buf of loop.buffers) {
      const l = spans.get(buf) as Lifetime;
      if (l.last > loop.end) l.first = Math.min(l.first, loop.start);
    }
  }
  // with several threads (a function passes/threads.ts shared), a buffer lives until the next barrier, or the end: another
  // thread may still be reading it where this one, past its last use, would already write another value into the
  // same bytes (a row of another size holds other samples, another thread's)
  if (threaded) {
    for (const l of spans.values()) l.last = barriers.find((b) => b >= l.last) ?? pos + 1;
  }
  return [...spans.values()].sort((a, b) => a.first - b.first || a.buf.size - b.buf.size);
}

/** First fit: each buffer at the lowest offset not held by a buffer alive at the same time. */
function pack(lifetimes: readonly Lifetime[], align: number): { offsets: Map<Buffer, number>; size: number } {
  const placed: { l: Lifetime; offset: number; size: number }[] = [];
  const offsets = new Map<Buffer, number>();
  let size = 0;
  for (const l of lifetimes) {
    const extent = Math.ceil(l.buf.size / align) * align;
    const busy = placed.filter((p) => p.l.first <= l.last && l.first <= p.l.last).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + extent <= p.offset) break;
      offset = Math.max(offset, p.offset + p.size);
    }
    placed.push({ l, offset, size: extent });
    offsets.set(l.buf, offset);
    size = Math.max(size, offset + extent);
  }
  return { offsets, size };
}
