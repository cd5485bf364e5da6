/** layernorm: each sample normalised over its last axis, then a learned gain and bias per feature (PyTorch's LayerNorm). */
import type { Graph } from "../../ir/graph.ts";
import type { Node } from "../../ir/node.ts";
import { shapeText } from "../../ir/node.ts";
import type { LayerNormLayerSpec } from "../../spec/types.ts";
import { ONE, ZERO } from "./fields.ts";
import { type LayerKind, LayerShapeError } from "./layer.ts";

export const DEFAULT_EPS = 1e-5;

export const layernorm: LayerKind<LayerNormLayerSpec> = {
  type: "layernorm",
  title: "layer normalization",
  description: "(x − mean) / √(variance + eps) over the last axis (the biased variance), times a learned gain, plus a learned bias.",
  fields: {
    eps: {
      schema: { type: "number", exclusiveMinimum: 0, default: DEFAULT_EPS, description: "Added to the variance. Default 1e-5." },
      what: "eps",
      rule: "must be a positive number",
      expected: "a number > 0 such as 1e-5",
      default: "1e-5",
    },
  },
  required: [],
  outputShape(_spec, input) {
    if (input.length === 0) throw new LayerShapeError("layernorm needs an input with at least one axis", "[features] or [..., features]", shapeText(input));
    return input;
  },
  paramsOf(_spec, input, label) {
    const features = [input[input.length - 1]];
    return [
      { role: "gain", name: `g${label}`, shape: features, init: ONE },
      { role: "bias", name: `b${label}`, shape: features, init: ZERO },
    ];
  },
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

/** A value reduced along `axis` read back over `like` (a vector's mean is a scalar, broadcast). */
function along(g: Graph, reduced: Node, like: Node, axis: number): Node {
  return reduced.shape.length === 0 ? g.broadcast(reduced, like.shape) : g.expandAlong(reduced, like, axis);
}
