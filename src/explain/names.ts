/**
 * Which values the derivation names, and how: forward values with a name of their own (equations, layer
 * values, the loss), the named deltas δ_v = ∂L/∂v of the reverse sweep, and the leaves. Everything else is
 * spelled out through its op. Each named value also has the identifier the generated module gives it.
 */
import type { NetLayer } from "../ir/net.ts";
import { type Node, recurrenceOf } from "../ir/node.ts";
import { type DagView } from "../graph/dag.ts";
import { primalOf } from "../graph/roles.ts";
import { isLayerSpec } from "../spec/types.ts";
import { type NameStyle, deltaLatex, latexName } from "./notation.ts";

export interface Names {
  readonly view: DagView;
  readonly style: NameStyle;
  /** Forward values with a name of their own, in id order. */
  readonly forwardNamed: readonly Node[];
  /** Named deltas, by node: the named value v of δ_v. */
  readonly deltaPrimal: ReadonlyMap<Node, Node>;
  /** Symbols of the forward equations: leaves and named forward values. */
  forwardSymbol(n: Node): boolean;
  /** Symbols of the backward steps: also the named deltas. */
  backwardSymbol(n: Node): boolean;
  /** LaTeX of a symbol; a named delta reads as δ (`forward` reads it as the forward value it also is). */
  latex(n: Node, forward?: boolean): string;
  /** The name of a value itself, as the front end gave it (or the module, where two share one). */
  name(n: Node): string;
  /** The generated module's identifier, when it names the value. */
  code(n: Node): string | undefined;
  /** The layers of a layer net, nested ones after their block, as the builder recorded them. */
  readonly layers: readonly NetLayer[];
  /** The layer whose pre-activation (z) is `n`. */
  layerOfPreActivation(n: Node): NetLayer | undefined;
}

/** Every layer, each block's inner layers after it. */
export function allLayers(layers: readonly NetLayer[]): NetLayer[] {
  return layers.flatMap((l) => [l, ...allLayers(l.inner)]);
}

export function nameValues(view: DagView): Names {
  const { net, spec } = view.compiled;
  const style: NameStyle = isLayerSpec(spec) ? "layers" : "equations";
  const hint = (n: Node) => net.graph.hint(n);
  const deltaPrimal = new Map<Node, Node>();
  for (const d of view.deltas) {
    const primal = primalOf(view, d);
    if (primal) deltaPrimal.set(d, primal);
  }
  // a node the sweep named d_v is a delta, not a forward value, even where the forward pass computes it (e − t)
  const sweepNamed = (n: Node) => deltaPrimal.has(n) && hint(n) === `d_${hint(deltaPrimal.get(n) as Node)}`;
  const forwardNamed = view.nodes.filter((n) => view.forward.has(n) && n.inputs.length > 0 && hint(n) !== undefined && !sweepNamed(n));
  const hintCount = new Map<string, number>();
  for (const n of [...forwardNamed, ...view.nodes.filter((m) => m.inputs.length === 0)]) {
    const h = hint(n);
    if (h !== undefined) hintCount.set(h, (hintCount.get(h) ?? 0) + 1);
  }
  const forwardSet = new Set(forwardNamed);
  const layers = allLayers(net.layers ?? []);
  const byPreActivation = new Map(layers.flatMap((l) => (l.preActivation ? [[l.preActivation, l] as const] : [])));
  const leaf = (n: Node) => n.inputs.length === 0;
  // x_t: row t of a sequence that is itself a symbol reads as that symbol at t
  const rowOfSymbol = (n: Node) => n.op === "step" && (leaf(n.inputs[0]) || forwardSet.has(n.inputs[0]));
  const name = (n: Node): string => {
    if (rowOfSymbol(n)) return `${name(n.inputs[0])}[t]`;
    const h = hint(n);
    const code = view.codeNames.get(n);
    return h !== undefined && (hintCount.get(h) ?? 0) <= 1 ? h : (code ?? h ?? `v${n.id}`);
  };
  // δ_{a_t}: row t of a sequence's delta, read by the reverse sweep's cell
  const rowOfDelta = (n: Node) => n.op === "step" && deltaPrimal.has(n.inputs[0]);
  const deltaRowLatex = (primal: Node) => {
    const label = byPreActivation.get(primal)?.label;
    return label !== undefined && style === "layers" ? `{${deltaLatex(name(primal), style, label)}}_{t}` : `\\delta_{${subscriptable(symbolLatex(primal))}_{t}}`;
  };
  const symbolLatex = (n: Node): string => {
    if (rowOfSymbol(n)) return `${subscriptable(symbolLatex(n.inputs[0]))}_{t}`;
    if (n.op === "carry") return carryLatex(n, view.forward.has(n), name(n), style);
    return latexName(name(n), style);
  };
  return {
    view,
    style,
    forwardNamed,
    deltaPrimal,
    forwardSymbol: (n) => leaf(n) || forwardSet.has(n) || rowOfSymbol(n),
    backwardSymbol: (n) => leaf(n) || forwardSet.has(n) || rowOfSymbol(n) || deltaPrimal.has(n) || rowOfDelta(n),
    latex: (n, forward = false) => {
      if (rowOfDelta(n)) return deltaRowLatex(deltaPrimal.get(n.inputs[0]) as Node);
      const primal = deltaPrimal.get(n);
      if (!primal || (forward && forwardSet.has(n))) return symbolLatex(n);
      return primal.op === "carry" ? `\\delta_{${symbolLatex(primal)}}` : deltaLatex(name(primal), style, byPreActivation.get(primal)?.label);
    },
    name,
    code: (n) => view.codeNames.get(n),
    layers,
    layerOfPreActivation: (n) => byPreActivation.get(n),
  };
}

/** A symbol that takes a subscript: one with a subscript of its own is braced first (h_{1} → {h_{1}}_{t}). */
const subscriptable = (latex: string) => (latex.includes("_") ? `{${latex}}` : latex);

/**
 * A carried value in the cell, at step t: the state before the step, h_{t−1} (h_{t+1} in a recurrence that runs
 * backwards); a carry of the reverse sweep (BPTT, named d_h by it) is the cotangent δ_{h_t} the step after sends back.
 */
function carryLatex(n: Node, forward: boolean, name: string, style: NameStyle): string {
  const { reverse } = recurrenceOf(n);
  const cotangent = /^d_(.+)$/.exec(name);
  if (!forward && cotangent) return `\\delta_{${subscriptable(latexName(cotangent[1], style))}_{t}}`;
  return `${subscriptable(latexName(name, style))}_{${reverse ? "t+1" : "t-1"}}`;
}
