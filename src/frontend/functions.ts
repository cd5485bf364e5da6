/**
 * The functions of equations and activations: one record each, with what its arguments mean, its domain and
 * its derivative convention (docs/functions.md is printed from this table), and how it is built from the graph's
 * primitives and composites. Activations are the elementwise functions of one argument.
 */
import type { Graph } from "../ir/graph.ts";
import { type Node, type ReduceKind, shapeText } from "../ir/node.ts";
import { ShapeError } from "../ir/ops.ts";
import { ArgumentError, type Literal } from "./arguments.ts";
import * as tensors from "./tensors.ts";

export interface Param {
  readonly name: string;
  /** What the argument is, for messages ("the slope below 0"). */
  readonly meaning: string;
  /** The default of an optional argument, as the documentation shows it. */
  readonly default?: string;
}

export interface Builtin {
  readonly params: readonly Param[];
  /** The last parameter repeats (concat's tensors). */
  readonly variadic?: boolean;
  /** Applied to each element (usable as an activation, and inside scalar functions). */
  readonly elementwise: boolean;
  /** Where the function is defined (for real arguments). */
  readonly domain: string;
  /** Its derivative, and the convention at kinks, ties and jumps. */
  readonly derivative: string;
  /** The section of the documentation it is listed in. */
  readonly group: Group;
  /** An activation that passes positive inputs on with slope about 1 and damps the rest: a layer using it starts with He initialisation. */
  readonly reluLike?: boolean;
  /** Parameters from this position on are options read as written (literals), not values of the network. */
  readonly literalsFrom?: number;
  build(g: Graph, args: readonly Node[], literals?: readonly Literal[]): Node;
  /** How a function that is not elementwise reads inside a scalar function's body, applied per element. */
  readonly perElement?: (g: Graph, args: readonly Node[]) => Node;
}

export type Group = "arithmetic" | "exponential" | "trigonometric" | "activation" | "steps" | "comparison" | "reduction" | "structure" | "windows";

const X: Param = { name: "x", meaning: "the argument" };
const ALL = "all reals";

interface Entry {
  readonly domain?: string;
  readonly derivative: string;
  readonly group: Group;
  readonly reluLike?: boolean;
}

/** An elementwise function of one argument. */
function unary(f: (g: Graph, x: Node) => Node, entry: Entry): Builtin {
  return { params: [X], elementwise: true, domain: entry.domain ?? ALL, derivative: entry.derivative, group: entry.group, reluLike: entry.reluLike, build: (g, [x]) => f(g, x as Node) };
}

/** An elementwise function with optional scalar arguments after x. */
function withOptions(params: readonly Param[], f: (g: Graph, args: readonly Node[]) => Node, entry: Entry): Builtin {
  return { params: [X, ...params], elementwise: true, domain: entry.domain ?? ALL, derivative: entry.derivative, group: entry.group, reluLike: entry.reluLike, build: f };
}

function binary(names: [string, string], f: (g: Graph, a: Node, b: Node) => Node, entry: Entry): Builtin {
  return {
    params: names.map((name) => ({ name, meaning: `the ${name === names[0] ? "first" : "second"} operand` })),
    elementwise: true,
    domain: entry.domain ?? ALL,
    derivative: entry.derivative,
    group: entry.group,
    build: (g, [a, b]) => f(g, a as Node, b as Node),
  };
}

const inverse = (g: Graph, x: Node) => g.div(g.constant(1), x);
const op = (name: Parameters<Graph["make"]>[0]) => (g: Graph, ...args: Node[]) => g.make(name, args);

