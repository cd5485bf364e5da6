/**
 * Simplified and fused forms: deltas that come out of the sweep as a value the forward pass already has.
 *   - the delta is itself a forward node (δ_e = e − t is the e − t the loss squares), or
 *   - the delta reads a forward value computed from its own v (δ = p − y reads p = softmax(z); σ′(z) reads
 *     a = σ(z)): the derivative of the composite collapsed into that value, the same DAG node.
 * Each note shows the delta with those values written out in terms of v, next to the short form.
 */
import { type Node, reachable } from "../ir/node.ts";
import { type Expr, spell, symbols } from "./expr.ts";
import type { Names } from "./names.ts";
import type { DeltaStep, Step } from "./steps.ts";

export interface FusedNote {
  readonly step: DeltaStep;
  /** The delta is a node of the forward pass. */
  readonly inForward: boolean;
  /** Forward values computed from the delta's own v that it reuses. */
  readonly reused: readonly Node[];
  /** The delta with the reused values written out in terms of v. */
  readonly long: Expr;
  /** For the first delta of the sweep: the loss in terms of v, whose derivative it is. */
  readonly loss?: Expr;
}

export function fusedNotes(names: Names, steps: readonly Step[]): FusedNote[] {
  const { view } = names;
  const deltas = steps.filter((s): s is DeltaStep => s.kind === "delta");
  return deltas.flatMap((step, k) => {
    const below = new Set(reachable(step.primal));
    const fromPrimal = (n: Node) => n !== step.primal && !below.has(n) && reachable(n).includes(step.primal);
    const reused = symbols(step.expr).filter((n) => names.forwardNamed.includes(n) && fromPrimal(n));
    const inForward = view.forward.has(step.node);
    if (!inForward && reused.length === 0) return [];
    // keep v, other deltas, the leaves and values not computed from v as symbols; write out the rest
    const keep = (n: Node) =>
      n === step.primal || (n !== step.node && (names.deltaPrimal.has(n) || (names.backwardSymbol(n) && !fromPrimal(n))));
    const loss = k === 0 ? { loss: spell(view.compiled.net.loss, keep) } : {};
    return [{ step, inForward, reused, long: spell(step.node, keep), ...loss }];
  });
}
