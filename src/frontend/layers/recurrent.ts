/**
 * rnn, lstm and gru: PyTorch's recurrent cells over an input of one row per step ([T, features]), each a
 * recurrence of the DAG (Graph.recurrence) that the compiler runs as one loop over the steps, whatever T.
 *
 *   rnn   h_t = f(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)                     f = tanh or relu
 *   lstm  (i, f, g, o) = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh, split in four (PyTorch's gate order)
 *         c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(c_t)
 *   gru   (r, z, n) rows of W_ih x_t + b_ih and of W_hh h_{t−1} + b_hh (PyTorch's gate order)
 *         r = σ(·_r + ·_r), z = σ(·_z + ·_z), n = tanh(x_n + r ⊙ h_n),   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
 *
 * Both products run step by step: across the batch, each is one dense kernel for every sample at once.
 * A bidirectional layer (PyTorch's bidirectional=True) is two such recurrences over the same input, the second
 * running from the last step to the first with parameters of its own (W_ih1_reverse …), joined along the features.
 */
import { type Node, shapeText } from "../../ir/node.ts";
import type { RecurrentLayerSpec } from "../../spec/types.ts";
import { ZERO, positiveField, quoteList } from "./fields.ts";
import { type BuildContext, type DirectionalRole, directionalRole, type LayerKind, LayerShapeError, type ParamDecl, REVERSE_SUFFIX } from "./layer.ts";

type Cell = RecurrentLayerSpec["type"];

/** Gate blocks of each cell's weights, in PyTorch's order. */
const GATES: Readonly<Record<Cell, readonly string[]>> = { rnn: ["h"], lstm: ["i", "f", "g", "o"], gru: ["r", "z", "n"] };
const TORCH_MODULES: Readonly<Record<Cell, string>> = { rnn: "torch.nn.RNN", lstm: "torch.nn.LSTM", gru: "torch.nn.GRU" };
const TITLES: Readonly<Record<Cell, string>> = { rnn: "recurrent layer (Elman)", lstm: "LSTM layer", gru: "GRU layer" };
const RNN_ACTIVATIONS = ["tanh", "relu"] as const;

/** The carried values: h, and c for an LSTM. */
const carriesOf = (cell: Cell): readonly string[] => (cell === "lstm" ? ["h", "c"] : ["h"]);