/** What the documentation says of the functions that read across the batch. */
const ACROSS_THE_BATCH =
  "reads across the batch: element by element over the samples of the call — the batch given to forward, loss, gradient or a training step. forward keeps no running statistics: a sample's output depends on the samples it is given with, and a batch of one has mean x and variance 0"

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ["linear", unary((_g, x) => x, { derivative: "1", group: "activation" })],
  // ---- exponentials, logarithms, powers
  ["exp", unary((g, x) => g.exp(x), { derivative: "exp(x)", group: "exponential" })],
  ["expm1", unary((g, x) => g.expm1(x), { derivative: "exp(x); precise near 0", group: "exponential" })],
  ["log", withOptions([{ name: "b", meaning: "the base", default: "e" }], (g, [x, b]) => (b ? g.div(g.log(x as Node), g.log(b)) : g.log(x as Node)), { domain: "x > 0 (b > 0, b ≠ 1)", derivative: "1 / (x ln b)", group: "exponential" })],
  ["log1p", unary(op("log1p"), { domain: "x > −1", derivative: "1 / (1 + x); precise near 0", group: "exponential" })],
  ["log2", unary(op("log2"), { domain: "x > 0", derivative: "1 / (x ln 2)", group: "exponential" })],
  ["log10", unary(op("log10"), { domain: "x > 0", derivative: "1 / (x ln 10)", group: "exponential" })],
  ["sqrt", unary((g, x) => g.sqrt(x), { domain: "x ≥ 0", derivative: "1 / (2√x); infinite at 0", group: "exponential" })],
  ["rsqrt", unary((g, x) => inverse(g, g.sqrt(x)), { domain: "x > 0", derivative: "−1 / (2 x^(3/2))", group: "exponential" })],
  ["cbrt", unary(op("cbrt"), { derivative: "1 / (3 ∛x²); infinite at 0", group: "exponential" })],
  ["square", unary((g, x) => g.square(x), { derivative: "2x", group: "arithmetic" })],
  ["cube", unary((g, x) => g.mul(x, g.square(x)), { derivative: "3x²", group: "arithmetic" })],
  ["reciprocal", unary((g, x) => inverse(g, x), { domain: "x ≠ 0", derivative: "−1 / x²", group: "arithmetic" })],
  ["pow", binary(["x", "y"], (g, a, b) => g.pow(a, b), { domain: "x > 0, or x ≤ 0 with y an integer", derivative: "∂/∂x = y x^(y−1); ∂/∂y = x^y ln x, taken as 0 where x ≤ 0", group: "exponential" })],
  [
    "nthRoot",
    withOptions([{ name: "n", meaning: "the degree of the root", default: "2" }], (g, [x, n]) => nthRoot(g, x as Node, n ?? g.constant(2)), {
      domain: "x ≥ 0; any x for an odd integer n",
      derivative: "x^(1/n − 1) / n",
      group: "exponential",
    }),
  ],
  ["abs", unary((g, x) => g.abs(x), { derivative: "sign(x); 0 at 0", group: "arithmetic" })],
  ["sign", unary((g, x) => g.sign(x), { derivative: "0 (a step)", group: "steps" })],
  // ---- trigonometric and hyperbolic
  ["sin", unary(op("sin"), { derivative: "cos(x)", group: "trigonometric" })],
  ["cos", unary(op("cos"), { derivative: "−sin(x)", group: "trigonometric" })],
  ["tan", unary(op("tan"), { domain: "x ≠ π/2 + kπ", derivative: "1 + tan²(x)", group: "trigonometric" })],
  ["asin", unary(op("asin"), { domain: "−1 ≤ x ≤ 1", derivative: "1 / √(1 − x²); infinite at ±1", group: "trigonometric" })],
  ["acos", unary(op("acos"), { domain: "−1 ≤ x ≤ 1", derivative: "−1 / √(1 − x²); infinite at ±1", group: "trigonometric" })],
  ["atan", unary(op("atan"), { derivative: "1 / (1 + x²)", group: "trigonometric" })],
  ["atan2", binary(["y", "x"], op("atan2"), { domain: "(y, x) ≠ (0, 0)", derivative: "∂/∂y = x / (x² + y²); ∂/∂x = −y / (x² + y²)", group: "trigonometric" })],
  ["sinh", unary(op("sinh"), { derivative: "cosh(x)", group: "trigonometric" })],
  ["cosh", unary(op("cosh"), { derivative: "sinh(x)", group: "trigonometric" })],
  ["tanh", unary((g, x) => g.tanh(x), { derivative: "1 − tanh²(x)", group: "trigonometric" })],
  ["asinh", unary(op("asinh"), { derivative: "1 / √(x² + 1)", group: "trigonometric" })],
  ["acosh", unary(op("acosh"), { domain: "x ≥ 1", derivative: "1 / √(x² − 1); infinite at 1", group: "trigonometric" })],
  ["atanh", unary(op("atanh"), { domain: "−1 < x < 1", derivative: "1 / (1 − x²)", group: "trigonometric" })],
  // the reciprocal functions, as mathjs defines them
  ["sec", unary((g, x) => inverse(g, g.make("cos", [x])), { domain: "x ≠ π/2 + kπ", derivative: "sec(x) tan(x)", group: "trigonometric" })],
  ["csc", unary((g, x) => inverse(g, g.make("sin", [x])), { domain: "x ≠ kπ", derivative: "−csc(x) cot(x)", group: "trigonometric" })],
  ["cot", unary((g, x) => g.div(g.make("cos", [x]), g.make("sin", [x])), { domain: "x ≠ kπ", derivative: "−1 − cot²(x)", group: "trigonometric" })],
  ["asec", unary((g, x) => g.make("acos", [inverse(g, x)]), { domain: "|x| ≥ 1", derivative: "1 / (|x| √(x² − 1))", group: "trigonometric" })],
  ["acsc", unary((g, x) => g.make("asin", [inverse(g, x)]), { domain: "|x| ≥ 1", derivative: "−1 / (|x| √(x² − 1))", group: "trigonometric" })],
  ["acot", unary((g, x) => g.make("atan", [inverse(g, x)]), { domain: "x ≠ 0 (atan(1/x), as mathjs)", derivative: "−1 / (1 + x²)", group: "trigonometric" })],
  ["sech", unary((g, x) => inverse(g, g.make("cosh", [x])), { derivative: "−sech(x) tanh(x)", group: "trigonometric" })],
  ["csch", unary((g, x) => inverse(g, g.make("sinh", [x])), { domain: "x ≠ 0", derivative: "−csch(x) coth(x)", group: "trigonometric" })],
  ["coth", unary((g, x) => inverse(g, g.tanh(x)), { domain: "x ≠ 0", derivative: "1 − coth²(x)", group: "trigonometric" })],
  ["asech", unary((g, x) => g.make("acosh", [inverse(g, x)]), { domain: "0 < x ≤ 1", derivative: "−1 / (x √(1 − x²))", group: "trigonometric" })],
  ["acsch", unary((g, x) => g.make("asinh", [inverse(g, x)]), { domain: "x ≠ 0", derivative: "−1 / (|x| √(1 + x²))", group: "trigonometric" })],
  ["acoth", unary((g, x) => g.make("atanh", [inverse(g, x)]), { domain: "|x| > 1", derivative: "1 / (1 − x²)", group: "trigonometric" })],
  ["erf", unary((g, x) => g.erf(x), { derivative: "(2/√π) e^(−x²)", group: "exponential" })],
  ["erfc", unary(op("erfc"), { derivative: "−(2/√π) e^(−x²); precise for large x", group: "exponential" })],
  // ---- activations
  ["sigmoid", unary((g, x) => g.sigmoid(x), { derivative: "σ(x)(1 − σ(x))", group: "activation" })],
  ["log_sigmoid", unary((g, x) => g.logSigmoid(x), { derivative: "1 − σ(x); computed as −softplus(−x), finite everywhere", group: "activation" })],
  ["relu", unary((g, x) => g.relu(x), { derivative: "1 where x > 0, else 0 (0 at 0)", group: "activation", reluLike: true })],
  ["relu6", unary((g, x) => g.relu6(x), { derivative: "1 where 0 < x < 6, else 0 (0 at both kinks)", group: "activation", reluLike: true })],
  [
    "leaky_relu",
    withOptions([{ name: "alpha", meaning: "the slope below 0", default: "0.01" }], (g, [x, a]) => g.leakyRelu(x as Node, a), {
      derivative: "1 where x > 0, else α (α at 0)",
      group: "activation", reluLike: true,
    }),
  ],
  ["prelu", binary(["x", "alpha"], (g, x, a) => g.leakyRelu(x, a), { derivative: "∂/∂x = 1 where x > 0, else α; ∂/∂α = x where x ≤ 0, else 0 (α is usually a parameter)", group: "activation" })],
  [
    "elu",
    withOptions([{ name: "alpha", meaning: "the value approached below 0 is −α", default: "1" }], (g, [x, a]) => g.elu(x as Node, a), {
      derivative: "1 where x > 0, else α eˣ (α at 0)",
      group: "activation", reluLike: true,
    }),
  ],
  ["selu", unary((g, x) => g.selu(x), { derivative: "λ where x > 0, else λα eˣ (λ = 1.0507…, α = 1.6733…)", group: "activation" })],
  [
    "celu",
    withOptions([{ name: "alpha", meaning: "the scale of the negative part", default: "1" }], (g, [x, a]) => g.celu(x as Node, a), {
      derivative: "1 where x > 0, else e^(x/α)",
      group: "activation", reluLike: true,
    }),
  ],
  ["softplus", unary((g, x) => g.softplus(x), { derivative: "σ(x)", group: "activation" })],
  ["softsign", unary((g, x) => g.softsign(x), { derivative: "1 / (1 + |x|)²", group: "activation" })],
  ["gelu", unary((g, x) => g.gelu(x), { derivative: "of the tanh form 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))", group: "activation", reluLike: true })],
  ["gelu_tanh", unary((g, x) => g.gelu(x), { derivative: "the same as gelu (the tanh form)", group: "activation", reluLike: true })],
  ["gelu_exact", unary((g, x) => g.geluExact(x), { derivative: "Φ(x) + x φ(x), with Φ(x) = ½(1 + erf(x/√2)) (PyTorch's default GELU)", group: "activation", reluLike: true })],
  ["swish", unary((g, x) => g.swish(x), { derivative: "σ(x) + x σ(x)(1 − σ(x))", group: "activation", reluLike: true })],
  ["silu", unary((g, x) => g.swish(x), { derivative: "the same as swish", group: "activation", reluLike: true })],
  ["mish", unary((g, x) => g.mish(x), { derivative: "of x·tanh(softplus(x))", group: "activation", reluLike: true })],
  ["hard_sigmoid", unary((g, x) => g.hardSigmoid(x), { derivative: "1/6 where −3 < x < 3, else 0 (relu6(x + 3)/6, as PyTorch)", group: "activation" })],
  ["hard_swish", unary((g, x) => g.hardSwish(x), { derivative: "of x·hard_sigmoid(x)", group: "activation" })],
  // ---- steps
  ["floor", unary(op("floor"), { derivative: "0 (taken as 0 at the jumps)", group: "steps" })],
  ["ceil", unary(op("ceil"), { derivative: "0 (taken as 0 at the jumps)", group: "steps" })],
  ["round", unary(op("round"), { derivative: "0 (taken as 0 at the jumps); halves round away from 0, as mathjs", group: "steps" })],
  ["mod", binary(["x", "y"], op("mod"), { domain: "y ≠ 0", derivative: "∂/∂x = 1; ∂/∂y = −floor(x/y) (away from the jumps); x − y·floor(x/y), the sign of y, as mathjs", group: "steps" })],
  ["clamp", clampEntry()],
  ["clip", { ...clampEntry(), derivative: "the same as clamp (clip is its name in numpy and TF.js)" }],
  // ---- comparisons and selection
  [
    "where",
    {
      params: [
        { name: "c", meaning: "the condition (nonzero: true)" },
        { name: "a", meaning: "the value where it holds" },
        { name: "b", meaning: "the value where it does not" },
      ],
      elementwise: true,
      domain: ALL,
      derivative: "∂/∂a = 1 where c ≠ 0, ∂/∂b = 1 where c = 0; none to c",
      group: "comparison",
      build: (g, [cond, a, b]) => g.select(cond as Node, a as Node, b as Node),
    },
  ],
  ["maximum", binary(["a", "b"], (g, a, b) => g.max(a, b), { derivative: "to the larger operand; at a tie, to the first (as TF.js)", group: "comparison" })],
  ["minimum", binary(["a", "b"], (g, a, b) => g.min(a, b), { derivative: "to the smaller operand; at a tie, to the first (as TF.js)", group: "comparison" })],
  // ---- reductions and structure
  ["sum", alongDim("sum", (g, x, axis) => (axis === undefined ? g.sum(x) : g.reduce("sum", x, axis)), "1 for every element summed")],
  ["mean", alongDim("average", (g, x, axis) => (axis === undefined ? g.mean(x) : g.meanAlong(x, axis)), "1/n for every element of the n averaged")],
  [
    "prod",
    alongDim("multiply", (g, x, axis) => (axis === undefined ? reduceAll(g, "prod", x) : g.reduce("prod", x, axis)), "the product of the other elements (exact where elements are 0)"),
  ],
  [
    "logsumexp",
    alongDim("reduce", (g, x, axis) => (axis === undefined ? g.logsumexp(x) : g.reduce("lse", x, axis)), "softmax(x) along the reduced elements; computed from the maximum, finite for any logits"),
  ],
  [
    "softmax",
    normalised("the softmax", (g, x, axis) => g.softmaxAlong(x, axis), "p ⊙ (δ − Σ p δ) for the cotangent δ; computed as exp(x − logsumexp(x)), finite for any logits"),
  ],
  ["log_softmax", normalised("the log-softmax", (g, x, axis) => g.logSoftmaxAlong(x, axis), "δ − softmax(x) Σ δ for the cotangent δ; computed as x − logsumexp(x), finite for any logits")],
  [
    "cumsum",
    {
      ...tensorFunction(
        [{ name: "x", meaning: "the tensor" }, { name: "dim", meaning: "the dimension to accumulate along (one-based)", default: "1, as mathjs" }],
        (g, [x, d]) => cumsum(g, x as Node, d ? dimension("cumsum", x as Node, d) : 0),
        "the running sums of the cotangent from the end",
        "reduction",
      ),
      domain: "a vector or a matrix",
    },
  ],
  [
    "variance",
    alongDim("take the variance", (g, x, axis) => variance(g, x, axis), "2(x − mean) / (n − 1) for each element; n − 1 as mathjs (the unbiased estimate)"),
  ],
  [
    "std",
    alongDim("take the standard deviation", (g, x, axis) => g.sqrt(variance(g, x, axis)), "(x − mean) / ((n − 1) std); infinite where every element is equal"),
  ],
  [
    "norm",
    {
      ...tensorFunction(
        [{ name: "x", meaning: "a vector or a matrix" }, { name: "p", meaning: "which norm: 1, 2 or Infinity (a matrix: 1 or Infinity)", default: "2 (a vector only)" }],
        (g, [x, p]) => norm(g, x as Node, p),
        "x / ‖x‖ for the 2-norm (0 where x = 0); sign(x) for the 1-norm; to the largest |x| (its sum) for Infinity",
        "reduction",
      ),
      domain: "a vector or a matrix",
    },
  ],
  [
    "hypot",
    {
      ...tensorFunction([{ name: "a", meaning: "a scalar, or one tensor" }, { name: "b", meaning: "further scalars" }], (g, args) => hypot(g, args), "a / hypot for each argument (0 where all are 0)", "arithmetic"),
      params: [{ name: "a", meaning: "a scalar, or one tensor" }, { name: "b", meaning: "further scalars", default: "none" }],
      variadic: true,
      domain: "scalars, or one tensor (its elements); not rescaled, so squares beyond the float range overflow",
    },
  ],
  [
    "trace",
    { ...tensorFunction([{ name: "A", meaning: "a square matrix" }], (g, [a]) => trace(g, a as Node), "the identity matrix", "reduction"), domain: "a square matrix" },
  ],
  ["max", extremum("max")],
  ["min", extremum("min")],
  // ---- across the batch: the only functions whose value for one sample depends on the others
  [
    "batch_mean",
    {
      ...tensorFunction([{ name: "x", meaning: "a value of each sample" }], (g, [x]) => g.batchMean(x as Node), "1/batch to x in every sample of the batch", "reduction"),
      domain: `any value; ${ACROSS_THE_BATCH}`,
    },
  ],
  [
    "batch_var",
    {
      ...tensorFunction(
        [
          { name: "x", meaning: "a value of each sample" },
          { name: "c", meaning: "a shift near the mean, the same for every sample (a parameter, say)", default: "none: centred on the batch mean" },
        ],
        (g, [x, c]) => batchVariance(g, x as Node, c),
        "2(x − batch_mean(x)) / batch to x in every sample; none to c",
        "reduction",
      ),
      domain: `any value; the biased variance. Without c, batch_mean((x − batch_mean(x)) .^ 2): centred on the mean first, exact, at the cost of one more pass over the batch; with c, batch_mean((x − c) .^ 2) − (batch_mean(x) − c) .^ 2 (at least 0): one pass, as accurate as c is near the mean (c = 0 loses digits where the mean is large against the spread); ${ACROSS_THE_BATCH}`,
    },
  ],
  [
    "transpose",
    {
      ...tensorFunction(
        [{ name: "x", meaning: "a tensor" }, { name: "perm", meaning: "the order of x's dimensions in the result (one-based)", default: "the two of a matrix swapped" }],
        (g, [x], [perm] = []) => tensors.transpose(g, x as Node, perm),
        "the cotangent permuted back",
      ),
      literalsFrom: 1,
      domain: "a matrix (a vector is its own transpose); any tensor with perm",
    },
  ],
  [
    "reshape",
    {
      ...tensorFunction(
        [{ name: "x", meaning: "a tensor" }, { name: "sizes", meaning: "the new sizes, a list (one may be −1: what the others leave)" }],
        (g, [x], [sizes] = []) => tensors.reshape(g, x as Node, sizes),
        "the cotangent laid out in x's shape",
      ),
      literalsFrom: 1,
      domain: "sizes with as many elements as x (row-major, as mathjs)",
    },
  ],
  [
    "pad",
    {
      ...tensorFunction(
        [
          { name: "x", meaning: "a tensor" },
          { name: "widths", meaning: "the cells added before and after each dimension: a number for all, or [[before, after], …] (numpy's pad)" },
          { name: "value", meaning: "the constant around x", default: "0" },
        ],
        (g, [x], [widths, value] = []) => tensors.pad(g, x as Node, widths, value),
        "the cotangent of x's part; none to the padding",
      ),
      literalsFrom: 1,
      domain: "tensors",
    },
  ],
  [
    "matmul",
    {
      ...tensorFunction(
        [{ name: "a", meaning: "[..., m, k] (a vector: one row)" }, { name: "b", meaning: "[..., k, n] (a vector: one column)" }],
        (g, [a, b]) => tensors.matmul(g, a as Node, b as Node),
        "∂/∂a = δ · bᵀ and ∂/∂b = aᵀ · δ for each product of the batch (broadcast dimensions summed back)",
      ),
      domain: "numpy's matmul: the last two dimensions multiplied, the ones in front broadcast",
    },
  ],
  ...windowFunctions(),
  [
    "dot",
    {
      ...tensorFunction([{ name: "a", meaning: "a vector" }, { name: "b", meaning: "a vector of the same length" }], (g, [a, b]) => dot(g, a as Node, b as Node), "∂/∂a = b, ∂/∂b = a"),
      domain: "two vectors of the same length",
    },
  ],
  [
    "concat",
    {
      ...tensorFunction(
        [{ name: "a", meaning: "a tensor" }, { name: "b", meaning: "further tensors, and last an optional dimension to join along (default the last)" }],
        (g, args) => concat(g, args),
        "each tensor receives its part of the cotangent",
      ),
      variadic: true,
      domain: "tensors equal in every dimension but the one joined (one-based, as mathjs)",
    },
  ],
  ["ones", constantTensor(1)],
  ["zeros", constantTensor(0)],
  [
    "identity",
    {
      ...tensorFunction([{ name: "n", meaning: "the rows" }, { name: "m", meaning: "the columns", default: "n" }], (g, [n, m]) => identity(g, n as Node, m), "none (a constant)"),
      domain: "constant positive integers",
    },
  ],
]);

