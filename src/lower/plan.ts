/**
 * Scheduling one generated function on the DAG, before it becomes kernel IR. The batch is processed in stages,
 * each ended by a batch barrier (the batch means its loops accumulate):
 *   pre   — values of the parameters alone (computed once, before any sample),
 *   stage — per-sample values, forward and backward, with the batch means that read them accumulated;
 *   after its barrier — those means finished (1/batch applied once), then the values of the batch as a whole
 *           that depend on them: the objective and gradient roots after the last stage, or, mid-network,
 *           statistics such as a batch norm's mean and variance, which the next stage's loops read as they read
 *           the parameters.
 * A function whose only batch means are its results (J, the gradients) has one stage. A value's stage is the
 * number of barriers it waits for: a per-sample value runs in the loops of the latest stage among its
 * operands', a batch mean of a value of stage k is finished at the barrier ending stage k.
 *
 * Each stage's loop work is a list of segments: loops over the samples running per-sample code, and batched
 * dense-layer contractions between them. A value read in another segment than its own (a later stage's
 * included) is stored one row per sample ("rows", buffers grown with the batch); other values live per sample:
 * scalars in locals, tensors in workspace buffers. Roots go straight into `grads` or `out`; transposes feeding
 * only products, and reshapes (views that keep the row-major order), are read through. Every other value is
 * stored here; which ones need no storage is decided on the kernel IR (passes/inline.ts).
 *
 * Cost of a barrier: one more pass over what the next stage reads of the earlier one (its rows). A builder
 * writing a batch variance should take it in one barrier, from moments accumulated in the same stage:
 *   mu = batchMean(x), m2 = batchMean((x − c)²), var = m2 − (mu − c)²
 * with c a shift known before the stage (a parameter, or any value of an earlier stage): with c = 0 this is
 * E[x²] − E[x]², which loses digits when |mean| ≫ std, and the shift keeps them. Batch norm then takes one
 * barrier forward and one more in the reverse sweep (three stages in the gradient: its input is stored one
 * row per sample forward, one delta backward); equations write it batch_var(x, c). Written as
 * batchMean((x − batchMean(x))²), as batch_var(x) is, the variance takes two barriers, and the reverse sweep
 * two more (five stages). Both are scheduled correctly.
 */
import { isIdentityView, parseView } from "../ir/axes.ts";
import { type Node, reachable, recurrenceOf, sizeOf } from "../ir/node.ts";
import { isElementwise } from "../ir/ops.ts";
import { DENSE_MIN_WEIGHTS, type DenseCall, denseCall, isMatrixProduct, rowOperands } from "./dense.ts";
import { type RecurrenceUnit, isCellRead, recurrenceUnits, withUnitsTogether } from "./recurrences.ts";

export type Phase = "pre" | "loop" | "post";

export type Storage =
  | { kind: "local" }
  | { kind: "buffer" }
  | { kind: "rows" }
  | { kind: "region"; array: "grads" | "out"; offset: number };

/** One piece of a batched recurrence's step: a sample loop over cell values, a dense product, or a weight gradient's step. */
export type CellSegment =
  | { kind: "samples"; nodes: readonly Node[] }
  | { kind: "dense"; call: DenseCall }
  /** mean over the batch of one step's δ ⊗ a (`call.node` the outer product, never stored), added into `mean` by its kernel */
  | { kind: "weightGradient"; call: Extract<DenseCall, { kind: "denseWeightGradient" }>; sum: Node; mean: Node };

/**
 * A recurrence whose cell has dense products runs across the batch: its loop over the steps outside, each step's
 * products as batched kernels for every sample at once and its other values in sample loops between them.
 */
export interface BatchedRecurrence {
  readonly kind: "recurrence";
  readonly unit: RecurrenceUnit;
  readonly cell: readonly CellSegment[];
}

export type Segment = { kind: "samples"; nodes: readonly Node[] } | { kind: "dense"; call: DenseCall } | BatchedRecurrence;

/** The values a segment computes. */
export function segmentNodes(seg: Segment): readonly Node[] {
  if (seg.kind === "dense") return [seg.call.node];
  return seg.kind === "recurrence" ? [...seg.unit.cell, ...seg.unit.outputs] : seg.nodes;
}

/** The loop work up to one batch barrier, and what follows the barrier. */
export interface Stage {
  /** Sample loops and dense contractions: the stage's per-sample values and the accumulations of `means`. */
  readonly segments: readonly Segment[];
  /** Batch means accumulated in this stage, finished at its barrier. */
  readonly means: readonly Node[];
  /** Values of the batch as a whole computed after the barrier, from the finished means (in a valid order). */
  readonly after: readonly Node[];
}