function recurrentKind(cell: Cell): LayerKind<RecurrentLayerSpec> {
  const gates = GATES[cell].length;
  return {
    type: cell,
    title: TITLES[cell],
    description: `${cell === "rnn" ? "An Elman recurrent layer" : `A${cell === "lstm" ? "n LSTM" : " GRU"} layer`} over an input of one row per step, [steps, features], with PyTorch's equations, gate order (${GATES[cell].join(", ")}) and parameters; the output is the last state, or every step's.`,
    fields: {
      units: positiveField("layer units", "Size of the state h (hidden size)."),
      return_sequences: {
        schema: { type: "boolean", default: false, description: "Output every step's state, [steps, units], instead of the last one, [units]. Default false." },
        what: "return_sequences",
        rule: "must be true or false",
        expected: "a boolean",
        default: "false",
      },
      ...(cell === "rnn"
        ? {
            activation: {
              schema: { enum: [...RNN_ACTIVATIONS], default: "tanh", description: 'The cell\'s nonlinearity, "tanh" or "relu" (PyTorch\'s nonlinearity). Default "tanh".' },
              what: "rnn activation",
              rule: `must be ${quoteList(RNN_ACTIVATIONS)}`,
              expected: quoteList(RNN_ACTIVATIONS),
              choices: RNN_ACTIVATIONS,
              default: '"tanh"',
            },
          }
        : {}),
      initial_state: {
        schema: { enum: ["zeros", "learned"], default: "zeros", description: 'The state before the first step: "zeros", or "learned" (parameters, trained with the others). Default "zeros".' },
        what: "initial_state",
        rule: 'must be "zeros" or "learned"',
        expected: '"zeros" or "learned"',
        choices: ["zeros", "learned"],
        default: '"zeros"',
      },
      bidirectional: {
        schema: {
          type: "boolean",
          default: false,
          description:
            "A second direction that reads the steps from the last to the first, with parameters of its own (PyTorch's bidirectional=True); the output joins the two directions' states: every step's [steps, 2·units] (forward, then reverse, at each step), or each direction's last, [2·units]. Default false.",
        },
        what: "bidirectional",
        rule: "must be true or false",
        expected: "a boolean",
        default: "false",
      },
    },
    required: ["units"],
    sequenceOut: (spec) => spec.return_sequences ?? false,
    outputShape(spec, input) {
      if (input.length !== 2) {
        throw new LayerShapeError(`${cell} reads one row of features per step, an input of shape [steps, features], not ${shapeText(input)}`, "[steps, features]", shapeText(input));
      }
      const width = spec.bidirectional ? 2 * spec.units : spec.units;
      return spec.return_sequences ? [input[0], width] : [width];
    },
    paramsOf(spec, input, label) {
      const [features, units] = [input[1], spec.units];
      const rows = gates * units;
      const weight = (fanIn: number) => ({ kind: "xavier", fanIn, fanOut: rows }) as const;
      const decls: ParamDecl[] = [];
      for (const reverse of directionsOf(spec)) {
        const role = (base: DirectionalRole) => directionalRole(base, reverse);
        const name = (stem: string) => `${stem}${reverse ? REVERSE_SUFFIX : ""}`;
        decls.push(
          { role: role("weight"), name: name(`W_ih${label}`), shape: [rows, features], init: weight(features) },
          { role: role("recurrent"), name: name(`W_hh${label}`), shape: [rows, units], init: weight(units) },
          { role: role("bias"), name: name(`b_ih${label}`), shape: [rows], init: ZERO },
          { role: role("recurrentBias"), name: name(`b_hh${label}`), shape: [rows], init: ZERO },
        );
        if (spec.initial_state === "learned") {
          decls.push({ role: role("initial"), name: name(`h0_${label}`), shape: [units], init: ZERO });
          if (cell === "lstm") decls.push({ role: role("initialCell"), name: name(`c0_${label}`), shape: [units], init: ZERO });
        }
      }
      return decls;
    },
    build: (ctx, spec, x) => buildRecurrent(ctx, cell, spec, x),
    describe: (spec) => `${cell} ${spec.units}${cell === "rnn" && spec.activation === "relu" ? ", relu" : ""}${spec.bidirectional ? ", bidirectional" : ""}${spec.return_sequences ? ", every step" : ""}`,
    torch: {
      module: TORCH_MODULES[cell],
      args: {
        input_size: "the input's features (its last axis)",
        hidden_size: "units",
        batch_first: "True (bpgen's rows are steps of one sample)",
        ...(cell === "rnn" ? { nonlinearity: "activation" } : {}),
        bidirectional: "bidirectional",
      },
      params: [
        { role: "weight", torch: "weight_ih_l0", layout: `[${gates > 1 ? `${gates}·` : ""}units, features], gates ${GATES[cell].join(", ")}`, permute: [0, 1] },
        { role: "recurrent", torch: "weight_hh_l0", layout: `[${gates > 1 ? `${gates}·` : ""}units, units]`, permute: [0, 1] },
        { role: "bias", torch: "bias_ih_l0", layout: `[${gates > 1 ? `${gates}·` : ""}units]`, permute: [0] },
        { role: "recurrentBias", torch: "bias_hh_l0", layout: `[${gates > 1 ? `${gates}·` : ""}units]`, permute: [0] },
        // the exported module's own parameters (PyTorch's forward takes the initial state as an argument)
        { role: "initial", torch: "h0", layout: "[units]", permute: [0] },
        ...(cell === "lstm" ? [{ role: "initialCell" as const, torch: "c0", layout: "[units]", permute: [0] }] : []),
        // the reverse direction's, PyTorch's names with its suffix
        { role: "weightReverse", torch: "weight_ih_l0_reverse", layout: "as weight_ih_l0", permute: [0, 1] },
        { role: "recurrentReverse", torch: "weight_hh_l0_reverse", layout: "as weight_hh_l0", permute: [0, 1] },
        { role: "biasReverse", torch: "bias_ih_l0_reverse", layout: "as bias_ih_l0", permute: [0] },
        { role: "recurrentBiasReverse", torch: "bias_hh_l0_reverse", layout: "as bias_hh_l0", permute: [0] },
        { role: "initialReverse", torch: "h0_reverse", layout: "[units]", permute: [0] },
        ...(cell === "lstm" ? [{ role: "initialCellReverse" as const, torch: "c0_reverse", layout: "[units]", permute: [0] }] : []),
      ],
      note: "One bpgen layer is one PyTorch layer (num_layers=1); stacked layers are separate modules. Without return_sequences the output is output[:, -1]; a bidirectional layer's is both directions' last states, torch.cat((h_n[0], h_n[1]), 1) (the reverse direction's last state is the one after the first step, not output[:, -1]'s). A learned initial state (h0, c0) is a tensor PyTorch takes as an argument of forward; the exported module keeps it as its parameters h0 and c0, expanded over the batch.",
    },
  };
}

