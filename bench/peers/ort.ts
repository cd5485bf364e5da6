/**
 * The onnxruntime-web peer (inference only): each network's forward pass as an ONNX model built in code
 * (onnx-model.ts: Gemm per dense layer with the kernel [in, out] as an initializer, the activation, Softmax for
 * softmax-CE nets; chain3 as three Mul nodes), loaded with
 *   InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" })
 * and run with `session.run({ x })`: the input tensor is made once; `run` returns the output as a new tensor
 * (copied out of the wasm heap), and is asynchronous: the timing loop awaits every call. (A pre-allocated CPU
 * output tensor passed as a fetch comes back unwritten in this version, so outputs are not pre-allocated.)
 *
 * Set up before the first session: `env.wasm.wasmPaths` = the package's dist/ folder, `env.wasm.numThreads = 1`
 * (no worker threads; the LSTM bench's --threads asks for more), no proxy worker. The package ships only SIMD builds (ort-wasm-simd-threaded*.wasm), so
 * the wasm execution provider runs SIMD128 kernels (MLAS); relaxed SIMD is not used (env.wasm.simd left as is).
 *
 * Weight layout: Gemm on [in, out], Gemm with transB on [out, in], and MatMul + Add timed within noise of
 * each other on mnist_mlp and wide (ORT packs a constant B once, whatever its layout); Gemm on [in, out] is kept.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-web";
import type { NetSpec } from "../../src/spec/types.ts";
import type { Batch } from "../nets.ts";
import { encodeModel, forwardGraph, type OnnxGraph } from "./onnx-model.ts";
import { asyncCall, type PeerRun } from "./types.ts";

const require = createRequire(import.meta.url);

export interface OrtInfo {
  readonly version: string;
  readonly threads: number;
  /** The .wasm binary in the package's dist/ the wasm execution provider loads. */
  readonly wasmBinary: string;
}

let info: OrtInfo | undefined;

/**
 * Configures ORT and loads its wasm runtime (by creating one throw-away session). Its emscripten glue, loading
 * under Node, sets `global.Worker = worker_threads.Worker` for its pthreads; with one thread it starts none,
 * so the global is removed again: jax-js decides from `typeof Worker` whether its kernels use shared memory and
 * a worker pool, and would otherwise build kernels for a memory it did not create.
 */
/** `threads`: the wasm execution provider's thread count, fixed by the first call (ORT reads it when its wasm starts). */
export async function initOrt(threads = 1): Promise<OrtInfo> {
  if (info) {
    if (info.threads !== threads) throw new Error(`onnxruntime-web already runs on ${info.threads} threads, not ${threads}`);
    return info;
  }
  // the package's exports hide package.json; "main" resolves into dist/
  const dist = dirname(require.resolve("onnxruntime-web"));
  ort.env.wasm.wasmPaths = `${dist}/`;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  const version = (JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8")) as { version: string }).version;
  const wasmBinary = "ort-wasm-simd-threaded.wasm";
  if (!existsSync(join(dist, wasmBinary))) throw new Error(`onnxruntime-web: no ${wasmBinary} in ${dist}`);
  const hadWorker = "Worker" in globalThis;
  const probe: OnnxGraph = {
    input: { name: "x", dims: [1] },
    output: { name: "y", dims: [1] },
    nodes: [{ op: "Mul", inputs: ["x", "c"], outputs: ["y"] }],
    initializers: [{ name: "c", dims: [], data: Float32Array.of(2) }],
  };
  const session = await ort.InferenceSession.create(encodeModel(probe, "probe"), { executionProviders: ["wasm"] });
  await session.release();
  if (!hadWorker) Reflect.deleteProperty(globalThis, "Worker");
  info = { version, threads: ort.env.wasm.numThreads, wasmBinary };
  return info;
}

/** The peer, or null for a network ORT is not given (equation nets other than chain3). */
export async function ortRun(spec: NetSpec, params: Float32Array, data: Batch): Promise<PeerRun | null> {
  await initOrt();
  const graph = forwardGraph(spec, params, data.batch, "gemm");
  if (!graph) return null;
  const session = await ort.InferenceSession.create(encodeModel(graph, spec.name), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const x = new ort.Tensor("float32", Float32Array.from(data.x), [...graph.input.dims]);
  const feeds = { [graph.input.name]: x };
  return forwardPeer(session, feeds, graph.output.name, spec.name);
}

/**
 * A forward-only peer around an ORT session: `run` with the feeds made once (asynchronous: the timing loop awaits
 * every call), the output `outName` as a new Float32Array.
 */
export function forwardPeer(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, outName: string, what: string): PeerRun {
  const sink = new Float64Array(1);
  const run = async (): Promise<Float32Array> => {
    const result = await session.run(feeds);
    const data = result[outName]?.data;
    if (!(data instanceof Float32Array)) throw new Error(`ORT ${what}: no float32 output`);
    return data;
  };
  return {
    id: "ort",
    activate: async () => {},
    loss: null,
    step: null,
    forward: asyncCall(async () => {
      sink[0] += (await run())[0];
    }),
    output: async () => Float32Array.from(await run()),
    dispose: () => {
      void session.release();
    },
  };
}
