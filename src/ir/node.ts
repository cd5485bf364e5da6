/** Shapes are per sample: [] scalar, [n] vector, [m, n] matrix, and tensors of any rank (row-major). */
export type Shape = readonly number[];

/**
 * Leaves: the values a function is called with, and constants. `state` is a value kept between calls that is
 * not a parameter (a running mean, the dropout generator's seed and step): unbatched, never differentiated.
 * `counter` is batched: element e of sample s holds s·size + e (what a random op hashes, ir/random.ts).
 * `batchSize` is the number of samples of the call, an unbatched scalar (batch norm's n/(n − 1) reads it).
 */
export const LEAF_OPS = ["param", "input", "target", "const", "state", "counter", "batchSize"] as const;
/**
 * Elementwise ops compute each output element from the same element of each operand (a scalar operand
 * broadcasts). They are also the scalar arithmetic of the kernel IR: every renderer has one line per op.
 */
export const ELEMENTWISE_OPS = [
  "neg",
  "exp",
  "log",
  "sqrt",
  "abs",
  "sign",
  "tanh",
  "sigmoid",
  "softplus",
  "expm1",
  "log1p",
  "log2",
  "log10",
  "cbrt",
  "sin",
  "cos",
  "tan",
  "asin",
  "acos",
  "atan",
  "sinh",
  "cosh",
  "asinh",
  "acosh",
  "atanh",
  "erf",
  "erfc",
  "floor",
  "ceil",
  "round",
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "atan2",
  "mod",
  "max",
  "min",
  "gt",
  "ge",
  "eq",
  "ne",
  "select",
  // uniform(seed, step, stream, counter): a counter-based random number in [0, 1), 24 bits (ir/random.ts)
  "uniform",
] as const;
/** Ops that move or combine elements; lowering turns each into loops (lower/structural.ts). */
export const STRUCTURAL_OPS = [
  "matmul",
  "transpose",
  "outer",
  "sum",
  "broadcast",
  "logsumexp",
  "batchMean",
  // along one axis: attr "sum@1" (kind @ zero-based axis), kinds in REDUCE_KINDS
  "reduce",
  // numpy broadcasting of an operand to a larger shape, and its adjoint (the sum back to the operand's shape)
  "expand",
  "sumTo",
  // a part of a tensor: attr per dimension "start:count" (kept) or "index" (dropped), zero-based, comma-separated
  "slice",
  // the adjoint of slice: a tensor of the original shape, zero outside the part
  "unslice",
  // scalars (or any values) laid out as a tensor, row-major
  "pack",
  // tensors joined along an axis (attr)
  "concat",
  // each element read from an affine position of the operand (axes.ts View): reshapes, permutations, windows
  "view",
  // the adjoint of view: a tensor of the operand's shape, each element the sum of the view's elements that read it
  "unview",
] as const;

/**
 * What a `reduce` computes along its axis. `firstMax` is the maximum whose gradient goes to the first maximal
 * element along the axis alone (max pooling's convention in TF.js and PyTorch); `max` gives it to every tie.
 */
export const REDUCE_KINDS = ["sum", "max", "firstMax", "min", "prod", "lse"] as const;
export type ReduceKind = (typeof REDUCE_KINDS)[number];

/**
 * A recurrence (Graph.recurrence): a cell iterated over time, every value of it once per step.
 *   carry   — the carried state at step t, before the step (h_{t−1}); attr "loop:k". A leaf of the cell.
 *   step    — row t of a sequence [T, …] the loop iterates over (x_t); attr the loop.
 *   stack   — a value of the cell at every step, as a sequence [T, …]; attr the loop. Read outside it.
 *   final   — carry k after the last step (its `next` then); attr "loop:k". Read outside it.
 *   loopSum — Σ over the steps of a value of the cell (a shared weight's gradient); attr the loop. Read outside it.
 */
export const LOOP_OPS = ["carry", "step", "stack", "final", "loopSum"] as const;

export type LeafOp = (typeof LEAF_OPS)[number];
export type LoopOp = (typeof LOOP_OPS)[number];
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];
export type StructuralOp = (typeof STRUCTURAL_OPS)[number];
export type OpName = LeafOp | ElementwiseOp | StructuralOp | LoopOp;

const ELEMENTWISE = new Set<string>(ELEMENTWISE_OPS);
export function isElementwiseOp(op: OpName): op is ElementwiseOp {
  return ELEMENTWISE.has(op);
}