/** Convolutions and pooling over 1, 2 and 3 spatial dimensions, channels last (tensors.ts). */
function windowFunctions(): [string, Builtin][] {
  const stride: Param = { name: "stride", meaning: "the step between windows: a number, or one per spatial dimension", default: "1" };
  const padding: Param = { name: "padding", meaning: 'cells around x: "valid" (none), "same" (as many outputs as inputs over the stride, as TF.js), a number, or [[before, after], …]', default: '"valid"' };
  const dilation: Param = { name: "dilation", meaning: "the spacing of the taps", default: "1" };
  const x: Param = { name: "x", meaning: "the input, [..., spatial..., channels]" };
  const entry = (params: readonly Param[], derivative: string, domain: string, build: Builtin["build"]): Builtin => ({
    ...tensorFunction(params, build, derivative, "windows"),
    literalsFrom: params.findIndex((p) => p.default !== undefined || p.name === "size" || p.name === "output"),
    domain,
  });
  const spatial = (n: number) => ["", "[..., width, channels]", "[..., height, width, channels]", "[..., depth, height, width, channels]"][n];
  const taps = (n: number) => ["", "[k", "[kh, kw", "[kd, kh, kw"][n];
  const out: [string, Builtin][] = [];
  for (const n of [1, 2, 3]) {
    const d = `${n}d`;
    out.push([
      `conv${d}`,
      entry(
        [x, { name: "w", meaning: `the filter, ${taps(n)}, in, out]` }, stride, padding, dilation],
        "∂/∂x: each output's cotangent spread back over its window through w; ∂/∂w: Σ over the outputs of the window times the cotangent",
        `x ${spatial(n)}, w ${taps(n)}, channels, out]`,
        (g, [xv, w], opts = []) => tensors.conv(g, n, `conv${d}`, xv as Node, w as Node, opts),
      ),
    ]);
    out.push([
      `conv${d}_transpose`,
      entry(
        [x, { name: "w", meaning: `the filter, ${taps(n)}, out, in]` }, { name: "output", meaning: "the shape of the result, a list" }, stride, padding],
        `the convolution of the cotangent (the transposed convolution is the adjoint of conv${d} with respect to its input)`,
        `x the shape conv${d} of the output shape would have`,
        (g, [xv, w], opts = []) => tensors.convTranspose(g, n, `conv${d}_transpose`, xv as Node, w as Node, opts),
      ),
    ]);
    const size: Param = { name: "size", meaning: "the window: a number, or one per spatial dimension" };
    const poolStride: Param = { ...stride, default: "the window size" };
    const pooling = {
      max: "to the element equal to each window's maximum (at a tie, to the first in the window's row-major order, as TF.js and PyTorch); padded cells never win",
      avg: "1/k for each of a window's k cells; padded cells count as zeros (PyTorch's default; TF.js divides by the cells inside x)",
    } as const;
    for (const [kind, derivative] of Object.entries(pooling) as ["max" | "avg", string][]) {
      const name = `${kind}_pool${d}`;
      out.push([name, entry([x, size, poolStride, padding, dilation], derivative, `x ${spatial(n)}`, (g, [xv], opts = []) => tensors.pool(g, kind, n, name, xv as Node, opts))]);
    }
  }
  out.push([
    "depthwise_conv2d",
    entry(
      [x, { name: "w", meaning: "the filters, [kh, kw, channels, multiplier]" }, stride, padding, dilation],
      "as conv2d, each channel with its own filters; output channel c·multiplier + m",
      "x [..., height, width, channels]",
      (g, [xv, w], opts = []) => tensors.depthwiseConv(g, 2, "depthwise_conv2d", xv as Node, w as Node, opts),
    ),
  ]);
  out.push([
    "dilation2d",
    entry(
      [x, { name: "w", meaning: "the structuring element, [kh, kw, channels]" }, stride, padding, dilation],
      "to the x and w of each window's maximum of x + w (at a tie, to the first pair in the window's row-major order, as TF.js); padded cells never win",
      "x [..., height, width, channels]",
      (g, [xv, w], opts = []) => tensors.dilation(g, 2, "dilation2d", xv as Node, w as Node, opts),
    ),
  ]);
  return out;
}

