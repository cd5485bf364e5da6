/** Arithmetic operation counts of a planned function, per sample, from the op table's costs. */
import type { Node } from "../ir/node.ts";
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
 * Operations of one call of this function, split by phase (stored and inlined nodes; views cost nothing). A batch
 * mean accumulates in a sample loop wherever it stands, so it counts per sample.
 */
export function countOps(plan: FunctionPlan): OpCounts {
  const counts: OpCounts = { perSample: 0, perCall: 0 };
  const evaluated = new Set(plan.computed);
  for (const n of evaluated) {
    const inLoop = plan.phase.get(n) === "loop" || n.op === "batchMean";
    // a dense weight-gradient kernel computes the outer product it accumulates without storing it
    const absorbed = n.op === "batchMean" && !evaluated.has(n.inputs[0]) ? work(n.inputs[0]) : 0;
    if (inLoop) counts.perSample += work(n) + absorbed;
    else counts.perCall += work(n) + absorbed;
  }
  return counts;
}
