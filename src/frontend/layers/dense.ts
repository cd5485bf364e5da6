/**
 * dense: z = W a + b, then the activation. A sequence (a recurrent layer's every-step output) is read one step
 * at a time: the same W and b for every row, as PyTorch's Linear maps the last axis. Any other input of rank > 1
 * is read flattened (row-major, channels fastest), as the layer form always read an input given as a shape: the
 * same as a flatten layer in front, so nets written before the other layer types existed keep their meaning.
 */
import { shapeText } from "../../ir/node.ts";
import type { DenseLayerSpec } from "../../spec/types.ts";
import { toShape } from "../tensors.ts";
import { ZERO, activationField, product, biasField, initField, positiveField, weightInit } from "./fields.ts";
import { type LayerKind, LayerShapeError } from "./layer.ts";

export const dense: LayerKind<DenseLayerSpec> = {
  type: "dense",
  title: "dense layer",
  description: "A fully connected layer: z = W a + b, then the activation; an input of rank > 1 is read flattened.",
  fields: {
    units: positiveField("layer units", "Number of units (outputs) of this layer."),
    activation: activationField("linear"),
    bias: biasField,
    init: initField,
  },
  required: ["units"],
  outputShape(spec, input, sequence) {
    if (input.length === 0) throw new LayerShapeError("dense needs an input with at least one axis", "[features] or a shape, read flattened", shapeText(input));
    return sequence ? [input[0], spec.units] : [spec.units];
  },
  sequenceOut: (_spec, sequenceIn) => sequenceIn,
  paramsOf(spec, input, label, sequence) {
    const width = sequence ? input[input.length - 1] : product(input);
    return [
      { role: "weight", name: `W${label}`, shape: [spec.units, width], init: weightInit(spec.init, spec.activation, width, spec.units) },
      ...(spec.bias ?? true ? [{ role: "bias" as const, name: `b${label}`, shape: [spec.units], init: ZERO }] : []),
    ];
  },
  build(ctx, spec, a) {
    const { g } = ctx;
    const W = ctx.param("weight");
    // every step of a sequence: [T, in] · Wᵀ, the bias added to each row
    let z = ctx.sequence ? g.matmul(a, g.transpose(W)) : g.matmul(W, a.shape.length === 1 ? a : toShape(g, a, [product(a.shape)]));
    if (spec.bias ?? true) z = g.add(z, ctx.param("bias"));
    ctx.name(z, `z${ctx.label}`);
    return { output: ctx.activate(z, spec.activation, "activation"), preActivation: z };
  },
  describe: (spec) => `dense ${spec.units}${spec.activation ? `, ${spec.activation.trim()}` : ""}`,
  torch: {
    module: "torch.nn.Linear",
    args: { in_features: "the input's size (all its axes)", out_features: "units", bias: "bias" },
    params: [
      { role: "weight", torch: "weight", layout: "[out, in], as W", permute: [0, 1] },
      { role: "bias", torch: "bias", layout: "[out]", permute: [0] },
    ],
    note: "The activation is a separate module in PyTorch (torch.nn.ReLU, …); an input of rank > 1 needs torch.nn.Flatten in front, after permuting PyTorch's channels-first input to channels last.",
  },
};
