/**
 * Small equation networks made for the plan and lowering tests, and a way to find their values by name.
 */
import { reachable } from "../../src/autodiff/reverse.ts";
import type { Node } from "../../src/ir/node.ts";
import type { FunctionName } from "../../src/lower/functions.ts";
import type { EquationNetSpec } from "../../src/spec/types.ts";
import type { Lowered } from "./interp.ts";

/**
 * Every phase: `c²` and `W ⊙ W` depend on parameters only (before the batch loop), `h` and the loss per sample
 * (in it), J = the batch mean plus the regularizer (after it).
 */
export const PHASES: EquationNetSpec = {
  name: "phases",
  params: { W: { shape: [3, 4] }, b: { shape: [3] }, c: { shape: [] } },
  inputs: { x: [4] },
  targets: { t: [3] },
  equations: ["V = W .* W", "h = tanh(V * x + b)", "e = h - t"],
  output: "h",
  loss: "sum(e .^ 2)",
  regularizer: "0.5 * c^2",
};

/**
 * A dense product between two per-sample computations: `a = tanh(x)` feeds `h = W1 · a` (16 × 32 = 512 weights,
 * batched), whose rows `z = tanh(h)` reads; `W2` (2 × 32) stays in the sample loop.
 */
export function denseSpec(hidden: number): EquationNetSpec {
  return {
    name: "dense_between",
    params: { W1: { shape: [hidden, 16] }, W2: { shape: [2, hidden] } },
    inputs: { x: [16] },
    targets: { t: [2] },
    equations: ["a = tanh(x)", "h = W1 * a", "z = tanh(h)", "y = W2 * z"],
    output: "y",
    loss: "sum((y - t) .^ 2)",
  };
}

/** The node of `lowered`'s function `fn` named `name` in the spec. */
export function named(lowered: Lowered, fn: FunctionName, name: string): Node {
  const nodes = reachable([...lowered.materialized.plans[fn].roots]);
  const found = nodes.find((n) => lowered.net.graph.hint(n) === name);
  if (!found) throw new Error(`no value named ${name} in ${fn}`);
  return found;
}
