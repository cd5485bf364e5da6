/**
 * TensorFlow.js 4.x peers, on the pure-JS CPU backend and on the WASM backend (XNNPACK; the .wasm binaries ship
 * in @tensorflow/tfjs-backend-wasm). Both run in this process; a peer makes its backend current before each of
 * its samples (untimed), so its tensors never move between backends.
 *
 * Each network is written the way a TF.js user writes it with the core API: variables for the kernels
 * (stored [in, out], the Keras layout, copied from bpgen's [out, in] parameters) and biases;
 * `tf.fused.matMul({a, b, bias, activation})` per dense layer (what tf.layers.dense does; TF.js fuses only
 * when it is not differentiating or the activation is linear); the library's losses
 * (`tf.losses.softmaxCrossEntropy`, `sigmoidCrossEntropy`, `meanSquaredError`, rescaled to bpgen's per-sample
 * sums); a step is `tf.train.sgd(lr).minimize(f, false, vars)` inside `tf.tidy` (minimize is variableGrads +
 * applyGradients). A step does not read J back; a forward pass reads the output with dataSync().
 * tf.enableProdMode() is on.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import { isChain3, mlpLayout, type Batch } from "../nets.ts";
import { BENCH_LR, type PeerRun } from "./types.ts";

export type TfBackend = "cpu" | "wasm";

export interface TfInfo {
  readonly version: string;
  readonly wasmVersion: string;
  /** The binary the WASM backend loaded: tfjs-backend-wasm.wasm, -simd.wasm or -threaded-simd.wasm. */
  readonly wasmBinary: string;
  readonly simd: boolean;
  readonly threads: boolean;
  readonly threadCount: number;
  /** A one-line description, e.g. "SIMD, single-threaded (tfjs-backend-wasm-simd.wasm)". */
  readonly wasmVariant: string;
}

const require = createRequire(import.meta.url);

// Production mode, as a user after speed would set it: in 4.22 it only silences warnings (and the banner
// suggesting tfjs-node), no kernel changes.
tf.enableProdMode();

/** The folder with the .wasm binaries, as a file path ending in "/". */
export function wasmDir(): string {
  return join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/";
}

let info: TfInfo | undefined;

/**
 * Initialises the wasm backend and finds which binary it loaded. The backend picks it from two feature flags
 * (getPathToWasmBinary in tfjs-backend-wasm): SIMD and threads → threaded-simd, SIMD → simd, else the plain
 * one; WASM_HAS_MULTITHREAD_SUPPORT is always false under Node in 4.22 (tfjs issue #3830).
 */
export async function initWasm(): Promise<TfInfo> {
  if (info) return info;
  setWasmPaths(wasmDir());
  if (!(await tf.setBackend("wasm"))) throw new Error("TF.js: the wasm backend failed to initialise");
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const threads = (await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) === true;
  const backend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  const threadCount = backend.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  const wasmBinary = simd && threads ? "tfjs-backend-wasm-threaded-simd.wasm" : simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm";
  const wasmVersion = (require("@tensorflow/tfjs-backend-wasm/package.json") as { version: string }).version;
  info = {
    version: tf.version.tfjs,
    wasmVersion,
    wasmBinary,
    simd,
    threads,
    threadCount,
    wasmVariant: `${simd ? "SIMD" : "no SIMD"}, ${threads ? `${threadCount} threads` : "single-threaded"} (${wasmBinary})`,
  };
  return info;
}

async function use(backend: TfBackend): Promise<void> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`TF.js: cannot switch to ${backend}`);
}

type FusedActivation = "linear" | "relu" | "sigmoid";
const FUSED: Record<string, FusedActivation | undefined> = { linear: "linear", relu: "relu", sigmoid: "sigmoid" };

function applyActivation(name: string, z: tf.Tensor2D): tf.Tensor2D {
  switch (name) {
    case "linear":
      return z;
    case "relu":
      return tf.relu(z);
    case "sigmoid":
      return tf.sigmoid(z);
    case "tanh":
      return tf.tanh(z);
    default:
      throw new Error(`the TF.js peer has no activation ${name}`);
  }
}

/** A network built in TF.js from bpgen's flat parameters: the objective and the forward pass, over its variables. */
interface TfNet {
  readonly vars: tf.Variable[];
  objective(): tf.Scalar;
  output(): tf.Tensor;
  dispose(): void;
}

