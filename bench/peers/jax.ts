/**
 * The jax-js peer (@jax-js/jax, device "wasm"), written the way a jax-js user writes these networks:
 * parameters as a tree of arrays ({ w: [...], b: [...] }, kernels [in, out] as in `x @ W + b`), the loss as
 * a plain function of (params, x, y), and
 *   step    = jit((p, x, y) => { [J, g] = valueAndGrad(loss)(tree.ref(p), x, y); return [J, p − lr·g] })
 *   forward = jit((p, x) => output)
 * (layer nets: np.matmul, .add(b), nn.relu / np.tanh / nn.sigmoid; losses from nn.logSoftmax / nn.logSigmoid
 * or the squared error; the l2 term λ/2 Σ‖W‖² where the net has it; chain3 as its three products).
 *
 * Memory: jax-js arrays are reference counted and every function consumes (moves) its array arguments. A step
 * consumes the old parameter tree and returns the new one, which replaces it; x and y are passed as `.ref`, so
 * they stay alive; the loss array is consumed by `dataSync()`. `verifyMemory` checks those counts and that the
 * WebAssembly heap does not grow over many steps.
 *
 * Waiting: jax-js is lazy: a jit call only records its kernels as pending on its outputs (all of them share the
 * program's pending list). `J.dataSync()` prepares and submits them all and reads the loss back, so the timed
 * step includes the whole update. In Node 20 there is no global `Worker`, so jax-js creates no worker pool: the
 * kernels run synchronously on the calling thread (one thread), and dataSync() is legal (it throws when work
 * is pending in workers).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defaultDevice, init, jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import { isChain3, mlpLayout, type Batch, type MlpLayout } from "../nets.ts";
import { BENCH_LR, syncCall, type PeerRun } from "./types.ts";

const require = createRequire(import.meta.url);

export interface JaxInfo {
  readonly version: string;
  /** Worker threads used by the wasm device (0: kernels run on the calling thread). */
  readonly workers: number;
  /** Whether jax-js may emit relaxed-SIMD fused multiply-adds here (it probes for them; else plain SIMD128). */
  readonly relaxedSimd: boolean;
}

let info: JaxInfo | undefined;

/** Initialises the wasm device and makes it the default. */
export async function initJax(): Promise<JaxInfo> {
  if (info) return info;
  const devices = await init("wasm");
  if (!devices.includes("wasm")) throw new Error("jax-js: the wasm device failed to initialise");
  defaultDevice("wasm");
  // the same probe jax-js makes (relaxed_madd on f32x4); Node 20's V8 does not ship relaxed SIMD
  const probe = Uint8Array.from(Buffer.from("0061736d0100000001080160037b7b7b017b030201000a0d010b00200020012002fd85020b", "hex"));
  const hasWorkers = typeof SharedArrayBuffer !== "undefined" && "Worker" in globalThis;
  if (hasWorkers) throw new Error("jax-js would dispatch to worker threads here; this peer reads results with dataSync() and times one thread");
  info = {
    // the package exports no package.json: read it next to dist/
    version: (JSON.parse(readFileSync(join(dirname(require.resolve("@jax-js/jax")), "..", "package.json"), "utf8")) as { version: string }).version,
    workers: 0,
    relaxedSimd: WebAssembly.validate(probe),
  };
  return info;
}

/** A Float32Array as a jax-js array of the given shape (copied onto the device). */
export function put(data: Float32Array, shape: number[]): np.Array {
  return np.array(Float32Array.from(data)).reshape(shape);
}

// ---- layer nets ------------------------------------------------------------------------------------------

/** The parameter tree of every net: kernels (chain3: its three scalars) and biases. */
type Params = { w: np.Array[]; b: np.Array[] };

function activation(name: string, z: np.Array): np.Array {
  switch (name) {
    case "linear":
      return z;
    case "relu":
      return nn.relu(z);
    case "tanh":
      return np.tanh(z);
    case "sigmoid":
      return nn.sigmoid(z);
    default:
      throw new Error(`the jax-js peer has no activation ${name}`);
  }
}

/** The network as jax-js functions of the parameter tree. */
interface JaxNet {
  readonly params: Params;
  loss(p: Params, x: np.Array, y: np.Array): np.Array;
  output(p: Params, x: np.Array): np.Array;
  readonly xShape: number[];
  readonly yShape: number[];
}

