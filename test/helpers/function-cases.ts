/**
 * The cases of test/functions.test.ts: one network per function of equations (src/frontend/functions.ts), per
 * function of matrices and per tensor function of rank 3 and more, each with the ranges its parameters are drawn
 * from (away from kinks); and the kinks, ties and bounds whose gradient is a documented convention. The renderer
 * tests (test/renderers.test.ts) compile the same networks into modules of each kernel back end.
 */
import { BUILTINS } from "../../src/frontend/functions.ts";
import { isLayerSpec, type EquationNetSpec, type LayerNetSpec, type NetSpec } from "../../src/spec/types.ts";
import type { PackUnit } from "./packs.ts";

/** Where each argument is drawn from: [lo, hi], or a list of ranges to pick from (to avoid a kink at 0). */
export type Range = readonly [number, number];
export interface Case {
  /** Ranges of the arguments in order. */
  args: readonly (readonly Range[])[];
  /** The equation's right-hand side, in the argument names a, b, c. */
  call?: string;
  /** Arguments that are constants in the call (not differentiated), e.g. nthRoot's n. */
  fixed?: Readonly<Record<number, string>>;
}

export const R: Range[] = [[-2, 2]];
const POS: Range[] = [[0.3, 2]];
const OFF0: Range[] = [
  [-2, -0.2],
  [0.2, 2],
];
const UNIT: Range[] = [[-0.8, 0.8]];
const OFF_INT: Range[] = [
  [-2.8, -2.6],
  [-1.8, -1.6],
  [0.2, 0.4],
  [1.6, 1.8],
];

