/**
 * Inlining: a value stored once and read once, element for element, is computed where it is read instead
 * (fusion of producer and consumer: no store, no load, no buffer). The reader's comment spells the value out.
 *   - elementwise values (and broadcasts and parts of tensors, which read one element each) are inlined into
 *     elementwise readers, sums and batch-mean accumulations;
 *   - any value with one definition is inlined into the batch mean that is its only reader (so `d_W += δ ⊗ a`
 *     accumulates the product directly);
 *   - a comparison read only as the condition of selects is inlined into all of them.
 * Named scalars keep their local (`const y = w1 * x` reads like the equation), and a value is never moved
 * into a loop that runs more often than its own (from before the batch loop into it, or into a loop whose
 * variables it does not depend on).
 */
import { substitute } from "../../ir/math.ts";
import { isElementwise } from "../../ir/ops.ts";
import type { Node } from "../../ir/node.ts";
import { type Buffer, type Expr, type Index, type Local, type Stmt, type Var, substituteIndex, varIndex } from "../kernel.ts";
import { mapExpr, visitExpr } from "../walk.ts";

type Value = Buffer | Local;

interface Read {
  readonly site: Site;
  /** Index of the element read (loads), or undefined (locals). */
  readonly index?: Index;
  /** Variables of the `sum`s around the read, innermost last. */
  readonly sumVars: readonly Var[];
}

interface Site {
  readonly stmt: Stmt;
  readonly pos: number;
  /** Enclosing loops, outermost first. */
  readonly loops: readonly Extract<Stmt, { k: "loop" }>[];
  readonly conditional: boolean;
}

interface Analysis {
  readonly writes: Map<Value, Site[]>;
  readonly reads: Map<Value, Read[]>;
  /** Values written (not only defined) at each position, for the check that operands stay unchanged. */
  readonly sites: readonly Site[];
}

export function inline(body: readonly Stmt[], isRoot: (n: Node) => boolean): Stmt[] {
  let current = [...body];
  for (;;) {
    const analysis = analyse(current);
    const done = findInlining(analysis, isRoot);
    if (!done) return current;
    current = rewrite(current, done.replace, done.remove);
  }
}

// ---- analysis ------------------------------------------------------------------------------------------

function analyse(body: readonly Stmt[]): Analysis {
  const writes = new Map<Value, Site[]>();
  const reads = new Map<Value, Read[]>();
  const sites: Site[] = [];
  const add = <T>(map: Map<Value, T[]>, key: Value, item: T) => map.set(key, [...(map.get(key) ?? []), item]);
  const readsOf = (e: Expr, site: Site) => {
    const walk = (x: Expr, sumVars: readonly Var[]): void => {
      if (x.k === "load") add(reads, x.buf, { site, index: x.index, sumVars });
      else if (x.k === "get") add(reads, x.local, { site, sumVars });
      else if (x.k === "op") x.args.forEach((a) => walk(a, sumVars));
      else if (x.k === "sum") walk(x.term, [...sumVars, x.v]);
    };
    walk(e, []);
  };
  const visit = (stmts: readonly Stmt[], loops: Site["loops"], conditional: boolean) => {
    for (const stmt of stmts) {
      const site: Site = { stmt, pos: sites.length, loops, conditional };
      sites.push(site);
      switch (stmt.k) {
        case "store":
          add(writes, stmt.buf, site);
          if (stmt.mode !== "=") add(reads, stmt.buf, { site, index: stmt.index, sumVars: [] });
          readsOf(stmt.value, site);
          break;
        case "let":
        case "update":
          add(writes, stmt.local, site);
          if (stmt.k === "update") add(reads, stmt.local, { site, sumVars: [] });
          readsOf(stmt.value, site);
          break;
        case "return":
          readsOf(stmt.value, site);
          break;
        case "fill":
          add(writes, stmt.buf, site);
          break;
        case "contract":
          add(writes, stmt.c.out.buf, site);
          // a contraction reads whole rows: its operands are never inlined
          for (const a of [stmt.c.a, stmt.c.b, ...(stmt.c.mode === "+=" ? [stmt.c.out] : [])]) add(reads, a.buf, { site, sumVars: [] });
          if (stmt.c.scale) readsOf(stmt.c.scale, site);
          break;
        case "loop":
          visit(stmt.body, [...loops, stmt], conditional);
          break;
        case "ifBatch":
          visit(stmt.body, loops, true);
          break;
        case "note":
          break;
      }
    }
  };
  visit(body, [], false);
  return { writes, reads, sites };
}

// ---- deciding ------------------------------------------------------------------------------------------

interface Inlining {
  /** Statements to replace (the readers) and to remove (the definition and its comment). */
  readonly replace: ReadonlyMap<Stmt, Stmt>;
  readonly remove: ReadonlySet<Stmt>;
}

