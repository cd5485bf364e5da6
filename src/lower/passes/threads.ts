/**
 * Sharing a function among threads: every thread runs the same function body (the WebAssembly kernels, one instance
 * per thread on one shared memory), and this pass says who does what, with fixed shares so that every thread count
 * computes the same bits:
 *   samples — a loop over the samples, and a product whose output rows are samples, split by the samples: thread t of
 *             n takes samples ⌊t·batch/n⌋ … ⌊(t+1)·batch/n⌋ − 1, the same share in every such statement, so that a
 *             sample's rows stay with one thread from one statement to the next and need no barrier between them;
 *   split   — a weight gradient (a product summed over the batch) and the forward product of a large layer, split by
 *             their output rows; the sums this pass adds, long element loops and long sums into a local, split by
 *             their elements in fixed chunks: each output element is computed whole by one thread;
 *   all     — statements that write no memory (locals: the batch's scale, a regularizer's sum of squares): every
 *             thread computes them, so that each has the values its shares read;
 *   one     — everything else (zeroing the gradient, finishing the batch means, the state's update): the first thread;
 *   steps   — a recurrence's loop over the steps whose body has shared work: every thread runs the loop, and the body
 *             is shared the same way, step by step.
 * A barrier goes between two statements where one thread may write what another reads or writes (two statements of
 * the samples' share, or two of the first thread's, need none).
 *
 * Sums over the samples are the one change to what is computed. A sample loop's `+=` into the batch's accumulator (a
 * bias gradient, the loss) would be a race; each sample's part goes to a row of its own instead (zeroed at the
 * sample's start), and after the loop the accumulator takes the rows in sample order, split by its elements. The
 * additions are those one thread makes, in the same order, whatever the number of threads. A function this pass
 * cannot share runs on the first thread alone.
 */
import { addIndex, type Buffer, constIndex, type Contraction, elementNest, type Expr, get, type Index, type KernelFunction, load, type Local, sameIndex, type Stmt, type UpdateMode, type Var, varIndex } from "../kernel.ts";
import { mapAccesses, ownExprs, substituteVar, visitExpr, visitStmts } from "../walk.ts";

type Mode = "one" | "all" | "samples" | "split" | "steps";

/** Thrown inside the pass where a function cannot be shared; the function then runs on the first thread. */
class NotShared extends Error {}

export function shareAcrossThreads(fn: KernelFunction): KernelFunction {
  try {
    const sharing = new Sharing(fn.body);
    const body = sharing.region(fn.body);
    return { ...fn, body, perThread: sharing.perThread };
  } catch (error) {
    if (!(error instanceof NotShared)) throw error;
    return { ...fn, body: [{ k: "single", body: fn.body }] };
  }
}

/** A statement of a region with who runs it. */
interface Placed {
  readonly stmt: Stmt;
  readonly mode: Mode;
}

/** The memory a statement touches: the caller's arrays by role, workspace buffers one by one. */
type Resource = Buffer | Buffer["role"];
const resourceOf = (buf: Buffer): Resource => (buf.role === "work" ? buf : buf.role);

type Loop = Extract<Stmt, { k: "loop" }>;
/** A loop over the batch's samples. */
const sampleLoop = (s: Stmt): Loop | undefined => (s.k === "loop" && s.kind === "samples" && s.v.extent === "batch" ? s : undefined);

class Sharing {
  /** Workspace buffers of one value per call written in the samples' loops and used nowhere else: each thread's own. */
  readonly perThread = new Set<Buffer>();
  /**
   * Per-sample buffers the loops over the samples use at the first row only (values another function stores one row
   * per sample, here rewritten by every sample): each sample takes its own row instead, as threads run samples at once.
   */
  private readonly firstRowOnly = new Set<Buffer>();
  private partialCount = 0;
  /** The buffers touched outside the loops over the samples. */
  private readonly outsideSampleLoops = new Set<Buffer>();

