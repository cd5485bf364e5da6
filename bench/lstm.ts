/**
 * The LSTM benchmark: one LSTM layer (PyTorch's cell, gates i, f, g, o) over T steps of 8 features, its last hidden
 * state read out by a dense layer to 4 outputs, loss bpgen's "mse" (½ Σ over the outputs, mean over the batch):
 *   small  T = 16, 64 units, batch 32
 *   large  T = 64, 256 units, batch 32
 * For each, a training step (forward, loss, gradient through time, SGD with lr 0.01) and a forward pass of the batch,
 * for bpgen, the hand-written TypeScript LSTM, jax-js, TF.js (cpu and wasm backends) and onnxruntime-web (forward only).
 * bench/peers/lstm-*.ts say how each peer is written. Every peer starts from the same weights (lstm-net.ts, fixed seed)
 * and the same batch; before anything is timed, each peer's loss and output on the batch, and again after one training
 * step, are checked against the hand-written LSTM's, and bpgen's gradient against the hand-written one.
 *
 * bpgen's network (--bpgen):
 *   unrolled  the LSTM written out step by step as an equation net (bench/lstm-unrolled.ts; the default)
 *   layer     the layer form { "type": "lstm", "units": H } then { "type": "dense", "units": 4 }
 * Each is compiled in a child process, so a compile that takes longer than --limit seconds is stopped and its
 * network skipped with a note. When bpgen has no module for a network, the ratios are taken against the hand-written
 * LSTM instead. Then compile time and module size at T = 16, 64, 256 (64 units) for both forms (--no-compile skips it).
 *
 * With --threads N (N > 1), bpgen's module is the threaded build (compile(spec, { threads: true })) after
 * `startThreads(N)`; --ort-threads M runs onnxruntime-web on M threads (env.wasm.numThreads; its pool's threads spin
 * between runs, taking cores from the peers timed after it). jax-js, TF.js and the hand-written loop have no threads
 * in Node and run on one.
 *
 *   npx tsx bench/lstm.ts [--rounds 15] [--sizes small,large] [--bpgen unrolled|layer] [--threads 1] [--ort-threads 1]
 *                         [--limit 300] [--no-compile]
 *
 * Timing is bench/timing.ts's: warm-up, then samples of the peers in rounds taken in turn; a ratio is the median
 * over the rounds of the peer's sample divided by the baseline's sample of the same round.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { NetModule } from "../src/check/module.ts";
import type { LayerNetSpec, LayerSpec, NetSpec } from "../src/spec/types.ts";
import { lstmUnrolled } from "./lstm-unrolled.ts";
import { readClock } from "./machine.ts";
import { importModule } from "./module-import.ts";
import { ROOT } from "./nets.ts";
import { HandLstm, lstmHandRun } from "./peers/lstm-hand.ts";
import { LSTM_LR, type LstmBatch, type LstmShape, type LstmWeights, WEIGHT_NAMES, flatWeights, lstmBatch, lstmForwardFlops, lstmWeights } from "./peers/lstm-net.ts";
import { PEER_LABEL, type PeerId, type PeerRun } from "./peers/types.ts";
import { checkAgainst, maxAbs, maxDiff, stepAll } from "./peers/agreement.ts";
import { bpgenRun } from "./peers/bpgen.ts";
import { isThreaded, type ThreadedModule } from "./threads.ts";
import { type CellStats, type Mode, type TimingOptions, measure, stats } from "./timing.ts";

type BpgenForm = "unrolled" | "layer";

const SIZES: Record<string, Omit<LstmShape, "batch" | "features" | "outputs">> = {
  small: { steps: 16, units: 64 },
  large: { steps: 64, units: 256 },
};
const FEATURES = 8;
const OUTPUTS = 4;
const BATCH = 32;
const COMPILE_STEPS = [16, 64, 256];
const COMPILE_UNITS = 64;

/** bpgen's gradient against the hand-written one: max |difference| ≤ this × max |gradient|. */
const GRADIENT_TOLERANCE = 1e-3;

// ---- the networks --------------------------------------------------------------------------------------