function clampEntry(): Builtin {
  return {
    params: [X, { name: "lo", meaning: "the lower bound" }, { name: "hi", meaning: "the upper bound" }],
    elementwise: true,
    domain: "lo ≤ hi",
    derivative: "∂/∂x = 1 where lo ≤ x ≤ hi (at both bounds alike, as PyTorch and TF.js), else 0; the bound that is taken gets the gradient",
    group: "steps",
    build: (g, [x, lo, hi]) => g.clamp(x as Node, lo as Node, hi as Node),
  };
}

/** A function of whole tensors (not usable per element). */
function tensorFunction(params: readonly Param[], build: Builtin["build"], derivative: string, group: Group = "structure"): Builtin {
  return { params, elementwise: false, domain: "tensors", derivative, group, build };
}

function dimParam(verb: string): Param {
  return { name: "dim", meaning: `the dimension to ${verb} along (one-based, as mathjs: 1 down the columns, 2 along the rows)`, default: "every element" };
}

/** A reduction of every element, or along one dimension (which is dropped). */
function alongDim(verb: string, f: (g: Graph, x: Node, axis: number | undefined) => Node, derivative: string): Builtin {
  return {
    ...tensorFunction([{ name: "x", meaning: "the tensor" }, dimParam(verb)], (g, [x, d]) => f(g, x as Node, d ? dimension(String(verb), x as Node, d) : undefined), derivative, "reduction"),
    domain: "a tensor",
  };
}

