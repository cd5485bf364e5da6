/**
 * The expression DAG. Every node is built here: rules from simplify/ run first, then the node is
 * hash-consed, so a subexpression built twice (a forward value reused by a gradient, a delta reused by two
 * parameters) is one node.
 */
import {
  type AxisMap,
  type SlicePart,
  type View,
  axisMapAttr,
  broadcastMap,
  broadcastShapes,
  isIdentityView,
  reduceAttr,
  reinsertAxis,
  sliceAttr,
  sliceShape,
  unsliceAttr,
  validAxisMap,
  viewAttr,
} from "./axes.ts";
import { type Attr, type Carry, MIXED_LOOPS, isLoopOp, isLoopOutputOp, type Node, type OpName, type Recurrence, registerLoopNode, type ReduceKind, type Shape, isElementwiseOp, sameShape, shapeText, sizeOf } from "./node.ts";
import { OPS, ShapeError } from "./ops.ts";
import { simplify } from "../simplify/rules.ts";

/** The constants of SELU (self-normalising networks). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_LAMBDA = 1.0507009873554805;

/** What a cell is built from: the carried values before the step, and row t of any sequence. */
export interface CellInputs {
  readonly carries: readonly Node[];
  step(sequence: Node): Node;
}

export interface RecurrenceSpec {
  readonly length: number;
  readonly reverse?: boolean;
  /** Initial values of the carries (their shapes are the carries'). */
  readonly init: readonly Node[];
  /** Names of the carries (h, c…), for code and explanations. */
  readonly names?: readonly string[];
  /** The cell: each carry's next value, and the values to collect at every step. */
  cell(inputs: CellInputs): { readonly next: readonly Node[]; readonly outputs?: readonly Node[] };
}

export interface RecurrenceResult {
  readonly recurrence: Recurrence;
  /** Each output of the cell at every step, [T, …]. */
  readonly stacks: readonly Node[];
  /** Each carry after the last step. */
  readonly finals: readonly Node[];
}

const CARRY_KEY = (loop: number, k: number) => `${loop}:${k}`;
/** The recurrence of a carry's or final's attribute "loop:k". */
export const loopOfAttr = (attr: Attr): number => (typeof attr === "number" ? attr : Number(String(attr).split(":")[0]));
/** The carry number k of a carry's or final's attribute "loop:k". */
export const carryOfAttr = (attr: Attr): number => Number(String(attr).split(":")[1]);

/** The recurrence whose cell computes a node of `op` on `inputs`: the one its reads belong to. */
function cellLoop(op: OpName, inputs: readonly Node[], attr: Attr): number | undefined {
  if (op === "carry" || op === "step") return loopOfAttr(attr);
  // the values a recurrence hands out are outside it
  if (isLoopOutputOp(op)) return undefined;
  let loop: number | undefined;
  for (const i of inputs) {
    if (i.loop === undefined) continue;
    if (loop !== undefined && loop !== i.loop) return MIXED_LOOPS;
    loop = i.loop;
  }
  return loop;
}

export type { Carry, Recurrence } from "./node.ts";

export class Graph {
  private readonly interned = new Map<string, Node>();
  private readonly hints = new Map<Node, string>();
  /** Each recurrence by id; its carries are filled in when its cell is built. */
  private readonly loops = new Map<number, { record: Recurrence; carries: Carry[] }>();
  private nextId = 0;
  private nextLoop = 0;

