/**
 * Scheduling one generated function on the DAG, before it becomes kernel IR. The batch is processed in phases:
 *   pre  — values of the parameters alone (computed once, before any sample),
 *   loop — per-sample values, forward and backward, with batch means accumulated,
 *   post — values after the batch means (1/batch applied once): the objective and gradient roots.
 * The loop phase is a list of segments: loops over the samples running per-sample code, and batched
 * dense-layer contractions between them. A value read in another segment than its own is stored one row per
 * sample ("rows", buffers grown with the batch); other values live per sample: scalars in locals, tensors in
 * workspace buffers. Roots go straight into `grads` or `out`; transposes feeding only products, and reshapes
 * (views that keep the row-major order), are read through. Every other value is stored here; which ones need no storage is decided on the kernel IR
 * (passes/inline.ts).
 */
import { isIdentityView, parseView } from "../ir/axes.ts";
import { type Node, reachable, sizeOf } from "../ir/node.ts";
import { isElementwise } from "../ir/ops.ts";
import { type DenseCall, denseCall, rowOperands } from "./dense.ts";

export type Phase = "pre" | "loop" | "post";

export type Storage =
  | { kind: "local" }
  | { kind: "buffer" }
  | { kind: "rows" }
  | { kind: "region"; array: "grads" | "out"; offset: number };

export type Segment = { kind: "samples"; nodes: readonly Node[] } | { kind: "dense"; call: DenseCall };

export interface FunctionPlan {
  readonly roots: readonly Node[];
  /** Non-leaf nodes that are computed and stored, in a valid order. */
  readonly computed: readonly Node[];
  readonly phase: ReadonlyMap<Node, Phase>;
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
}

const isLeaf = (n: Node) => n.inputs.length === 0;

export function planFunction(roots: readonly Node[], rootStorage: ReadonlyMap<Node, Storage>, named: (n: Node) => boolean = () => false): FunctionPlan {
  const nodes = reachable(roots).sort((a, b) => a.id - b.id);
  const consumers = consumerMap(nodes);
  const users = (n: Node) => consumers.get(n) ?? [];
  const phase = phases(nodes);
  const rootSet = new Set(roots);
  const dense = new Map(nodes.flatMap((n) => ((call) => (call ? [[n, call] as const] : []))(denseCall(n, users))));
  const absorbed = new Set([...dense.values()].flatMap((c) => (c.kind === "denseWeightGradient" ? [c.outer] : [])));
  const kernelOperands = new Set([...dense.values()].flatMap(rowOperands));
  const transposes = new Set(nodes.filter((n) => n.op === "transpose" && !rootSet.has(n) && users(n).every((c) => c.op === "matmul")));
  const views = new Set([...transposes, ...nodes.filter((n) => isReshape(n) && !rootSet.has(n) && !kernelOperands.has(n) && !transposes.has(n.inputs[0]))]);
  const computed = nodes.filter((n) => !isLeaf(n) && !views.has(n) && !absorbed.has(n));
  const segments = segment(computed, phase, dense);
  const rows = rowsStored(segments, computed, kernelOperands, users, views);
  const storage = new Map<Node, Storage>();
  for (const n of computed) {
    const kind = rows.has(n) ? "rows" : sizeOf(n.shape) === 1 ? "local" : "buffer";
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
  return { roots, computed, phase, segments, views, storage, users, named, sharesReaderStorage };
}

/** A view that reads its operand's elements in their order (a reshape): element i is the operand's element i. */
function isReshape(n: Node): boolean {
  return n.op === "view" && isIdentityView(parseView(n.attr), n.shape, n.inputs[0].shape);
}

function consumerMap(nodes: readonly Node[]): Map<Node, Node[]> {
  const out = new Map<Node, Node[]>();
  for (const n of nodes) {
    for (const i of new Set(n.inputs)) {
      const readers = out.get(i);
      if (readers) readers.push(n);
      else out.set(i, [n]);
    }
  }
  return out;
}

function phases(nodes: readonly Node[]): Map<Node, Phase> {
  const phase = new Map<Node, Phase>();
  for (const n of nodes) {
    if (n.batched) phase.set(n, "loop");
    else if (n.op === "batchMean" || n.inputs.some((i) => phase.get(i) === "post")) phase.set(n, "post");
    else phase.set(n, "pre");
  }
  return phase;
}

/** Loop-phase work (and batch-mean accumulations) in order, cut into sample loops around the dense kernels. */
function segment(computed: readonly Node[], phase: ReadonlyMap<Node, Phase>, dense: ReadonlyMap<Node, DenseCall>): Segment[] {
  const segments: Segment[] = [];
  let current: Node[] = [];
  for (const n of computed) {
    if (phase.get(n) !== "loop" && n.op !== "batchMean") continue;
    const call = dense.get(n);
    if (!call) {
      current.push(n);
      continue;
    }
    if (current.length > 0) segments.push({ kind: "samples", nodes: current });
    segments.push({ kind: "dense", call });
    current = [];
  }
  if (current.length > 0 || segments.length === 0) segments.push({ kind: "samples", nodes: current });
  return segments;
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
): Set<Node> {
  const segmentOf = new Map<Node, number>();
  segments.forEach((s, k) => (s.kind === "dense" ? [s.call.node] : s.nodes).forEach((n) => segmentOf.set(n, k)));
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
