/** What a value means in the derivation, in words a picture can show: ∂L/∂e for d_e, ∂J/∂w1 for d_w1. */
import type { Node } from "../ir/node.ts";
import type { DagView } from "./dag.ts";

/**
 * The node whose cotangent `delta` is, when that node has a name: the primal v of δ_v. Several nodes can
 * share one cotangent (z2 and the product inside it); the one named d_<name> by the sweep wins, else the
 * last in the sweep (largest id). A recurrence's carry (h_{t−1}) is a named value too: its cotangent is what BPTT carries back.
 */
export function primalOf(view: DagView, delta: Node): Node | undefined {
  const { graph, params } = view.compiled.net;
  const paramNodes = new Set(params.map((p) => p.node));
  const named = [...view.compiled.grads.adjoints]
    .filter(([v, d]) => d === delta && graph.hint(v) !== undefined && !paramNodes.has(v) && (v.inputs.length > 0 || v.op === "carry"))
    .map(([v]) => v)
    .sort((a, b) => b.id - a.id);
  return named.find((v) => graph.hint(delta) === `d_${graph.hint(v)}`) ?? named[0];
}

/** `∂L/∂e` for a named delta, `∂J/∂w1` for a parameter gradient; undefined for other values. */
export function meaning(view: DagView, n: Node): string | undefined {
  const { net, grads } = view.compiled;
  const param = net.params.find((p) => grads.byParam.get(p.node) === n);
  if (param) return `∂J/∂${param.name}`;
  if (!view.deltas.has(n)) return undefined;
  const primal = primalOf(view, n);
  return primal ? `∂L/∂${net.graph.hint(primal)}` : undefined;
}
