/**
 * The expression DAG as Graphviz DOT: one node per value, labelled with its name (as the generated module
 * calls it), op and shape; forward values and gradient values in two colours; parameters, inputs, targets,
 * the loss and the objective by shape; deltas shared by several parameter gradients in red with their count.
 * Constants are drawn once per use, beside their reader, so they do not pull edges across the picture.
 */
import { type Node, shapeText } from "../ir/node.ts";
import { type DagView, displayName, isSharedDelta } from "./dag.ts";
import { type Attrs, attrList, labelLines } from "./dot-text.ts";
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
  for (const n of drawn) lines.push(`  n${n.id}${attrList(nodeAttrs(view, n))};`);
  for (const n of drawn) lines.push(...edgesInto(view, n));
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
  const what = meaning(view, n);
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