/** One case per function; the test checks that no function is left out. */
export const CASES: Record<string, Case> = {
  linear: { args: [R] },
  exp: { args: [R] },
  expm1: { args: [R] },
  log: { args: [POS] },
  log1p: { args: [POS] },
  log2: { args: [POS] },
  log10: { args: [POS] },
  sqrt: { args: [POS] },
  rsqrt: { args: [POS] },
  cbrt: { args: [OFF0] },
  square: { args: [R] },
  cube: { args: [R] },
  reciprocal: { args: [OFF0] },
  pow: { args: [POS, R], call: "pow(a[1], b[2]) * a + a .^ b" },
  nthRoot: { args: [OFF0], call: "nthRoot(a, 3) + nthRoot(a .* a)" },
  abs: { args: [OFF0] },
  sign: { args: [OFF0] },
  sin: { args: [[[-3, 3]]] },
  cos: { args: [[[-3, 3]]] },
  tan: { args: [UNIT] },
  asin: { args: [UNIT] },
  acos: { args: [UNIT] },
  atan: { args: [[[-3, 3]]] },
  atan2: { args: [OFF0, OFF0] },
  sinh: { args: [R] },
  cosh: { args: [R] },
  tanh: { args: [R] },
  asinh: { args: [[[-3, 3]]] },
  acosh: { args: [[[1.2, 3]]] },
  atanh: { args: [UNIT] },
  sec: { args: [[[-1.2, 1.2]]] },
  csc: { args: [[[0.3, 2.8]]] },
  cot: { args: [[[0.3, 2.8]]] },
  asec: { args: [[[-3, -1.2], [1.2, 3]]] },
  acsc: { args: [[[-3, -1.2], [1.2, 3]]] },
  acot: { args: [OFF0] },
  sech: { args: [R] },
  csch: { args: [OFF0] },
  coth: { args: [OFF0] },
  asech: { args: [[[0.2, 0.9]]] },
  acsch: { args: [OFF0] },
  acoth: { args: [[[-3, -1.2], [1.2, 3]]] },
  erf: { args: [R] },
  erfc: { args: [[[-2, 4]]] },
  sigmoid: { args: [R] },
  log_sigmoid: { args: [R] },
  relu: { args: [OFF0] },
  relu6: {
    args: [
      [
        [-2, -0.2],
        [0.2, 5.8],
        [6.2, 8],
      ],
    ],
  },
  leaky_relu: { args: [OFF0], call: "leaky_relu(a, 0.2)" },
  prelu: { args: [OFF0, [[0.05, 0.5]]] },
  elu: { args: [OFF0], call: "elu(a, 1.5)" },
  selu: { args: [OFF0] },
  celu: { args: [OFF0], call: "celu(a, 0.7)" },
  softplus: { args: [R] },
  softsign: { args: [OFF0] },
  gelu: { args: [R] },
  gelu_tanh: { args: [R] },
  gelu_exact: { args: [R] },
  swish: { args: [R] },
  silu: { args: [R] },
  mish: { args: [R] },
  hard_sigmoid: {
    args: [
      [
        [-4, -3.2],
        [-2.8, 2.8],
        [3.2, 4],
      ],
    ],
  },
  hard_swish: {
    args: [
      [
        [-4, -3.2],
        [-2.8, 2.8],
        [3.2, 4],
      ],
    ],
  },
  floor: { args: [OFF_INT] },
  ceil: { args: [OFF_INT] },
  round: { args: [OFF_INT] },
  mod: {
    args: [
      [
        [0.1, 0.4],
        [1.1, 1.4],
      ],
      [[1.5, 1.6]],
    ],
  },
  clamp: {
    args: [
      [
        [-2, -1.2],
        [-0.8, 0.8],
        [1.2, 2],
      ],
      [[-1, -1]],
      [[1, 1]],
    ],
    call: "clamp(a, b, c)",
  },
  clip: { args: [[[-2, -1.2], [-0.8, 0.8], [1.2, 2]], [[-1, -1]], [[1, 1]]], call: "clip(a, b, c)" },
  where: { args: [OFF0, R, R], call: "where(a > 0, b, c)" },
  maximum: { args: [[[-2, -1]], [[0, 2]]] },
  minimum: { args: [[[-2, -1]], [[0, 2]]] },
  max: { args: [[[-2, -1]], [[0, 2]]], call: "max(a[1], b[2]) * a + max(b)" },
  min: { args: [[[-2, -1]], [[0, 2]]], call: "min(a[1], b[2]) * a + min(a)" },
  sum: { args: [R] },
  mean: { args: [R] },
  prod: { args: [OFF0] },
  logsumexp: { args: [R] },
  softmax: { args: [R] },
  log_softmax: { args: [R] },
  variance: { args: [R, R], call: "variance(a) * a + variance(a, 1) * b" },
  std: { args: [R], call: "std(a) * a + std(a, 1)" },
  norm: { args: [OFF0], call: "norm(a) * a + norm(a, 1) * a + norm(a, Infinity) * a + norm(a[1]) * a" },
  hypot: { args: [OFF0], call: "hypot(a[1], a[2], a[3]) * a + hypot(a) * a" },
  trace: { args: [R], call: "trace([a[1], a[2]; a[3], a[4]]) * a" },
  // the batch functions at the batch of one these cases run (test/batch-coupling.test.ts checks larger batches)
  batch_mean: { args: [R], call: "batch_mean(a .* w) .* a" },
  batch_var: { args: [R], call: "batch_var(a .* w) + batch_var(a .* w, a[2]) + a .* a" },
  transpose: { args: [R], call: "transpose(a) .* a" },
  dot: { args: [R, R] },
  cumsum: { args: [R] },
  concat: { args: [R, R], call: "concat(a[1:2], b, a[3:4])[2:5]" },
  ones: { args: [R], call: "a .* ones(4) + sum(ones(2, 3)) * a" },
  zeros: { args: [R], call: "a + zeros(4)" },
  identity: { args: [R], call: "identity(4) * a + identity(4, 2) * a[2:3]" },
  // tensors of higher rank, folded back to the 4 values of the weighted sum; TENSOR_CASES has larger ones
  reshape: { args: [R, R], call: "reshape(reshape(a, [2, 2]) .* [1, 2; 3, 4], [-1]) .* b + reshape(b, [1, -1, 2])[1, 2, 1]" },
  pad: { args: [R, R], call: "pad(a, [[1, 0]], 2)[1:4] .* b + pad(b, 1)[2:5] .* a" },
  matmul: { args: [R, R], call: "sum(reshape(matmul(reshape(a, [2, 2, 1]), reshape(b, [2, 1, 2])), [2, 4]), 1)" },
  conv1d: { args: [R, R], call: 'sum(conv1d(reshape(a, [4, 1]), reshape(b, [2, 1, 2]), 1, "same"), 2)' },
  conv2d: { args: [R, R], call: 'reshape(conv2d(reshape(a, [2, 2, 1]), reshape(b, [2, 2, 1, 1]), 1, "same"), [-1])' },
  conv3d: { args: [R, R], call: 'reshape(conv3d(reshape(a, [1, 2, 2, 1]), reshape(b, [1, 2, 2, 1, 1]), 1, "same"), [-1])' },
  conv1d_transpose: { args: [R, R], call: 'sum(conv1d_transpose(reshape(a, [4, 1]), reshape(b, [2, 2, 1]), [4, 2], 1, "same"), 2)' },
  conv2d_transpose: { args: [R, R], call: 'reshape(conv2d_transpose(reshape(a, [2, 2, 1]), reshape(b, [2, 2, 1, 1]), [2, 2, 1], 1, "same"), [-1])' },
  conv3d_transpose: { args: [R, R], call: 'reshape(conv3d_transpose(reshape(a, [1, 2, 2, 1]), reshape(b, [1, 2, 2, 1, 1]), [1, 2, 2, 1], 1, "same"), [-1])' },
  depthwise_conv2d: { args: [R, R], call: 'reshape(depthwise_conv2d(reshape(a, [2, 2, 1]), reshape(b, [2, 2, 1, 1]), 1, "same"), [-1])' },
  dilation2d: { args: [R, R], call: 'reshape(dilation2d(reshape(a, [2, 2, 1]), reshape(b, [2, 2, 1]), 1, "same"), [-1])' },
  max_pool1d: { args: [R], call: 'reshape(max_pool1d(reshape(a, [4, 1]), 2, 1, "same"), [-1]) + max_pool1d(reshape(a, [4, 1]), 4)[1, 1]' },
  max_pool2d: { args: [R], call: 'reshape(max_pool2d(reshape(a, [2, 2, 1]), 2, 1, "same"), [-1])' },
  max_pool3d: { args: [R], call: 'reshape(max_pool3d(reshape(a, [1, 2, 2, 1]), [1, 2, 2], 1, "same"), [-1])' },
  avg_pool1d: { args: [R], call: 'reshape(avg_pool1d(reshape(a, [4, 1]), 2, 1, "same"), [-1]) .* a' },
  avg_pool2d: { args: [R], call: 'reshape(avg_pool2d(reshape(a, [2, 2, 1]), 2, 1, "same"), [-1]) .* a' },
  avg_pool3d: { args: [R], call: 'reshape(avg_pool3d(reshape(a, [1, 2, 2, 1]), [1, 2, 2], 1, "same"), [-1]) .* a' },
};

