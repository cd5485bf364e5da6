/**
 * The backward steps as text: each delta with its formula (and the form with single-use deltas written
 * out), where the module computes it, which steps reuse it, its BP label in a layer net and its name in
 * the notation of a hand derivation; each parameter's per-sample derivative and its batch mean; then the fused forms.
 */
import { type Block, type Inline, code, display, heading, joinAnd, math, para, stepHeading, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";
import { codeParts, fracOf, nonEmpty, partialOf } from "./phrases.ts";
import { layerBlocks, unplacedLayerBlocks } from "./document-layers.ts";
import type { FusedNote } from "./fused.ts";
import type { DeltaStep, ParamStep, Step } from "./steps.ts";

export function backwardBlocks(d: Derivation): Block[] {
  const intro = para(
    text("The sweep starts from "),
    math("\\partial J/\\partial J = 1"),
    text(
      " and walks the DAG from the objective back to the parameters, building each value's cotangent once, after all its readers. " +
        "J averages the per-sample loss L over the batch, so inside a sample the cotangents are the deltas ",
    ),
    math("\\delta_{v} = \\partial L/\\partial v"),
    text(", and each parameter's gradient is the batch mean of its per-sample "),
    math("\\partial L/\\partial \\theta"),
    text(" (plus the regularizer's part). A delta read by several steps is computed once and reused."),
  );
  const { net, grads } = d.compiled;
  const unused = net.params.filter((p) => !grads.byParam.get(p.node));
  const none = unused.length > 0 ? [para(text(`J does not depend on ${unused.map((p) => p.name).join(", ")}: ${unused.length === 1 ? "its gradient is" : "their gradients are"} zero.`))] : [];
  return [intro, ...d.steps.backward.flatMap((step, k) => (step.kind === "delta" ? deltaBlocks(d, step, k + 1) : paramBlocks(d, step, k + 1))), ...none, ...unplacedLayerBlocks(d)];
}

function deltaBlocks(d: Derivation, step: DeltaStep, k: number): Block[] {
  const delta = d.names.latex(step.node);
  const forms = [step.expr, ...(step.expanded ? [step.expanded] : [])].map((e) => d.latex.print(e));
  const result = d.results.get(step.node);
  const named: Inline[] = [
    math(delta),
    text(" is "),
    ...(d.names.code(step.node) ? [code(d.names.code(step.node) as string), text(" in the generated code")] : [text("not stored by the module")]),
    ...(result !== undefined ? [text(`; a hand derivation numbering the equations calls it result${result}, the derivative of L by the value of equation ${result}`)] : []),
    text("."),
  ];
  return [
    stepHeading(k, math(`${delta} = ${partialOf(d, step.primal)}`), ...(result !== undefined ? [text(` (result${result})`)] : [])),
    display(`${delta} = ${fracOf(d, step.primal)} = ${forms.join(" = ")}`),
    ...layerBlocks(d, step),
    para(...named),
    ...nonEmpty(codeParts(step.code, undefined, `d_${d.names.name(step.primal)}`)),
    para(...reuse(d, step)),
    ...(result !== undefined ? [para(text("With the equations numbered: "), code(`result${result} = ${d.numbered.print(step.expr)}`), text("."))] : []),
  ];
}

function reuse(d: Derivation, step: DeltaStep): Inline[] {
  const readers = joinAnd(step.readers.map((r) => [math(readerName(d, r))]));
  const params = step.params.map((p) => p.name).join(", ");
  const gradients = `${step.params.length} parameter gradient${step.params.length === 1 ? "" : "s"} (${params})`;
  if (step.readers.length === 0 && step.primal.op === "carry") {
    // δ_{h_{t−1}} is the next value of the reverse loop's carry: the following step of that loop reads it
    return [text("Carried to the next step of the reverse loop, which reads it as its "), math(carriedLatex(d, step)), text(`; ${gradients} depend on it.`)];
  }
  if (step.readers.length === 0) return [text(`Read by no named step; ${gradients} depend on it.`)];
  if (step.readers.length === 1) return [text("Read once, by "), ...readers, text(`, where it is written out; ${gradients} depend${step.params.length === 1 ? "s" : ""} on it.`)];
  return [math(d.names.latex(step.node)), text(" is reused by "), ...readers, text(`; ${gradients} depend on it, and it is computed once.`)];
}

/** δ_{h_t}: how the reverse loop's carry reads the delta of h_{t−1} a step later. */
function carriedLatex(d: Derivation, step: DeltaStep): string {
  return d.names.latex(step.node).replace(/_\{t[-+]1\}\}$/, "_{t}}");
}

