/**
 * Everything the derivation document says, computed from the compiled DAG: named values, the forward
 * equations and backward steps, the layer-level (BP1–BP4) reading, the fused forms and the operation counts.
 */
import type { Compiled } from "../graph/compiled.ts";
import { type DagView, viewDag } from "../graph/dag.ts";
import type { Node } from "../ir/node.ts";
import { type EquationEntry, isLayerSpec } from "../spec/types.ts";
import { type Counts, countDerivation } from "./counts.ts";
import { type FusedNote, fusedNotes } from "./fused.ts";
import { type Names, nameValues } from "./names.ts";
import { type Printer, printer } from "../ir/notation.ts";
import { type Steps, type Step, deriveSteps } from "./steps.ts";
import { type LayerNotes, readLayerNotes } from "./layer-notes.ts";
import { type BpNote, readLayers } from "./tensor.ts";

export interface Derivation {
  readonly compiled: Compiled;
  readonly view: DagView;
  readonly names: Names;
  readonly steps: Steps;
  readonly layers: ReadonlyMap<Step, BpNote>;
  /** The notes of batchnorm, layernorm, residual and dropout layers (layer-notes.ts), at their steps. */
  readonly layerNotes: LayerNotes;
  readonly fused: readonly FusedNote[];
  readonly counts: Counts;
  /** Equation nets: result_k, the name a hand derivation numbering the equations gives the delta of equation k's value. */
  readonly results: ReadonlyMap<Node, number>;
  /** LaTeX of the backward steps (named deltas read as δ) and of the forward equations. */
  readonly latex: Printer;
  readonly forwardLatex: Printer;
  /** Plain text with those numbered names (result3 for δ_e), in the style of the module's comments. */
  readonly numbered: Printer;
}

export function derive(compiled: Compiled, view: DagView = viewDag(compiled)): Derivation {
  const names = nameValues(view);
  const steps = deriveSteps(names);
  const results = numberedResults(compiled, names);
  const plainName = (n: Node) => names.code(n) ?? names.name(n);
  return {
    compiled,
    view,
    names,
    steps,
    layers: readLayers(names, steps.backward),
    layerNotes: readLayerNotes(names, steps.backward),
    fused: fusedNotes(names, steps.backward),
    counts: countDerivation(compiled),
    results,
    latex: printer("latex", (n) => names.latex(n)),
    forwardLatex: printer("latex", (n) => names.latex(n, true)),
    numbered: printer("plain", (n) => (results.has(n) ? `result${results.get(n)}` : plainName(n))),
  };
}

/**
 * result_k = ∂L/∂(the value of equation k), the names a classic hand derivation uses when it numbers the
 * equations (chain3: result3 = ∂L/∂e, result2 = ∂L/∂z).
 */
function numberedResults(compiled: Compiled, names: Names): Map<Node, number> {
  const out = new Map<Node, number>();
  if (isLayerSpec(compiled.spec)) return out;
  // a recurrence (an object entry) is numbered too, but defines no result of its own
  const order = (compiled.spec.equations as readonly EquationEntry[]).map((eq) => (typeof eq === "string" ? /^\s*([A-Za-z_$][\w$]*)\s*=/.exec(eq)?.[1] : undefined));
  for (const [delta, primal] of names.deltaPrimal) {
    const k = order.indexOf(names.name(primal));
    if (k >= 0) out.set(delta, k + 1);
  }
  return out;
}