/**
 * Functions of matrices: along each dimension, over rows, with broadcasting and indexing. `A` is a [3, 4]
 * parameter, `v` a [4] parameter and `u` a [3] parameter; the equation's value is a vector of 4.
 */
export const MATRIX_CASES: Record<string, { call: string; A?: readonly Range[] }> = {
  "sum along each dimension": { call: "sum(A, 1) + sum(A, 2)[2] * v" },
  "mean along each dimension": { call: "mean(A, 1) .* v + mean(A, 2)[3]" },
  "prod along each dimension (some factors 0)": {
    call: "prod(A, 1) + prod(A', 2) .* v",
    A: [
      [-2, -0.3],
      [0.3, 2],
      [0, 0],
    ],
  },
  "max and min along each dimension": {
    call: "max(A, 1) .* v + min(A, 2)[1] + max(A, 2)[3] - min(A, 1)",
  },
  "logsumexp along each dimension": {
    call: "logsumexp(A, 1) .* v + logsumexp(A, 2)[2]",
  },
  "softmax of each row, and along the columns": {
    call: "sum(softmax(A) .* A, 1) + softmax(A, 1)[2, :] .* v",
  },
  "log_softmax of each row": {
    call: "sum(log_softmax(A) .* (A .^ 2), 1) + log_softmax(v)",
  },
  "a vector broadcast over the rows, and a column over the columns": {
    call: "sum(tanh(A + v) .* (A .* [1; 2; 3]), 1) + sum(A .* [u[1]; u[2]; u[3]], 1)",
  },
  "u as a column: broadcast by a [3, 1] array": {
    call: "sum(A .* concat([u[1]; u[2]; u[3]], [1; 1; 1], 2)[:, 1:1], 1)",
  },
  "rows, columns and elements by index": {
    call: "A[2, :] .* v + A[1, 3] * v + A[:, 4][2] * A[3, 1:4] + A[end, end] * v[end]",
  },
  "an array of computed values": {
    call: "[sum(v), v[1] * u[2], exp(u[3]), A[1, 1]] .* v",
  },
  "lists of indices (gathers, with repeats)": { call: "A[[3, 1, 1, 2], :][:, 2] .* v[[4, 4, 1, 2]] + sum(A[[2, 3], [4, 1, 1, 2]], 1) .* v" },
  "variance, std and norms of a matrix": {
    call: "variance(A, 1) .* v + std(A, 2)[2] + variance(A) * v + norm(A, 1) * v + norm(A, Infinity) * v + trace(A[:, 1:3]) * v",
  },
  "cumsum along each dimension": { call: "sum(cumsum(A) .* A, 1) + cumsum(A, 2)[2, :] .* v" },
  "concat along rows and columns": {
    call: "sum(concat(A, [v], 1) .* concat([v], A, 1), 1) + concat(u, v)[3:6] + sum(concat(A, A, 2)[:, 3:6], 1)",
  },
};

