/**
 * `bpgen graph`: the DAG as DOT (golden files for chain3, xor_sigmoid and mnist_mlp's one-box-per-layer view)
 * and SVG; shared deltas highlighted with their use count; forward-only and collapsed views; the module's
 * names and comment lines as read off the kernel IR, checked against the generated files; escaping; every
 * example; the command line. Regenerate goldens with UPDATE_GOLDEN=1 (see helpers/golden.ts).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { instance } from "@viz-js/viz";
import { codeNames, gradientNotes } from "../src/graph/code-names.ts";
import { compileForInspection } from "../src/graph/compiled.ts";
import { viewDag, isSharedDelta } from "../src/graph/dag.ts";
import { attrList, labelLines, quoted } from "../src/graph/dot-text.ts";
import { drawDag } from "../src/graph/draw.ts";
import { ROOT, bpgen, tempDir } from "./helpers/cli.ts";
import { expectGolden } from "./helpers/golden.ts";
import { kernelText } from "./helpers/kernel-text.ts";

/** Relative to the working directory (the repo root under vitest), as a user would name it. */
const example = (name: string) => relative(process.cwd(), join(ROOT, "examples", `${name}.json`));
const EXAMPLES = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json")).map((f) => f.replace(/\.json$/, ""));

describe("the DAG as DOT", () => {
  it("matches the golden files for chain3 and xor_sigmoid, and mnist_mlp one box per layer", async () => {
    expectGolden("chain3.dot", (await drawDag(await compileForInspection(example("chain3")))).dot);
    expectGolden("xor_sigmoid.dot", (await drawDag(await compileForInspection(example("xor_sigmoid")))).dot);
    expectGolden("mnist_mlp.layers.dot", (await drawDag(await compileForInspection(example("mnist_mlp")), { collapse: true })).dot);
  });

  it("highlights chain3's shared deltas with the number of gradients reading them: d_e ×3, d_z ×2, not d_y", async () => {
    const { dot } = await drawDag(await compileForInspection(example("chain3")));
    expect(dot).toContain('label="d_e\\n∂L/∂e\\nsub []\\nshared: ×3 gradients"');
    expect(dot).toContain('label="d_z\\n∂L/∂z\\nmul []\\nshared: ×2 gradients"');
    expect(dot).toMatch(/label="d_y\\n∂L\/∂y\\nmul \[\]", shape="box", style="rounded,filled", fillcolor="#ffedd5", color="#c2410c"/);
    expect(dot).toContain('label="d_w1\\n∂J/∂w1\\nbatchMean []"');
  });

  it("colours forward and gradient values apart and marks parameters, inputs, targets, the loss and the objective", async () => {
    const { dot } = await drawDag(await compileForInspection(example("xor_sigmoid")));
    const line = (label: string) => dot.split("\n").find((l) => l.includes(`label="${label}`)) ?? "";
    expect(line("W1\\nparam")).toContain('fillcolor="#dcfce7"');
    expect(line("x\\ninput")).toContain('shape="invhouse"');
    expect(line("y\\ntarget")).toContain('shape="house"');
    expect(line("a1\\nsigmoid")).toContain('fillcolor="#dbeafe"');
    expect(line("d_a1\\n")).toContain('fillcolor="#ffedd5"');
    expect(line("L ")).toContain('shape="octagon"');
    expect(line("meanL\\n")).toContain('shape="doubleoctagon"');
    expect(line("d_z2\\n")).toContain("shared: ×4 gradients");
  });

  it("counts as shared exactly the deltas read by more than one parameter gradient", async () => {
    const view = viewDag(await compileForInspection(example("mnist_mlp")));
    const shared = view.nodes.filter((n) => isSharedDelta(view, n)).map((n) => `${view.codeNames.get(n)} ×${view.usedBy(n).length}`);
    expect(shared).toEqual(["d_z2 ×4", "d_a1 ×2", "d_z1 ×2"]);
  });

  it("draws the forward pass only with --forward-only", async () => {
    const { dot, variant } = await drawDag(await compileForInspection(example("chain3")), { forwardOnly: true });
    expect(variant).toBe(".forward");
    expect(dot).toContain('label="e\\nmul []\\n(output)"');
    expect(dot).not.toMatch(/d_w\d|d_z|#ffedd5"\]/);
  });

  it("collapses a layer net into one box per layer, forward and backward", async () => {
    const { dot } = await drawDag(await compileForInspection(example("deep_l2")), { collapse: true });
    for (let l = 1; l <= 5; l++) {
      expect(dot).toContain(`label="layer ${l}\\nW${l} [`);
      expect(dot).toContain(`label="layer ${l} backward\\n`);
    }
    expect(dot).toContain('label="regularizer\\n');
    expect(dot).toContain('label="loss\\n');
    expect(dot.split("\n").filter((l) => /^ {2}g\d+ \[/.test(l))).toHaveLength(14);
  });

  it("is deterministic, DOT and SVG, and the SVG is a Graphviz drawing", async () => {
    const c = await compileForInspection(example("xor_sigmoid"));
    const [a, b] = [await drawDag(c), await drawDag(await compileForInspection(example("xor_sigmoid")))];
    expect(b.dot).toBe(a.dot);
    expect(b.svg).toBe(a.svg);
    expect(a.svg).toMatch(/<svg[^>]*width="\d+pt"/);
    expect(a.svg).toContain("d_z2");
  });

  it("draws every example, full and collapsed", async () => {
    for (const name of EXAMPLES) {
      const c = await compileForInspection(example(name));
      // Graphviz takes most of a minute to lay out the 700 edges of ten batch-normalised layers: those are drawn collapsed only
      const full = viewDag(c).nodes.length <= FULL_DRAWING_LIMIT;
      for (const collapse of full ? [false, true] : [true]) {
        const { svg } = await drawDag(c, { collapse });
        expect(svg, `${name}${collapse ? " --collapse" : ""}`).toContain("<svg");
      }
    }
  });
});

/** The largest DAG the test above draws in full. */
const FULL_DRAWING_LIMIT = 400;

describe("the module's names and comments, from the kernel IR", () => {
  it("names exactly identifiers of the generated module, and no value it computes in place (chain3's L)", async () => {
    const compiled = await compileForInspection(example("chain3"));
    const names = codeNames(compiled);
    const source = readFileSync(join(ROOT, "generated", "chain3.ts"), "utf8");
    const words = new Set(source.split(/[^\w$]+/));
    for (const name of names.values()) expect(words.has(name), name).toBe(true);
    expect([...names.values()].sort()).toEqual(["d_e", "d_w1", "d_w2", "d_w3", "d_y", "d_z", "e", "meanL", "t", "w1", "w2", "w3", "x", "y", "z"]);
    const loss = viewDag(compiled).nodes.find((n) => compiled.net.graph.hint(n) === "L");
    expect(loss && names.has(loss)).toBe(false);
  });

  it("prints each gradient note as the comment line the module's gradient kernel has, for every example", async () => {
    for (const name of EXAMPLES) {
      const generated = join(ROOT, "generated", `${name}.ts`);
      if (!existsSync(generated)) continue;
      const compiled = await compileForInspection(example(name));
      const gradient = kernelText(readFileSync(generated, "utf8"), "gradient");
      const notes = gradientNotes(compiled);
      expect(notes.size, name).toBeGreaterThan(0);
      const names = codeNames(compiled);
      for (const [node, line] of notes) {
        expect(gradient, `${name}: // ${line}`).toContain(`// ${line}\n`);
        expect(line.startsWith(`${names.get(node)} `), line).toBe(true);
      }
    }
  });
});

describe("DOT escaping", () => {
  it("escapes quotes and backslashes so a label cannot end early or form a Graphviz escape", () => {
    expect(quoted('a"b')).toBe('"a\\"b"');
    expect(quoted("a\\N")).toBe('"a\\\\N"');
    expect(quoted("line\nbreak")).toBe('"line break"');
    expect(labelLines(['x"];evil[', "y"])).toBe('"x\\"];evil[\\ny"');
    expect(attrList({ label: labelLines(["a"]), color: 'r"ed', penwidth: 2, unset: undefined })).toBe(' [label="a", color="r\\"ed", penwidth=2]');
  });

  it("keeps a hostile-looking label one node, drawn literally, when Graphviz renders it", async () => {
    const viz = await instance();
    const dot = `digraph g { n0 [label=${labelLines(['x"] ; n1 -> n2 [label="', "\\G\\N"])}]; }`;
    const svg = viz.renderString(dot, { format: "svg" });
    expect(svg.match(/class="node"/g)).toHaveLength(1);
    // unescaped, Graphviz would draw \G as the graph's name and \N as the node's
    expect(svg).toContain(">x&quot;] ; n1 &#45;&gt; n2 [label=&quot;</text>");
    expect(svg).toContain(">\\G\\N</text>");
  });
});

describe("bpgen graph (command line)", () => {
  it("writes <name>.dot and <name>.svg into --out, and variants for --forward-only and --collapse", () => {
    const dir = tempDir();
    const run = bpgen(["graph", example("chain3"), example("xor_sigmoid"), "-o", dir]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const f of ["chain3.dot", "chain3.svg", "xor_sigmoid.dot", "xor_sigmoid.svg"]) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readFileSync(join(dir, "chain3.svg"), "utf8")).toContain("<svg");
    expect(bpgen(["graph", example("mnist_mlp"), "--forward-only", "--collapse", "-o", dir]).code).toBe(0);
    expect(existsSync(join(dir, "mnist_mlp.forward.layers.svg"))).toBe(true);
  });

  it("exits 2 on bad input and writes nothing, not even for the good inputs", () => {
    const dir = tempDir();
    const run = bpgen(["graph", example("chain3"), join(dir, "missing.json"), "-o", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing\.json.*no such file/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
