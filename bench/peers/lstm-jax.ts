/**
 * The jax-js LSTM, written as a jax-js user writes it: the parameters a tree of arrays in the `x @ W` layout
 * (Wi [F, 4H], Wh [H, 4H], V [H, O]), the cell a JavaScript function, the loop over the T steps a JavaScript
 * loop (jit traces it, so the compiled program holds T copies of the cell), and
 *   step    = jit((p, x, y) => { [J, g] = valueAndGrad(loss)(tree.ref(p), x, y); return [J, p − lr·g] })  (jaxPeer, jax.ts)
 *   forward = jit((p, x) => output)
 * as bench/peers/jax.ts does for the MLPs (initJax there sets up the wasm device, one thread). Arrays are moved
 * into every function: a parameter read once per step is passed as `.ref` on all but its last use.
 */
import { nn, numpy as np } from "@jax-js/jax";
import { initJax, jaxPeer, put } from "./jax.ts";
import { LSTM_LR, type LstmBatch, type LstmShape, type LstmWeights, transposed } from "./lstm-net.ts";
import type { PeerRun } from "./types.ts";

type Params = { Wi: np.Array; Wh: np.Array; b: np.Array; V: np.Array; d: np.Array };


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
  const params: Params = {
    Wi: put(transposed(w.Wi, G, s.features), [s.features, G]),
    Wh: put(transposed(w.Wh, G, s.units), [s.units, G]),
    b: put(w.b, [G]),
    V: put(transposed(w.V, s.outputs, s.units), [s.units, s.outputs]),
    d: put(w.d, [s.outputs]),
  };
  const x = put(data.x, [s.batch, s.steps, s.features]);
  const y = put(data.y, [s.batch, s.outputs]);
  return jaxPeer({ params, loss: (p, xs, ys) => loss(s, p as Params, xs, ys), output: (p, xs) => output(s, p as Params, xs) }, x, y, LSTM_LR, "jax-js LSTM");
}
