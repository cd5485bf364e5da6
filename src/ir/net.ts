/** What a front end produces and the later stages read: the DAG of one network, with its leaves in layout order. */
import type { Graph } from "./graph.ts";
import type { Node, Shape } from "./node.ts";

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

/** How initState fills one state value: a constant, or initState's seed (the dropout generator's). */
export type StateInit = { kind: "constant"; value: number } | { kind: "seed" };

/** A value kept between calls that is not a parameter (a `state` leaf): running statistics, a generator's seed and step. */
export interface StateLeaf extends Leaf {
  readonly init: StateInit;
}

/**
 * A network's training mode: what it computes while training (dropout on, batch statistics) and how a
 * training step changes its state. The net's own output, loss and objective are then its inference mode.
 */
export interface TrainingMode {
  readonly output: Node;
  readonly loss: Node;
  readonly objective: Node;
  /** Each state leaf's node → its value after a training step (leaves not listed keep theirs). */
  readonly updates: ReadonlyMap<Node, Node>;
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
  /** Values kept between calls, in flat-vector order (none: a stateless network, as most are). */
  readonly state?: readonly StateLeaf[];
  /** The training mode of a network with modes; without it, training and inference compute the same. */
  readonly training?: TrainingMode;
  /** The layers of a layer-form net, in order, as the builder made them (explain and graph read them). */
  readonly layers?: readonly NetLayer[];
}

/** One layer of a layer-form net: what it is and which of the DAG's values and parameters are its own. */
export interface NetLayer {
  /** The JSON "type": "dense", "conv2d", … */
  readonly type: string;
  /** How explain and graph name it: "conv2d 3×3, 8 filters". */
  readonly title: string;
  /** Its place from 1, a nested layer's after an underscore ("3", "3_1"); its values and parameters are named with it. */
  readonly label: string;
  /** Its JSON path: "layers[2]", "layers[2].layers[0]". */
  readonly path: string;
  /** The layers inside it (a residual block's), in order. */
  readonly inner: readonly NetLayer[];
  readonly input: Node;
  readonly output: Node;
  /** The value its activation is applied to (z), when it has one. */
  readonly preActivation?: Node;
  /** Its own parameters (not those of the layers inside it), in the flat order. */
  readonly params: readonly LayerParam[];
}

/** A layer's parameter, with what it is to the layer: "weight", "bias", "gain", "projection". */
export interface LayerParam extends ParamLeaf {
  readonly role: string;
}

/** Whether the module of `net` takes a state array (and has trainingForward, trainingLoss, initState). */
export function isStateful(net: Net): boolean {
  return (net.state ?? []).length > 0 || net.training !== undefined;
}

/** What the gradient differentiates: the training objective when the network has modes. */
export const trainingObjective = (net: Net): Node => net.training?.objective ?? net.objective;

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

/**
 * Whether the per-sample loss is the softmax cross-entropy of the output against one target of its shape,
 * logsumexp(z) − Σ y ⊙ z (the form the layer form builds, and the stable rewrites give equations): the output
 * is then the logits of a classifier, and its largest element the predicted class.
 */
export function isSoftmaxClassifier(net: Net): boolean {
  const { loss, output } = net;
  if (loss.op !== "sub" || output.shape.length !== 1) return false;
  const [lse, dot] = loss.inputs;
  if (lse.op !== "logsumexp" || lse.inputs[0] !== output || dot.op !== "sum" || dot.inputs[0].op !== "mul") return false;
  const [a, b] = dot.inputs[0].inputs;
  const target = a === output ? b : b === output ? a : undefined;
  return target !== undefined && target.op === "target" && net.targets.length === 1 && net.targets[0].node === target;
}
