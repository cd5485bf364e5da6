/**
 * The op table: for every primitive, its shape rule, reference evaluation (f64, per sample), vector-Jacobian
 * product, cost and math form. The autodiff driver, the interpreter, the simplifier, the statistics and every
 * printer of formulas read this one table; how an op becomes code is the business of lower/ and of each
 * renderer (one line per elementwise op there). An op missing a rule fails by name.
 */
import type { Graph } from "./graph.ts";
import {
  type AxisMap,
  type SlicePart,
  coordinates,
  inverseView,
  parseAxisMap,
  parseReduce,
  parseSlice,
  parseView,
  reinsertAxis,
  sliceShape,
  sliceText,
  smallIndex,
  strides,
  unsliceFill,
  viewSource,
  wholeIndex,
  withoutAxis,
} from "./axes.ts";
import { type MathExpr, binary, fn, isNum, num, raw } from "./math.ts";
import { type ElementwiseOp, type Node, type OpName, type ReduceKind, type Shape, isElementwiseOp, sameShape, shapeText, sizeOf } from "./node.ts";
import { uniform24 } from "./random.ts";
import { erfcFn, erfFn } from "./special.ts";

export class ShapeError extends Error {}

export interface OpRule {
  /** How many inputs; "any" for ops that lay out any number of values (pack, concat). */
  arity: number | "any";
  /** Output shape from input shapes; throws ShapeError with a readable reason. */
  shape(inputs: readonly Node[], attr: unknown): Shape;
  /** Reference value of one sample, in f64. */
  evaluate(values: readonly Float64Array[], n: Node): Float64Array;
  /** Cotangent contribution for input `i` given the output cotangent `ct`; null when it is zero. */
  vjp(g: Graph, n: Node, ct: Node, i: number): Node | null;
  /** Arithmetic operations to compute the node once (for one sample). */
  cost(n: Node): number;
  /** The value in math notation, from its operands' math forms. */
  math(args: readonly MathExpr[], n: Node): MathExpr;
}

/** An elementwise op also has its scalar function: the reference for every renderer's line. */
export interface ElementwiseRule extends OpRule {
  scalar(...xs: number[]): number;
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

function elementwiseEval(scalar: (...xs: number[]) => number) {
  return (values: readonly Float64Array[], n: Node): Float64Array => {
    const out = new Float64Array(sizeOf(n.shape));
    const args = new Array<number>(values.length);
    for (let i = 0; i < out.length; i++) {
      for (let k = 0; k < values.length; k++) args[k] = values[k].length === 1 ? values[k][0] : values[k][i];
      out[i] = scalar(...args);
    }
    return out;
  };
}

type Vjp = OpRule["vjp"];
type MathRule = OpRule["math"];
const noGrad: Vjp = () => null;
/** `costPerElement` operations for each element of the result. */
const perElement = (costPerElement: number) => (n: Node) => costPerElement * sizeOf(n.shape);
/** A function applied by name, in both notations. */
const named = (plain: string, latex = plain) => (a: readonly MathExpr[]) => fn(plain, latex, a);

function elementwise(arity: number, scalar: (...xs: number[]) => number, vjp: Vjp, math: MathRule, cost = 1): ElementwiseRule {
  return {
    arity,
    shape: arity === 1 ? (ins) => ins[0].shape : broadcastShape,
    evaluate: elementwiseEval(scalar),
    vjp,
    cost: perElement(cost),
    math,
    scalar,
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
    cost: () => 0,
    math: () => {
      throw new Error("internal: leaves are symbols");
    },
  };
}

/**
 * VJP of max/min: the cotangent goes to the operand that won; at a tie, to the first, for max and min alike
 * (as TF.js). relu(x) = max(0, x) therefore has relu′(0) = 0: its first operand is the constant.
 */
function toWinner(which: "larger" | "smaller"): Vjp {
  return (g, n, ct, i) => {
    const [a, b] = n.inputs;
    const bWins = which === "larger" ? g.gt(b, a) : g.gt(a, b);
    return i === 0 ? g.select(bWins, g.constant(0), ct) : g.select(bWins, ct, g.constant(0));
  };
}

/** A unary op whose derivative is `d(x, y)` (x its operand, y its value): the cotangent times it. */
const chain = (d: (g: Graph, x: Node, y: Node) => Node): Vjp => (g, n, ct) => g.mul(ct, d(g, ins(n, 0), n));
/** A step function: its derivative is 0 wherever it is defined. */
const flat: Vjp = noGrad;
const LN2 = Math.LN2;
const LN10 = Math.LN10;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** select(c, x, 0) reads x ⊙ 1[c], select(a > b, 0, x) reads x ⊙ 1[a ≤ b]; anything else is a case split. */
const selectMath: MathRule = ([cond, a, b], n) => {
  const product = n.shape.length > 0 ? "had" : "scale";
  if (isNum(b, 0)) return binary(product, a, { k: "ind", cond });
  if (isNum(a, 0) && cond.k === "cmp" && cond.op === ">") return binary(product, b, { k: "ind", cond: { ...cond, op: "≤" } });
  return { k: "sel", cond, a, b };
};

/** Rounding half away from zero (mathjs's round; Math.round rounds halves up). */
const roundFn = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));
/** mathjs's mod: the remainder with the sign of the divisor, x − y·floor(x/y). */
const modFn = (x: number, y: number) => x - y * Math.floor(x / y);
const sigmoidFn = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplusFn = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const ins = (n: Node, i: number) => n.inputs[i];
const bothTensors = (n: Node) => n.inputs.every((i) => i.shape.length > 0);

