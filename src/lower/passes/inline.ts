/**
 * Inlining: a value stored once and read once, element for element, is computed where it is read instead
 * (fusion of producer and consumer: no store, no load, no buffer). The reader's comment spells the value out.
 *   - elementwise values (and broadcasts and parts of tensors, which read one element each) are inlined into
 *     elementwise readers, sums and batch-mean accumulations, and into a concat, which then computes each part in its
 *     place (an LSTM's four gate deltas straight into δz, with no buffer and no copy);
 *   - any value with one definition is inlined into the batch mean that is its only reader (so `d_W += δ ⊗ a`
 *     accumulates the product directly);
 *   - a comparison read only as the condition of selects is inlined into all of them.
 * Named scalars keep their local (`const y = w1 * x` reads like the equation), and a value is never moved
 * into a loop that runs more often than its own (from before the batch loop into it, or into a loop whose
 * variables it does not depend on).
 *
 * Order: the value inlined next is always the first one, in the order of the statements defining them, that
 * may be inlined. The body is analysed once; after each inlining only the values whose reads or definition it
 * touched (those read by the removed definition or by its readers, and those the readers write) are checked
 * again, in that order, from a queue. So the pass costs one walk of the body plus, per inlining, the size of
 * the statements it rewrites: linear in the body, where analysing the whole body again after each inlining
 * was quadratic.
 */
import { type MathExpr, substitute } from "../../ir/math.ts";
import { isElementwise } from "../../ir/ops.ts";
import type { Node } from "../../ir/node.ts";
import { type Buffer, type Expr, type Index, type Local, type Stmt, type Var, substituteIndex, varIndex } from "../kernel.ts";
import { mapExpr, visitExpr } from "../walk.ts";

type Value = Buffer | Local;
type Loop = Extract<Stmt, { k: "loop" }>;
type NoteStmt = Extract<Stmt, { k: "note" }>;

interface Read {
  readonly site: Site;
  /** Index of the element read (loads), or undefined (locals). */
  readonly index?: Index;
  /** Variables of the `sum`s around the read, innermost last. */
  readonly sumVars: readonly Var[];
}

/** One statement of the body: where it stands, and its current form (rewritten as values are inlined into it). */
interface Site {
  stmt: Stmt;
  removed: boolean;
  /** Position in the body, statements numbered in order (a loop before its body). */
  readonly pos: number;
  /** Enclosing loops, outermost first. */
  readonly loops: readonly Loop[];
  readonly conditional: boolean;
}

/**
 * The passes run more than once on the same kernel IR (for the TypeScript build, again with less unrolling when
 * its code is too large, and for the WebAssembly build), and inlining comes first: its result is kept per body,
 * with the answers `isRoot` gave, and reused while `isRoot` gives the same answers.
 */
const done = new WeakMap<readonly Stmt[], { readonly asked: ReadonlyMap<Node, boolean>; readonly result: readonly Stmt[] }>();

export function inline(body: readonly Stmt[], isRoot: (n: Node) => boolean): Stmt[] {
  const before = done.get(body);
  if (before && [...before.asked].every(([n, root]) => isRoot(n) === root)) return [...before.result];
  const asked = new Map<Node, boolean>();
  const result = inlineAll(body, (n) => {
    const root = isRoot(n);
    asked.set(n, root);
    return root;
  });
  done.set(body, { asked, result });
  return [...result];
}

function inlineAll(body: readonly Stmt[], isRoot: (n: Node) => boolean): Stmt[] {
  const analysis = new Analysis(body);
  const queue = new ValueQueue([...analysis.writes.keys()]);
  for (let value = queue.pop(); value !== undefined; value = queue.pop()) {
    const found = findInlining(analysis, value, isRoot);
    if (found) for (const touched of analysis.apply(value, found)) queue.push(touched);
  }
  return analysis.body(body);
}

// ---- analysis ------------------------------------------------------------------------------------------

