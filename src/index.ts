/**
 * bpgen's programmatic API: `import { compile, compileFile } from "bpgen"`.
 *
 *   const { files } = await compile(netJsonTextOrObject, { target: "js" });   // [name.js, name.d.ts]
 *   const bytes = paramsToSafetensors(m.meta, params, { pytorch: netJson });   // loads into the exported nn.Module
 *
 * Invalid input throws a BpgenError of kind "input" (the command line's exit code 2) with the same messages,
 * JSON paths and line:column as the command line; a bug in bpgen throws one of kind "internal" (exit code 3).
 */
export { compile, compileFile, VERSION } from "./pipeline.ts";
export type { CompileOptions, CompileResult, CompileStats, Kernels, Precision, Target, TargetFile } from "./pipeline.ts";
export { BpgenError, EXIT_CODES, formatDetail } from "./errors.ts";
export type { BpgenErrorOptions, ErrorDetail, ErrorKind, ErrorSite } from "./errors.ts";
export type { OpCounts } from "./lower/stats.ts";
export { paramsFromSafetensors, paramsToSafetensors } from "./interop/params-safetensors.ts";
export type { NameScheme, NetDescription, SafetensorsOptions } from "./interop/params-safetensors.ts";
export { decodeSafetensors, encodeSafetensors } from "./interop/safetensors.ts";
export type { NamedTensor, Safetensors, SafetensorsDtype } from "./interop/safetensors.ts";
export { torchNames } from "./interop/torch-names.ts";
export type { TorchTensor } from "./interop/torch-names.ts";
export type {
  ActivationLayerSpec,
  BatchNormLayerSpec,
  ConvLayerSpec,
  DenseLayerSpec,
  DropoutLayerSpec,
  EquationEntry,
  EquationNetSpec,
  FlattenLayerSpec,
  GlobalAvgPoolLayerSpec,
  InitSpec,
  LayerNetSpec,
  LayerNormLayerSpec,
  LayerSpec,
  NetSpec,
  OptimizerSpec,
  Padding,
  ParamSpec,
  PoolLayerSpec,
  RecurrenceBlock,
  ResidualLayerSpec,
  Spatial,
} from "./spec/types.ts";
export { exportOnnx, importOnnx, onnxModel, type ImportOptions, type ImportResult, type NamedValues } from "./interop/onnx/index.ts";