function readerName(d: Derivation, r: Step): string {
  return r.kind === "delta" ? partialOf(d, r.primal) : partialOf(d, r.param.node);
}

function paramBlocks(d: Derivation, step: ParamStep, k: number): Block[] {
  const theta = d.names.latex(step.param.node, true);
  const dL = `\\frac{\\partial L}{\\partial ${theta}}`;
  const dJ = `\\frac{\\partial J}{\\partial ${theta}}`;
  const heading3 = stepHeading(k, math(`\\partial J/\\partial ${theta}`));
  const where = nonEmpty(codeParts(step.code, undefined, `d_${step.param.name}`));
  const codeName = d.names.code(step.node);
  const named = codeName ? [para(math(`\\partial J/\\partial ${theta}`), text(" is "), code(codeName), text(" in the generated code."))] : [];
  if (!step.perSample) return [heading3, display(`${dJ} = ${d.latex.print(step.expr)}`), ...layerBlocks(d, step), ...named, ...where];
  const forms = [step.perSample.expr, ...(step.perSample.expanded ? [step.perSample.expanded] : [])].map((e) => d.latex.print(e));
  const extra = step.extra ? ` + ${d.latex.print(step.extra)}` : "";
  const numbered = d.results.size > 0 ? [para(text("With the equations numbered: "), code(`dL/d${step.param.name} = ${d.numbered.print(step.perSample.expanded ?? step.perSample.expr)}`), text("."))] : [];
  return [
    heading3,
    display(`${dL} = ${forms.join(" = ")}`),
    ...layerBlocks(d, step),
    display(`${dJ} = \\operatorname{mean}_{\\text{batch}} ${dL}${extra}`),
    ...named,
    ...where,
    ...numbered,
  ];
}

export function fusedBlocks(d: Derivation): Block[] {
  if (d.fused.length === 0) return [];
  return [
    heading(2, text("Simplified and fused forms")),
    para(text("Where a delta comes out of the sweep as a value the forward pass already has, it costs (almost) nothing: the rules simplify the derivative, and hash-consing makes the result the very node the forward pass built.")),
    ...d.fused.flatMap((note) => fusedNote(d, note)),
  ];
}

function fusedNote(d: Derivation, note: FusedNote): Block[] {
  const { step } = note;
  const delta = d.names.latex(step.node);
  const v = d.names.latex(step.primal, true);
  const loss = note.loss ? [display(`L = ${d.latex.print(note.loss)}`)] : [];
  const forms = [...new Set([d.latex.print(note.long), d.latex.print(step.expr)])];
  const derivative = display(`${delta} = \\frac{\\partial L}{\\partial ${v}} = ${forms.join(" = ")}`);
  const why: Inline[] = note.inForward
    ? [text("The backward pass does not compute "), math(delta), text(": it is the node "), math(d.forwardLatex.print(step.expr)), text(" the forward pass already computes for the loss.")]
    : [
        text("It reuses "),
        ...joinAnd(note.reused.map((n) => [math(d.names.latex(n, true))])),
        text(", computed from "),
        math(v),
        text(" in the forward pass: the same DAG node, so the backward pass only combines it."),
      ];
  return [...loss, derivative, para(...why)];
}
