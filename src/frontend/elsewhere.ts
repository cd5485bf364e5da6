/**
 * Function names users bring from other libraries (mathjs, numpy, PyTorch, TensorFlow) that bpgen does not define,
 * and what to write instead. Suggestions for an unknown name go by meaning, not spelling: a name another library
 * defines gets its own alternative (or none), never the nearest spelling, which would be a different function —
 * `sin` is not `sign`, `cot` not `dot`, `erf` not `exp`. Only a name nobody defines (a typo) gets a spelling
 * suggestion.
 */
import { createRequire } from "node:module";
import { suggest } from "../spec/suggest.ts";

/** What another library means by a name, and how to say it in bpgen. */
export interface Elsewhere {
  /** The bpgen function or expression with the same meaning, when there is one. */
  readonly instead?: string;
  /** Why there is none, or what differs. */
  readonly why?: string;
}

const same = (instead: string): Elsewhere => ({ instead });
const NOT_DIFFERENTIABLE = "its result is piecewise constant or chosen by sorting, so it has no useful gradient";
const MATRIX_FUNCTION = "matrix functions (determinants, inverses, decompositions) are not ops yet";
const SPECIAL_FUNCTION = "the gamma family is not an op yet";
const OTHER_RANKS = "1d and 3d for other ranks; channels last";
const MIRROR_PAD = "reflected padding is not an op yet; pad(x, widths, value) pads with a constant";
const PERMUTE = { instead: "transpose(X, [3, 1, 2])", why: "the new order of the axes, one-based" };

export const ELSEWHERE: ReadonlyMap<string, Elsewhere> = new Map<string, Elsewhere>([
  // mathjs's operator functions: bpgen reads the operators
  ["add", same("a + b")],
  ["subtract", same("a - b")],
  ["multiply", same("a * b")],
  ["divide", same("a / b")],
  ["dotMultiply", same("a .* b")],
  ["dotDivide", same("a ./ b")],
  ["dotPow", same("a .^ b")],
  ["unaryMinus", same("-x")],
  ["unaryPlus", same("x")],
  ["larger", same("a > b")],
  ["smaller", same("a < b")],
  ["largerEq", same("a >= b")],
  ["smallerEq", same("a <= b")],
  ["equal", same("a == b")],
  ["unequal", same("a != b")],
  ["ctranspose", same("transpose(A)")],
  ["fix", { instead: "sign(x) * floor(abs(x))", why: "rounding toward zero; its gradient is 0" }],
  ["kldivergence", same("sum(p .* log(p ./ q))")],
  ["expm", { why: MATRIX_FUNCTION }],
  ["sqrtm", { why: MATRIX_FUNCTION }],
  ["det", { why: MATRIX_FUNCTION }],
  ["inv", { why: MATRIX_FUNCTION }],
  ["pinv", { why: MATRIX_FUNCTION }],
  ["lusolve", { why: MATRIX_FUNCTION }],
  ["eigs", { why: MATRIX_FUNCTION }],
  ["gamma", { why: SPECIAL_FUNCTION }],
  ["lgamma", { why: SPECIAL_FUNCTION }],
  ["factorial", { why: SPECIAL_FUNCTION }],
  ["median", { why: NOT_DIFFERENTIABLE }],
  ["mode", { why: NOT_DIFFERENTIABLE }],
  ["sort", { why: NOT_DIFFERENTIABLE }],
  ["flatten", same("reshape(x, [-1])")],
  ["squeeze", { why: "reshape(x, sizes) with the sizes other than 1" }],
  // numpy, PyTorch and TensorFlow names for bpgen's functions
  ["ln", same("log(x)")],
  ["exp2", same("2^x")],
  ["power", same("pow(x, y)")],
  ["absolute", same("abs(x)")],
  ["negative", same("-x")],
  ["arcsin", same("asin(x)")],
  ["arccos", same("acos(x)")],
  ["arctan", same("atan(x)")],
  ["arctan2", same("atan2(y, x)")],
  ["arcsinh", same("asinh(x)")],
  ["arccosh", same("acosh(x)")],
  ["arctanh", same("atanh(x)")],
  ["logistic", same("sigmoid(x)")],
  ["expit", same("sigmoid(x)")],
  ["logsigmoid", same("log_sigmoid(x)")],
  ["logsoftmax", same("log_softmax(x)")],
  ["softmin", same("softmax(-x)")],
  ["leakyrelu", same("leaky_relu(x, alpha)")],
  ["hardsigmoid", same("hard_sigmoid(x)")],
  ["hardswish", same("hard_swish(x)")],
  ["hardtanh", same("clamp(x, -1, 1)")],
  ["tanhshrink", same("x - tanh(x)")],
  ["heaviside", same("x > 0")],
  ["step", same("x > 0")],
  ["greater", same("a > b")],
  ["less", same("a < b")],
  ["fmax", same("maximum(a, b)")],
  ["fmin", same("minimum(a, b)")],
  ["select", same("where(c, a, b)")],
  ["clip_by_value", same("clip(x, lo, hi)")],
  ["reduce_sum", same("sum(x)")],
  ["reduce_mean", same("mean(x)")],
  ["reduce_max", same("max(x)")],
  ["reduce_min", same("min(x)")],
  ["reduce_prod", same("prod(x)")],
  ["reduce_logsumexp", same("logsumexp(x)")],
  ["logaddexp", same("log(exp(a) + exp(b))")],
  ["mm", same("A * B")],
  ["bmm", same("matmul(A, B)")],
  ["permute", PERMUTE],
  ["permute_dims", PERMUTE],
  ["conv", { instead: "conv2d(X, W)", why: OTHER_RANKS }],
  ["convolution", { instead: "conv2d(X, W)", why: OTHER_RANKS }],
  ["conv_transpose2d", same("conv2d_transpose(X, W, [4, 4, 2], 1, \"same\")")],
  ["conv2dTranspose", same("conv2d_transpose(X, W, [4, 4, 2], 1, \"same\")")],
  ["depthwiseConv2d", same("depthwise_conv2d(X, W)")],
  ["max_pool", { instead: "max_pool2d(X, 2)", why: OTHER_RANKS }],
  ["maxPool", { instead: "max_pool2d(X, 2)", why: OTHER_RANKS }],
  ["avg_pool", { instead: "avg_pool2d(X, 2)", why: OTHER_RANKS }],
  ["avgPool", { instead: "avg_pool2d(X, 2)", why: OTHER_RANKS }],
  ["mirror_pad", { why: MIRROR_PAD }],
  ["mirrorPad", { why: MIRROR_PAD }],
  ["var", { instead: "mean((x - mean(x)) .^ 2)", why: "numpy's default divides by n" }],
  ["erfinv", { why: SPECIAL_FUNCTION }],
  ["digamma", { why: SPECIAL_FUNCTION }],
  ["argmax", { why: "it returns an index, which has no gradient" }],
  ["argmin", { why: "it returns an index, which has no gradient" }],
]);

