/** Operation counts of the derivation: what the module does (forward, backward) against the naive count. */
import { type OpCounts, countOps } from "../lower/stats.ts";
import type { Compiled } from "../graph/compiled.ts";
import { type NaiveOps, naiveOps } from "./naive.ts";

export interface Counts {
  /** The forward pass to the loss (the module's `loss`). */
  readonly forward: OpCounts;
  /** What `gradient` adds to it: the backward sweep. */
  readonly backward: OpCounts;
  /** forward + backward (the module's `gradient`). */
  readonly total: OpCounts;
  readonly naive: NaiveOps;
}

export function countDerivation(c: Compiled): Counts {
  const forward = countOps(c.emitted.lowered.plans.loss);
  const total = countOps(c.emitted.lowered.plans.gradient);
  const backward = { perSample: total.perSample - forward.perSample, perCall: total.perCall - forward.perCall };
  return { forward, backward, total, naive: naiveOps(c.net, c.grads, forward) };
}