// ---- elementwise ops -----------------------------------------------------------------------------

const ELEMENTWISE_RULES: Record<ElementwiseOp, ElementwiseRule> = {
  // d(-x) = -dx
  neg: elementwise(1, (x) => -x, (g, _n, ct) => g.neg(ct), ([a]) => ({ k: "neg", a })),
  // d exp(x) = exp(x) dx, reusing the forward value
  exp: elementwise(1, Math.exp, (g, n, ct) => g.mul(ct, n), named("exp", "\\exp")),
  // d log(x) = dx / x
  log: elementwise(1, Math.log, (g, n, ct) => g.div(ct, ins(n, 0)), named("log", "\\log")),
  // d sqrt(x) = dx / (2 sqrt(x))
  sqrt: elementwise(1, Math.sqrt, (g, n, ct) => g.div(ct, g.mul(g.constant(2), n)), (a) => fn("√", "\\sqrt", a, "root")),
  // d |x| = sign(x) dx
  abs: elementwise(1, Math.abs, (g, n, ct) => g.mul(ct, g.sign(ins(n, 0))), (a) => fn("abs", "abs", a, "bars")),
  sign: elementwise(1, Math.sign, noGrad, named("sign", "\\operatorname{sign}")),
  // d tanh(x) = (1 - tanh²(x)) dx
  tanh: elementwise(1, Math.tanh, (g, n, ct) => g.mul(ct, g.sub(g.constant(1), g.mul(n, n))), named("tanh", "\\tanh")),
  // d σ(x) = σ(x)(1 - σ(x)) dx
  sigmoid: elementwise(1, sigmoidFn, (g, n, ct) => g.mul(ct, g.mul(n, g.sub(g.constant(1), n))), named("σ", "\\sigma"), 3),
  // d softplus(x) = σ(x) dx; computed in the overflow-free form max(x, 0) + log1p(exp(-|x|))
  softplus: elementwise(1, softplusFn, (g, n, ct) => g.mul(ct, g.sigmoid(ins(n, 0))), named("softplus", "\\operatorname{softplus}"), 4),

  // d expm1(x) = (expm1(x) + 1) dx
  expm1: elementwise(1, Math.expm1, chain((g, _x, y) => g.add(y, g.constant(1))), named("expm1", "\\operatorname{expm1}")),
  // d log1p(x) = dx / (1 + x)
  log1p: elementwise(1, Math.log1p, (g, n, ct) => g.div(ct, g.add(g.constant(1), ins(n, 0))), named("log1p", "\\operatorname{log1p}")),
  // d log₂(x) = dx / (x ln 2)
  log2: elementwise(1, Math.log2, (g, n, ct) => g.div(ct, g.mul(g.constant(LN2), ins(n, 0))), named("log₂", "\\log_2")),
  // d log₁₀(x) = dx / (x ln 10)
  log10: elementwise(1, Math.log10, (g, n, ct) => g.div(ct, g.mul(g.constant(LN10), ins(n, 0))), named("log₁₀", "\\log_{10}")),
  // d ∛x = dx / (3 ∛x²)
  cbrt: elementwise(1, Math.cbrt, (g, n, ct) => g.div(ct, g.mul(g.constant(3), g.mul(n, n))), named("cbrt", "\\sqrt[3]")),
  // d sin(x) = cos(x) dx
  sin: elementwise(1, Math.sin, chain((g, x) => g.make("cos", [x])), named("sin", "\\sin")),
  // d cos(x) = −sin(x) dx
  cos: elementwise(1, Math.cos, chain((g, x) => g.neg(g.make("sin", [x]))), named("cos", "\\cos")),
  // d tan(x) = (1 + tan²(x)) dx
  tan: elementwise(1, Math.tan, chain((g, _x, y) => g.add(g.constant(1), g.mul(y, y))), named("tan", "\\tan")),
  // d asin(x) = dx / √(1 − x²)
  asin: elementwise(1, Math.asin, (g, n, ct) => g.div(ct, g.sqrt(g.sub(g.constant(1), g.mul(ins(n, 0), ins(n, 0))))), named("asin", "\\arcsin")),
  // d acos(x) = −dx / √(1 − x²)
  acos: elementwise(1, Math.acos, (g, n, ct) => g.neg(g.div(ct, g.sqrt(g.sub(g.constant(1), g.mul(ins(n, 0), ins(n, 0)))))), named("acos", "\\arccos")),
  // d atan(x) = dx / (1 + x²)
  atan: elementwise(1, Math.atan, (g, n, ct) => g.div(ct, g.add(g.constant(1), g.mul(ins(n, 0), ins(n, 0)))), named("atan", "\\arctan")),
  // d sinh(x) = cosh(x) dx
  sinh: elementwise(1, Math.sinh, chain((g, x) => g.make("cosh", [x])), named("sinh", "\\sinh")),
  // d cosh(x) = sinh(x) dx
  cosh: elementwise(1, Math.cosh, chain((g, x) => g.make("sinh", [x])), named("cosh", "\\cosh")),
  // d asinh(x) = dx / √(x² + 1)
  asinh: elementwise(1, Math.asinh, (g, n, ct) => g.div(ct, g.sqrt(g.add(g.mul(ins(n, 0), ins(n, 0)), g.constant(1)))), named("asinh", "\\operatorname{arsinh}")),
  // d acosh(x) = dx / √(x² − 1)
  acosh: elementwise(1, Math.acosh, (g, n, ct) => g.div(ct, g.sqrt(g.sub(g.mul(ins(n, 0), ins(n, 0)), g.constant(1)))), named("acosh", "\\operatorname{arcosh}")),
  // d atanh(x) = dx / (1 − x²)
  atanh: elementwise(1, Math.atanh, (g, n, ct) => g.div(ct, g.sub(g.constant(1), g.mul(ins(n, 0), ins(n, 0)))), named("atanh", "\\operatorname{artanh}")),
  // d erf(x) = (2/√π) e^(−x²) dx
  erf: elementwise(1, erfFn, chain((g, x) => g.scale(TWO_OVER_SQRT_PI, g.exp(g.neg(g.mul(x, x))))), named("erf", "\\operatorname{erf}")),
  // d erfc(x) = −(2/√π) e^(−x²) dx
  erfc: elementwise(1, erfcFn, chain((g, x) => g.scale(-TWO_OVER_SQRT_PI, g.exp(g.neg(g.mul(x, x))))), named("erfc", "\\operatorname{erfc}")),
  // steps: the derivative is 0 away from the jumps (and taken as 0 at them)
  floor: elementwise(1, Math.floor, flat, named("floor", "\\operatorname{floor}")),
  ceil: elementwise(1, Math.ceil, flat, named("ceil", "\\operatorname{ceil}")),
  round: elementwise(1, roundFn, flat, named("round", "\\operatorname{round}")),

  add: elementwise(2, (a, b) => a + b, (_g, _n, ct) => ct, ([a, b]) => binary("add", a, b)),
  sub: elementwise(2, (a, b) => a - b, (g, _n, ct, i) => (i === 0 ? ct : g.neg(ct)), ([a, b]) => binary("sub", a, b)),
  // d(ab) = b da + a db
  mul: elementwise(2, (a, b) => a * b, (g, n, ct, i) => g.mul(ct, ins(n, 1 - i)), ([a, b], n) => binary(bothTensors(n) ? "had" : "scale", a, b)),
  // d(a/b) = da / b - (a/b) db / b
  div: elementwise(
    2,
    (a, b) => a / b,
    (g, n, ct, i) => (i === 0 ? g.div(ct, ins(n, 1)) : g.neg(g.div(g.mul(ct, n), ins(n, 1)))),
    ([a, b]) => binary("div", a, b),
  ),
  // d(a^b) = b a^(b-1) da + a^b log(a) db, the second taken as 0 where a ≤ 0 (a^b is 0 at a = 0 for b > 0, and
  // a negative base has no real logarithm: PyTorch and TF.js give 0 there too)
  pow: elementwise(
    2,
    Math.pow,
    (g, n, ct, i) => {
      const [a, b] = n.inputs;
      if (i === 0) return g.mul(ct, g.mul(b, g.pow(a, g.sub(b, g.constant(1)))));
      const positive = g.gt(a, g.constant(0));
      // log(a) only where a > 0, so that 0·(−∞) never appears
      const safeLog = g.log(g.select(positive, a, g.constant(1)));
      return g.select(positive, g.mul(ct, g.mul(n, safeLog)), g.constant(0));
    },
    ([a, b]) => binary("pow", a, b),
  ),
  // d atan2(y, x) = (x dy − y dx) / (x² + y²)
  atan2: elementwise(
    2,
    Math.atan2,
    (g, n, ct, i) => {
      const [y, x] = n.inputs;
      const r2 = g.add(g.mul(x, x), g.mul(y, y));
      return i === 0 ? g.div(g.mul(ct, x), r2) : g.neg(g.div(g.mul(ct, y), r2));
    },
    named("atan2", "\\operatorname{atan2}"),
  ),
  // mod(a, b) = a − b·floor(a/b): d/da = 1, d/db = −floor(a/b) (away from the jumps)
  mod: elementwise(
    2,
    modFn,
    (g, n, ct, i) => (i === 0 ? ct : g.neg(g.mul(ct, g.make("floor", [g.div(ins(n, 0), ins(n, 1))])))),
    named("mod", "\\operatorname{mod}"),
  ),
  // d max(a, b) and d min(a, b) route the cotangent to the operand that won the comparison
  max: elementwise(2, Math.max, toWinner("larger"), named("max", "\\max")),
  min: elementwise(2, Math.min, toWinner("smaller"), named("min", "\\min")),
  // comparisons: 1 where they hold, 0 elsewhere; no gradient
  gt: elementwise(2, (a, b) => (a > b ? 1 : 0), noGrad, ([a, b]) => ({ k: "cmp", op: ">", a, b })),
  ge: elementwise(2, (a, b) => (a >= b ? 1 : 0), noGrad, ([a, b]) => ({ k: "cmp", op: "≥", a, b })),
  eq: elementwise(2, (a, b) => (a === b ? 1 : 0), noGrad, ([a, b]) => ({ k: "cmp", op: "=", a, b })),
  ne: elementwise(2, (a, b) => (a !== b ? 1 : 0), noGrad, ([a, b]) => ({ k: "cmp", op: "≠", a, b })),
  // select(c, a, b) = c ≠ 0 ? a : b
  select: elementwise(
    3,
    (c, a, b) => (c !== 0 ? a : b),
    (g, n, ct, i) => (i === 0 ? null : i === 1 ? g.select(ins(n, 0), ct, g.constant(0)) : g.select(ins(n, 0), g.constant(0), ct)),
    selectMath,
  ),
  // a counter-based random number (ir/random.ts): no gradient to its seed, step, stream or counter
  uniform: elementwise(4, uniform24, noGrad, named("uniform", "\\operatorname{U}"), 12),
};