function mlp(layout: MlpLayout, flat: Float32Array, batch: number): JaxNet {
  const w: np.Array[] = [];
  const b: np.Array[] = [];
  /** Where layer i's bias sits in `b` (−1: no bias). */
  const biasAt: number[] = [];
  for (const L of layout.layers) {
    const kernel = new Float32Array(L.fanIn * L.units); // [in, out]
    for (let j = 0; j < L.units; j++) for (let t = 0; t < L.fanIn; t++) kernel[t * L.units + j] = flat[L.wOffset + j * L.fanIn + t];
    w.push(put(kernel, [L.fanIn, L.units]));
    biasAt.push(L.bias ? b.length : -1);
    if (L.bias) b.push(put(flat.subarray(L.bOffset, L.bOffset + L.units), [L.units]));
  }
  const n = layout.layers.length;
  const { loss: kind, l2 } = layout;
  const last = layout.layers[n - 1].activation;
  if (kind === "softmax_cross_entropy" && last !== "linear") throw new Error("jax-js peer: softmax-CE needs a linear output");
  if (kind === "binary_cross_entropy" && last !== "sigmoid") throw new Error("jax-js peer: BCE needs a sigmoid output");

  /** Layer outputs up to the last layer's pre-activation z (its activation is left to the caller). */
  const logits = (p: Params, x: np.Array): np.Array => {
    let a = x;
    layout.layers.forEach((L, i) => {
      let z = np.matmul(a, p.w[i]);
      if (biasAt[i] >= 0) z = z.add(p.b[biasAt[i]]);
      a = i < n - 1 ? activation(L.activation, z) : z;
    });
    return a;
  };
  const loss = (p: Params, x: np.Array, y: np.Array): np.Array => {
    // the l2 term reads each W a second time: take references first (logits consumes p)
    const squares = l2 > 0 ? p.w.map((W) => np.sum(np.square(W.ref))) : [];
    const z = logits(p, x);
    let sum: np.Array;
    if (kind === "softmax_cross_entropy") sum = np.sum(y.mul(nn.logSoftmax(z, -1))).mul(-1);
    else if (kind === "binary_cross_entropy") {
      // −[y·log σ(z) + (1 − y)·log σ(−z)]
      const oneMinusY = np.subtract(1, y.ref);
      sum = np.sum(y.mul(nn.logSigmoid(z.ref)).add(oneMinusY.mul(nn.logSigmoid(np.negative(z))))).mul(-1);
    } else {
      const r = activation(last, z).sub(y);
      sum = np.sum(np.square(r)).mul(0.5);
    }
    let J = sum.mul(1 / batch);
    if (squares.length > 0) J = J.add(squares.reduce((acc, s) => acc.add(s)).mul(l2 / 2));
    return J;
  };
  const output = (p: Params, x: np.Array): np.Array => {
    const z = logits(p, x);
    return kind === "softmax_cross_entropy" ? nn.softmax(z, -1) : activation(last, z);
  };
  return { params: { w, b }, loss, output, xShape: [batch, layout.inputSize], yShape: [batch, layout.outputSize] };
}

// ---- chain3 ------------------------------------------------------------------------------------------

function chain3(flat: Float32Array, batch: number): JaxNet {
  const scalar = (v: number): np.Array => put(Float32Array.of(v), []);
  // e = w3·(w2·(w1·x)), w = [w1, w2, w3]
  const e = (p: Params, x: np.Array): np.Array => x.mul(p.w[0]).mul(p.w[1]).mul(p.w[2]);
  return {
    params: { w: [scalar(flat[0]), scalar(flat[1]), scalar(flat[2])], b: [] },
    // J = mean over the batch of ½(e − t)²
    loss: (p, x, t) => np.mean(np.square(e(p, x).sub(t))).mul(0.5),
    output: e,
    xShape: [batch],
    yShape: [batch],
  };
}

// ---- the peer ------------------------------------------------------------------------------------------

/** Parameters as jax-js trees them: named arrays, or lists of them (an MLP's weights and biases). */
export type JaxParams = Record<string, np.Array | np.Array[]>;