export interface FunctionPlan {
  readonly roots: readonly Node[];
  /** Non-leaf nodes that are computed and stored, in a valid order. */
  readonly computed: readonly Node[];
  /**
   * pre: before any sample (the parameters' values); loop: per sample, in a stage's loops; post: after a
   * barrier (batch means and what depends on them).
   */
  readonly phase: ReadonlyMap<Node, Phase>;
  /** The stages in order; one when the batch means are only the function's results. */
  readonly stages: readonly Stage[];
  /** Every stage's segments, in order. */
  readonly segments: readonly Segment[];
  /** Transposes and reshapes that are read through (never stored). */
  readonly views: ReadonlySet<Node>;
  readonly storage: ReadonlyMap<Node, Storage>;
  /** The readers of each node in this function. */
  readonly users: (n: Node) => readonly Node[];
  /** Nodes with a user-facing name (an equation, a layer value, a delta) worth keeping as a local. */
  readonly named: (n: Node) => boolean;
  /**
   * Batch means that accumulate in the storage of their only reader, an elementwise root written to
   * `grads` (e.g. dW = mean(δ aᵀ) + λW): the reader applies the 1/batch as it overwrites them in place.
   */
  readonly sharesReaderStorage: ReadonlySet<Node>;
  /** The recurrence each of its cell's values and outputs belongs to (lower/recurrences.ts). */
  readonly units: ReadonlyMap<Node, RecurrenceUnit>;
  /**
   * Sums over a recurrence's steps whose only reader is a batch mean (a shared weight's gradient): each step
   * adds straight into the mean's accumulator, which then needs no per-sample addition of its own.
   */
  readonly sumsIntoMeans: ReadonlyMap<Node, Node>;
  /** Per-sample products of two matrices that run as register-tiled contractions in the sample loop (dense.ts isMatrixProduct). */
  readonly products: ReadonlySet<Node>;
  /**
   * Of those, the ones whose only reader is a batch mean (a filter's gradient, mean over the batch of windowsᵀ·δ):
   * each sample's product is added straight into the mean's accumulator, and never stored.
   */
  readonly productsIntoMeans: ReadonlyMap<Node, Node>;
}

const isLeaf = (n: Node) => n.inputs.length === 0;

