/**
 * layernorm: each sample normalised over its last axis, then a learned gain and bias per feature (PyTorch's LayerNorm).
 * batchnorm: each channel (the last axis) normalised over the batch and every position, with running statistics
 * for inference (PyTorch's BatchNorm1d/2d/3d).
 */
import type { Graph } from "../../ir/graph.ts";
import type { Node, Shape } from "../../ir/node.ts";
import { shapeText } from "../../ir/node.ts";
import type { BatchNormLayerSpec, LayerNormLayerSpec } from "../../spec/types.ts";
import { toShape } from "../tensors.ts";
import { ONE, ZERO, product } from "./fields.ts";
import { type BuildContext, type Field, type LayerKind, LayerShapeError, type ParamDecl } from "./layer.ts";

export const DEFAULT_EPS = 1e-5;
export const DEFAULT_MOMENTUM = 0.1;

const epsField: Field = {
  schema: { type: "number", exclusiveMinimum: 0, default: DEFAULT_EPS, description: "Added to the variance. Default 1e-5." },
  what: "eps",
  rule: "must be a positive number",
  expected: "a number > 0 such as 1e-5",
  default: "1e-5",
};

export const layernorm: LayerKind<LayerNormLayerSpec> = {
  type: "layernorm",
  title: "layer normalization",
  description: "(x − mean) / √(variance + eps) over the last axis (the biased variance), times a learned gain, plus a learned bias.",
  fields: { eps: epsField },
  required: [],
  outputShape: (_spec, input) => withLastAxis(input, "layernorm needs an input with at least one axis", "[features] or [..., features]"),
  paramsOf: (_spec, input, label) => gainAndBias(input, label),
  sequenceOut: (_spec, sequenceIn) => sequenceIn,
  build(ctx, spec, x) {
    const { g } = ctx;
    const axis = x.shape.length - 1;
    const centred = g.sub(x, along(g, g.meanAlong(x, axis), x, axis));
    const variance = g.meanAlong(g.mul(centred, centred), axis);
    const scale = g.div(g.constant(1), g.sqrt(g.add(variance, g.constant(spec.eps ?? DEFAULT_EPS))));
    const normalised = g.mul(centred, along(g, scale, x, axis));
    return { output: g.add(g.mul(normalised, ctx.param("gain")), ctx.param("bias")) };
  },
  describe: (spec) => `layernorm${spec.eps === undefined ? "" : ` eps ${spec.eps}`}`,
  torch: {
    module: "torch.nn.LayerNorm",
    args: { normalized_shape: "the input's last axis", eps: "eps", elementwise_affine: "true" },
    params: [
      { role: "gain", torch: "weight", layout: "[features]", permute: [0] },
      { role: "bias", torch: "bias", layout: "[features]", permute: [0] },
    ],
  },
};

/**
 * batchnorm. Training: the batch's mean and biased variance per channel, over the samples and every position,
 * taken in one barrier from the moments about the running mean (plan.ts's one-barrier form: the shift is a value
 * of the state, the same for every sample, and near the batch's mean once training has run a few steps, where
 * E[x²] − E[x]² would lose digits in f32 for a mean large against the spread); the running statistics move toward
 * the batch's, the variance unbiased (n/(n − 1), n = batch × positions) as PyTorch stores it. Inference: the
 * running statistics. Both: (x − mean)·g/√(var + eps) + b.
 */