// ---- structural ops ------------------------------------------------------------------------------

/** The shape rule of an op whose node is made with its shape (broadcasts, scatters): never asked. */
function ownShape(op: string): () => never {
  return () => {
    throw new Error(`internal: ${op} carries its own shape`);
  };
}

const STRUCTURAL_RULES = {
  // C = A·B; dA = dC·Bᵀ, dB = Aᵀ·dC (vectors: outer products and dot products)
  matmul: {
    arity: 2,
    shape: ([a, b]) => matmulShape(a.shape, b.shape),
    evaluate: ([a, b], n) => matmulEval(a, b, n.inputs[0].shape, n.inputs[1].shape),
    vjp: (g, n, ct, i) => matmulVjp(g, n, ct, i),
    // one multiply and one add per term of every output element
    cost: (n) => 2 * innerSize(n) * Math.max(1, sizeOf(n.shape)),
    math: ([a, b], n) => {
      if (n.inputs.every((i) => i.shape.length === 1)) return binary("mm", { k: "T", a }, b);
      // Aᵀ·B over a recurrence's steps (a shared weight's gradient after the sweep) is Σ_t a_t b_tᵀ, as derivations write it
      const [left, right] = n.inputs;
      if (left.op === "transpose" && left.inputs[0].op === "stack" && a.k === "T") return sumOverSteps(binary("outer", rowAtStep(a.a, left.inputs[0]), rowAtStep(b, right)));
      return binary("mm", a, b);
    },
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
    cost: () => 0,
    math: ([a]) => ({ k: "T", a }),
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
    cost: perElement(1),
    math: ([a, b]) => binary("outer", a, b),
  },
  // Σx: every element receives the cotangent
  sum: {
    arity: 1,
    shape: () => [],
    evaluate: ([a]) => Float64Array.of(a.reduce((s, v) => s + v, 0)),
    vjp: (g, n, ct) => g.broadcast(ct, ins(n, 0).shape),
    cost: (n) => sizeOf(ins(n, 0).shape),
    math: ([a]) => ({ k: "sum", a }),
  },
  // a scalar repeated over a shape: the cotangent is summed back
  broadcast: {
    arity: 1,
    shape: ownShape("broadcast"),
    evaluate: ([a], n) => new Float64Array(sizeOf(n.shape)).fill(a[0]),
    vjp: (g, _n, ct) => g.sum(ct),
    cost: () => 0,
    math: ([a]) => ({ k: "bcast", a }),
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
    // a comparison, a subtraction and an exp per element
    cost: (n) => 3 * sizeOf(ins(n, 0).shape),
    math: named("logsumexp", "\\operatorname{logsumexp}"),
  },
  // mean over the samples of the batch; its cotangent reaches every sample unchanged (the 1/B is applied here)
  batchMean: {
    arity: 1,
    shape: ([a]) => a.shape,
    evaluate: () => {
      throw new Error("internal: batchMean is evaluated by the interpreter");
    },
    vjp: (_g, _n, ct) => ct,
    // one addition per element per sample
    cost: perElement(1),
    math: ([a]) => ({ k: "mean", a }),
  },
  // sum, max, min, prod or log-sum-exp along one axis (the axis is dropped)
  reduce: {
    arity: 1,
    shape: ([a], attr) => {
      const { axis } = parseReduce(attr);
      if (axis >= a.shape.length) throw new ShapeError(`cannot reduce along dimension ${axis + 1} of ${shapeText(a.shape)}`);
      return withoutAxis(a.shape, axis);
    },
    evaluate: ([a], n) => reduceEval(a, ins(n, 0).shape, n),
    vjp: (g, n, ct) => reduceVjp(g, n, ct),
    // lse: a comparison, a subtraction and an exp per element; the others one operation
    cost: (n) => (parseReduce(n.attr).kind === "lse" ? 3 : 1) * sizeOf(ins(n, 0).shape),
    math: ([a], n) => {
      const { kind, axis } = parseReduce(n.attr);
      // the sum of a stack's rows is the sum over the steps
      if (kind === "sum" && axis === 0 && n.inputs[0].op === "stack") return sumOverSteps(rowAtStep(a, n.inputs[0]));
      const [plain, latex] = REDUCE_NAMES[kind];
      return fn(plain, latex, [a, num(axis + 1)]);
    },
  },
  // numpy broadcasting: each element of the result reads the element of the operand its axis map names
  expand: {
    arity: 1,
    shape: ownShape("expand"),
    evaluate: ([a], n) => {
      const map = parseAxisMap(n.attr);
      const small = ins(n, 0).shape;
      return Float64Array.from({ length: sizeOf(n.shape) }, (_, i) => a[smallIndex(i, n.shape, small, map)]);
    },
    // every copy of an element sends its cotangent back: the sum over the broadcast dimensions
    vjp: (g, n, ct) => g.sumTo(ct, parseAxisMap(n.attr), ins(n, 0).shape),
    cost: () => 0,
    math: ([a]) => ({ k: "bcast", a }),
  },
  // the adjoint of expand: each element of the result sums the elements of the operand that read it
  sumTo: {
    arity: 1,
    shape: ownShape("sumTo"),
    evaluate: ([a], n) => {
      const map = parseAxisMap(n.attr);
      const big = ins(n, 0).shape;
      const out = new Float64Array(sizeOf(n.shape));
      a.forEach((v, i) => (out[smallIndex(i, big, n.shape, map)] += v));
      return out;
    },
    vjp: (g, n, ct) => g.expand(ct, parseAxisMap(n.attr), ins(n, 0).shape),
    cost: (n) => sizeOf(ins(n, 0).shape),
    math: ([a], n) => {
      const summed = summedAxes(parseAxisMap(n.attr), n.shape, ins(n, 0).shape).map((d) => d + 1);
      return fn("sum", "\\operatorname{sum}", [a, raw(summed.join(", "), summed.join(", "))]);
    },
  },
  // a part of a tensor; the cotangent goes back to the part, zero elsewhere
  slice: {
    arity: 1,
    shape: ([a], attr) => {
      const parts = parseSlice(attr);
      checkParts(parts, a.shape);
      return sliceShape(parts);
    },
    evaluate: ([a], n) => {
      const parts = parseSlice(n.attr);
      return Float64Array.from({ length: sizeOf(n.shape) }, (_, i) => a[wholeIndex(i, parts, ins(n, 0).shape)]);
    },
    vjp: (g, n, ct) => g.unslice(ct, parseSlice(n.attr), ins(n, 0).shape),
    cost: () => 0,
    math: ([a], n) => ({ k: "index", a, parts: sliceText(parseSlice(n.attr), ins(n, 0).shape) }),
  },
  // the adjoint of slice: the operand placed at the part of a tensor of zeros
  unslice: {
    arity: 1,
    shape: ownShape("unslice"),
    evaluate: ([a], n) => {
      const parts = parseSlice(n.attr);
      const out = new Float64Array(sizeOf(n.shape)).fill(unsliceFill(n.attr));
      a.forEach((v, i) => (out[wholeIndex(i, parts, n.shape)] = v));
      return out;
    },
    // the value around the part is a constant: only the part sends its cotangent back
    vjp: (g, n, ct) => g.slice(ct, parseSlice(n.attr)),
    cost: () => 0,
    math: ([a], n) => {
      const at = sliceText(parseSlice(n.attr), n.shape);
      const fill = unsliceFill(n.attr);
      const around = fill === 0 ? "" : `, ${fill === -Infinity ? "−∞" : fill}`;
      return fn(`place[${at}${around}]`, `\\operatorname{place}_{[${at}${around.replace("−∞", "-\\infty")}]}`, [a]);
    },
  },
  // a reshape, a permutation, windows: element `at` reads the operand at offset + Σ at·strides
  view: {
    arity: 1,
    shape: ownShape("view"),
    evaluate: ([a], n) => {
      const view = parseView(n.attr);
      return Float64Array.from({ length: sizeOf(n.shape) }, (_, i) => a[viewSource(i, n.shape, view)]);
    },
    // each element read sends its cotangent back to where it was read (windows that overlap add up); a
    // reshape or a permutation is undone by its inverse view
    vjp: (g, n, ct) => {
      const source = ins(n, 0).shape;
      const back = inverseView(parseView(n.attr), n.shape, source);
      return back ? g.view(ct, back, source) : g.unview(ct, parseView(n.attr), source);
    },
    cost: () => 0,
    math: ([a], n) => viewMath(a, n, ""),
  },
  // the adjoint of view: every element of the operand added to the element of the result it was read from
  unview: {
    arity: 1,
    shape: ownShape("unview"),
    evaluate: ([a], n) => {
      const view = parseView(n.attr);
      const out = new Float64Array(sizeOf(n.shape));
      const from = ins(n, 0).shape;
      a.forEach((v, i) => (out[viewSource(i, from, view)] += v));
      return out;
    },
    vjp: (g, n, ct) => g.view(ct, parseView(n.attr), ins(n, 0).shape),
    cost: (n) => sizeOf(ins(n, 0).shape),
    math: ([a], n) => viewMath(a, n, "ᵀ"),
  },
  // values of one shape stacked along a new first axis (a row each): [a, b, c], [1, 2; 3, 4]
  pack: {
    arity: "any",
    shape: (inputs) => {
      const [first] = inputs;
      if (!first) throw new ShapeError("an array needs at least one element");
      const odd = inputs.find((n) => !sameShape(n.shape, first.shape));
      if (odd) throw new ShapeError(`the elements of an array must have the same shape, found ${shapeText(first.shape)} and ${shapeText(odd.shape)}`);
      return [inputs.length, ...first.shape];
    },
    evaluate: (values) => concatenated(values),
    vjp: (g, n, ct, i) => g.slice(ct, [{ start: i, count: 1, keep: false }, ...ins(n, 0).shape.map((d) => ({ start: 0, count: d, keep: true }))]),
    cost: () => 0,
    math: (args) => fn("", "", args, "list"),
  },
  // tensors joined along an axis; each receives its part of the cotangent
  concat: {
    arity: "any",
    shape: (inputs, attr) => concatShape(inputs, Number(attr)),
    evaluate: (values, n) => concatEval(values, n),
    vjp: (g, n, ct, i) => {
      const axis = Number(n.attr);
      const start = n.inputs.slice(0, i).reduce((s, m) => s + m.shape[axis], 0);
      return g.slice(ct, n.shape.map((d, k) => (k === axis ? { start, count: ins(n, i).shape[axis], keep: true } : { start: 0, count: d, keep: true })));
    },
    cost: () => 0,
    // vectors joined need no axis; otherwise it is written, one-based (as equations spell it)
    math: (args, n) => fn("concat", "\\operatorname{concat}", n.shape.length === 1 ? args : [...args, num(Number(n.attr) + 1)]),
  },
} satisfies Record<string, OpRule>;