export function planFunction(roots: readonly Node[], rootStorage: ReadonlyMap<Node, Storage>, named: (n: Node) => boolean = () => false): FunctionPlan {
  const nodes = reachable(roots).sort((a, b) => a.id - b.id);
  const units = recurrenceUnits(nodes);
  const consumers = consumerMap(nodes);
  const users = (n: Node) => consumers.get(n) ?? [];
  const level = barriersBefore(nodes, units);
  const phase = phases(nodes, level);
  const rootSet = new Set(roots);
  // a recurrence's products run inside its loop over the steps, one sample at a time
  const inCell = (n: Node) => units.has(n) || n.loop !== undefined;
  const dense = new Map(nodes.flatMap((n) => ((call) => (call && !inCell(n) ? [[n, call] as const] : []))(denseCall(n, users))));
  const batched = batchedRecurrences(units, users);
  const absorbed = new Set([...dense.values()].flatMap((c) => (c.kind === "denseWeightGradient" ? [c.outer] : [])));
  const kernelOperands = new Set([...dense.values()].flatMap(rowOperands));
  // a parameter's transpose on the right of a per-sample matrix product (δ·Kᵀ, a convolution's delta to its windows)
  // is stored once before the samples: the product then runs along its contiguous rows (the axpy form, SIMD along the
  // output) instead of reducing short rows lane by lane
  const storedOnce = (n: Node) => phase.get(n) === "pre" && users(n).some((c) => isMatrixProduct(c) && c.inputs[1] === n);
  const transposes = new Set(nodes.filter((n) => n.op === "transpose" && !rootSet.has(n) && users(n).every((c) => c.op === "matmul") && !storedOnce(n)));
  const views = new Set([...transposes, ...nodes.filter((n) => isReshape(n) && !rootSet.has(n) && !kernelOperands.has(n) && !transposes.has(n.inputs[0]))]);
  const computed = withUnitsTogether(
    nodes.filter((n) => !isLeaf(n) && !isCellRead(n) && !views.has(n) && !absorbed.has(n)),
    units,
  );
  const stages = stagesOf(computed, sinkToReaders(computed, level, users, (n) => rootSet.has(n) || views.has(n) || dense.has(n) || units.has(n)), dense, batched);
  const segments = stages.flatMap((s) => s.segments);
  const rows = rowsStored(segments, computed, kernelOperands, users, views, units);
  // a batched recurrence's values pass between its sample loops and kernels, one row per sample (its weight-gradient
  // products are never stored: their kernels add into the gradients), and so do its carries
  const products = new Set([...batched.values()].flatMap((b) => b.cell.flatMap((c) => (c.kind === "weightGradient" ? [c.call.node] : []))));
  for (const b of new Set(batched.values())) for (const n of [...b.unit.cell, ...b.unit.recurrence.carries.map((c) => c.leaf)]) if (!products.has(n)) rows.add(n);
  const storage = new Map<Node, Storage>();
  const carryLeaves = [...new Set(units.values())].flatMap((u) => u.recurrence.carries.map((c) => c.leaf));
  for (const n of [...computed, ...carryLeaves]) {
    // a stack is written step by step inside its loop, and read after it: never a local of the loop's body; a
    // carry is written before the loop and at the end of every step
    const kind = rows.has(n) ? "rows" : n.op === "carry" ? "buffer" : sizeOf(n.shape) === 1 && n.op !== "stack" ? "local" : "buffer";
    storage.set(n, rootStorage.get(n) ?? { kind });
  }
  const sharesReaderStorage = new Set<Node>();
  // one region holds one value: of the batch means a reader reads, at most one may accumulate in its storage
  const readersShared = new Set<Node>();
  for (const n of computed) {
    const [reader] = users(n);
    const readerStorage = reader && rootStorage.get(reader);
    if (
      n.op === "batchMean" &&
      !rootSet.has(n) &&
      users(n).length === 1 &&
      isElementwise(reader.op) &&
      readerStorage?.kind === "region" &&
      sizeOf(n.shape) > 1 &&
      !readersShared.has(reader) &&
      reader.inputs.filter((i) => i === n).length === 1
    ) {
      storage.set(n, readerStorage);
      sharesReaderStorage.add(n);
      readersShared.add(reader);
    }
  }
  const sumsIntoMeans = new Map<Node, Node>();
  for (const n of computed) {
    const [reader] = users(n);
    if (n.op === "loopSum" && !rootSet.has(n) && users(n).length === 1 && reader.op === "batchMean" && !sharesReaderStorage.has(reader)) sumsIntoMeans.set(n, reader);
  }
  const matrixProducts = new Set(computed.filter((n) => isMatrixProduct(n) && !inCell(n) && !dense.has(n)));
  const productsIntoMeans = new Map<Node, Node>();
  for (const n of matrixProducts) {
    const [reader] = users(n);
    if (!rootSet.has(n) && users(n).length === 1 && reader.op === "batchMean") productsIntoMeans.set(n, reader);
  }
  return { roots, computed, phase, stages, segments, views, storage, users, named, sharesReaderStorage, units, sumsIntoMeans, products: matrixProducts, productsIntoMeans };
}

/**
 * The recurrences to run across the batch (their cell has a dense product), keyed by member, with each step
 * cut into sample loops and batched kernels.
 */
function batchedRecurrences(units: ReadonlyMap<Node, RecurrenceUnit>, users: (n: Node) => readonly Node[]): Map<Node, BatchedRecurrence> {
  const out = new Map<Node, BatchedRecurrence>();
  for (const unit of new Set(units.values())) {
    const cell = cellSegments(unit, users);
    if (!cell.some((c) => c.kind !== "samples")) continue;
    const batched: BatchedRecurrence = { kind: "recurrence", unit, cell };
    for (const m of [...unit.cell, ...unit.outputs]) out.set(m, batched);
  }
  return out;
}

/** A recurrence's cell in order, cut around its dense products and its weight gradients' outer products. */
function cellSegments(unit: RecurrenceUnit, users: (n: Node) => readonly Node[]): CellSegment[] {
  return cutAround<CellSegment>(unit.cell, (n) => {
    const call = denseCall(n, users);
    return call && call.kind !== "denseWeightGradient" ? { kind: "dense", call } : weightGradientStep(n, users);
  });
}

/**
 * `nodes` in order, cut into sample loops around the pieces `piece` gives (kernels, a batched recurrence): a piece
 * that several nodes give (a recurrence's members, which stand together) comes once.
 */
