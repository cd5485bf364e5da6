/**
 * `bpgen train` and the gradient over the steps of recurrent layers (src/train/time.ts): the mean ‖∂L/∂h_t‖ the
 * trainer records each epoch over its fixed batch, the warnings when it vanishes or explodes over the sequence
 * (with the remedies that apply to the cell), the report's curve and heat map, the terminal's lines; and none of
 * it for a network without recurrent layers. Tiny nets and few epochs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildNet, compile } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { type TrainOptions, train } from "../src/train/loop.ts";
import { loadTrainable } from "../src/train/module-api.ts";
import { TIME_BATCH, recurrentCells, timeRemedies, timeWarningReason, timeWarnings } from "../src/train/time.ts";
import { tempDir } from "./helpers/cli.ts";
import { bpgenInProcess } from "./helpers/in-process.ts";
import { makeRng } from "./helpers/ir-util.ts";

const STEPS = 6;
const RNN = { name: "tiny_rnn", input: [STEPS, 2], layers: [{ type: "rnn", units: 3 }, { type: "dense", units: 1 }], loss: "mse" } as unknown as NetSpec;
const DENSE = { name: "tiny_dense", input: [4], layers: [{ type: "dense", units: 3, activation: "tanh" }, { type: "dense", units: 1 }], loss: "mse" } as unknown as NetSpec;

const OPTIONS: TrainOptions = {
  epochs: 2,
  batch: 8,
  validation: 0,
  seed: 5,
  optimizer: { type: "adam", lr: 0.01 },
  thresholds: { low: 1e-5, high: 1e3, ratio: 1e-3 },
  task: "regression",
};

/** `count` rows of random inputs and targets. */
function rows(count: number, inputSize: number, seed: number): { x: Float32Array; y: Float32Array; count: number } {
  const rng = makeRng(seed);
  return {
    x: Float32Array.from({ length: count * inputSize }, () => 2 * rng() - 1),
    y: Float32Array.from({ length: count }, () => 2 * rng() - 1),
    count,
  };
}

async function moduleOf(spec: NetSpec) {
  return loadTrainable<Float32Array>((await compile(spec, { precision: "f32", format: false })).source);
}