/**
 * The ops of a recurrence (node.ts LOOP_OPS) have no value one node at a time: the interpreter runs the cell step
 * by step, and the reverse sweep differentiates the cell as a whole (autodiff/recurrence.ts).
 */
function loopOp(arity: number, shape: OpRule["shape"], math: MathRule, cost: OpRule["cost"] = () => 0): OpRule {
  return {
    arity,
    shape,
    evaluate: (_values, n) => {
      throw new Error(`internal: ${n.op} is evaluated with its recurrence`);
    },
    vjp: (_g, n) => {
      throw new Error(`internal: ${n.op} is differentiated with its recurrence`);
    },
    cost,
    math,
  };
}

const LOOP_RULES = {
  // h_{t−1}: a leaf, named by the recurrence (its printer adds the step)
  carry: leaf(),
  // row t of a sequence
  step: loopOp(1, ([a]) => a.shape.slice(1), ([a], n) => rowAtStep(a, n.inputs[0])),
  // the value at every step, stacked along a new first axis
  stack: loopOp(1, ownShape("stack"), named("stack", "\\operatorname{stack}_{t}")),
  // the carry after the last step: its next value at t = T
  final: loopOp(1, ownShape("final"), ([a]) => ({ k: "index", a, parts: "T" })),
  // Σ over the steps
  loopSum: loopOp(1, ([a]) => a.shape, ([a]) => sumOverSteps(a), perElement(1)),
} satisfies Record<string, OpRule>;

