/** A training run made up for the report's tests: what `bpgen train` hands the report, without training. */
import type { EpochRecord, TrainResult } from "../../src/train/loop.ts";
import type { RunInfo } from "../../src/train/report.ts";
import type { LayerStats } from "../../src/train/stats.ts";

/** A run of `epochs` epochs of two layers with healthy gradients (about 0.3), as the report receives it. */
export function syntheticRun(epochs: number): TrainResult {
  const layers = (e: number): LayerStats[] =>
    ["layer 1", "layer 2"].map((layer, k) => ({
      layer,
      ...(e === 0 ? {} : { grad: { norm: 0.3 + 0.01 * k + 0.001 * e, min: -0.1, max: 0.1 } }),
      param: { norm: 2, min: -1, max: 1 },
    }));
  const history: EpochRecord[] = Array.from({ length: epochs + 1 }, (_, e) => ({
    epoch: e,
    train: { loss: 1 / (e + 1), accuracy: 0.5 },
    validation: { loss: 1.1 / (e + 1), accuracy: 0.5 },
    seconds: 0.01,
    layers: layers(e),
  }));
  return { history, best: { epoch: epochs, params: new Float32Array(4) }, stopped: "finished", warnings: [], trainRows: 100, validationRows: 10, seconds: 1 };
}

export const RUN_INFO: RunInfo = { net: "demo", source: "demo.json", data: "demo.csv", optimizer: "adam lr 0.01", epochs: 1, batch: 16, seed: 1, thresholds: { low: 1e-5, high: 1e3, ratio: 1e-3 } };

