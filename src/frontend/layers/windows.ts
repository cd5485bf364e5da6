/**
 * The layers that slide a window over the spatial axes, channels last: conv1d/2d/3d (the equation form's
 * convolutions, with a bias and an activation) and max/avg pooling. Inputs are [spatial..., channels].
 */
import type { Node } from "../../ir/node.ts";
import type { Literal } from "../arguments.ts";
import type { ConvLayerSpec, PoolLayerSpec } from "../../spec/types.ts";
import * as tensors from "../tensors.ts";
import { ZERO, activationField, biasField, initField, paddingField, perAxis, positiveField, product, spatialField, times, weightInit, windowedShape } from "./fields.ts";
import { type LayerKind, type TorchMapping, erase } from "./layer.ts";

const AXES = ["", "k", "kh, kw", "kd, kh, kw"];
const AXIS_NAMES = ["", "width", "height, width", "depth, height, width"];

/** The options tensors.ts reads after x and the filter or the window size: stride, padding, dilation. */
const options = (stride: readonly number[], padding: ConvLayerSpec["padding"], dilation?: readonly number[]): Literal[] => [
  stride,
  padding ?? "valid",
  ...(dilation ? [dilation] : []),
];

function convKind(n: 1 | 2 | 3): LayerKind<ConvLayerSpec> {
  const type = `conv${n}d` as ConvLayerSpec["type"];
  const window = (spec: ConvLayerSpec) => ({
    taps: perAxis(spec.kernel, n, []),
    stride: perAxis(spec.stride, n, Array(n).fill(1)),
    dilation: perAxis(spec.dilation, n, Array(n).fill(1)),
    padding: spec.padding,
  });
  const torchAxes = [n + 1, n, ...Array.from({ length: n }, (_, k) => k)];
  const torch: TorchMapping = {
    module: `torch.nn.Conv${n}d`,
    args: {
      in_channels: "the input's channels",
      out_channels: "filters",
      kernel_size: "kernel",
      stride: "stride",
      padding: 'padding (PyTorch takes "valid", "same" with stride 1, or symmetric numbers; other "same" cases and [before, after] need torch.nn.functional.pad first)',
      dilation: "dilation",
      bias: "bias",
    },
    params: [
      { role: "weight", torch: "weight", layout: `[out, in, ${AXES[n]}] from our [${AXES[n]}, in, out]`, permute: torchAxes },
      { role: "bias", torch: "bias", layout: "[out]", permute: [0] },
    ],
    note: "PyTorch is channels first: its input is [batch, channels, spatial...].",
  };
  return {
    type,
    title: `${n}-D convolution`,
    description: `A ${n}-D convolution over [${AXIS_NAMES[n]}, channels] (channels last), plus a bias, then the activation.`,
    fields: {
      filters: positiveField("filters", "Number of output channels."),
      kernel: spatialField("kernel size", n, "The filter's size: a number, or one per spatial axis."),
      stride: spatialField("stride", n, "The step between windows: a number, or one per spatial axis. Default 1.", "1"),
      padding: paddingField(n),
      dilation: spatialField("dilation", n, "The spacing of the filter's taps: a number, or one per spatial axis. Default 1.", "1"),
      activation: activationField("linear"),
      bias: biasField,
      init: initField,
    },
    required: ["filters", "kernel"],
    outputShape: (spec, input) => [...windowedShape(type, input, n, window(spec)).slice(0, n), spec.filters],
    paramsOf(spec, input, label) {
      const taps = perAxis(spec.kernel, n, []);
      const channels = input[n];
      const shape = [...taps, channels, spec.filters];
      return [
        { role: "weight", name: `W${label}`, shape, init: weightInit(spec.init, spec.activation, product(taps) * channels, product(taps) * spec.filters) },
        ...(spec.bias ?? true ? [{ role: "bias" as const, name: `b${label}`, shape: [spec.filters], init: ZERO }] : []),
      ];
    },
    build(ctx, spec, x) {
      const { g } = ctx;
      const w = window(spec);
      let z: Node = tensors.conv(g, n, type, x, ctx.param("weight"), options(w.stride, spec.padding, w.dilation));
      if (spec.bias ?? true) z = g.add(z, ctx.param("bias"));
      ctx.name(z, `z${ctx.label}`);
      return { output: ctx.activate(z, spec.activation, "activation"), preActivation: z };
    },
    describe: (spec) => `${type} ${times(perAxis(spec.kernel, n, []))}, ${spec.filters} filters${spec.activation ? `, ${spec.activation.trim()}` : ""}`,
    torch,
  };
}

function poolKind(kind: "max" | "avg", n: 1 | 2 | 3): LayerKind<PoolLayerSpec> {
  const type = `${kind}_pool${n}d` as PoolLayerSpec["type"];
  const window = (spec: PoolLayerSpec) => {
    const taps = perAxis(spec.size, n, []);
    return { taps, stride: perAxis(spec.stride, n, taps), dilation: Array<number>(n).fill(1), padding: spec.padding };
  };
  return {
    type,
    title: `${n}-D ${kind === "max" ? "max" : "average"} pooling`,
    description:
      kind === "max"
        ? `The maximum of each window over [${AXIS_NAMES[n]}, channels], channel by channel; padded cells never win.`
        : `The mean of each window over [${AXIS_NAMES[n]}, channels], channel by channel; padded cells count as zeros (PyTorch's count_include_pad).`,
    fields: {
      size: spatialField("window size", n, "The window: a number, or one per spatial axis."),
      stride: spatialField("stride", n, "The step between windows: a number, or one per spatial axis. Default the window size.", "the window size"),
      padding: paddingField(n),
    },
    required: ["size"],
    outputShape: (spec, input) => windowedShape(type, input, n, window(spec)),
    paramsOf: () => [],
    build(ctx, spec, x) {
      const w = window(spec);
      return { output: tensors.pool(ctx.g, kind, n, type, x, [w.taps, ...options(w.stride, spec.padding)]) };
    },
    describe: (spec) => `${type} ${times(perAxis(spec.size, n, []))}`,
    torch: {
      module: `torch.nn.${kind === "max" ? "Max" : "Avg"}Pool${n}d`,
      args: { kernel_size: "size", stride: "stride", padding: "padding (symmetric numbers only; PyTorch has no \"same\")" },
      params: [],
      note: kind === "avg" ? "PyTorch's count_include_pad=True, its default, is what we compute." : undefined,
    },
  };
}

const AXIS_COUNTS = [1, 2, 3] as const;
export const WINDOW_KINDS: readonly LayerKind[] = [
  ...AXIS_COUNTS.map((n) => erase(convKind(n))),
  ...AXIS_COUNTS.map((n) => erase(poolKind("max", n))),
  ...AXIS_COUNTS.map((n) => erase(poolKind("avg", n))),
];