/**
 * Row t of a sequence, as the cell's formulas write it: x[t]; of stack(v), a value of the cell stored at every step,
 * v itself (every value of a cell is its value at step t).
 */
function rowAtStep(sequence: MathExpr, node: Node): MathExpr {
  return node.op === "stack" && sequence.k === "fn" && sequence.args.length === 1 ? sequence.args[0] : { k: "index", a: sequence, parts: "t" };
}

const sumOverSteps = (a: MathExpr): MathExpr => fn("Σₜ", "\\sum_{t}", [a]);

export const OPS: Record<OpName, OpRule> = {
  param: leaf(),
  input: leaf(),
  target: leaf(),
  const: leaf(),
  state: leaf(),
  counter: leaf(),
  batchSize: leaf(),
  ...ELEMENTWISE_RULES,
  ...STRUCTURAL_RULES,
  ...LOOP_RULES,
};

/** The rule of an elementwise op, with its scalar function. */
export function elementwiseRule(op: ElementwiseOp): ElementwiseRule {
  return ELEMENTWISE_RULES[op];
}

// ---- reductions along an axis, parts and joins -------------------------------------------------------------

const REDUCE_NAMES: Readonly<Record<ReduceKind, [string, string]>> = {
  sum: ["sum", "\\operatorname{sum}"],
  max: ["max", "\\max"],
  firstMax: ["max", "\\max"],
  min: ["min", "\\min"],
  prod: ["prod", "\\operatorname{prod}"],
  lse: ["logsumexp", "\\operatorname{logsumexp}"],
};

