/**
 * `bpgen graph` on recurrences: the cell is drawn once, in a frame that says it loops over t, whatever the number
 * of steps; each carry gets a loop edge from its next value (checked against the recurrence in the IR); with
 * --collapse a recurrent layer is one box with a loop edge naming its carried values and T, its backward box too.
 * The DOT text is checked directly (one small drawing is laid out, to see Graphviz takes the loop edges).
 */
import { describe, expect, it } from "vitest";
import { viewDag } from "../src/graph/dag.ts";
import { layersToDot } from "../src/graph/dot-layers.ts";
import { dagToDot } from "../src/graph/dot.ts";
import type { Compiled } from "../src/graph/compiled.ts";
import { renderSvg } from "../src/graph/svg.ts";
import { type Node, recurrenceOf } from "../src/ir/node.ts";
import { compileCell, compileSpec, lstmSpec } from "./helpers/recurrent-inspection.ts";

const nodeLines = (dot: string) => dot.split("\n").filter((l) => /^\s+(n\d+|g\d+|c\d+_\w+) \[/.test(l));
const edgeLines = (dot: string) => dot.split("\n").filter((l) => l.includes(" -> ") && !l.includes("legend_"));
const compiled = new Map<number, Promise<Compiled>>();
/** The LSTM net over `steps` steps, compiled once for the file. */
const lstm = (steps: number) => compiled.get(steps) ?? (compiled.set(steps, compileSpec(lstmSpec(steps))).get(steps) as Promise<Compiled>);
const drawn = (c: Compiled) => dagToDot(viewDag(c));
const collapsed = (c: Compiled) => layersToDot(viewDag(c), true);

/** The carries of every recurrence in the DAG the picture draws. */
function carriesOf(c: Compiled): { leaf: Node; next: Node; length: number }[] {
  const leaves = viewDag(c).nodes.filter((n) => n.op === "carry");
  return leaves.map((leaf) => {
    const r = recurrenceOf(leaf);
    const carry = r.carries.find((k) => k.leaf === leaf);
    if (!carry) throw new Error(`carry #${leaf.id} is not one of its recurrence's carries`);
    return { leaf, next: carry.next, length: r.length };
  });
}

describe("a recurrence in the DAG picture", () => {
  it("has as many nodes and edges for an LSTM over 64 steps as over 8: the cell is drawn once", async () => {
    const [short, long] = await Promise.all([lstm(8), lstm(64)]);
    for (const draw of [drawn, collapsed]) {
      const [a, b] = [draw(short), draw(long)];
      expect(nodeLines(b)).toHaveLength(nodeLines(a).length);
      expect(edgeLines(b)).toHaveLength(edgeLines(a).length);
    }
    // the forward loop and the reverse sweep: two frames, each holding its own carries h1, c1 and d_h1, d_c1
    const dot = drawn(long);
    expect(dot.match(/subgraph cluster_loop\d+ \{/g)).toHaveLength(2);
    expect(dot).toContain('label="loop over t = 1 … 64: the cell once per step"');
    expect(dot).toContain('label="reverse sweep (BPTT) over t = 64 … 1: the cell once per step"');
    expect(carriesOf(long).map((c) => c.length)).toEqual([64, 64, 64, 64]);
  });

  it("feeds each carry from its next value along a loop edge, and from its initial value", async () => {
    const c = await lstm(8);
    const dot = drawn(c);
    const carries = carriesOf(c);
    expect(carries).toHaveLength(4);
    const names = new Map(carries.map((k) => [k, viewDag(c).codeNames.get(k.leaf)]));
    expect([...names.values()].sort()).toEqual(["c1", "d_c1", "d_h1", "h1"]);
    expect(dot).toContain('label="h1\\nvalue of step t − 1\\ncarry [4]"');
    expect(dot).toContain('label="d_c1\\ncarried back from step t + 1\\ncarry [4]');
    expect(dot).toContain('label="row t of x\\nstep [3]"');
    for (const carry of carries) {
      const edge = edgeLines(dot).find((l) => l.startsWith(`  n${carry.next.id} -> n${carry.leaf.id} `));
      expect(edge, `loop edge into ${names.get(carry)}`).toBeDefined();
      expect(edge).toContain(`label="${names.get(carry)}: next step"`);
      expect(edge).toContain('constraint="false"');
      const initial = edgeLines(dot).filter((l) => l.includes(`-> n${carry.leaf.id} `) && l.includes('label="initial"'));
      expect(initial, `initial value of ${names.get(carry)}`).toHaveLength(1);
    }
  });

  it("puts every value of a cell inside its frame, and nothing else", async () => {
    const c = await lstm(8);
    const dot = drawn(c);
    const frames = [...dot.matchAll(/subgraph cluster_loop(\d+) \{\n([\s\S]*?)\n {2}\}/g)];
    expect(frames).toHaveLength(2);
    const view = viewDag(c);
    for (const [, id, body] of frames) {
      const inside = [...body.matchAll(/^ {4}n(\d+) \[/gm)].map((m) => Number(m[1]));
      const cell = view.nodes.filter((n) => n.loop === Number(id) && n.op !== "const").map((n) => n.id);
      expect(inside.sort((a, b) => a - b)).toEqual(cell);
    }
  });

  it("draws a recurrent layer collapsed as one box with a loop edge naming the carried values and T, and its backward box likewise", async () => {
    const c = await lstm(16);
    const dot = collapsed(c);
    const box = (title: string) => /^ {2}(g\d+) \[/.exec(dot.split("\n").find((l) => l.includes(`label="${title}\\n`)) ?? "")?.[1];
    const [forward, backward] = [box("layer 1"), box("layer 1 backward")];
    expect(forward).toBeDefined();
    expect(backward).toBeDefined();
    expect(dot).toMatch(new RegExp(`^ {2}${forward} -> ${forward} \\[.*label="h1, c1 × 16 steps"`, "m"));
    expect(dot).toMatch(new RegExp(`^ {2}${backward} -> ${backward} \\[.*label="d_h1, d_c1 × 16 steps, t = T … 1"`, "m"));
    // the carries are the layer's, not loose values of an "inputs" box
    expect(dot).not.toContain('label="inputs\\n');
    // one loop edge per recurrence, none for the dense layer
    expect(edgeLines(dot).filter((l) => /^ {2}(g\d+) -> \1 /.test(l))).toHaveLength(2);
    const svg = await renderSvg(dot);
    expect(svg).toContain("h1, c1 × 16 steps");
  });

  it("draws each loop edge once, on the box of its carried values, for stacked and bidirectional layers", async () => {
    const spec = {
      name: "stacked",
      input: [6, 3],
      layers: [{ type: "lstm", units: 4, bidirectional: true, return_sequences: true }, { type: "gru", units: 2 }, { type: "dense", units: 1 }],
      loss: "mse",
    };
    const dot = collapsed(await compileSpec(spec));
    const loops = edgeLines(dot).filter((l) => /^ {2}(g\d+) -> \1 /.test(l));
    const labels = loops.map((l) => /label="([^"]*)"/.exec(l)?.[1]);
    // three forward recurrences and their three sweeps; the gru's sweep is not drawn again on layer 1's backward box
    expect(labels.sort()).toEqual(
      ["h1_reverse, c1_reverse × 6 steps, t = T … 1", "d_h1, d_c1 × 6 steps, t = T … 1", "d_h1_reverse, d_c1_reverse × 6 steps", "d_h2 × 6 steps, t = T … 1", "h1, c1 × 6 steps", "h2 × 6 steps"].sort(),
    );
  });

  it("draws a hand-built cell that runs backwards over its sequence, with the reverse sweep running forwards", async () => {
    const c = await compileCell({ kind: "lstm", steps: 5, features: 2, units: 3, everyStep: true, reverse: true });
    const dot = drawn(c);
    expect(dot).toContain('label="loop over t = 5 … 1: the cell once per step"');
    expect(dot).toContain('label="reverse sweep (BPTT) over t = 1 … 5: the cell once per step"');
    expect(dot).toContain('label="h: next step"');
    expect(dot).toContain('label="d_h: next step"');
    const boxes = layersToDot(viewDag(c), false);
    expect(boxes).toMatch(/label="h, c × 5 steps, t = T … 1"/);
    expect(boxes).toMatch(/label="d_h, d_c × 5 steps"/);
  });
});
