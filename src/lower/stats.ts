/** Arithmetic operation counts of a planned function, per sample, from the op table's costs. */
import { type Node, sizeOf } from "../ir/node.ts";
import type { FunctionPlan } from "./plan.ts";

/** Operations to compute one node once (a batch mean: one addition per element per sample). */
export function work(n: Node): number {
  switch (n.op) {
    case "matmul": {
      const [a, b] = n.inputs;
      const inner = a.shape.length === 2 ? a.shape[1] : a.shape[0];
      return 2 * inner * Math.max(1, sizeOf(n.shape));
    }
    case "logsumexp":
      return 3 * sizeOf(n.inputs[0].shape);
    case "sum":
      return sizeOf(n.inputs[0].shape);
    case "broadcast":
    case "transpose":
      return 0;
    default:
      return n.inputs.length === 0 ? 0 : sizeOf(n.shape) * costOf(n);
  }
}

const COST: Partial<Record<Node["op"], number>> = { sigmoid: 3, softplus: 4 };
const costOf = (n: Node) => COST[n.op] ?? 1;

/** Operations one sample costs in this function (stored and inlined nodes; views cost nothing). */
export function countOps(plan: FunctionPlan): number {
  return [...plan.computed, ...plan.inlined].reduce((total, n) => total + work(n), 0);
}