/** The layer's output: its recurrence's, or the two directions' joined along the features. */
function buildRecurrent(ctx: BuildContext, cell: Cell, spec: RecurrentLayerSpec, x: Node) {
  const outputs = directionsOf(spec).map((reverse) => buildDirection(ctx, cell, spec, x, reverse));
  const joined = outputs.length === 1 ? outputs[0] : ctx.g.concat(outputs, outputs[0].shape.length - 1);
  return { output: joined };
}

/**
 * One direction's recurrence and its output. The reverse direction reads x_{T−1} first; its state after reading x_t
 * is row t of its sequence (as in PyTorch's output), and its last state is the one after x_0.
 */
function buildDirection(ctx: BuildContext, cell: Cell, spec: RecurrentLayerSpec, x: Node, reverse: boolean): Node {
  const { g } = ctx;
  const label = `${ctx.label}${reverse ? REVERSE_SUFFIX : ""}`;
  const param = (base: DirectionalRole) => ctx.param(directionalRole(base, reverse));
  const units = spec.units;
  const steps = x.shape[0];
  const [Wih, Whh, bih, bhh] = [param("weight"), param("recurrent"), param("bias"), param("recurrentBias")];
  const zeros = g.broadcast(g.constant(0), [units]);
  const learned = spec.initial_state === "learned";
  const init = carriesOf(cell).map((_, k) => (learned ? param(k === 0 ? "initial" : "initialCell") : zeros));
  const run = g.recurrence({
    length: steps,
    reverse,
    init,
    names: carriesOf(cell).map((name) => `${name}${label}`),
    cell: ({ carries, step }) => {
      const h = carries[0];
      // W_ih x_t: with the recurrent product, one dense kernel for every sample at each step (lower/plan.ts BatchedRecurrence)
      const fromInput = ctx.name(g.add(g.matmul(Wih, step(x)), bih), `zx${label}`);
      const fromState = g.add(g.matmul(Whh, h), bhh);
      const next = cellStep(ctx, label, cell, spec, fromInput, fromState, carries);
      return { next, outputs: spec.return_sequences ? [next[0]] : [] };
    },
  });
  return spec.return_sequences ? run.stacks[0] : run.finals[0];
}

/** The directions a layer runs: forward, then reverse when it is bidirectional. */
const directionsOf = (spec: RecurrentLayerSpec): readonly boolean[] => (spec.bidirectional ? [false, true] : [false]);

/** One step of the cell: the carries' next values (h, and c for an LSTM). */
function cellStep(ctx: Pick<BuildContext, "g" | "name">, label: string, cell: Cell, spec: RecurrentLayerSpec, fromInput: Node, fromState: Node, carries: readonly Node[]): Node[] {
  const { g } = ctx;
  const units = spec.units;
  const block = (v: Node, k: number) => g.slice(v, [{ keep: true, start: k * units, count: units }]);
  switch (cell) {
    case "rnn": {
      const z = ctx.name(g.add(fromInput, fromState), `z${label}`);
      return [spec.activation === "relu" ? g.relu(z) : g.tanh(z)];
    }
    case "lstm": {
      const z = ctx.name(g.add(fromInput, fromState), `z${label}`);
      const [i, f, gg, o] = [g.sigmoid(block(z, 0)), g.sigmoid(block(z, 1)), g.tanh(block(z, 2)), g.sigmoid(block(z, 3))];
      const c = ctx.name(g.add(g.mul(f, carries[1]), g.mul(i, gg)), `c_next${label}`);
      return [g.mul(o, g.tanh(c)), c];
    }
    case "gru": {
      const r = ctx.name(g.sigmoid(g.add(block(fromInput, 0), block(fromState, 0))), `r${label}`);
      const z = ctx.name(g.sigmoid(g.add(block(fromInput, 1), block(fromState, 1))), `z${label}`);
      const n = ctx.name(g.tanh(g.add(block(fromInput, 2), g.mul(r, block(fromState, 2)))), `n${label}`);
      // (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
      return [g.add(n, g.mul(z, g.sub(carries[0], n)))];
    }
  }
}

export const RECURRENT_KINDS: readonly LayerKind<RecurrentLayerSpec>[] = (["rnn", "lstm", "gru"] as const).map(recurrentKind);
