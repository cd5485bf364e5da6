/**
 * Dense-layer patterns that run as one batched kernel (templates/dense.ts) instead of once per sample:
 *   W · a      (a per sample)          → denseForward
 *   Wᵀ · δ,  a · W                     → denseTransposed
 *   mean_batch(δ ⊗ a)                  → denseWeightGradient, accumulated over the batch
 *   mean_batch(Dᵀ·A), D and A stacks   → denseWeightGradient over every step of every sample (a recurrence's weight)
 * where W is a parameter matrix. Small layers stay in the per-sample loop, where straight-line code wins.
 */
import type { Node } from "../ir/node.ts";

/** Below this many weights a layer is cheaper inside the per-sample loop. */
export const DENSE_MIN_WEIGHTS = 512;

export type DenseCall =
  /** out[s, i] = Σ_t W[i, t] x[s, t] */
  | { kind: "denseForward"; node: Node; W: Node; x: Node; m: number; k: number }
  /** out[s, j] = Σ_i W[i, j] d[s, i] */
  | { kind: "denseTransposed"; node: Node; W: Node; d: Node; m: number; k: number }
  /**
   * acc[i, j] += Σ_s d[s, i] x[s, j]; `outer` is computed by the kernel, never stored. With `steps`, d and x are
   * stacks of a recurrence, [steps, m] and [steps, k] per sample, and the sum runs over every step of every sample
   * (`outer` is then Dᵀ·X, the weight's gradient summed over the steps).
   */
  | { kind: "denseWeightGradient"; node: Node; outer: Node; d: Node; x: Node; m: number; k: number; steps?: number };

const perSampleVector = (n: Node) => n.batched && n.shape.length === 1;
/** Kernels read deltas as whole rows of a workspace buffer (an input row would need its own stride). */
const computedRows = (n: Node) => perSampleVector(n) && n.inputs.length > 0;
const weights = (n: Node) => n.op === "param" && n.shape.length === 2;

/** The kernel for `n`, when `n` is one of the patterns and large enough. `users` gives each node's consumers. */
export function denseCall(n: Node, users: (m: Node) => readonly Node[]): DenseCall | undefined {
  const call = match(n, users);
  return call && call.m * call.k >= DENSE_MIN_WEIGHTS ? call : undefined;
}

function match(n: Node, users: (m: Node) => readonly Node[]): DenseCall | undefined {
  if (n.op === "batchMean") {
    const outer = n.inputs[0];
    if (users(outer).length !== 1) return undefined;
    if (outer.op === "matmul") return overSteps(n, outer);
    if (outer.op !== "outer") return undefined;
    const [d, x] = outer.inputs;
    if (!computedRows(d) || !perSampleVector(x)) return undefined;
    return { kind: "denseWeightGradient", node: n, outer, d, x, m: d.shape[0], k: x.shape[0] };
  }
  if (n.op !== "matmul" || !n.batched) return undefined;
  const [a, b] = n.inputs;
  if (a.shape.length === 2 && perSampleVector(b)) {
    if (a.op === "transpose" && weights(a.inputs[0]) && computedRows(b)) {
      const W = a.inputs[0];
      return { kind: "denseTransposed", node: n, W, d: b, m: W.shape[0], k: W.shape[1] };
    }
    if (weights(a)) return { kind: "denseForward", node: n, W: a, x: b, m: a.shape[0], k: a.shape[1] };
  }
  if (computedRows(a) && weights(b)) return { kind: "denseTransposed", node: n, W: b, d: a, m: b.shape[0], k: b.shape[1] };
  return undefined;
}

/** mean_batch(Dᵀ·X) for two stacks of one recurrence's length: a weight's gradient over the steps of a sweep. */
function overSteps(n: Node, product: Node): DenseCall | undefined {
  const [transposed, x] = product.inputs;
  const d = transposed.op === "transpose" ? transposed.inputs[0] : undefined;
  if (d?.op !== "stack" || x.op !== "stack" || d.shape.length !== 2 || x.shape.length !== 2 || d.shape[0] !== x.shape[0]) return undefined;
  return { kind: "denseWeightGradient", node: n, outer: product, d, x, m: d.shape[1], k: x.shape[1], steps: d.shape[0] };
}

/**
 * Per-sample products of two matrices with at least this many multiply-adds run as register-tiled contractions
 * inside the sample loop (a convolution: its windows times the filter, and both gradients); smaller ones are
 * loop nests the passes write out.
 */
export const MATRIX_MIN_WORK = 1024;

/**
 * Whether `n` is a per-sample product of two matrices worth a contraction: [m, k]·[k, n] with m·n·k at least
 * MATRIX_MIN_WORK, e.g. reshape(windows(x), [positions, taps·channels]) · reshape(K, [taps·channels, filters]).
 */
export function isMatrixProduct(n: Node): boolean {
  if (n.op !== "matmul" || !n.batched) return false;
  const [a, b] = n.inputs;
  return a.shape.length === 2 && b.shape.length === 2 && a.shape[0] * a.shape[1] * b.shape[1] >= MATRIX_MIN_WORK;
}

/** The per-sample operands a kernel reads from memory (they must be stored, one row per sample). */
export function rowOperands(call: DenseCall): Node[] {
  return call.kind === "denseTransposed" ? [call.d] : [call.x, ...(call.kind === "denseWeightGradient" ? [call.d] : [])];
}
