/**
 * The tensor-level reading of a layer net's backward steps in the usual notation of backpropagation, recognised in the DAG
 * (not taken from a template per layer type):
 *   BP1  δᴸ = ∇_{aᴸ}L ⊙ f′(zᴸ)            the delta of the last layer's zᴸ
 *   BP2  δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ f′(zˡ)     the delta of an earlier zˡ
 *   BP3  ∂L/∂bˡ = δˡ                      a gradient whose per-sample value is a δˡ
 *   BP4  ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ              a gradient whose per-sample value is an outer product δˡ ⊗ a
 * f′(zˡ) is whatever multiplies ∂L/∂aˡ in δˡ as the DAG computes it: δˡ with ∂L/∂aˡ replaced by 1.
 * The layers are the builder's (Net.layers): the rules are the equations of dense layers, so they are read for
 * the dense layers of the top level, BP2 where the layer above is dense too.
 */
import type { NetLayer } from "../ir/net.ts";
import type { Node } from "../ir/node.ts";
import { type Expr, mentions, num, substitute } from "./expr.ts";
import type { Names } from "./names.ts";
import type { DeltaStep, Step } from "./steps.ts";

export type BpNote =
  /** `gradA`: the step of ∂L/∂aᴸ when the DAG forms it; absent when the loss is fused with the last activation. */
  | { rule: "BP1"; layer: number; gradA?: DeltaStep; fPrime?: Expr }
  /** `fromAbove`: the step of ∂L/∂aˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹; absent for a linear layer (aˡ is zˡ). */
  | { rule: "BP2"; layer: number; fromAbove?: DeltaStep; fPrime: Expr }
  | { rule: "BP3"; layer: number }
  | { rule: "BP4"; layer: number };

export function readLayers(names: Names, steps: readonly Step[]): Map<Step, BpNote> {
  const notes = new Map<Step, BpNote>();
  if (names.style !== "layers") return notes;
  const top = names.view.compiled.net.layers ?? [];
  const deltas = steps.filter((s): s is DeltaStep => s.kind === "delta");
  const place = (layer: NetLayer | undefined) => (layer === undefined ? -1 : top.indexOf(layer));
  const layerOfDelta = (n: Node) => {
    const primal = names.deltaPrimal.get(n);
    const k = place(primal && names.layerOfPreActivation(primal));
    return k >= 0 && top[k].type === "dense" ? k + 1 : undefined;
  };
  const last = top.length;
  for (const step of steps) {
    const note = step.kind === "delta" ? deltaNote(deltas, step, layerOfDelta(step.node), last, top) : paramNote(step.perSample?.node, layerOfDelta);
    if (note) notes.set(step, note);
  }
  return notes;
}

function deltaNote(deltas: readonly DeltaStep[], step: DeltaStep, layer: number | undefined, last: number, top: readonly NetLayer[]): BpNote | undefined {
  if (layer === undefined) return undefined;
  const output = top[layer - 1].output;
  const gradA = deltas.find((d) => d.primal !== step.primal && d.primal === output && mentions(step.expr, d.node));
  const fPrime = gradA ? substitute(step.expr, gradA.node, num(1)) : undefined;
  if (layer === last) return { rule: "BP1", layer, ...(gradA ? { gradA, fPrime } : {}) };
  if (top[layer].type !== "dense") return undefined;
  return { rule: "BP2", layer, ...(gradA ? { fromAbove: gradA } : {}), fPrime: fPrime ?? num(1) };
}

function paramNote(sample: Node | undefined, layerOfDelta: (n: Node) => number | undefined): BpNote | undefined {
  if (!sample) return undefined;
  const direct = layerOfDelta(sample);
  if (direct !== undefined) return { rule: "BP3", layer: direct };
  const outer = sample.op === "outer" ? layerOfDelta(sample.inputs[0]) : undefined;
  return outer !== undefined ? { rule: "BP4", layer: outer } : undefined;
}
