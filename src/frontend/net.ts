/** What a front end produces: the DAG of one network, with its leaves in layout order. */
import type { Graph } from "../ir/graph.ts";
import type { Node, Shape } from "../ir/node.ts";

/** How initParams fills one parameter. */
export type InitPlan =
  | { kind: "constant"; value: number }
  | { kind: "xavier"; fanIn: number; fanOut: number }
  | { kind: "he"; fanIn: number };

export interface Leaf {
  readonly name: string;
  readonly node: Node;
  readonly shape: Shape;
}

export interface ParamLeaf extends Leaf {
  readonly init: InitPlan;
}

export interface Net {
  readonly name: string;
  readonly graph: Graph;
  /** In flat-vector order. */
  readonly params: readonly ParamLeaf[];
  /** Concatenated, in this order, into each sample's x row. */
  readonly inputs: readonly Leaf[];
  /** Concatenated, in this order, into each sample's y row. */
  readonly targets: readonly Leaf[];
  /** What `forward` writes, per sample. */
  readonly output: Node;
  /** The per-sample loss L. */
  readonly loss: Node;
  /** J = mean over the batch of L, plus the regularizer. */
  readonly objective: Node;
}

/**
 * Fan-in and fan-out of a parameter of the given shape: [out, in] for matrices (W * x); for a filter of rank 3 or
 * more, [taps..., in, out] as conv2d takes it, each tap counted (so a 3×3 filter from 8 channels has fan-in 72).
 */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[1], fanOut: shape[0] };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  const taps = shape.slice(0, -2).reduce((p, s) => p * s, 1);
  return { fanIn: taps * shape[shape.length - 2], fanOut: taps * shape[shape.length - 1] };
}