  /**
   * The node for (op, inputs, attr), built once. `shape` is given only by leaves and the ops that carry
   * their shape (broadcast, expand, sumTo, unslice, view, unview). Operands of an elementwise op whose shapes differ are
   * broadcast first, by numpy's rule (as mathjs does).
   */
  make(op: OpName, inputs: readonly Node[], attr?: Attr, shape?: Shape): Node {
    const rule = OPS[op] as (typeof OPS)[OpName] | undefined;
    if (!rule) throw new Error(`internal: no rule for op "${op}" in the op table`);
    if (rule.arity !== "any" && inputs.length !== rule.arity) throw new Error(`internal: ${op} takes ${rule.arity} inputs`);
    if (isElementwiseOp(op)) {
      const expanded = this.broadcastOperands(inputs);
      if (expanded) return this.make(op, expanded, attr);
    }
    if (shape === undefined) {
      const rewritten = simplify(this, op, inputs);
      if (rewritten) return rewritten;
    }
    const outShape = shape ?? rule.shape(inputs, attr);
    const key = `${op}|${attr ?? ""}|${outShape.join("x")}|${inputs.map((n) => n.id).join(",")}`;
    const found = this.interned.get(key);
    if (found) return found;
    const loop = cellLoop(op, inputs, attr);
    if (op === "batchMean" && loop !== undefined) throw new ShapeError("a batch statistic cannot be taken inside a recurrence's cell (its steps run one sample at a time)");
    // a recurrence runs per sample: its cell and what it hands out are per-sample values
    const perSample = op === "input" || op === "target" || op === "counter" || op === "carry" || isLoopOutputOp(op) || loop !== undefined;
    const batched = perSample || (op !== "batchMean" && inputs.some((n) => n.batched));
    const node: Node = Object.freeze({ id: this.nextId++, op, inputs: Object.freeze([...inputs]), attr, shape: Object.freeze([...outShape]), batched, ...(loop !== undefined ? { loop } : {}) });
    this.interned.set(key, node);
    if (isLoopOp(op)) registerLoopNode(node, this.recurrenceOf(loopOfAttr(attr)));
    return node;
  }

  /** The operands expanded to their common shape, when tensors of different shapes meet; undefined when none differ. */
  private broadcastOperands(inputs: readonly Node[]): Node[] | undefined {
    const tensors = inputs.filter((n) => n.shape.length > 0);
    if (tensors.every((n) => sameShape(n.shape, tensors[0].shape))) return undefined;
    const shape = broadcastShapes(tensors.map((n) => n.shape));
    if (!shape) {
      throw new ShapeError(`operands of shapes ${inputs.map((n) => shapeText(n.shape)).join(" and ")} do not broadcast (each dimension, aligned on the right, must be equal or 1)`);
    }
    return inputs.map((n) => (n.shape.length === 0 ? n : this.expand(n, broadcastMap(n.shape, shape) as AxisMap, shape)));
  }

  /** Suggests a readable name for a node (the first suggestion wins). */
  name(node: Node, hint: string): Node {
    if (!this.hints.has(node) && node.op !== "const") this.hints.set(node, hint);
    return node;
  }

  hint(node: Node): string | undefined {
    return this.hints.get(node);
  }

  get size(): number {
    return this.nextId;
  }

  // ---- leaves
  param(name: string, shape: Shape): Node {
    return this.name(this.make("param", [], name, shape), name);
  }
  input(name: string, shape: Shape): Node {
    return this.name(this.make("input", [], name, shape), name);
  }
  target(name: string, shape: Shape): Node {
    return this.name(this.make("target", [], name, shape), name);
  }
  /** A value kept between calls (ir/net.ts StateLeaf): unbatched like a parameter, never differentiated. */
  state(name: string, shape: Shape): Node {
    return this.name(this.make("state", [], name, shape), name);
  }
  /** Element e of sample s is s·size(shape) + e: the position a random op hashes. */
  counter(shape: Shape): Node {
    return this.make("counter", [], undefined, shape);
  }
  /** A counter-based uniform number in [0, 1) for each element of `counter` (ir/random.ts). */
  uniform = (seed: Node, step: Node, stream: Node, counter: Node) => this.make("uniform", [seed, step, stream, counter]);
  constant(value: number): Node {
    return this.make("const", [], Object.is(value, -0) ? 0 : value, []);
  }

  // ---- recurrences

