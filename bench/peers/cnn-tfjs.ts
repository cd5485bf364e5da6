/**
 * The TF.js CNN, written as a TF.js user writes it with the core API, channels last (TF.js's default, and bpgen's):
 *   a = tf.fused.conv2d({ x, filter: K, strides: 1, pad: "valid", bias: c, activation: "relu" })
 *   p = tf.maxPool(a, 2, 2, "valid")                                        (twice)
 *   z = tf.fused.matMul({ a: reshape(p2, [B, P]), b: Vᵀ, bias: d })
 * (the fused forms are what tf.layers.conv2d and tf.layers.dense call; on the wasm backend the fused convolution's
 * forward pass took 1.3 ms where tf.conv2d, tf.add and tf.relu took 1.8 ms, the same on cpu)
 * with variables for the filters (bpgen's [kh, kw, in, out] is TF.js's layout, copied as they are), the biases and
 * the read-out (V [10, P] transposed once to [P, 10]). The loss is `tf.losses.softmaxCrossEntropy(y, z)` (the mean
 * over the batch of −Σ y·log softmax(z), which for one-hot y is logsumexp(z) − y·z); a training step is
 * `tf.train.sgd(lr).minimize(J, false, vars)` inside tf.tidy, a forward pass z read with dataSync(). One set of
 * variables per backend, made while its backend is current; the peer makes its backend current before each of its
 * samples, as bench/peers/tfjs.ts does.
 *
 * The wasm backend (4.22) registers no Conv2DBackpropFilter kernel (nor MaxPoolGrad), so it cannot take the
 * gradient of this net: the peer tries one step at setup and, if the backend throws, is inference only and says why.
 */
import { initWasm, tf, type TfBackend } from "./tfjs.ts";
import { CLASSES, CNN_LR, type CnnBatch, type CnnShape, type CnnWeights, CHANNELS, FILTERS1, FILTERS2, KERNEL, POOL, sides } from "./cnn-net.ts";
import { transposed } from "./lstm-net.ts";
import { syncCall, type PeerRun } from "./types.ts";

async function use(backend: TfBackend): Promise<void> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`TF.js: cannot switch to ${backend}`);
}

/** The peer, and why it has no training step when it has none. */
export interface CnnTfRun {
  readonly run: PeerRun;
  readonly cannotTrain: string | null;
}

export async function cnnTfRun(backend: TfBackend, s: CnnShape, w: CnnWeights, data: CnnBatch): Promise<CnnTfRun> {
  if (backend === "wasm") await initWasm();
  await use(backend);
  const flat = sides(s).flat;
  const K1 = tf.variable(tf.tensor4d(w.K1, [KERNEL, KERNEL, CHANNELS, FILTERS1]));
  const c1 = tf.variable(tf.tensor1d(w.c1));
  const K2 = tf.variable(tf.tensor4d(w.K2, [KERNEL, KERNEL, FILTERS1, FILTERS2]));
  const c2 = tf.variable(tf.tensor1d(w.c2));
  const Vt = tf.variable(tf.tensor2d(transposed(w.V, CLASSES, flat), [flat, CLASSES]));
  const d = tf.variable(tf.tensor1d(w.d));
  const vars = [K1, c1, K2, c2, Vt, d];
  const X = tf.keep(tf.tensor4d(data.x, [s.batch, s.size, s.size, CHANNELS]));
  const Y = tf.keep(tf.tensor2d(data.y, [s.batch, CLASSES]));
  const convRelu = (x: tf.Tensor4D, filter: tf.Variable, bias: tf.Variable): tf.Tensor4D =>
    tf.fused.conv2d({ x, filter: filter as tf.Tensor4D, strides: 1, pad: "valid", bias, activation: "relu" });
  const logits = (): tf.Tensor2D => {
    const p1 = tf.maxPool(convRelu(X, K1, c1), POOL, POOL, "valid");
    const p2 = tf.maxPool(convRelu(p1, K2, c2), POOL, POOL, "valid");
    return tf.fused.matMul({ a: tf.reshape(p2, [s.batch, flat]), b: Vt as tf.Tensor2D, bias: d }) as tf.Tensor2D;
  };
  const objective = (): tf.Scalar => tf.losses.softmaxCrossEntropy(Y, logits()) as tf.Scalar;
  const optimizer = tf.train.sgd(CNN_LR);
  const predict = (): Float32Array => {
    const values = logits().dataSync();
    if (!(values instanceof Float32Array)) throw new Error("TF.js CNN: a float32 output was expected");
    return values;
  };
  const trainStep = () => {
    tf.tidy(() => {
      optimizer.minimize(objective, false, vars);
    });
  };
  const cannotTrain = trainingFails(backend, vars, objective);
  const run: PeerRun = {
    id: backend === "cpu" ? "tf-cpu" : "tf-wasm",
    activate: () => use(backend),
    loss: cannotTrain ? null : () => tf.tidy(() => objective().dataSync()[0]),
    step: cannotTrain ? null : syncCall(trainStep),
    forward: syncCall(() => {
      tf.tidy(() => {
        predict();
      });
    }),
    output: async () => tf.tidy(() => Float32Array.from(predict())),
    // every tensor a step or a pass makes is disposed by its tf.tidy: the count of live tensors stays put
    verifyMemory: async () => {
      await use(backend);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) {
        if (!cannotTrain) trainStep();
        tf.tidy(() => {
          predict();
        });
      }
      const after = tf.memory().numTensors;
      if (after !== before) throw new Error(`TF.js ${backend} CNN: ${after - before} tensors more after 2 steps and passes`);
    },
    dispose: () => {
      optimizer.dispose();
      for (const v of vars) v.dispose();
      X.dispose();
      Y.dispose();
    },
  };
  return { run, cannotTrain };
}

/** Takes the gradient once (without applying it): null if the backend can, else the first line of its error. */
function trainingFails(backend: TfBackend, vars: readonly tf.Variable[], objective: () => tf.Scalar): string | null {
  try {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(objective, [...vars]);
      for (const g of Object.values(grads)) g.dataSync();
    });
    return null;
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return `TF.js ${backend}: ${message}`;
  }
}
