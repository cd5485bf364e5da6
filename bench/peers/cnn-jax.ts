/**
 * The jax-js CNN, written as a jax-js user writes it: channels first, as jax-js's convolution takes them
 * (`lax.conv(x [N, C, H, W], k [O, I, kh, kw], strides, "VALID")`, JAX's conv_general_dilated), max pooling as
 * `lax.reduceWindow(a, np.max, [2, 2], [2, 2])` over the last two axes (jax-js has no max-pool function of its own),
 * the read-out `flat @ V + d` on p2 flattened channel by channel, and
 *   step    = jit((p, x, y) => { [J, g] = valueAndGrad(loss)(tree.ref(p), x, y); return [J, p − lr·g] })  (jaxPeer, jax.ts)
 *   forward = jit((p, x) => z)
 * as bench/peers/jax.ts does for the MLPs (initJax there sets up the wasm device, one thread). The shared weights
 * are converted once: filters to [O, I, kh, kw], V's columns reordered from (h, w, c) to (c, h, w) and transposed;
 * the images to [B, 1, H, W]. Arrays are moved into every function: one read twice is passed as `.ref` first.
 */
import { lax, nn, numpy as np } from "@jax-js/jax";
import { initJax, jaxPeer, put } from "./jax.ts";
import { CHANNELS, CLASSES, CNN_LR, FILTERS1, FILTERS2, type CnnBatch, type CnnShape, type CnnWeights, filtersOIHW, imagesNCHW, readoutCHW, sides } from "./cnn-net.ts";
import type { PeerRun } from "./types.ts";

type Params = { K1: np.Array; c1: np.Array; K2: np.Array; c2: np.Array; V: np.Array; d: np.Array };


/** relu(conv(a, k) + c), c one bias per channel. */
function convRelu(a: np.Array, k: np.Array, c: np.Array, channels: number): np.Array {
  return nn.relu(lax.conv(a, k, [1, 1], "VALID").add(c.reshape([channels, 1, 1])));
}

const maxPool = (a: np.Array): np.Array => lax.reduceWindow(a, (w: np.Array) => np.max(w), [2, 2], [2, 2]);

function logits(s: CnnShape, p: Params, x: np.Array): np.Array {
  const p1 = maxPool(convRelu(x, p.K1, p.c1, FILTERS1));
  const p2 = maxPool(convRelu(p1, p.K2, p.c2, FILTERS2));
  return np.matmul(p2.reshape([s.batch, sides(s).flat]), p.V).add(p.d);
}

/** J = mean over the batch of logsumexp(z) − y·z. */
function loss(s: CnnShape, p: Params, x: np.Array, y: np.Array): np.Array {
  const z = logits(s, p, x);
  return np.sum(nn.logsumexp(z.ref, 1).sub(np.sum(y.mul(z), 1))).mul(1 / s.batch);
}

export async function cnnJaxRun(s: CnnShape, w: CnnWeights, data: CnnBatch): Promise<PeerRun> {
  await initJax();
  const z = sides(s);
  const params: Params = {
    K1: put(filtersOIHW(w.K1, CHANNELS, FILTERS1), [FILTERS1, CHANNELS, 3, 3]),
    c1: put(w.c1, [FILTERS1]),
    K2: put(filtersOIHW(w.K2, FILTERS1, FILTERS2), [FILTERS2, FILTERS1, 3, 3]),
    c2: put(w.c2, [FILTERS2]),
    V: put(readoutCHW(w.V, s), [z.flat, CLASSES]),
    d: put(w.d, [CLASSES]),
  };
  const x = put(imagesNCHW(data.x, s.batch, s.size, CHANNELS), [s.batch, CHANNELS, s.size, s.size]);
  const y = put(data.y, [s.batch, CLASSES]);
  return jaxPeer({ params, loss: (p, xs, ys) => loss(s, p as Params, xs, ys), output: (p, xs) => logits(s, p as Params, xs) }, x, y, CNN_LR, "jax-js CNN");
}
