/** Every layer type of the layer form, by its JSON "type": the one list the schema, validation, builder and docs read. */
import type { Shape } from "../../ir/node.ts";
import type { PathSegment } from "../../spec/paths.ts";
import type { LayerSpec } from "../../spec/types.ts";
import { dense } from "./dense.ts";
import { type LayerKind, LayerShapeError, erase } from "./layer.ts";
import { dropout } from "./dropout.ts";
import { batchnorm, layernorm } from "./norm.ts";
import { activation, flatten, globalAvgPool } from "./reshaping.ts";
import { RECURRENT_KINDS } from "./recurrent.ts";
import { residualKind } from "./residual.ts";
import { WINDOW_KINDS } from "./windows.ts";

export const LAYER_KINDS: ReadonlyMap<string, LayerKind> = new Map(
  [erase(dense), ...WINDOW_KINDS, erase(globalAvgPool), erase(flatten), erase(activation), erase(layernorm), erase(batchnorm), erase(dropout), erase(residualKind(blockShape)), ...RECURRENT_KINDS.map(erase)].map((k) => [k.type, k]),
);

export const LAYER_TYPES: readonly string[] = [...LAYER_KINDS.keys()];

export function layerKind(spec: LayerSpec): LayerKind {
  const kind = LAYER_KINDS.get(spec.type);
  if (!kind) throw new Error(`internal: no record for layer type "${spec.type}"`);
  return kind;
}

/** Whether any of `layers`, or a layer inside one, reads the mode: then the stack is built once per mode. */
export function usesModes(layers: readonly LayerSpec[]): boolean {
  return layers.some((layer) => {
    const kind = layerKind(layer);
    return kind.modal === true || usesModes(kind.inner?.(layer) ?? []);
  });
}

/**
 * The output shape of `layers` from `input`; the first layer that does not fit throws a LayerShapeError whose
 * path is that layer's JSON path (under `path`, the path of the array).
 */
export function blockShape(layers: readonly LayerSpec[], input: Shape, path: readonly PathSegment[], sequence = false): Shape {
  let shape = input;
  let isSequence = sequence;
  layers.forEach((layer, i) => {
    try {
      const kind = layerKind(layer);
      shape = kind.outputShape(layer, shape, isSequence);
      isSequence = kind.sequenceOut?.(layer, isSequence) ?? false;
    } catch (e) {
      if (!(e instanceof LayerShapeError)) throw e;
      throw new LayerShapeError(e.message, e.expected, e.found, [...path, i, ...(e.path ?? [])]);
    }
  });
  return shape;
}
