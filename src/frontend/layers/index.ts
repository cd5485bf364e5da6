/** The layer form: the layer types (registry.ts, one record each) and the builder of a layer net's DAG. */
export { buildLayerNet, lossShapeProblem } from "./build.ts";
export { LAYER_KINDS, LAYER_TYPES, blockShape, layerKind } from "./registry.ts";
export { ACTIVATION_EXPECTED, initPlan } from "./fields.ts";
export type { DirectionalRole, Field, LayerKind, ParamDecl, ParamRole, TorchMapping } from "./layer.ts";
export { LayerShapeError } from "./layer.ts";
