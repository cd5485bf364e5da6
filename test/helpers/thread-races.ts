/**
 * A race detector for a function shared among threads (src/lower/passes/threads.ts), independent of the pass's own
 * reasoning: it runs the function's statements for each thread of n on a batch (indices only, no values), with the
 * shares the WebAssembly renderer gives each thread, and records every element of memory each one reads and writes,
 * and where it passes a barrier. Between two barriers the threads run in any order and overlap in any way, so a
 * stretch in which one thread writes an element another reads or writes is a race. Addresses are those of the
 * renderer's memory: the workspace buffers where the reuse pass puts them (values that share bytes share elements),
 * the rows of per-sample buffers batch-major at their offsets, and each thread's scratch its own.
 */
import type { Buffer, Contraction, Expr, Index, KernelFunction, Stmt, Var } from "../../src/lower/kernel.ts";
import { type WorkspaceLayout, reuse } from "../../src/lower/passes/reuse.ts";
import { ownExprs, visitExpr } from "../../src/lower/walk.ts";

/** What one thread touched between two barriers: element keys (a region's number · 2³² + the address). */
interface Stretch {
  readonly reads: Set<number>;
  readonly writes: Set<number>;
}

/** The memory regions: the caller's arrays by role, the workspace, the rows, and the threads' scratch from SCRATCH on. */
const REGIONS: Readonly<Record<string, number>> = { params: 1, inputs: 2, targets: 3, out: 4, grads: 5, state: 6, work: 7, rows: 8 };
const SCRATCH = 16;
const key = (region: number, address: number) => region * 2 ** 32 + address;

/** The region and address of a key, for a message. */
const describe = (k: number) => {
  const region = Math.floor(k / 2 ** 32);
  const name = Object.keys(REGIONS).find((r) => REGIONS[r] === region) ?? `scratch of thread ${region - SCRATCH}`;
  return `${name}[${k - region * 2 ** 32}]`;
};

/** A race: the stretch (counted in barriers passed), the two threads, and the element. */
export interface Race {
  readonly stretch: number;
  readonly writer: number;
  readonly other: number;
  readonly element: string;
}

/** [⌊E·t/n⌋, ⌊E·(t+1)/n⌋): thread t's share of a range of E, as the renderer computes it. */
const share = (extent: number, t: number, n: number): [number, number] => [Math.floor((extent * t) / n), Math.floor((extent * (t + 1)) / n)];

/** The output variable a shared product splits (the renderer's choice: the samples, else an output without them). */
function splitVar(c: Contraction): Var | undefined {
  if (c.shared === "samples") return c.outVars.find((v) => v.extent === "batch");
  if (c.shared === "outputs") return c.outVars.find((v) => v.extent !== "batch");
  return undefined;
}

class ThreadRun {
  readonly stretches: Stretch[] = [{ reads: new Set(), writes: new Set() }];
  private readonly env = new Map<Var, number>();

  constructor(
    private readonly fn: KernelFunction,
    private readonly layout: WorkspaceLayout,
    private readonly thread: number,
    private readonly threads: number,
    private readonly batch: number,
  ) {}

  run(): this {
    this.stmts(this.fn.body);
    return this;
  }

  private extent(v: Var): number {
    return v.extent === "batch" ? this.batch : v.extent;
  }

  private at(index: Index): number {
    return index.terms.reduce((sum, t) => {
      const value = this.env.get(t.v);
      if (value === undefined) throw new Error(`the variable ${t.v.name} has no value here`);
      return sum + t.k * value;
    }, index.c);
  }

  /** The key of element `address` of `buf` in the renderer's memory. */
  private key(buf: Buffer, address: number): number {
    if (buf.role !== "work") return key(REGIONS[buf.role], address);
    if (!buf.perSample) {
      const offset = this.layout.fixed.get(buf);
      if (offset === undefined) throw new Error("a workspace buffer with no place in the layout");
      // each thread's scratch is its own copy
      return key(this.fn.perThread?.has(buf) ? SCRATCH + this.thread : REGIONS.work, offset + address);
    }
    const row = this.layout.rows.get(buf);
    if (row === undefined) throw new Error("a row buffer with no place in the layout");
    return key(REGIONS.rows, this.batch * row + address);
  }

