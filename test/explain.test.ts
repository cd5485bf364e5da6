/**
 * `bpgen explain`: the derivation document. Golden Markdown for chain3 and xor_sigmoid; chain3 reads like the
 * classic hand derivation (result3, result2, dL/dw1 = result2 · w2 · x); the names and formula lines it quotes
 * are the generated module's own; layer nets in BP1–BP4 form; fused forms; operation counts, with the naive
 * count checked against brute-force tree expansion; escaping; the HTML page is self-contained and
 * deterministic; every example; the command line. Regenerate goldens with UPDATE_GOLDEN=1 (helpers/golden.ts).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import katex from "katex";
import { describe, expect, it } from "vitest";
import { type Explained, explain } from "../src/explain/explain.ts";
import { naiveOps } from "../src/explain/naive.ts";
import { escapeLatex, latexName } from "../src/explain/notation.ts";
import { compileForInspection } from "../src/graph/compiled.ts";
import type { Node } from "../src/ir/node.ts";
import { work } from "../src/lower/stats.ts";
import { ROOT, bpgen, tempDir } from "./helpers/cli.ts";
import { expectGolden } from "./helpers/golden.ts";

const example = (name: string) => relative(process.cwd(), join(ROOT, "examples", `${name}.json`));
const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""));
const explained = new Map<string, Promise<Explained>>();
/** Each example explained once per test file. */
const explainExample = (name: string) => {
  if (!explained.has(name)) explained.set(name, compileForInspection(example(name)).then((c) => explain(c)));
  return explained.get(name) as Promise<Explained>;
};

