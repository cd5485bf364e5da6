/** ONNX interop: the exporter (`bpgen export --to onnx`) and the importer (`bpgen import`). */
export { exportOnnx, onnxModel, type NamedValues } from "./export.ts";
export { importOnnx, type ImportOptions, type ImportResult } from "./import.ts";