/** Elements of each vector parameter. */
export const N = 4;

const NAMES = ["a", "b", "c"];

function net(name: string, c: Case): EquationNetSpec {
  const builtin = BUILTINS.get(name);
  if (!builtin) throw new Error(`no builtin ${name}`);
  const count = c.args.length;
  const args = NAMES.slice(0, count);
  const params = Object.fromEntries(args.map((a) => [a, { shape: [N] }]));
  const call = c.call ?? `${name}(${args.join(", ")})`;
  // a weighted sum, so every output element carries its own cotangent
  return {
    name: `fn_${name}`,
    params,
    inputs: { w: [N] },
    targets: {},
    equations: [`f = ${call}`],
    output: "f",
    loss: "sum(f .* w)",
  };
}

/** The scalar-result functions: their output is summed with one weight. */
function fixSpec(spec: EquationNetSpec, name: string): EquationNetSpec {
  const reduces =
    ["sum", "mean", "prod", "logsumexp", "dot"].includes(name) &&
    !CASES[name]?.call?.includes("*");
  return reduces ? { ...spec, loss: "f * w[1]" } : spec;
}

/**
 * Tensors of rank 3 and more, as images and batches use them: convolutions and pooling with strides, dilations
 * and padding, permutations, batched products, padding and reductions. Each case names its parameters' shapes and
 * its value's shape (the weights of the weighted sum have that shape).
 */