  constructor(body: readonly Stmt[]) {
    const rowed = new Set<Buffer>();
    const walk = (stmts: readonly Stmt[], sample: Var | undefined) => {
      for (const s of stmts) {
        const inner = sample ?? sampleLoop(s)?.v;
        if (!inner) for (const b of touched(s, false)) this.outsideSampleLoops.add(b);
        else
          forEachAccess(s, (buf, index) => {
            if (buf.perSample && index.terms.some((t) => t.v.extent === "batch")) rowed.add(buf);
            else if (buf.perSample) this.firstRowOnly.add(buf);
          });
        if (s.k === "loop" || s.k === "ifBatch" || s.k === "single") walk(s.body, inner);
      }
    };
    walk(body, undefined);
    for (const b of this.firstRowOnly) if (b.role !== "work" || rowed.has(b) || this.outsideSampleLoops.has(b)) throw new NotShared();
  }

  /** A list of statements every thread runs (the function's body, a loop over the steps' body), shared. */
  region(body: readonly Stmt[]): Stmt[] {
    return this.placeRegion(body).body;
  }

  private placeRegion(body: readonly Stmt[]): Shared {
    const placed = body.flatMap((s) => this.place(s));
    checkLocals(placed);
    return withBarriers(placed);
  }

  private place(s: Stmt): Placed[] {
    const samples = sampleLoop(s);
    if (samples) return this.sampleLoop(samples);
    if (s.k === "contract") {
      const mode = contractionMode(s.c);
      return [mode === "one" ? { stmt: s, mode } : { stmt: { ...s, c: { ...s.c, shared: mode === "samples" ? "samples" : "outputs" } }, mode }];
    }
    if (s.k === "loop" && s.kind === "time" && hasSharedWork(s.body)) {
      // a step ends at a barrier where the next one may touch what another thread wrote in this one; where every
      // thread keeps to its own samples from step to step (a recurrence's forward pass), the threads run on
      const { body, repeats } = this.placeRegion(s.body);
      if (!repeats && body[body.length - 1]?.k !== "barrier") body.push({ k: "barrier" });
      return [{ stmt: { ...s, body }, mode: "steps" }];
    }
    if (s.k === "note") return [{ stmt: s, mode: "all" }];
    if (isLongElementLoop(s)) return splitElements(s);
    if (isLongSum(s)) return this.splitSum(s);
    return [{ stmt: s, mode: writesMemory(s) ? "one" : "all" }];
  }

  /**
   * A loop over the samples, split by the samples: its sums into the batch's accumulators go to rows of their own,
   * taken in sample order after it; its scratch becomes each thread's own.
   */
  private sampleLoop(loop: Loop): Placed[] {
    const s = loop.v;
    const sums = this.bufferSums(loop.body, s);
    const localSums = localSumsOf(loop.body);
    // an accumulator read in the loop that sums into it is not a sum over the samples this pass can split
    visitStmts(loop.body, (st) => {
      for (const e of ownExprs(st))
        visitExpr(e, (x) => {
          if (x.k === "load" && sums.some((t) => t.buf === x.buf || (x.buf.role !== "work" && t.buf.role === x.buf.role))) throw new NotShared();
          if (x.k === "get" && localSums.some((l) => l.local === x.local)) throw new NotShared();
        });
    });
    this.noteScratch(loop.body);
    const named = { sums: sums.map((t) => this.withRows(t)), locals: localSums.map((l) => this.withPartial(l)) };
    const targetOf = (buf: Buffer, index: Index) => named.sums.find((t) => resourceOf(t.buf) === resourceOf(buf) && t.low <= index.c && index.c <= t.high);
    const ownRows = mapAccesses(loop.body, (buf, index) => (this.firstRowOnly.has(buf) ? { buf, index: addIndex(index, varIndex(s, buf.size)) } : { buf, index }));
    const body = rewriteSums(ownRows, s, targetOf, (l) => named.locals.find((x) => x.local === l)?.partial);
    const row = (rows: Buffer) => varIndex(s, rows.size);
    const start: Stmt[] = [
      ...named.sums.flatMap((t) => identityRow(t.rows, row(t.rows), t.mode)),
      ...named.locals.map((l): Stmt => ({ k: "let", local: l.partial, value: { k: "num", value: identity(l.mode) }, mutable: true })),
    ];
    const end: Stmt[] = named.locals.map((l): Stmt => ({ k: "store", buf: l.rows, index: row(l.rows), value: get(l.partial), mode: "=" }));
    const shared: Placed = { stmt: { ...loop, body: [...start, ...body, ...end], shared: true }, mode: "samples" };
    return [shared, ...named.sums.flatMap(takeRows), ...named.locals.map(takeLocalRows)];
  }