/** Who writes and who reads each value, kept up to date as values are inlined. */
class Analysis {
  /** Every statement, in order (`pos`). */
  readonly sites: Site[] = [];
  /** The statements writing each value, in order (the map's order: that of each value's first write). */
  readonly writes = new Map<Value, Site[]>();
  /** The reads of each value, by statement (each statement's reads in the order of its expression). */
  private readonly reads = new Map<Value, Map<Site, Read[]>>();
  private readonly readCounts = new Map<Value, number>();
  /** The comments about each node, in order. */
  private readonly notes = new Map<Node, Site[]>();

  constructor(body: readonly Stmt[]) {
    this.visit(body, [], false);
  }

  private visit(stmts: readonly Stmt[], loops: readonly Loop[], conditional: boolean): void {
    for (const stmt of stmts) {
      const site: Site = { stmt, removed: false, pos: this.sites.length, loops, conditional };
      this.sites.push(site);
      const written = writtenValue(stmt);
      if (written) pushTo(this.writes, written, site);
      this.addReads(site);
      if (stmt.k === "note" && stmt.node) pushTo(this.notes, stmt.node, site);
      if (stmt.k === "loop") this.visit(stmt.body, [...loops, stmt], conditional);
      else if (stmt.k === "ifBatch") this.visit(stmt.body, loops, true);
    }
  }

  readCount(value: Value): number {
    return this.readCounts.get(value) ?? 0;
  }

  /** The reads of `value`, in the order of the body. */
  readsOf(value: Value): Read[] {
    const bySite = this.reads.get(value);
    if (!bySite) return [];
    if (bySite.size === 1) return [...bySite.values()][0];
    return [...bySite].sort(([a], [b]) => a.pos - b.pos).flatMap(([, reads]) => reads);
  }

  /** Records the reads of a site's statement; returns the values read. */
  private addReads(site: Site): Value[] {
    const values: Value[] = [];
    for (const [value, read] of readsIn(site)) {
      let bySite = this.reads.get(value);
      if (!bySite) this.reads.set(value, (bySite = new Map()));
      const list = bySite.get(site);
      if (list) list.push(read);
      else bySite.set(site, [read]);
      this.readCounts.set(value, this.readCount(value) + 1);
      values.push(value);
    }
    return values;
  }

  /** Forgets the reads of a site's statement; returns the values it read. */
  private forgetReads(site: Site): Value[] {
    const values: Value[] = [];
    for (const [value] of readsIn(site)) {
      const bySite = this.reads.get(value);
      const list = bySite?.get(site);
      if (!bySite || !list) continue;
      bySite.delete(site);
      this.readCounts.set(value, this.readCount(value) - list.length);
      values.push(value);
    }
    return values;
  }

  /**
   * Carries out an inlining: the definition goes (with the comments about its node), each reader takes its
   * new form, and the readers' comments spell the value out. Returns the values whose reads or definitions
   * changed, which may now be inlined (or no longer).
   */
  apply(value: Value, inlining: Inlining): Set<Value> {
    const { def, replace } = inlining;
    const touched = new Set<Value>(this.forgetReads(def));
    def.removed = true;
    this.writes.delete(value);
    this.reads.delete(value);
    this.readCounts.delete(value);
    const removedNode = definedNode(def.stmt);
    const removedRhs = this.removeNotes(removedNode);
    const readers = new Set<Node>([...replace.keys()].flatMap((site) => readerNode(site.stmt) ?? []));
    for (const [site, stmt] of replace) {
      if (site === def) continue;
      for (const v of this.forgetReads(site)) touched.add(v);
      const written = writtenValue(site.stmt);
      if (written) touched.add(written);
      site.stmt = stmt;
      for (const v of this.addReads(site)) touched.add(v);
    }
    for (const reader of readers) this.spellOut(reader, removedNode, removedRhs);
    touched.delete(value);
    return touched;
  }

  /** Removes the comments about `node`; returns the last one's formula (what the readers' comments substitute). */
  private removeNotes(node: Node | undefined): MathExpr | null {
    const live = (node && this.notes.get(node)?.filter((s) => !s.removed)) ?? [];
    for (const s of live) s.removed = true;
    return live.length > 0 ? (live[live.length - 1].stmt as NoteStmt).note.rhs : null;
  }

