/**
 * Scheduling one generated function. The batch is a loop over samples:
 *   pre  — values of the parameters alone (computed once, before the loop),
 *   loop — per-sample values, forward and backward, with batch means accumulated,
 *   post — values after the batch means (1/batch applied once), e.g. the objective and gradient roots.
 * Single-use elementwise values (tensors, or unnamed scalars) are inlined into their consumer's loop (fusion), transposes feeding only
 * products are read through, everything else is stored: scalars in locals, tensors in workspace buffers
 * allocated once per module, and roots straight into the caller's `grads` or `out` arrays.
 */
import { type Node, sizeOf } from "../ir/node.ts";
import { isElementwise } from "../ir/ops.ts";
import { reachable } from "../autodiff/reverse.ts";

export type Phase = "pre" | "loop" | "post";

export type Storage =
  | { kind: "local" }
  | { kind: "buffer" }
  | { kind: "region"; array: "grads" | "out"; offset: number };

export interface FunctionPlan {
  /** Non-leaf nodes that are computed and stored, in a valid order. */
  readonly computed: readonly Node[];
  readonly phase: ReadonlyMap<Node, Phase>;
  readonly inlined: ReadonlySet<Node>;
  readonly views: ReadonlySet<Node>;
  readonly storage: ReadonlyMap<Node, Storage>;
  /** Per-sample values added straight into the accumulator of the batch mean that is their only use. */
  readonly accumulateInto: ReadonlyMap<Node, Node>;
  /**
   * Batch means that accumulate in the storage of their only reader, an elementwise root written to
   * `grads` (e.g. dW = mean(δ aᵀ) + λW): the reader applies the 1/batch as it overwrites them in place.
   */
  readonly sharesReaderStorage: ReadonlySet<Node>;
}

const isLeaf = (n: Node) => n.inputs.length === 0;

/** `named(n)`: the node has a user-facing name (an equation, a layer value, a delta) worth keeping as a local. */
export function planFunction(roots: readonly Node[], rootStorage: ReadonlyMap<Node, Storage>, named: (n: Node) => boolean = () => false): FunctionPlan {
  const nodes = reachable(roots).sort((a, b) => a.id - b.id);
  const consumers = consumerMap(nodes);
  const phase = phases(nodes);
  const rootSet = new Set(roots);
  const views = new Set(nodes.filter((n) => n.op === "transpose" && (consumers.get(n) ?? []).every((c) => c.op === "matmul") && !rootSet.has(n)));
  const inlined = new Set(nodes.filter((n) => !rootSet.has(n) && canInline(n, consumers.get(n) ?? [], phase, named(n))));
  const computed = nodes.filter((n) => !isLeaf(n) && !views.has(n) && !inlined.has(n));
  const accumulateInto = new Map<Node, Node>();
  for (const n of computed) {
    const users = consumers.get(n) ?? [];
    if (!rootSet.has(n) && n.batched && users.length === 1 && users[0].op === "batchMean") accumulateInto.set(n, users[0]);
  }
  const storage = new Map<Node, Storage>();
  for (const n of computed) {
    if (!accumulateInto.has(n)) storage.set(n, rootStorage.get(n) ?? (sizeOf(n.shape) === 1 ? { kind: "local" } : { kind: "buffer" }));
  }
  const sharesReaderStorage = new Set<Node>();
  for (const n of computed) {
    const users = consumers.get(n) ?? [];
    const reader = users[0];
    const readerStorage = reader && rootStorage.get(reader);
    if (n.op === "batchMean" && !rootSet.has(n) && users.length === 1 && isElementwise(reader.op) && readerStorage?.kind === "region" && sizeOf(n.shape) > 1) {
      storage.set(n, readerStorage);
      sharesReaderStorage.add(n);
    }
  }
  return { computed, phase, inlined, views, storage, accumulateInto, sharesReaderStorage };
}

function consumerMap(nodes: readonly Node[]): Map<Node, Node[]> {
  const out = new Map<Node, Node[]>();
  for (const n of nodes) for (const i of new Set(n.inputs)) out.set(i, [...(out.get(i) ?? []), n]);
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

/**
 * An elementwise value with one consumer that reads it element for element in the same phase is
 * computed inside that consumer's loop instead of being stored. A comparison feeding only selects is
 * always folded into them.
 */
function canInline(n: Node, users: readonly Node[], phase: ReadonlyMap<Node, Phase>, named: boolean): boolean {
  if (isLeaf(n) || !isElementwise(n.op)) return false;
  if (n.op === "gt" && users.length > 0 && users.every((u) => u.op === "select" && u.inputs[0] === n && !u.inputs.slice(1).includes(n))) return true;
  if (users.length !== 1 || (sizeOf(n.shape) === 1 && named)) return false;
  const [user] = users;
  // values of the parameters alone (pre) are still available after the loop (post)
  const samePhase =
    phase.get(user) === phase.get(n) ||
    (user.op === "batchMean" && phase.get(n) === "loop") ||
    (phase.get(user) === "post" && phase.get(n) === "pre");
  const readsElementwise = isElementwise(user.op) || user.op === "sum" || user.op === "batchMean";
  return samePhase && readsElementwise && user.inputs.filter((i) => i === n).length === 1;
}
