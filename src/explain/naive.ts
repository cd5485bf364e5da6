/**
 * What the gradient would cost without sharing: each parameter's derivative evaluated on its own, as an
 * expression tree, where a value reached along several paths is recomputed once per path (as mathjs-style
 * symbolic differentiation, which clones subtrees, would). The tree size is counted, never built: each
 * node's tree cost is its own work plus the tree costs of its inputs, memoised per node.
 */
import type { Gradients } from "../autodiff/reverse.ts";
import type { Net } from "../ir/net.ts";
import { type Node, reachable } from "../ir/node.ts";
import { type OpCounts, stepCounts, timesComputed, work } from "../lower/stats.ts";

export interface NaiveOps {
  /** The forward pass (to the loss), computed once and shared by all parameters, as given. */
  readonly forward: OpCounts;
  /** Tree cost of each parameter's gradient, in parameter order (zero where J does not depend on it). */
  readonly perParam: readonly { readonly name: string; readonly ops: OpCounts }[];
  /** forward + Σ perParam. */
  readonly total: OpCounts;
}

/**
 * `forward`: the forward pass's count, e.g. countOps(plans.loss) of the emitted module. Counts are split as
 * countOps splits them: work inside the sample loop (per-sample values and batch-mean accumulations) is per
 * sample, the rest once per call. Counts past 2^53 lose precision but not magnitude.
 */
export function naiveOps(net: Net, grads: Gradients, forward: OpCounts): NaiveOps {
  const roots = net.params.flatMap((p) => grads.byParam.get(p.node) ?? []);
  const tree = treeCosts(roots);
  const perParam = net.params.map((p) => {
    const g = grads.byParam.get(p.node);
    return { name: p.name, ops: g ? (tree.get(g) as OpCounts) : { perSample: 0, perCall: 0 } };
  });
  const total = perParam.reduce((s, p) => add(s, p.ops), forward);
  return { forward, perParam, total };
}

/** Tree cost of every node below `roots`, in id order (inputs always have smaller ids), so no recursion. */
function treeCosts(roots: readonly Node[]): Map<Node, OpCounts> {
  const cost = new Map<Node, OpCounts>();
  const nodes = reachable(roots).sort((a, b) => a.id - b.id);
  // a value of a recurrence's cell is computed once per step (its tree stops at the carries: the previous step's values)
  const steps = stepCounts(nodes);
  for (const n of nodes) {
    const own = work(n) * timesComputed(n, steps);
    const inLoop = n.batched || n.op === "batchMean";
    const self: OpCounts = inLoop ? { perSample: own, perCall: 0 } : { perSample: 0, perCall: own };
    // every occurrence of an input counts, so x · x pays for x twice
    cost.set(n, n.inputs.reduce((s, i) => add(s, cost.get(i) as OpCounts), self));
  }
  return cost;
}

function add(a: OpCounts, b: OpCounts): OpCounts {
  return { perSample: a.perSample + b.perSample, perCall: a.perCall + b.perCall };
}
