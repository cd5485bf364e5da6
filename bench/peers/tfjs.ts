/**
 * TensorFlow.js 4.x peers, on the pure-JS CPU backend and on the WASM backend (XNNPACK; the .wasm binaries ship
 * in @tensorflow/tfjs-backend-wasm). Both run in this process; a peer makes its backend current before each of
 * its samples (untimed), so its tensors never move between backends.
 *
 * Each network is written the way a TF.js user writes it with the core API: variables for the kernels
 * (stored [in, out], the Keras layout, copied from bpgen's [out, in] parameters, so no forward product has a
 * transposed operand) and biases; `tf.fused.matMul({a, b, bias, activation})` per dense layer in a forward pass
 * (what tf.layers.dense does). In a training step on the wasm backend each product is a tf.customGrad whose
 * gradient multiplies untransposed operands only (see TfProducts); the cpu backend keeps TF.js's own gradient
 * of fused.matMul. The losses are the library's
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
import { BENCH_LR, syncCall, type PeerRun } from "./types.ts";

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

/**
 * How the training step's products are differentiated. "autodiff": TF.js's own gradient of matMul, whose
 * products dA = dZ·Wᵀ and dW = Aᵀ·dZ have a transposed operand. "no-transpose": a tf.customGrad product whose
 * gradient copies Wᵀ and Aᵀ first (tf.transpose) and then multiplies untransposed operands only.
 */
export type TfProducts = "autodiff" | "no-transpose";

/**
 * Each backend's faster choice, by timing both on the benchmark machine: the wasm backend runs only untransposed
 * products in XNNPACK (its transposed BatchMatMul is a plain loop; training mnist_mlp and wide 2–5× faster
 * without it); the cpu backend's transposed products cost the same as plain ones, so the explicit transposes only
 * add work there (1.15–1.4× slower).
 */
export const FASTEST_PRODUCTS: Record<TfBackend, TfProducts> = { cpu: "autodiff", wasm: "no-transpose" };

function tensors(args: (tf.Tensor | tf.GradSaveFunc)[], n: number): tf.Tensor2D[] {
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < n; i++) {
    const t = args[i];
    if (!(t instanceof tf.Tensor) || t.rank !== 2) throw new Error("TF.js peer: a product takes matrices");
    out.push(t as tf.Tensor2D);
  }
  return out;
}

/** Z = A·W for a layer whose input depends on the variables: dA = dZ·(Wᵀ), dW = (Aᵀ)·dZ. */
const hiddenProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, w] = tensors(args, 2);
  const save = args[2];
  if (typeof save === "function") save([a, w]);
  return {
    value: tf.matMul(a, w),
    gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
      const [A, W] = saved as tf.Tensor2D[];
      const dZ = dz as tf.Tensor2D;
      return [tf.matMul(dZ, tf.transpose(W)), tf.matMul(tf.transpose(A), dZ)];
    },
  };
});

/** Z = X·W for the first layer, X a constant (no gradient to it, as autodiff would not compute one): dW = (Xᵀ)·dZ. */
function inputProduct(X: tf.Tensor2D): (w: tf.Tensor) => tf.Tensor2D {
  return tf.customGrad<tf.Tensor2D>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [w] = tensors(args, 1);
    return { value: tf.matMul(X, w), gradFunc: (dz: tf.Tensor) => [tf.matMul(tf.transpose(X), dz as tf.Tensor2D)] };
  });
}

/** A network built in TF.js from bpgen's flat parameters: the objective and the forward pass, over its variables. */
interface TfNet {
  readonly vars: tf.Variable[];
  objective(): tf.Scalar;
  output(): tf.Tensor;
  dispose(): void;
}