function shapeOf(size: string): LstmShape {
  const s = SIZES[size];
  if (!s) throw new Error(`unknown size ${size} (small, large)`);
  return { ...s, features: FEATURES, outputs: OUTPUTS, batch: BATCH };
}

/** The layer-form net: one lstm layer and a dense head. */
function layerSpec(steps: number, units: number): LayerNetSpec<LayerSpec> {
  return {
    name: `lstm_layer_${steps}_h${units}`,
    input: [steps, FEATURES],
    layers: [
      { type: "lstm", units, return_sequences: false },
      { type: "dense", units: OUTPUTS },
    ],
    loss: "mse",
  };
}

function specOf(form: BpgenForm, steps: number, units: number): NetSpec | LayerNetSpec<LayerSpec> {
  return form === "unrolled" ? lstmUnrolled(steps, { units, input: FEATURES, output: OUTPUTS, loss: "mse" }) : layerSpec(steps, units);
}

// ---- compiling in a child process ------------------------------------------------------------------------

interface Compiled {
  /** The transpiled module, written by the child. */
  readonly file: string;
  /** compile() alone, wall clock and the child's CPU time (user + system), ms. */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The generated module's size (compile()'s stats.bytes). */
  readonly bytes: number;
}

type CompileOutcome = { readonly ok: true; readonly compiled: Compiled } | { readonly ok: false; readonly why: string };

const CHILD_TAG = "LSTM_COMPILE ";
const CHILD_ERROR_TAG = "LSTM_COMPILE_ERROR ";

/** In the child: one compile() of the net, the module written as an .mjs file; prints the result on one line. */
async function compileChild(form: BpgenForm, steps: number, units: number, threads: boolean): Promise<void> {
  const spec = specOf(form, steps, units);
  const { compile } = await import("../src/pipeline.ts");
  const { writeModule } = await import("./compile.ts");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: Awaited<ReturnType<typeof compile>>;
  try {
    result = await compile(spec, { precision: "f32", threads, sourceFile: `${spec.name}.json` });
  } catch (e) {
    process.stdout.write(`${CHILD_ERROR_TAG}${JSON.stringify(e instanceof Error ? e.message : String(e))}\n`);
    process.exit(1);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const file = writeModule(result.source, spec.name);
  const compiled: Compiled = { file, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, bytes: result.stats.bytes };
  process.stdout.write(`${CHILD_TAG}${JSON.stringify(compiled)}\n`);
}

/** Compiles in a fresh process, stopped after `limitMs`; the first line of the error when compile() throws. */
function compileInChild(form: BpgenForm, steps: number, units: number, limitMs: number, threads = false): CompileOutcome {
  const args = ["--import", "tsx", fileURLToPath(import.meta.url), "--compile-child", form, String(steps), String(units), String(threads)];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: limitMs, maxBuffer: 1 << 26 });
  if (r.error && "code" in r.error && r.error.code === "ETIMEDOUT") return { ok: false, why: `compile() did not finish within the limit of ${limitMs / 1000} s` };
  const line = r.stdout.split("\n").find((l) => l.startsWith(CHILD_TAG));
  if (r.status === 0 && line) return { ok: true, compiled: JSON.parse(line.slice(CHILD_TAG.length)) as Compiled };
  const error = r.stdout.split("\n").find((l) => l.startsWith(CHILD_ERROR_TAG));
  if (error) return { ok: false, why: `compile() throws: ${(JSON.parse(error.slice(CHILD_ERROR_TAG.length)) as string).split("\n").slice(0, 2).map((l) => l.trim()).join(" ")}` };
  const message = r.stderr.split("\n").find((l) => /error/i.test(l)) ?? r.stderr.trim().split("\n")[0] ?? `exit status ${r.status}`;
  return { ok: false, why: message.trim() };
}

/** Removes the folders of the child processes' modules. */
const moduleFolders = new Set<string>();

// ---- the bpgen peer ---------------------------------------------------------------------------------------

/**
 * The shared weight each parameter of the module takes. The unrolled net names them Wi, Wh, b, V, d; the layer
 * form (docs/net-json.md) W_ih1, W_hh1, b_ih1, b_hh1 (PyTorch's two biases, which the cell adds: b_ih1 takes b,
 * b_hh1 zeros, and each one's gradient is b's), W2 and b2.
 */
