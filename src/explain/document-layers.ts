/**
 * A step's layer-level reading in a layer net: BP1–BP4 for dense layers, as displayed formulas with the rule they
 * instantiate; the notes of the other layer types that have one (layer-notes.ts) at the step they follow.
 */
import { type Block, heading, math, para, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";
import { type Expr, raw } from "./expr.ts";
import { layerNoteBlocks } from "./layer-notes.ts";
import { fracOf } from "./phrases.ts";
import type { Step } from "./steps.ts";
import type { BpNote } from "./tensor.ts";

const RULES: Record<BpNote["rule"], string> = {
  BP1: "\\delta^{L} = \\nabla_{a^{L}} L \\odot f'(z^{L})",
  BP2: "\\delta^{l} = \\left((W^{l+1})^{\\top} \\delta^{l+1}\\right) \\odot f'(z^{l})",
  BP3: "\\partial L/\\partial b^{l} = \\delta^{l}",
  BP4: "\\partial L/\\partial W^{l} = \\delta^{l} (a^{l-1})^{\\top}",
};

export function layerBlocks(d: Derivation, step: Step): Block[] {
  return [...bpBlocks(d, step), ...(d.layerNotes.at.get(step) ?? []).flatMap((r) => layerNoteBlocks(d, r))];
}

function bpBlocks(d: Derivation, step: Step): Block[] {
  const note = d.layers.get(step);
  if (!note) return [];
  const label = para(text(`${note.rule}, `), math(RULES[note.rule]), text(", with "), math(`l = ${note.layer}`), text(` (${note.layer === lastLayer(d) ? "the last layer" : `layer ${note.layer}`}).`));
  if (step.kind !== "delta") return [label];
  const delta = d.names.latex(step.node);
  const f = raw(`f'(z^{${note.layer}})`, `f′(z${note.layer})`);
  const fDef = (e: Expr) => `f'(z^{${note.layer}}) = ${d.latex.print(e)}`;
  if (note.rule === "BP1") {
    if (!note.gradA || !note.fPrime) {
      return [label, para(text("In fused form: the loss is built from "), math(`z^{${note.layer}}`), text(", so the sweep yields the delta directly and never forms "), math(`\\nabla_{a} L \\odot f'(z)`), text(" (see the fused forms below)."))];
    }
    const product = d.latex.print({ k: "had", a: { k: "sym", node: note.gradA.node }, b: f });
    return [label, { b: "display", latex: `${delta} = ${fracOf(d, note.gradA.primal)} \\odot f'(z^{${note.layer}}) = ${product}, \\quad ${fDef(note.fPrime)}` }];
  }
  if (note.rule !== "BP2") return [label];
  if (!note.fromAbove) return [label, para(text("The layer is linear ("), math(`a^{${note.layer}} = z^{${note.layer}}`), text("), so "), math(`f'(z^{${note.layer}}) = 1`), text("."))];
  const product = d.latex.print({ k: "had", a: note.fromAbove.expr, b: f });
  return [label, { b: "display", latex: `${delta} = ${product}, \\quad ${fDef(note.fPrime)}` }];
}

function lastLayer(d: Derivation): number {
  return Math.max(0, ...[...d.layers.values()].map((n) => n.layer));
}

/** The layer notes whose values the sweep does not name: after the backward steps. */
export function unplacedLayerBlocks(d: Derivation): Block[] {
  const { after } = d.layerNotes;
  if (after.length === 0) return [];
  return [heading(3, text("Layer-level notes")), ...after.flatMap((r) => layerNoteBlocks(d, r))];
}
