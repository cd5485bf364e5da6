/**
 * `bpgen train net.json --data <file|mnist>`: compiles the network in memory, trains it with the module's
 * own trainStep, and writes the best parameters (JSON, binary and safetensors), the history and an HTML report.
 * Exit codes: 0 finished, 1 diverged (non-finite loss or gradient), 2 bad input, 130 stopped by Ctrl-C
 * (after writing everything).
 */
import { join } from "node:path";
import { type Command, Option } from "commander";
import { BpgenError } from "../errors.ts";
import { OPTIMIZER_TYPES, isLayerSpec, type NetSpec, type OptimizerSpec } from "../spec/types.ts";
import type { Task } from "../train/loop.ts";
import type { OptimizerConfig } from "../train/module-api.ts";
import type { Done } from "./types.ts";

export const EXIT_INTERRUPTED = 130;

interface TrainFlags {
  data: string;
  inputs?: string;
  targets?: string;
  epochs: string;
  batch: string;
  validation: string;
  seed: string;
  limit?: string;
  optimizer?: string;
  lr?: string;
  momentum?: string;
  nesterov?: boolean;
  beta1?: string;
  beta2?: string;
  epsilon?: string;
  weightDecay?: string;
  clipNorm?: string;
  clipValue?: string;
  resume?: string;
  shift?: string;
  out?: string;
  gradLow: string;
  gradHigh: string;
  gradRatio: string;
  timeRatio: string;
  progress: boolean;
  threads: string;
}

export function registerTrain(program: Command, done: Done): void {
  program
    .command("train")
    .description("train a network on CSV/JSON data (or the mnist digits) and write its parameters and a report")
    .argument("<net.json>", "the network")
    .requiredOption("--data <file|mnist>", "a .csv (header row) or .json (array of objects) file, or mnist for the mnist package's digits")
    .option("--inputs <columns>", "CSV columns / JSON fields of the inputs, comma-separated; a..b is a column range (default: all but the targets / x)")
    .option("--targets <columns>", "CSV columns / JSON fields of the targets; one label column is one-hot encoded (default: the last column / y)")
    .option("--epochs <n>", "passes over the training rows", "10")
    .option("--batch <n>", "rows per step", "32")
    .option("--validation <fraction>", "fraction of the rows held out for validation", "0.1")
    .option("--seed <n>", "seed of the shuffle, the split and initParams", "1")
    .option("--limit <n>", "use only n rows (a seeded random subset)")
    .addOption(new Option("--optimizer <type>", "the optimizer (default: net.json's, else adam)").choices([...OPTIMIZER_TYPES]))
    .option("--lr <rate>", "learning rate")
    .option("--momentum <mu>", "momentum μ (momentum)")
    .option("--nesterov", "Nesterov momentum (momentum)")
    .option("--beta1 <b>", "Adam's β₁")
    .option("--beta2 <b>", "Adam's β₂")
    .option("--epsilon <e>", "Adam's ε")
    .option("--weight-decay <λ>", "decoupled weight decay (adamw)")
    .option("--clip-norm <c>", "clip the gradient to global norm c")
    .option("--clip-value <c>", "clip each gradient entry to [-c, c]")
    .option("--shift <pixels>", "augment image data (mnist): shift each training image by up to this many pixels at random")
    .option("--resume <params>", "start from saved parameters (.json, .bin or .safetensors with bpgen's or PyTorch's names) instead of initParams")
    .option("--out <dir>", "where to write params.json, params.bin, params.safetensors, history.json and report.html (default: runs/<name>)")
    .option("--grad-low <t>", "warn when a layer's gradient norm falls below t (vanishing)", "1e-5")
    .option("--grad-high <t>", "warn when a layer's gradient norm rises above t (exploding)", "1e3")
    .option("--grad-ratio <r>", "warn when a layer's gradient norm is below r times the largest layer's (vanishing)", "1e-3")
    .option("--time-ratio <r>", "recurrent layers: warn when ‖∂L/∂h_0‖ is below r times ‖∂L/∂h_{T−1}‖ (vanishing over the steps), or above 1/r (exploding)", "1e-3")
    .option("--threads <n>", "threads the WebAssembly kernels run on: a number, or auto (one per core, at most 8, where the network has WebAssembly kernels; 1 for a network small enough for TypeScript kernels)", "auto")
    .option("--no-progress", "no progress bar")
    .action(async (file: string, flags: TrainFlags) => {
      done(await runTrain(file, flags));
    });
}

