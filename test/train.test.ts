/**
 * `bpgen train` end to end on the shipped data (iris CSV, a subset of the mnist digits), the gradient-health
 * demonstrations (vanishing in deep_sigmoid10, not in deep_relu10; NaN without clipping, finite with it),
 * Ctrl-C, and the parameter files and data mapping underneath.
 *
 * The trainings run the command in this process (test/helpers/in-process.ts): what they check is what the
 * command trains, prints and writes. A real `bpgen` process runs where the process is the subject: one
 * training as a user starts it (exit status 0, its output), a bad input (exit status 2) and Ctrl-C (a signal,
 * exit status 130).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BpgenError } from "../src/errors.ts";
import { isSoftmaxClassifier } from "../src/ir/net.ts";
import { buildNet, compileFile } from "../src/pipeline.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";
import { loadData } from "../src/train/data.ts";
import { type NetModule, loadTrainable } from "../src/train/module-api.ts";
import type { EpochRecord } from "../src/train/loop.ts";
import { encodeParams, loadParams } from "../src/train/params.ts";
import { epochLine, lossColumn } from "../src/train/progress.ts";
import { reportHtml } from "../src/train/report.ts";
import { RUN_INFO, syntheticRun } from "./helpers/synthetic-run.ts";
import { HEAT_LEGEND, heatColour, heatMap } from "../src/train/svg.ts";
import { ROOT, bpgen, tempDir } from "./helpers/cli.ts";
import { bpgenInProcess } from "./helpers/in-process.ts";

const IRIS = join(ROOT, "examples", "data", "iris.csv");
const example = (name: string) => join(ROOT, "examples", `${name}.json`);

interface History {
  stopped: string;
  bestEpoch: number;
  history: { epoch: number; partial?: boolean; train: { loss: number | string; accuracy?: number }; validation?: { loss: number; accuracy?: number } }[];
}
const historyOf = (dir: string) => JSON.parse(readFileSync(join(dir, "history.json"), "utf8")) as History;
const best = (h: History) => h.history.find((e) => e.epoch === h.bestEpoch && !e.partial);

const trainArgs = (net: string, dir: string, args: string[]) => ["train", example(net), "--no-progress", "--out", dir, ...args];

/** `bpgen train` in this process, writing into a fresh folder. */
async function train(net: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = tempDir();
  return { ...(await bpgenInProcess(trainArgs(net, dir, args))), dir };
}

/** `bpgen train` as a user starts it: a new process running bin/bpgen.js. */
function trainProcess(net: string, args: string[]): { code: number; stdout: string; stderr: string; dir: string } {
  const dir = tempDir();
  return { ...bpgen(trainArgs(net, dir, args)), dir };
}

