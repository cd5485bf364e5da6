/**
 * The reverse sweep of a recurrence: backpropagation through time as a recurrence of its own, running the
 * steps backwards. Its carries are the cotangents of the forward carries (δh_t, coming from step t + 1), its cell
 * the op table's VJPs of the forward cell, applied once, for every step:
 *   δ(value at t)   from the cotangents of the forward outputs at t and the carried δ of the carries' next values;
 *   next δ carry    the cotangent reaching the carry leaf (h_{t−1});
 *   δ sequence      row t of each iterated sequence's cotangent (a stack of the reverse loop);
 *   δ outside value Σ over the steps: the shared weights' gradients, a weight's as one product of stacks after the
 *                   sweep (stepSums), others a loopSum.
 * The VJPs read forward values of step t: each value of the forward cell they read is stored by the forward loop
 * at every step (a stack of it) and read back at row t; a row of an iterated sequence is read from the sequence
 * itself. Nothing of the forward cell is computed again; what the VJPs build from its values (σ(1 − σ) from σ)
 * is computed in the reverse cell.
 */
import { type Graph, type Recurrence, carryOfAttr } from "../ir/graph.ts";
import { MIXED_LOOPS, type Node, cellValues, sizeOf } from "../ir/node.ts";
import { OPS } from "../ir/ops.ts";
import { DENSE_MIN_WEIGHTS } from "../lower/dense.ts";


export interface ReverseRecurrence {
  /** Contributions to values outside the forward recurrence (sequences, weights, initial carries). */
  readonly contributions: readonly (readonly [Node, Node])[];
  /** The cotangent of each value of the forward cell, as a value of the reverse cell. */
  readonly adjoints: ReadonlyMap<Node, Node>;
  /** The backpropagation through time: a recurrence running the steps backwards. */
  readonly reverse: Recurrence;
  /**
   * For each forward carry, ∂J/∂(its value after step t) — the whole cotangent of h_t, from the later steps and
   * from the output at t — as a value of the reverse cell; null where J does not depend on it.
   */
  readonly stateCts: readonly (Node | null)[];
}

export interface SweepTools {
  /** Whether a value depends on a parameter (only those get cotangents). */
  readonly needsGrad: (n: Node) => boolean;
  /** The sum of contributions, as the main sweep adds them. */
  readonly combine: (contributions: readonly Node[]) => Node;
  /** A contribution reduced to its target's shape (a broadcast scalar summed). */
  readonly fitShape: (contribution: Node, target: Node) => Node;
  readonly nameAdjoint: (node: Node, ct: Node) => void;
}

/** Backpropagation through time of `loop`, given the cotangents of its outputs. */
export function reverseRecurrence(g: Graph, loop: Recurrence, outputCts: ReadonlyMap<Node, Node>, tools: SweepTools): ReverseRecurrence {
  const { needsGrad, combine, fitShape } = tools;
  const zeros = (like: Node) => g.broadcast(g.constant(0), like.shape);
  const finalCt = (k: number) => [...outputCts].find(([o]) => o.op === "final" && carryOfAttr(o.attr) === k)?.[1];
  const inits = loop.carries.map((c, k) => finalCt(k) ?? zeros(c.leaf));
  const adjoints = new Map<Node, Node>();
  const outside = new Map<Node, Node[]>();
  const stepCts = new Map<Node, Node>();
  let carryCts: Node[] = [];

  const reversed = g.recurrence({
    length: loop.length,
    reverse: !loop.reverse,
    init: inits,
    names: loop.carries.map((c) => `d_${g.hint(c.leaf) ?? "carry"}`),
    cell: ({ carries: carried, step }) => {
      const relocated = new Map<Node, Node>();
      /** A value the VJPs built over forward values, rebuilt over their values at step t in the reverse cell. */
      const relocate = (m: Node): Node => {
        if (m.loop === undefined || (m.loop !== loop.id && m.loop !== MIXED_LOOPS)) return m;
        const known = relocated.get(m);
        if (known) return known;
        let value: Node;
        if (m.op === "step" && m.loop === loop.id) value = step(m.inputs[0]);
        // a value the forward cell computes is stored at every step; one only a VJP built is computed here
        else if (m.loop === loop.id && m.id < loop.closedAt) value = step(g.stack(loop, m));
        // the same op on the same shapes: its shape is known (the VJP built it already simplified)
        else value = g.make(m.op, m.inputs.map(relocate), m.attr, m.shape);
        relocated.set(m, value);
        return value;
      };
      const pending = new Map<Node, Node[]>();
      const add = (target: Node, c: Node) => {
        const into = target.loop === loop.id ? pending : outside;
        into.set(target, [...(into.get(target) ?? []), c]);
      };
      for (const [o, ct] of outputCts) {
        if (o.op === "stack") add(o.inputs[0], step(ct));
        if (o.op === "loopSum") add(o.inputs[0], ct);
      }
      loop.carries.forEach((c, k) => add(c.next, carried[k]));
      const cell = [...pending.keys(), ...loop.carries.map((c) => c.leaf)];
      // latest first, as the main sweep goes
      for (const n of cellValues(loop, cell).reverse()) {
        const contributions = pending.get(n);
        if (!contributions) continue;
        const ct = combine(contributions);
        adjoints.set(n, ct);
        tools.nameAdjoint(n, ct);
        if (n.op === "carry") continue;
        if (n.op === "step") {
          stepCts.set(n, ct);
          continue;
        }
        n.inputs.forEach((input, i) => {
          if (!needsGrad(input)) return;
          const c = OPS[n.op].vjp(g, n, ct, i);
          if (c) add(input, fitShape(relocate(c), input));
        });
      }
      carryCts = loop.carries.map((c) => adjoints.get(c.leaf) ?? zeros(c.leaf));
      return { next: carryCts, outputs: [...stepCts.values()] };
    },
  });

  const contributions: (readonly [Node, Node])[] = [];
  [...stepCts.keys()].forEach((s, j) => contributions.push([s.inputs[0], reversed.stacks[j]]));
  const sums = stepSums(g, reversed.recurrence, [...outside.values()].flat());
  for (const [target, cs] of outside) contributions.push([target, combine(sums.sumOf(cs, combine))]);
  loop.carries.forEach((c, k) => {
    if (needsGrad(c.init)) contributions.push([c.init, reversed.finals[k]]);
  });
  const stateCts = loop.carries.map((c) => adjoints.get(c.next) ?? null);
  return { contributions, adjoints, reverse: reversed.recurrence, stateCts };
}