/** softmax and log_softmax: of a vector, or of each row of a matrix (dimension 2) unless another is given. */
function normalised(what: string, f: (g: Graph, x: Node, axis: number) => Node, derivative: string): Builtin {
  return {
    ...tensorFunction(
      [{ name: "x", meaning: "the logits" }, { name: "dim", meaning: "the dimension to normalise along (one-based)", default: "the last: each row of a matrix" }],
      (g, [x, d]) => {
        const t = x as Node;
        if (t.shape.length === 0) throw new ShapeError(`${what} of a scalar is always 1 (0 for its logarithm); it needs a vector or a matrix`);
        return f(g, t, d ? dimension(what, t, d) : t.shape.length - 1);
      },
      derivative,
      "reduction",
    ),
    domain: "a vector or a matrix",
  };
}

/**
 * max and min read as mathjs reads them: of scalars, the larger or smaller; of one tensor, its largest or
 * smallest element; of a tensor and a dimension, along that dimension. mathjs has no elementwise reading
 * for tensors (that is maximum and minimum), so one is an error naming both.
 */
function extremum(which: "max" | "min"): Builtin {
  const elementwise = which === "max" ? "maximum" : "minimum";
  const pick = (g: Graph, a: Node, b: Node) => (which === "max" ? g.max(a, b) : g.min(a, b));
  return {
    params: [{ name: "x", meaning: "a scalar or a tensor" }, { name: "y", meaning: "a second scalar, or the dimension of the tensor to reduce along (one-based)", default: "none" }],
    elementwise: false,
    perElement: (g, [a, b]) => (b ? pick(g, a as Node, b) : (a as Node)),
    domain: `scalars, or a tensor (${elementwise}(a, b) for tensors element by element)`,
    derivative: `to the ${which === "max" ? "larger" : "smaller"} of two scalars (at a tie, to the first, as TF.js); along a tensor, to every element equal to the result (as TF.js)`,
    group: "reduction",
    build: (g, [a, b]) => {
      const x = a as Node;
      if (!b) return x.shape.length === 0 ? x : reduceAll(g, which, x);
      if (x.shape.length === 0 && b.shape.length === 0) return pick(g, x, b);
      if (x.shape.length > 0 && b.shape.length === 0 && isDimension(b, x)) return g.reduce(which, x, (b.attr as number) - 1);
      throw new ArgumentError(
        x.shape.length > 0 && b.shape.length === 0
          ? `${which}(x, n) of a tensor is, in mathjs, the ${which}imum along dimension n, and n here is not a dimension of ${shapeText(x.shape)}`
          : `${which}(a, b) of tensors is an error in mathjs (it takes scalars, or one tensor and a dimension)`,
        `${elementwise}(a, b) for the ${which}imum element by element, or ${which}(x, n) with n from 1 to ${Math.max(1, x.shape.length)}`,
        `${which}(${shapeText(x.shape)}, ${b.op === "const" ? String(b.attr) : shapeText(b.shape)})`,
        `"${elementwise}"`,
      );
    },
  };
}