  /** A cell iterated over `length` steps; see Recurrence. */
  recurrence(spec: RecurrenceSpec): RecurrenceResult {
    const id = this.nextLoop++;
    const { length } = spec;
    if (!Number.isInteger(length) || length < 1) throw new ShapeError(`a recurrence needs at least one step, found ${length}`);
    const carried: Carry[] = [];
    // the record exists while the cell is built (its nodes point to it); carries and closedAt are set when it closes
    const record = { id, length, reverse: spec.reverse ?? false, carries: carried as readonly Carry[], closedAt: Infinity };
    this.loops.set(id, { record, carries: carried });
    const carries = spec.init.map((init, k) => {
      const leaf = this.make("carry", [], CARRY_KEY(id, k), init.shape);
      const name = spec.names?.[k];
      return name ? this.name(leaf, name) : leaf;
    });
    const step = (sequence: Node): Node => {
      if (sequence.shape.length === 0 || sequence.shape[0] !== length) {
        throw new ShapeError(`a recurrence of ${length} steps iterates over sequences of ${length} rows, found ${shapeText(sequence.shape)}`);
      }
      if (sequence.loop !== undefined) throw new ShapeError("a recurrence cannot iterate over a value of its own cell");
      return this.make("step", [sequence], id);
    };
    const { next, outputs = [] } = spec.cell({ carries, step });
    if (next.length !== carries.length) throw new Error(`internal: ${carries.length} carries, ${next.length} next values`);
    next.forEach((n, k) => {
      if (!sameShape(n.shape, carries[k].shape)) throw new ShapeError(`carry ${k + 1} of a recurrence starts as ${shapeText(carries[k].shape)} but its next value is ${shapeText(n.shape)}`);
    });
    for (const n of [...next, ...outputs]) {
      if (n.loop !== undefined && n.loop !== id) throw new ShapeError("a recurrence's cell reads the cell of another recurrence (read its outputs instead)");
    }
    carried.push(...carries.map((leaf, k) => ({ leaf, init: spec.init[k], next: next[k] })));
    record.closedAt = this.nextId;
    const stacks = outputs.map((n) => this.stack(record, n));
    const finals = next.map((n, k) => this.make("final", [n], CARRY_KEY(id, k), n.shape));
    return { recurrence: record, stacks, finals };
  }

  /** A value of a recurrence's cell at every step, [T, …]. */
  stack(recurrence: Recurrence, value: Node): Node {
    return this.make("stack", [value], recurrence.id, [recurrence.length, ...value.shape]);
  }

  /** Σ over the steps of a value of a recurrence's cell. */
  loopSum(recurrence: Recurrence, value: Node): Node {
    return this.make("loopSum", [value], recurrence.id, value.shape);
  }

  /** The recurrence of that id. */
  recurrenceOf(id: number): Recurrence {
    const r = this.loops.get(id);
    if (!r) throw new Error(`internal: no recurrence ${id}`);
    return r.record;
  }

  // ---- primitives
  neg = (a: Node) => this.make("neg", [a]);
  exp = (a: Node) => this.make("exp", [a]);
  log = (a: Node) => this.make("log", [a]);
  sqrt = (a: Node) => this.make("sqrt", [a]);
  abs = (a: Node) => this.make("abs", [a]);
  sign = (a: Node) => this.make("sign", [a]);
  tanh = (a: Node) => this.make("tanh", [a]);
  sigmoid = (a: Node) => this.make("sigmoid", [a]);
  softplus = (a: Node) => this.make("softplus", [a]);
  add = (a: Node, b: Node) => this.make("add", [a, b]);
  sub = (a: Node, b: Node) => this.make("sub", [a, b]);
  mul = (a: Node, b: Node) => this.make("mul", [a, b]);
  div = (a: Node, b: Node) => this.make("div", [a, b]);
  pow = (a: Node, b: Node) => this.make("pow", [a, b]);
  max = (a: Node, b: Node) => this.make("max", [a, b]);
  min = (a: Node, b: Node) => this.make("min", [a, b]);
  gt = (a: Node, b: Node) => this.make("gt", [a, b]);
  select = (c: Node, a: Node, b: Node) => this.make("select", [c, a, b]);
  matmul = (a: Node, b: Node) => this.make("matmul", [a, b]);
  outer = (a: Node, b: Node) => this.make("outer", [a, b]);
  sum = (a: Node) => this.make("sum", [a]);
  logsumexp = (a: Node) => this.make("logsumexp", [a]);
  batchMean = (a: Node) => this.make("batchMean", [a]);

  /** Matrix transpose; a vector is its own transpose (as in mathjs). */
  transpose = (a: Node): Node => (a.shape.length === 1 ? a : this.make("transpose", [a]));

  /** A scalar repeated over `shape`. */
  broadcast = (a: Node, shape: Shape): Node => {
    if (a.shape.length !== 0) {
      if (sameShape(a.shape, shape)) return a;
      throw new ShapeError(`cannot broadcast ${shapeText(a.shape)} to ${shapeText(shape)}`);
    }
    if (shape.length === 0) return a;
    return this.make("broadcast", [a], undefined, shape);
  };

