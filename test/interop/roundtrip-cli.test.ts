/**
 * The interop commands one after the other, as the README walks them: a trained network exported to ONNX with its
 * parameters (a safetensors file of PyTorch's names, as `bpgen train` writes it), imported back into a net.json and
 * a safetensors file of bpgen's names, and `bpgen train --resume` starting from those weights: the imported
 * network's first loss is the original's on the same data.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bpgenInProcess } from "../helpers/in-process.ts";

const NET = {
  name: "small_cnn",
  input: [6, 6, 1],
  layers: [
    { type: "conv2d", filters: 3, kernel: 3, activation: "relu" },
    { type: "batchnorm" },
    { type: "max_pool2d", size: 2 },
    { type: "flatten" },
    { type: "dense", units: 2 },
  ],
  loss: "softmax_cross_entropy",
  optimizer: { type: "sgd", lr: 0.05 },
};

/** A bidirectional GRU over 5 steps of 2 features, its two last states classified. */
const SEQUENCE_NET = {
  name: "small_birnn",
  input: [5, 2],
  layers: [
    { type: "gru", units: 3, bidirectional: true, return_sequences: true, initial_state: "learned" },
    { type: "lstm", units: 2, bidirectional: true },
    { type: "dense", units: 2 },
  ],
  loss: "softmax_cross_entropy",
  optimizer: { type: "sgd", lr: 0.05 },
};

/** A small CSV: `features` values (36 pixels, or 5 steps of 2) and a class label (the last column) per row. */
function data(rows: number, features = 36): string {
  const header = [...Array.from({ length: features }, (_, i) => `x${i}`), "label"].join(",");
  const lines = Array.from({ length: rows }, (_, r) => {
    const pixels = Array.from({ length: features }, (_, i) => Math.sin(r * 7.1 + i * 1.3).toFixed(4));
    return [...pixels, r % 2 === 0 ? "even" : "odd"].join(",");
  });
  return [header, ...lines].join("\n");
}

/** The training loss of history.json's first entry (the evaluation before any step). */
const firstLoss = (dir: string) => (JSON.parse(readFileSync(join(dir, "history.json"), "utf8")) as { history: { train: { loss: number } }[] }).history[0].train.loss;

describe("train, export to ONNX, import, resume", () => {
  it("resumes the imported network from the trained weights", async () => {
    await roundTrip(NET, data(40));
  });

  it("and a network of bidirectional recurrent layers, whose reverse directions' weights have PyTorch's names (weight_ih_l0_reverse)", async () => {
    await roundTrip(SEQUENCE_NET, data(40, 10));
  });
});

/** Trains `net` for two epochs, exports it to ONNX with the trained weights, imports it back, and resumes both. */
async function roundTrip(net: object, csv: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpgen-roundtrip-"));
  writeFileSync(join(dir, "net.json"), JSON.stringify(net));
  writeFileSync(join(dir, "data.csv"), csv);
  const run = (args: string[]) => bpgenInProcess(args, dir);
  const trained = await run(["train", "net.json", "--data", "data.csv", "--epochs", "2", "--validation", "0", "--out", "trained", "--no-progress"]);
  expect(trained.code, trained.stderr).toBe(0);
  const exported = await run(["export", "net.json", "--to", "onnx", "--params", join("trained", "params.safetensors"), "--out", "net.onnx"]);
  expect(exported.code, exported.stderr).toBe(0);
  const imported = await run(["import", "net.onnx", "--out", "imported", "--name", "again"]);
  expect(imported.code, imported.stderr).toBe(0);
  // both start from the trained weights: their first evaluation is the same loss
  const original = await run(["train", "net.json", "--data", "data.csv", "--epochs", "0", "--validation", "0", "--resume", join("trained", "params.safetensors"), "--out", "a", "--no-progress"]);
  const resumed = await run(["train", join("imported", "again.json"), "--data", "data.csv", "--epochs", "0", "--validation", "0", "--resume", join("imported", "again.safetensors"), "--out", "b", "--no-progress"]);
  expect(original.code, original.stderr).toBe(0);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(firstLoss(join(dir, "b"))).toBeCloseTo(firstLoss(join(dir, "a")), 5);
}