async function runTrain(file: string, flags: TrainFlags): Promise<number> {
  // the compiler, the data loaders, the trainer and the report load only when the command runs
  const [{ buildNet, compileLoaded }, { loadSpec }, { loadData }, { train }, { loadTrainable }, { encodeParams, loadParams, stateLayout }, { TerminalProgress }, { reportHtml }, { writeAllAtomically }, { isSoftmaxClassifier }] =
    await Promise.all([
      import("../pipeline.ts"),
      import("../spec/load.ts"),
      import("../train/data.ts"),
      import("../train/loop.ts"),
      import("../train/module-api.ts"),
      import("../train/params.ts"),
      import("../train/progress.ts"),
      import("../train/report.ts"),
      import("../files.ts"),
      import("../ir/net.ts"),
    ]);
  const { recurrentCells } = await import("../train/time.ts");
  const [{ torchNames }, { isStatefulModule }] = await Promise.all([import("../interop/torch-names.ts"), import("../train/module-api.ts")]);
  const loaded = loadSpec(file);
  const { spec } = loaded;
  const epochs = integer("--epochs", flags.epochs, 0);
  const batch = integer("--batch", flags.batch, 1);
  const seed = number("--seed", flags.seed);
  const validation = number("--validation", flags.validation);
  if (!(validation >= 0 && validation < 1)) throw bad("--validation", flags.validation, "a fraction in [0, 1)");
  const low = number("--grad-low", flags.gradLow);
  const high = number("--grad-high", flags.gradHigh);
  const ratio = number("--grad-ratio", flags.gradRatio);
  const time = number("--time-ratio", flags.timeRatio);

  const threads = threadCount(flags.threads);
  const compiled = await compileLoaded(loaded, { precision: "f32", sourceFile: file, format: false, threads: threads === "auto" ? "auto" : threads > 1 });
  const m = loadTrainable<Float32Array>(compiled.source);
  // the same steps on any number of threads: the pool only makes them faster
  const running = m.startThreads ? await m.startThreads(threads === "auto" ? undefined : threads) : 1;
  const optimizer = optimizerConfig(spec, flags);
  const state = (() => {
    try {
      return m.createOptimizer(optimizer);
    } catch (e) {
      throw new BpgenError({ message: `bad optimizer setting: ${(e as Error).message}` });
    }
  })();
  const full = loadData(flags.data, m.meta, { inputs: flags.inputs, targets: flags.targets });
  const data = flags.limit === undefined ? full : subset(full, integer("--limit", flags.limit, 1), seed, m.meta.inputSize, m.meta.targetSize);
  if (data.count - Math.round(data.count * validation) < 1) throw bad("--validation", flags.validation, "a split that leaves at least one training row");
  const initial = flags.resume ? new Float32Array(m.meta.paramCount) : undefined;
  // a network with state resumes its state too (running statistics, the dropout generator's seed and step)
  const stateCount = stateLayout(m.meta)?.stateCount;
  // a file with PyTorch's names holds no dropout generator: it starts as initState's
  const initialState = flags.resume && stateCount !== undefined ? (isStatefulModule(m) ? m.initState(seed) : new Float32Array(stateCount)) : undefined;
  // a layer-form network's safetensors file has the names of its PyTorch module (bpgen export --to pytorch)
  const names = torchNames(spec);
  if (initial && flags.resume) loadParams(flags.resume, m.meta, initial, initialState, names);

  const outDir = flags.out ?? join("runs", spec.name);
  const thresholds = { low, high, ratio, time };
  const progress = new TerminalProgress(epochs, flags.progress && process.stderr.isTTY === true);
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(EXIT_INTERRUPTED);
    stop = true;
    progress.note("stopping after this batch (Ctrl-C again to quit without saving)");
  };
  process.on("SIGINT", onSigint);
  process.stdout.write(
    `training ${spec.name} on ${flags.data}: ${data.count} rows, ${epochs} epochs, batch ${batch}, ${describeOptimizer(state.config)}${running > 1 ? `, ${running} threads` : ""}\n`,
  );
  const result = await train(m, data, {
      epochs,
      batch,
      validation,
      seed,
      optimizer: state.config,
      thresholds,
      task: taskOf(spec, () => isSoftmaxClassifier(buildNet(spec, loaded.locate))),
      ...((m.meta.recurrences ?? []).length > 0 ? { cells: recurrentCells(buildNet(spec, loaded.locate)) } : {}),
      initial,
      ...(initialState ? { initialState } : {}),
      shift: shift(flags, data),
      shouldStop: () => stop,
      onBatch: (epoch, k, total, loss) => progress.batch(epoch, k, total, loss),
      onEpoch: (record, warnings, overTime) => progress.epoch(record, warnings, thresholds, overTime),
    })
    .finally(async () => {
      process.off("SIGINT", onSigint);
      progress.stop();
      await m.stopThreads?.();
    });

  const info = { net: spec.name, source: file, data: flags.data, optimizer: describeOptimizer(state.config), config: state.config, epochs, batch, seed, thresholds };
  const history = { ...info, stopped: result.stopped, divergence: result.divergence, bestEpoch: result.best.epoch, history: result.history };
  const outputs = [
    { target: join(outDir, "params.json"), data: encodeParams("params.json", m.meta, result.best.params, result.best.state) },
    { target: join(outDir, "params.bin"), data: encodeParams("params.bin", m.meta, result.best.params, result.best.state) },
    { target: join(outDir, "params.safetensors"), data: encodeParams("params.safetensors", m.meta, result.best.params, result.best.state, names) },
    { target: join(outDir, "history.json"), data: `${JSON.stringify(history, numbers, 1)}\n` },
    { target: join(outDir, "report.html"), data: reportHtml(info, result) },
  ];
  writeAllAtomically(outputs);
  const written = outputs.map((o) => o.target);
  process.stdout.write(progress.summary(result, thresholds));
  process.stdout.write(`wrote ${written.join(", ")}\n`);
  if (result.stopped === "diverged") return 1;
  if (result.stopped === "interrupted") return EXIT_INTERRUPTED;
  return 0;
}