  /** `a` read over the larger `shape`, each dimension of the result reading the dimension of `a` that `map` names. */
  expand = (a: Node, map: AxisMap, shape: Shape): Node => {
    if (a.shape.length === 0) return this.broadcast(a, shape);
    // a repeated scalar read over a larger shape is still the scalar repeated
    if (a.op === "broadcast") return this.broadcast(a.inputs[0], shape);
    if (sameShape(a.shape, shape) && map.every((j, d) => j === d)) return a;
    if (!validAxisMap(map, a.shape, shape)) throw new ShapeError(`cannot broadcast ${shapeText(a.shape)} to ${shapeText(shape)}`);
    return this.make("expand", [a], axisMapAttr(map), shape);
  };

  /** The adjoint of expand: `a` summed back to `shape`. */
  sumTo = (a: Node, map: AxisMap, shape: Shape): Node => {
    if (shape.length === 0) return this.sum(a);
    if (a.op === "broadcast") return this.broadcast(this.scale(sizeOf(a.shape) / sizeOf(shape), a.inputs[0]), shape);
    if (sameShape(a.shape, shape) && map.every((j, d) => j === d)) return a;
    if (a.op === "expand" && a.attr === axisMapAttr(map) && sameShape(a.inputs[0].shape, shape)) {
      // sumTo(expand(x)) adds each element once per copy
      return this.scale(sizeOf(a.shape) / sizeOf(shape), a.inputs[0]);
    }
    return this.make("sumTo", [a], axisMapAttr(map), shape);
  };

  /** sum, max, min, prod or log-sum-exp along `axis` (dropped); a vector's is the whole-tensor op. */
  reduce = (kind: ReduceKind, a: Node, axis: number): Node => {
    if (a.shape.length === 1 && axis === 0 && kind === "sum") return this.sum(a);
    if (a.shape.length === 1 && axis === 0 && kind === "lse") return this.logsumexp(a);
    return this.make("reduce", [a], reduceAttr(kind, axis));
  };

  /** A part of `a`; the whole of it is `a` itself. */
  slice = (a: Node, parts: readonly SlicePart[]): Node => {
    if (parts.every((p, d) => p.keep && p.start === 0 && p.count === a.shape[d]) && parts.length === a.shape.length) return a;
    // a part of a repeated scalar is the scalar; a row of an array is that element of it
    if (a.op === "broadcast" && parts.length === a.shape.length) return this.broadcast(a.inputs[0], sliceShape(parts));
    if (a.op === "pack" && parts.length === a.shape.length && !parts[0].keep) return this.slice(a.inputs[parts[0].start], parts.slice(1));
    return this.make("slice", [a], sliceAttr(parts));
  };

  /** `a` placed at `parts` of a tensor of `shape` that holds `fill` everywhere else (zeros: the adjoint of slice). */
  unslice = (a: Node, parts: readonly SlicePart[], shape: Shape, fill = 0): Node => {
    if (parts.every((p, d) => p.keep && p.start === 0 && p.count === shape[d])) return a;
    return this.make("unslice", [a], unsliceAttr(parts, fill), shape);
  };

  /** A view of `a` with the given shape (axes.ts View); one that reads `a` as it is, is `a`. */
  view = (a: Node, view: View, shape: Shape): Node => {
    if (sameShape(a.shape, shape) && isIdentityView(view, shape, a.shape)) return a;
    return this.make("view", [a], viewAttr(view), shape);
  };

  /** The adjoint of a view of shape `a.shape` of a tensor of `shape`. */
  unview = (a: Node, view: View, shape: Shape): Node => {
    if (sameShape(a.shape, shape) && isIdentityView(view, a.shape, shape)) return a;
    return this.make("unview", [a], viewAttr(view), shape);
  };

  /** Values of one shape stacked along a new first axis. */
  pack = (items: readonly Node[]): Node => this.make("pack", items);

  /** Tensors joined along `axis`; one tensor is itself. */
  concat = (items: readonly Node[], axis: number): Node => (items.length === 1 && axis < items[0].shape.length ? items[0] : this.make("concat", items, axis));

