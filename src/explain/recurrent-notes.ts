/**
 * The notes of the recurrent layers (rnn, lstm, gru): the cell the layer runs once per step, backpropagation
 * through time as the usual hand derivation writes it, with the layer's own names and sizes, and the forms the
 * reverse sweep actually built (its second recurrence, running from T down to 1): the deltas of the carried values
 * h_{t−1} (and c_{t−1}), of the pre-activation, and the recurrent weights' gradients, sums over the steps. Then why
 * a gradient through T steps vanishes or explodes, and what the gates change.
 */
import type { NetLayer } from "../ir/net.ts";
import { MIXED_LOOPS, type Node, type Recurrence } from "../ir/node.ts";
import { type Block, type Inline, code, display, joinAnd, math, para, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";
import { type Expr, mentions } from "./expr.ts";
import type { LayerReading, ReadContext } from "./layer-notes.ts";
import type { DeltaStep, ParamStep, Step } from "./steps.ts";

export interface RecurrentReading {
  readonly recurrence: Recurrence;
  /** The carried values' leaves (h, and c for an LSTM) with the sweep's step of their delta, δ_{h_{t−1}}. */
  readonly carries: readonly { readonly leaf: Node; readonly delta?: DeltaStep }[];
  /** The step of δ of the pre-activation z (rnn, lstm) and of the LSTM's new cell state, when the sweep names them. */
  readonly zDelta?: DeltaStep;
  readonly cellDelta?: DeltaStep;
  /** The gradients of W_hh, b_hh, W_ih, b_ih. */
  readonly grads: { readonly [role in "recurrent" | "recurrentBias" | "weight" | "bias"]?: ParamStep };
  /** The output is every step's h (return_sequences), not the last. */
  readonly everyStep: boolean;
  /** The layer has a second direction, over the steps in reverse order, whose parameters end in _reverse. */
  readonly bidirectional: boolean;
  /** rnn: relu rather than tanh. */
  readonly relu: boolean;
}

const ROLES = ["recurrent", "recurrentBias", "weight", "bias"] as const;
const paramOf = (layer: NetLayer, role: string) => layer.params.find((p) => p.role === role)?.node;
const deltaOf = (ctx: ReadContext, n: Node | undefined) => (n === undefined ? undefined : ctx.deltas.find((s) => s.primal === n));

/** The layer's recurrence: the loop of the cell values that read its recurrent weights. */
function recurrenceOfLayer(ctx: ReadContext, layer: NetLayer): Recurrence | undefined {
  const whh = paramOf(layer, "recurrent");
  if (!whh) return undefined;
  const reader = ctx.names.view.consumers(whh).find((n) => ctx.training.has(n) && n.loop !== undefined && n.loop !== MIXED_LOOPS);
  return reader?.loop === undefined ? undefined : ctx.names.view.compiled.net.graph.recurrenceOf(reader.loop);
}

/** A named value of the cell: the builder names z (and an LSTM's c) with the layer's label. */
function cellValue(ctx: ReadContext, recurrence: Recurrence, name: string): Node | undefined {
  const { graph } = ctx.names.view.compiled.net;
  return [...ctx.training].find((n) => n.loop === recurrence.id && graph.hint(n) === name);
}

export function readRecurrent(ctx: ReadContext, layer: NetLayer): LayerReading {
  const recurrence = recurrenceOfLayer(ctx, layer);
  const grads = Object.fromEntries(
    ROLES.flatMap((role) => {
      const p = paramOf(layer, role);
      const step = ctx.steps.find((s): s is ParamStep => s.kind === "param" && s.param.node === p);
      return step ? [[role, step]] : [];
    }),
  );
  if (!recurrence) return { layer };
  const carries = recurrence.carries.map((c) => ({ leaf: c.leaf, delta: deltaOf(ctx, c.leaf) }));
  const zDelta = deltaOf(ctx, cellValue(ctx, recurrence, `z${layer.label}`));
  const cellDelta = deltaOf(ctx, cellValue(ctx, recurrence, `c_next${layer.label}`));
  const relu = recurrence.carries[0].next.op === "max";
  // a bidirectional layer's output joins its two directions' outputs; each is a stack or a final
  const bidirectional = paramOf(layer, "recurrentReverse") !== undefined;
  const forwardOutput = bidirectional ? layer.output.inputs[0] : layer.output;
  const reading: RecurrentReading = { recurrence, carries, zDelta, cellDelta, grads, everyStep: forwardOutput.op === "stack", bidirectional, relu };
  const own: Step[] = [...carries.flatMap((c) => c.delta ?? []), ...(zDelta ? [zDelta] : [])];
  // the note follows the last of the layer's deltas the sweep computes (else its last gradient)
  const candidates = own.length > 0 ? own : Object.values(grads);
  const last = candidates.sort((a, b) => ctx.steps.indexOf(b) - ctx.steps.indexOf(a))[0];
  return { layer, ...(last ? { at: last } : {}), recurrent: reading };
}

// ---- the note

/** The layer's names in LaTeX: its parameters, input, output and carries. */
interface Symbols {
  readonly Wih: string;
  readonly Whh: string;
  readonly bih: string;
  readonly bhh: string;
  /** x_t, h_t, h_{t−1}, h_T, c_t, c_{t−1}: `at(h, "t-1")`. */
  readonly x: string;
  readonly h: string;
  readonly c: string;
  readonly a: string;
  /** The pre-activation, as the sweep names it (z¹), else z. */
  readonly z: string;
  /** The input's part of every step, W_ih x + b_ih, computed before the loop (zx2). */
  readonly zx: string;
}

/** xᵀ, with a symbol that has a superscript of its own in parentheses. */
const tr = (symbol: string) => (symbol.includes("^") ? `\\left(${symbol}\\right)^{\\top}` : `${symbol}^{\\top}`);
/** A superscript (a gate's rows of a matrix) on a symbol that may have one. */
const rowsOf = (symbol: string, part: string) => `{${symbol}}^{(${part})}`;
const at = (symbol: string, t: string) => `${symbol.includes("_") ? `{${symbol}}` : symbol}_{${t}}`;

function symbolsOf(d: Derivation, r: LayerReading, rec: RecurrentReading): Symbols {
  const inputPart = d.names.forwardNamed.find((n) => d.names.name(n) === `zx${r.layer.label}`);
  const param = (role: string) => {
    const p = paramOf(r.layer, role);
    return p ? d.names.latex(p, true) : role;
  };
  // a carry's own name, without the step the derivation's notation adds to it
  const carry = (k: number) => {
    const leaf = rec.carries[k]?.leaf;
    return leaf ? d.names.latex(leaf, true).replace(/_\{t[-+]1\}$/, "").replace(/^\{(.*)\}$/, "$1") : k === 0 ? "h" : "c";
  };
  return {
    Wih: param("weight"),
    Whh: param("recurrent"),
    bih: param("bias"),
    bhh: param("recurrentBias"),
    x: d.names.latex(r.layer.input, true),
    h: carry(0),
    c: carry(1),
    a: d.names.latex(r.layer.output, true),
    z: rec.zDelta ? d.names.latex(rec.zDelta.primal, true) : "z",
    zx: inputPart ? d.names.latex(inputPart, true) : "\\mathit{zx}",
  };
}

/** "i, f, g, o: rows 1–8, 9–16, …": the gates' blocks of the stacked weights (PyTorch's order). */
function gateRows(type: string, units: number): string | undefined {
  const gates = type === "lstm" ? ["i", "f", "g", "o"] : type === "gru" ? ["r", "z", "n"] : [];
  if (gates.length === 0) return undefined;
  const blocks = gates.map((g, k) => `${g}: rows ${k * units + 1}–${(k + 1) * units}`).join(", ");
  const superscripts = type === "gru" ? ` A superscript (${gates.join("), (")}) marks a gate's block of rows.` : "";
  return `The weights stack the gates' rows in PyTorch's order, ${blocks}.${superscripts}`;
}

const layerName = (r: LayerReading): Inline => text(`Layer ${r.layer.label} (${r.layer.title})`);

/** "δ (d_x in the generated code)". */
function valueOf(d: Derivation, s: Step): Inline[] {
  const name = d.names.code(s.node);
  const symbol = s.kind === "delta" ? d.names.latex(s.node) : `\\partial J/\\partial ${d.names.latex(s.param.node, true)}`;
  return [math(symbol), ...(name ? [text(" ("), code(name), text(")")] : [])];
}

export function recurrentBlocks(d: Derivation, r: LayerReading): Block[] {
  const rec = r.recurrent;
  if (!rec) return [para(layerName(r), text(": the recurrence it builds is not in the training DAG."))];
  const s = symbolsOf(d, r, rec);
  const T = rec.recurrence.length;
  const units = rec.carries[0].leaf.shape[0];
  const features = r.layer.input.shape[1];
  const fromOutput = rec.everyStep ? " \\;\\left(+ \\text{ the output's delta at } t-1\\right)" : "";
  const cell = r.layer.type === "lstm" ? lstm(s, fromOutput) : r.layer.type === "gru" ? gru(s, fromOutput) : rnn(s, rec.relu, fromOutput);
  const intro = para(
    layerName(r),
    text(`: a recurrence of T = ${T} steps over the rows of `),
    math(s.x),
    text(` (${T} × ${features}), with ${units} units. The cell, once per step t (the module runs it as one loop, whatever T), starting from `),
    ...initialState(d, rec, s),
    text(":"),
  );
  const output = rec.bidirectional
    ? bidirectionalOutput(d, r, rec, s, T, units)
    : para(
        text("The layer's output "),
        math(s.a),
        text(rec.everyStep ? " is every step's " : " is the last state "),
        math(rec.everyStep ? at(s.h, "t") : at(s.h, "T")),
        text(rec.everyStep ? ` stacked, ${T} × ${units}.` : "."),
      );
  const rows = gateRows(r.layer.type, units);
  return [
    intro,
    display(cell.forward),
    ...(rows ? [para(text(rows))] : []),
    output,
    para(
      text(`Backpropagation through time: the reverse sweep is a second recurrence, from t = ${T} down to 1, carrying the delta of each carried value back one step. With `),
      math(`\\delta_{${at(s.h, "t")}}`),
      text(" the whole delta of "),
      math(at(s.h, "t")),
      text(rec.everyStep ? " (what step t + 1 sends back plus the output's own delta at t)" : ` (at t = T the output's delta; before, what step t + 1 sends back)`),
      text(":"),
    ),
    ...cell.backward.map(display),
    ...sweepForms(d, r, rec, s),
    display(`\\frac{\\partial ${at(s.h, "T")}}{\\partial ${at(s.h, "t")}} = \\prod_{k=t+1}^{T} \\frac{\\partial ${at(s.h, "k")}}{\\partial ${at(s.h, "k-1")}}`),
    para(
      text(`The gradient that reaches step t from the loss at step T is multiplied by T − t step Jacobians (up to ${T - 1} here). `),
      ...cell.jacobian,
      text(" When their norms stay below 1 the product shrinks geometrically with the distance (the gradient vanishes: early steps learn nothing from late losses); above 1 it can grow geometrically (it explodes)."),
      ...cell.gates,
    ),
  ];
}

/**
 * A bidirectional layer's output, and its second direction: the same cell with parameters of its own over the steps
 * from T down to 1, whose notes are this one's with t − 1 and t + 1 exchanged.
 */
function bidirectionalOutput(d: Derivation, r: LayerReading, rec: RecurrentReading, s: Symbols, T: number, units: number): Block {
  const reverseWeight = paramOf(r.layer, "recurrentReverse");
  const Whh = reverseWeight ? d.names.latex(reverseWeight, true) : "W_{hh}'";
  const h = `\\overleftarrow{${s.h}}`;
  return para(
    text("The layer is bidirectional: a second recurrence, with parameters of its own ("),
    math(Whh),
    text(` and the others ending in _reverse), runs the same cell over the steps from t = ${T} down to 1, carrying `),
    math(at(h, "t+1")),
    text(" into step t from an initial state of its own. The layer's output "),
    math(s.a),
    text(rec.everyStep ? ` joins, at every step t, the two directions' states: ` : " joins each direction's last state: "),
    math(rec.everyStep ? `\\left(${at(s.h, "t")}, ${at(h, "t")}\\right)` : `\\left(${at(s.h, "T")}, ${at(h, "1")}\\right)`),
    text(rec.everyStep ? `, ${T} × ${2 * units}.` : `, ${2 * units} values.`),
    text(" Backpropagation through time below is the forward direction's; the reverse direction's sweep mirrors it, from t = 1 up to T, carrying "),
    math(`\\delta_{${at(h, "t+1")}}`),
    text(" back one step, and the derivation above lists its steps."),
  );
}

/** h_0 = 0, or the learned parameters the recurrence starts from (h0_1, c0_1). */
function initialState(d: Derivation, rec: RecurrentReading, s: Symbols): Inline[] {
  const symbols = [s.h, s.c].slice(0, rec.recurrence.carries.length);
  const inits = rec.recurrence.carries.map((c, k) => `${at(symbols[k], "0")} = ${c.init.op === "param" ? d.names.latex(c.init, true) : "0"}`);
  const learned = rec.recurrence.carries.some((c) => c.init.op === "param");
  return [math(inits.join(", \\; ")), ...(learned ? [text(" (a learned initial state, trained with the other parameters)")] : [])];
}

interface CellNote {
  readonly forward: string;
  readonly backward: readonly string[];
  /** The step Jacobian, in words and symbols. */
  readonly jacobian: readonly Inline[];
  /** What the gates change (nothing for an Elman cell). */
  readonly gates: readonly Inline[];
}

/** `fromOutput`: the output's own delta added to δ_{h_{t−1}} when the layer outputs every step (else empty). */
function rnn(s: Symbols, relu: boolean, fromOutput: string): CellNote {
  const z = (t: string) => at(s.z, t);
  const f = relu ? "\\operatorname{relu}" : "\\tanh";
  const fPrime = relu ? `\\mathbf{1}[${z("t")} > 0]` : `1 - ${at(s.h, "t")} \\odot ${at(s.h, "t")}`;
  const dz = `\\delta_{${at(s.h, "t")}} \\odot f'(${z("t")})`;
  return {
    forward: `${z("t")} = ${s.Wih}\\, ${at(s.x, "t")} + ${s.bih} + ${s.Whh}\\, ${at(s.h, "t-1")} + ${s.bhh}, \\quad ${at(s.h, "t")} = ${f}(${z("t")})`,
    backward: [
      `\\delta_{${at(s.h, "t-1")}} = ${tr(s.Whh)} \\left(${dz}\\right)${fromOutput}, \\quad f'(${z("t")}) = ${fPrime}`,
      `\\frac{\\partial L}{\\partial ${s.Whh}} = \\sum_{t=1}^{T} \\left(${dz}\\right) ${tr(at(s.h, "t-1"))}, \\quad \\frac{\\partial L}{\\partial ${s.bhh}} = \\sum_{t=1}^{T} ${dz}, \\quad \\frac{\\partial L}{\\partial ${s.Wih}} = \\sum_{t=1}^{T} \\left(${dz}\\right) ${tr(at(s.x, "t"))}`,
    ],
    jacobian: [
      text("For this cell each is "),
      math(`\\partial ${at(s.h, "k")}/\\partial ${at(s.h, "k-1")} = \\operatorname{diag}(f'(${z("k")}))\\, ${s.Whh}`),
      text(": the same matrix "),
      math(s.Whh),
      text(` every step, scaled by ${relu ? "relu′ (0 or 1)" : "tanh′ ≤ 1"}, so the product behaves like a power of `),
      math(s.Whh),
      text(": its largest singular value decides."),
    ],
    gates: [text(" The Elman cell has no gate: every path back in time goes through "), math(s.Whh), text(" and f′, which is why gated cells (LSTM, GRU) were introduced.")],
  };
}

function lstm(s: Symbols, fromOutput: string): CellNote {
  const [h, c] = [(t: string) => at(s.h, t), (t: string) => at(s.c, t)];
  const g = (name: string, t = "t") => at(name === "z" ? s.z : name, t);
  return {
    forward: [
      "\\begin{aligned}",
      `(${g("i")}, ${g("f")}, ${g("g")}, ${g("o")}) &= (\\sigma, \\sigma, \\tanh, \\sigma)\\left(${s.Wih}\\, ${at(s.x, "t")} + ${s.bih} + ${s.Whh}\\, ${h("t-1")} + ${s.bhh}\\right) \\\\`,
      `${c("t")} &= ${g("f")} \\odot ${c("t-1")} + ${g("i")} \\odot ${g("g")} \\\\`,
      `${h("t")} &= ${g("o")} \\odot \\tanh(${c("t")})`,
      "\\end{aligned}",
    ].join(" "),
    backward: [
      `\\delta_{${c("t-1")}} = \\delta_{${c("t")}} \\odot ${g("f")} + \\delta_{${h("t-1")}} \\odot ${g("o", "t-1")} \\odot \\left(1 - \\tanh^{2}(${c("t-1")})\\right)`,
      `\\delta_{${g("o")}} = \\delta_{${h("t")}} \\odot \\tanh(${c("t")}), \\quad \\delta_{${g("i")}} = \\delta_{${c("t")}} \\odot ${g("g")}, \\quad \\delta_{${g("f")}} = \\delta_{${c("t")}} \\odot ${c("t-1")}, \\quad \\delta_{${g("g")}} = \\delta_{${c("t")}} \\odot ${g("i")}`,
      `\\delta_{${g("z")}} = \\left(\\delta_{${g("i")}} \\odot ${g("i")} (1 - ${g("i")}),\\; \\delta_{${g("f")}} \\odot ${g("f")} (1 - ${g("f")}),\\; \\delta_{${g("g")}} \\odot (1 - ${g("g")}^{2}),\\; \\delta_{${g("o")}} \\odot ${g("o")} (1 - ${g("o")})\\right)`,
      `\\delta_{${h("t-1")}} = ${tr(s.Whh)} \\delta_{${g("z")}}${fromOutput}, \\quad \\frac{\\partial L}{\\partial ${s.Whh}} = \\sum_{t=1}^{T} \\delta_{${g("z")}}\\, ${tr(h("t-1"))}, \\quad \\frac{\\partial L}{\\partial ${s.Wih}} = \\sum_{t=1}^{T} \\delta_{${g("z")}}\\, ${tr(at(s.x, "t"))}`,
    ],
    jacobian: [text("Through the hidden state each is a product with "), math(s.Whh), text(" and the gates' derivatives, as in an Elman cell.")],
    gates: [
      text(" The gates add a second path: from "),
      math(c("t")),
      text(" back to "),
      math(c("t-1")),
      text(" the delta is multiplied by the forget gate "),
      math(g("f")),
      text(" alone, elementwise, with no weight matrix and no squashing derivative. Over many steps that is a product of forget gates, which stays near 1 where the gate is open: the cell state carries the gradient across long distances (the constant error carousel), and it cannot explode through "),
      math(s.Whh),
      text("."),
    ],
  };
}

function gru(s: Symbols, fromOutput: string): CellNote {
  const h = (t: string) => at(s.h, t);
  const g = (name: string, t = "t") => at(name, t);
  const rows = (gate: string) => rowsOf(s.Whh, gate);
  return {
    forward: [
      "\\begin{aligned}",
      `${g("r")} &= \\sigma\\left(${rowsOf(at(s.zx, "t"), "r")} + ${rows("r")} ${h("t-1")} + ${rowsOf(s.bhh, "r")}\\right), \\quad ${g("z")} = \\sigma\\left(${rowsOf(at(s.zx, "t"), "z")} + ${rows("z")} ${h("t-1")} + ${rowsOf(s.bhh, "z")}\\right) \\\\`,
      `${g("n")} &= \\tanh\\left(${rowsOf(at(s.zx, "t"), "n")} + ${g("r")} \\odot (${rows("n")} ${h("t-1")} + ${rowsOf(s.bhh, "n")})\\right) \\\\`,
      `${h("t")} &= (1 - ${g("z")}) \\odot ${g("n")} + ${g("z")} \\odot ${h("t-1")}, \\qquad ${at(s.zx, "t")} = ${s.Wih}\\, ${at(s.x, "t")} + ${s.bih}`,
      "\\end{aligned}",
    ].join(" "),
    backward: [
      `\\delta_{${g("n")}} = \\delta_{${h("t")}} \\odot (1 - ${g("z")}), \\quad \\delta_{${g("z")}} = \\delta_{${h("t")}} \\odot (${h("t-1")} - ${g("n")}), \\quad \\delta_{${g("a")}} = \\delta_{${g("n")}} \\odot (1 - ${g("n")}^{2}), \\quad \\delta_{${g("r")}} = \\delta_{${g("a")}} \\odot (${rows("n")} ${h("t-1")} + ${rowsOf(s.bhh, "n")})`,
      `\\delta_{${h("t-1")}} = \\delta_{${h("t")}} \\odot ${g("z")} + ${tr(s.Whh)} \\left(\\delta_{${g("r")}} \\odot ${g("r")} (1 - ${g("r")}),\\; \\delta_{${g("z")}} \\odot ${g("z")} (1 - ${g("z")}),\\; \\delta_{${g("a")}} \\odot ${g("r")}\\right)${fromOutput}`,
      `\\frac{\\partial L}{\\partial ${s.Whh}} = \\sum_{t=1}^{T} \\left(\\delta_{${g("r")}} \\odot ${g("r")} (1 - ${g("r")}),\\; \\delta_{${g("z")}} \\odot ${g("z")} (1 - ${g("z")}),\\; \\delta_{${g("a")}} \\odot ${g("r")}\\right) ${tr(h("t-1"))}`,
    ],
    jacobian: [text("Through "), math(s.Whh), text(" each is a product with the weights and the gates' derivatives, as in an Elman cell.")],
    gates: [
      text(" The update gate adds a direct path: "),
      math(`\\delta_{${h("t")}} \\odot ${g("z")}`),
      text(" reaches "),
      math(h("t-1")),
      text(" multiplied by "),
      math(g("z")),
      text(" alone, elementwise. Where "),
      math(g("z")),
      text(" is near 1 the state, and its gradient, pass the step unchanged, so the gradient can cross many steps without vanishing."),
    ],
  };
}

/** The longest formula of the sweep the note repeats in full. */
const SHOWN_LIMIT = 400;

/**
 * The recurrence as the sweep built it: each carried value's delta δ_{h_{t−1}} and δ of the pre-activation, their
 * formulas as the module computes them; for a formula too long to repeat, its term that does not go through W_hh
 * (the gate's direct path).
 */
function sweepForms(d: Derivation, r: LayerReading, rec: RecurrentReading, s: Symbols): Block[] {
  const carried = rec.carries.flatMap((c) => c.delta ?? []);
  const steps = [...carried, ...(rec.cellDelta ? [rec.cellDelta] : []), ...(rec.zDelta ? [rec.zDelta] : [])];
  if (steps.length === 0) return [para(text("The sweep does not name the deltas of the carried values, so its forms are not repeated here."))];
  const whh = paramOf(r.layer, "recurrent");
  const shown: string[] = [];
  const partial: Block[] = [];
  for (const step of steps) {
    const printed = d.latex.print(step.expr);
    if (printed.length <= SHOWN_LIMIT) shown.push(`${d.names.latex(step.node)} = ${printed}`);
    else if (whh && carried.includes(step)) partial.push(...directPath(d, step, whh, s));
  }
  const grads = [rec.grads.recurrent, rec.grads.recurrentBias].filter((g): g is ParamStep => g !== undefined);
  const sums = grads.flatMap((g) => (g.perSample && d.latex.print(g.perSample.expr).length <= SHOWN_LIMIT ? [`\\frac{\\partial L}{\\partial ${d.names.latex(g.param.node, true)}} = ${d.latex.print(g.perSample.expr)}`] : []));
  return [
    para(text("The sweep's own forms of "), ...joinAnd(steps.map((step) => valueOf(d, step))), text(", as its steps write them (every value of the reverse cell is its value at step t):")),
    ...(shown.length > 0 ? [display(shown.join(", \\quad "))] : []),
    ...partial,
    para(...carriedParts(d, r, rec, s)),
    ...(sums.length > 0 ? [display(sums.join(", \\quad ")), para(text("The weights are shared by every step, so their gradients are sums over the steps (the reverse loop adds each step's term)."))] : []),
  ];
}

/** The terms of a carried value's delta that are not a product with W_hhᵀ: the gates' direct path back. */
function directPath(d: Derivation, step: DeltaStep, whh: Node, s: Symbols): Block[] {
  const direct = terms(step.expr).filter((t) => !(t.k === "mm" && mentions(t.a, whh)));
  if (direct.length === 0) return [];
  return [
    display(`${d.names.latex(step.node)} = \\underbrace{${direct.map((t) => d.latex.print(t)).join(" + ")}}_{\\text{direct}} + ${tr(s.Whh)} (\\ldots)`),
    para(text("the terms of "), ...valueOf(d, step), text(" (written out in full above) that do not go back through "), math(tr(s.Whh)), text(".")),
  ];
}

/** How the sweep's carried deltas relate to the whole deltas of the formulas above. */
function carriedParts(d: Derivation, r: LayerReading, rec: RecurrentReading, s: Symbols): Inline[] {
  const h = rec.carries[0].leaf;
  const carriedH = `\\delta_{${at(s.h, "t")}}`;
  const parts: Inline[] = [
    text("In the sweep "),
    math(carriedH),
    text(" is the delta carried back from step t + 1"),
    ...(rec.everyStep ? [text(", to which the output's own delta at t, "), math(`\\delta_{${at(s.a, "t")}}`), text(", is added: the two make the whole "), math(carriedH), text(" of the formulas above")] : [text(", which is the whole of it: only the last step's state is read outside the loop")]),
    text(". It starts as "),
    ...(rec.everyStep ? [text("zero")] : [text("the output's delta "), math(`\\delta_{${s.a}}`)]),
    text(" at t = T."),
  ];
  if (r.layer.type === "lstm" && rec.cellDelta) {
    const units = h.shape[0];
    parts.push(
      text(" "),
      ...valueOf(d, rec.cellDelta),
      text(" is the whole "),
      math(`\\delta_{${at(s.c, "t")}}`),
      text(", the carried "),
      math(`\\delta_{${at(s.c, "t")}}`),
      text(" only the part "),
      math(`\\delta_{${at(s.c, "t+1")}} \\odot f_{t+1}`),
      text(` sent back from the next step; the forget gate f is the second block of ${units} rows of `),
      math(s.z),
      text(`, rows ${units + 1}–${2 * units}.`),
    );
  }
  return parts;
}

/** The terms of a sum. */
function terms(e: Expr): Expr[] {
  return e.k === "add" ? [...terms(e.a), ...terms(e.b)] : [e];
}

