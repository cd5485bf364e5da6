/** Colours and shapes of the pictures: forward values blue, gradient values orange, shared deltas red. */
import { type Attrs, attrList, labelLines, quoted } from "./dot-text.ts";

const FONT = "Helvetica";

export const STYLE = {
  forward: { shape: "box", style: "rounded,filled", fillcolor: "#dbeafe", color: "#1e40af" },
  backward: { shape: "box", style: "rounded,filled", fillcolor: "#ffedd5", color: "#c2410c" },
  param: { shape: "box", style: "filled", fillcolor: "#dcfce7", color: "#15803d", penwidth: 1.5 },
  input: { shape: "invhouse", style: "filled", fillcolor: "#f3f4f6", color: "#374151" },
  target: { shape: "house", style: "filled", fillcolor: "#f3f4f6", color: "#374151" },
  loss: { shape: "octagon", style: "filled", fillcolor: "#dbeafe", color: "#1e40af", penwidth: 2 },
  objective: { shape: "doubleoctagon", style: "filled", fillcolor: "#dbeafe", color: "#1e40af", penwidth: 2 },
  constant: { shape: "plaintext", fontcolor: "#6b7280", fontsize: 9 },
  /** Added on top of a node's own style. */
  shared: { color: "#dc2626", penwidth: 3, fontcolor: "#991b1b" },
  output: { peripheries: 2 },
} satisfies Record<string, Attrs>;

export const EDGE = {
  forward: { color: "#64748b" },
  /** Into a gradient value. */
  backward: { color: "#ea580c" },
  /** A forward value reused by the backward pass. */
  reuse: { color: "#ea580c", style: "dashed" },
} satisfies Record<string, Attrs>;

/** The opening lines of a graph; `name` is made an identifier, `title` is escaped. */
export function header(name: string, title: string): string[] {
  return [
    `digraph bpgen_${name.replace(/[^A-Za-z0-9_]/g, "_")} {`,
    `  graph [rankdir=TB, fontname=${quoted(FONT)}, fontsize=13, labelloc=t, nodesep=0.25, ranksep=0.3, label=${quoted(title)}];`,
    `  node [fontname=${quoted(FONT)}, fontsize=11, margin="0.08,0.04"];`,
    "  edge [arrowsize=0.6];",
  ];
}

/** A key to the colours: a row of sample nodes in a box of its own. */
export function legend(withShared: boolean): string[] {
  const items: [string, string, Attrs][] = [
    ["legend_f", "forward value", STYLE.forward],
    ["legend_b", "gradient value", STYLE.backward],
    ["legend_p", "parameter", STYLE.param],
    ["legend_x", "input", STYLE.input],
    ["legend_y", "target", STYLE.target],
    ["legend_l", "loss / objective", STYLE.loss],
    ...(withShared ? [["legend_s", "shared delta: ×n gradients", { ...STYLE.backward, ...STYLE.shared }] as [string, string, Attrs]] : []),
  ];
  return [
    "  subgraph cluster_legend {",
    `    graph [label="key", fontsize=10, color="#d1d5db"];`,
    "    node [fontsize=9];",
    ...items.map(([id, text, attrs]) => `    ${id}${attrList({ label: labelLines([text]), ...attrs })};`),
    `    ${items.map(([id]) => id).join(" -> ")} [style=invis];`,
    "  }",
  ];
}
