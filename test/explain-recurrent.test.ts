/**
 * `bpgen explain` on recurrences: the notation of a cell (h_{t−1} for a carry, x_t for a row of a sequence, δ_{h_t}
 * for the delta the reverse sweep carries), the note of each rnn, lstm and gru layer (the cell per step, BPTT with
 * the layer's names and sizes, the sweep's own forms, the product of T Jacobians and what the gates change), placed
 * at the step of the delta of its carried state; KaTeX typesets all of it. Also a hand-built cell with no layers.
 */
import katex from "katex";
import { describe, expect, it } from "vitest";
import { type Explained, explain } from "../src/explain/explain.ts";
import { compileCell, compileSpec } from "./helpers/recurrent-inspection.ts";

const explained = new Map<string, Promise<Explained>>();
function explainSpec(spec: { readonly name: string; readonly [field: string]: unknown }): Promise<Explained> {
  if (!explained.has(spec.name)) explained.set(spec.name, compileSpec(spec).then((c) => explain(c, { graph: false })));
  return explained.get(spec.name) as Promise<Explained>;
}

/** An LSTM over 16 steps of 8 features, every step read by a GRU, its last state by a dense layer. */
const SEQ = {
  name: "seq",
  input: [16, 8],
  layers: [{ type: "lstm", units: 8, return_sequences: true }, { type: "gru", units: 4 }, { type: "dense", units: 1 }],
  loss: "mse",
};
const RNN = { name: "elman", input: [6, 3], layers: [{ type: "rnn", units: 4 }, { type: "dense", units: 1 }], loss: "mse" };
const RELU_RNN = { name: "elman_relu", input: [5, 2], layers: [{ type: "rnn", units: 3, activation: "relu", return_sequences: true, initial_state: "learned" }, { type: "dense", units: 2 }], loss: "mse" };

