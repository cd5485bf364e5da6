/**
 * The op table: for every primitive, its shape rule, reference evaluation (f64, per sample), vector-Jacobian
 * product, emission and cost. The autodiff driver, the interpreter, the lowering and the statistics all read
 * this one table; an op missing a rule fails by name.
 */
import type { Graph } from "./graph.ts";
import { type Node, type OpName, type Shape, isConst, sameShape, shapeText, sizeOf } from "./node.ts";
import { KERNELS, type Kernel } from "../lower/kernels.ts";

export class ShapeError extends Error {}

/** Emits one element of an elementwise op from its operands' element expressions. */
export type ElementEmitter = (args: readonly string[], n: Node, operand: (m: Node) => string) => string;

export interface OpRule {
  arity: number;
  /** Output shape from input shapes; throws ShapeError with a readable reason. */
  shape(inputs: readonly Node[], attr: unknown): Shape;
  /** Reference value of one sample, in f64. */
  evaluate(values: readonly Float64Array[], n: Node): Float64Array;
  /** Cotangent contribution for input `i` given the output cotangent `ct`; null when it is zero. */
  vjp(g: Graph, n: Node, ct: Node, i: number): Node | null;
  /** Elementwise ops give an element expression; structural ops a loop kernel. */
  emit: { element: ElementEmitter } | { kernel: Kernel };
  /** Arithmetic operations per output element (structural ops count their own work in `work`). */
  cost: number;
  /** Math-style rendering for comments and derivations, from operand texts. */
  formula(args: readonly string[], n: Node): string;
}

// ---- helpers for the table -------------------------------------------------------------------------

function broadcastShape(inputs: readonly Node[]): Shape {
  const tensors = inputs.filter((n) => n.shape.length > 0);
  for (const t of tensors) {
    if (!sameShape(t.shape, tensors[0].shape)) {
      throw new ShapeError(
        `elementwise operands must have the same shape or be scalars, found ${inputs.map((n) => shapeText(n.shape)).join(" and ")}`,
      );
    }
  }
  return tensors.length > 0 ? tensors[0].shape : [];
}

function elementwiseEval(fn: (...xs: number[]) => number) {
  return (values: readonly Float64Array[], n: Node): Float64Array => {
    const out = new Float64Array(sizeOf(n.shape));
    const args = new Array<number>(values.length);
    for (let i = 0; i < out.length; i++) {
      for (let k = 0; k < values.length; k++) args[k] = values[k].length === 1 ? values[k][0] : values[k][i];
      out[i] = fn(...args);
    }
    return out;
  };
}

type Vjp = OpRule["vjp"];
const noGrad: Vjp = () => null;
const call = (f: string) => (a: readonly string[]) => `${f}(${a.join(", ")})`;
/** `(x + y)` → `x + y`: drops one pair of parentheses around a whole formula (e.g. a function argument). */
export function bare(text: string): string {
  if (!text.startsWith("(") || !text.endsWith(")")) return text;
  let depth = 0;
  for (let i = 0; i < text.length - 1; i++) {
    depth += text[i] === "(" ? 1 : text[i] === ")" ? -1 : 0;
    if (depth === 0) return text;
  }
  return text.slice(1, -1);
}
const infix = (op: string) => (a: readonly string[]) => `(${a[0]} ${op} ${a[1]})`;

function unary(
  fn: (x: number) => number,
  element: ElementEmitter,
  vjp: Vjp,
  formula: (a: string) => string,
  cost = 1,
): OpRule {
  return {
    arity: 1,
    shape: (ins) => ins[0].shape,
    evaluate: elementwiseEval(fn),
    vjp,
    emit: { element },
    cost,
    formula: (a) => formula(bare(a[0])),
  };
}

/** `symbol` is an infix operator, or a function name when it is a word (max, min). */
function binary(fn: (a: number, b: number) => number, element: ElementEmitter, vjp: Vjp, symbol: string, cost = 1): OpRule {
  return {
    arity: 2,
    shape: broadcastShape,
    evaluate: elementwiseEval(fn),
    vjp,
    emit: { element },
    cost,
    formula: (a) => (/^\w+$/.test(symbol) ? `${symbol}(${bare(a[0])}, ${bare(a[1])})` : `(${a[0]} ${symbol} ${a[1]})`),
  };
}

