/** Arithmetic operation counts of a planned function, per sample, from the op table's costs. */
import { type Node, isLoopOp, recurrenceOf } from "../ir/node.ts";
import { OPS } from "../ir/ops.ts";
import type { FunctionPlan } from "./plan.ts";

/** Operations to compute one node once, from the op table (a batch mean: one addition per element per sample). */
export function work(n: Node): number {
  return OPS[n.op].cost(n);
}

export interface OpCounts {
  /** Work repeated for every sample (the loop over the batch). */
  perSample: number;
  /** Work done once per call (values of the parameters alone, 1/batch scaling, the regularizer, the values after a batch barrier). */
  perCall: number;
}

/**
 * How many times each recurrence among `nodes` runs its cell (its steps), by its id: read off the nodes that
 * belong to a recurrence by their op (its carries, steps and outputs).
 */
export function stepCounts(nodes: Iterable<Node>): Map<number, number> {
  const steps = new Map<number, number>();
  for (const n of nodes) {
    if (!isLoopOp(n.op)) continue;
    const r = recurrenceOf(n);
    steps.set(r.id, r.length);
  }
  return steps;
}

/**
 * How many times a node is computed per sample: once, or once per step of the recurrence whose cell it is in (a sum
 * over the steps adds once per step too).
 */
export function timesComputed(n: Node, steps: ReadonlyMap<number, number>): number {
  const loop = n.op === "loopSum" ? recurrenceOf(n).id : n.loop;
  return loop === undefined ? 1 : (steps.get(loop) ?? 1);
}

/**
 * Operations of one call of this function, split by phase (stored and inlined nodes; views cost nothing). A batch
 * mean accumulates in a sample loop wherever it stands, so it counts per sample; a value of a recurrence's cell
 * (and a sum over its steps) counts once per step, or once in all with `oneStep` (the work of one step).
 */
export function countOps(plan: FunctionPlan, options: { readonly oneStep?: boolean } = {}): OpCounts {
  const counts: OpCounts = { perSample: 0, perCall: 0 };
  const evaluated = new Set(plan.computed);
  const steps = options.oneStep ? new Map<number, number>() : stepCounts(evaluated);
  for (const n of evaluated) {
    const inLoop = plan.phase.get(n) === "loop" || n.op === "batchMean";
    // a dense weight-gradient kernel computes the outer product it accumulates without storing it
    const absorbed = n.op === "batchMean" && !evaluated.has(n.inputs[0]) ? work(n.inputs[0]) * timesComputed(n.inputs[0], steps) : 0;
    const ops = work(n) * timesComputed(n, steps) + absorbed;
    if (inLoop) counts.perSample += ops;
    else counts.perCall += ops;
  }
  return counts;
}
