/**
 * The recurrences a function computes, as the plan schedules them: each one a unit of the sample loop (its cell
 * runs inside a loop over the steps, once per sample), made of its cell's values and the outputs it hands out.
 * The unit runs where its first output stands in the order of the DAG: every value its cell reads from outside
 * was built before that output, and everything reading an output after it.
 */
import { type Node, type Recurrence, isLoopOutput, recurrenceOf } from "../ir/node.ts";

export interface RecurrenceUnit {
  readonly recurrence: Recurrence;
  /** The cell's values the function computes, in order (the carries and steps are read, not computed). */
  readonly cell: readonly Node[];
  /** Its stacks, finals and loopSums that the function reads, in order. */
  readonly outputs: readonly Node[];
  /** What the unit reads from outside: initial values, sequences, weights and other values of the batch loop. */
  readonly reads: readonly Node[];
}


/** Whether a node is read rather than computed in a cell: a carry (its history buffer) or a step (a row of its sequence). */
export const isCellRead = (n: Node): boolean => n.op === "carry" || n.op === "step";

/** The recurrence units among `nodes` (sorted by id), keyed by every member: cell values and outputs. */
export function recurrenceUnits(nodes: readonly Node[]): Map<Node, RecurrenceUnit> {
  const byLoop = new Map<Recurrence, { cell: Node[]; outputs: Node[] }>();
  const entry = (r: Recurrence) => byLoop.get(r) ?? byLoop.set(r, { cell: [], outputs: [] }).get(r)!;
  for (const n of nodes) {
    if (isLoopOutput(n)) entry(recurrenceOf(n)).outputs.push(n);
  }
  const loops = new Map([...byLoop.keys()].map((r) => [r.id, r] as const));
  for (const n of nodes) {
    if (n.loop === undefined || isCellRead(n)) continue;
    const r = loops.get(n.loop);
    if (!r) throw new Error(`internal: a value of recurrence ${n.loop} is computed outside it`);
    entry(r).cell.push(n);
  }
  const units = new Map<Node, RecurrenceUnit>();
  for (const [recurrence, { cell, outputs }] of byLoop) {
    const members = new Set([...cell, ...outputs]);
    const inside = (n: Node) => members.has(n) || (n.loop === recurrence.id && isCellRead(n));
    const reads = new Set<Node>();
    for (const n of [...cell, ...outputs]) for (const i of n.inputs) if (!inside(i)) reads.add(i);
    for (const n of nodes) if (n.op === "step" && n.loop === recurrence.id) reads.add(n.inputs[0]);
    for (const c of recurrence.carries) {
      reads.add(c.init);
      if (!inside(c.next)) reads.add(c.next);
    }
    const unit: RecurrenceUnit = { recurrence, cell, outputs, reads: [...reads].sort((a, b) => a.id - b.id) };
    for (const m of members) units.set(m, unit);
  }
  return units;
}

/**
 * `computed` (in id order) with each unit's members moved together, to where its first output stands: its cell
 * in order, then its outputs.
 */
export function withUnitsTogether(computed: readonly Node[], units: ReadonlyMap<Node, RecurrenceUnit>): Node[] {
  const out: Node[] = [];
  const placed = new Set<RecurrenceUnit>();
  for (const n of computed) {
    const unit = units.get(n);
    if (!unit) out.push(n);
    else if (isLoopOutput(n) && !placed.has(unit)) {
      placed.add(unit);
      out.push(...unit.cell, ...unit.outputs);
    }
  }
  return out;
}
