/**
 * The onnxruntime-web LSTM (inference only): ONNX's fused LSTM operator, then the read-out as MatMul and Add,
 * built with bench/peers/onnx-model.ts's encoder and run as bench/peers/ort.ts runs its models (wasm execution
 * provider, one thread unless asked for more, graphOptimizationLevel "all", each session.run awaited).
 *
 *   Y_h = LSTM(X, W, R, B; hidden_size = H)     X [T, B, F] (layout 0), W [1, 4H, F], R [1, 4H, H], B [1, 8H]
 *   out = Y_h · Vᵀ + d                           Y_h [1, B, H] → out [1, B, O]
 *
 * ONNX orders the gates i, o, f, c where PyTorch (and the shared weights) order them i, f, g, o: the rows of W, R
 * and the bias are permuted once when the model is built. B is the input bias followed by the recurrent one; the
 * shared b goes into the first, zeros into the second. The batch is fed time-major, transposed once at setup.
 */
import * as ort from "onnxruntime-web";
import { encodeModel, type OnnxGraph } from "./onnx-model.ts";
import { forwardPeer, initOrt } from "./ort.ts";
import { type LstmBatch, type LstmShape, type LstmWeights, transposed } from "./lstm-net.ts";
import type { PeerRun } from "./types.ts";

/** ONNX's gate k (i, o, f, c) is PyTorch's gate ONNX_FROM_TORCH[k] (i, f, g, o). */
const ONNX_FROM_TORCH = [0, 3, 1, 2];

/** The 4H rows of a gate-stacked matrix [4H, cols] in ONNX's gate order. */
function onnxGateOrder(m: Float32Array, units: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  const block = units * cols;
  ONNX_FROM_TORCH.forEach((from, k) => out.set(m.subarray(from * block, (from + 1) * block), k * block));
  return out;
}

/** [B, T, F] → [T, B, F]. */
function timeMajor(x: Float32Array, s: LstmShape): Float32Array {
  const out = new Float32Array(x.length);
  const F = s.features;
  for (let b = 0; b < s.batch; b++) for (let t = 0; t < s.steps; t++) out.set(x.subarray((b * s.steps + t) * F, (b * s.steps + t + 1) * F), (t * s.batch + b) * F);
  return out;
}

export function lstmGraph(s: LstmShape, w: LstmWeights): OnnxGraph {
  const H = s.units;
  const bias = new Float32Array(8 * H);
  bias.set(onnxGateOrder(w.b, H, 1));
  return {
    input: { name: "x", dims: [s.steps, s.batch, s.features] },
    output: { name: "out", dims: [1, s.batch, s.outputs] },
    nodes: [
      { op: "LSTM", inputs: ["x", "W", "R", "B"], outputs: ["", "Y_h"], attributes: [{ name: "hidden_size", int: H }] },
      { op: "MatMul", inputs: ["Y_h", "Vt"], outputs: ["p"] },
      { op: "Add", inputs: ["p", "d"], outputs: ["out"] },
    ],
    initializers: [
      { name: "W", dims: [1, 4 * H, s.features], data: onnxGateOrder(w.Wi, H, s.features) },
      { name: "R", dims: [1, 4 * H, H], data: onnxGateOrder(w.Wh, H, H) },
      { name: "B", dims: [1, 8 * H], data: bias },
      { name: "Vt", dims: [H, s.outputs], data: transposed(w.V, s.outputs, H) },
      { name: "d", dims: [s.outputs], data: Float32Array.from(w.d) },
    ],
  };
}

export async function lstmOrtRun(s: LstmShape, w: LstmWeights, data: LstmBatch, threads = 1): Promise<PeerRun> {
  await initOrt(threads);
  const graph = lstmGraph(s, w);
  const session = await ort.InferenceSession.create(encodeModel(graph, "lstm"), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const feeds = { x: new ort.Tensor("float32", timeMajor(data.x, s), [...graph.input.dims]) };
  return forwardPeer(session, feeds, "out", "LSTM");
}
