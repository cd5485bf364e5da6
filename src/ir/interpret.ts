/**
 * Reference interpreter of the DAG in f64, straight from the op table. It is the semantics the emitted code
 * must match, and what the op-rule and autodiff tests check against finite differences.
 */
import { carryOfAttr } from "./graph.ts";
import { type Node, type Recurrence, cellValues, isLoopOutput, loopOutputs, recurrenceOf, sizeOf } from "./node.ts";
import { OPS } from "./ops.ts";

/** A batched node has one value per sample; an unbatched one a single value. */
export type Value = Float64Array | Float64Array[];

/** Values of leaves: `sample` is undefined for parameters and state (shared by the batch). */
export type Bind = (leaf: Node, sample: number | undefined) => Float64Array;

export function interpret(roots: readonly Node[], bind: Bind, batch: number): Map<Node, Value> {
  const values = new Map<Node, Value>();
  const outputsOf = loopOutputs(roots);
  const visit = (n: Node): Value => {
    const known = values.get(n);
    if (known) return known;
    if (isLoopOutput(n)) {
      const loop = recurrenceOf(n);
      runRecurrence(loop, outputsOf.get(loop) ?? [n], values, visit, batch);
      return values.get(n) as Value;
    }
    for (const i of n.inputs) visit(i);
    const v = evaluateNode(n, values, bind, batch);
    values.set(n, v);
    return v;
  };
  roots.forEach(visit);
  return values;
}


/** Runs a recurrence sample by sample, step by step, and sets the values of `outputs`. */
function runRecurrence(loop: Recurrence, outputs: readonly Node[], values: Map<Node, Value>, visit: (n: Node) => Value, batch: number): void {
  const cell = cellValues(loop, [...outputs.map((o) => o.inputs[0]), ...loop.carries.map((c) => c.next)]);
  const outside = new Set([...cell.flatMap((n) => n.inputs), ...outputs.map((o) => o.inputs[0]), ...loop.carries.flatMap((c) => [c.init, c.next])]);
  for (const n of outside) if (n.loop !== loop.id) visit(n);
  const row = (v: Value, s: number) => (Array.isArray(v) ? v[s] : v);
  const results = outputs.map((o) => Array.from({ length: batch }, () => new Float64Array(sizeOf(o.shape))));
  const T = loop.length;
  for (let s = 0; s < batch; s++) {
    let carried = loop.carries.map((c) => row(values.get(c.init) as Value, s));
    for (let u = 0; u < T; u++) {
      const t = loop.reverse ? T - 1 - u : u;
      const now = new Map<Node, Float64Array>();
      const at = (n: Node): Float64Array => now.get(n) ?? row(values.get(n) as Value, s);
      loop.carries.forEach((c, k) => now.set(c.leaf, carried[k]));
      for (const n of cell) {
        if (n.op === "carry") continue;
        if (n.op === "step") {
          const size = sizeOf(n.shape);
          now.set(n, at(n.inputs[0]).slice(t * size, (t + 1) * size));
        } else now.set(n, OPS[n.op].evaluate(n.inputs.map(at), n));
      }
      outputs.forEach((o, j) => {
        const v = at(o.inputs[0]);
        if (o.op === "stack") results[j][s].set(v, t * v.length);
        if (o.op === "loopSum") v.forEach((x, i) => (results[j][s][i] += x));
      });
      carried = loop.carries.map((c) => at(c.next));
    }
    outputs.forEach((o, j) => {
      if (o.op === "final") results[j][s].set(carried[carryOfAttr(o.attr)]);
    });
  }
  outputs.forEach((o, j) => values.set(o, results[j]));
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
  if (n.op === "carry" || n.op === "step") throw new Error("internal: a recurrence's cell is read outside its recurrence");
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