  private touch(buf: Buffer, address: number, write: boolean): void {
    if (buf.role === "counter") return;
    const stretch = this.stretches[this.stretches.length - 1];
    (write ? stretch.writes : stretch.reads).add(this.key(buf, address));
  }

  private reads(e: Expr): void {
    visitExpr(e, (x) => {
      if (x.k === "load") this.touch(x.buf, this.at(x.index), false);
    });
  }

  /** Runs `body` for each value of `v` in [from, to), in order or from the end. */
  private loop(v: Var, from: number, to: number, reverse: boolean, body: () => void): void {
    for (let i = 0; i < to - from; i++) {
      this.env.set(v, reverse ? to - 1 - i : from + i);
      body();
    }
    this.env.delete(v);
  }

  private stmts(body: readonly Stmt[]): void {
    for (const s of body) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.k) {
      case "loop": {
        const [from, to] = s.shared ? share(this.extent(s.v), this.thread, this.threads) : [0, this.extent(s.v)];
        return this.loop(s.v, from, to, s.reverse === true, () => this.stmts(s.body));
      }
      case "single":
        if (this.thread === 0) this.stmts(s.body);
        return;
      case "ifBatch":
        if (this.batch > 1) this.stmts(s.body);
        return;
      case "barrier":
        this.stretches.push({ reads: new Set(), writes: new Set() });
        return;
      case "store":
        this.exprReads(s.value);
        if (s.mode !== "=") this.touch(s.buf, this.at(s.index), false);
        this.touch(s.buf, this.at(s.index), true);
        return;
      case "fill":
        for (let i = 0; i < s.count; i++) this.touch(s.buf, this.at(s.index) + i, true);
        return;
      case "contract":
        return this.contract(s.c);
      default:
        for (const e of ownExprs(s)) this.exprReads(e);
    }
  }

  /** The loads of an expression, a `sum`'s for every value of its variable. */
  private exprReads(e: Expr): void {
    if (e.k === "sum") return this.loop(e.v, 0, this.extent(e.v), false, () => this.exprReads(e.term));
    if (e.k === "op") return e.args.forEach((a) => this.exprReads(a));
    this.reads(e);
  }

  private contract(c: Contraction): void {
    if (c.scale) this.exprReads(c.scale);
    const split = splitVar(c);
    const range = (v: Var): [number, number] => (v === split ? share(this.extent(v), this.thread, this.threads) : [0, this.extent(v)]);
    const [u, w] = c.outVars;
    const [uFrom, uTo] = range(u);
    const [wFrom, wTo] = range(w);
    this.loop(u, uFrom, uTo, false, () =>
      this.loop(w, wFrom, wTo, false, () => {
        if (c.mode === "+=") this.touch(c.out.buf, this.at(c.out.index), false);
        this.touch(c.out.buf, this.at(c.out.index), true);
        this.loop(c.reduce, 0, this.extent(c.reduce) * (c.steps ?? 1), false, () => {
          this.touch(c.a.buf, this.at(c.a.index), false);
          this.touch(c.b.buf, this.at(c.b.index), false);
        });
      }),
    );
  }
}

/**
 * The races of `fn` (a function the threads pass returned) run by `threads` threads on `batch` samples, and whether
 * every thread passed the same number of barriers (else the threads would wait for one another forever).
 */
export function threadRaces(fn: KernelFunction, threads: number, batch: number): { races: Race[]; barriers: number[] } {
  const layout = reuse(fn, 4);
  const runs = Array.from({ length: threads }, (_, t) => new ThreadRun(fn, layout, t, threads, batch).run());
  const barriers = runs.map((r) => r.stretches.length - 1);
  const races: Race[] = [];
  const stretches = Math.min(...barriers) + 1;
  for (let k = 0; k < stretches; k++) {
    for (let a = 0; a < threads; a++) {
      for (let b = 0; b < threads; b++) {
        if (a === b) continue;
        const mine = runs[a].stretches[k];
        const theirs = runs[b].stretches[k];
        for (const element of mine.writes) {
          if (theirs.writes.has(element) || theirs.reads.has(element)) {
            races.push({ stretch: k, writer: a, other: b, element: describe(element) });
            break;
          }
        }
      }
    }
  }
  return { races, barriers };
}
