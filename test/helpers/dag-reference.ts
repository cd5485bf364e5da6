/**
 * What a lowered module's functions should leave the caller, from the DAG evaluated by the op table's reference
 * evaluation (src/ir/interpret.ts) on the same arrays; and a check that the functions before any pass, run by the
 * kernel-IR interpreter, agree with it.
 */
import { interpret as evaluateDag } from "../../src/ir/interpret.ts";
import { type Node, sizeOf } from "../../src/ir/node.ts";
import type { FunctionName } from "../../src/lower/functions.ts";
import { FUNCTION_NAMES, type Outcome, type RunOptions, callerArrays, expectAgree, hasFinite, run } from "./kernel-ir.ts";
import type { Lowered } from "./interp.ts";

/** What function `fn` should leave the caller, from the DAG evaluated by the op table on the same arrays. */
export function reference(l: Lowered, fn: FunctionName, options: RunOptions): Outcome {
  const { layout } = l.materialized;
  const arrays = callerArrays(layout, options);
  const { batch } = options;
  const at = (n: Node) => layout.offsets.get(n) ?? 0;
  const slice = (a: ArrayLike<number>, from: number, size: number) => Float64Array.from({ length: size }, (_, i) => a[from + i]);
  const bind = (leaf: Node, s: number | undefined): Float64Array => {
    const size = sizeOf(leaf.shape);
    if (leaf.op === "param") return slice(arrays.params, at(leaf), size);
    const [rows, row] = leaf.op === "input" ? [arrays.inputs, layout.inputSize] : [arrays.targets, layout.targetSize];
    return slice(rows, (s ?? 0) * row + at(leaf), size);
  };
  const { net, grads: gradients } = l;
  const gradNodes = net.params.flatMap((p) => gradients.byParam.get(p.node) ?? []);
  const values = evaluateDag(fn === "forward" ? [net.output] : [net.objective, ...(fn === "gradient" ? gradNodes : [])], bind, batch);
  const value = (n: Node, s = 0): Float64Array => {
    const v = values.get(n);
    if (!v) throw new Error(`no reference value for #${n.id}`);
    return Array.isArray(v) ? v[s] : v;
  };
  if (fn === "forward") {
    for (let s = 0; s < batch; s++) arrays.out.set(value(net.output, s), s * layout.outputSize);
    return { result: undefined, out: arrays.out, grads: arrays.grads };
  }
  if (fn === "gradient") {
    for (const p of net.params) {
      const g = gradients.byParam.get(p.node);
      arrays.grads.set(g ? value(g) : new Float64Array(sizeOf(p.shape)), at(p.node));
    }
  }
  return { result: value(net.objective)[0], out: arrays.out, grads: arrays.grads };
}

/** Each function before the passes, interpreted, against the reference (f64, batches 1 and 3). */
export function expectMatchesReference(what: string, l: Lowered, tolerance: number): boolean {
  let finite = false;
  for (const fn of FUNCTION_NAMES) {
    for (const batch of [1, 3]) {
      const options: RunOptions = { batch, precision: "f64", seed: batch + 17 };
      const want = reference(l, fn, options);
      expectAgree(`${what} ${fn} batch ${batch}`, run(l.materialized.functions[fn].body, l.materialized.layout, options), want, { tolerance });
      finite ||= hasFinite(want);
    }
  }
  return finite;
}