/** The Markdown of the backward step whose heading contains `headingPart`, up to the next step. */
function section(md: string, headingPart: string): string {
  const steps = md.split(/\n(?=### \d+\. )/);
  const found = steps.filter((s) => s.split("\n")[0].includes(headingPart));
  expect(found, `one step headed with ${headingPart}`).toHaveLength(1);
  return found[0];
}

/** Every displayed formula of a Markdown text. */
const displays = (md: string) => [...md.matchAll(/^\$\$\n([\s\S]*?)\n\$\$$/gm)].map((m) => m[1]);
const count = (text: string, part: string) => text.split(part).length - 1;

function expectTypeset(md: string): void {
  for (const latex of displays(md)) expect(() => katex.renderToString(latex, { displayMode: true, throwOnError: true }), latex.slice(0, 120)).not.toThrow();
}

describe("the notation of a recurrence", () => {
  it("writes the carry as h_{t−1}, the input's part of the step as zx, and the last state as the value at T", async () => {
    const { markdown } = await explainSpec(RNN);
    expect(markdown).toContain(String.raw`z^{1} = \mathit{zx1} + \mathit{W\_hh1}\, h^{1}_{t-1} + \mathit{b\_hh1}`);
    expect(markdown).toContain(String.raw`\mathit{zx1} = \mathit{W\_ih1}\, x_{t} + \mathit{b\_ih1}`);
    expect(markdown).toContain(String.raw`a^{1} = \tanh(z^{1})[T]`);
    // the shared weight's gradient is a sum over the steps of the outer product with the stored h_{t−1}
    expect(markdown).toContain(String.raw`\frac{\partial L}{\partial \mathit{W\_hh1}} = \sum_{t}(\delta_{z^{1}}\, (h^{1}_{t-1})^{\top})`);
    // no op table form left without its backslash, no stored value spelled as stack(…)[t]
    expect(markdown).not.toMatch(/[^\\]operatorname|[^\\]sum_t|\)\[t\]/);
    expect(markdown).toContain("A recurrence runs its cell once per step t = 1 … T");
  });

  it("names the delta of the carried state as a step of the sweep: δ_{h_{t−1}} = W_hhᵀ δ_z, with δ_z = δ_{h_t} ⊙ tanh′", async () => {
    const { markdown } = await explainSpec(RNN);
    const step = section(markdown, String.raw`$\delta_{h^{1}_{t-1}} = \partial L/\partial h^{1}_{t-1}$`);
    expect(step).toContain(String.raw`\delta_{h^{1}_{t-1}} = \frac{\partial L}{\partial h^{1}_{t-1}} = \mathit{W\_hh1}^{\top}\, \delta_{z^{1}}`);
    expect(markdown).toContain(String.raw`\delta_{z^{1}} = \frac{\partial L}{\partial z^{1}} = \delta_{h^{1}_{t}} \odot (1 - \tanh(z^{1}) \odot \tanh(z^{1}))`);
    expect(step).toContain(String.raw`Carried to the next step of the reverse loop, which reads it as its $\delta_{h^{1}_{t}}$`);
  });
});

describe("the note of a recurrent layer", () => {
  it("gives an Elman layer's cell, its BPTT recurrence and the product of T − 1 Jacobians, after δ_{h_{t−1}}", async () => {
    const { markdown, html } = await explainSpec(RNN);
    const step = section(markdown, String.raw`$\delta_{h^{1}_{t-1}}`);
    expect(step).toContain("Layer 1 (rnn 4): a recurrence of T = 6 steps over the rows of $x$ (6 × 3), with 4 units.");
    expect(step).toContain("starting from $h^{1}_{0} = 0$:");
    expect(step).toContain(String.raw`z^{1}_{t} = \mathit{W\_ih1}\, x_{t} + \mathit{b\_ih1} + \mathit{W\_hh1}\, h^{1}_{t-1} + \mathit{b\_hh1}, \quad h^{1}_{t} = \tanh(z^{1}_{t})`);
    expect(step).toContain(String.raw`\delta_{h^{1}_{t-1}} = \mathit{W\_hh1}^{\top} \left(\delta_{h^{1}_{t}} \odot f'(z^{1}_{t})\right), \quad f'(z^{1}_{t}) = 1 - h^{1}_{t} \odot h^{1}_{t}`);
    expect(step).toContain(String.raw`\frac{\partial L}{\partial \mathit{W\_hh1}} = \sum_{t=1}^{T} \left(\delta_{h^{1}_{t}} \odot f'(z^{1}_{t})\right) \left(h^{1}_{t-1}\right)^{\top}`);
    expect(step).toContain("multiplied by T − t step Jacobians (up to 5 here)");
    expect(step).toContain(String.raw`\operatorname{diag}(f'(z^{1}_{k}))\, \mathit{W\_hh1}`);
    expect(step).toMatch(/vanishes.*explodes/s);
    // the last state alone is read: no delta of the output is added at t − 1
    expect(step).not.toContain("the output's delta at");
    expect(count(markdown, "Backpropagation through time")).toBe(1);
    expectTypeset(markdown);
    expect(html).not.toContain("katex-error");
  });

  it("says relu′ for a relu cell, names a learned initial state, and adds the output's delta at t − 1 when every step is read", async () => {
    const { markdown, html } = await explainSpec(RELU_RNN);
    expect(markdown).toContain(String.raw`f'(z^{1}_{t}) = \mathbf{1}[z^{1}_{t} > 0]`);
    expect(markdown).toContain(String.raw`\;\left(+ \text{ the output's delta at } t-1\right)`);
    expect(markdown).toContain("Layer 1 (rnn 3, relu, every step): a recurrence of T = 5 steps");
    expect(markdown).toContain(String.raw`starting from $h^{1}_{0} = \mathit{h0\_1}$ (a learned initial state`);
    expectTypeset(markdown);
    expect(html).not.toContain("katex-error");
  });

  it("gives the LSTM's cell and its gated recurrence, with the forget gate read off the sweep as rows 9–16 of z¹", async () => {
    const { markdown } = await explainSpec(SEQ);
    const step = section(markdown, String.raw`$\delta_{h^{1}_{t-1}}`);
    expect(step).toContain("Layer 1 (lstm 8, every step): a recurrence of T = 16 steps over the rows of $x$ (16 × 8), with 8 units.");
    expect(step).toContain(String.raw`c^{1}_{t} &= f_{t} \odot c^{1}_{t-1} + i_{t} \odot g_{t}`);
    expect(step).toContain(String.raw`\delta_{c^{1}_{t-1}} = \delta_{c^{1}_{t}} \odot f_{t} + \delta_{h^{1}_{t-1}} \odot o_{t-1} \odot \left(1 - \tanh^{2}(c^{1}_{t-1})\right)`);
    expect(step).toContain("i: rows 1–8, f: rows 9–16, g: rows 17–24, o: rows 25–32");
    // PyTorch's gate order puts f second: the sweep multiplies the cell state's delta by σ of rows 9–16
    expect(step).toContain(String.raw`\delta_{c^{1}_{t-1}} = \delta_{\mathit{c\_next1}} \odot \sigma((z^{1})[9:16])`);
    expect(step).toContain("constant error carousel");
    expect(step).toContain(String.raw`\delta_{a^{1}_{t}}`);
    expect(step).toContain("up to 15 here");
  });

  it("gives the GRU's cell and its recurrence, with the update gate's direct path in the sweep's step", async () => {
    const { markdown } = await explainSpec(SEQ);
    const step = section(markdown, String.raw`$\delta_{h^{2}_{t-1}}`);
    expect(step).toContain("Layer 2 (gru 4): a recurrence of T = 16 steps over the rows of $a^{1}$ (16 × 8), with 4 units.");
    expect(step).toContain(String.raw`h^{2}_{t} &= (1 - z_{t}) \odot n_{t} + z_{t} \odot h^{2}_{t-1}`);
    expect(step).toContain(String.raw`\delta_{h^{2}_{t-1}} = \delta_{h^{2}_{t}} \odot z_{t} + \mathit{W\_hh2}^{\top}`);
    expect(step).toContain("r: rows 1–4, z: rows 5–8, n: rows 9–12. A superscript (r), (z), (n) marks a gate's block of rows.");
    expect(step).toContain(String.raw`n_{t} &= \tanh\left({\mathit{zx2}_{t}}^{(n)} + r_{t} \odot ({\mathit{W\_hh2}}^{(n)} h^{2}_{t-1} + {\mathit{b\_hh2}}^{(n)})\right)`);
    // the gates are named (r, z, n as PyTorch names them): the direct path reads as δh_t ⊙ z
    expect(step).toContain(String.raw`\delta_{h^{2}_{t-1}} = \frac{\partial L}{\partial h^{2}_{t-1}} = \delta_{h^{2}_{t}} \odot z^{2} + \mathit{W\_hh2}^{\top}`);
    expect(step).toContain("update gate");
    // the GRU's output is its last state only
    expect(step).not.toContain("the output's delta at");
  });

  it("typesets every formula of a net with an LSTM and a GRU", async () => {
    const { markdown, html } = await explainSpec(SEQ);
    expect(count(markdown, "Backpropagation through time")).toBe(2);
    expectTypeset(markdown);
    expect(html).toContain('class="katex"');
    expect(html).not.toContain("katex-error");
  });

  it("notes a bidirectional layer's second direction, its joined output and its mirrored sweep", async () => {
    const BI = {
      name: "bi",
      input: [6, 3],
      layers: [{ type: "lstm", units: 4, bidirectional: true, return_sequences: true }, { type: "gru", units: 2, bidirectional: true }, { type: "dense", units: 1 }],
      loss: "mse",
    };
    const { markdown, html } = await explainSpec(BI);
    // one note per layer, each naming its reverse direction's weight and how the output joins the two
    expect(count(markdown, "Backpropagation through time: the reverse sweep is a second recurrence")).toBe(2);
    expect(count(markdown, "The layer is bidirectional")).toBe(2);
    expect(markdown).toContain(String.raw`($\mathit{W\_hh1\_reverse}$ and the others ending in \_reverse)`);
    expect(markdown).toContain(String.raw`joins, at every step t, the two directions' states: $\left(h^{1}_{t}, \overleftarrow{h^{1}}_{t}\right)$, 6 × 8.`);
    expect(markdown).toContain(String.raw`joins each direction's last state: $\left(h^{2}_{T}, \overleftarrow{h^{2}}_{1}\right)$, 4 values.`);
    // the reverse direction's cell reads its carry from step t + 1
    expect(markdown).toContain(String.raw`{\mathit{h1\_reverse}}_{t+1}`);
    expectTypeset(markdown);
    expect(html).not.toContain("katex-error");
  });

  it("explains a hand-built cell running backwards: its carries read h_{t+1}, and no layer note is made up", async () => {
    const c = await compileCell({ kind: "lstm", steps: 4, features: 2, units: 3, everyStep: true, reverse: true });
    const { markdown, html } = await explain(c, { graph: false });
    expect(markdown).toContain("h_{t+1}");
    expect(markdown).toContain("c_{t+1}");
    expect(markdown).toContain(String.raw`\delta_{h_{t}}`);
    expect(markdown).not.toContain("Backpropagation through time");
    expectTypeset(markdown);
    expect(html).not.toContain("katex-error");
  });
});