/** The reduction of `a` (of shape `shape`) along the axis of `n`, one result per position of the other axes. */
function reduceEval(a: Float64Array, shape: Shape, n: Node): Float64Array {
  const { kind, axis } = parseReduce(n.attr);
  const extent = shape[axis];
  const inner = strides(shape)[axis];
  const out = new Float64Array(sizeOf(n.shape));
  for (let o = 0; o < out.length; o++) {
    const first = Math.floor(o / inner) * extent * inner + (o % inner);
    const along = Array.from({ length: extent }, (_, t) => a[first + t * inner]);
    out[o] = reduceValues(kind, along);
  }
  return out;
}

/** A running maximum keeps its value when the next is NaN, as the generated loops do. */
function reduceValues(kind: ReduceKind, xs: readonly number[]): number {
  const largest = (ys: readonly number[]) => ys.reduce((m, v) => (v > m ? v : m), -Infinity);
  switch (kind) {
    case "sum":
      return xs.reduce((s, v) => s + v, 0);
    case "prod":
      return xs.reduce((p, v) => p * v, 1);
    case "max":
    case "firstMax":
      return largest(xs);
    case "min":
      return -largest(xs.map((v) => -v));
    case "lse": {
      const m = largest(xs);
      return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
    }
  }
}

/**
 * d sum = the cotangent repeated along the axis; d max, d min = it where the element equals the result (every
 * tied element, as TF.js); d firstMax = it at the first element equal to the result; d lse = it times the softmax along the axis; d prod = it times the product of the
 * other elements, computed without dividing by zero: prod/x where x ≠ 0, and where x = 0 the product of the
 * nonzero others if x is the only zero, else 0.
 */