describe("bpgen train", () => {
  it("trains iris (CSV, label column one-hot encoded) to ≥ 90% validation accuracy and writes params, history and report", () => {
    const r = trainProcess("iris_softmax", ["--data", IRIS, "--epochs", "30", "--batch", "16", "--validation", "0.2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch 30\/30 +loss +\S+ +val_loss +\S+ +acc +\S+% +val_acc +\S+%/);
    for (const f of ["params.json", "params.bin", "history.json", "report.html"]) expect(existsSync(join(r.dir, f)), f).toBe(true);
    const h = historyOf(r.dir);
    expect(best(h)?.validation?.accuracy).toBeGreaterThanOrEqual(0.9);
    const html = readFileSync(join(r.dir, "report.html"), "utf8");
    expect(html).toMatch(/<svg[^>]*class="chart"/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("trains a subset of the mnist digits well above chance in a few epochs", async () => {
    const r = await train("mnist_mlp", ["--data", "mnist", "--limit", "1000", "--epochs", "3", "--batch", "32"]);
    expect(r.code, r.stderr).toBe(0);
    expect(best(historyOf(r.dir))?.validation?.accuracy).toBeGreaterThan(0.75);
  });

  it("trains the convolutional mnist_cnn (equation form) and reports its accuracies, its loss being a softmax cross-entropy", async () => {
    // one epoch in batches of 16 (more steps than two in batches of 32, in half the time) is well above chance
    const r = await train("mnist_cnn", ["--data", "mnist", "--limit", "1000", "--epochs", "1", "--batch", "16"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/1 +loss +\S+ +val_loss +\S+ +acc +\S+% +val_acc +\S+%/);
    expect(best(historyOf(r.dir))?.validation?.accuracy).toBeGreaterThan(0.6);
  });

  it("an equation net is a classifier when its loss is the softmax cross-entropy of its output, however the target is multiplied", () => {
    const spec = JSON.parse(readFileSync(example("mnist_cnn"), "utf8")) as EquationNetSpec;
    const classifies = (loss: string) => isSoftmaxClassifier(buildNet({ ...spec, loss }));
    expect(classifies("logsumexp(z) - sum(y .* z)")).toBe(true);
    expect(classifies("logsumexp(z) - sum(z .* y)")).toBe(true);
    expect(classifies("0.5 * sum((z - y) .^ 2)")).toBe(false);
    expect(classifies("logsumexp(z) - sum(y .* z) + 0.1 * sum(z .^ 2)")).toBe(false);
    expect(isSoftmaxClassifier(buildNet(JSON.parse(readFileSync(example("chain3"), "utf8")) as EquationNetSpec))).toBe(false);
  });

  it("deep_sigmoid10 warns of vanishing gradients in its first layers and does not learn; deep_relu10 learns without warnings", async () => {
    const args = ["--data", IRIS, "--epochs", "40", "--batch", "16", "--validation", "0.2"];
    const sigmoid = await train("deep_sigmoid10", args);
    expect(sigmoid.code).toBe(0);
    expect(sigmoid.stderr).toMatch(/warning: vanishing gradients in layer 1 \(epoch 1\): gradient norm \S+ < 1\.0e-5 \(--grad-low\)$/m);
    expect(sigmoid.stdout).toMatch(/remedies: a ReLU-like activation/);
    expect(best(historyOf(sigmoid.dir))?.validation?.accuracy).toBeLessThan(0.5);
    const relu = await train("deep_relu10", args);
    expect(relu.code).toBe(0);
    expect(relu.stderr).not.toMatch(/warning/);
    expect(best(historyOf(relu.dir))?.validation?.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it("a large lr gives NaN, which train detects and stops on (exit 1); clipping by norm keeps the weights finite", async () => {
    const args = ["--data", IRIS, "--epochs", "20", "--batch", "16", "--validation", "0.2", "--optimizer", "sgd", "--lr", "0.5"];
    const nan = await train("deep_relu10", args);
    expect(nan.code).toBe(1);
    expect(nan.stdout).toMatch(/error: training diverged at epoch 1, batch \d+: loss NaN.*stopped instead of carrying on/);
    expect(nan.stdout).toMatch(/remedies: clip the gradient/);
    expect(nan.stderr).toMatch(/warning: exploding gradients in layer 1/);
    expect(historyOf(nan.dir).stopped).toBe("diverged");
    const clipped = await train("deep_relu10", [...args, "--clip-norm", "0.3"]);
    expect(clipped.code, clipped.stdout).toBe(0);
    const m = loadTrainable<Float32Array>((await compileFile(example("deep_relu10"), { format: false })).source);
    const p = new Float32Array(m.meta.paramCount);
    loadParams(join(clipped.dir, "params.bin"), m.meta, p);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(best(historyOf(clipped.dir))?.validation?.accuracy).toBeGreaterThanOrEqual(0.8);
  });

  it("stops after the current batch on Ctrl-C and still writes the best parameters and the report (exit 130)", async () => {
    const dir = tempDir();
    // iris trains an epoch in about a millisecond: the signal arrives in the middle of the many epochs asked for
    const args = ["train", example("iris_softmax"), "--data", IRIS, "--epochs", "1000000", "--out", dir, "--no-progress"];
    const child = spawn(process.execPath, [join(ROOT, "bin", "bpgen.js"), ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        if (/epoch +1\/1000000/.test(stdout) && !child.killed) child.kill("SIGINT");
      });
      child.on("close", (c) => resolve(c));
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/stopping after this batch/);
    expect(stdout).toMatch(/interrupted/);
    for (const f of ["params.json", "params.bin", "history.json", "report.html"]) expect(existsSync(join(dir, f)), f).toBe(true);
    const h = historyOf(dir);
    expect(h.stopped).toBe("interrupted");
    expect(h.history.length).toBeLessThan(1000000);
    expect(h.bestEpoch).toBeGreaterThanOrEqual(1);
  });

  it("takes net.json's optimizer, resumes from saved parameters, and rejects bad input with exit 2", async () => {
    const first = await train("iris_softmax", ["--data", IRIS, "--epochs", "2"]);
    expect(first.stdout).toMatch(/adam lr 0\.02/);
    const resumed = await train("iris_softmax", ["--data", IRIS, "--epochs", "1", "--resume", join(first.dir, "params.json")]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const start = (d: string) => historyOf(d).history[0].train.loss;
    expect(start(resumed.dir)).toBeCloseTo(Number(historyOf(first.dir).history.find((e) => e.epoch === historyOf(first.dir).bestEpoch)?.train.loss), 5);
    const wrong = await train("deep_relu10", ["--data", IRIS, "--resume", join(first.dir, "params.json")]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the saved parameters do not fit the network deep_relu10\n\s+expected: W1 \[16, 4\].*\n\s+found: W1 \[8, 4\]/);
    expect((await train("iris_softmax", ["--data", IRIS, "--targets", "colour"])).stderr).toMatch(/--targets names a column the CSV does not have/);
    expect((await train("iris_softmax", ["--data", IRIS, "--lr", "-1"])).stderr).toMatch(/optimizer lr must be a positive finite number/);
    // the exit status itself, from a real process
    expect(trainProcess("iris_softmax", ["--data", "nope.txt"]).code).toBe(2);
  });
});

describe("parameter files", () => {
  let m: NetModule<Float32Array>;
  beforeAll(async () => {
    m = loadTrainable<Float32Array>((await compileFile(example("xor_sigmoid"), { format: false })).source);
  });

  it.each(["p.json", "p.bin"])("%s round-trips exactly, names and shapes included", (name) => {
    const file = join(tempDir(), name);
    const p = m.initParams(5);
    writeFileSync(file, encodeParams(file, m.meta, p));
    const back = new Float32Array(m.meta.paramCount);
    loadParams(file, m.meta, back);
    expect(back).toEqual(p);
    if (name.endsWith(".json")) {
      const doc = JSON.parse(readFileSync(file, "utf8")) as { format: string; params: { name: string; shape: number[]; values: number[] }[] };
      expect(doc.format).toBe("bpgen-params");
      expect(doc.params.map((q) => [q.name, q.shape, q.values.length])).toEqual(m.meta.params.map((q) => [q.name, q.shape, q.size]));
    } else expect(readFileSync(file).subarray(0, 8).toString("latin1")).toBe("BPGPARAM");
  });

  it("refuses a file for another network, naming both layouts, and a truncated binary file", async () => {
    const other = loadTrainable<Float32Array>((await compileFile(example("mse_sigmoid"), { format: false })).source);
    const dir = tempDir();
    for (const name of ["o.json", "o.bin"]) {
      const file = join(dir, name);
      writeFileSync(file, encodeParams(file, other.meta, other.initParams(1)));
      expect(() => loadParams(file, m.meta, new Float32Array(m.meta.paramCount))).toThrow(/do not fit the network xor_sigmoid/);
    }
    const file = join(dir, "t.bin");
    writeFileSync(file, encodeParams(file, m.meta, m.initParams(1)).subarray(0, -4));
    expect(() => loadParams(file, m.meta, new Float32Array(m.meta.paramCount))).toThrow(BpgenError);
  });
});

describe("data mapping", () => {
  const meta = (inputSize: number, targetSize: number) => ({ name: "t", inputSize, outputSize: targetSize, targetSize, paramCount: 0, params: [] });

  it("CSV: the last column is the target by default; labels are one-hot in sorted order", () => {
    const d = loadData(IRIS, meta(4, 3));
    expect(d.count).toBe(150);
    expect(d.classes).toEqual(["setosa", "versicolor", "virginica"]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
    expect(Array.from(d.y.subarray(0, 3))).toEqual([1, 0, 0]);
    expect(Array.from(d.y.subarray(149 * 3))).toEqual([0, 0, 1]);
    const two = loadData(IRIS, meta(2, 1), { inputs: "sepal_length..sepal_width", targets: "petal_width" });
    expect(Array.from(two.x.subarray(0, 2))).toEqual([5.1, 3.5].map(Math.fround));
    expect(two.y[0]).toBe(Math.fround(0.2));
  });

  it("JSON: fields x and y by default (arrays, nested arrays or labels), or as named", () => {
    const file = join(tempDir(), "d.json");
    writeFileSync(file, JSON.stringify([{ x: [[1, 2], [3, 4]], y: 2 }, { x: [[5, 6], [7, 8]], y: 0 }]));
    const d = loadData(file, meta(4, 3));
    expect(Array.from(d.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(d.y)).toEqual([0, 0, 1, 1, 0, 0]);
    writeFileSync(file, JSON.stringify([{ a: 1, b: 2, t: 0.5 }]));
    expect(Array.from(loadData(file, meta(2, 1), { inputs: "a,b", targets: "t" }).x)).toEqual([1, 2]);
    expect(() => loadData(file, meta(3, 1), { inputs: "a,b", targets: "t" })).toThrow(/wrong number of input values[^]*expected: 3 \(meta\.inputSize\)[^]*found: 2/);
  });
});

/** The <svg> elements of a report, each with its width and its title lines (x and text). */
function chartsOf(html: string): { width: number; titles: { x: number; text: string }[]; svg: string }[] {
  return [...html.matchAll(/<svg [^>]*width="([\d.]+)"[^>]*>[\s\S]*?<\/svg>/g)].map((m) => ({
    width: Number(m[1]),
    svg: m[0],
    titles: [...m[0].matchAll(/<text x="([\d.]+)" y="[\d.]+" class="title">([^<]*)<\/text>/g)].map((t) => ({ x: Number(t[1]), text: t[2] })),
  }));
}

/** [hue, saturation, lightness] of an `hsl(h, s%, l%)` colour. */
function hsl(colour: string): [number, number, number] {
  const m = /^hsl\((\d+), (\d+)%, (\d+)%\)$/.exec(colour);
  if (!m) throw new Error(`not an hsl colour: ${colour}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

describe("the training report's heat map", () => {
  it.each([1, 3, 50, 500])("has its whole caption inside the map at %i epoch(s)", (epochs) => {
    const html = reportHtml({ ...RUN_INFO, epochs }, syntheticRun(epochs));
    const heat = chartsOf(html).find((c) => c.titles.some((t) => t.text.startsWith("Gradient norm per layer (rows)")));
    expect(heat).toBeDefined();
    if (!heat) return;
    expect(heat.titles.map((t) => t.text).join(" ")).toBe("Gradient norm per layer (rows) and epoch (columns)");
    // at 0.6 em a character (more than DejaVu Sans Bold's average): the browser test measures the real glyphs
    for (const t of heat.titles) expect(t.x + t.text.length * 13 * 0.6, t.text).toBeLessThanOrEqual(heat.width);
    // one column per trained epoch
    expect(heat.svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="hsl/g)).toHaveLength(2 * epochs);
  });

  it("names the colours its scale uses: the legend's ends and middle are the colours of the cells at those values", () => {
    const svg = heatMap({ title: "t", rows: ["a"], columns: ["1", "2", "3"], values: [[1e-2, 1, 1e2]], domain: [1e-2, 1e2] });
    const fills = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="([^"]+)"><title>/g)].map((m) => m[1]);
    expect(fills).toHaveLength(3);
    const stops = new Map([...svg.matchAll(/<stop offset="(\d+)%" stop-color="([^"]+)"\/>/g)].map((m) => [Number(m[1]), m[2]]));
    expect([stops.get(0), stops.get(50), stops.get(100)]).toEqual(fills);
    const labels = [...svg.matchAll(/data-t="([\d.]+)">(\w+) ([^<]+)<\/text>/g)].map((m) => ({ t: Number(m[1]), name: m[2], value: m[3] }));
    expect(labels.map((l) => [l.t, l.value])).toEqual([
      [0, "0.01"],
      [0.5, "1"],
      [1, "100"],
    ]);
    // each name fits the hue at its place on the scale
    const hueRange: Record<string, [number, number]> = { blue: [200, 250], green: [90, 150], red: [0, 15] };
    for (const { t, name } of labels) {
      const [hue] = hsl(stops.get(t * 100) ?? "");
      const [lo, hi] = hueRange[name] ?? [NaN, NaN];
      expect(hue >= lo && hue <= hi, `${name} at ${t}: hue ${hue}`).toBe(true);
    }
    expect(labels.map((l) => l.name)).toEqual(HEAT_LEGEND.map((c) => c.name));
    // a healthy run's cells are in the middle of the scale, the legend's green
    const healthy = chartsOf(reportHtml(RUN_INFO, syntheticRun(3))).find((c) => c.svg.includes("heat-scale"))?.svg ?? "";
    const healthyFills = [...healthy.matchAll(/fill="(hsl[^"]+)"><title>/g)].map((m) => hsl(m[1])[0]);
    expect(healthyFills.length).toBe(6);
    for (const hue of healthyFills) expect(hue).toBeGreaterThanOrEqual(60);
    for (const hue of healthyFills) expect(hue).toBeLessThanOrEqual(150);
    expect(heatColour(0)).toBe(stops.get(0));
  });
});

describe("the per-epoch lines", () => {
  it("keep every field at the same column across lines whatever the values", () => {
    const record = (epoch: number, loss: number, val: number, acc: number, partial = false): EpochRecord => ({
      epoch,
      train: { loss, accuracy: acc },
      validation: { loss: val, accuracy: acc },
      seconds: epoch * 3.3,
      ...(partial ? { partial } : {}),
      layers: [],
    });
    const lines = [
      record(0, 1.26, 1.33, 0.35),
      record(1, 0.49, 0.566, 0.5),
      record(2, 0.1, 0.09999, 1),
      record(9, 2.5e-5, 1234.5, 0.0667),
      record(10, 0, NaN, 0.1, true),
      record(100, 57.123456, -0.25, 0.999),
    ].map((r) => epochLine(r, 100));
    /** Where each label starts, each looked for after the one before. */
    const columns = (line: string) => {
      let from = 0;
      return [" loss ", " val_loss ", " acc ", " val_acc ", " s"].map((label) => (from = line.indexOf(label, from) + 1));
    };
    const first = columns(lines[0]);
    expect(first.every((c, k) => c > (first[k - 1] ?? 0))).toBe(true);
    for (const line of lines) expect(columns(line), line).toEqual(first);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    // fixed decimals: 0.49 is 0.4900 beside 0.5660
    expect(lines[1]).toMatch(/loss +0\.4900 +val_loss +0\.5660 +acc +50\.00% +val_acc +50\.00%/);
    expect(lines[3]).toMatch(/loss +2\.50e-5 +val_loss +1\.23e3 /);
    expect(lines[4]).toMatch(/^epoch  10\/100\*/);
    expect(lossColumn(0.1)).toBe("  0.1000");
    // the epoch's seconds in hundredths, so that an epoch of tens of milliseconds does not read 0.0 s
    expect(epochLine({ ...record(1, 1, 1, 1), seconds: 0.034 }, 100)).toMatch(/  0\.03 s$/);
  });
});