/** Leaf name (param/input/target) or constant value; otherwise unused. */
export type Attr = string | number | undefined;

/**
 * An immutable IR node. Nodes are hash-consed by the Graph that builds them, so two nodes with the same
 * op, attribute, shape and inputs are the same object, and ids increase in topological order.
 */
export interface Node {
  readonly id: number;
  readonly op: OpName;
  readonly inputs: readonly Node[];
  readonly attr: Attr;
  readonly shape: Shape;
  /** Depends on the sample (an input or a target): one value per sample of the batch. */
  readonly batched: boolean;
  /**
   * The recurrence this value is computed in, once per step (it reads a carry or a step of it); undefined for
   * values outside every recurrence. MIXED_LOOPS marks a value that would read the cells of two recurrences
   * (built only in passing while a reverse loop is derived, never computed).
   */
  readonly loop?: number;
}

export const MIXED_LOOPS = -1;

const LOOPS = new Set<string>(LOOP_OPS);
/** An op of a recurrence (LOOP_OPS). */
export const isLoopOp = (op: OpName): op is LoopOp => LOOPS.has(op);
/** What a recurrence hands out, read outside its cell: a stack, a final or a loopSum. */
export const isLoopOutputOp = (op: OpName): boolean => op === "stack" || op === "final" || op === "loopSum";
export const isLoopOutput = (n: Node): boolean => isLoopOutputOp(n.op);

/** One carried value of a recurrence: its leaf in the cell (the value before a step), initial and next value. */
export interface Carry {
  readonly leaf: Node;
  readonly init: Node;
  readonly next: Node;
}

/**
 * A cell iterated over `length` steps (LOOP_OPS; built by Graph.recurrence). Every value of the cell is computed
 * once per step t; the carries pass each step's `next` to the following step. A reverse recurrence (the reverse
 * sweep of another) runs its steps from T − 1 down to 0, and its step and stack ops still address row t.
 */
export interface Recurrence {
  readonly id: number;
  readonly length: number;
  readonly reverse: boolean;
  readonly carries: readonly Carry[];
  /** Every value built by the cell has a smaller id (a value of the cell made later was derived from it). */
  readonly closedAt: number;
}

/** The recurrence of each carry, step and output node (registered by the graph as it makes them). */
const RECURRENCES = new WeakMap<Node, Recurrence>();

export function registerLoopNode(n: Node, recurrence: Recurrence): void {
  RECURRENCES.set(n, recurrence);
}

/** The recurrence a carry, step, stack, final or loopSum node belongs to. */
export function recurrenceOf(n: Node): Recurrence {
  const r = RECURRENCES.get(n);
  if (!r) throw new Error(`internal: ${n.op} #${n.id} belongs to no recurrence`);
  return r;
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeText(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function isConst(n: Node, value?: number): boolean {
  return n.op === "const" && (value === undefined || n.attr === value);
}

export function constValue(n: Node): number {
  if (n.op !== "const") throw new Error(`internal: ${n.op} is not a constant`);
  return n.attr as number;
}

/** The values of `loop`'s cell that `from` depend on (the walk stops at values outside the cell), in id order. */
export function cellValues(loop: Recurrence, from: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const stack = [...from];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n) || n.loop !== loop.id) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** The outputs (stack, final, loopSum) of each recurrence that `roots` read, in id order: one run computes them all. */
export function loopOutputs(roots: readonly Node[]): Map<Recurrence, Node[]> {
  const out = new Map<Recurrence, Node[]>();
  for (const n of reachable(roots).sort((a, b) => a.id - b.id)) {
    if (!isLoopOutput(n)) continue;
    const loop = recurrenceOf(n);
    out.set(loop, [...(out.get(loop) ?? []), n]);
  }
  return out;
}

/**
 * Every node `root` depends on (the roots included), in no particular order. A recurrence's carry depends on its
 * initial and next values (the previous step's), and what a recurrence hands out on all its carries.
 */
export function reachable(root: Node | readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const stack = Array.isArray(root) ? [...(root as readonly Node[])] : [root as Node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
    if (n.op === "carry") {
      const carry = recurrenceOf(n).carries.find((c) => c.leaf === n);
      if (carry) stack.push(carry.init, carry.next);
    }
    // a recurrence runs with all its carries, read by its cell or not
    if (isLoopOutput(n)) stack.push(...recurrenceOf(n).carries.map((c) => c.leaf));
  }
  return [...seen];
}