describe("the derivation (Markdown)", () => {
  it("matches the golden files for chain3 and xor_sigmoid", async () => {
    expectGolden("chain3.md", (await explainExample("chain3")).markdown);
    expectGolden("xor_sigmoid.md", (await explainExample("xor_sigmoid")).markdown);
  });

  it("chain3 reads like a classic hand derivation, with result3 and result2 explicit", async () => {
    const md = (await explainExample("chain3")).markdown;
    const order = ["### 1. $\\delta_{e} = \\partial L/\\partial e$ (result3)", "### 2. $\\partial J/\\partial w_{3}$", "### 3. $\\delta_{z} = \\partial L/\\partial z$ (result2)", "### 4. $\\partial J/\\partial w_{2}$", "### 5. $\\delta_{y}", "### 6. $\\partial J/\\partial w_{1}$"];
    const at = order.map((h) => md.indexOf(h));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md).toContain("\\delta_{e} = \\frac{\\partial L}{\\partial e} = e - t");
    expect(md).toContain("\\delta_{z} = \\frac{\\partial L}{\\partial z} = \\delta_{e} \\cdot w_{3}");
    expect(md).toContain("\\frac{\\partial L}{\\partial w_{1}} = \\delta_{y} \\cdot x = \\delta_{z} \\cdot w_{2} \\cdot x");
    expect(md).toContain("With the equations numbered: `dL/dw1 = result2 · w2 · x`.");
    expect(md).toContain("With the equations numbered: `dL/dw2 = result2 · y`.");
    expect(md).toContain("With the equations numbered: `dL/dw3 = result3 · z`.");
    expect(md).toContain("With the equations numbered: `result2 = result3 · w3`.");
    expect(md).toContain("$\\delta_{z}$ is reused by $\\partial L/\\partial w_{2}$ and $\\partial L/\\partial y$");
    expect(md).toContain("$\\delta_{z}$ is `d_z` in the generated code; a hand derivation numbering the equations calls it result2, the derivative of L by the value of equation 2.");
  });

  it("quotes only names and formula lines that the generated module contains, for every example", async () => {
    for (const name of EXAMPLES) {
      const generated = join(ROOT, "generated", `${name}.ts`);
      if (!existsSync(generated)) continue;
      const source = readFileSync(generated, "utf8");
      const md = (await explainExample(name)).markdown;
      const lines = [...md.matchAll(/In the module: (.*)$/gm)].flatMap((m) => [...m[1].matchAll(/`([^`]+)`/g)].map((c) => c[1]));
      expect(lines.length, name).toBeGreaterThan(0);
      for (const line of lines) expect(source, `${name}: // ${line}`).toContain(`// ${line}\n`);
      for (const [, id] of md.matchAll(/ is `([\w$]+)` in the generated code/g)) expect(source, `${name}: ${id}`).toMatch(new RegExp(`\\b${id.replace(/\$/g, "\\$")}\\b`));
    }
  });

  it("writes layer nets at the tensor level, BP1–BP4 read off the DAG", async () => {
    const xor = (await explainExample("xor_sigmoid")).markdown;
    expect(xor).toContain("\\delta^{2} = \\frac{\\partial L}{\\partial z^{2}} = a^{2} - y");
    expect(xor).toContain("\\delta^{1} = ((W^{2})^{\\top}\\, \\delta^{2}) \\odot f'(z^{1}), \\quad f'(z^{1}) = a^{1} \\odot (1 - a^{1})");
    expect(xor).toContain("\\frac{\\partial L}{\\partial b^{1}} = \\delta^{1}\n");
    expect(xor).toContain("\\frac{\\partial L}{\\partial W^{1}} = \\delta^{1}\\, x^{\\top}\n");
    expect(xor).toContain("\\frac{\\partial L}{\\partial W^{2}} = \\delta^{2}\\, (a^{1})^{\\top}\n");
    for (const rule of ["BP1", "BP2", "BP3", "BP4"]) expect(xor).toContain(`${rule}, $`);
    const mnist = (await explainExample("mnist_mlp")).markdown;
    expect(mnist).toContain("f'(z^{1}) = \\mathbf{1}[z^{1} > 0]");
    expect(mnist).toContain("\\frac{\\partial J}{\\partial W^{1}} = \\operatorname{mean}_{\\text{batch}} \\frac{\\partial L}{\\partial W^{1}} + 0.0001 \\cdot W^{1}");
    const mse = (await explainExample("mse_sigmoid")).markdown;
    expect(mse).toContain("\\delta^{3} = \\frac{\\partial L}{\\partial a^{3}} \\odot f'(z^{3}) = \\delta_{a^{3}} \\odot f'(z^{3}), \\quad f'(z^{3}) = a^{3} \\odot (1 - a^{3})");
  });

  it("states the fused forms: softmax cross-entropy → p − y, sigmoid with cross-entropy → a − y, ½(e − t)² → e − t", async () => {
    const mnist = (await explainExample("mnist_mlp")).markdown;
    expect(mnist).toContain("L = \\operatorname{logsumexp}(z^{2}) - \\sum (y \\odot z^{2})");
    expect(mnist).toContain("\\delta^{2} = \\frac{\\partial L}{\\partial z^{2}} = \\exp(z^{2} - \\operatorname{logsumexp}(z^{2})) - y = p - y");
    const xor = (await explainExample("xor_sigmoid")).markdown;
    expect(xor).toContain("= \\sigma(z^{2}) - y = a^{2} - y");
    const chain = (await explainExample("chain3")).markdown;
    expect(chain).toContain("The backward pass does not compute $\\delta_{e}$: it is the node $e - t$ the forward pass already computes for the loss.");
  });

  it("counts operations: forward, backward and the naive per-parameter trees", async () => {
    const md = (await explainExample("chain3")).markdown;
    expect(md).toContain("| forward pass to the loss (`loss`) | 7 | 0 |");
    expect(md).toContain("| backward sweep (what `gradient` adds) | 8 | 0 |");
    expect(md).toContain("| naive: each parameter's derivative as its own expression tree, plus the forward pass | 31 | 0 |");
  });
});

describe("naiveOps", () => {
  /** The tree cost by expanding the tree: exponential in general, fine for small nets. */
  const expanded = (n: Node): number => work(n) + n.inputs.reduce((s, i) => s + expanded(i), 0);

  it("equals the size of each gradient's expression tree, without building it", async () => {
    for (const name of ["chain3", "xor_sigmoid", "mse_sigmoid"]) {
      const { net, grads } = await compileForInspection(example(name));
      const counts = naiveOps(net, grads, { perSample: 100, perCall: 1 });
      for (const { name: param, ops } of counts.perParam) {
        const grad = grads.byParam.get(net.params.find((p) => p.name === param)?.node as Node) as Node;
        expect(ops.perSample + ops.perCall, `${name} ${param}`).toBe(expanded(grad));
      }
      const sum = counts.perParam.reduce((s, p) => s + p.ops.perSample, 100);
      expect(counts.total.perSample).toBe(sum);
      expect(counts.total.perCall).toBe(1 + counts.perParam.reduce((s, p) => s + p.ops.perCall, 0));
    }
  });

  it("counts chain3's gradient trees by hand: 8 operations per parameter", async () => {
    const { net, grads } = await compileForInspection(example("chain3"));
    // d_w1 = mean(((((w3·(w2·(w1·x))) − t)·w3)·w2)·x): 4 forward products/subtraction + 3 products + 1 mean
    expect(naiveOps(net, grads, { perSample: 7, perCall: 0 }).perParam.map((p) => p.ops.perSample)).toEqual([8, 8, 8]);
  });
});