/**
 * The sums over the steps of the reverse sweep's contributions to values outside it (the shared weights'
 * gradients). An outer product a_t ⊗ b_t of two values of the step, of a dense layer's size, sums as one product of
 * their stacks after the sweep, Σ_t a_t ⊗ b_t = Aᵀ·B over the T rows, instead of T small products inside it: a
 * weight's gradient is then one large product, and the sweep's steps no longer wait for one another to add into it.
 * A contribution whose value is stacked for such a product anyway (δz, the bias's gradient beside the weights') sums
 * down its stack's rows. The others add up inside the loop.
 */
function stepSums(g: Graph, reverse: Recurrence, contributions: readonly Node[]) {
  const isOuterOfSteps = (c: Node) => c.op === "outer" && c.inputs.every((n) => n.loop === reverse.id);
  const stacks = new Map<Node, Node>();
  /**
   * The value at every step, [T, …]: the forward stack a step reads its row of, or a stack the sweep writes (of any
   * other value, a row of an input sequence included: the product then reads two stacks, whose rows follow one
   * another sample after sample).
   */
  const stacked = (v: Node): Node => {
    const known = stacks.get(v);
    if (known) return known;
    const whole = v.op === "step" && v.inputs[0].op === "stack" ? v.inputs[0] : g.stack(reverse, v);
    stacks.set(v, whole);
    return whole;
  };
  // a product of a dense layer's size, then any beside it whose other operand is stacked anyway (x_t ⊗ δz beside
  // h_{t−1} ⊗ δz); a small product on its own adds up in the per-sample loop (lower/dense.ts), with no stack to store
  const products = new Set(contributions.filter((c) => isOuterOfSteps(c) && sizeOf(c.shape) >= DENSE_MIN_WEIGHTS));
  for (const c of products) c.inputs.forEach(stacked);
  for (const c of contributions) {
    if (isOuterOfSteps(c) && !products.has(c) && c.inputs.some((i) => stacks.has(i))) {
      products.add(c);
      c.inputs.forEach(stacked);
    }
  }
  const summed = (c: Node): Node | undefined => {
    if (products.has(c)) return g.matmul(g.transpose(stacked(c.inputs[0])), stacked(c.inputs[1]));
    const rows = stacks.get(c);
    return rows && g.reduce("sum", rows, 0);
  };
  return {
    /** Σ over the steps of the contributions `cs` to one value: the products and stacked values after the loop, the rest a loopSum. */
    sumOf(cs: readonly Node[], combine: SweepTools["combine"]): Node[] {
      const after = cs.map((c) => [c, summed(c)] as const);
      const hoisted = after.flatMap(([, sum]) => sum ?? []);
      const inLoop = after.flatMap(([c, sum]) => (sum ? [] : [c]));
      return inLoop.length > 0 ? [...hoisted, g.loopSum(reverse, combine(inLoop))] : hoisted;
    },
  };
}

/**
 * The norm of ∂J/∂h_t at every step t of a forward recurrence's first carry (per sample: how much each step's
 * state moves the loss), [T]; zeros where J does not depend on it.
 */
export function stateGradientNorms(g: Graph, reversed: Pick<ReverseRecurrence, "reverse" | "stateCts">, forward: Recurrence): Node {
  const ct = reversed.stateCts[0];
  if (!ct) return g.broadcast(g.constant(0), [forward.length]);
  const stacked = g.stack(reversed.reverse, ct);
  // Σ of the squares over every axis but the steps'
  let squares = g.mul(stacked, stacked);
  while (squares.shape.length > 1) squares = g.reduce("sum", squares, 1);
  return g.sqrt(squares);
}
