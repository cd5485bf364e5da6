/**
 * Networks whose samples are coupled through the batch (batch_mean and batch_var mid-network), and their
 * reference values: the DAG's own interpreter (src/ir/interpret.ts) over the whole batch, on the flat arrays a
 * module is called with, and central finite differences of the whole-batch objective J (each sample's loss
 * depends on every other sample's inputs here, so a sum of per-sample differences would be wrong).
 */
import { type Value, interpret } from "../../src/ir/interpret.ts";
import { type Node, sizeOf } from "../../src/ir/node.ts";
import type { EquationNetSpec } from "../../src/spec/types.ts";
import type { InterpretedNet } from "./interpreted.ts";

/** z = W x, batch-normalised (scale g, shift b), then o = V tanh(y); squared error. */
export function batchNormSpec(form: "centred" | "moments" | "shifted" | "shiftArgument", sizes: { x: number; h: number; o: number } = { x: 4, h: 5, o: 2 }): EquationNetSpec {
  const variance = {
    // batch_var: centred on the batch mean first (two barriers)
    centred: ["v = batch_var(z)"],
    // mean and mean of squares in one stage (one barrier)
    moments: ["m2 = batch_mean(z .* z)", "v = m2 - mu .* mu"],
    // the same around a shift c known before the stage (one barrier, digits kept when |mean| ≫ spread)
    shifted: ["zc = z - c", "m2 = batch_mean(zc .* zc)", "v = m2 - (mu - c) .^ 2"],
    // the same from batch_var's shift argument
    shiftArgument: ["v = batch_var(z, c)"],
  }[form];
  return {
    name: `batch_norm_${form}`,
    params: {
      W: { shape: [sizes.h, sizes.x] },
      g: { shape: [sizes.h] },
      b: { shape: [sizes.h] },
      V: { shape: [sizes.o, sizes.h] },
      ...(form === "shifted" || form === "shiftArgument" ? { c: { shape: [sizes.h] } } : {}),
    },
    inputs: { x: [sizes.x] },
    targets: { t: [sizes.o] },
    equations: ["z = W * x", "mu = batch_mean(z)", ...variance, "y = g .* (z - mu) ./ sqrt(v + 0.001) + b", "o = V * tanh(y)"],
    output: "o",
    loss: "sum((o - t) .^ 2)",
  };
}

/** A layer whose activations are centred on their batch mean (no variance). */
export const MEAN_CENTRING: EquationNetSpec = {
  name: "mean_centring",
  params: { W: { shape: [3, 3] }, V: { shape: [2, 3] }, b: { shape: [2] } },
  inputs: { x: [3] },
  targets: { t: [2] },
  equations: ["h = tanh(W * x)", "c = h - batch_mean(h)", "o = V * c + b"],
  output: "o",
  loss: "sum((o - t) .^ 2)",
};

/** Two barriers in a row: the second mean reads values computed from the first. */
export const TWO_BARRIERS: EquationNetSpec = {
  name: "two_barriers",
  params: { W: { shape: [3, 2] }, u: { shape: [3] }, V: { shape: [1, 3] } },
  inputs: { x: [2] },
  targets: { t: [1] },
  equations: ["h = W * x", "m1 = batch_mean(h)", "a = tanh(h - m1)", "m2 = batch_mean(a .* u)", "r = a .* exp(-m2)", "o = V * r"],
  output: "o",
  loss: "sum((o - t) .^ 2)",
};

/** The batch mean's result is the network's output: forward writes it for every sample. */
export const MEAN_OUTPUT: EquationNetSpec = {
  name: "mean_output",
  params: { W: { shape: [2, 3] } },
  inputs: { x: [3] },
  targets: { t: [2] },
  equations: ["h = sigmoid(W * x)", "m = batch_mean(h)"],
  output: "m",
  loss: "sum((h - t) .^ 2) + sum(m .* m)",
};