  /** The comments about a reader, with the removed definition's node replaced by its formula. */
  private spellOut(reader: Node, removed: Node | undefined, formula: MathExpr | null): void {
    for (const site of this.notes.get(reader) ?? []) {
      const s = site.stmt as NoteStmt;
      if (site.removed || !s.note.rhs) continue;
      const rhs = removed && formula ? substitute(s.note.rhs, removed, formula) : s.note.rhs;
      site.stmt = { ...s, note: { ...s.note, rhs } };
    }
  }

  /** The body as it now stands. */
  body(original: readonly Stmt[]): Stmt[] {
    let pos = 0;
    const rebuild = (stmts: readonly Stmt[]): Stmt[] => {
      const out: Stmt[] = [];
      for (const s of stmts) {
        const site = this.sites[pos++];
        if (s.k === "loop" || s.k === "ifBatch") out.push({ ...s, body: rebuild(s.body) });
        else if (!site.removed) out.push(site.stmt);
      }
      return out;
    };
    return rebuild(original);
  }
}

function pushTo<K, T>(map: Map<K, T[]>, key: K, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

/** The value a statement writes, if any. */
function writtenValue(s: Stmt): Value | undefined {
  switch (s.k) {
    case "store":
    case "fill":
      return s.buf;
    case "let":
    case "update":
      return s.local;
    case "contract":
      return s.c.out.buf;
    default:
      return undefined;
  }
}

/** The values a site's statement reads (not those of nested statements), with where and how, in order. */
function readsIn(site: Site): [Value, Read][] {
  const out: [Value, Read][] = [];
  const readsOf = (e: Expr) => {
    const walk = (x: Expr, sumVars: readonly Var[]): void => {
      if (x.k === "load") out.push([x.buf, { site, index: x.index, sumVars }]);
      else if (x.k === "get") out.push([x.local, { site, sumVars }]);
      else if (x.k === "op") x.args.forEach((a) => walk(a, sumVars));
      else if (x.k === "sum") walk(x.term, [...sumVars, x.v]);
    };
    walk(e, []);
  };
  const stmt = site.stmt;
  switch (stmt.k) {
    case "store":
      if (stmt.mode !== "=") out.push([stmt.buf, { site, index: stmt.index, sumVars: [] }]);
      readsOf(stmt.value);
      break;
    case "let":
    case "update":
      if (stmt.k === "update") out.push([stmt.local, { site, sumVars: [] }]);
      readsOf(stmt.value);
      break;
    case "return":
      readsOf(stmt.value);
      break;
    case "contract":
      // a contraction reads whole rows: its operands are never inlined
      for (const a of [stmt.c.a, stmt.c.b, ...(stmt.c.mode === "+=" ? [stmt.c.out] : [])]) out.push([a.buf, { site, sumVars: [] }]);
      if (stmt.c.scale) readsOf(stmt.c.scale);
      break;
    default:
      break;
  }
  return out;
}

/** Values waiting to be checked, taken in the order of their first write: a binary heap of those ranks. */
class ValueQueue {
  private readonly rank = new Map<Value, number>();
  private readonly queued: boolean[];
  private readonly heap: number[] = [];

  constructor(private readonly order: readonly Value[]) {
    order.forEach((v, i) => this.rank.set(v, i));
    this.queued = order.map(() => false);
    for (const v of order) this.push(v);
  }

  push(value: Value): void {
    const r = this.rank.get(value);
    if (r === undefined || this.queued[r]) return;
    this.queued[r] = true;
    const heap = this.heap;
    let i = heap.push(r) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= r) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = r;
  }

  pop(): Value | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop() as number;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const child = l + 1 < heap.length && heap[l + 1] < heap[l] ? l + 1 : l;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    this.queued[top] = false;
    return this.order[top];
  }
}

// ---- deciding ------------------------------------------------------------------------------------------

