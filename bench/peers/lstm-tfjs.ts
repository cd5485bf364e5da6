/**
 * The TF.js LSTM, written as a TF.js user writes it with the layers API:
 *   tf.sequential([tf.layers.lstm({ units: H, recurrentActivation: "sigmoid" }), tf.layers.dense({ units: O })])
 * (TF.js's LSTM defaults to a hard sigmoid for the gates: "sigmoid" is PyTorch's and bpgen's cell). Its weights are
 * set with setWeights (Keras' layout: kernel [F, 4H], recurrent kernel [H, 4H], one bias; gate order i, f, c, o,
 * PyTorch's). A training step is `tf.train.sgd(lr).minimize(J, false, the model's variables)` inside tf.tidy, J the
 * library's meanSquaredError rescaled to bpgen's ½ Σ over the outputs (model.apply with training: true); a
 * forward pass is `model.predict(X)` read with dataSync(). One model per backend (cpu, wasm), built while its
 * backend is current; the peer makes its backend current before each of its samples, as bench/peers/tfjs.ts does.
 */
import { initWasm, tf, type TfBackend } from "./tfjs.ts";
import { LSTM_LR, type LstmBatch, type LstmShape, type LstmWeights, transposed } from "./lstm-net.ts";
import { syncCall, type PeerRun } from "./types.ts";

/** The weights are set right after: no initialiser work (TF.js's default recurrent one is an orthogonalisation). */
const NO_INIT = { kernelInitializer: "zeros", recurrentInitializer: "zeros", biasInitializer: "zeros" } as const;

async function use(backend: TfBackend): Promise<void> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`TF.js: cannot switch to ${backend}`);
}

export async function lstmTfRun(backend: TfBackend, s: LstmShape, w: LstmWeights, data: LstmBatch): Promise<PeerRun> {
  if (backend === "wasm") await initWasm();
  await use(backend);
  const G = 4 * s.units;
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ units: s.units, inputShape: [s.steps, s.features], recurrentActivation: "sigmoid", returnSequences: false, ...NO_INIT }),
      tf.layers.dense({ units: s.outputs, kernelInitializer: "zeros" }),
    ],
  });
  model.layers[0].setWeights([tf.tensor2d(transposed(w.Wi, G, s.features), [s.features, G]), tf.tensor2d(transposed(w.Wh, G, s.units), [s.units, G]), tf.tensor1d(w.b)]);
  model.layers[1].setWeights([tf.tensor2d(transposed(w.V, s.outputs, s.units), [s.units, s.outputs]), tf.tensor1d(w.d)]);
  const vars = model.trainableWeights.map((lw) => {
    const v = lw.read();
    if (!(v instanceof tf.Variable)) throw new Error("TF.js LSTM: a layer weight is not a variable");
    return v;
  });
  const X = tf.keep(tf.tensor3d(data.x, [s.batch, s.steps, s.features]));
  const Y = tf.keep(tf.tensor2d(data.y, [s.batch, s.outputs]));
  const objective = (): tf.Scalar => {
    const yh = model.apply(X, { training: true });
    if (!(yh instanceof tf.Tensor)) throw new Error("TF.js LSTM: one output tensor was expected");
    return tf.mul(0.5 * s.outputs, tf.losses.meanSquaredError(Y, yh));
  };
  const optimizer = tf.train.sgd(LSTM_LR);
  const predict = (): Float32Array => {
    const out = model.predict(X);
    if (!(out instanceof tf.Tensor)) throw new Error("TF.js LSTM: one output tensor was expected");
    const values = out.dataSync();
    if (!(values instanceof Float32Array)) throw new Error("TF.js LSTM: a float32 output was expected");
    return values;
  };
  return {
    id: backend === "cpu" ? "tf-cpu" : "tf-wasm",
    activate: () => use(backend),
    loss: () => tf.tidy(() => objective().dataSync()[0]),
    step: syncCall(() => {
      tf.tidy(() => {
        optimizer.minimize(objective, false, vars);
      });
    }),
    forward: syncCall(() => {
      tf.tidy(() => {
        predict();
      });
    }),
    output: async () => tf.tidy(() => Float32Array.from(predict())),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
      X.dispose();
      Y.dispose();
    },
  };
}