const LAYER_NAMES: Readonly<Record<string, (typeof WEIGHT_NAMES)[number] | "zeros">> = { W_ih1: "Wi", W_hh1: "Wh", b_ih1: "b", b_hh1: "zeros", W2: "V", b2: "d" };
const sharedName = (name: string) => ((WEIGHT_NAMES as readonly string[]).includes(name) ? (name as (typeof WEIGHT_NAMES)[number]) : LAYER_NAMES[name]);

/** The module's flat parameters from the shared weights. */
function bpgenParams(m: NetModule<Float32Array>, s: LstmShape, w: LstmWeights): Float32Array {
  const p = new Float32Array(m.meta.paramCount);
  for (const { name, shape, offset } of m.meta.params) {
    const shared = sharedName(name);
    const size = shape.reduce((a, b) => a * b, 1);
    const value: Float32Array | null = shared === "zeros" ? new Float32Array(size) : shared ? w[shared] : null;
    if (!value || value.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`bpgen LSTM: no weights for the parameter ${name} [${shape.join(", ")}]`);
    p.set(value, offset);
  }
  return p;
}

// ---- checks -------------------------------------------------------------------------------------------

/** bpgen's gradient against the hand-written one (the hand-written BPTT is itself tested against finite differences). */
function checkGradient(m: NetModule<Float32Array>, s: LstmShape, w: LstmWeights, data: LstmBatch): void {
  const hand = new HandLstm<Float32Array>(s, (n) => new Float32Array(n));
  const gHand = new Float32Array(hand.paramCount);
  hand.gradient(flatWeights(w), data.x, data.y, gHand);
  const gBpgen = new Float32Array(m.meta.paramCount);
  m.gradient(bpgenParams(m, s, w), data.x, data.y, gBpgen, s.batch);
  let at = 0;
  const reordered = new Float32Array(gHand.length);
  for (const n of WEIGHT_NAMES) {
    // the layer form's b_ih1 (its b_hh1 has the same gradient)
    const p = m.meta.params.find((q) => sharedName(q.name) === n);
    if (!p) throw new Error(`internal: no parameter ${n}`);
    reordered.set(gBpgen.subarray(p.offset, p.offset + p.size), at);
    at += p.size;
  }
  const diff = maxDiff(reordered, gHand);
  if (!(diff <= GRADIENT_TOLERANCE * maxAbs(gHand))) throw new Error(`bpgen's gradient differs from the hand-written one by ${diff} (max |gradient| ${maxAbs(gHand)})`);
}

// ---- timing and the table ------------------------------------------------------------------------------

function timingOptions(s: LstmShape, rounds: number): TimingOptions {
  return s.units * s.steps > 4096
    ? { warmupMs: 0, warmupCalls: 2, sampleMs: 1, rounds, cellBudgetMs: 15_000, minSamples: 3 }
    : { warmupMs: 500, warmupCalls: 5, sampleMs: 20, rounds, cellBudgetMs: 6_000, minSamples: 5 };
}

const PEERS_IN_ORDER: readonly PeerId[] = ["bpgen", "hand", "jax", "tf-cpu", "tf-wasm", "ort"];

