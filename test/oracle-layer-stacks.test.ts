/**
 * bpgen against the TF.js oracle: its layer-stack families (test/oracle/check-layer-stacks.ts). Random stacks of
 * every layer type — conv1d/2d/3d, max and average pooling, global_avg_pool, flatten, activation, layernorm,
 * batchnorm, dropout, residual blocks (identity, projection, strided projection), dense — with random kernels,
 * strides, paddings and dilations, against TF.js's own layers: stacks without modes on the interpreted kernel IR in
 * f64 and f32; stacks with batchnorm and dropout compiled with both kernel back ends in f64 and f32, in training
 * mode (batch statistics, the gradient, the running statistics after the step) and inference mode (the running
 * statistics, dropout the identity). The dense and equation families are test/oracle.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { LAYER_STACK_FAMILIES, checkModalStack, checkStack, familyStack } from "./oracle/check-layer-stacks.ts";
import { features } from "./oracle/random-layer-stacks.ts";
import { scoped } from "./oracle/tf-equations.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const seeds = (family: (typeof LAYER_STACK_FAMILIES)[number]) => Array.from({ length: family.count }, (_, i) => family.seed0 + i);

for (const family of LAYER_STACK_FAMILIES) {
  const how = family.modal ? "both modes, js and wasm kernels, f64 and f32" : "interpreted kernel IR, f64 and f32";
  describe(`bpgen vs TF.js oracle: random ${family.kind} (${how})`, () => {
    for (const seed of seeds(family)) it(`seed ${seed}`, () => (family.modal ? checkModalStack(family, seed) : checkStack(family, seed)));
  });
}

describe("the layer-stack families", () => {
  const covered = (modal: boolean) => {
    const seen = new Set<string>();
    for (const family of LAYER_STACK_FAMILIES.filter((f) => f.modal === modal)) {
      for (const seed of seeds(family)) for (const f of features(familyStack(family, seed).spec.layers)) seen.add(f);
    }
    return seen;
  };

  it("cover every layer type and option without modes", () => {
    const seen = covered(false);
    const types = ["dense", "conv1d", "conv2d", "conv3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "global_avg_pool", "flatten", "activation", "layernorm", "residual"];
    const options = ["dilation", "projection", "strided projection", "identity", "con padding same", "con padding valid", "con padding 1", "con padding per axis", "max padding same", "avg padding 1", "con stride"];
    expect([...types, ...options].filter((t) => !seen.has(t))).toEqual([]);
  });

  it("cover batchnorm and dropout, in the stack and in residual blocks, among every other type", () => {
    const seen = covered(true);
    const types = ["batchnorm", "dropout", "dense", "flatten", "global_avg_pool", "conv1d", "conv2d", "residual", "layernorm", "activation"];
    const options = ["batchnorm in a block", "dropout in a block", "strided projection", "identity"];
    expect([...types, ...options].filter((t) => !seen.has(t))).toEqual([]);
    expect([...seen].some((t) => t.includes("pool") && t !== "global_avg_pool")).toBe(true);
  });
});

describe("TF.js's weight layouts are the ones the oracle states", () => {
  it("a conv2d kernel is [kh, kw, in, out], a dense kernel [in, out]", () => {
    scoped(() => {
      const conv = tf.layers.conv2d({ filters: 5, kernelSize: [2, 3] });
      conv.apply(tf.zeros([1, 4, 4, 7]));
      const dense = tf.layers.dense({ units: 5 });
      dense.apply(tf.zeros([1, 7]));
      expect(conv.getWeights().map((w) => w.shape)).toEqual([[2, 3, 7, 5], [5]]);
      expect(dense.getWeights().map((w) => w.shape)).toEqual([[7, 5], [5]]);
      conv.dispose();
      dense.dispose();
    });
  });

  it("TF.js's 3-D \"same\" pads a negative number of cells where Keras pads none (the oracle pads 3-D \"same\" itself)", () => {
    scoped(() => {
      // a 1×1×1 window of stride 2 on 6 cells: Keras reads cells 0, 2, 4; TF.js's conv3d reads 1, 3, 5
      const x = tf.tensor5d([0, 1, 2, 3, 4, 5], [1, 6, 1, 1, 1]);
      const picked = tf.conv3d(x, tf.ones([1, 1, 1, 1, 1]) as tf.Tensor5D, 2, "same");
      expect(Array.from(picked.dataSync())).toEqual([1, 3, 5]);
      expect(Array.from(tf.conv2d(x.reshape([1, 6, 1, 1]) as tf.Tensor4D, tf.ones([1, 1, 1, 1]) as tf.Tensor4D, 2, "same").dataSync())).toEqual([0, 2, 4]);
    });
  });
});
