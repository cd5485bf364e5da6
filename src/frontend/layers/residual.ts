/**
 * residual: a block of layers whose output is added to its input, y = block(x) + x; with "projection", the input
 * goes through a learned matrix on its channels first, y = block(x) + P x (a 1×1 convolution without a bias on an
 * image, a dense layer without a bias on a vector), so the block may change the number of channels.
 */
import type { Graph } from "../../ir/graph.ts";
import type { Node, Shape } from "../../ir/node.ts";
import { shapeText } from "../../ir/node.ts";
import type { LayerSpec, ResidualLayerSpec } from "../../spec/types.ts";
import type { PathSegment } from "../../spec/paths.ts";
import { toShape } from "../tensors.ts";
import { initPlan, product } from "./fields.ts";
import { type LayerKind, LayerShapeError } from "./layer.ts";

/** The output shape of a block of layers from `input`, each layer checked at its path under `path`. */
export type BlockShape = (layers: readonly LayerSpec[], input: Shape, path: readonly PathSegment[]) => Shape;

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, k) => d === b[k]);

/** The residual record; `blockShape` is the registry's walk over the layers inside. */
export function residualKind(blockShape: BlockShape): LayerKind<ResidualLayerSpec> {
  // the path of the residual layer itself is not known to outputShape; inner paths are relative ("layers", j) and
  // completed by the caller (LayerShapeError.path is absolute once the walk adds its prefix)
  const inner = (spec: ResidualLayerSpec, input: Shape) => blockShape(spec.layers, input, ["layers"]);
  return {
    type: "residual",
    title: "residual block",
    description: 'Layers whose output is added to their input: block(x) + x, or block(x) + P x with "projection".',
    fields: {
      layers: {
        schema: { type: "array", minItems: 1, items: { $ref: "#/definitions/layer" }, description: "The block's layers, in order." },
        what: "the block's layers",
        rule: "must be a non-empty array of layers",
        expected: 'an array of layers such as { "type": "conv2d", "filters": 8, "kernel": 3, "padding": "same" }',
      },
      projection: {
        schema: { type: "boolean", default: false, description: "Add a learned projection of the input's channels, P x, instead of x itself. Default false." },
        what: "projection",
        rule: "must be true or false",
        expected: "a boolean",
        default: "false",
      },
    },
    required: ["layers"],
    inner: (spec) => spec.layers,
    outputShape(spec, input) {
      const out = inner(spec, input);
      const channelsOnly = out.length === input.length && sameShape(out.slice(0, -1), input.slice(0, -1));
      if (spec.projection && !channelsOnly) {
        throw new LayerShapeError(
          `residual: the block maps ${shapeText(input)} to ${shapeText(out)}; a projection changes only the channels (the last axis)`,
          `a block output ${shapeText([...input.slice(0, -1), out[out.length - 1] ?? 1])} (the input's spatial shape)`,
          shapeText(out),
        );
      }
      if (!spec.projection && !sameShape(out, input)) {
        throw new LayerShapeError(
          `residual: the block's output ${shapeText(out)} cannot be added to its input ${shapeText(input)}${channelsOnly ? '; "projection": true learns a projection of the channels' : ""}`,
          `a block whose output has the input's shape ${shapeText(input)}`,
          shapeText(out),
        );
      }
      return out;
    },
    paramsOf(spec, input, label) {
      if (!spec.projection) return [];
      const out = inner(spec, input);
      const [from, to] = [input[input.length - 1], out[out.length - 1]];
      return [{ role: "projection", name: `P${label}`, shape: [to, from], init: initPlan("xavier", from, to) }];
    },
    build(ctx, spec, x) {
      const { g } = ctx;
      const y = ctx.buildBlock(spec.layers, x, "layers");
      return { output: g.add(y, spec.projection ? project(ctx.g, ctx.param("projection"), x) : x) };
    },
    describe: (spec) => `residual of ${spec.layers.length} layer${spec.layers.length === 1 ? "" : "s"}${spec.projection ? " with a projection" : ""}`,
    torch: {
      args: {},
      params: [{ role: "projection", torch: "weight of a torch.nn.Conv2d(in, out, 1, bias=False) or torch.nn.Linear(in, out, bias=False)", layout: "[out, in] (add 1×1 kernel axes for a convolution)", permute: [0, 1] },],
      note: "PyTorch has no residual module: a user module whose forward returns block(x) + x (or + projection(x)).",
    },
  };
}

/** P x on the last axis of x: each position's channels times Pᵀ. */
function project(g: Graph, P: Node, x: Node): Node {
  if (x.shape.length === 1) return g.matmul(P, x);
  const channels = x.shape[x.shape.length - 1];
  const rows = toShape(g, x, [product(x.shape) / channels, channels]);
  return toShape(g, g.matmul(rows, g.transpose(P)), [...x.shape.slice(0, -1), P.shape[0]]);
}