export const TENSOR_CASES: Record<string, { params: Record<string, readonly number[]>; call: string; shape: readonly number[] }> = {
  "conv2d over a batch, with strides, explicit padding and dilation": {
    params: { X: [2, 5, 5, 2], K: [2, 2, 2, 3] },
    call: "conv2d(X, K, [2, 1], [[1, 0], [0, 1]], [1, 2])",
    shape: [2, 3, 4, 3],
  },
  "conv2d plus a per-channel bias, through tanh": { params: { X: [4, 4, 2], K: [3, 3, 2, 2], c: [2] }, call: "tanh(conv2d(X, K) + c)", shape: [2, 2, 2] },
  "conv1d with stride 2, same padding": { params: { X: [7, 2], K: [3, 2, 2] }, call: 'conv1d(X, K, 2, "same")', shape: [4, 2] },
  "conv3d": { params: { X: [3, 3, 3, 1], K: [2, 2, 2, 1, 2] }, call: "conv3d(X, K)", shape: [2, 2, 2, 2] },
  "conv2d_transpose with stride 2": { params: { X: [2, 2, 2], K: [3, 3, 1, 2] }, call: 'conv2d_transpose(X, K, [4, 4, 1], 2, "same")', shape: [4, 4, 1] },
  "depthwise_conv2d with multiplier 2, stride 2": { params: { X: [5, 5, 2], K: [3, 3, 2, 2] }, call: 'depthwise_conv2d(X, K, 2, "same")', shape: [3, 3, 4] },
  "dilation2d with dilation 2": { params: { X: [5, 5, 2], K: [2, 2, 2] }, call: 'dilation2d(X, K, 1, "valid", 2)', shape: [3, 3, 2] },
  "max_pool2d 3×3, stride 2, same padding": { params: { X: [5, 5, 2] }, call: 'max_pool2d(X, 3, 2, "same") .^ 2', shape: [3, 3, 2] },
  "avg_pool2d 2×3, stride [1, 2]": { params: { X: [4, 5, 2] }, call: "avg_pool2d(X, [2, 3], [1, 2]) .^ 2", shape: [3, 2, 2] },
  "a permutation of three axes, and reshape": { params: { A: [2, 3, 4] }, call: "reshape(transpose(A, [3, 1, 2]), [4, 6]) .* reshape(A, [4, 6])", shape: [4, 6] },
  "batched matmul, the matrix broadcast over the batch": { params: { A: [2, 3, 4], B: [4, 2] }, call: "matmul(A, B) .* matmul(A, B)", shape: [2, 3, 2] },
  "pad of a rank-3 tensor": { params: { A: [2, 3, 2] }, call: "pad(A, [[1, 0], [0, 2], [1, 1]], -1) .^ 2", shape: [3, 5, 4] },
  "reductions along the axes of a rank-3 tensor": { params: { A: [2, 3, 4] }, call: "sum(A, 2) .* max(A, 2) + mean(A .^ 2, 2)", shape: [2, 4] },
};

/** A network of the cases above and the ranges of its parameters: per argument (N elements each), or per element when `perElement`. */
export interface FunctionNet {
  readonly name: string;
  readonly spec: NetSpec;
  readonly ranges: readonly (readonly Range[])[];
  readonly perElement: boolean;
}

function tensorNet(c: (typeof TENSOR_CASES)[string]): FunctionNet["spec"] {
  return {
    name: "fn_tensor",
    params: Object.fromEntries(Object.entries(c.params).map(([p, shape]) => [p, { shape: [...shape] }])),
    inputs: { w: [...c.shape] },
    targets: {},
    equations: [`f = ${c.call}`],
    output: "f",
    loss: "sum(f .* w)",
  };
}

function matrixNet(c: (typeof MATRIX_CASES)[string]): FunctionNet["spec"] {
  return {
    name: "fn_matrix",
    params: { A: { shape: [3, 4] }, v: { shape: [N] }, u: { shape: [3] } },
    inputs: { w: [N] },
    targets: {},
    equations: [`f = ${c.call}`],
    output: "f",
    loss: "sum(f .* w)",
  };
}

/** linear is an activation only (the layer form). */
const LINEAR_LAYER: LayerNetSpec = {
  name: "fn_linear",
  input: N,
  layers: [{ type: "dense", units: 3, activation: "linear" }],
  loss: "mse",
};