function buildMlp(spec: NetSpec, params: Float32Array, data: Batch, products: TfProducts): TfNet {
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
  const firstProduct = inputProduct(X);
  const n = layout.layers.length;
  const lastAct = layout.layers[n - 1].activation;
  if (layout.loss === "binary_cross_entropy" && lastAct !== "sigmoid") throw new Error("TF.js peer: BCE needs a sigmoid output");
  if (layout.loss === "softmax_cross_entropy" && lastAct !== "linear") throw new Error("TF.js peer: softmax-CE needs a linear output");

  /** The last layer's activation (MSE) or its logits (the cross-entropies); `training`: inside the objective. */
  const top = (applyLast: boolean, training: boolean): tf.Tensor2D => {
    let a: tf.Tensor2D = X;
    layout.layers.forEach((L, i) => {
      const act = i < n - 1 || applyLast ? L.activation : "linear";
      const fused = FUSED[act];
      const bias = bs[i] ?? undefined;
      if (training && products === "no-transpose") {
        const z = i === 0 ? firstProduct(Ws[i]) : (hiddenProduct(a, Ws[i]) as tf.Tensor2D);
        a = applyActivation(act, bias ? tf.add(z, bias) : z);
      } else if (fused) a = tf.fused.matMul({ a, b: Ws[i] as tf.Tensor2D, bias, activation: fused }) as tf.Tensor2D;
      else a = applyActivation(act, tf.fused.matMul({ a, b: Ws[i] as tf.Tensor2D, bias }) as tf.Tensor2D);
    });
    return a;
  };
  const units = layout.outputSize;
  const objective = (): tf.Scalar => {
    let J: tf.Scalar;
    if (layout.loss === "softmax_cross_entropy") J = tf.losses.softmaxCrossEntropy(Y, top(false, true));
    else if (layout.loss === "binary_cross_entropy") J = tf.mul(units, tf.losses.sigmoidCrossEntropy(Y, top(false, true)));
    else J = tf.mul(0.5 * units, tf.losses.meanSquaredError(Y, top(true, true)));
    if (layout.l2 > 0) {
      let sq: tf.Scalar = tf.sum(tf.square(Ws[0]));
      for (let i = 1; i < n; i++) sq = tf.add(sq, tf.sum(tf.square(Ws[i])));
      J = tf.add(J, tf.mul(layout.l2 / 2, sq));
    }
    return J;
  };
  const output = (): tf.Tensor => (layout.loss === "softmax_cross_entropy" ? tf.softmax(top(false, false)) : top(true, false));
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

export async function tfRun(backend: TfBackend, spec: NetSpec, params: Float32Array, data: Batch, products: TfProducts = FASTEST_PRODUCTS[backend]): Promise<PeerRun> {
  if (backend === "wasm") await initWasm();
  await use(backend);
  const net = isLayerSpec(spec) ? buildMlp(spec, params, data, products) : isChain3(spec) ? buildChain3(params, data) : null;
  if (!net) throw new Error(`no TF.js peer for the equation net ${spec.name}`);
  const optimizer = tf.train.sgd(BENCH_LR);
  const step = (): void => {
    tf.tidy(() => {
      optimizer.minimize(net.objective, false, net.vars);
    });
  };
  const forward = (): void => {
    tf.tidy(() => {
      net.output().dataSync();
    });
  };
  return {
    id: backend === "cpu" ? "tf-cpu" : "tf-wasm",
    activate: () => use(backend),
    loss: () => tf.tidy(() => net.objective().dataSync()[0]),
    step: syncCall(step),
    forward: syncCall(forward),
    output: async () => tf.tidy(() => Float32Array.from(net.output().dataSync())),
    verifyMemory: async () => {
      // every tensor a step or a pass makes is disposed by its tf.tidy: the count of live tensors stays put
      await use(backend);
      step();
      forward();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) {
        step();
        forward();
      }
      const after = tf.memory().numTensors;
      if (after !== before) throw new Error(`TF.js ${backend}: ${after - before} tensors leaked over 2 steps and passes`);
    },
    dispose: () => {
      net.dispose();
      optimizer.dispose();
    },
  };
}

export { tf };