/** What an unknown function's error says. */
export interface UnknownFunctionHelp {
  /** `unknown function "gamma" (the gamma family is not an op yet)`: the why when another library defines it. */
  readonly message: string;
  /** What to write instead (quoted), when something has the same meaning or the name looks like a typo. */
  readonly suggestion?: string;
}

/**
 * How to explain an unknown function `name` (an equation's `function` or a layer's `activation`) to its author,
 * given the names bpgen accepts in that place: the alternative with the same meaning for a name another library
 * defines, else a spelling suggestion.
 */
export function explainUnknownFunction(name: string, what: "function" | "activation", known: readonly string[]): UnknownFunctionHelp {
  const message = (why?: string) => `unknown ${what} ${JSON.stringify(name)}${why === undefined ? "" : ` (${why})`}`;
  const elsewhere = ELSEWHERE.get(name);
  if (elsewhere !== undefined) return { message: message(elsewhere.why), suggestion: elsewhere.instead === undefined ? undefined : JSON.stringify(elsewhere.instead) };
  if (isMathjsFunction(name)) return { message: message("a mathjs function bpgen does not differentiate") };
  const near = suggest(name, known);
  return { message: message(), suggestion: near === undefined ? undefined : JSON.stringify(near) };
}

let mathjsNamespace: Readonly<Record<string, unknown>> | undefined;

/** Whether mathjs defines `name`: its whole namespace is loaded only here, on an error's path, never to compile. */
function isMathjsFunction(name: string): boolean {
  mathjsNamespace ??= createRequire(import.meta.url)("mathjs") as Readonly<Record<string, unknown>>;
  return Object.hasOwn(mathjsNamespace, name) && typeof mathjsNamespace[name] === "function";
}