/** ones(m[, n]) and zeros(m[, n]): a constant repeated over the shape. */
function constantTensor(value: number): Builtin {
  return {
    ...tensorFunction(
      [{ name: "m", meaning: "the length (or the rows)" }, { name: "n", meaning: "the columns", default: "none: a vector" }],
      (g, dims) => g.broadcast(g.constant(value), dims.map((d, k) => size(d as Node, ["m", "n"][k] as string))),
      "none (a constant)",
    ),
    domain: "constant positive integers",
  };
}

function identity(g: Graph, n: Node, m: Node | undefined): Node {
  const rows = size(n, "n");
  const cols = m ? size(m, "m") : rows;
  return g.pack(Array.from({ length: rows }, (_, i) => g.pack(Array.from({ length: cols }, (_, j) => g.constant(i === j ? 1 : 0)))));
}

/** concat(a, b, …[, dim]): mathjs joins along the last dimension unless a dimension comes last. */
function concat(g: Graph, args: readonly Node[]): Node {
  const last = args[args.length - 1] as Node;
  const hasDim = args.length > 1 && last.shape.length === 0;
  const items = hasDim ? args.slice(0, -1) : [...args];
  const scalar = items.find((n) => n.shape.length === 0);
  if (scalar) throw new ShapeError("concat joins tensors; a scalar can only be its last argument, the dimension");
  const axis = hasDim ? dimension("concat", items[0] as Node, last) : (items[0] as Node).shape.length - 1;
  return g.concat(items, axis);
}

