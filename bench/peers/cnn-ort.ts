/**
 * The onnxruntime-web CNN (inference only), channels first as ONNX's Conv and MaxPool take them, built with
 * bench/peers/onnx-model.ts's encoder and run as bench/peers/ort.ts runs its models (wasm execution provider, one
 * thread, graphOptimizationLevel "all", each session.run awaited; ORT fuses Conv and Relu itself at that level):
 *
 *   Conv(x, W1, c1) → Relu → MaxPool(2×2, strides 2) → Conv(·, W2, c2) → Relu → MaxPool → Flatten → Gemm(·, Vt, d)
 *
 * x [B, 1, H, W]; W1 [8, 1, 3, 3] and W2 [16, 8, 3, 3] are the shared [kh, kw, in, out] filters transposed once;
 * Flatten reads p2 channel by channel, so Vt [P, 10] is V with its columns reordered from (h, w, c) to (c, h, w).
 * The output is the logits z [B, 10].
 */
import * as ort from "onnxruntime-web";
import { encodeModel, type OnnxGraph } from "./onnx-model.ts";
import { forwardPeer, initOrt } from "./ort.ts";
import { CHANNELS, CLASSES, FILTERS1, FILTERS2, KERNEL, POOL, type CnnBatch, type CnnShape, type CnnWeights, filtersOIHW, imagesNCHW, readoutCHW, sides } from "./cnn-net.ts";
import type { PeerRun } from "./types.ts";

const POOLING = [
  { name: "kernel_shape", ints: [POOL, POOL] },
  { name: "strides", ints: [POOL, POOL] },
];
const CONV = [{ name: "kernel_shape", ints: [KERNEL, KERNEL] }];

export function cnnGraph(s: CnnShape, w: CnnWeights): OnnxGraph {
  return {
    input: { name: "x", dims: [s.batch, CHANNELS, s.size, s.size] },
    output: { name: "out", dims: [s.batch, CLASSES] },
    nodes: [
      { op: "Conv", inputs: ["x", "W1", "c1"], outputs: ["z1"], attributes: CONV },
      { op: "Relu", inputs: ["z1"], outputs: ["a1"] },
      { op: "MaxPool", inputs: ["a1"], outputs: ["p1"], attributes: POOLING },
      { op: "Conv", inputs: ["p1", "W2", "c2"], outputs: ["z2"], attributes: CONV },
      { op: "Relu", inputs: ["z2"], outputs: ["a2"] },
      { op: "MaxPool", inputs: ["a2"], outputs: ["p2"], attributes: POOLING },
      { op: "Flatten", inputs: ["p2"], outputs: ["flat"], attributes: [{ name: "axis", int: 1 }] },
      { op: "Gemm", inputs: ["flat", "Vt", "d"], outputs: ["out"] },
    ],
    initializers: [
      { name: "W1", dims: [FILTERS1, CHANNELS, KERNEL, KERNEL], data: filtersOIHW(w.K1, CHANNELS, FILTERS1) },
      { name: "c1", dims: [FILTERS1], data: Float32Array.from(w.c1) },
      { name: "W2", dims: [FILTERS2, FILTERS1, KERNEL, KERNEL], data: filtersOIHW(w.K2, FILTERS1, FILTERS2) },
      { name: "c2", dims: [FILTERS2], data: Float32Array.from(w.c2) },
      { name: "Vt", dims: [sides(s).flat, CLASSES], data: readoutCHW(w.V, s) },
      { name: "d", dims: [CLASSES], data: Float32Array.from(w.d) },
    ],
  };
}

export async function cnnOrtRun(s: CnnShape, w: CnnWeights, data: CnnBatch): Promise<PeerRun> {
  await initOrt();
  const graph = cnnGraph(s, w);
  const session = await ort.InferenceSession.create(encodeModel(graph, "cnn"), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const feeds = { x: new ort.Tensor("float32", imagesNCHW(data.x, s.batch, s.size, CHANNELS), [...graph.input.dims]) };
  return forwardPeer(session, feeds, "out", "CNN");
}
