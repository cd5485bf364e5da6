/**
 * Every function of equations (src/frontend/functions.ts), compiled into a module and checked the way a user
 * would meet it: the module's gradient against central finite differences of its own loss (f64), and the f32
 * module against the f64 one, at random points of the function's domain away from its kinks. Runs on both
 * kernel back ends (vitest.config.ts).
 */
import { describe, expect, it } from "vitest";
import { loadModule } from "../src/check/module.ts";
import { BUILTINS, arityOf } from "../src/frontend/functions.ts";
import { compile } from "../src/pipeline.ts";
import type {
  EquationNetSpec,
  LayerNetSpec,
  NetSpec,
} from "../src/spec/types.ts";
import { withKernels } from "./helpers/kernels.ts";

/** Where each argument is drawn from: [lo, hi], or a list of ranges to pick from (to avoid a kink at 0). */
type Range = readonly [number, number];
interface Case {
  /** Ranges of the arguments in order. */
  args: readonly (readonly Range[])[];
  /** The equation's right-hand side, in the argument names a, b, c. */
  call?: string;
  /** Arguments that are constants in the call (not differentiated), e.g. nthRoot's n. */
  fixed?: Readonly<Record<number, string>>;
}

const R: Range[] = [[-2, 2]];
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
const CASES: Record<string, Case> = {
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
const MATRIX_CASES: Record<string, { call: string; A?: readonly Range[] }> = {
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

const N = 4;
let seed = 11;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const sample = (ranges: readonly Range[]) => {
  const [lo, hi] = ranges[Math.floor(random() * ranges.length)] as Range;
  return lo + (hi - lo) * random();
};

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
const TENSOR_CASES: Record<string, { params: Record<string, readonly number[]>; call: string; shape: readonly number[] }> = {
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

describe("every function of equations, compiled: gradient = finite differences (f64), f32 ≈ f64", () => {
  it("has a case for every builtin", () => {
    expect([...BUILTINS.keys()].filter((n) => !(n in CASES))).toEqual([]);
    for (const [name, b] of BUILTINS) {
      const [fewest] = arityOf(b);
      const c = CASES[name] as Case;
      if (!c.call) expect(c.args.length, name).toBe(fewest);
    }
  });

  for (const [name, c] of Object.entries(CASES)) {
    if (name === "linear") continue; // an activation only (the layer form): below
    it(name, async () => {
      const spec = fixSpec(net(name, c), name);
      await checkGradients(name, spec, c.args);
    });
  }

  it("linear, as a layer activation", async () => {
    const spec: LayerNetSpec = {
      name: "fn_linear",
      input: N,
      layers: [{ type: "dense", units: 3, activation: "linear" }],
      loss: "mse",
    };
    await checkGradients("linear", spec, [R]);
  });

  for (const [name, c] of Object.entries(TENSOR_CASES)) {
    it(name, async () => {
      const spec: EquationNetSpec = {
        name: "fn_tensor",
        params: Object.fromEntries(Object.entries(c.params).map(([p, shape]) => [p, { shape: [...shape] }])),
        inputs: { w: [...c.shape] },
        targets: {},
        equations: [`f = ${c.call}`],
        output: "f",
        loss: "sum(f .* w)",
      };
      const count = Object.values(c.params).reduce((total, shape) => total + shape.reduce((a, b) => a * b, 1), 0);
      await checkGradients(name, spec, Array(count).fill(R), true);
    });
  }

  for (const [name, c] of Object.entries(MATRIX_CASES)) {
    it(name, async () => {
      const spec: EquationNetSpec = {
        name: "fn_matrix",
        params: { A: { shape: [3, 4] }, v: { shape: [N] }, u: { shape: [3] } },
        inputs: { w: [N] },
        targets: {},
        equations: [`f = ${c.call}`],
        output: "f",
        loss: "sum(f .* w)",
      };
      await checkGradients(
        name,
        spec,
        [...Array(12).fill(c.A ?? R), ...Array(N + 3).fill(R)],
        true,
      );
    });
  }
});

/**
 * The module's gradient against central finite differences of its own loss (f64), and f32 against f64.
 * `ranges` are per argument (N elements each), or per element when `perElement`.
 */
async function checkGradients(
  name: string,
  spec: NetSpec,
  ranges: readonly (readonly Range[])[],
  perElement = false,
): Promise<void> {
  const m64 = loadModule<Float64Array>(
    (await compile(structuredClone(spec), withKernels({ precision: "f64" })))
      .source,
  );
  const m32 = loadModule<Float32Array>(
    (await compile(structuredClone(spec), withKernels({ precision: "f32" })))
      .source,
  );
  const P = m64.meta.paramCount;
  const inputSize = m64.meta.inputSize;
  const targetSize = m64.meta.targetSize;
  for (let trial = 0; trial < 3; trial++) {
    const p = new Float64Array(P);
    if (perElement) ranges.forEach((r, i) => (p[i] = Math.fround(sample(r))));
    else {
      ranges.forEach((r, k) => {
        for (let i = 0; i < N; i++) p[k * N + i] = Math.fround(sample(r));
      });
      for (let i = ranges.length * N; i < P; i++) p[i] = Math.fround(sample(R));
    }
    const w = Float64Array.from({ length: inputSize }, () =>
      Math.fround(0.5 + random()),
    );
    const y = Float64Array.from({ length: targetSize }, () =>
      Math.fround(random()),
    );
    const g = new Float64Array(P);
    m64.gradient(p, w, y, g, 1);
    const J = (q: Float64Array) => m64.loss(q, w, y, 1);
    const scale = Math.max(...g.map(Math.abs), 1e-3);
    for (let i = 0; i < P; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(p[i] as number));
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[i] = (p[i] as number) + h;
      down[i] = (p[i] as number) - h;
      const fd = (J(up) - J(down)) / (2 * h);
      expect(
        Math.abs((g[i] as number) - fd),
        `${name}: d/dp[${i}] at ${Array.from(p).join(", ")}: gradient ${g[i]}, finite difference ${fd}`,
      ).toBeLessThan(1e-6 * scale + 1e-8);
    }
    const g32 = new Float32Array(P);
    m32.gradient(
      Float32Array.from(p),
      Float32Array.from(w),
      Float32Array.from(y),
      g32,
      1,
    );
    for (let i = 0; i < P; i++) {
      expect(
        Math.abs((g32[i] as number) - (g[i] as number)),
        `${name} f32: d/dp[${i}]`,
      ).toBeLessThan(2e-4 * scale + 1e-6);
    }
  }
}

describe("regressions", () => {
  const scalarNet = (name: string, equation: string, init = 0.5): EquationNetSpec => ({
    name,
    params: { x: { shape: [], init } },
    inputs: {},
    targets: {},
    equations: [equation],
    output: "e",
    loss: "e",
  });
  const none = new Float64Array(0);

  for (const [what, equation] of [
    ["a loss that is exactly a scalar parameter", "e = x"],
    ["a loss the simplifier reduces to a scalar parameter", "e = x + 0"],
  ] as const) {
    it(`${what} (${equation}): loss, gradient and forward return it`, async () => {
      for (const [precision, F] of [["f64", Float64Array], ["f32", Float32Array]] as const) {
        const m = loadModule<Float64Array | Float32Array>((await compile(scalarNet("loss_is_param", equation), withKernels({ precision }))).source);
        const p = F.of(0.75);
        const g = new F(1);
        const out = new F(1);
        const empty = new F(0);
        expect(m.loss(p, empty, empty, 1)).toBe(0.75);
        expect(m.gradient(p, empty, empty, g, 1)).toBe(0.75);
        expect(g[0]).toBe(1);
        m.forward(p, empty, out, 1);
        expect(out[0]).toBe(0.75);
      }
    });
  }

  it("d/dx 0^(2^x + x^3 + 2) is 0, not NaN", async () => {
    const m = loadModule<Float64Array>((await compile(scalarNet("zero_base", "e = 0^(2^x + x^3 + 2)"), withKernels({ precision: "f64" }))).source);
    for (const x of [0.5, -0.3, 2]) {
      const g = new Float64Array(1);
      expect(m.gradient(Float64Array.of(x), none, none, g, 1)).toBe(0);
      expect(g[0]).toBe(0);
    }
  });

  it("a learnable exponent of relu outputs: dJ/dp finite where an output is 0, and 0 for a negative base", async () => {
    const spec: EquationNetSpec = {
      name: "relu_pow",
      params: { p: { shape: [], init: 1.5 } },
      inputs: { x: [4] },
      targets: {},
      equations: ["h = relu(x) .^ p", "n = (x - 1) .^ p"],
      output: "h",
      loss: "sum(h) + sum(n)",
    };
    const m = loadModule<Float64Array>((await compile(spec, withKernels({ precision: "f64" }))).source);
    const x = Float64Array.of(-1, 0, 2, 3);
    const g = new Float64Array(1);
    m.gradient(Float64Array.of(2), x, none, g, 1);
    // d/dp Σ relu(x)^p = Σ_{x > 0} x^p log x; (x − 1)^p contributes where x − 1 > 0 only (the negative bases give 0)
    const want = 2 ** 2 * Math.log(2) + 3 ** 2 * Math.log(3) + 1 ** 2 * Math.log(1) + 2 ** 2 * Math.log(2);
    expect(g[0]).toBeCloseTo(want, 10);
  });

  it("a convolution under a dense layer of 512+ weights, over a batch: gradient = finite differences of loss, forward per sample", async () => {
    // the im2col matrix is read by the filter's gradient through a transpose, in the sample loop after the
    // batched dense kernels: it must be kept one row per sample there (it was the last sample's for all), and
    // forward, which keeps it one row only, must not lay another value's rows over it
    const spec: EquationNetSpec = {
      name: "conv_dense",
      params: { K: { shape: [3, 3, 1, 8] }, V: { shape: [10, 128] } },
      inputs: { img: [6, 6, 1] },
      targets: { y: [10] },
      equations: ["z = V * reshape(conv2d(img, K), [-1])"],
      output: "z",
      loss: "0.5 * sum((z - y) .^ 2)",
    };
    const m = loadModule<Float64Array>((await compile(spec, withKernels({ precision: "f64" }))).source);
    const batch = 3;
    const P = m.meta.paramCount;
    const p = Float64Array.from({ length: P }, () => random() - 0.5);
    const x = Float64Array.from({ length: batch * 36 }, () => random() - 0.5);
    const y = Float64Array.from({ length: batch * 10 }, () => random() - 0.5);
    const g = new Float64Array(P);
    m.gradient(p, x, y, g, batch);
    for (let i = 0; i < P; i += 7) {
      const h = 1e-6;
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[i] = (p[i] as number) + h;
      down[i] = (p[i] as number) - h;
      const fd = (m.loss(up, x, y, batch) - m.loss(down, x, y, batch)) / (2 * h);
      expect(Math.abs((g[i] as number) - fd), `d/dp[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    const out = new Float64Array(batch * 10);
    m.forward(p, x, out, batch);
    for (let s = 0; s < batch; s++) {
      const one = new Float64Array(10);
      m.forward(p, x.slice(s * 36, (s + 1) * 36), one, 1);
      expect(Array.from(out.slice(s * 10, (s + 1) * 10)), `sample ${s}`).toEqual(Array.from(one));
    }
  });
});

/**
 * The documented convention at kinks, ties and bounds (each function's `derivative` text), where PyTorch and
 * TF.js agree: relu′(0) = 0, relu6′ = 0 at 0 and 6, leaky_relu′(0) = α, |x|′ = 0 at 0, a clamp passes the
 * gradient at both bounds; ties of maximum/minimum go to the first operand and, along a dimension, to every tied
 * element (as TF.js); in a max-pooling window or a dilation, to the first tied element in row-major order (as
 * TF.js and PyTorch); a 2-norm or hypot of zeros has gradient 0 (as PyTorch). Exact points, so exact values.
 */
describe("conventions at kinks, ties and bounds", () => {
  async function gradientAt(equation: string, x: readonly number[], precision: "f64" | "f32" = "f64"): Promise<number[]> {
    const spec: EquationNetSpec = {
      name: "kink",
      params: { x: { shape: [x.length], init: 0 } },
      inputs: {},
      targets: {},
      equations: [`e = ${equation}`],
      output: "e",
      loss: "e",
    };
    const m = loadModule<Float64Array | Float32Array>((await compile(spec, withKernels({ precision }))).source);
    const F = precision === "f64" ? Float64Array : Float32Array;
    const g = new F(x.length);
    const none = new F(0);
    m.gradient(F.from(x), none, none, g, 1);
    return [...g];
  }

  const CONVENTIONS: readonly [string, readonly number[], readonly number[]][] = [
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
  for (const [equation, x, want] of CONVENTIONS) {
    it(`${equation} at x = [${x.join(", ")}]: gradient [${want.join(", ")}]`, async () => {
      for (const precision of ["f64", "f32"] as const) expect(await gradientAt(equation, x, precision), precision).toEqual(want);
    });
  }
});