function cutAround<P extends object>(nodes: readonly Node[], piece: (n: Node) => P | undefined): ({ kind: "samples"; nodes: readonly Node[] } | P)[] {
  const out: ({ kind: "samples"; nodes: readonly Node[] } | P)[] = [];
  const placed = new Set<P>();
  let current: Node[] = [];
  for (const n of nodes) {
    const p = piece(n);
    if (!p) {
      current.push(n);
      continue;
    }
    if (placed.has(p)) continue;
    placed.add(p);
    if (current.length > 0) out.push({ kind: "samples", nodes: current });
    out.push(p);
    current = [];
  }
  if (current.length > 0) out.push({ kind: "samples", nodes: current });
  return out;
}

/** An outer product δ ⊗ a of a cell whose only reader sums it over the steps into a batch mean (a weight's gradient). */
function weightGradientStep(n: Node, users: (n: Node) => readonly Node[]): Extract<CellSegment, { kind: "weightGradient" }> | undefined {
  if (n.op !== "outer" || users(n).length !== 1) return undefined;
  const sum = users(n)[0];
  const mean = users(sum)[0];
  if (sum.op !== "loopSum" || users(sum).length !== 1 || mean?.op !== "batchMean") return undefined;
  const [d, x] = n.inputs;
  if (d.shape.length !== 1 || x.shape.length !== 1 || d.shape[0] * x.shape[0] < DENSE_MIN_WEIGHTS) return undefined;
  return { kind: "weightGradient", call: { kind: "denseWeightGradient", node: n, outer: n, d, x, m: d.shape[0], k: x.shape[0] }, sum, mean };
}

/** A view that reads its operand's elements in their order (a reshape): element i is the operand's element i. */
function isReshape(n: Node): boolean {
  return n.op === "view" && isIdentityView(parseView(n.attr), n.shape, n.inputs[0].shape);
}

/** The readers of each node; a recurrence's carry reads its initial and next values. */
function consumerMap(nodes: readonly Node[]): Map<Node, Node[]> {
  const out = new Map<Node, Node[]>();
  const addReader = (i: Node, n: Node) => {
    const readers = out.get(i);
    if (!readers) out.set(i, [n]);
    else if (!readers.includes(n)) readers.push(n);
  };
  for (const n of nodes) {
    for (const i of new Set(n.inputs)) addReader(i, n);
    if (n.op === "carry") {
      const carry = recurrenceOf(n).carries.find((c) => c.leaf === n);
      if (carry) [carry.init, carry.next].forEach((i) => addReader(i, n));
    }
  }
  return out;
}

/**
 * The number of batch barriers each node waits for: a batch mean one more than its operand, any other node the
 * most of its operands. A per-sample value of level k runs in stage k; a value of the batch as a whole of level
 * k ≥ 1 after the k-th barrier.
 */
function barriersBefore(nodes: readonly Node[], units: ReadonlyMap<Node, RecurrenceUnit>): Map<Node, number> {
  const level = new Map<Node, number>();
  const unitsDone = new Set<RecurrenceUnit>();
  for (const n of nodes) {
    const unit = units.get(n);
    if (unit) {
      // a recurrence runs in one stage: the latest of what it reads (they all come before its first output)
      if (unitsDone.has(unit)) continue;
      unitsDone.add(unit);
      const most = unit.reads.reduce((m, i) => Math.max(m, level.get(i) ?? 0), 0);
      for (const m of [...unit.cell, ...unit.outputs]) level.set(m, most);
      continue;
    }
    const operands = n.inputs.reduce((most, i) => Math.max(most, level.get(i) ?? 0), 0);
    level.set(n, n.op === "batchMean" ? operands + 1 : operands);
  }
  return level;
}

/**
 * Stages after sinking: a per-sample value read only by later stages is computed in the first of them, when
 * its per-sample operands are stored one row per sample anyway (read in a later stage by another value), so
 * it needs no rows of its own and no new ones. (A batch norm's g ⊙ (x − μ), read after the variance's
 * barrier, is computed there from the rows of x − μ.) `fixed` values stay where they are.
 */
