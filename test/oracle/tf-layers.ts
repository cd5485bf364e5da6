/**
 * Independent oracle for the layer form (docs/net-json.md), computed with TensorFlow.js (float32) and
 * differentiated by TF.js autodiff, in bpgen's flat parameter layout:
 * W1 [units_1, input] row-major, then b1 (if bias), then W2, b2, …; z = W a + b.
 */
import * as tf from "@tensorflow/tfjs";
import type { LayerNetSpec } from "../../src/spec/types.ts";
import { ELEMENTWISE, OracleError, evalMath, scoped, type OracleResult, type Slot } from "./tf-equations.ts";

export type { OracleResult } from "./tf-equations.ts";

export interface LayerLayout {
  params: Slot[];
  /** Per layer: weight slot, bias slot (or null), units, fan-in, activation. */
  layers: { W: Slot; b: Slot | null; units: number; fanIn: number; activation: string }[];
  paramCount: number;
  inputSize: number;
  outputSize: number;
  targetSize: number;
}

export function layerLayout(spec: LayerNetSpec): LayerLayout {
  const inputSize = typeof spec.input === "number" ? spec.input : spec.input.reduce((a, b) => a * b, 1);
  const params: Slot[] = [];
  const layers: LayerLayout["layers"] = [];
  let offset = 0;
  let fanIn = inputSize;
  spec.layers.forEach((layer, i) => {
    const l = i + 1;
    const W: Slot = { name: `W${l}`, shape: [layer.units, fanIn], offset, size: layer.units * fanIn };
    offset += W.size;
    params.push(W);
    let b: Slot | null = null;
    if (layer.bias ?? true) {
      b = { name: `b${l}`, shape: [layer.units], offset, size: layer.units };
      offset += b.size;
      params.push(b);
    }
    layers.push({ W, b, units: layer.units, fanIn, activation: layer.activation ?? "linear" });
    fanIn = layer.units;
  });
  return { params, layers, paramCount: offset, inputSize, outputSize: fanIn, targetSize: fanIn };
}

/** A builtin activation by name, otherwise a mathjs expression in `x` applied per element. */
export function applyActivation(activation: string, z: tf.Tensor): tf.Tensor {
  const builtin = ELEMENTWISE[activation];
  if (builtin) return builtin(z);
  return evalMath(activation, { x: z }, { elementwise: true });
}

/** The layer-form network computed with TF.js (float32); gradient by TF.js autodiff, in the flat layout. */
export function tfLayerNet(
  spec: LayerNetSpec,
  params: Float64Array,
  x: Float64Array,
  y: Float64Array,
  batch: number,
): OracleResult {
  const layout = layerLayout(spec);
  if (params.length !== layout.paramCount) throw new OracleError(`params: expected ${layout.paramCount}, found ${params.length}`);
  if (x.length !== batch * layout.inputSize) throw new OracleError(`x: expected ${batch * layout.inputSize}, found ${x.length}`);
  if (y.length !== batch * layout.targetSize) throw new OracleError(`y: expected ${batch * layout.targetSize}, found ${y.length}`);
  const last = layout.layers[layout.layers.length - 1];
  const sigmoidLogits = spec.loss === "binary_cross_entropy" && last.activation === "sigmoid";

  return scoped(() => {
    const X = tf.tensor2d(Float32Array.from(x), [batch, layout.inputSize], "float32");
    const Y = tf.tensor2d(Float32Array.from(y), [batch, layout.targetSize], "float32");

    /** Returns the per-sample losses [batch], the network output [batch, out] and the L2 term. */
    const run = (p: tf.Tensor) => {
      let a: tf.Tensor = X;
      let z: tf.Tensor = X;
      let l2 = tf.scalar(0);
      for (const layer of layout.layers) {
        const W = tf.reshape(tf.slice(p, [layer.W.offset], [layer.W.size]), [layer.units, layer.fanIn]) as tf.Tensor2D;
        z = tf.matMul(a as tf.Tensor2D, W, false, true); // [batch, units] = a · Wᵀ
        if (layer.b) z = tf.add(z, tf.reshape(tf.slice(p, [layer.b.offset], [layer.b.size]), [1, layer.units]));
        a = applyActivation(layer.activation, z);
        l2 = tf.add(l2, tf.sum(tf.mul(W, W)));
      }
      let perSample: tf.Tensor;
      let output: tf.Tensor = a;
      switch (spec.loss) {
        case "mse":
          perSample = tf.mul(0.5, tf.sum(tf.square(tf.sub(a, Y)), 1));
          break;
        case "binary_cross_entropy":
          if (sigmoidLogits) {
            // −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z
            perSample = tf.sum(tf.sub(tf.softplus(z), tf.mul(Y, z)), 1);
          } else {
            perSample = tf.neg(tf.sum(tf.add(tf.mul(Y, tf.log(a)), tf.mul(tf.sub(1, Y), tf.log(tf.sub(1, a)))), 1));
          }
          break;
        case "softmax_cross_entropy":
          // −Σ y log softmax(a), with a the last layer's activation (the logits)
          perSample = tf.neg(tf.sum(tf.mul(Y, tf.logSoftmax(a, 1)), 1));
          output = tf.softmax(a, 1);
          break;
        default:
          throw new OracleError(`unknown loss ${String(spec.loss)}`);
      }
      return { perSample, output, l2 };
    };

    const objective = (p: tf.Tensor): tf.Scalar => {
      const { perSample, l2 } = run(p);
      let j = tf.mean(perSample);
      if (spec.l2) j = tf.add(j, tf.mul(spec.l2 / 2, l2));
      return j as tf.Scalar;
    };

    const p = tf.tensor1d(Float32Array.from(params), "float32");
    const { value, grad } = tf.valueAndGrad(objective)(p);
    const { output } = run(p);
    return {
      loss: value.dataSync()[0],
      grad: Float64Array.from(grad.dataSync()),
      output: Float64Array.from(output.dataSync()),
    };
  });
}