describe("the gradient over the steps in training", () => {
  it("records, each epoch, the mean of stateGradientNorms over the fixed batch (every row when there are fewer than 64)", async () => {
    const m = await moduleOf(RNN);
    const data = rows(20, m.meta.inputSize, 1);
    const r = await train(m, data, OPTIONS);
    expect(r.history.map((e) => e.steps?.map((s) => [s.layer, s.norms.length]))).toEqual([0, 1, 2].map(() => [["h1", STEPS]]));
    // epoch 0 is the starting point: initParams(seed), every row, in any order
    const out = new Float32Array(data.count * STEPS);
    m.stateGradientNorms?.(m.initParams(OPTIONS.seed), data.x, data.y, out, data.count);
    const mean = Array.from({ length: STEPS }, (_, t) => Array.from({ length: data.count }, (_, s) => out[s * STEPS + t]).reduce((a, b) => a + b) / data.count);
    const recorded = r.history[0].steps?.[0].norms ?? [];
    recorded.forEach((v, t) => expect(v, `step ${t}`).toBeCloseTo(mean[t], 5));
    // training moves the parameters: a later epoch's picture differs
    expect(r.history[2].steps?.[0].norms).not.toEqual(recorded);
    expect(r.timeWarnings).toBeDefined();
  });

  it("measures at most 64 rows however large the training set", async () => {
    const m = await moduleOf(RNN);
    const data = rows(TIME_BATCH + 30, m.meta.inputSize, 2);
    const seen: number[] = [];
    const counting = { ...m, stateGradientNorms: (...args: Parameters<NonNullable<typeof m.stateGradientNorms>>) => (seen.push(args[4] ?? -1), m.stateGradientNorms?.(...args)) };
    await train(counting, data, { ...OPTIONS, epochs: 1 });
    expect(seen).toEqual([TIME_BATCH, TIME_BATCH]);
  });

  it("measures a network with state through its state (dropout after the rnn)", async () => {
    const spec = { ...RNN, name: "tiny_rnn_dropout", layers: [{ type: "rnn", units: 3 }, { type: "dropout", rate: 0.2 }, { type: "dense", units: 1 }] } as unknown as NetSpec;
    const m = await moduleOf(spec);
    const r = await train(m, rows(12, m.meta.inputSize, 6), { ...OPTIONS, epochs: 1 });
    expect(r.history.map((e) => e.steps?.[0]?.norms.length)).toEqual([STEPS, STEPS]);
    expect(r.history.flatMap((e) => e.steps?.[0]?.norms ?? []).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  });

  it("records nothing over time for a network without recurrent layers", async () => {
    const m = await moduleOf(DENSE);
    const r = await train(m, rows(16, 4, 3), OPTIONS);
    expect(r.history.every((e) => e.steps === undefined)).toBe(true);
    expect(r.timeWarnings).toBeUndefined();
  });
});

describe("warnings over the steps", () => {
  const steps = (norms: number[]) => [{ layer: "h1", norms }];
  it("vanishing below the ratio, exploding above its inverse or not finite, none between", () => {
    expect(timeWarnings(3, steps([1e-7, 1e-4, 0.5]), 1e-3).map((w) => [w.kind, w.epoch, w.first, w.last, w.steps])).toEqual([["vanishing", 3, 1e-7, 0.5, 3]]);
    expect(timeWarnings(1, steps([2e3, 10, 1]), 1e-3).map((w) => w.kind)).toEqual(["exploding"]);
    expect(timeWarnings(1, steps([NaN, 1, 1]), 1e-3).map((w) => w.kind)).toEqual(["exploding"]);
    expect(timeWarnings(1, steps([0.01, 0.1, 1]), 1e-3)).toEqual([]);
    expect(timeWarnings(1, steps([0.01, 0.1, 1]), 0.1).map((w) => w.kind)).toEqual(["vanishing"]);
    // a last step the loss does not read gives no ratio
    expect(timeWarnings(1, steps([0, 0, 0]), 1e-3)).toEqual([]);
  });

  it("name the cell and suggest gated cells only for a plain rnn; clipping for an explosion", () => {
    const cells = new Map([["h1", "rnn" as const]]);
    expect(timeWarnings(1, steps([1e-9, 1]), 1e-3, cells)[0].cell).toBe("rnn");
    expect(timeRemedies("vanishing", ["rnn"]).join("; ")).toMatch(/gated cells \(lstm or gru\).*shorter sequences.*truncated/);
    expect(timeRemedies("vanishing", ["lstm"]).join("; ")).not.toMatch(/gated/);
    expect(timeRemedies("exploding", ["gru"]).join("; ")).toMatch(/--clip-norm/);
  });
});

describe("a bidirectional layer's two directions over the steps", () => {
  const BI = { name: "tiny_bi", input: [STEPS, 2], layers: [{ type: "gru", units: 3, bidirectional: true }, { type: "dense", units: 1 }], loss: "mse" } as unknown as NetSpec;

  it("measures the reverse direction as meta.recurrences marks it, and names both directions' cell", async () => {
    const m = await moduleOf(BI);
    expect(m.meta.recurrences).toEqual([
      { name: "h1", steps: STEPS, offset: 0 },
      { name: "h1_reverse", steps: STEPS, offset: STEPS, reverse: true },
    ]);
    const data = rows(12, STEPS * 2, 3);
    const run = await train(m, { x: data.x, y: data.y, count: data.count }, { ...OPTIONS, epochs: 1, cells: recurrentCells(buildNet(BI)) });
    const measured = run.history[0].steps ?? [];
    expect(measured.map((s) => [s.layer, s.reverse ?? false, s.norms.length])).toEqual([["h1", false, STEPS], ["h1_reverse", true, STEPS]]);
    expect([...recurrentCells(buildNet(BI))]).toEqual([["h1", "gru"], ["h1_reverse", "gru"]]);
  });

  it("reads a reverse direction's ratio from its first step, T − 1, to its last, 0", () => {
    // the same norms are a vanishing gradient read backwards and an exploding one read forwards
    const norms = [1, 0.5, 1e-5];
    expect(timeWarnings(1, [{ layer: "h1_reverse", norms, reverse: true }], 1e-3).map((w) => [w.kind, w.first, w.last])).toEqual([["vanishing", 1e-5, 1]]);
    expect(timeWarnings(1, [{ layer: "h1", norms }], 1e-3).map((w) => [w.kind, w.first, w.last])).toEqual([["exploding", 1, 1e-5]]);
    const [w] = timeWarnings(1, [{ layer: "h1_reverse", norms, reverse: true }], 1e-3);
    expect(timeWarningReason(w, 1e-3, String)).toBe("‖∂L/∂h_2‖ 0.00001 = 0.00001 × ‖∂L/∂h_0‖ (1); 0.00001 < 0.001 (--time-ratio) (it runs from the last step to the first)");
  });
});

describe("bpgen train on a recurrent network", () => {
  it("warns over the steps on stderr and in the summary, and the report and history show ‖∂L/∂h_t‖ per epoch and step", async () => {
    const dir = tempDir();
    const net = join(dir, "tiny_rnn.json");
    writeFileSync(net, JSON.stringify(RNN));
    const data = rows(24, STEPS * 2, 4);
    const header = [...Array.from({ length: STEPS * 2 }, (_, i) => `x${i}`), "y"].join(",");
    const lines = Array.from({ length: data.count }, (_, s) => [...data.x.subarray(s * STEPS * 2, (s + 1) * STEPS * 2), data.y[s]].join(","));
    writeFileSync(join(dir, "data.csv"), `${header}\n${lines.join("\n")}\n`);
    const out = join(dir, "run");
    // a ratio of 1: any gradient that changes over the steps is outside [1, 1]
    const r = await bpgenInProcess(["train", net, "--data", join(dir, "data.csv"), "--epochs", "2", "--batch", "8", "--validation", "0", "--time-ratio", "1", "--no-progress", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: gradient (vanishing|exploding) over the 6 steps of h1 \(rnn\) \(epoch 0\): ‖∂L\/∂h_0‖ \S+ = (?<ratio>\S+) × ‖∂L\/∂h_5‖ \(\S+\); \k<ratio> [<>] 1 \((1 \/ )?--time-ratio\)$/m);
    expect(r.stdout).toMatch(/warning: gradient (vanishing|exploding) over the steps \(‖∂L\/∂h_0‖ (below|above) 1 × ‖∂L\/∂h_\{T−1\}‖\) in h1 \(rnn\) at epochs 0–2\n {2}remedies: .*(gated cells|--clip-norm)/);
    const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as { history: { steps?: { layer: string; norms: number[] }[] }[] };
    expect(history.history.map((e) => e.steps?.[0]?.norms.length)).toEqual([STEPS, STEPS, STEPS]);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toMatch(/<h2 id="steps">Gradient over the steps/);
    expect(html).toMatch(/<b>Gradient (vanishing|exploding) over the steps<\/b>/);
    // one heat-map cell per epoch and step, each with its tooltip
    expect(html.match(/<title>epoch \d, step \d: [^<]+<\/title>/g)).toHaveLength(3 * STEPS);
    expect(html).toMatch(/id="heat-scale-steps-0"/);

    const calm = await bpgenInProcess(["train", net, "--data", join(dir, "data.csv"), "--epochs", "1", "--batch", "8", "--validation", "0", "--time-ratio", "1e-30", "--no-progress", "--out", join(dir, "calm")]);
    expect(calm.code, calm.stderr).toBe(0);
    expect(calm.stderr + calm.stdout).not.toMatch(/over the (\d+ )?steps/);
    expect(readFileSync(join(dir, "calm", "report.html"), "utf8")).toMatch(/No recurrent layer's ‖∂L\/∂h_0‖ fell below/);
  });
});