function leaf(): OpRule {
  return {
    arity: 0,
    shape: () => {
      throw new Error("internal: leaves carry their own shape");
    },
    evaluate: () => {
      throw new Error("internal: leaves are bound by the interpreter");
    },
    vjp: noGrad,
    emit: { element: () => "" },
    cost: 0,
    formula: (_a, n) => String(n.attr),
  };
}

/** VJP of max/min: the cotangent goes to `a` where a > b is (larger) or is not (smaller), else to `b`. */
function toWinner(which: "larger" | "smaller"): Vjp {
  return (g, n, ct, i) => {
    const aIsLarger = g.gt(n.inputs[0], n.inputs[1]);
    // input i wins where a > b when it is a and we want the larger, or b and we want the smaller
    const winsWhereALarger = (i === 0) === (which === "larger");
    return winsWhereALarger ? g.select(aIsLarger, ct, g.constant(0)) : g.select(aIsLarger, g.constant(0), ct);
  };
}

const sigmoidFn = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplusFn = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const ins = (n: Node, i: number) => n.inputs[i];

// ---- the table ---------------------------------------------------------------------------------------

export const OPS: Record<OpName, OpRule> = {
  param: leaf(),
  input: leaf(),
  target: leaf(),
  const: leaf(),

  // d(-x) = -dx
  neg: unary((x) => -x, (a) => `(-${a[0]})`, (g, _n, ct) => g.neg(ct), (a) => `-${a}`),
  // d exp(x) = exp(x) dx, reusing the forward value
  exp: unary(Math.exp, call("Math.exp"), (g, n, ct) => g.mul(ct, n), (a) => `exp(${a})`),
  // d log(x) = dx / x
  log: unary(Math.log, call("Math.log"), (g, n, ct) => g.div(ct, ins(n, 0)), (a) => `log(${a})`),
  // d sqrt(x) = dx / (2 sqrt(x))
  sqrt: unary(Math.sqrt, call("Math.sqrt"), (g, n, ct) => g.div(ct, g.mul(g.constant(2), n)), (a) => `√(${a})`),
  // d |x| = sign(x) dx
  abs: unary(Math.abs, call("Math.abs"), (g, n, ct) => g.mul(ct, g.sign(ins(n, 0))), (a) => `|${a}|`),
  sign: unary(Math.sign, call("Math.sign"), noGrad, (a) => `sign(${a})`),
  // d tanh(x) = (1 - tanh²(x)) dx
  tanh: unary(Math.tanh, call("Math.tanh"), (g, n, ct) => g.mul(ct, g.sub(g.constant(1), g.mul(n, n))), (a) => `tanh(${a})`),
  // d σ(x) = σ(x)(1 - σ(x)) dx
  sigmoid: unary(
    sigmoidFn,
    call("sigmoid"),
    (g, n, ct) => g.mul(ct, g.mul(n, g.sub(g.constant(1), n))),
    (a) => `σ(${a})`,
    3,
  ),
  // d softplus(x) = σ(x) dx; emitted in the overflow-free form max(x, 0) + log1p(exp(-|x|))
  softplus: unary(softplusFn, call("softplus"), (g, n, ct) => g.mul(ct, g.sigmoid(ins(n, 0))), (a) => `softplus(${a})`, 4),

  add: binary((a, b) => a + b, infix("+"), (_g, _n, ct) => ct, "+"),
  sub: binary((a, b) => a - b, infix("-"), (g, _n, ct, i) => (i === 0 ? ct : g.neg(ct)), "-"),
  // d(ab) = b da + a db
  mul: { ...binary((a, b) => a * b, infix("*"), (g, n, ct, i) => g.mul(ct, ins(n, 1 - i)), "·"), formula: (a, n) => `(${a[0]} ${n.inputs.every((i) => i.shape.length > 0) ? "⊙" : "·"} ${a[1]})` },
  // d(a/b) = da / b - (a/b) db / b
  div: binary(
    (a, b) => a / b,
    infix("/"),
    (g, n, ct, i) => (i === 0 ? g.div(ct, ins(n, 1)) : g.neg(g.div(g.mul(ct, n), ins(n, 1)))),
    "/",
  ),
  // d(a^b) = b a^(b-1) da + a^b log(a) db
  pow: binary(
    Math.pow,
    // a square of a plain value is a multiplication (cheaper than **, and exact)
    (a, n) => (isConst(n.inputs[1], 2) && /^[\w$]+(\[[\w$ +*]+\])?$/.test(a[0]) ? `(${a[0]} * ${a[0]})` : `(${a[0]} ** ${a[1]})`),
    (g, n, ct, i) =>
      i === 0
        ? g.mul(ct, g.mul(ins(n, 1), g.pow(ins(n, 0), g.sub(ins(n, 1), g.constant(1)))))
        : g.mul(ct, g.mul(n, g.log(ins(n, 0)))),
    "^",
  ),
  // d max(a, b) and d min(a, b) route the cotangent to the operand that won the comparison
  max: binary(Math.max, call("Math.max"), toWinner("larger"), "max"),
  min: binary(Math.min, call("Math.min"), toWinner("smaller"), "min"),
  gt: binary((a, b) => (a > b ? 1 : 0), (a) => `(${a[0]} > ${a[1]} ? 1 : 0)`, noGrad, ">"),
  // select(c, a, b) = c ≠ 0 ? a : b; a comparison condition is emitted in place
  select: {
    arity: 3,
    shape: broadcastShape,
    evaluate: elementwiseEval((c, a, b) => (c !== 0 ? a : b)),
    vjp: (g, n, ct, i) =>
      i === 0 ? null : i === 1 ? g.select(ins(n, 0), ct, g.constant(0)) : g.select(ins(n, 0), g.constant(0), ct),
    emit: {
      element: (a, n, operand) => {
        const c = ins(n, 0);
        const test = c.op === "gt" ? `${operand(ins(c, 0))} > ${operand(ins(c, 1))}` : `${a[0]} !== 0`;
        return `(${test} ? ${a[1]} : ${a[2]})`;
      },
    },
    cost: 1,
    formula: (a) => `(${a[0]} ? ${a[1]} : ${a[2]})`,
  },

  // C = A·B; dA = dC·Bᵀ, dB = Aᵀ·dC (vectors: outer products and dot products)
  matmul: {
    arity: 2,
    shape: ([a, b]) => matmulShape(a.shape, b.shape),
    evaluate: ([a, b], n) => matmulEval(a, b, n.inputs[0].shape, n.inputs[1].shape),
    vjp: (g, n, ct, i) => matmulVjp(g, n, ct, i),
    emit: { kernel: KERNELS.matmul },
    cost: 0,
    formula: (a) => `${a[0]} · ${a[1]}`,
  },
  // (Aᵀ)ᵀ: the cotangent is transposed back
  transpose: {
    arity: 1,
    shape: ([a]) => {
      if (a.shape.length !== 2) throw new ShapeError(`transpose needs a matrix, found ${shapeText(a.shape)}`);
      return [a.shape[1], a.shape[0]];
    },
    evaluate: ([a], n) => {
      const [r, c] = n.shape;
      const out = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = a[j * r + i];
      return out;
    },
    vjp: (g, _n, ct) => g.transpose(ct),
    emit: { kernel: KERNELS.transpose },
    cost: 0,
    formula: (a) => `${a[0]}ᵀ`,
  },
  // (a ⊗ b)[i,j] = a[i] b[j]; da = dC·b, db = aᵀ·dC
  outer: {
    arity: 2,
    shape: ([a, b]) => {
      if (a.shape.length !== 1 || b.shape.length !== 1) {
        throw new ShapeError(`outer product needs two vectors, found ${shapeText(a.shape)} and ${shapeText(b.shape)}`);
      }
      return [a.shape[0], b.shape[0]];
    },
    evaluate: ([a, b]) => {
      const out = new Float64Array(a.length * b.length);
      for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i * b.length + j] = a[i] * b[j];
      return out;
    },
    vjp: (g, n, ct, i) => (i === 0 ? g.matmul(ct, ins(n, 1)) : g.matmul(ins(n, 0), ct)),
    emit: { kernel: KERNELS.outer },
    cost: 1,
    formula: (a) => `${a[0]} ⊗ ${a[1]}`,
  },
  // Σx: every element receives the cotangent
  sum: {
    arity: 1,
    shape: () => [],
    evaluate: ([a]) => Float64Array.of(a.reduce((s, v) => s + v, 0)),
    vjp: (g, n, ct) => g.broadcast(ct, ins(n, 0).shape),
    emit: { kernel: KERNELS.sum },
    cost: 1,
    formula: (a) => `Σ(${bare(a[0])})`,
  },
  // a scalar repeated over a shape: the cotangent is summed back
  broadcast: {
    arity: 1,
    shape: () => {
      throw new Error("internal: broadcast carries its own shape");
    },
    evaluate: ([a], n) => new Float64Array(sizeOf(n.shape)).fill(a[0]),
    vjp: (g, _n, ct) => g.sum(ct),
    emit: { kernel: KERNELS.broadcast },
    cost: 0,
    formula: (a) => `${a[0]}·𝟙`,
  },
  // lse(x) = m + log Σ exp(x − m), m = max x; d lse = softmax(x) = exp(x − lse(x)), reusing the forward value
  logsumexp: {
    arity: 1,
    shape: () => [],
    evaluate: ([a]) => {
      const m = a.reduce((s, v) => Math.max(s, v), -Infinity);
      return Float64Array.of(m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0)));
    },
    vjp: (g, n, ct) => g.mul(ct, g.exp(g.sub(ins(n, 0), n))),
    emit: { kernel: KERNELS.logsumexp },
    cost: 3,
    formula: (a) => `logsumexp(${bare(a[0])})`,
  },
  // mean over the samples of the batch; its cotangent reaches every sample unchanged (the 1/B is applied here)
  batchMean: {
    arity: 1,
    shape: ([a]) => a.shape,
    evaluate: () => {
      throw new Error("internal: batchMean is evaluated by the interpreter");
    },
    vjp: (_g, _n, ct) => ct,
    emit: { kernel: KERNELS.batchMean },
    cost: 1,
    formula: (a) => `mean_batch(${bare(a[0])})`,
  },
};