interface Inlining {
  /** The definition, removed with its comment. */
  readonly def: Site;
  /** The readers' new statements. */
  readonly replace: ReadonlyMap<Site, Stmt>;
}

function findInlining(a: Analysis, value: Value, isRoot: (n: Node) => boolean): Inlining | undefined {
  const defs = a.writes.get(value);
  if (!defs || defs.length !== 1) return undefined;
  const def = defs[0];
  const node = definedNode(def.stmt);
  if (!node || isRoot(node) || def.conditional) return undefined;
  if ("role" in value && value.role !== "work") return undefined;
  const count = a.readCount(value);
  // only a comparison is inlined into several readers (see multiUse below)
  if (count === 0 || (count > 1 && node.op !== "gt")) return undefined;
  const reads = a.readsOf(value);
  // a named scalar keeps its local, unless all it does is go into a batch mean (the mean is named after it)
  const reader = reads.length === 1 ? readerNode(reads[0].site.stmt) : undefined;
  const intoMean = reader?.op === "batchMean" && reader.inputs[0] === node;
  if (!("role" in value) && value.named && node.shape.every((d) => d === 1) && !intoMean) return undefined;
  const multiUse = node.op === "gt" && reads.every((r) => readerNode(r.site.stmt)?.op === "select");
  if (reads.length > 1 && !multiUse) return undefined;
  const plans = reads.map((r) => readPlan(def, r, node));
  if (plans.some((p) => p === undefined)) return undefined;
  if (reads.some((r) => changedBetween(a, def, r.site))) return undefined;
  const replace = new Map<Site, Stmt>();
  for (const [k, r] of reads.entries()) {
    const mapping = plans[k] as Map<Var, Var>;
    const by = renameVars(definitionValue(def.stmt), mapping);
    const stmt = replace.get(r.site) ?? r.site.stmt;
    replace.set(r.site, replaceRead(stmt, value, by));
  }
  return { def, replace };
}

function definedNode(s: Stmt): Node | undefined {
  if (s.k === "store" && s.mode === "=") return s.node;
  if (s.k === "let" && !s.mutable) return s.node;
  return undefined;
}

function definitionValue(s: Stmt): Expr {
  if (s.k !== "store" && s.k !== "let") throw new Error("internal: not a definition");
  return s.value;
}

function readerNode(s: Stmt): Node | undefined {
  return s.k === "store" || s.k === "let" || s.k === "update" ? s.node : undefined;
}

/**
 * How the definition's loop variables map onto the reader's, when the reader reads each element exactly once
 * in the same batch scope and its op may take the value in place; undefined when it may not.
 */
function readPlan(def: Site, read: Read, node: Node): Map<Var, Var> | undefined {
  const reader = readerNode(read.site.stmt);
  if (!reader || read.site.conditional || read.site.pos < def.pos) return undefined;
  // the batch mean of a value takes it in place whatever its op; other readers take elementwise values
  // as a sum over a recurrence's steps does, and a concat each of its parts
  const meanOfIt = (reader.op === "batchMean" || reader.op === "loopSum") && reader.inputs[0] === node;
  const elementwiseInto = readsOneElement(node) && (isElementwise(reader.op) || reader.op === "concat" || reader.op === "sum" || reader.op === "batchMean" || reader.op === "loopSum");
  if (!meanOfIt && !elementwiseInto) return undefined;
  if (sampleLoop(def) !== sampleLoop(read.site)) return undefined;
  // a value of a recurrence's step is read in the same step: the stored sequence of another loop is not the value
  if (!sameTimeLoops(def, read.site)) return undefined;
  const defVars = elementVars(def);
  const readVars = [...elementVars(read.site), ...read.sumVars];
  if (read.index === undefined) return defVars.length === 0 && readVars.length === 0 ? new Map() : undefined;
  const defIndex = (def.stmt as Extract<Stmt, { k: "store" }>).index;
  return matchIndices(defIndex, defVars, read.index, readVars, stepVars(def));
}

/** Values whose every element is computed from one element of each operand: elementwise ops, broadcasts, parts and views. */
function readsOneElement(n: Node): boolean {
  return isElementwise(n.op) || n.op === "expand" || n.op === "slice" || n.op === "view";
}

