/**
 * The derivation as a document: where it comes from and the notation, the forward equations, the loss,
 * the backward steps (document-backward.ts), the fused forms and the operation counts.
 */
import type { NetLayer } from "../ir/net.ts";
import { type Block, type Inline, code, display, heading, math, para, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";
import { backwardBlocks, fusedBlocks } from "./document-backward.ts";
import { countBlocks } from "./document-counts.ts";
import { codeParts } from "./phrases.ts";
import type { Equation } from "./steps.ts";

export interface DocumentOptions {
  /** The DAG drawn as SVG, shown as a figure in HTML. */
  readonly figure?: string;
}

export function derivationDocument(d: Derivation, options: DocumentOptions = {}): Block[] {
  const { net } = d.compiled;
  return [
    heading(1, text(`The derivation of ${net.name}`)),
    ...intro(d),
    heading(2, text("Forward pass")),
    ...d.steps.forward.flatMap((eq) => equationBlocks(d, eq)),
    heading(2, text("Loss and objective")),
    ...d.steps.loss.flatMap((eq) => equationBlocks(d, eq)),
    ...objectiveNote(d),
    heading(2, text("Backward pass, in the order the sweep computes it")),
    ...backwardBlocks(d),
    ...fusedBlocks(d),
    heading(2, text("Operation counts")),
    ...countBlocks(d),
    ...figureBlocks(d, options.figure),
  ];
}

function intro(d: Derivation): Block[] {
  const { compiled, names } = d;
  const lines: Block[] = [
    para(
      text("Derived from "),
      code(compiled.sourceFile),
      text(` by bpgen, from the same expression DAG the generated module is compiled from (`),
      code(`npx bpgen ${compiled.sourceFile}`),
      text(` writes it to `),
      code(`generated/${compiled.net.name}.ts`),
      text("). Values carry the names of the module's comments: a formula below can be found in the code by the name it defines."),
    ),
  ];
  if (names.style === "layers") {
    lines.push(
      para(
        text("Notation (as in the usual statement of backpropagation): a dense layer "),
        math("l"),
        text(" computes "),
        math("z^{l} = W^{l} a^{l-1} + b^{l}"),
        text(" and "),
        math("a^{l} = f(z^{l})"),
        text(", with "),
        math("a^{0} = x"),
        text("; "),
        math("\\delta^{l} = \\partial L/\\partial z^{l}"),
        text(" is its delta, and "),
        math("\\delta_{v} = \\partial L/\\partial v"),
        text(" the delta of any other named value. BP1–BP4 mark the four backpropagation equations where the DAG has their form."),
      ),
      layerList(names.layers),
      ...layerNotesIntro(d),
    );
  } else {
    lines.push(
      para(
        text("Notation: "),
        math("\\delta_{v} = \\partial L/\\partial v"),
        text(" is the delta of the named value "),
        math("v"),
        text(" ("),
        code("d_v"),
        text(" in the generated code); a hand derivation that numbers the equations calls the delta of the k-th equation's value "),
        math("\\mathrm{result}_{k}"),
        text(". A trailing number is a subscript: w1 is "),
        math("w_{1}"),
        text("."),
      ),
    );
  }
  return [...lines, ...recurrenceNotation(d)];
}

/** How the formulas of a recurrence's cell read, when the DAG has one. */
function recurrenceNotation(d: Derivation): Block[] {
  if (!d.view.nodes.some((n) => n.loop !== undefined)) return [];
  return [
    para(
      text("A recurrence runs its cell once per step t = 1 … T, and every value of the cell in a formula is its value at step t: "),
      math("h_{t-1}"),
      text(" is a carried value before the step (the previous step's "),
      math("h_{t}"),
      text("; "),
      math("h_{t+1}"),
      text(" in a recurrence that runs backwards), "),
      math("x_{t}"),
      text(" row t of a sequence, "),
      math("v[T]"),
      text(" a value after the last step, "),
      math("\\operatorname{stack}_{t}(v)"),
      text(" every step's v as a sequence, and "),
      math("\\sum_{t}"),
      text(" a sum over the steps. The reverse sweep is a recurrence of its own, from t = T down to 1 (backpropagation through time): "),
      math("\\delta_{h_{t}}"),
      text(" is the delta it carries back from step t + 1."),
    ),
  ];
}

/** Which layers have a note of their own in the backward pass (none: nothing said, as for a net of dense layers). */
function layerNotesIntro(d: Derivation): Block[] {
  const noted = [...[...d.layerNotes.at.values()].flat(), ...d.layerNotes.after].map((r) => r.layer.type);
  const types = [...new Set(noted)].sort();
  if (types.length === 0) return [];
  const list = types.length === 1 ? types[0] : `${types.slice(0, -1).join(", ")} and ${types[types.length - 1]}`;
  return [para(text(`Each ${list} layer has a note in the backward pass: the layer-level form of its backward pass, read off the steps the sweep computes.`))];
}

/** The layers by type, as net.json lists them, with their parameters: "layer 2: conv2d 3×3, 8 filters (W2, b2)". */
function layerList(layers: readonly NetLayer[]): Block {
  const item = (l: NetLayer) => {
    const params = l.params.length > 0 ? ` (${l.params.map((p) => p.name).join(", ")})` : "";
    const inside = l.label.includes("_") ? `, in the block of layer ${l.label.slice(0, l.label.lastIndexOf("_"))}` : "";
    return `layer ${l.label}: ${l.title}${params}${inside}`;
  };
  return para(text(`The layers: ${layers.map(item).join("; ")}.`));
}

function equationBlocks(d: Derivation, eq: Equation): Block[] {
  const symbol = d.names.latex(eq.node, true);
  const where = codeParts(eq.code, d.names.code(eq.node), d.names.name(eq.node));
  return [display(`${symbol} = ${d.forwardLatex.print(eq.expr)}`), ...(where.length > 0 ? [para(...where)] : [])];
}

/** J itself, when the objective carries another name (J = L̄ without a regularizer). */
function objectiveNote(d: Derivation): Block[] {
  const { net } = d.compiled;
  if (d.names.name(net.objective) === "J") return [];
  return [para(text("The objective is "), math(`J = ${d.names.latex(net.objective, true)}`), text(" (there is no regularizer).") )];
}

function figureBlocks(d: Derivation, svg: string | undefined): Block[] {
  const { compiled } = d;
  const how = [text("Draw it with "), code(`npx bpgen graph ${compiled.sourceFile}`), text(".")];
  if (svg === undefined) return [heading(2, text("The graph")), para(...how)];
  const caption: Inline[] = [
    text("The DAG: forward values blue, gradient values orange, shared deltas red with the number of parameter gradients that read them. "),
    ...how,
  ];
  return [heading(2, text("The graph")), { b: "figure", svg, caption }];
}
