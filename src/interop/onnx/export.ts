import type { Exporter } from "../export-request.ts";

/** The network's inference graph as an ONNX model. */
export const exportOnnx: Exporter = async () => {
  throw new Error("internal: the ONNX exporter is being written");
};
