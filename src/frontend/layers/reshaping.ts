/** The layers without parameters that reshape or map values: flatten, global_avg_pool, activation. */
import { shapeText } from "../../ir/node.ts";
import type { ActivationLayerSpec, FlattenLayerSpec, GlobalAvgPoolLayerSpec } from "../../spec/types.ts";
import { toShape } from "../tensors.ts";
import { activationField, product } from "./fields.ts";
import { type LayerKind, LayerShapeError } from "./layer.ts";

export const flatten: LayerKind<FlattenLayerSpec> = {
  type: "flatten",
  title: "flatten",
  description: "The input's values in row-major order (channels fastest) as one vector.",
  fields: {},
  required: [],
  outputShape: (_spec, input) => [product(input)],
  paramsOf: () => [],
  build: (ctx, _spec, x) => ({ output: toShape(ctx.g, x, [product(x.shape)]) }),
  describe: () => "flatten",
  torch: {
    module: "torch.nn.Flatten",
    args: {},
    params: [],
    note: "Channels last: the order is PyTorch's flatten of the input permuted to [spatial..., channels]; a dense layer after it reads its columns in that order.",
  },
};

export const globalAvgPool: LayerKind<GlobalAvgPoolLayerSpec> = {
  type: "global_avg_pool",
  title: "global average pooling",
  description: "The mean over every spatial position of [spatial..., channels]: one value per channel.",
  fields: {},
  required: [],
  outputShape(_spec, input) {
    if (input.length < 2) throw new LayerShapeError("global_avg_pool needs spatial axes before the channels", "[spatial..., channels], such as [7, 7, 8]", shapeText(input));
    return [input[input.length - 1]];
  },
  paramsOf: () => [],
  build(ctx, _spec, x) {
    const channels = x.shape[x.shape.length - 1];
    const positions = toShape(ctx.g, x, [product(x.shape) / channels, channels]);
    return { output: ctx.g.meanAlong(positions, 0) };
  },
  describe: () => "global_avg_pool",
  torch: {
    module: "torch.nn.AdaptiveAvgPool2d",
    args: { output_size: "1 (followed by torch.nn.Flatten; AdaptiveAvgPool1d/3d for other ranks)" },
    params: [],
  },
};

export const activation: LayerKind<ActivationLayerSpec> = {
  type: "activation",
  title: "activation",
  description: "An activation applied to every value.",
  fields: { activation: activationField() },
  required: ["activation"],
  outputShape: (_spec, input) => input,
  paramsOf: () => [],
  // applied to every value: a sequence stays one
  sequenceOut: (_spec, sequenceIn) => sequenceIn,
  build: (ctx, spec, x) => ({ output: ctx.activate(x, spec.activation, "activation") }),
  describe: (spec) => spec.activation.trim(),
  torch: { module: "torch.nn.ReLU, torch.nn.Tanh, … (the module of the activation)", args: {}, params: [] },
};
