/**
 * The CNN benchmark's peers compute bpgen's network (bench/cnn.ts checks this again at the benchmark's size): on a
 * tiny version (16×16 images: conv 14×14, pool 7×7, conv 5×5, pool 2×2 with the last row and column dropped; batch
 * 5), jax-js, TF.js (cpu, wasm) and onnxruntime-web give bpgen's logits and loss, and the peers that train give them
 * again after one SGD step. Each peer converts the shared weights to its own layout (channels first for jax-js and
 * ONNX, the read-out's columns reordered), so agreement checks those conversions too (p2 has 2×2 cells: the
 * read-out's reordering is not the identity).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import { ROOT } from "../bench/nets.ts";
import { cnnBpgenRun } from "../bench/peers/cnn-bpgen.ts";
import { checkAgainst, stepAll } from "../bench/peers/agreement.ts";
import { cnnJaxRun } from "../bench/peers/cnn-jax.ts";
import { cnnBatch, cnnSpec, cnnWeights, layerFlops, sides, type CnnShape } from "../bench/peers/cnn-net.ts";
import { cnnOrtRun } from "../bench/peers/cnn-ort.ts";
import { cnnTfRun } from "../bench/peers/cnn-tfjs.ts";
import type { PeerRun } from "../bench/peers/types.ts";

const SHAPE: CnnShape = { size: 16, batch: 5 };
const weights = cnnWeights(SHAPE, 3);
const data = cnnBatch(SHAPE, 4);

/** Far tighter than the benchmark's 1e-4: the peers agree to float32 rounding. */
const CLOSE = 1e-5;

describe("the CNN benchmark's network", () => {
  it("at 28×28 is examples/mnist_cnn.json with plain SGD", () => {
    const example = JSON.parse(readFileSync(join(ROOT, "examples", "mnist_cnn.json"), "utf8")) as Record<string, unknown>;
    const spec = cnnSpec({ size: 28, batch: 32 });
    expect({ ...spec, optimizer: example.optimizer }).toEqual(Object.fromEntries(Object.entries(example).filter(([k]) => k !== "$schema")));
    expect(spec.optimizer).toEqual({ type: "sgd", lr: 0.01 });
  });

  it("counts the products' FLOPs from the layer sizes", () => {
    // 28×28: conv1 26×26 outputs × 8 filters × 9 taps, conv2 11×11 × 16 × 72 taps, dense 400 × 10; multiply-adds count 2
    const [conv1, conv2, dense] = layerFlops({ size: 28, batch: 32 });
    expect(sides({ size: 28, batch: 32 })).toEqual({ conv1: 26, pool1: 13, conv2: 11, pool2: 5, flat: 400 });
    expect([conv1.forward, conv2.forward, dense.forward]).toEqual([2 * 676 * 8 * 9, 2 * 121 * 16 * 72, 2 * 4000]);
    expect([conv1.train, conv2.train, dense.train]).toEqual([2 * conv1.forward, 3 * conv2.forward, 3 * dense.forward]);
  });
});

describe("the CNN peers agree with bpgen", async () => {
  const m = loadModule<Float32Array>((await compile(cnnSpec(SHAPE), { precision: "f32", format: false })).source);
  const peers: [string, () => Promise<{ run: PeerRun; cannotTrain: string | null }>][] = [
    ["jax-js", async () => ({ run: await cnnJaxRun(SHAPE, weights, data), cannotTrain: null })],
    ["TF.js cpu", () => cnnTfRun("cpu", SHAPE, weights, data)],
    ["TF.js wasm", () => cnnTfRun("wasm", SHAPE, weights, data)],
    ["onnxruntime-web", async () => ({ run: await cnnOrtRun(SHAPE, weights, data), cannotTrain: null })],
  ];
  for (const [name, make] of peers) {
    it(name, async () => {
      const bpgen = cnnBpgenRun("bpgen", m, SHAPE, weights, data);
      const { run, cannotTrain } = await make();
      try {
        const before = await checkAgainst([bpgen, run], bpgen, "before training");
        expect(before.outputDiff).toBeLessThan(CLOSE);
        if (run.loss) expect(before.lossDiff).toBeLessThan(CLOSE);
        if (cannotTrain !== null) {
          // TF.js's wasm backend has no kernel for the filters' gradient
          expect(cannotTrain).toMatch(/not registered/);
          expect(run.step).toBeNull();
          await run.verifyMemory?.();
          return;
        }
        if (!run.step) return;
        await stepAll([bpgen, run]);
        const after = await checkAgainst([bpgen, run], bpgen, "after one step", true);
        // the step moved the weights: the loss is not the one before
        expect(after.loss).not.toBeCloseTo(before.loss, 6);
        expect(after.outputDiff).toBeLessThan(CLOSE);
        expect(after.lossDiff).toBeLessThan(CLOSE);
        await run.verifyMemory?.();
      } finally {
        run.dispose();
      }
    });
  }
});