  /**
   * The sums a loop over the samples makes into memory all samples share (a bias gradient, a batch mean): one per
   * stretch of a buffer the loop's `+=` (or `*=`, `max=`) reach, stretches that overlap merged.
   */
  private bufferSums(body: readonly Stmt[], s: Var): Sum[] {
    const reached: Sum[] = [];
    const add = (buf: Buffer, index: Index, mode: UpdateMode, loops: readonly Var[]) => {
      if (buf.perSample || this.isScratch(buf)) return;
      // a plain store of every sample into one element keeps the last sample's value: not a sum threads can split
      if (mode === "=") throw new NotShared();
      const [low, high] = indexRange(index, loops, s);
      reached.push({ buf, mode, low, high });
    };
    visitStmts(body, (st, loops) => {
      const vars = loops.flatMap((l) => (l.k === "loop" ? [l.v] : []));
      if (st.k === "store") add(st.buf, st.index, st.mode, vars);
      if (st.k === "fill" && !st.buf.perSample && !this.isScratch(st.buf)) throw new NotShared();
      // a product's output element moves with its two output variables
      if (st.k === "contract") add(st.c.out.buf, st.c.out.index, st.c.mode, [...vars, ...st.c.outVars]);
    });
    return mergeSums(reached);
  }

  private withRows(t: Sum): SumWithRows {
    return { ...t, rows: { role: "work", size: t.high - t.low + 1, perSample: true, hint: `partial${this.partialCount++}` } };
  }

  private withPartial(l: LocalSum): LocalSumWithRows {
    const hint = `partial${this.partialCount++}`;
    return { ...l, partial: { hint, fixed: true, named: false }, rows: { role: "work", size: 1, perSample: true, hint } };
  }

  /**
   * A long sum into a local (a regularizer's Σ W²), split by fixed chunks: each chunk's sum into an element of its
   * own, then the local takes the chunks in order, and the elements left over, on every thread. The chunks do not
   * depend on the number of threads, so neither does the sum.
   */
  private splitSum(loop: Loop): Placed[] {
    const update = loop.body.find((b) => b.k === "update") as Extract<Stmt, { k: "update" }>;
    const n = loop.v.extent as number;
    const chunks = Math.floor(n / ELEMENT_CHUNK);
    const rest = n - chunks * ELEMENT_CHUNK;
    const hint = `partial${this.partialCount++}`;
    const partials: Buffer = { role: "work", size: chunks, perSample: false, hint };
    const part: Local = { hint, fixed: true, named: false };
    const c: Var = { name: "c", extent: chunks };
    const k: Var = { name: loop.v.name, extent: ELEMENT_CHUNK };
    const inChunk = substituteVar([{ ...update, local: part }], loop.v, addIndex(varIndex(c, ELEMENT_CHUNK), varIndex(k)));
    const chunkSums: Stmt = {
      k: "loop",
      v: c,
      kind: "elements",
      shared: true,
      body: [
        { k: "let", local: part, value: { k: "num", value: 0 }, mutable: true },
        { ...loop, v: k, body: inChunk },
        { k: "store", buf: partials, index: varIndex(c), value: get(part), mode: "=" },
      ],
    };
    const c2: Var = { name: "c", extent: chunks };
    const taken: Stmt = { k: "loop", v: c2, kind: "structure", body: [{ k: "update", local: update.local, value: load(partials, varIndex(c2)), mode: "+=" }] };
    const placed: Placed[] = [
      { stmt: chunkSums, mode: "split" },
      { stmt: taken, mode: "all" },
    ];
    if (rest > 0) {
      const e: Var = { name: loop.v.name, extent: rest };
      placed.push({ stmt: { ...loop, v: e, body: substituteVar(loop.body, loop.v, addIndex(constIndex(chunks * ELEMENT_CHUNK), varIndex(e))) }, mode: "all" });
    }
    return placed;
  }