/** Flags over net.json's "optimizer" (whose other settings are dropped when --optimizer names another type). */
function optimizerConfig(spec: NetSpec, f: TrainFlags): Partial<OptimizerConfig> {
  const fromSpec: Partial<OptimizerSpec> = spec.optimizer && (!f.optimizer || f.optimizer === spec.optimizer.type) ? spec.optimizer : {};
  const n = (flag: string, v: string | undefined) => (v === undefined ? undefined : number(flag, v));
  const flags: Partial<OptimizerConfig> = {
    type: f.optimizer as OptimizerConfig["type"] | undefined,
    lr: n("--lr", f.lr),
    momentum: n("--momentum", f.momentum),
    nesterov: f.nesterov,
    beta1: n("--beta1", f.beta1),
    beta2: n("--beta2", f.beta2),
    epsilon: n("--epsilon", f.epsilon),
    weightDecay: n("--weight-decay", f.weightDecay),
    clipNorm: n("--clip-norm", f.clipNorm),
    clipValue: n("--clip-value", f.clipValue),
  };
  const merged: Record<string, unknown> = { type: "adam", ...fromSpec };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k] = v;
  return merged as Partial<OptimizerConfig>;
}

function describeOptimizer(c: Readonly<Required<OptimizerConfig>>): string {
  const parts = [`${c.type} lr ${c.lr}`];
  if (c.type === "momentum") parts.push(`momentum ${c.momentum}${c.nesterov ? " (nesterov)" : ""}`);
  if (c.type === "adamw") parts.push(`weight decay ${c.weightDecay}`);
  if (c.clipNorm !== Infinity) parts.push(`clip norm ${c.clipNorm}`);
  if (c.clipValue !== Infinity) parts.push(`clip value ${c.clipValue}`);
  return parts.join(", ");
}

function shift(flags: TrainFlags, data: { image?: [number, number] }): number {
  if (flags.shift === undefined) return 0;
  const pixels = integer("--shift", flags.shift, 0);
  if (pixels > 0 && !data.image) throw new BpgenError({ message: "--shift needs image data", expected: "--data mnist", found: "rows that are not images" });
  return pixels;
}

/** What the accuracy means: the layer form says it with its loss; an equation net whose loss is the softmax cross-entropy of its output is a classifier. */
function taskOf(spec: NetSpec, softmaxEquations: () => boolean): Task {
  if (!isLayerSpec(spec)) return softmaxEquations() ? "softmax" : "regression";
  return spec.loss === "softmax_cross_entropy" ? "softmax" : spec.loss === "binary_cross_entropy" ? "binary" : "regression";
}

function subset<T extends { x: Float32Array; y: Float32Array; count: number }>(d: T, n: number, seed: number, nx: number, ny: number): T {
  if (n >= d.count) return d;
  // every k-th row of a seeded rotation: spread over the file, which is often sorted by class
  const step = d.count / n;
  const offset = Math.abs(Math.floor(seed * 7919)) % d.count;
  const rows = Array.from({ length: n }, (_, i) => (offset + Math.floor(i * step)) % d.count);
  const x = new Float32Array(n * nx);
  const y = new Float32Array(n * ny);
  rows.forEach((r, i) => {
    x.set(d.x.subarray(r * nx, (r + 1) * nx), i * nx);
    y.set(d.y.subarray(r * ny, (r + 1) * ny), i * ny);
  });
  return { ...d, x, y, count: n };
}

const bad = (flag: string, found: string, expected: string) => new BpgenError({ message: `bad value for ${flag}`, expected, found });

function number(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) throw bad(flag, text, "a number");
  return v;
}

/** `--threads`: auto, or a number of threads (1: the calling thread alone). */
function threadCount(text: string): number | "auto" {
  if (text === "auto") return "auto";
  const v = Number(text);
  if (text.trim() === "" || !Number.isInteger(v) || v < 1) throw bad("--threads", text, "auto or an integer ≥ 1");
  return v;
}

function integer(flag: string, text: string, min: number): number {
  const v = number(flag, text);
  if (!Number.isInteger(v) || v < min) throw bad(flag, text, `an integer ≥ ${min}`);
  return v;
}

/** JSON cannot hold NaN or Infinity: written as strings. */
function numbers(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
}