describe("escaping", () => {
  it("escapes names for LaTeX, and KaTeX typesets them", () => {
    expect(latexName("w1", "equations")).toBe("w_{1}");
    expect(latexName("W2", "layers")).toBe("W^{2}");
    expect(latexName("h_out", "equations")).toBe("\\mathit{h\\_out}");
    expect(latexName("p$1", "layers")).toBe("\\mathit{p\\$1}");
    expect(escapeLatex("a\\b{c}^d~e%f#g&h")).toBe("a\\backslash{}b\\{c\\}\\hat{}d\\sim{}e\\%f\\#g\\&h");
    for (const name of ["h_out", "p$1", "x_1_2", "__"]) {
      expect(() => katex.renderToString(latexName(name, "equations"), { throwOnError: true, strict: "error" })).not.toThrow();
    }
  });

  it("explains an equation net with underscores in its names, escaped in Markdown and HTML", async () => {
    const dir = tempDir();
    const spec = {
      name: "odd_names",
      params: { w_in: { shape: [2, 3] }, b_h: { shape: [2] }, v__1: { shape: [2] } },
      inputs: { x_raw: [3] },
      targets: { t_t: [] },
      equations: ["h_1 = tanh(w_in * x_raw + b_h)", "out_val = dot(v__1, h_1)"],
      output: "out_val",
      loss: "0.5 * (out_val - t_t)^2",
    };
    const file = join(dir, "odd.json");
    writeFileSync(file, JSON.stringify(spec));
    const page = await explain(await compileForInspection(file));
    expect(page.markdown).toContain("# The derivation of odd\\_names");
    expect(page.markdown).toContain("\\mathit{h\\_1} = \\tanh(\\mathit{w\\_in}\\, \\mathit{x\\_raw} + \\mathit{b\\_h})");
    expect(page.html).not.toContain("katex-error");
    expect(page.html).toContain("<title>The derivation of odd_names</title>");
  });
});

describe("the derivation (HTML)", () => {
  it("is one self-contained page: formulas typeset at build time, fonts inlined, no script, no network", async () => {
    const { html } = await explainExample("xor_sigmoid");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('class="katex"');
    expect(html).not.toContain("katex-error");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)|url\(fonts\//);
    expect(html).toContain("url(data:font/woff2;base64,");
    expect(html).toContain("<svg");
    expect(html).toContain('<h3 id="step-1">');
  });

  it("is deterministic", async () => {
    const a = await explain(await compileForInspection(example("chain3")));
    const b = await explain(await compileForInspection(example("chain3")));
    expect(b.html).toBe(a.html);
    expect(b.markdown).toBe(a.markdown);
  });

  it("explains every example", async () => {
    for (const name of EXAMPLES) {
      const { markdown, html } = await explainExample(name);
      expect(markdown, name).toContain("## Backward pass");
      expect(html, name).toContain('class="katex"');
    }
  });
});

describe("bpgen explain (command line)", () => {
  it("writes <name>.md and <name>.html into --out; --no-graph leaves the picture out", () => {
    const dir = tempDir();
    const run = bpgen(["explain", example("chain3"), "-o", dir]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(join(dir, "chain3.md"));
    expect(readFileSync(join(dir, "chain3.md"), "utf8")).toContain("result2 · w2 · x");
    expect(readFileSync(join(dir, "chain3.html"), "utf8")).toContain("<svg");
    expect(bpgen(["explain", example("chain3"), "--no-graph", "-o", join(dir, "bare")]).code).toBe(0);
    expect(readFileSync(join(dir, "bare", "chain3.html"), "utf8")).not.toContain("<svg");
  });

  it("exits 2 on bad input, naming the problem, and writes nothing", () => {
    const dir = tempDir();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{ "name": "bad", "input": 2, "layers": [{ "type": "dense", "units": 0 }], "loss": "mse" }');
    const run = bpgen(["explain", bad, "-o", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.json:\d+:\d+: error/);
    expect(readdirSync(dir)).toEqual(["bad.json"]);
  });
});