  private isScratch(buf: Buffer): boolean {
    return buf.role === "work" && !buf.perSample && !this.outsideSampleLoops.has(buf);
  }

  /** The scratch a loop over the samples writes (per-call buffers used nowhere else) is each thread's own. */
  private noteScratch(body: readonly Stmt[]): void {
    for (const s of body) for (const b of touched(s, true)) if (this.isScratch(b)) this.perThread.add(b);
  }
}

/** A stretch [low, high] of a buffer every sample adds into (or multiplies, or raises). */
interface Sum {
  readonly buf: Buffer;
  readonly mode: UpdateMode;
  readonly low: number;
  readonly high: number;
}

/** A sum with the rows that hold each sample's part of it. */
interface SumWithRows extends Sum {
  readonly rows: Buffer;
}

/** A local declared before a loop over the samples and summed into in it (the loss). */
interface LocalSum {
  readonly local: Local;
  readonly mode: UpdateMode;
}

/** A summed local, the local that holds one sample's part, and the rows that keep them. */
interface LocalSumWithRows extends LocalSum {
  readonly partial: Local;
  readonly rows: Buffer;
}

/** Sums into overlapping stretches of one buffer as one (the same update, else not shareable), in address order. */
function mergeSums(reached: readonly Sum[]): Sum[] {
  const merged: Sum[] = [];
  const sorted = [...reached].sort((a, b) => String(resourceOf(a.buf)).localeCompare(String(resourceOf(b.buf))) || a.low - b.low);
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && resourceOf(last.buf) === resourceOf(r.buf) && r.low <= last.high + 1) {
      if (last.mode !== r.mode) throw new NotShared();
      merged[merged.length - 1] = { ...last, high: Math.max(last.high, r.high) };
    } else merged.push(r);
  }
  return merged;
}

/** The locals declared outside a loop's body that its updates sum into. */
function localSumsOf(body: readonly Stmt[]): LocalSum[] {
  const declared = new Set<Local>();
  const sums = new Map<Local, LocalSum>();
  visitStmts(body, (st) => {
    if (st.k === "let") declared.add(st.local);
    if (st.k !== "update" || declared.has(st.local)) return;
    const known = sums.get(st.local);
    if (st.mode === "=" || (known && known.mode !== st.mode)) throw new NotShared();
    sums.set(st.local, { local: st.local, mode: st.mode });
  });
  return [...sums.values()];
}

const identity = (mode: UpdateMode) => (mode === "+=" ? 0 : mode === "*=" ? 1 : -Infinity);

/** One sample's row of partial sums set to the identity of its update (zero for a sum). */
function identityRow(rows: Buffer, row: Index, mode: UpdateMode): Stmt[] {
  if (mode === "+=") return [{ k: "fill", buf: rows, index: row, count: rows.size, value: 0 }];
  return elementNest([rows.size], (i) => [{ k: "store", buf: rows, index: addIndex(row, i), value: { k: "num", value: identity(mode) }, mode: "=" }]);
}