/** Running sums along `axis`: each slice is the previous running sum plus the slice of x. */
function cumsum(g: Graph, x: Node, axis: number): Node {
  if (x.shape.length === 0) throw new ShapeError("cumsum of a scalar: it needs a vector or a matrix");
  const at = (k: number) => g.slice(x, x.shape.map((size, d) => (d === axis ? { start: k, count: 1, keep: true } : { start: 0, count: size, keep: true })));
  const running = [at(0)];
  for (let k = 1; k < x.shape[axis]; k++) running.push(g.add(running[k - 1] as Node, at(k)));
  return g.concat(running, axis);
}

function reduceAll(g: Graph, kind: ReduceKind, x: Node): Node {
  let v = x;
  while (v.shape.length > 0) v = g.reduce(kind, v, v.shape.length - 1);
  return v;
}

const isDimension = (d: Node, x: Node) => d.op === "const" && Number.isInteger(d.attr) && (d.attr as number) >= 1 && (d.attr as number) <= x.shape.length;

/** The zero-based axis a one-based dimension argument names. */
function dimension(what: string, x: Node, d: Node): number {
  if (isDimension(d, x)) return (d.attr as number) - 1;
  if (x.shape.length === 0) throw new ArgumentError(`${what} along a dimension of a scalar`, "a vector or a matrix", "a scalar");
  throw new ArgumentError(
    `the dimension must be a constant integer from 1 to ${x.shape.length} for ${shapeText(x.shape)}`,
    `1 to ${x.shape.length} (one-based, as in mathjs)`,
    d.op === "const" ? String(d.attr) : `a value of shape ${shapeText(d.shape)}`,
  );
}

function size(d: Node, name: string): number {
  if (d.op === "const" && Number.isInteger(d.attr) && (d.attr as number) >= 1) return d.attr as number;
  throw new ArgumentError(`the size ${name} must be a constant positive integer`, "an integer such as 3", d.op === "const" ? String(d.attr) : `a value of shape ${shapeText(d.shape)}`);
}

function dot(g: Graph, a: Node, b: Node): Node {
  if (a.shape.length !== 1 || b.shape.length !== 1 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError("dot needs two vectors of the same length");
  }
  return g.matmul(a, b);
}

/** The n-th root: x^(1/n), and for an odd integer n the real root of a negative x too (as mathjs's nthRoot). */
function nthRoot(g: Graph, x: Node, n: Node): Node {
  const degree = inverse(g, n);
  const odd = n.op === "const" && Number.isInteger(n.attr) && Math.abs(n.attr as number) % 2 === 1;
  return odd ? g.mul(g.sign(x), g.pow(g.abs(x), degree)) : g.pow(x, degree);
}

/**
 * The biased batch variance: centred on the batch mean before squaring (exact; the mean's barrier comes
 * first), or from the moments about a shift `c` the same for every sample (both means in one stage: one barrier).
 */