/** A model for jaxPeer: its parameters, its loss (the batch mean) and its output. */
export interface JaxModel {
  readonly params: JaxParams;
  loss(p: JaxParams, x: np.Array, y: np.Array): np.Array;
  output(p: JaxParams, x: np.Array): np.Array;
}

/** An MLP or chain3 as a peer, on the batch in the shapes it takes. */
function peer(net: JaxNet, data: Batch): PeerRun {
  return jaxPeer(net, put(data.x, net.xShape), put(data.y, net.yShape), BENCH_LR, "jax-js");
}

/**
 * The jax-js peer of a model: the loss under `jit`, a training step under `jit(valueAndGrad)` with SGD at `lr`
 * (the old parameters consumed, the new ones kept), the forward pass under `jit`; `what` names it in errors.
 */
export function jaxPeer(net: JaxModel, x: np.Array, y: np.Array, lr: number, what: string): PeerRun {
  let params = net.params;
  const lossFn = jit((p: JaxParams, xs: np.Array, ys: np.Array) => net.loss(p, xs, ys));
  const step = jit((p: JaxParams, xs: np.Array, ys: np.Array): [np.Array, JaxParams] => {
    const [J, g] = valueAndGrad(net.loss)(tree.ref(p), xs, ys);
    const next = tree.map((v: np.Array, d: np.Array) => v.sub(d.mul(lr)), p, g);
    return [J, next];
  });
  const forward = jit((p: JaxParams, xs: np.Array) => net.output(p, xs));
  const sink = new Float64Array(1);
  const trainStep = (): void => {
    const [J, next] = step(params, x.ref, y.ref);
    params = next;
    sink[0] += J.dataSync()[0];
  };
  const pass = (): Float32Array => {
    const out = forward(tree.ref(params), x.ref).dataSync();
    if (!(out instanceof Float32Array)) throw new Error(`${what}: a float32 output was expected`);
    return out;
  };
  return {
    id: "jax",
    activate: async () => {},
    loss: () => lossFn(tree.ref(params), x.ref, y.ref).dataSync()[0],
    step: syncCall(trainStep),
    forward: syncCall(() => {
      sink[0] += pass()[0];
    }),
    output: async () => pass(),
    verifyMemory: async () => {
      const old = tree.leaves(params);
      trainStep();
      pass();
      const stale = old.filter((a) => a.refCount !== 0).length;
      const live = tree.leaves(params).filter((a) => a.refCount !== 1).length;
      if (stale || live || x.refCount !== 1 || y.refCount !== 1) {
        throw new Error(`${what}: after a step ${stale} old parameter arrays are still referenced, ${live} new ones do not have one reference, x ${x.refCount}, y ${y.refCount}`);
      }
      // the device heap is WebAssembly memory: counted in `external` but not in `arrayBuffers` (where the outputs
      // copied out by dataSync() sit until collected), so external − arrayBuffers is the wasm heaps of the process
      // (10 to 100 steps and passes, about half a second)
      const bytes = tree.leaves(params).reduce((acc, a) => acc + 4 * a.size, 0);
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) trainStep();
      const steps = Math.max(10, Math.min(100, Math.round((500 * 10) / (performance.now() - t0))));
      const wasmHeaps = (): number => {
        const m = process.memoryUsage();
        return m.external - m.arrayBuffers;
      };
      const before = wasmHeaps();
      for (let i = 0; i < steps; i++) {
        trainStep();
        pass();
      }
      const grown = wasmHeaps() - before;
      if (grown > Math.max(4 * bytes, 1 << 20)) throw new Error(`${what}: the heap grew by ${grown} bytes over ${steps} steps (parameters: ${bytes} bytes)`);
    },
    dispose: () => {
      tree.dispose(params);
      x.dispose();
      y.dispose();
      step.dispose();
      forward.dispose();
      lossFn.dispose();
    },
  };
}

export async function jaxRun(spec: NetSpec, params: Float32Array, data: Batch): Promise<PeerRun> {
  await initJax();
  const name = spec.name;
  if (isLayerSpec(spec)) return peer(mlp(mlpLayout(spec), params, data.batch), data);
  if (isChain3(spec)) return peer(chain3(params, data.batch), data);
  throw new Error(`no jax-js peer for the equation net ${name}`);
}