/**
 * Elements of the partial sums a thread takes at a time: a run the renderer adds in SIMD lanes for each sample in turn,
 * rows of all samples read one contiguous run after another.
 */
const SUM_CHUNK = 64;

/**
 * accumulator[low + e] op= rows[s, e] for every sample in order, split by the elements e: in chunks of SUM_CHUNK
 * elements (each a loop the renderer runs in lanes, inside the loop over the samples), then the last elements one by
 * one. The additions into each element are the same, in the same order, either way.
 */
function takeRows(t: SumWithRows): Placed[] {
  const size = t.rows.size;
  const chunks = Math.floor(size / SUM_CHUNK);
  const rest = size - chunks * SUM_CHUNK;
  const s: Var = { name: "s", extent: "batch" };
  const note: Stmt = { k: "note", note: { lhs: "partial sums", op: "←", rhs: null, tail: "each sample's part, in sample order" } };
  /** accumulator[low + first + at] op= rows[s, first + at] */
  const add = (first: Index, at: Index): Stmt => ({
    k: "store",
    buf: t.buf,
    index: addIndex(addIndex(constIndex(t.low), first), at),
    value: load(t.rows, addIndex(addIndex(varIndex(s, size), first), at)),
    mode: t.mode,
  });
  const placed: Placed[] = [];
  if (chunks > 0) {
    const c: Var = { name: "c", extent: chunks };
    const k: Var = { name: "k", extent: SUM_CHUNK };
    const lanes: Stmt = { k: "loop", v: k, kind: "elements", body: [add(varIndex(c, SUM_CHUNK), varIndex(k))] };
    placed.push({ stmt: { k: "loop", v: c, kind: "elements", shared: true, body: [note, { k: "loop", v: s, kind: "samples", body: [lanes] }] }, mode: "split" });
  }
  if (rest > 0) {
    const e: Var = { name: "e", extent: rest };
    placed.push({ stmt: { k: "loop", v: e, kind: "elements", shared: true, body: [note, { k: "loop", v: s, kind: "samples", body: [add(constIndex(chunks * SUM_CHUNK), varIndex(e))] }] }, mode: "split" });
  }
  return placed;
}

/** local op= rows[s] for every sample in order, on every thread (each then holds the batch's value). */
function takeLocalRows(l: LocalSumWithRows): Placed {
  const s: Var = { name: "s", extent: "batch" };
  const update: Stmt = { k: "update", local: l.local, value: load(l.rows, varIndex(s)), mode: l.mode };
  return { stmt: { k: "loop", v: s, kind: "samples", body: [update] }, mode: "all" };
}

/** `body` with its sums into the batch's accumulators going to each sample's row of partial sums instead. */
function rewriteSums(body: readonly Stmt[], s: Var, targetOf: (buf: Buffer, index: Index) => SumWithRows | undefined, partialOf: (l: Local) => Local | undefined): Stmt[] {
  // an index reaches its constant term (every variable at 0), so that term tells which stretch it sums into
  const moved = (buf: Buffer, index: Index): { buf: Buffer; index: Index } => {
    const t = targetOf(buf, index);
    if (!t) return { buf, index };
    return { buf: t.rows, index: addIndex(addIndex(index, constIndex(-t.low)), varIndex(s, t.rows.size)) };
  };
  return body.map((st): Stmt => {
    switch (st.k) {
      case "store": {
        if (st.buf.perSample) return st;
        return { ...st, ...moved(st.buf, st.index) };
      }
      case "update": {
        const partial = partialOf(st.local);
        return partial ? { ...st, local: partial } : st;
      }
      case "contract": {
        if (st.c.out.buf.perSample) return st;
        const c: Contraction = { ...st.c, out: moved(st.c.out.buf, st.c.out.index) };
        return { ...st, c };
      }
      case "loop":
      case "ifBatch":
      case "single":
        return { ...st, body: rewriteSums(st.body, s, targetOf, partialOf) };
      default:
        return st;
    }
  });
}

