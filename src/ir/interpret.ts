/**
 * Reference interpreter of the DAG in f64, straight from the op table. It is the semantics the emitted code
 * must match, and what the op-rule and autodiff tests check against finite differences.
 */
import { type Node, sizeOf } from "./node.ts";
import { OPS } from "./ops.ts";

/** A batched node has one value per sample; an unbatched one a single value. */
export type Value = Float64Array | Float64Array[];

/** Values of leaves: `sample` is undefined for parameters and state (shared by the batch). */
export type Bind = (leaf: Node, sample: number | undefined) => Float64Array;

export function interpret(roots: readonly Node[], bind: Bind, batch: number): Map<Node, Value> {
  const values = new Map<Node, Value>();
  const visit = (n: Node): Value => {
    const known = values.get(n);
    if (known) return known;
    for (const i of n.inputs) visit(i);
    const v = evaluateNode(n, values, bind, batch);
    values.set(n, v);
    return v;
  };
  roots.forEach(visit);
  return values;
}

function counterRow(n: Node, sample: number): Float64Array {
  const size = sizeOf(n.shape);
  return Float64Array.from({ length: size }, (_, e) => sample * size + e);
}

function evaluateNode(n: Node, values: Map<Node, Value>, bind: Bind, batch: number): Value {
  if (n.op === "const") return Float64Array.of(n.attr as number);
  if (n.op === "param" || n.op === "state") return bind(n, undefined);
  // element e of sample s: s·size + e (what a random op hashes)
  if (n.op === "counter") return Array.from({ length: batch }, (_, s) => counterRow(n, s));
  if (n.op === "batchSize") return Float64Array.of(batch);
  if (n.op === "input" || n.op === "target") return Array.from({ length: batch }, (_, s) => bind(n, s));
  const at = (input: Node, s: number) => {
    const v = values.get(input) as Value;
    return Array.isArray(v) ? v[s] : v;
  };
  if (n.op === "batchMean") {
    const out = new Float64Array(at(n.inputs[0], 0).length);
    for (let s = 0; s < batch; s++) at(n.inputs[0], s).forEach((v, i) => (out[i] += v / batch));
    return out;
  }
  const once = (s: number) => OPS[n.op].evaluate(n.inputs.map((i) => at(i, s)), n);
  return n.batched ? Array.from({ length: batch }, (_, s) => once(s)) : once(0);
}
