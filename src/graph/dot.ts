/**
 * The expression DAG as Graphviz DOT: one node per value, labelled with its name (as the generated module
 * calls it), op and shape; forward values and gradient values in two colours; parameters, inputs, targets,
 * the loss and the objective by shape; deltas shared by several parameter gradients in red with their count.
 * Constants are drawn once per use, beside their reader, so they do not pull edges across the picture.
 * A recurrence's cell is drawn once, in a frame of its own (loops.ts), its carries fed by their initial values and,
 * along a loop edge, by their next values: the picture does not grow with the number of steps.
 */
import { type Node, shapeText } from "../ir/node.ts";
import { type DagView, displayName, isSharedDelta } from "./dag.ts";
import { type Attrs, attrList, labelLines, quoted } from "./dot-text.ts";
import { type DrawnLoop, carryName, drawnLoops, loopMeaning, loopTitle } from "./loops.ts";
import { meaning } from "./roles.ts";
import { EDGE, STYLE, header, legend } from "./style.ts";

export interface DotOptions {
  /** Leave out the values only the gradients need. */
  forwardOnly?: boolean;
}

export function dagToDot(view: DagView, options: DotOptions = {}): string {
  const drawn = view.nodes.filter((n) => n.op !== "const" && (!options.forwardOnly || view.forward.has(n)));
  const shared = drawn.some((n) => isSharedDelta(view, n));
  const lines = header(view.compiled.net.name, title(view, drawn, options));
  const loops = drawnLoops(view, drawn);
  const inLoop = new Set(loops.flatMap((l) => l.nodes));
  for (const n of drawn) if (!inLoop.has(n)) lines.push(`  n${n.id}${attrList(nodeAttrs(view, n))};`);
  for (const loop of loops) lines.push(...loopFrame(view, loop));
  for (const n of drawn) lines.push(...edgesInto(view, n));
  const shown = new Set(drawn);
  for (const loop of loops) lines.push(...carryEdges(view, loop, shown));
  lines.push(...legend(shared && !options.forwardOnly), "}", "");
  return lines.join("\n");
}

function title(view: DagView, drawn: readonly Node[], options: DotOptions): string {
  const { net } = view.compiled;
  const forward = drawn.filter((n) => view.forward.has(n)).length;
  const what = options.forwardOnly ? "forward pass" : "forward and backward passes";
  const counts = options.forwardOnly ? `${forward} nodes` : `${forward} forward + ${drawn.length - forward} gradient nodes`;
  return `${net.name}: ${what} (${counts})`;
}

function nodeAttrs(view: DagView, n: Node): Attrs {
  const { net } = view.compiled;
  const shared = isSharedDelta(view, n);
  const base = n === net.objective ? STYLE.objective : n === net.loss ? STYLE.loss : (leafStyle(n) ?? (view.forward.has(n) ? STYLE.forward : STYLE.backward));
  return { label: labelLines(labelOf(view, n)), ...base, ...(shared ? STYLE.shared : {}), ...(n === net.output ? STYLE.output : {}), tooltip: tooltip(view, n) };
}

/** Name (as the module calls it), meaning (∂L/∂z), op and shape; then the sharing count and the output mark. */
function labelOf(view: DagView, n: Node): string[] {
  const name = displayName(view, n);
  const stored = view.codeNames.has(n) || n.inputs.length === 0;
  const what = meaning(view, n) ?? loopMeaning(view, n);
  return [
    ...(name ? [stored ? name : `${name} (not stored)`] : []),
    ...(what ? [what] : []),
    `${n.op} ${shapeText(n.shape)}`,
    ...(isSharedDelta(view, n) ? [`shared: ×${view.usedBy(n).length} gradients`] : []),
    ...(n === view.compiled.net.output ? ["(output)"] : []),
  ];
}

function leafStyle(n: Node): Attrs | undefined {
  return n.op === "param" ? STYLE.param : n.op === "input" ? STYLE.input : n.op === "target" ? STYLE.target : undefined;
}

/** Hover text: which parameter gradients read this value. */
function tooltip(view: DagView, n: Node): string {
  const users = view.usedBy(n).map((p) => p.name);
  return users.length > 0 ? `read by the gradients of ${users.join(", ")}` : view.forward.has(n) ? "forward value" : "gradient value";
}

/** The cell's values inside a frame labelled with the loop over t. */
function loopFrame(view: DagView, loop: DrawnLoop): string[] {
  const colour = loop.sweep ? EDGE.backward.color : STYLE.forward.color;
  return [
    `  subgraph cluster_loop${loop.recurrence.id} {`,
    `    graph [label=${labelLines([loopTitle(loop)])}, style="dashed,rounded", color=${quoted(colour)}, fontcolor=${quoted(colour)}, fontsize=11];`,
    ...loop.nodes.map((n) => `    n${n.id}${attrList(nodeAttrs(view, n))};`),
    "  }",
  ];
}

/**
 * Into each carry: its initial value (before the first step) and, along the loop edge, its next value (the
 * step's h_t, which the following step reads as h_{t−1}); a constant initial value is drawn beside the carry.
 */
function carryEdges(view: DagView, loop: DrawnLoop, shown: ReadonlySet<Node>): string[] {
  const lines: string[] = [];
  const colour = loop.sweep ? EDGE.backward.color : EDGE.forward.color;
  loop.recurrence.carries.forEach((carry, k) => {
    if (!shown.has(carry.leaf)) return;
    const to = `n${carry.leaf.id}`;
    if (shown.has(carry.init)) lines.push(`  n${carry.init.id} -> ${to}${attrList({ color: colour, label: labelLines(["initial"]), fontsize: 9 })};`);
    else if (carry.init.op === "const") lines.push(`  c${carry.init.id}_${carry.leaf.id}_init${attrList({ label: labelLines([String(carry.init.attr)]), ...STYLE.constant })};`, `  c${carry.init.id}_${carry.leaf.id}_init -> ${to}${attrList({ color: colour })};`);
    const name = carryName(view, carry, k);
    const back = { color: colour, style: "bold", constraint: "false", label: labelLines([`${name}: next step`]), fontsize: 9, fontcolor: colour };
    if (shown.has(carry.next)) lines.push(`  n${carry.next.id} -> ${to}${attrList(back)};`);
  });
  return lines;
}

function edgesInto(view: DagView, n: Node): string[] {
  const into = view.forward.has(n) ? "forward" : "backward";
  const lines: string[] = [];
  [...new Set(n.inputs)].forEach((input, k) => {
    const from = input.op === "const" ? `c${input.id}_${n.id}_${k}` : `n${input.id}`;
    if (input.op === "const") lines.push(`  ${from}${attrList({ label: labelLines([String(input.attr)]), ...STYLE.constant })};`);
    const style = into === "forward" ? EDGE.forward : view.forward.has(input) && input.op !== "const" ? EDGE.reuse : EDGE.backward;
    lines.push(`  ${from} -> n${n.id}${attrList(style)};`);
  });
  return lines;
}
