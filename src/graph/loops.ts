/**
 * Recurrences in the pictures: a cell is drawn once, whatever its number of steps T, inside a frame that says it
 * runs over t (a loop of the reverse sweep, backpropagation through time, runs from T down to 1), and each carried
 * value gets an edge back from its next value to its leaf (h_t becomes h_{t−1} of the following step).
 */
import { type Carry, MIXED_LOOPS, type Node, type Recurrence, recurrenceOf } from "../ir/node.ts";
import { type DagView, displayName } from "./dag.ts";

export interface DrawnLoop {
  readonly recurrence: Recurrence;
  /** The reverse sweep of another loop (its carries are cotangents), as opposed to a loop of the forward pass. */
  readonly sweep: boolean;
  /** The values of the cell among those drawn, in id order. */
  readonly nodes: readonly Node[];
}

/** The recurrences whose cells have values among `drawn`, in the order of their ids. */
export function drawnLoops(view: DagView, drawn: readonly Node[]): DrawnLoop[] {
  const byLoop = new Map<number, Node[]>();
  for (const n of drawn) {
    if (n.loop === undefined || n.loop === MIXED_LOOPS) continue;
    byLoop.set(n.loop, [...(byLoop.get(n.loop) ?? []), n]);
  }
  const { graph } = view.compiled.net;
  return [...byLoop]
    .sort(([a], [b]) => a - b)
    .map(([id, nodes]) => {
      const recurrence = graph.recurrenceOf(id);
      return { recurrence, sweep: !recurrence.carries.some((c) => view.forward.has(c.leaf)), nodes };
    });
}

/** What a loop's frame says: "loop over t = 1 … 16", "reverse sweep (BPTT) over t = 16 … 1". */
export function loopTitle(loop: DrawnLoop): string {
  const { length, reverse } = loop.recurrence;
  const range = reverse ? `t = ${length} … 1` : `t = 1 … ${length}`;
  return loop.sweep ? `reverse sweep (BPTT) over ${range}: the cell once per step` : `loop over ${range}: the cell once per step`;
}

/** A carried value's name: the module's, else the builder's, else its place. */
export function carryName(view: DagView, carry: Carry, k: number): string {
  return displayName(view, carry.leaf) ?? `carry ${k + 1}`;
}

/** The label of a loop's edge in a collapsed box: "h1, c1 × 16 steps" (", backwards" for a loop from T down to 1). */
export function loopEdgeLabel(view: DagView, recurrence: Recurrence): string {
  const carried = recurrence.carries.map((c, k) => carryName(view, c, k)).join(", ");
  return `${carried} × ${recurrence.length} steps${recurrence.reverse ? ", t = T … 1" : ""}`;
}

/** What a value of a recurrence is, in words a node's label can show: "h1 before step t", "row t of zx1", "Σ over t". */
export function loopMeaning(view: DagView, n: Node): string | undefined {
  switch (n.op) {
    case "carry": {
      const r = recurrenceOf(n);
      const before = r.reverse ? "t + 1" : "t − 1";
      return view.forward.has(n) ? `value of step ${before}` : `carried back from step ${before}`;
    }
    case "step": {
      const sequence = n.inputs[0];
      return sequence.op === "stack" ? "stored value at t" : `row t of ${displayName(view, sequence) ?? "the sequence"}`;
    }
    case "stack":
      return "every step's value";
    case "final":
      return "after the last step";
    case "loopSum":
      return "Σ over the steps";
    default:
      return undefined;
  }
}