/**
 * Calls `f` on every buffer access of `s` (nested statements included, a counter's never): elements `count` from
 * `index`, and whether the access writes and whether it reads (an update in place does both).
 */
function forEachAccess(s: Stmt, f: (buf: Buffer, index: Index, count: number, writes: boolean, reads: boolean) => void): void {
  const at = (buf: Buffer, index: Index, count: number, writes: boolean, reads: boolean) => buf.role !== "counter" && f(buf, index, count, writes, reads);
  visitStmts([s], (st) => {
    for (const e of ownExprs(st)) visitExpr(e, (x) => x.k === "load" && at(x.buf, x.index, 1, false, true));
    if (st.k === "store") at(st.buf, st.index, 1, true, st.mode !== "=");
    if (st.k === "fill") at(st.buf, st.index, st.count, true, false);
    if (st.k === "contract") {
      at(st.c.out.buf, st.c.out.index, 1, true, st.c.mode === "+=");
      at(st.c.a.buf, st.c.a.index, 1, false, true);
      at(st.c.b.buf, st.c.b.index, 1, false, true);
    }
  });
}

/** The lowest and highest element `index` addresses over the ranges of `vars` (none of them the samples'). */
function indexRange(index: Index, vars: readonly Var[], s: Var): [number, number] {
  const extentOf = (v: Var) => {
    // a sum whose element moves with the sample, or with a variable of no loop here, is not one this pass knows
    if (v === s || v.extent === "batch" || !vars.includes(v)) throw new NotShared();
    return v.extent;
  };
  let low = index.c;
  let high = index.c;
  for (const t of index.terms) {
    const span = t.k * (extentOf(t.v) - 1);
    if (span < 0) low += span;
    else high += span;
  }
  return [low, high];
}

/** How a product is shared: by the samples where they are its output rows, by its outputs where it sums over them. */
function contractionMode(c: Contraction): Mode {
  if (c.reduce.extent === "batch") return "split";
  if (!c.outVars.some((v) => v.extent === "batch")) return "one";
  // a layer whose weights outgrow a core's cache: split by the samples, each thread would stream all of them
  return c.pattern === "forward" && weightsOf(c) >= LARGE_WEIGHTS ? "split" : "samples";
}

/**
 * Weights (elements) from which a layer's forward product is split by its outputs rather than by the samples: 256 Ki
 * (1 MiB in f32), about a core's second-level cache. The wide layers (784 × 1024, 1024 × 1024) at a batch of 32 ran
 * 1.0× as fast on two threads split by the samples, as each thread read every weight per call.
 */
const LARGE_WEIGHTS = 1 << 18;

/** The elements of a per-sample product's operand without the samples (the weights of W·x): outputs × the sum's terms. */
function weightsOf(c: Contraction): number {
  const outputs = c.outVars.find((v) => v.extent !== "batch")?.extent;
  return typeof outputs === "number" && typeof c.reduce.extent === "number" ? outputs * c.reduce.extent : 0;
}

/**
 * Elements from which an element loop outside the samples' loops (a weight's λ·W added to its gradient, an update of
 * the state) is split among threads, in chunks of ELEMENT_CHUNK the renderer runs in SIMD lanes.
 */
const SPLIT_ELEMENTS = 4096;
const ELEMENT_CHUNK = 256;

/** An element loop of SPLIT_ELEMENTS or more whose iterations only store, each reading no other iteration's element. */
function isLongElementLoop(s: Stmt): s is Loop {
  if (s.k !== "loop" || s.kind !== "elements" || typeof s.v.extent !== "number" || s.v.extent < SPLIT_ELEMENTS) return false;
  const stores = s.body.filter((b) => b.k !== "note");
  if (!stores.every((b) => b.k === "store")) return false;
  const written = stores.flatMap((b) => (b.k === "store" ? [b] : []));
  return written.every((w) =>
    stores.every((b) => {
      let own = true;
      if (b.k === "store") visitExpr(b.value, (x) => (own &&= !(x.k === "load" && x.buf === w.buf) || sameIndex(x.index, w.index)));
      return own;
    }),
  );
}