function batchVariance(g: Graph, x: Node, c: Node | undefined): Node {
  if (!c) return g.batchMean(g.square(g.sub(x, g.batchMean(x))));
  if (c.batched) {
    throw new ArgumentError("batch_var's shift must be the same for every sample (the moments about a per-sample value are not the variance)", "a parameter or a constant", "a value of each sample");
  }
  return g.relu(g.sub(g.batchMean(g.square(g.sub(x, c))), g.square(g.sub(g.batchMean(x), c))));
}

/** mathjs's variance: Σ (x − mean)² / (n − 1), of every element or along `axis`. */
function variance(g: Graph, x: Node, axis: number | undefined): Node {
  const n = axis === undefined ? x.shape.reduce((a, b) => a * b, 1) : x.shape[axis];
  if (n < 2) throw new ArgumentError("the variance of one element divides by n − 1 = 0", "at least two elements", `${n} of ${shapeText(x.shape)}`);
  if (axis === undefined) return g.scale(1 / (n - 1), g.sum(g.square(g.sub(x, g.mean(x)))));
  const centred = g.sub(x, g.expandAlong(g.meanAlong(x, axis), x, axis));
  return g.scale(1 / (n - 1), g.reduce("sum", g.square(centred), axis));
}

/**
 * √s for a sum of squares s, with gradient 0 (not 0 · ∞) where s = 0: the square root reads 1 there, and the
 * outer selection takes 0, so neither branch sends a non-finite value back.
 */
function rootOfSquares(g: Graph, s: Node): Node {
  const positive = g.gt(s, g.constant(0));
  return g.select(positive, g.sqrt(g.select(positive, s, g.constant(1))), g.constant(0));
}

/** √(Σ x²) over every element of x (a scalar: |x|), with gradient 0 at 0. */
function euclidean(g: Graph, x: Node): Node {
  const squares = g.square(x);
  return rootOfSquares(g, x.shape.length === 0 ? squares : g.sum(squares));
}

/** mathjs's norm: a vector's 1-, 2- (default) or ∞-norm; a matrix's 1- (column sums) or ∞-norm (row sums). */
function norm(g: Graph, x: Node, p: Node | undefined): Node {
  if (x.shape.length === 0) return g.abs(x);
  const which = p === undefined ? 2 : p.op === "const" ? (p.attr as number) : NaN;
  const abs = g.abs(x);
  if (x.shape.length === 2) {
    if (p === undefined) {
      throw new ArgumentError(
        "norm(A) of a matrix is, in mathjs, its 2-norm (the largest singular value), which bpgen does not compute",
        "norm(A, 1), norm(A, Infinity), or sqrt(sum(A .^ 2)) for the Frobenius norm",
        `norm(${shapeText(x.shape)})`,
        '"sqrt(sum(A .^ 2))"',
      );
    }
    if (which === 1) return reduceAll(g, "max", g.reduce("sum", abs, 0));
    if (which === Infinity) return reduceAll(g, "max", g.reduce("sum", abs, 1));
    throw new ArgumentError("norm(A, p) of a matrix takes p = 1 or Infinity here (the 2-norm of a matrix, its largest singular value, is not an op)", "1 or Infinity, or no p for the Frobenius norm", p.op === "const" ? String(p.attr) : "a value");
  }
  if (which === 2) return euclidean(g, x);
  if (which === 1) return g.sum(abs);
  if (which === Infinity) return reduceAll(g, "max", abs);
  throw new ArgumentError("norm(x, p) takes p = 1, 2 or Infinity", "1, 2 or Infinity", p && p.op === "const" ? String(p.attr) : "a value");
}

/** mathjs's hypot: √(a² + b² + …) of scalars, or of the elements of one tensor. */
function hypot(g: Graph, args: readonly Node[]): Node {
  if (args.length === 1) return euclidean(g, args[0] as Node);
  if (args.some((a) => a.shape.length > 0)) throw new ArgumentError("hypot(a, b, …) takes scalars (or one tensor alone)", "scalars, or hypot(x) of one tensor", args.map((a) => shapeText(a.shape)).join(", "));
  return rootOfSquares(g, args.map((a) => g.square(a)).reduce((s, t) => g.add(s, t)));
}

/** The sum of the diagonal of a square matrix. */
function trace(g: Graph, a: Node): Node {
  if (a.shape.length !== 2 || a.shape[0] !== a.shape[1]) throw new ArgumentError("trace needs a square matrix", "[n, n]", shapeText(a.shape));
  const n = a.shape[0] as number;
  return g.sum(g.mul(a, identity(g, g.constant(n), undefined)));
}

/** Named constants of expressions. */
export const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ["pi", Math.PI],
  ["PI", Math.PI],
  ["e", Math.E],
  ["E", Math.E],
  ["tau", 2 * Math.PI],
]);

/** Fewest and most arguments of a builtin (most is Infinity for a variadic one). */
export function arityOf(b: Builtin): [number, number] {
  return [b.params.filter((p) => p.default === undefined).length, b.variadic ? Infinity : b.params.length];
}

/** The activations: every elementwise function of one argument (others optional), by name. */
export const ACTIVATIONS: readonly string[] = [...BUILTINS].filter(([, b]) => b.elementwise && arityOf(b)[0] === 1).map(([name]) => name);