function reduceVjp(g: Graph, n: Node, ct: Node): Node {
  const x = ins(n, 0);
  const { kind, axis } = parseReduce(n.attr);
  const back = (v: Node) => g.expand(v, reinsertAxis(x.shape.length, axis), x.shape);
  switch (kind) {
    case "sum":
      return back(ct);
    case "max":
    case "min":
      return g.select(g.make("eq", [x, back(n)]), back(ct), g.constant(0));
    case "firstMax": {
      // the position along the axis of each element; the winner is the smallest position among the ties
      const extent = x.shape[axis];
      const position = g.expand(g.pack(Array.from({ length: extent }, (_, k) => g.constant(k))), x.shape.map((_, d) => (d === axis ? 0 : null)), x.shape);
      const tie = g.make("eq", [x, back(n)]);
      const winner = g.reduce("min", g.select(tie, position, g.constant(extent)), axis);
      return g.select(g.make("eq", [position, back(winner)]), back(ct), g.constant(0));
    }
    case "lse":
      return g.mul(back(ct), g.exp(g.sub(x, back(n))));
    case "prod": {
      const zero = g.make("eq", [x, g.constant(0)]);
      const zeros = back(g.reduce("sum", zero, axis));
      const othersIfOnlyZero = back(g.reduce("prod", g.select(zero, g.constant(1), x), axis));
      const atZero = g.select(g.make("eq", [zeros, g.constant(1)]), othersIfOnlyZero, g.constant(0));
      return g.mul(back(ct), g.select(zero, atZero, g.div(back(n), x)));
    }
  }
}

