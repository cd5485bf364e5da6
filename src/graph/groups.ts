/**
 * Layers, found in the DAG, for drawing a large net as one box per layer. A parameter belongs to the first
 * named value that reads it (W1 and b1 to z1; w2 to z); those owners, in order, are the layers. A forward
 * value sits in the deepest layer it depends on, a gradient value in the deepest layer whose parameter
 * gradient reads it; values that depend on the targets form the loss, values of the parameters alone that
 * only the objective reads form the regularizer. No rule looks at a layer's type. A layer-form net says where
 * its layers are (Net.layers, recorded by the builder): a box per layer, parameters or not (a pooling layer too),
 * a residual block one box, titled with the layer's type.
 */
import type { NetLayer, ParamLeaf } from "../ir/net.ts";
import { type Node, reachable, recurrenceOf } from "../ir/node.ts";
import type { DagView } from "./dag.ts";

export type GroupKind = "forward" | "backward" | "loss" | "regularizer" | "leaf";

export interface Group {
  readonly key: string;
  readonly kind: GroupKind;
  readonly title: string;
  readonly nodes: Node[];
  /** Parameters drawn inside this box (forward layers only). */
  readonly params: ParamLeaf[];
  /** What the layer is, for a layer-form net's forward boxes: "conv2d 3×3, 8 filters". */
  subtitle?: string;
}

export interface Grouping {
  readonly groups: readonly Group[];
  readonly groupOf: ReadonlyMap<Node, Group>;
}

export function groupByLayer(view: DagView, layerNet: boolean): Grouping {
  const { net } = view.compiled;
  const recorded = net.layers;
  const layerOfParam = recorded ? recordedParamLayers(recorded) : paramLayers(view);
  const layerOfNode = recorded ? recordedNodeLayers(recorded, view) : new Map<Node, number>();
  const core = new Set(reachable([net.output, net.loss]));
  const forwardLayer = new Map<Node, number>();
  const onTargets = new Set<Node>();
  const groups = new Map<string, Group>();
  const groupOf = new Map<Node, Group>();
  const word = layerNet ? "layer" : "step";
  const place = (n: Node, key: string, kind: GroupKind, title: string) => {
    const group = groups.get(key) ?? { key, kind, title, nodes: [], params: [] };
    groups.set(key, group);
    group.nodes.push(n);
    groupOf.set(n, group);
  };
  for (const n of view.nodes) {
    if (n.op === "const") continue;
    if (view.backward.has(n)) {
      const k = Math.max(0, ...view.usedBy(n).map((p) => layerOfParam.get(p.node) ?? 0));
      place(n, `b${k}`, "backward", `${word} ${k} backward`);
      continue;
    }
    forwardLayer.set(n, n.op === "param" ? (layerOfParam.get(n) ?? 0) : (layerOfNode.get(n) ?? Math.max(0, ...layerInputs(n).map((i) => forwardLayer.get(i) ?? layerOfParam.get(i) ?? 0))));
    if (n.op === "target" || n.inputs.some((i) => onTargets.has(i))) onTargets.add(n);
    if (n.op === "input" || n.op === "target") place(n, `leaf${n.id}`, "leaf", String(n.attr));
    else if (onTargets.has(n)) place(n, "loss", "loss", "loss");
    else if (!core.has(n)) place(n, "regularizer", "regularizer", "regularizer");
    else {
      const k = forwardLayer.get(n) ?? 0;
      place(n, `f${k}`, "forward", k === 0 ? "inputs" : `${word} ${k}`);
    }
  }
  for (const p of net.params) groups.get(`f${layerOfParam.get(p.node) ?? 0}`)?.params.push(p);
  recorded?.forEach((layer, k) => {
    const box = groups.get(`f${k + 1}`);
    if (box) box.subtitle = layer.title;
  });
  return { groups: [...groups.values()], groupOf };
}

/**
 * What places a forward value in a layer: its inputs; for a recurrence's carry (a leaf of the cell), the
 * parameters its next value reads, since the carry is computed with them, step after step.
 */
function layerInputs(n: Node): readonly Node[] {
  if (n.op !== "carry") return n.inputs;
  const carry = recurrenceOf(n).carries.find((c) => c.leaf === n);
  return carry ? reachable(carry.next).filter((m) => m.op === "param") : [];
}

/** Layer index (from 1) of every parameter of the builder's layers: a block's inner layers' are the block's. */
function recordedParamLayers(layers: readonly NetLayer[]): Map<Node, number> {
  const out = new Map<Node, number>();
  const claim = (l: NetLayer, k: number) => {
    for (const p of l.params) out.set(p.node, k);
    l.inner.forEach((i) => claim(i, k));
  };
  layers.forEach((l, k) => claim(l, k + 1));
  return out;
}

/** Layer index (from 1) of every forward value a layer computes: what its output reads that no earlier layer computed. */
function recordedNodeLayers(layers: readonly NetLayer[], view: DagView): Map<Node, number> {
  const out = new Map<Node, number>();
  layers.forEach((l, k) => {
    // a recurrence's carry (a leaf of its cell) belongs to the layer that runs the recurrence
    for (const n of reachable(l.output)) if (!out.has(n) && view.forward.has(n) && (n.inputs.length > 0 || n.op === "carry")) out.set(n, k + 1);
  });
  return out;
}

/** Layer index (from 1) of every parameter: the rank of the first named forward value that reads it. */
function paramLayers(view: DagView): Map<Node, number> {
  const { net } = view.compiled;
  const params = new Set(net.params.map((p) => p.node));
  const owners = view.nodes.filter((n) => view.forward.has(n) && n.inputs.length > 0 && net.graph.hint(n) !== undefined);
  const layer = new Map<Node, number>();
  let rank = 0;
  for (const owner of owners) {
    const claimed = reachable(owner).filter((n) => params.has(n) && !layer.has(n));
    if (claimed.length === 0) continue;
    rank++;
    for (const p of claimed) layer.set(p, rank);
  }
  return layer;
}