  // ---- composites, written in primitives
  scale = (c: number, a: Node) => this.mul(this.constant(c), a);
  square = (a: Node) => this.pow(a, this.constant(2));
  mean = (a: Node) => this.mul(this.constant(1 / a.shape.reduce((x, y) => x * y, 1)), this.sum(a));
  dot = (a: Node, b: Node) => this.sum(this.mul(a, b));
  /** softmax(x) = exp(x − lse(x)): shares lse with a cross-entropy built on the same logits. */
  softmax = (a: Node) => this.exp(this.sub(a, this.logsumexp(a)));
  /** x − lse(x) along `axis`: finite for any logits. */
  logSoftmaxAlong = (a: Node, axis: number) => this.sub(a, this.expandAlong(this.reduce("lse", a, axis), a, axis));
  /** exp(x − lse(x)) along `axis`. */
  softmaxAlong = (a: Node, axis: number) => this.exp(this.logSoftmaxAlong(a, axis));
  /** The mean along `axis`. */
  meanAlong = (a: Node, axis: number) => this.scale(1 / a.shape[axis], this.reduce("sum", a, axis));
  /** A value reduced along `axis` of `like`, read back over `like`'s shape. */
  expandAlong = (reduced: Node, like: Node, axis: number): Node =>
    this.expand(reduced, reinsertAxis(like.shape.length, axis), like.shape);
  /** max(0, x): a tie goes to the first operand, so relu′(0) = 0 */
  relu = (a: Node) => this.max(this.constant(0), a);
  /** x where x > 0, else slope·x: the gradient at 0 is the slope, as in PyTorch and TF.js */
  leakyRelu = (a: Node, slope: Node = this.constant(0.01)) => this.select(this.gt(a, this.constant(0)), a, this.mul(slope, a));
  /**
   * x where x > 0, else α(eˣ − 1); exp only ever sees the non-positive part of x, so the unused branch cannot
   * overflow, and the gradient at 0 is α, as in PyTorch and TF.js
   */
  elu = (a: Node, alpha: Node = this.constant(1)) => {
    const positive = this.gt(a, this.constant(0));
    return this.select(positive, a, this.mul(alpha, this.expm1(this.select(positive, this.constant(0), a))));
  };
  /** λ·elu(x, α) with the constants of self-normalising networks */
  selu = (a: Node) => this.scale(SELU_LAMBDA, this.elu(a, this.constant(SELU_ALPHA)));
  /** x where x > 0, else α(e^(x/α) − 1) */
  celu = (a: Node, alpha: Node = this.constant(1)) => {
    const positive = this.gt(a, this.constant(0));
    return this.select(positive, a, this.mul(alpha, this.expm1(this.div(this.select(positive, this.constant(0), a), alpha))));
  };
  /** min(6, max(0, x)): the constants come first, so the gradient is 0 at both kinks (as PyTorch) */
  relu6 = (a: Node) => this.min(this.constant(6), this.relu(a));
  /** relu6(x + 3) / 6, PyTorch's hardsigmoid */
  hardSigmoid = (a: Node) => this.scale(1 / 6, this.relu6(this.add(a, this.constant(3))));
  /** x · hardSigmoid(x) */
  hardSwish = (a: Node) => this.mul(a, this.hardSigmoid(a));
  /** x · tanh(softplus(x)) */
  mish = (a: Node) => this.mul(a, this.tanh(this.softplus(a)));
  /** log σ(x) = −softplus(−x), finite for any x */
  logSigmoid = (a: Node) => this.neg(this.softplus(this.neg(a)));
  /** lo where x < lo, hi where x > hi, else x: the gradient passes at both bounds, as in PyTorch and TF.js */
  clamp = (a: Node, lo: Node, hi: Node) => this.select(this.gt(lo, a), lo, this.select(this.gt(a, hi), hi, a));
  expm1 = (a: Node) => this.make("expm1", [a]);
  erf = (a: Node) => this.make("erf", [a]);
  softsign = (a: Node) => this.div(a, this.add(this.constant(1), this.abs(a)));
  swish = (a: Node) => this.mul(a, this.sigmoid(a));
  /** the exact GELU, x·Φ(x) = 0.5x(1 + erf(x/√2)) (PyTorch's default) */
  geluExact = (a: Node) => this.mul(this.scale(0.5, a), this.add(this.constant(1), this.erf(this.scale(Math.SQRT1_2, a))));
  /** tanh form: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) */
  gelu = (a: Node) => {
    const inner = this.scale(Math.sqrt(2 / Math.PI), this.add(a, this.scale(0.044715, this.pow(a, this.constant(3)))));
    return this.mul(this.scale(0.5, a), this.add(this.constant(1), this.tanh(inner)));
  };
}
