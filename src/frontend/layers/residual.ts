/**
 * residual: a block of layers whose output is added to its input, y = block(x) + x; with "projection", the input
 * goes through a learned matrix on its channels first, y = block(x) + P x (a 1×1 convolution without a bias on an
 * image, a dense layer without a bias on a vector), so the block may change the number of channels; and, as the
 * downsampling shortcut of PyTorch's ResNets, when the block downsamples the 1×1 convolution has the stride that
 * maps the input's spatial shape onto the block's output.
 */
import type { Graph } from "../../ir/graph.ts";
import type { Node, Shape } from "../../ir/node.ts";
import { shapeText } from "../../ir/node.ts";
import type { LayerSpec, ResidualLayerSpec } from "../../spec/types.ts";
import type { PathSegment } from "../../spec/paths.ts";
import { conv, toShape } from "../tensors.ts";
import { initPlan, product, times } from "./fields.ts";
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
    description: 'Layers whose output is added to their input: block(x) + x, or block(x) + P x with "projection" (a strided 1×1 convolution when the block downsamples).',
    fields: {
      layers: {
        schema: { type: "array", minItems: 1, items: { $ref: "#/definitions/layer" }, description: "The block's layers, in order." },
        what: "the block's layers",
        rule: "must be a non-empty array of layers",
        expected: 'an array of layers such as { "type": "conv2d", "filters": 8, "kernel": 3, "padding": "same" }',
      },
      projection: {
        schema: {
          type: "boolean",
          default: false,
          description: "Add a learned projection of the input's channels, P x, instead of x itself: a 1×1 convolution, with the stride that maps the input onto the block's output when the block downsamples. Default false.",
        },
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
      const stride = projectionStride(input, out);
      if (spec.projection && !stride) throw unprojectable(input, out);
      if (!spec.projection && !sameShape(out, input)) {
        const hint = !stride ? "" : stride.every((s) => s === 1) ? '; "projection": true learns a projection of the channels' : `; "projection": true learns a 1×1 convolution of stride ${times(stride)} onto it`;
        throw new LayerShapeError(
          `residual: the block's output ${shapeText(out)} cannot be added to its input ${shapeText(input)}${hint}`,
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
      if (!spec.projection) return { output: g.add(y, x) };
      const stride = projectionStride(x.shape, y.shape);
      if (!stride) throw new Error(`internal: the residual block at ${ctx.label} maps ${shapeText(x.shape)} to ${shapeText(y.shape)}, which its shape rule refused`);
      return { output: g.add(y, project(g, ctx.param("projection"), x, stride)) };
    },
    describe: (spec) => `residual of ${spec.layers.length} layer${spec.layers.length === 1 ? "" : "s"}${spec.projection ? " with a projection" : ""}`,
    torch: {
      args: {},
      params: [
        {
          role: "projection",
          torch: "projection.weight",
          layout: "[out, in]: the weight of a torch.nn.Conv2d(in, out, 1, stride, bias=False) on an image (with its 1×1 kernel axes added), of a torch.nn.Linear(in, out, bias=False) on a vector",
          permute: [0, 1],
        },
      ],
      note: "PyTorch has no residual module: a user module whose forward returns block(x) + x (or + projection(x)).",
    },
  };
}

/**
 * The stride, per spatial axis, of the 1×1 convolution without padding that maps the spatial shape of `input`
 * onto that of `out` (all 1 when only the channels differ, [] for vectors); undefined when none does. Each axis
 * takes the smallest stride s with ⌊(size − 1) / s⌋ + 1 = the output's size: for a block that halves its input
 * (PyTorch's stride-2 blocks) that is 2.
 */
function projectionStride(input: Shape, out: Shape): number[] | undefined {
  if (out.length !== input.length) return undefined;
  const stride = input.slice(0, -1).map((size, k) => reachable(size).get(out[k]));
  return stride.every((s): s is number => s !== undefined) ? stride : undefined;
}

/** The sizes a 1×1 window of stride s reads along an axis of `size` cells, ⌊(size − 1) / s⌋ + 1, each with its smallest s. */
function reachable(size: number): Map<number, number> {
  const sizes = new Map<number, number>();
  for (let s = size; s >= 1; s--) sizes.set(Math.floor((size - 1) / s) + 1, s);
  return sizes;
}

/** A projection asked of a block whose output no strided 1×1 convolution of the input gives: expected vs found. */
function unprojectable(input: Shape, out: Shape): LayerShapeError {
  const spatial = input.slice(0, -1);
  const maps = `residual: the block maps ${shapeText(input)} to ${shapeText(out)}`;
  if (out.length !== input.length) {
    return new LayerShapeError(
      `${maps}; a projection is a 1×1 convolution, which keeps the rank`,
      `a block output of rank ${input.length}, [${[...spatial.map((n) => `${n} or fewer`), "channels"].join(", ")}]`,
      shapeText(out),
    );
  }
  const axis = spatial.findIndex((size, k) => !reachable(size).has(out[k]));
  const sizes = [...reachable(spatial[axis]).keys()].sort((a, b) => b - a);
  const choices = sizes.length <= 8 ? `${sizes.slice(0, -1).join(", ")} or 1` : `${sizes.slice(0, 6).join(", ")}, … or 1`;
  return new LayerShapeError(
    `${maps}; a projection is a 1×1 convolution of an integer stride s, which reads ⌊(size − 1) / s⌋ + 1 cells of an axis: none reads ${out[axis]} of the ${spatial[axis]} cells of spatial axis ${axis + 1}`,
    `a block output with ${sizes.length === 1 ? "1 cell" : `${choices} cells`} along spatial axis ${axis + 1}, any channels`,
    shapeText(out),
  );
}

/**
 * P x on the last axis of x: each position's channels times Pᵀ; with a stride, the 1×1 convolution of stride
 * `stride` whose filter is Pᵀ.
 */
function project(g: Graph, P: Node, x: Node, stride: readonly number[]): Node {
  if (x.shape.length === 1) return g.matmul(P, x);
  if (stride.some((s) => s !== 1)) {
    const filter = toShape(g, g.transpose(P), [...stride.map(() => 1), P.shape[1], P.shape[0]]);
    return conv(g, stride.length, "residual projection", x, filter, [[...stride], "valid"]);
  }
  const channels = x.shape[x.shape.length - 1];
  const rows = toShape(g, x, [product(x.shape) / channels, channels]);
  return toShape(g, g.matmul(rows, g.transpose(P)), [...x.shape.slice(0, -1), P.shape[0]]);
}