/** A view as its equation writes it, `reshape(x, [4, 3])`; its adjoint marked ᵀ. */
function viewMath(a: MathExpr, n: Node, mark: string): MathExpr {
  const { label } = parseView(n.attr);
  const [name, args] = label.split("|", 2);
  const rest = args ? [raw(args, args)] : [];
  return fn(`${name}${mark}`, `\\operatorname{${name.replace(/_/g, "\\_")}}${mark ? "^\\top" : ""}`, [a, ...rest]);
}

/** The dimensions of `big` that a sum back to `small` adds up. */
function summedAxes(map: AxisMap, small: Shape, big: Shape): number[] {
  return big.flatMap((size, d) => (map[d] === null || (small[map[d] as number] === 1 && size > 1) ? [d] : []));
}

function checkParts(parts: readonly SlicePart[], shape: Shape): void {
  if (parts.length !== shape.length) throw new ShapeError(`${shapeText(shape)} has ${shape.length} dimensions, indexed with ${parts.length}`);
  parts.forEach((p, d) => {
    if (p.count < 1 || p.start < 0 || p.start + p.count > shape[d]) {
      throw new ShapeError(`index ${sliceText([p], [shape[d]])} is outside dimension ${d + 1} of ${shapeText(shape)} (1 to ${shape[d]})`);
    }
  });
}

/** The arrays one after the other, in one array. */
export function concatenated(values: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(values.reduce((s, v) => s + v.length, 0));
  let at = 0;
  for (const v of values) {
    out.set(v, at);
    at += v.length;
  }
  return out;
}

function concatShape(inputs: readonly Node[], axis: number): Shape {
  const [first] = inputs;
  if (!first) throw new ShapeError("concat needs at least one tensor");
  if (axis < 0 || axis >= first.shape.length) throw new ShapeError(`cannot concatenate ${shapeText(first.shape)} along dimension ${axis + 1}`);
  const odd = inputs.find((m) => m.shape.length !== first.shape.length || m.shape.some((d, k) => k !== axis && d !== first.shape[k]));
  if (odd) throw new ShapeError(`concat along dimension ${axis + 1} needs the other dimensions equal, found ${shapeText(first.shape)} and ${shapeText(odd.shape)}`);
  return first.shape.map((d, k) => (k === axis ? inputs.reduce((s, m) => s + m.shape[axis], 0) : d));
}

function concatEval(values: readonly Float64Array[], n: Node): Float64Array {
  const axis = Number(n.attr);
  const out = new Float64Array(sizeOf(n.shape));
  const outStrides = strides(n.shape);
  let offset = 0;
  n.inputs.forEach((m, k) => {
    values[k].forEach((v, i) => {
      const at = coordinates(i, m.shape);
      at[axis] += offset;
      out[at.reduce((s, c, d) => s + c * outStrides[d], 0)] = v;
    });
    offset += m.shape[axis];
  });
  return out;
}

// ---- matmul cases ----------------------------------------------------------------------------------

function innerSize(n: Node): number {
  const a = n.inputs[0];
  return a.shape.length === 2 ? a.shape[1] : a.shape[0];
}

export function matmulShape(a: Shape, b: Shape): Shape {
  const mismatch = () =>
    new ShapeError(`matrix product needs matching inner sizes, found ${shapeText(a)} * ${shapeText(b)}`);
  if (a.length === 0 || b.length === 0) throw new ShapeError("matrix product of a scalar: use scaling instead");
  if (a.length > 2 || b.length > 2)
    throw new ShapeError(
      `"*" multiplies vectors and matrices, found ${shapeText(a)} * ${shapeText(b)}; matmul(A, B) multiplies the matrices stacked along leading axes`,
    );
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
export function isElementwise(op: OpName): op is ElementwiseOp {
  return isElementwiseOp(op);
}
