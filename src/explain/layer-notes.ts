/**
 * The layer-level reading of the layers that are not dense, one entry per layer type (as the layer registry has one
 * per type): batchnorm and layernorm's classic three-term backward formula, a residual block's identity path of the
 * delta, dropout's mask, and backpropagation through time for the recurrent layers (recurrent-notes.ts). Each entry finds its layer's values in the training DAG (what the gradient differentiates)
 * from the builder's record (Net.layers: the type, the parameters, the structure the layer builds), and says at which
 * step of the sweep its note goes; a note whose values are not found there is printed after the sweep instead.
 */
import { type Node, reachable } from "../ir/node.ts";
import { type NetLayer, trainingObjective } from "../ir/net.ts";
import { type Block, type Inline, code, display, math, para, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";
import { type Expr, mentions } from "./expr.ts";
import type { Names } from "./names.ts";
import { type RecurrentReading, readRecurrent, recurrentBlocks } from "./recurrent-notes.ts";
import type { DeltaStep, ParamStep, Step } from "./steps.ts";

/** A layer's values in the training DAG, as its note needs them (any may be missing). */
export interface LayerReading {
  readonly layer: NetLayer;
  /** The step the note follows; absent: printed after the sweep. */
  readonly at?: Step;
  /** δ of the layer's output, δ of its input, and the steps the note names. */
  readonly deltaOut?: DeltaStep;
  readonly deltaIn?: DeltaStep;
  readonly gainGrad?: ParamStep;
  readonly biasGrad?: ParamStep;
  /** batchnorm: the deltas of the scale s = γ/√(σ² + ε) (the batch mean of Σ δ_y ⊙ (x − μ)), of the batch mean and the variance. */
  readonly scaleDelta?: DeltaStep;
  readonly meanDelta?: DeltaStep;
  readonly varianceDelta?: DeltaStep;
  /** rnn, lstm, gru: the recurrence and its steps (recurrent-notes.ts). */
  readonly recurrent?: RecurrentReading;
}

export interface LayerNotes {
  readonly at: ReadonlyMap<Step, readonly LayerReading[]>;
  readonly after: readonly LayerReading[];
}

export interface ReadContext {
  readonly names: Names;
  readonly steps: readonly Step[];
  readonly deltas: readonly DeltaStep[];
  /** The nodes the training objective reads. */
  readonly training: ReadonlySet<Node>;
  /** The dropout layers in build order, their masks' stream numbers counting them from 1; empty when the count of masks differs (a rate of 0 draws none). */
  readonly dropouts: readonly NetLayer[];
}

interface LayerNoteKind {
  read(ctx: ReadContext, layer: NetLayer): LayerReading;
  blocks(d: Derivation, r: LayerReading): Block[];
}

export function readLayerNotes(names: Names, steps: readonly Step[]): LayerNotes {
  const at = new Map<Step, LayerReading[]>();
  const after: LayerReading[] = [];
  const layers = flatten(names.view.compiled.net.layers ?? []);
  const noted = layers.filter((l) => Object.hasOwn(LAYER_NOTES, l.type));
  if (noted.length === 0) return { at, after };
  const training = new Set(reachable(trainingObjective(names.view.compiled.net)));
  const dropouts = layers.filter((l) => l.type === "dropout");
  const masks = [...training].filter((n) => n.op === "uniform").length;
  const ctx: ReadContext = {
    names,
    steps,
    deltas: steps.filter((s): s is DeltaStep => s.kind === "delta"),
    training,
    dropouts: masks === dropouts.length ? dropouts : [],
  };
  for (const layer of noted) {
    const reading = LAYER_NOTES[layer.type].read(ctx, layer);
    if (reading.at) at.set(reading.at, [...(at.get(reading.at) ?? []), reading]);
    else after.push(reading);
  }
  return { at, after };
}

export function layerNoteBlocks(d: Derivation, r: LayerReading): Block[] {
  return LAYER_NOTES[r.layer.type].blocks(d, r);
}

const flatten = (layers: readonly NetLayer[]): NetLayer[] => layers.flatMap((l) => [l, ...flatten(l.inner)]);

// ---- reading the DAG

const inputsAre = (n: Node, op: string, test: (a: Node, b: Node) => boolean) => n.op === op && n.inputs.length === 2 && (test(n.inputs[0], n.inputs[1]) || test(n.inputs[1], n.inputs[0]));
/** A value read over a larger shape (a per-channel vector over an image), as the value itself. */
const unexpanded = (n: Node): Node => (n.op === "expand" || n.op === "broadcast" ? n.inputs[0] : n);
/** `n` is the parameter, or the parameter read over a larger shape. */
const isParam = (n: Node, p: Node | undefined) => p !== undefined && unexpanded(n) === p;
const paramOf = (layer: NetLayer, role: string) => layer.params.find((p) => p.role === role)?.node;
const deltaOf = (ctx: ReadContext, n: Node | undefined) => (n === undefined ? undefined : ctx.deltas.find((s) => s.primal === n));
const gradOf = (ctx: ReadContext, p: Node | undefined) => ctx.steps.find((s): s is ParamStep => s.kind === "param" && s.param.node === p);
/** The one of `steps` the sweep computes last (a note follows the last step of its layer). */
const lastOf = (ctx: ReadContext, steps: readonly (Step | undefined)[]) =>
  steps.filter((s): s is Step => s !== undefined).sort((a, b) => ctx.steps.indexOf(b) - ctx.steps.indexOf(a))[0];

/** y = n·γ + β in the training DAG, for a layer whose gain and bias are `layer`'s: [y, n]. */
function affineOutput(ctx: ReadContext, layer: NetLayer): { y: Node; scaled: Node } | undefined {
  const [gain, bias] = [paramOf(layer, "gain"), paramOf(layer, "bias")];
  for (const y of ctx.training) {
    let scaled: Node | undefined;
    if (inputsAre(y, "add", (a, b) => isParam(b, bias) && ((scaled = a), a.op === "mul"))) {
      if (scaled && scaled.inputs.some((i) => isParam(i, gain) || isGainScale(i, gain))) return { y, scaled };
    }
  }
  return undefined;
}

/** batchnorm's s = γ/√(σ² + ε). */
const isGainScale = (n: Node, gain: Node | undefined) => unexpanded(n).op === "div" && isParam(unexpanded(n).inputs[0], gain);

function readBatchnorm(ctx: ReadContext, layer: NetLayer): LayerReading {
  const found = affineOutput(ctx, layer);
  const gainGrad = gradOf(ctx, paramOf(layer, "gain"));
  const biasGrad = gradOf(ctx, paramOf(layer, "bias"));
  if (!found) return { layer, gainGrad, biasGrad };
  const scaleRead = found.scaled.inputs.find((i) => isGainScale(i, paramOf(layer, "gain")));
  const scale = scaleRead && unexpanded(scaleRead);
  const centred = found.scaled.inputs.find((i) => i !== scaleRead);
  // x − μ = (x − m) − (μ − m), m the running mean: its inputs are batchnorm's xd and mu
  const inner = centred?.op === "sub" ? centred.inputs : [];
  const variance = scale?.inputs[1]?.inputs[0]?.inputs.find((i) => i.op !== "const");
  const deltaOut = deltaOf(ctx, found.y);
  const scaleDelta = deltaOf(ctx, scale);
  const own = [deltaOut, scaleDelta, deltaOf(ctx, centred), deltaOf(ctx, variance), ...inner.map((n) => deltaOf(ctx, unexpanded(n)))];
  const [meanDelta, varianceDelta] = [deltaOf(ctx, inner[1] && unexpanded(inner[1])), deltaOf(ctx, variance)];
  return { layer, at: lastOf(ctx, own) ?? lastOf(ctx, [gainGrad, biasGrad]), deltaOut, gainGrad, biasGrad, scaleDelta, meanDelta, varianceDelta };
}

function readLayernorm(ctx: ReadContext, layer: NetLayer): LayerReading {
  const found = affineOutput(ctx, layer);
  const gainGrad = gradOf(ctx, paramOf(layer, "gain"));
  const biasGrad = gradOf(ctx, paramOf(layer, "bias"));
  if (!found) return { layer, gainGrad, biasGrad };
  // n = (x − mean)·scale; x − mean = sub(x, mean read back over x)
  const centred = found.scaled.inputs.find((i) => !isParam(i, paramOf(layer, "gain")))?.inputs.find((i) => i.op === "sub");
  const x = centred?.inputs[0];
  const deltaOut = deltaOf(ctx, found.y);
  const deltaIn = deltaOf(ctx, x);
  return { layer, at: lastOf(ctx, [deltaOut, deltaIn]) ?? lastOf(ctx, [gainGrad, biasGrad]), deltaOut, deltaIn, gainGrad, biasGrad };
}

function readResidual(ctx: ReadContext, layer: NetLayer): LayerReading {
  const y = residualSum(ctx, layer);
  if (!y) return { layer };
  const deltaOut = deltaOf(ctx, y);
  const deltaIn = deltaOf(ctx, layer.input);
  const reads = deltaIn && deltaOut && mentions(deltaIn.expr, deltaOut.node);
  return { layer, at: reads ? deltaIn : deltaOut, deltaOut, ...(reads ? { deltaIn } : {}) };
}

/**
 * block(x) + x in the training DAG: the record's own sum when both builds share it; else, when only the block
 * differs between the builds (a batchnorm inside it), the sum of the shared input with a value of its shape.
 */
function residualSum(ctx: ReadContext, layer: NetLayer): Node | undefined {
  const { input, output } = layer;
  if (ctx.training.has(output)) return output.op === "add" ? output : undefined;
  if (!ctx.training.has(input) || layer.params.length > 0) return undefined;
  const sums = [...ctx.training].filter((n) => n.op === "add" && n.inputs.includes(input) && n.inputs.every((i) => i.shape.join() === input.shape.join()));
  return sums.length === 1 ? sums[0] : undefined;
}

function readDropout(ctx: ReadContext, layer: NetLayer): LayerReading {
  const stream = ctx.dropouts.indexOf(layer) + 1;
  if (stream === 0) return { layer };
  const isMask = (m: Node) => m.op === "mul" && m.inputs.some((i) => i.op === "ge" && i.inputs[0].op === "uniform" && i.inputs[0].inputs[2].attr === stream);
  let x: Node | undefined;
  const output = [...ctx.training].find((n) => inputsAre(n, "mul", (a, b) => isMask(b) && ((x = a), true)));
  if (!output) return { layer };
  const deltaIn = deltaOf(ctx, x);
  const deltaOut = deltaOf(ctx, output);
  return { layer, at: deltaIn ?? deltaOut, deltaIn, deltaOut };
}

// ---- the notes

/** The three-term backward formula, over the m values one normalisation takes its statistics over. */
export const NORM_FORWARD = "\\hat{x} = \\frac{x - \\mu}{\\sqrt{\\sigma^{2} + \\epsilon}}, \\quad y = \\gamma \\odot \\hat{x} + \\beta";
export const NORM_PARAMS = "\\frac{\\partial L}{\\partial \\gamma} = \\sum \\delta_{y} \\odot \\hat{x}, \\quad \\frac{\\partial L}{\\partial \\beta} = \\sum \\delta_{y}";
export const NORM_DELTA =
  "\\delta_{x} = \\frac{\\gamma}{m \\sqrt{\\sigma^{2} + \\epsilon}} \\left( m\\, \\delta_{y} - \\sum \\delta_{y} - \\hat{x} \\sum \\left( \\delta_{y} \\odot \\hat{x} \\right) \\right)";
export const RESIDUAL_RULE = "\\delta_{x} = \\delta_{y} + \\left(\\frac{\\partial \\operatorname{block}(x)}{\\partial x}\\right)^{\\top} \\delta_{y}";
export const PROJECTED_RULE = "\\delta_{x} = P^{\\top} \\delta_{y} + \\left(\\frac{\\partial \\operatorname{block}(x)}{\\partial x}\\right)^{\\top} \\delta_{y}";
export const DROPOUT_RULE = "\\delta_{x} = \\delta_{y} \\odot \\mathit{mask}, \\quad \\mathit{mask} = \\begin{cases} 1/(1 - \\mathit{rate}) & \\text{kept} \\\\ 0 & \\text{dropped} \\end{cases}";

const layerName = (r: LayerReading): Inline => text(`Layer ${r.layer.label} (${r.layer.title})`);
const stepName = (d: Derivation, s: Step): Inline[] => (s.kind === "delta" ? [math(d.names.latex(s.node))] : [math(`\\partial J/\\partial ${d.names.latex(s.param.node, true)}`)]);
/** "δ (d_x in the generated code)", or the step's formula alone when the module does not store it. */
function valueOf(d: Derivation, s: Step): Inline[] {
  const name = d.names.code(s.node);
  return [...stepName(d, s), ...(name ? [text(" ("), code(name), text(")")] : [])];
}

function threeTerms(over: string): Block[] {
  return [
    display(NORM_FORWARD),
    display(NORM_PARAMS),
    display(NORM_DELTA),
    para(
      text(`with the sums over the m values ${over}. The three terms of `),
      math("\\delta_{x}"),
      text(" are the three paths from x to the loss: directly through "),
      math("\\hat{x}"),
      text(", through the mean "),
      math("\\mu"),
      text(" (which every value moves), and through the variance "),
      math("\\sigma^{2}"),
      text("."),
    ),
  ];
}

function batchnormBlocks(d: Derivation, r: LayerReading): Block[] {
  const holds: Inline[] = [];
  if (r.biasGrad) {
    holds.push(text(" The module computes the batch terms once per channel: "), math("\\sum \\delta_{y}"), text(" divided by the batch size (J averages over the batch) is "), ...valueOf(d, r.biasGrad));
    if (r.meanDelta) holds.push(text(", and the same sum times "), math("-\\gamma/\\sqrt{\\sigma^{2} + \\epsilon}"), text(" reaches "), math("\\delta_{x}"), text(" through "), ...valueOf(d, r.meanDelta));
    holds.push(text(";"));
  }
  if (r.gainGrad) holds.push(text(" "), math("\\sum \\delta_{y} \\odot \\hat{x}"), text(" divided by the batch size is "), ...valueOf(d, r.gainGrad));
  if (r.gainGrad && r.scaleDelta) {
    holds.push(text(", formed from "), ...valueOf(d, r.scaleDelta), text(", the batch mean of "), math("\\sum \\delta_{y} \\odot (x - \\mu)"));
    if (r.varianceDelta) holds.push(text(", which "), ...valueOf(d, r.varianceDelta), text(" reads"));
  }
  if (r.gainGrad) holds.push(text("."));
  return [
    para(layerName(r), text(", as the classic batch normalization backward pass reads (the training mode):")),
    ...threeTerms("of a channel (batch × positions)"),
    para(
      text("The batch terms are there because the samples are coupled: "),
      math("\\mu"),
      text(" and "),
      math("\\sigma^{2}"),
      text(" are computed from every sample of the batch, so each sample's output depends on every other sample's input, and its delta on every other sample's delta."),
      ...holds,
    ),
    para(text("In the inference mode the layer uses the running statistics (constants to the gradient): "), math("\\delta_{x} = \\gamma \\odot \\delta_{y} / \\sqrt{\\sigma^{2}_{\\text{running}} + \\epsilon}"), text(", with no batch terms.")),
  ];
}

function layernormBlocks(d: Derivation, r: LayerReading): Block[] {
  const where: Inline[] = [
    ...(r.deltaOut ? [text(" Here "), math("\\delta_{y}"), text(" is "), ...valueOf(d, r.deltaOut), text(".")] : []),
    ...(r.deltaIn ? [text(" The formula of "), ...valueOf(d, r.deltaIn), text(" above is "), math("\\delta_{x}"), text(" as the sweep computes it, the three terms written out.")] : []),
  ];
  return [
    para(layerName(r), text(", as the classic layer normalization backward pass reads:")),
    ...threeTerms("(the features) of one sample"),
    para(text("The statistics are each sample's own, so the terms couple the features of a sample and never two samples."), ...where),
  ];
}

function residualBlocks(d: Derivation, r: LayerReading): Block[] {
  const projection = paramOf(r.layer, "projection");
  const rule = projection
    ? [
        para(layerName(r), text(": "), math("y = \\operatorname{block}(x) + P x"), text(", so the delta at the block's input is the projection's path (in place of the identity) plus the block's own path:")),
        display(PROJECTED_RULE),
      ]
    : [
        para(layerName(r), text(": "), math("y = \\operatorname{block}(x) + x"), text(", so the delta at the block's input is the delta at its output (the identity path) plus the block's own path:")),
        display(RESIDUAL_RULE),
      ];
  if (!r.deltaIn || !r.deltaOut) return [...rule, para(text("In the sweep the two cotangents meet in a value that is not named."))];
  const deltaOut = r.deltaOut.node;
  const [skip, block] = splitTerms(r.deltaIn.expr, (t) => (projection ? mentions(t, projection) : t.k === "sym" && t.node === deltaOut));
  if (skip.length === 0 || block.length === 0) return rule;
  const print = (terms: readonly Expr[]) => terms.map((t) => d.latex.print(t)).join(" + ");
  return [
    ...rule,
    display(`${d.names.latex(r.deltaIn.node)} = \\underbrace{${print(skip)}}_{\\text{${projection ? "projection" : "identity"}}} + \\underbrace{${print(block)}}_{\\text{block}}`),
    para(text("read off the sum of the two cotangents in "), ...valueOf(d, r.deltaIn), text(".")),
  ];
}

/** The terms of a sum: those of the skip path, and the rest. */
function splitTerms(e: Expr, isSkip: (term: Expr) => boolean): [Expr[], Expr[]] {
  const terms: Expr[] = [];
  const walk = (x: Expr): void => (x.k === "add" ? (walk(x.a), walk(x.b)) : void terms.push(x));
  walk(e);
  return [terms.filter(isSkip), terms.filter((t) => !isSkip(t))];
}

function dropoutBlocks(_d: Derivation, r: LayerReading): Block[] {
  return [para(layerName(r), text(": the delta is multiplied by the same mask as the forward pass, "), math(DROPOUT_RULE), text(" (in the inference mode the layer is the identity).")) ];
}

const LAYER_NOTES: Readonly<Record<string, LayerNoteKind>> = {
  batchnorm: { read: readBatchnorm, blocks: batchnormBlocks },
  layernorm: { read: readLayernorm, blocks: layernormBlocks },
  residual: { read: readResidual, blocks: residualBlocks },
  dropout: { read: readDropout, blocks: dropoutBlocks },
  rnn: { read: readRecurrent, blocks: recurrentBlocks },
  lstm: { read: readRecurrent, blocks: recurrentBlocks },
  gru: { read: readRecurrent, blocks: recurrentBlocks },
};