/** A loop of SPLIT_ELEMENTS or more iterations that only adds into one local (declared before it). */
function isLongSum(s: Stmt): s is Loop {
  if (s.k !== "loop" || (s.kind !== "structure" && s.kind !== "elements") || typeof s.v.extent !== "number" || s.v.extent < SPLIT_ELEMENTS) return false;
  const work = s.body.filter((b) => b.k !== "note");
  const [u] = work;
  if (work.length !== 1 || u?.k !== "update" || u.mode !== "+=") return false;
  // each term its own: one that read the local it adds into would chain the chunks
  let free = true;
  visitExpr(u.value, (x) => (free &&= x.k !== "get"));
  return free;
}

/** An element loop split by its elements: whole chunks (each run in SIMD lanes), then the elements left, one by one. */
function splitElements(loop: Loop): Placed[] {
  const n = loop.v.extent as number;
  const chunks = Math.floor(n / ELEMENT_CHUNK);
  const rest = n - chunks * ELEMENT_CHUNK;
  const c: Var = { name: "c", extent: chunks };
  const k: Var = { name: loop.v.name, extent: ELEMENT_CHUNK };
  const inChunk = substituteVar(loop.body, loop.v, addIndex(varIndex(c, ELEMENT_CHUNK), varIndex(k)));
  const placed: Placed[] = [{ stmt: { k: "loop", v: c, kind: "elements", shared: true, body: [{ ...loop, v: k, body: inChunk }] }, mode: "split" }];
  if (rest > 0) {
    const e: Var = { name: loop.v.name, extent: rest };
    placed.push({ stmt: { ...loop, v: e, shared: true, body: substituteVar(loop.body, loop.v, addIndex(constIndex(chunks * ELEMENT_CHUNK), varIndex(e))) }, mode: "split" });
  }
  return placed;
}

/** Whether a loop body (a loop over the steps') has statements this pass splits. */
function hasSharedWork(body: readonly Stmt[]): boolean {
  return body.some((s) => sampleLoop(s) !== undefined || (s.k === "contract" && contractionMode(s.c) !== "one") || (s.k === "loop" && s.kind === "time" && hasSharedWork(s.body)));
}

function writesMemory(s: Stmt): boolean {
  let writes = false;
  visitStmts([s], (st) => {
    if (st.k === "store" || st.k === "fill" || st.k === "contract") writes = true;
  });
  return writes;
}

/** The buffers a statement touches (nested ones included), or only those it writes. */
function touched(s: Stmt, writesOnly: boolean): Set<Buffer> {
  const out = new Set<Buffer>();
  forEachAccess(s, (buf, _index, _count, writes) => (writes || !writesOnly) && out.add(buf));
  return out;
}

/** Elements [low, high] of a resource a statement touches (the whole of it where a sample's row is in the index). */
interface Access {
  readonly on: Resource;
  readonly low: number;
  readonly high: number;
}

function accessOf(buf: Buffer, index: Index, count = 1): Access {
  if (index.terms.some((t) => t.v.extent === "batch")) return { on: resourceOf(buf), low: -Infinity, high: Infinity };
  let low = index.c;
  let high = index.c + count - 1;
  for (const t of index.terms) {
    const span = t.k * ((t.v.extent as number) - 1);
    if (span < 0) low += span;
    else high += span;
  }
  return { on: resourceOf(buf), low, high };
}

/** Reads and writes of a statement (nested ones included). */
function effects(s: Stmt): { reads: Access[]; writes: Access[] } {
  const reads: Access[] = [];
  const writes: Access[] = [];
  forEachAccess(s, (buf, index, count, write, read) => {
    const access = accessOf(buf, index, count);
    if (write) writes.push(access);
    if (read) reads.push(access);
  });
  return { reads, writes };
}