/** The loss itself reads a batch mean: the errors' spread around their batch mean. */
export const COUPLED_LOSS: EquationNetSpec = {
  name: "coupled_loss",
  params: { W: { shape: [2, 3] }, b: { shape: [2] } },
  inputs: { x: [3] },
  targets: { t: [2] },
  equations: ["o = tanh(W * x + b)", "e = o - t"],
  output: "o",
  loss: "sum((e - batch_mean(e)) .^ 2) + 0.5 * sum(e .^ 2)",
};

/** Batch norm between two layers of 512 weights, which run as batched contractions (src/lower/dense.ts). */
export const DENSE_AROUND_NORM: EquationNetSpec = { ...batchNormSpec("moments", { x: 16, h: 32, o: 16 }), name: "dense_around_norm" };

/** Deterministic values in [−1, 1) (a tiny LCG, so a failure reproduces). */
export function values(count: number, seed: number): Float64Array {
  let state = seed >>> 0 || 1;
  return Float64Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

export interface Arrays {
  readonly params: Float64Array;
  readonly inputs: Float64Array;
  readonly targets: Float64Array;
  readonly batch: number;
}

export function arraysFor(n: InterpretedNet, batch: number, seed: number): Arrays {
  const { paramCount, inputSize, targetSize } = n.materialized.layout;
  return { params: values(paramCount, seed), inputs: values(inputSize * batch, seed + 1), targets: values(targetSize * batch, seed + 2), batch };
}

/** The DAG's reference interpreter on the module's flat arrays: the values of `roots`. */
export function referenceValues(n: InterpretedNet, a: Arrays, roots: readonly Node[]): Map<Node, Value> {
  const { offsets, inputSize, targetSize } = n.materialized.layout;
  const bind = (leaf: Node, sample: number | undefined): Float64Array => {
    const offset = offsets.get(leaf) ?? 0;
    const size = sizeOf(leaf.shape);
    if (leaf.op === "param") return a.params.slice(offset, offset + size);
    const [array, stride] = leaf.op === "input" ? [a.inputs, inputSize] : [a.targets, targetSize];
    const start = (sample ?? 0) * stride + offset;
    return array.slice(start, start + size);
  };
  return interpret(roots, bind, a.batch);
}

/** J, dJ/dparams (flat) and forward's output (one row per sample), from the reference interpreter. */
export function reference(n: InterpretedNet, a: Arrays): { J: number; grads: Float64Array; out: Float64Array } {
  const gradRoots = n.net.params.flatMap((p) => n.grads.byParam.get(p.node) ?? []);
  const vals = referenceValues(n, a, [n.net.objective, n.net.output, ...gradRoots]);
  const grads = new Float64Array(n.materialized.layout.paramCount);
  for (const p of n.net.params) {
    const g = n.grads.byParam.get(p.node);
    if (g) grads.set(vals.get(g) as Float64Array, n.materialized.layout.offsets.get(p.node) ?? 0);
  }
  const outValue = vals.get(n.net.output) as Value;
  const rows = Array.isArray(outValue) ? outValue : Array.from({ length: a.batch }, () => outValue);
  const out = new Float64Array(rows.length * rows[0].length);
  rows.forEach((r, s) => out.set(r, s * r.length));
  return { J: (vals.get(n.net.objective) as Float64Array)[0], grads, out };
}

/** Central differences of the whole-batch J with respect to every parameter element. */
export function finiteDifferences(n: InterpretedNet, a: Arrays, step = 1e-6): Float64Array {
  const J = (params: Float64Array) => (referenceValues(n, { ...a, params }, [n.net.objective]).get(n.net.objective) as Float64Array)[0];
  return a.params.map((p, i) => {
    const h = step * Math.max(1, Math.abs(p));
    const up = Float64Array.from(a.params);
    const down = Float64Array.from(a.params);
    up[i] = p + h;
    down[i] = p - h;
    return (J(up) - J(down)) / (2 * h);
  });
}

/** The largest |got − want| relative to max(|want|∞, floor), or a message naming the first non-finite one. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-3): number {
  if (got.length !== want.length) return Infinity;
  let scale = floor;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d / scale);
  }
  return worst;
}
