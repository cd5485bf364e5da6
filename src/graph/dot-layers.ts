/**
 * The DAG with each layer collapsed into one box (for large nets): a box per layer of the forward pass, one
 * per layer of the backward pass, the loss and the regularizer; inputs and targets stay single nodes. A box
 * lists its parameters and the named values inside it, and is drawn red when it holds a shared delta. A box that
 * runs a recurrence (a recurrent layer, or its reverse sweep) holds the cell once, with a loop edge of its own
 * labelled with the carried values and the number of steps.
 */
import { shapeText } from "../ir/node.ts";
import { work } from "../lower/stats.ts";
import { type DagView, displayName, isSharedDelta } from "./dag.ts";
import { type Attrs, attrList, labelLines } from "./dot-text.ts";
import type { DotOptions } from "./dot.ts";
import { type Group, type Grouping, groupByLayer } from "./groups.ts";
import { drawnLoops, loopEdgeLabel } from "./loops.ts";
import { EDGE, STYLE, header, legend } from "./style.ts";

export function layersToDot(view: DagView, layerNet: boolean, options: DotOptions = {}): string {
  const grouping = groupByLayer(view, layerNet);
  const groups = grouping.groups.filter((g) => !options.forwardOnly || g.kind !== "backward");
  const index = new Map(groups.map((g, k) => [g, k]));
  const lines = header(view.compiled.net.name, `${view.compiled.net.name}: one box per ${layerNet ? "layer" : "step"} (${options.forwardOnly ? "forward pass" : "forward and backward passes"})`);
  for (const g of groups) lines.push(`  g${index.get(g)}${attrList(groupAttrs(view, g))};`);
  for (const [from, to] of groupEdges(view, grouping, index)) {
    const style = to.kind === "backward" ? (from.kind === "backward" ? EDGE.backward : EDGE.reuse) : EDGE.forward;
    lines.push(`  g${index.get(from)} -> g${index.get(to)}${attrList(style)};`);
  }
  for (const g of groups) lines.push(...loopEdges(view, g, index.get(g) as number));
  lines.push(...legend(!options.forwardOnly && groups.some((g) => g.nodes.some((n) => isSharedDelta(view, n)))), "}", "");
  return lines.join("\n");
}

function groupAttrs(view: DagView, g: Group): Attrs {
  const { net } = view.compiled;
  if (g.kind === "leaf") {
    const [leaf] = g.nodes;
    return { label: labelLines([g.title, shapeText(leaf.shape)]), ...(leaf.op === "input" ? STYLE.input : STYLE.target) };
  }
  const params = g.params.map((p) => `${p.name} ${shapeText(p.shape)}`);
  const maxShared = Math.max(0, ...g.nodes.filter((n) => isSharedDelta(view, n)).map((n) => view.usedBy(n).length));
  const named = g.nodes.flatMap((n) => {
    if (n.op === "param") return [];
    const name = view.codeNames.get(n) ?? net.graph.hint(n);
    if (!name) return [];
    return [isSharedDelta(view, n) ? `${name} ×${view.usedBy(n).length}` : name];
  });
  const ops = g.nodes.filter((n) => n.inputs.length > 0);
  const operations = ops.reduce((s, n) => s + work(n), 0);
  const lines = [g.title, ...chunk(params, 3), ...(g.subtitle ? [g.subtitle] : []), ...chunk(named, 4), `${plural(ops.length, "node")}, ${plural(operations, "operation")}`];
  const base = g.kind === "backward" ? STYLE.backward : g.kind === "loss" ? STYLE.loss : STYLE.forward;
  return { label: labelLines(lines), ...base, ...(maxShared > 1 ? STYLE.shared : {}) };
}

/**
 * The box's own loop edge for each recurrence whose carried values it holds: "h1, c1 × 16 steps". A box holding
 * only some values of another layer's cell (the delta a layer's sweep hands to the layer below, step by step) gets
 * none: the loop is drawn once, on the box of its carries.
 */
function loopEdges(view: DagView, g: Group, k: number): string[] {
  const colour = g.kind === "backward" ? EDGE.backward.color : EDGE.forward.color;
  const holds = new Set(g.nodes);
  const own = drawnLoops(view, g.nodes).filter((loop) => loop.recurrence.carries.some((c) => holds.has(c.leaf)));
  return own.map((loop) => `  g${k} -> g${k}${attrList({ color: colour, style: "bold", label: labelLines([loopEdgeLabel(view, loop.recurrence)]), fontsize: 10, fontcolor: colour })};`);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Items joined a few to a line, so a box stays narrow. */
function chunk(items: readonly string[], per: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < items.length; k += per) out.push(items.slice(k, k + per).join(", "));
  return out;
}

/** One edge per pair of boxes that some value flows between, in a stable order. */
function groupEdges(view: DagView, grouping: Grouping, index: ReadonlyMap<Group, number>): [Group, Group][] {
  const seen = new Map<string, [Group, Group]>();
  for (const n of view.nodes) {
    const to = grouping.groupOf.get(n);
    if (!to || !index.has(to)) continue;
    for (const input of n.inputs) {
      const from = grouping.groupOf.get(input);
      if (!from || from === to || !index.has(from)) continue;
      seen.set(`${index.get(from)}>${index.get(to)}`, [from, to]);
    }
  }
  return [...seen.values()];
}
