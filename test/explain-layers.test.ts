/**
 * `bpgen explain` on layers that are not dense: batchnorm and layernorm's three-term backward formula, a residual
 * block's identity path of the delta, dropout's mask (src/explain/layer-notes.ts). Each note is placed after the
 * step of the sweep that finishes its layer, and names the module's values; nets without those layers have none.
 */
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { type Explained, explain } from "../src/explain/explain.ts";
import { compileForInspection } from "../src/graph/compiled.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";

const example = (name: string) => relative(process.cwd(), join(ROOT, "examples", `${name}.json`));
const explained = new Map<string, Promise<Explained>>();
const explainFile = (file: string) => {
  if (!explained.has(file)) explained.set(file, compileForInspection(file).then((c) => explain(c, { graph: false })));
  return explained.get(file) as Promise<Explained>;
};

function netFile(spec: { readonly name: string; readonly [field: string]: unknown }): string {
  const file = join(tempDir(), `${spec.name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** The residual/layernorm net: a dense layer, a block (dense, layernorm) added to its input, a dense classifier. */
const RES_LN = {
  name: "res_ln",
  input: 4,
  layers: [
    { type: "dense", units: 6, activation: "tanh" },
    { type: "residual", layers: [{ type: "dense", units: 6, activation: "tanh" }, { type: "layernorm" }] },
    { type: "dense", units: 3 },
  ],
  loss: "softmax_cross_entropy",
};

const NORM_DELTA = String.raw`\delta_{x} = \frac{\gamma}{m \sqrt{\sigma^{2} + \epsilon}} \left( m\, \delta_{y} - \sum \delta_{y} - \hat{x} \sum \left( \delta_{y} \odot \hat{x} \right) \right)`;
const NORM_PARAMS = String.raw`\frac{\partial L}{\partial \gamma} = \sum \delta_{y} \odot \hat{x}, \quad \frac{\partial L}{\partial \beta} = \sum \delta_{y}`;
const NORM_FORWARD = String.raw`\hat{x} = \frac{x - \mu}{\sqrt{\sigma^{2} + \epsilon}}, \quad y = \gamma \odot \hat{x} + \beta`;
const DROPOUT_MASK = String.raw`\mathit{mask} = \begin{cases} 1/(1 - \mathit{rate}) & \text{kept} \\ 0 & \text{dropped} \end{cases}`;

/** The Markdown of the backward step whose heading contains `headingPart`, up to the next step. */
function section(md: string, headingPart: string): string {
  const steps = md.split(/\n(?=### \d+\. )/);
  const found = steps.filter((s) => s.split("\n")[0].includes(headingPart));
  expect(found, `one step headed with ${headingPart}`).toHaveLength(1);
  return found[0];
}

const count = (text: string, part: string) => text.split(part).length - 1;

describe("batchnorm's note", () => {
  it("gives the three-term formula once per batchnorm layer of deep_sigmoid10_bn, after the delta of x − running mean", async () => {
    const { markdown } = await explainFile(example("deep_sigmoid10_bn"));
    const labels = [2, 4, 6, 8, 10, 12, 14, 16, 18];
    expect(count(markdown, NORM_DELTA)).toBe(labels.length);
    expect(count(markdown, NORM_PARAMS)).toBe(labels.length);
    expect(count(markdown, NORM_FORWARD)).toBe(labels.length);
    for (const l of labels) {
      // the last step of the layer in the sweep: δ of xd = x − running mean, which the delta of the dense layer below reads
      const step = section(markdown, `\\delta_{\\mathit{xd${l}}} = \\partial L`);
      expect(step).toContain(`Layer ${l} (batchnorm), as the classic batch normalization backward pass reads (the training mode):`);
      expect(step).toContain("the samples are coupled");
      // the per-channel sums: the bias and gain gradients, the scale's delta, the mean's and variance's deltas
      for (const name of [`\`d_b${l}\``, `\`d_g${l}\``, `\`d_s${l}\``, `\\delta_{\\mathit{mu${l}}}`, `\\delta_{\\mathit{var${l}}}`]) expect(step).toContain(name);
      expect(step).toContain(String.raw`\sqrt{\sigma^{2}_{\text{running}} + \epsilon}`);
    }
    expect(markdown).not.toContain("Layer-level notes");
  });

  it("finds the convolutional batchnorms of mnist_cnn_bn (per-channel values read over the image) and notes its dropout", async () => {
    const { markdown, html } = await explainFile(example("mnist_cnn_bn"));
    for (const l of [2, 6]) {
      const step = section(markdown, `\\delta_{\\mathit{xd${l}}} = \\partial L`);
      expect(step).toContain(`Layer ${l} (batchnorm)`);
      expect(step).toContain(NORM_DELTA);
      expect(step).toContain("a channel (batch × positions)");
      expect(step).toContain(`\`d_b${l}\``);
    }
    // dropout's note follows the delta the mask multiplies: the step whose formula draws the uniform numbers
    const steps = markdown.split(/\n(?=### \d+\. )/).filter((s) => s.startsWith("### "));
    const masked = steps.filter((s) => s.includes(String.raw`\operatorname{U}(`));
    expect(masked.length).toBeGreaterThan(0);
    expect(masked[0]).toContain("Layer 10 (dropout 0.25): the delta is multiplied by the same mask as the forward pass");
    expect(masked[0]).toContain(DROPOUT_MASK);
    expect(html).not.toContain("katex-error");
    expect(html).toContain("the classic batch normalization backward pass");
    expect(markdown).toContain("Each batchnorm and dropout layer has a note in the backward pass");
  });
});