function ms(us: number): string {
  const v = us / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function ratio(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

interface SizeResult {
  readonly size: string;
  readonly shape: LstmShape;
  readonly base: PeerId;
  readonly cells: Map<Mode, Map<PeerId, CellStats>>;
}

function printTable(res: SizeResult): void {
  const { shape: s, base } = res;
  const vs = base === "bpgen" ? "bpgen" : PEER_LABEL[base];
  const flops = lstmForwardFlops(s);
  console.log(`\n### ${res.size}: T = ${s.steps}, ${s.features} features, ${s.units} units, batch ${s.batch} (forward ${(flops / 1e6).toFixed(1)} MFLOP)\n`);
  console.log(`| peer | training step ms | peer / ${vs} | forward ms | peer / ${vs} | forward GFLOP/s | samples (train, forward) |`);
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const train = res.cells.get("train");
  const fwd = res.cells.get("forward");
  for (const id of PEERS_IN_ORDER) {
    const t = train?.get(id);
    const f = fwd?.get(id);
    if (t === undefined && f === undefined) continue;
    const gflops = f ? (flops / (f.median * 1e3)).toFixed(2) : "–";
    console.log(`| ${PEER_LABEL[id]} | ${t ? ms(t.median) : "–"} | ${t ? ratio(t.ratio) : "–"} | ${f ? ms(f.median) : "–"} | ${f ? ratio(f.ratio) : "–"} | ${gflops} | ${t?.samples ?? "–"}, ${f?.samples ?? "–"} |`);
  }
}

// ---- one network ----------------------------------------------------------------------------------------

/** The peers other than bpgen; their libraries are loaded here, not at the top, so the compile child does not load them. */
async function peersFor(s: LstmShape, w: LstmWeights, data: LstmBatch, ortThreads: number): Promise<PeerRun[]> {
  const { lstmJaxRun } = await import("./peers/lstm-jax.ts");
  const { lstmTfRun } = await import("./peers/lstm-tfjs.ts");
  const { lstmOrtRun } = await import("./peers/lstm-ort.ts");
  // ORT first: its loader sets a global Worker (removed again by initOrt) that jax-js must not see (bench/peers/ort.ts)
  const ort = await lstmOrtRun(s, w, data, ortThreads);
  return [lstmHandRun(s, flatWeights(w), data), await lstmJaxRun(s, w, data), await lstmTfRun("cpu", s, w, data), await lstmTfRun("wasm", s, w, data), ort];
}

/** Starts `threads` threads in a threaded module; fails when fewer start. */
async function startPool(m: NetModule<Float32Array>, threads: number): Promise<void> {
  if (!isThreaded(m)) throw new Error("internal: the threaded build has no startThreads");
  const started = await m.startThreads(threads);
  if (started !== threads) throw new Error(`bpgen's module started ${started} threads, not ${threads}`);
  pools.push(m);
}
const pools: ThreadedModule[] = [];

async function benchSize(size: string, form: BpgenForm, rounds: number, limitMs: number, threads: number, ortThreads: number): Promise<SizeResult> {
  const s = shapeOf(size);
  const w = lstmWeights(s);
  const data = lstmBatch(s);
  const runs: PeerRun[] = [];
  console.error(`lstm ${size}: compiling bpgen's ${form} net (limit ${limitMs / 1000} s) …`);
  const outcome = compileInChild(form, s.steps, s.units, limitMs, threads > 1);
  let module: NetModule<Float32Array> | null = null;
  if (outcome.ok) {
    moduleFolders.add(dirname(outcome.compiled.file));
    module = await importModule(outcome.compiled.file);
    if (threads > 1) await startPool(module, threads);
    console.log(`- ${size}: bpgen ${form} net compiled in ${(outcome.compiled.wallMs / 1000).toFixed(1)} s (${(outcome.compiled.cpuMs / 1000).toFixed(1)} s CPU), module ${outcome.compiled.bytes.toLocaleString("en-US")} bytes`);
    runs.push(bpgenRun(module, bpgenParams(module, s, w), { ...data, batch: s.batch }, "bpgen", LSTM_LR));
  } else console.log(`- ${size}: **no bpgen module** (${form} form): ${outcome.why}. Ratios are taken against the hand-written LSTM.`);
  runs.push(...(await peersFor(s, w, data, ortThreads)));
  const hand = runs.find((r) => r.id === "hand");
  if (!hand) throw new Error("internal: no hand-written peer");
  await checkAgainst(runs, hand, "on the first batch");
  if (module) checkGradient(module, s, w, data);
  await stepAll(runs);
  // the layer form's two biases both take a step (PyTorch's b_ih and b_hh): its sum moves twice as far as the hand-written
  // LSTM's one bias, so it sits out here (its gradient was checked above)
  await checkAgainst(form === "layer" ? runs.filter((r) => r.id !== "bpgen") : runs, hand, "after one training step", true);
  console.error(`lstm ${size}: peers agree; timing …`);
  const opts = timingOptions(s, rounds);
  const base: PeerId = module ? "bpgen" : "hand";
  const cells = new Map<Mode, Map<PeerId, CellStats>>();
  for (const mode of ["train", "forward"] as const) {
    const measured = await measure(runs, mode, opts);
    const baseCell = measured.get(base);
    if (!baseCell) throw new Error(`internal: no ${base} cell`);
    cells.set(mode, new Map([...measured].map(([id, cell]) => [id, stats(cell, baseCell)])));
    console.error(`lstm ${size}: ${mode} done`);
  }
  for (const r of runs) r.dispose();
  return { size, shape: s, base, cells };
}

// ---- compile time against T -------------------------------------------------------------------------------

function compileTable(limitMs: number): void {
  console.log(`\n### bpgen compile time and module size (${COMPILE_UNITS} units, ${FEATURES} features; one cold compile() per row, in a fresh process)\n`);
  console.log("| T | form | compile() wall s | compile() CPU s | module bytes |");
  console.log("| ---: | --- | ---: | ---: | ---: |");
  for (const form of ["unrolled", "layer"] as const) {
    for (const steps of COMPILE_STEPS) {
      console.error(`lstm: compiling the ${form} net at T = ${steps} …`);
      const r = compileInChild(form, steps, COMPILE_UNITS, limitMs);
      if (r.ok) {
        moduleFolders.add(dirname(r.compiled.file));
        console.log(`| ${steps} | ${form} | ${(r.compiled.wallMs / 1000).toFixed(2)} | ${(r.compiled.cpuMs / 1000).toFixed(2)} | ${r.compiled.bytes.toLocaleString("en-US")} |`);
      } else console.log(`| ${steps} | ${form} | – | – | – (${r.why.replaceAll("|", "\\|")}) |`);
    }
  }
}

// ---- main ---------------------------------------------------------------------------------------------------

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: readonly string[]): Promise<void> {
  const rounds = Number(option(args, "--rounds") ?? 15);
  const sizes = (option(args, "--sizes") ?? "small,large").split(",");
  const form = option(args, "--bpgen") ?? "unrolled";
  if (form !== "unrolled" && form !== "layer") throw new Error(`--bpgen takes unrolled or layer, not ${form}`);
  const limitMs = 1000 * Number(option(args, "--limit") ?? 300);
  const count = (name: string) => {
    const v = Number(option(args, name) ?? 1);
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name} takes a whole number from 1, not ${option(args, name)}`);
    return v;
  };
  const threads = count("--threads");
  const ortThreads = count("--ort-threads");
  const clock = readClock();
  console.log(`## LSTM (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)\n`);
  const threadNote = `; bpgen on ${threads} thread${threads > 1 ? "s (the threaded build)" : ""}, onnxruntime-web on ${ortThreads}, the other peers on one`;
  console.log(`- \`npx tsx bench/lstm.ts ${args.join(" ")}\`; bpgen: the ${form} net${threadNote}; Node ${process.version}; clock ${(clock.mhz / 1000).toFixed(3)} GHz; load average at start ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
  const results: SizeResult[] = [];
  for (const size of sizes) results.push(await benchSize(size, form, rounds, limitMs, threads, ortThreads));
  for (const pool of pools) await pool.stopThreads();
  for (const r of results) printTable(r);
  if (!args.includes("--no-compile")) compileTable(limitMs);
}

const argv = process.argv.slice(2);
if (argv[0] === "--compile-child") {
  const [form, steps, units, threads] = argv.slice(1);
  if (form !== "unrolled" && form !== "layer") throw new Error(`unknown form ${form}`);
  await compileChild(form, Number(steps), Number(units), threads === "true");
} else {
  let status = 0;
  try {
    await main(argv);
  } catch (e) {
    // a short message, not the stack through TF.js's wasm glue
    process.stderr.write(`lstm bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    status = 1;
  }
  for (const dir of moduleFolders) rmSync(dir, { recursive: true, force: true });
  // TF.js and ORT keep handles open
  process.exit(status);
}