function buildMlp(spec: NetSpec, params: Float32Array, data: Batch): TfNet {
  if (!isLayerSpec(spec)) throw new Error("not a layer net");
  const layout = mlpLayout(spec);
  const X = tf.keep(tf.tensor2d(data.x, [data.batch, layout.inputSize]));
  const Y = tf.keep(tf.tensor2d(data.y, [data.batch, layout.outputSize]));
  const Ws: tf.Variable[] = [];
  const bs: (tf.Variable | null)[] = [];
  layout.layers.forEach((L, i) => {
    const kernel = new Float32Array(L.fanIn * L.units); // [in, out]
    for (let j = 0; j < L.units; j++) for (let t = 0; t < L.fanIn; t++) kernel[t * L.units + j] = params[L.wOffset + j * L.fanIn + t];
    Ws.push(tf.variable(tf.tensor2d(kernel, [L.fanIn, L.units]), true));
    bs.push(L.bias ? tf.variable(tf.tensor1d(params.subarray(L.bOffset, L.bOffset + L.units)), true) : null);
  });
  const n = layout.layers.length;
  const lastAct = layout.layers[n - 1].activation;
  if (layout.loss === "binary_cross_entropy" && lastAct !== "sigmoid") throw new Error("TF.js peer: BCE needs a sigmoid output");
  if (layout.loss === "softmax_cross_entropy" && lastAct !== "linear") throw new Error("TF.js peer: softmax-CE needs a linear output");

  /** The last layer's activation (MSE) or its logits (the cross-entropies). */
  const top = (applyLast: boolean): tf.Tensor2D => {
    let a: tf.Tensor2D = X;
    layout.layers.forEach((L, i) => {
      const act = i < n - 1 || applyLast ? L.activation : "linear";
      const fused = FUSED[act];
      const bias = bs[i] ?? undefined;
      if (fused) a = tf.fused.matMul({ a, b: Ws[i] as tf.Tensor2D, bias, activation: fused }) as tf.Tensor2D;
      else a = applyActivation(act, tf.fused.matMul({ a, b: Ws[i] as tf.Tensor2D, bias }) as tf.Tensor2D);
    });
    return a;
  };
  const units = layout.outputSize;
  const objective = (): tf.Scalar => {
    let J: tf.Scalar;
    if (layout.loss === "softmax_cross_entropy") J = tf.losses.softmaxCrossEntropy(Y, top(false));
    else if (layout.loss === "binary_cross_entropy") J = tf.mul(units, tf.losses.sigmoidCrossEntropy(Y, top(false)));
    else J = tf.mul(0.5 * units, tf.losses.meanSquaredError(Y, top(true)));
    if (layout.l2 > 0) {
      let sq: tf.Scalar = tf.sum(tf.square(Ws[0]));
      for (let i = 1; i < n; i++) sq = tf.add(sq, tf.sum(tf.square(Ws[i])));
      J = tf.add(J, tf.mul(layout.l2 / 2, sq));
    }
    return J;
  };
  const output = (): tf.Tensor => (layout.loss === "softmax_cross_entropy" ? tf.softmax(top(false)) : top(true));
  const vars = [...Ws, ...bs.filter((b): b is tf.Variable => b !== null)];
  return {
    vars,
    objective,
    output,
    dispose: () => {
      for (const v of vars) v.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}

function buildChain3(params: Float32Array, data: Batch): TfNet {
  const X = tf.keep(tf.tensor1d(data.x));
  const Y = tf.keep(tf.tensor1d(data.y));
  const w = [0, 1, 2].map((i) => tf.variable(tf.scalar(params[i]), true));
  const e = (): tf.Tensor1D => tf.mul(w[2], tf.mul(w[1], tf.mul(w[0], X)));
  return {
    vars: w,
    objective: () => tf.mul(0.5, tf.losses.meanSquaredError(Y, e())),
    output: e,
    dispose: () => {
      for (const v of w) v.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}

export async function tfRun(backend: TfBackend, spec: NetSpec, params: Float32Array, data: Batch): Promise<PeerRun> {
  if (backend === "wasm") await initWasm();
  await use(backend);
  const net = isLayerSpec(spec) ? buildMlp(spec, params, data) : isChain3(spec) ? buildChain3(params, data) : null;
  if (!net) throw new Error(`no TF.js peer for the equation net ${spec.name}`);
  const optimizer = tf.train.sgd(BENCH_LR);
  return {
    id: backend === "cpu" ? "tf-cpu" : "tf-wasm",
    activate: () => use(backend),
    loss: () => tf.tidy(() => net.objective().dataSync()[0]),
    step: () => {
      tf.tidy(() => {
        optimizer.minimize(net.objective, false, net.vars);
      });
    },
    forward: () => {
      tf.tidy(() => {
        net.output().dataSync();
      });
    },
    dispose: () => {
      net.dispose();
      optimizer.dispose();
    },
  };
}

export { tf };