export const batchnorm: LayerKind<BatchNormLayerSpec> = {
  type: "batchnorm",
  title: "batch normalization",
  description:
    "(x − mean) / √(variance + eps) per channel (the last axis), times a learned gain, plus a learned bias: while training the batch's statistics over the samples and every position, and running averages of them kept in the state; in inference the running averages.",
  fields: {
    momentum: {
      schema: { type: "number", minimum: 0, maximum: 1, default: DEFAULT_MOMENTUM, description: "How far a training step moves the running statistics toward the batch's (PyTorch's sense). Default 0.1." },
      what: "momentum",
      rule: "must be a number from 0 to 1",
      expected: "a number in [0, 1] such as 0.1",
      default: "0.1",
    },
    eps: epsField,
  },
  required: [],
  modal: true,
  outputShape: (_spec, input) => withLastAxis(input, "batchnorm needs an input with at least one axis (its channels)", "[channels] or [..., channels]"),
  paramsOf: (_spec, input, label) => gainAndBias(input, label),
  sequenceOut: (_spec, sequenceIn) => sequenceIn,
  build(ctx, spec, x) {
    const { g } = ctx;
    const channels = [x.shape[x.shape.length - 1]];
    const runningMean = ctx.state.declare(`m${ctx.label}`, channels, 0);
    const runningVar = ctx.state.declare(`v${ctx.label}`, channels, 1);
    const { centred, variance } = ctx.mode === "training" ? batchStatistics(ctx, spec, x, runningMean, runningVar) : { centred: g.sub(x, runningMean), variance: runningVar };
    // one factor per channel, g/√(var + eps): the per-element work is a multiply and an add
    const scale = g.div(ctx.param("gain"), g.sqrt(g.add(variance, g.constant(spec.eps ?? DEFAULT_EPS))));
    ctx.name(scale, `s${ctx.label}`);
    return { output: g.add(g.mul(centred, scale), ctx.param("bias")) };
  },
  describe: (spec) => ["batchnorm", ...(spec.momentum === undefined ? [] : [`momentum ${spec.momentum}`]), ...(spec.eps === undefined ? [] : [`eps ${spec.eps}`])].join(" "),
  torch: {
    module: "torch.nn.BatchNorm2d",
    args: { num_features: "the input's last axis", eps: "eps", momentum: "momentum", affine: "true", track_running_stats: "true" },
    params: [
      { role: "gain", torch: "weight", layout: "[channels]", permute: [0] },
      { role: "bias", torch: "bias", layout: "[channels]", permute: [0] },
    ],
    buffers: [
      { state: "m", torch: "running_mean" },
      { state: "v", torch: "running_var" },
    ],
    note:
      "BatchNorm1d for an input [channels] or [length, channels], BatchNorm2d for an image, BatchNorm3d for a volume. The buffers running_mean and running_var are the state's m and v of the layer; num_batches_tracked has no counterpart (PyTorch reads it only with momentum=None). With one value per channel in a training batch (batch × positions = 1) PyTorch raises; here the output is the bias and the running variance keeps its value.",
  },
};

/**
 * The training statistics of batchnorm: x less the batch mean, and the biased batch variance, from the moments of
 * d = x − running mean accumulated in the stage that computes x (one barrier); and the running statistics' updates
 * (computed from the state before the step, as every update is).
 */
function batchStatistics(ctx: BuildContext, spec: BatchNormLayerSpec, x: Node, runningMean: Node, runningVar: Node): { centred: Node; variance: Node } {
  const { g } = ctx;
  const positions = product(x.shape) / x.shape[x.shape.length - 1];
  // named, so that the derivation reads each delta of the backward pass through them as a step of its own
  const d = ctx.name(g.sub(x, runningMean), `xd${ctx.label}`);
  const offset = ctx.name(g.batchMean(meanOverPositions(g, d)), `mu${ctx.label}`);
  // at least 0 where rounding would take it below
  const variance = ctx.name(g.relu(g.sub(g.batchMean(meanOverPositions(g, g.square(d))), g.square(offset))), `var${ctx.label}`);
  const momentum = spec.momentum ?? DEFAULT_MOMENTUM;
  const toward = (running: Node, batch: Node) => g.add(g.scale(1 - momentum, running), g.scale(momentum, batch));
  ctx.state.update(runningMean, toward(runningMean, g.add(runningMean, offset)));
  // n/(n − 1) for n values per channel; with one (no spread to estimate) the running variance stays
  const n = g.scale(positions, g.make("batchSize", [], undefined, []));
  const several = g.gt(n, g.constant(1));
  const unbiased = g.mul(variance, g.div(n, g.sub(g.select(several, n, g.constant(2)), g.constant(1))));
  ctx.state.update(runningVar, g.select(several, toward(runningVar, unbiased), runningVar));
  return { centred: ctx.name(g.sub(d, offset), `xc${ctx.label}`), variance };
}

/** The mean of each channel over every position of one sample: [..., channels] → [channels]. */
function meanOverPositions(g: Graph, x: Node): Node {
  const shape: Shape = x.shape;
  if (shape.length === 1) return x;
  const channels = shape[shape.length - 1];
  return g.meanAlong(toShape(g, x, [product(shape) / channels, channels]), 0);
}

/** A value reduced along `axis` read back over `like` (a vector's mean is a scalar, broadcast). */
function along(g: Graph, reduced: Node, like: Node, axis: number): Node {
  return reduced.shape.length === 0 ? g.broadcast(reduced, like.shape) : g.expandAlong(reduced, like, axis);
}

/** A normalisation keeps its input's shape, which needs a last axis (the features or channels it normalises over). */
function withLastAxis(input: Shape, message: string, expected: string): Shape {
  if (input.length === 0) throw new LayerShapeError(message, expected, shapeText(input));
  return input;
}

/** The learned gain (from 1) and bias (from 0) per element of the last axis, as PyTorch's elementwise affine. */
function gainAndBias(input: Shape, label: string): ParamDecl[] {
  const last = [input[input.length - 1]];
  return [
    { role: "gain", name: `g${label}`, shape: last, init: ONE },
    { role: "bias", name: `b${label}`, shape: last, init: ZERO },
  ];
}