function findInlining(a: Analysis, isRoot: (n: Node) => boolean): Inlining | undefined {
  for (const [value, defs] of a.writes) {
    if (defs.length !== 1) continue;
    const def = defs[0];
    const node = definedNode(def.stmt);
    if (!node || isRoot(node) || def.conditional) continue;
    if ("role" in value && value.role !== "work") continue;
    const reads = a.reads.get(value) ?? [];
    if (reads.length === 0) continue;
    // a named scalar keeps its local, unless all it does is go into a batch mean (the mean is named after it)
    const reader = reads.length === 1 ? readerNode(reads[0].site.stmt) : undefined;
    const intoMean = reader?.op === "batchMean" && reader.inputs[0] === node;
    if (!("role" in value) && value.named && node.shape.every((d) => d === 1) && !intoMean) continue;
    const multiUse = node.op === "gt" && reads.every((r) => readerNode(r.site.stmt)?.op === "select");
    if (reads.length > 1 && !multiUse) continue;
    const plans = reads.map((r) => readPlan(def, r, node));
    if (plans.some((p) => p === undefined)) continue;
    if (reads.some((r) => changedBetween(a, def, r.site))) continue;
    const replace = new Map<Stmt, Stmt>();
    for (const [k, r] of reads.entries()) {
      const mapping = plans[k] as Map<Var, Var>;
      const by = renameVars(definitionValue(def.stmt), mapping);
      const stmt = replace.get(r.site.stmt) ?? r.site.stmt;
      replace.set(r.site.stmt, replaceRead(stmt, value, by));
    }
    return { replace, remove: new Set([def.stmt]) };
  }
  return undefined;
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
  const meanOfIt = reader.op === "batchMean" && reader.inputs[0] === node;
  const elementwiseInto = readsOneElement(node) && (isElementwise(reader.op) || reader.op === "sum" || reader.op === "batchMean");
  if (!meanOfIt && !elementwiseInto) return undefined;
  if (sampleLoop(def) !== sampleLoop(read.site)) return undefined;
  const defVars = elementVars(def);
  const readVars = [...elementVars(read.site), ...read.sumVars];
  if (read.index === undefined) return defVars.length === 0 && readVars.length === 0 ? new Map() : undefined;
  const defIndex = (def.stmt as Extract<Stmt, { k: "store" }>).index;
  return matchIndices(defIndex, defVars, read.index, readVars);
}

/** Values whose every element is computed from one element of each operand: elementwise ops, broadcasts, parts and views. */
function readsOneElement(n: Node): boolean {
  return isElementwise(n.op) || n.op === "expand" || n.op === "slice" || n.op === "view";
}

/** The loop over the samples around a site, if any. */
function sampleLoop(site: Site): Stmt | undefined {
  return site.loops.find((l) => l.kind === "samples");
}

/** Variables of the loops inside the sample loop (or all loops, outside it). */
function elementVars(site: Site): Var[] {
  return site.loops.filter((l) => l.kind !== "samples").map((l) => l.v);
}

/**
 * A one-to-one map of the definition's variables onto the reader's: same constant, same batch term, and each
 * variable matched by the one with the same coefficient and trip count. Every reader variable must appear, or
 * the reader would read one element several times.
 */
function matchIndices(def: Index, defVars: readonly Var[], read: Index, readVars: readonly Var[]): Map<Var, Var> | undefined {
  if (def.c !== read.c) return undefined;
  const isSample = (v: Var) => v.extent === "batch";
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

/** The body with statements replaced or removed, and comments updated: the reader's spells out the value. */
function rewrite(body: readonly Stmt[], replace: ReadonlyMap<Stmt, Stmt>, remove: ReadonlySet<Stmt>): Stmt[] {
  const removedNodes = new Map<Node, Extract<Stmt, { k: "note" }>["note"]>();
  const notes = new Map<Node, Extract<Stmt, { k: "note" }>>();
  const collect = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.k === "note" && s.node) notes.set(s.node, s);
      if (s.k === "loop" || s.k === "ifBatch") collect(s.body);
    }
  };
  collect(body);
  for (const s of remove) {
    const n = definedNode(s);
    const note = n && notes.get(n);
    if (n && note) removedNodes.set(n, note.note);
  }
  const readers = new Set<Node>([...replace.keys()].flatMap((s) => readerNode(s) ?? []));
  const go = (stmts: readonly Stmt[]): Stmt[] =>
    stmts.flatMap((s): Stmt[] => {
      if (remove.has(s)) return [];
      if (s.k === "note" && s.node && removedNodes.has(s.node)) return [];
      if (s.k === "note" && s.node && readers.has(s.node) && s.note.rhs) {
        let rhs = s.note.rhs;
        for (const [n, note] of removedNodes) if (note.rhs) rhs = substitute(rhs, n, note.rhs);
        return [{ ...s, note: { ...s.note, rhs } }];
      }
      const replaced = replace.get(s) ?? s;
      if (replaced.k === "loop" || replaced.k === "ifBatch") return [{ ...replaced, body: go(replaced.body) }];
      return [replaced];
    });
  return go(body);
}