describe("a residual block with layernorm", () => {
  it("reads the identity path off the delta of the block's input and gives layernorm's per-sample three terms", async () => {
    const { markdown, html } = await explainFile(netFile(RES_LN));
    // δ at the block's input a¹: the delta at its output a² plus the block's path through its dense layer 2_1
    const input = section(markdown, String.raw`\delta_{a^{1}} = \partial L`);
    expect(input).toContain(String.raw`\delta_{a^{1}} = \frac{\partial L}{\partial a^{1}} = \delta_{a^{2}} + (W^{2,1})^{\top}\, \delta^{2,1}`);
    expect(input).toContain("Layer 2 (residual of 2 layers)");
    expect(input).toContain(String.raw`\delta_{a^{1}} = \underbrace{\delta_{a^{2}}}_{\text{identity}} + \underbrace{(W^{2,1})^{\top}\, \delta^{2,1}}_{\text{block}}`);
    // layernorm's note at the delta of its input, the block's dense output a^{2,1}
    const normed = section(markdown, String.raw`\delta_{a^{2,1}} = \partial L`);
    expect(normed).toContain("Layer 2\\_2 (layernorm), as the classic layer normalization backward pass reads:");
    expect(normed).toContain(NORM_DELTA);
    expect(normed).toContain("(the features) of one sample");
    expect(normed).toContain("never two samples");
    expect(normed).not.toContain("batch normalization");
    expect(html).not.toContain("katex-error");
    expect(html).toContain("identity");
  });

  it("reads a residual block whose batchnorm gives it two builds", async () => {
    const spec = { ...RES_LN, name: "res_bn", layers: [RES_LN.layers[0], { type: "residual", layers: [{ type: "dense", units: 6, activation: "tanh" }, { type: "batchnorm" }] }, RES_LN.layers[2]] };
    const { markdown, html } = await explainFile(netFile(spec));
    // the block differs between the builds, its input does not: the note is still at the delta of that input
    const input = section(markdown, String.raw`\delta_{a^{1}} = \partial L`);
    expect(input).toContain("Layer 2 (residual of 2 layers)");
    expect(input).toContain(String.raw`\underbrace{\delta_{a^{2}}}_{\text{identity}}`);
    expect(markdown).toContain("Layer 2\\_2 (batchnorm)");
    expect(markdown).not.toContain("Layer-level notes");
    expect(count(markdown, NORM_DELTA)).toBe(1);
    expect(html).not.toContain("katex-error");
  });
});

describe("a residual block with a projection", () => {
  it("reads Pᵀ δ_y in place of the identity path", async () => {
    const spec = { ...RES_LN, name: "res_proj", layers: [RES_LN.layers[0], { type: "residual", projection: true, layers: [{ type: "dense", units: 5, activation: "tanh" }] }, RES_LN.layers[2]] };
    const { markdown } = await explainFile(netFile(spec));
    const input = section(markdown, String.raw`\delta_{a^{1}} = \partial L`);
    expect(input).toContain(String.raw`y = \operatorname{block}(x) + P x`);
    expect(input).toContain(String.raw`\delta_{x} = P^{\top} \delta_{y} + \left(\frac{\partial \operatorname{block}(x)}{\partial x}\right)^{\top} \delta_{y}`);
    expect(input).toContain(String.raw`\underbrace{(P^{2})^{\top}\, \delta_{a^{2}}}_{\text{projection}} + \underbrace{(W^{2,1})^{\top}\, \delta^{2,1}}_{\text{block}}`);
  });
});

describe("dropout layers", () => {
  it("note each dropout layer, at the delta its own mask multiplies, and a rate of 0 (no mask) too", async () => {
    const spec = { ...RES_LN, name: "drops", layers: [RES_LN.layers[0], { type: "dropout", rate: 0.5 }, { type: "dense", units: 5, activation: "tanh" }, { type: "dropout", rate: 0.2 }, RES_LN.layers[2]] };
    const { markdown } = await explainFile(netFile(spec));
    const steps = markdown.split(/\n(?=### \d+\. )/).filter((s) => s.startsWith("### "));
    const noteOf = (label: number, rate: number) => steps.filter((s) => s.includes(`Layer ${label} (dropout ${rate})`));
    // each note in the step whose formula multiplies by that layer's 1/(1 − rate)
    expect(noteOf(2, 0.5)).toHaveLength(1);
    expect(noteOf(2, 0.5)[0]).toContain(String.raw`2 \cdot (\operatorname{U}(`);
    expect(noteOf(4, 0.2)).toHaveLength(1);
    expect(noteOf(4, 0.2)[0]).toContain(String.raw`1.25 \cdot (\operatorname{U}(`);

    const withZero = await explainFile(netFile({ ...spec, name: "drops0", layers: [RES_LN.layers[0], { type: "dropout", rate: 0 }, ...spec.layers.slice(2)] }));
    expect(withZero.markdown).toContain("Layer 2 (dropout 0)");
    expect(withZero.markdown).toContain("Layer 4 (dropout 0.2)");
    expect(withZero.html).not.toContain("katex-error");
  });
});

describe("nets without those layers", () => {
  it.each(["xor_sigmoid", "deep_sigmoid10", "mnist_cnn", "chain3"])("%s has no layer notes", async (name) => {
    const { markdown } = await explainFile(example(name));
    expect(markdown).not.toContain(NORM_DELTA);
    expect(markdown).not.toContain("Layer-level notes");
    expect(markdown).not.toMatch(/Layer \d+ \((batchnorm|layernorm|residual|dropout)/);
    expect(markdown).not.toContain(String.raw`\underbrace`);
    expect(markdown).not.toContain("has a note in the backward pass");
  });
});