/** Every case as a network, in this order: the functions (linear as a layer activation), the tensor and the matrix cases. */
export const FUNCTION_NETS: readonly FunctionNet[] = [
  ...Object.entries(CASES)
    .filter(([name]) => name !== "linear")
    .map(([name, c]) => ({ name, spec: fixSpec(net(name, c), name), ranges: c.args, perElement: false })),
  { name: "linear, as a layer activation", spec: LINEAR_LAYER, ranges: [R], perElement: false },
  ...Object.entries(TENSOR_CASES).map(([name, c]) => {
    const count = Object.values(c.params).reduce((total, shape) => total + shape.reduce((a, b) => a * b, 1), 0);
    return { name, spec: tensorNet(c), ranges: Array<readonly Range[]>(count).fill(R), perElement: true };
  }),
  ...Object.entries(MATRIX_CASES).map(([name, c]) => ({
    name,
    spec: matrixNet(c),
    ranges: [...Array<readonly Range[]>(12).fill(c.A ?? R), ...Array<readonly Range[]>(N + 3).fill(R)],
    perElement: true,
  })),
];

/**
 * The documented convention at kinks, ties and bounds (each function's `derivative` text), where PyTorch and
 * TF.js agree: relu′(0) = 0, relu6′ = 0 at 0 and 6, leaky_relu′(0) = α, |x|′ = 0 at 0, a clamp passes the
 * gradient at both bounds; ties of maximum/minimum go to the first operand and, along a dimension, to every tied
 * element (as TF.js); in a max-pooling window or a dilation, to the first tied element in row-major order (as
 * TF.js and PyTorch); a 2-norm or hypot of zeros has gradient 0 (as PyTorch). Exact points, so exact values:
 * [loss, x, dloss/dx].
 */
export const CONVENTIONS: readonly [string, readonly number[], readonly number[]][] = [
  ["sum(relu(x))", [0, -1, 1], [0, 0, 1]],
  ["sum(relu6(x))", [0, 6, 3, 7], [0, 0, 1, 0]],
  ["sum(leaky_relu(x, 0.25))", [0, -1, 1], [0.25, 0.25, 1]],
  ["sum(elu(x))", [0, 1], [1, 1]],
  ["sum(abs(x))", [0, -2, 2], [0, -1, 1]],
  ["sum(clamp(x, -1, 1))", [-1, 1, 0, 2, -2], [1, 1, 1, 0, 0]],
  ["sum(clip(x, -1, 1))", [-1, 1], [1, 1]],
  ["maximum(x[1], x[2])", [2, 2], [1, 0]],
  ["minimum(x[1], x[2])", [2, 2], [1, 0]],
  ["maximum(x[2], x[1])", [2, 2], [0, 1]],
  ["max(x)", [3, 1, 3], [1, 0, 1]],
  ["min(x)", [0, 0, 4], [1, 1, 0]],
  ["sum(sign(x)) + sum(floor(x)) + sum(round(x))", [0, 0.5, 1], [0, 0, 0]],
  ["norm(x) + hypot(x[1], x[2]) + hypot(x)", [0, 0], [0, 0]],
  ["norm(x, 1)", [0, 2], [0, 1]],
  // windows of [2, 2] over a 2×3 image, one channel: the first of the tied maxima in each window
  ["sum(max_pool2d(reshape(x, [2, 3, 1]), 2, 1))", [3, 1, 3, 3, 0, 3], [1, 0, 1, 0, 0, 0]],
  ["sum(max_pool1d(reshape(x, [4, 1]), 2, 2, \"same\"))", [5, 5, 2, 2], [1, 0, 1, 0]],
  ["sum(dilation2d(reshape(x, [2, 2, 1]), reshape(zeros(4), [2, 2, 1])))", [4, 4, 4, 4], [1, 0, 0, 0]],
];

/** The network of a convention: loss `equation` of a parameter vector x of `size` elements. */
export function conventionNet(equation: string, size: number): EquationNetSpec {
  return {
    name: "kink",
    params: { x: { shape: [size], init: 0 } },
    inputs: {},
    targets: {},
    equations: [`e = ${equation}`],
    output: "e",
    loss: "e",
  };
}