/** The loop over the samples around a site, if any. */
function sampleLoop(site: Site): Stmt | undefined {
  return site.loops.find((l) => l.kind === "samples");
}

/** Variables of the element loops around a site: inside the sample loop, not those of a recurrence's steps. */
function elementVars(site: Site): Var[] {
  return site.loops.filter((l) => l.kind !== "samples" && l.kind !== "time").map((l) => l.v);
}

/** The loops over a recurrence's steps around a site. */
const stepLoops = (site: Site) => site.loops.filter((l) => l.kind === "time");
const stepVars = (site: Site) => stepLoops(site).map((l) => l.v);

/** Whether two sites run in the same loops over a recurrence's steps. */
function sameTimeLoops(a: Site, b: Site): boolean {
  const [x, y] = [stepLoops(a), stepLoops(b)];
  return x.length === y.length && x.every((l, i) => l === y[i]);
}

/**
 * A one-to-one map of the definition's variables onto the reader's: same constant, same batch term, and each
 * variable matched by the one with the same coefficient and trip count. Every reader variable must appear, or
 * the reader would read one element several times.
 */
function matchIndices(def: Index, defVars: readonly Var[], read: Index, readVars: readonly Var[], fixed: readonly Var[] = []): Map<Var, Var> | undefined {
  if (def.c !== read.c) return undefined;
  // the sample and a recurrence's step are the same on both sides (checked by the caller): their terms must match exactly
  const isSample = (v: Var) => v.extent === "batch" || fixed.includes(v);
  const defSample = def.terms.filter((t) => isSample(t.v));
  const readSample = read.terms.filter((t) => isSample(t.v));
  if (defSample.length !== readSample.length || defSample.some((t, i) => t.k !== readSample[i].k || t.v !== readSample[i].v)) return undefined;
  const defTerms = def.terms.filter((t) => !isSample(t.v));
  const readTerms = read.terms.filter((t) => !isSample(t.v));
  if (defTerms.length !== defVars.length || readTerms.length !== readVars.length || defTerms.length !== readTerms.length) return undefined;
  const mapping = new Map<Var, Var>();
  for (const t of defTerms) {
    const match = readTerms.find((u) => u.k === t.k && u.v.extent === t.v.extent && ![...mapping.values()].includes(u.v));
    if (!match || !readVars.includes(match.v) || !defVars.includes(t.v)) return undefined;
    mapping.set(t.v, match.v);
  }
  return mapping;
}

/** Whether something the definition reads is written between it and the read. */
function changedBetween(a: Analysis, def: Site, read: Site): boolean {
  const operands = new Set<Value>();
  visitExpr(definitionValue(def.stmt), (x) => {
    if (x.k === "load") operands.add(x.buf);
    else if (x.k === "get") operands.add(x.local);
  });
  for (const value of operands) {
    for (const w of a.writes.get(value) ?? []) if (w.pos > def.pos && w.pos < read.pos) return true;
  }
  return false;
}

// ---- rewriting -----------------------------------------------------------------------------------------

function renameVars(e: Expr, mapping: ReadonlyMap<Var, Var>): Expr {
  if (mapping.size === 0) return e;
  const rename = (index: Index) => [...mapping].reduce((acc, [from, to]) => substituteIndex(acc, from, varIndex(to)), index);
  // substituting one variable at a time is safe: definition and reader variables are distinct objects
  return mapExpr(e, (x) => (x.k === "load" ? { ...x, index: rename(x.index) } : x));
}

function replaceRead(s: Stmt, value: Value, by: Expr): Stmt {
  const swap = (e: Expr) => mapExpr(e, (x) => ((x.k === "load" && x.buf === value) || (x.k === "get" && x.local === value) ? by : x));
  switch (s.k) {
    case "store":
    case "let":
    case "update":
      return { ...s, value: swap(s.value) };
    default:
      throw new Error(`internal: cannot inline into a ${s.k}`);
  }
}
