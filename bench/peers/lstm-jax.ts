/**
 * The jax-js LSTM, written as a jax-js user writes it: the parameters a tree of arrays in the `x @ W` layout
 * (Wi [F, 4H], Wh [H, 4H], V [H, O]), the cell a JavaScript function, the loop over the T steps a JavaScript
 * loop (jit traces it, so the compiled program holds T copies of the cell), and
 *   step    = jit((p, x, y) => { [J, g] = valueAndGrad(loss)(tree.ref(p), x, y); return [J, p − lr·g] })
 *   forward = jit((p, x) => output)
 * as bench/peers/jax.ts does for the MLPs (initJax there sets up the wasm device, one thread). Arrays are moved
 * into every function: a parameter read once per step is passed as `.ref` on all but its last use.
 */
import { jit, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { initJax } from "./jax.ts";
import { LSTM_LR, type LstmBatch, type LstmShape, type LstmWeights, transposed } from "./lstm-net.ts";
import { syncCall, type PeerRun } from "./types.ts";

type Params = { Wi: np.Array; Wh: np.Array; b: np.Array; V: np.Array; d: np.Array };

function put(data: Float32Array, shape: number[]): np.Array {
  return np.array(Float32Array.from(data)).reshape(shape);
}

/** One step of the cell: (h, c) → (h', c'); consumes h, c and xt. */
function cell(p: Params, xt: np.Array, h: np.Array, c: np.Array, last: boolean): [np.Array, np.Array] {
  const use = (a: np.Array) => (last ? a : a.ref);
  const z = np.matmul(xt, use(p.Wi)).add(np.matmul(h, use(p.Wh))).add(use(p.b));
  const [zi, zf, zg, zo] = np.split(z, 4, 1);
  const cNext = nn.sigmoid(zf).mul(c).add(nn.sigmoid(zi).mul(np.tanh(zg)));
  const hNext = nn.sigmoid(zo).mul(np.tanh(cNext.ref));
  return [hNext, cNext];
}

function lastHidden(s: LstmShape, p: Params, x: np.Array): np.Array {
  let h = np.zeros([s.batch, s.units]);
  let c = np.zeros([s.batch, s.units]);
  for (let t = 0; t < s.steps; t++) {
    const last = t === s.steps - 1;
    [h, c] = cell(p, (last ? x : x.ref).slice([], t), h, c, last);
  }
  c.dispose();
  return h;
}

function output(s: LstmShape, p: Params, x: np.Array): np.Array {
  const { V, d } = p;
  return np.matmul(lastHidden(s, p, x), V).add(d);
}

/** J = mean over the batch of ½ Σ (yh − y)². */
function loss(s: LstmShape, p: Params, x: np.Array, y: np.Array): np.Array {
  return np.sum(np.square(output(s, p, x).sub(y))).mul(0.5 / s.batch);
}

export async function lstmJaxRun(s: LstmShape, w: LstmWeights, data: LstmBatch): Promise<PeerRun> {
  await initJax();
  const G = 4 * s.units;
  let params: Params = {
    Wi: put(transposed(w.Wi, G, s.features), [s.features, G]),
    Wh: put(transposed(w.Wh, G, s.units), [s.units, G]),
    b: put(w.b, [G]),
    V: put(transposed(w.V, s.outputs, s.units), [s.units, s.outputs]),
    d: put(w.d, [s.outputs]),
  };
  const x = put(data.x, [s.batch, s.steps, s.features]);
  const y = put(data.y, [s.batch, s.outputs]);
  const objective = (p: Params, xs: np.Array, ys: np.Array) => loss(s, p, xs, ys);
  const lossFn = jit(objective);
  const step = jit((p: Params, xs: np.Array, ys: np.Array): [np.Array, Params] => {
    const [J, g] = valueAndGrad(objective)(tree.ref(p), xs, ys);
    const next = tree.map((v: np.Array, dv: np.Array) => v.sub(dv.mul(LSTM_LR)), p, g);
    return [J, next];
  });
  const forward = jit((p: Params, xs: np.Array) => output(s, p, xs));
  const sink = new Float64Array(1);
  const pass = (): Float32Array => {
    const out = forward(tree.ref(params), x.ref).dataSync();
    if (!(out instanceof Float32Array)) throw new Error("jax-js LSTM: a float32 output was expected");
    return out;
  };
  return {
    id: "jax",
    activate: async () => {},
    loss: () => lossFn(tree.ref(params), x.ref, y.ref).dataSync()[0],
    step: syncCall(() => {
      const [J, next] = step(params, x.ref, y.ref);
      params = next;
      sink[0] += J.dataSync()[0];
    }),
    forward: syncCall(() => {
      sink[0] += pass()[0];
    }),
    output: async () => Float32Array.from(pass()),
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