/** Two statements on these modes, one after the other, touch memory only their own thread touches in both. */
const sameThreads = (a: Mode, b: Mode) => (a === b && (a === "one" || a === "samples" || a === "all"));

/** A region's statements with their barriers; `repeats`: the region may run again right after itself without one. */
interface Shared {
  readonly body: Stmt[];
  readonly repeats: boolean;
}

/** Statements since the last barrier, with who runs them and what they touch. */
type Pending = { mode: Mode; reads: Access[]; writes: Access[] }[];

/** Whether a statement on `mode` touching `mine` may touch what another thread touched in `pending`. */
function conflicts(pending: Pending, mode: Mode, mine: { reads: Access[]; writes: Access[] }): boolean {
  return pending.some((p) => !sameThreads(p.mode, mode) && (overlaps(p.writes, mine.reads) || overlaps(p.writes, mine.writes) || overlaps(p.reads, mine.writes)));
}

/**
 * The region's statements in order, a barrier wherever a statement may touch what another thread wrote (or write
 * what another thread reads) since the last barrier, and each run of the first thread's statements in one block.
 * A loop over the steps that ends without a barrier (its steps repeat without one) counts as touching all it touches
 * until the next barrier.
 */
function withBarriers(placed: readonly Placed[]): Shared {
  const out: Stmt[] = [];
  let single: Stmt[] | undefined;
  let pending: Pending = [];
  /** How many statements run before the region's first barrier: the ones that may overlap its end, run again. */
  let beforeFirstBarrier: number | undefined;
  const barrier = (at: number) => {
    single = undefined;
    out.push({ k: "barrier" });
    pending = [];
    beforeFirstBarrier ??= at;
  };
  placed.forEach(({ stmt, mode }, at) => {
    if (stmt.k === "note") {
      (single ?? out).push(stmt);
      return;
    }
    const mine = effects(stmt);
    if (mode === "steps" || conflicts(pending, mode, mine)) {
      if (out.length > 0 || pending.length > 0) barrier(at);
    }
    if (mode === "one") {
      if (!single) {
        single = [];
        out.push({ k: "single", body: single });
      }
      single.push(stmt);
    } else {
      single = undefined;
      out.push(stmt);
    }
    if (mode !== "steps") pending.push({ mode, ...mine });
    else pending = stmt.k === "loop" && stmt.body[stmt.body.length - 1]?.k !== "barrier" ? [{ mode, ...mine }] : [];
  });
  // run again: its first statements (up to its first barrier) against what its last ones touched
  const head = placed.slice(0, beforeFirstBarrier ?? placed.length).filter((p) => p.stmt.k !== "note");
  const repeats = !head.some((p) => p.mode === "steps") && !head.some((p) => conflicts(pending, p.mode, effects(p.stmt)));
  return { body: out, repeats };
}

const overlaps = (a: readonly Access[], b: readonly Access[]) => a.some((x) => b.some((y) => x.on === y.on && x.low <= y.high && y.low <= x.high));

/**
 * Locals the first thread alone computes must not be read by statements the other threads run (the value returned
 * is the first thread's: `return` may read them).
 */
function checkLocals(placed: readonly Placed[]): void {
  const ownedByFirst = new Set<Local>();
  for (const { stmt, mode } of placed) {
    if (mode !== "one" && stmt.k !== "return") {
      visitStmts([stmt], (st) => {
        for (const e of ownExprs(st)) visitExpr(e, (x: Expr) => {
          if (x.k === "get" && ownedByFirst.has(x.local)) throw new NotShared();
        });
      });
    }
    if (mode === "one") {
      visitStmts([stmt], (st) => {
        if (st.k === "let" || st.k === "update") ownedByFirst.add(st.local);
      });
    }
  }
}