function sinkToReaders(computed: readonly Node[], level: ReadonlyMap<Node, number>, users: (n: Node) => readonly Node[], fixed: (n: Node) => boolean): Map<Node, number> {
  const stage = new Map(level);
  const stageOf = (n: Node) => stage.get(n) ?? 0;
  // a batch mean reads its operand in the stage its barrier ends
  const readIn = (reader: Node) => (reader.op === "batchMean" ? stageOf(reader) - 1 : stageOf(reader));
  const isComputed = new Set(computed);
  const storedAnyway = (operand: Node, reader: Node) =>
    !operand.batched || isLeaf(operand) || (isComputed.has(operand) && users(operand).some((u) => u !== reader && readIn(u) > stageOf(operand)));
  for (let k = computed.length - 1; k >= 0; k--) {
    const n = computed[k];
    if (!n.batched || n.op === "batchMean" || fixed(n) || users(n).length === 0) continue;
    const first = users(n).reduce((least, u) => Math.min(least, readIn(u)), Infinity);
    if (first > stageOf(n) && users(n).every(isComputed.has, isComputed) && n.inputs.every((i) => storedAnyway(i, n))) stage.set(n, first);
  }
  return stage;
}

function phases(nodes: readonly Node[], level: ReadonlyMap<Node, number>): Map<Node, Phase> {
  const phase = new Map<Node, Phase>();
  for (const n of nodes) phase.set(n, n.batched ? "loop" : (level.get(n) ?? 0) > 0 ? "post" : "pre");
  return phase;
}

/** Each stage's loop work (and batch-mean accumulations), and the values after its barrier. */
function stagesOf(computed: readonly Node[], stage: ReadonlyMap<Node, number>, dense: ReadonlyMap<Node, DenseCall>, batched: ReadonlyMap<Node, BatchedRecurrence>): Stage[] {
  const loopWork: Node[][] = [[]];
  const after: Node[][] = [[]];
  const at = (lists: Node[][], k: number): Node[] => {
    while (lists.length <= k) lists.push([]);
    return lists[k];
  };
  for (const n of computed) {
    const k = stage.get(n) ?? 0;
    // a batch mean accumulates in the loops of the stage its barrier ends
    if (n.op === "batchMean") at(loopWork, k - 1).push(n);
    else if (n.batched) at(loopWork, k).push(n);
    else if (k > 0) at(after, k - 1).push(n);
  }
  const count = Math.max(loopWork.length, after.length);
  return Array.from({ length: count }, (_, k): Stage => {
    const work = at(loopWork, k);
    return { segments: segment(work, dense, batched), means: work.filter((n) => n.op === "batchMean"), after: at(after, k) };
  });
}

/** One stage's loop work in order, cut into sample loops around the dense kernels. */
function segment(loopWork: readonly Node[], dense: ReadonlyMap<Node, DenseCall>, batched: ReadonlyMap<Node, BatchedRecurrence>): Segment[] {
  const segments = cutAround<Segment>(loopWork, (n) => {
    const call = dense.get(n);
    return batched.get(n) ?? (call ? { kind: "dense", call } : undefined);
  });
  // a stage without loop work still has its (empty) sample loop
  return segments.length > 0 ? segments : [{ kind: "samples", nodes: [] }];
}

/**
 * Loop values needed outside the segment that computes them: kernel results and operands, and cross-segment reads
 * (a view read through reads in its readers' segments).
 */
function rowsStored(
  segments: readonly Segment[],
  computed: readonly Node[],
  kernelOperands: ReadonlySet<Node>,
  users: (n: Node) => readonly Node[],
  views: ReadonlySet<Node>,
  units: ReadonlyMap<Node, RecurrenceUnit>,
): Set<Node> {
  const segmentOf = new Map<Node, number>();
  segments.forEach((s, k) => segmentNodes(s).forEach((n) => segmentOf.set(n, k)));
  // a recurrence's carries and steps read (its initial values, its sequences) where its loop runs
  for (const [member, unit] of units) {
    const k = segmentOf.get(member);
    if (k === undefined) continue;
    for (const c of unit.recurrence.carries) segmentOf.set(c.leaf, k);
    for (const n of unit.cell) for (const i of n.inputs) if (i.op === "step") segmentOf.set(i, k);
  }
  const rows = new Set<Node>();
  for (const n of computed) {
    const own = segmentOf.get(n);
    if (own === undefined || n.op === "batchMean") continue;
    const through = (u: Node): Node[] => (views.has(u) ? users(u).flatMap(through) : [u]);
    const readers = users(n)
      .flatMap(through)
      .flatMap((u) => (segmentOf.has(u) ? [segmentOf.get(u) as number] : []));
    if (segments[own].kind === "dense" || kernelOperands.has(n) || readers.some((k) => k !== own)) rows.add(n);
  }
  return rows;
}