// ---- matmul cases ----------------------------------------------------------------------------------

export function matmulShape(a: Shape, b: Shape): Shape {
  const mismatch = () =>
    new ShapeError(`matrix product needs matching inner sizes, found ${shapeText(a)} * ${shapeText(b)}`);
  if (a.length === 0 || b.length === 0) throw new ShapeError("matrix product of a scalar: use scaling instead");
  const inner = (s: Shape, first: boolean) => (s.length === 1 ? s[0] : first ? s[1] : s[0]);
  if (inner(a, true) !== inner(b, false)) throw mismatch();
  return [...(a.length === 2 ? [a[0]] : []), ...(b.length === 2 ? [b[1]] : [])];
}

function matmulEval(a: Float64Array, b: Float64Array, as: Shape, bs: Shape): Float64Array {
  const m = as.length === 2 ? as[0] : 1;
  const k = as.length === 2 ? as[1] : as[0];
  const n = bs.length === 2 ? bs[1] : 1;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      out[i * n + j] = s;
    }
  return out;
}

function matmulVjp(g: Graph, n: Node, ct: Node, i: number): Node {
  const [a, b] = n.inputs;
  const [ra, rb] = [a.shape.length, b.shape.length];
  if (i === 0) {
    if (ra === 1 && rb === 1) return g.mul(ct, b); // dot: d a = dC · b
    if (ra === 2 && rb === 1) return g.outer(ct, b); // d A = dc ⊗ b
    if (ra === 1) return g.matmul(b, ct); // a·B: d a = B · dc
    return g.matmul(ct, g.transpose(b)); // d A = dC · Bᵀ
  }
  if (ra === 1 && rb === 1) return g.mul(ct, a);
  if (ra === 1 && rb === 2) return g.outer(a, ct); // d B = a ⊗ dc
  if (rb === 1) return g.matmul(g.transpose(a), ct); // d b = Aᵀ · dc
  return g.matmul(g.transpose(a), ct); // d B = Aᵀ · dC
}

/** Elementwise ops compute each output element from the same element of each operand. */
export function isElementwise(op: OpName): boolean {
  const rule = OPS[op];
  return rule.arity > 0 && "element" in rule.emit;
}