/** The regressions' networks: a loss that is one scalar parameter x (`e = …`). */
export const scalarNet = (name: string, equation: string, init = 0.5): EquationNetSpec => ({
  name,
  params: { x: { shape: [], init } },
  inputs: {},
  targets: {},
  equations: [equation],
  output: "e",
  loss: "e",
});

/** d/dx of this is 0, not NaN. */
export const ZERO_BASE = "e = 0^(2^x + x^3 + 2)";

/** A learnable exponent of relu outputs (and of negative bases). */
export const RELU_POW: EquationNetSpec = {
  name: "relu_pow",
  params: { p: { shape: [], init: 1.5 } },
  inputs: { x: [4] },
  targets: {},
  equations: ["h = relu(x) .^ p", "n = (x - 1) .^ p"],
  output: "h",
  loss: "sum(h) + sum(n)",
};

/** A convolution under a dense layer of 512+ weights (its im2col matrix read through a transpose after the batched kernels). */
export const CONV_DENSE: EquationNetSpec = {
  name: "conv_dense",
  params: { K: { shape: [3, 3, 1, 8] }, V: { shape: [10, 128] } },
  inputs: { img: [6, 6, 1] },
  targets: { y: [10] },
  equations: ["z = V * reshape(conv2d(img, K), [-1])"],
  output: "z",
  loss: "0.5 * sum((z - y) .^ 2)",
};

// ---- the same networks for the renderer tests, as units of packs -------------------------------------------

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const drawIn = (ranges: readonly Range[], next: () => number) => {
  const [lo, hi] = ranges[Math.floor(next() * ranges.length)] as Range;
  return lo + (hi - lo) * next();
};

/** A unit whose parameters come from `param(i, next)` (flat index), inputs from `input`, targets uniform in [0, 1). */
function unit(name: string, spec: EquationNetSpec, param: (i: number, next: () => number) => number, input: (next: () => number) => number): PackUnit {
  const count = (r: Record<string, readonly number[]>) => Object.values(r).reduce((t, shape) => t + sizeOf(shape), 0);
  const params = Object.values(spec.params).reduce((t, p) => t + sizeOf(p.shape), 0);
  return {
    name,
    spec,
    draw: (next) => ({
      params: Array.from({ length: params }, (_, i) => param(i, next)),
      inputs: Array.from({ length: count(spec.inputs) }, () => input(next)),
      targets: Array.from({ length: count(spec.targets) }, () => next()),
    }),
  };
}

/**
 * Every equation network above as a pack unit, drawn as the tests draw it: the functions in their ranges (the
 * weights of the weighted sums in [0.5, 1.5)), the conventions at their exact points, the regressions at random
 * points. (linear, an activation of the layer form only, runs in the oracle's layer nets.)
 */
export function packUnits(): PackUnit[] {
  const functions = FUNCTION_NETS.filter((f) => !isLayerSpec(f.spec)).map((f) =>
    unit(
      f.name,
      f.spec as EquationNetSpec,
      (i, next) => drawIn(f.perElement ? (f.ranges[i] ?? R) : (f.ranges[Math.floor(i / N)] ?? R), next),
      (next) => 0.5 + next(),
    ),
  );
  const conventions = CONVENTIONS.map(([equation, x]) =>
    unit(equation, conventionNet(equation, x.length), (i) => x[i] as number, () => 0),
  );
  const symmetric = (_: number, next: () => number) => 2 * next() - 1;
  const none = () => 0;
  const regressions = [
    unit("a loss that is a scalar parameter", scalarNet("loss_is_param", "e = x + 0"), symmetric, none),
    unit("0^(2^x + x^3 + 2)", scalarNet("zero_base", ZERO_BASE), symmetric, none),
    unit("relu(x) .^ p", RELU_POW, (_, next) => 1 + next(), (next) => 4 * next() - 2),
    unit("conv2d under a dense layer", CONV_DENSE, (_, next) => next() - 0.5, (next) => next() - 0.5),
  ];
  return [...functions, ...conventions, ...regressions];
}
