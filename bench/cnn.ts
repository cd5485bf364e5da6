/**
 * The CNN benchmark: examples/mnist_cnn.json (conv 3×3, 8 filters, relu; max-pool 2; conv 3×3, 16 filters, relu;
 * max-pool 2; dense 10; softmax cross-entropy as logsumexp(z) − y·z, mean over the batch) on 28×28 images, batch 32,
 * f32. For a training step (forward, loss, gradient, SGD with lr 0.01) and a forward pass (the logits), it times
 * bpgen's module (compiled here from the working tree: the default kernels, and the TypeScript kernels as a second
 * row), jax-js, TF.js (cpu and wasm backends; the wasm backend cannot take this net's gradient and is timed forward
 * only) and onnxruntime-web (forward only). bench/peers/cnn-*.ts say how each peer is written. Every peer starts from
 * the same seeded weights and batch (bench/peers/cnn-net.ts); before anything is timed, each peer's loss and output
 * are checked against bpgen's, and again after one training step.
 *
 * For bpgen, GFLOP/s against the machine's SIMD128 ceiling (bench/machine.ts). Its module has no way to time one
 * layer: one table gives each layer's share of the products' FLOPs next to the whole call's GFLOP/s, and another
 * times each convolution layer compiled as a net of its own (cnn-net.ts layerNets; --no-layers skips it).
 *
 *   npx tsx bench/cnn.ts [--rounds 15] [--size 28] [--batch 32] [--no-layers]
 *
 * Timing is bench/timing.ts's: warm-up, then samples of the peers in rounds taken in turn; a ratio is the median
 * over the rounds of the peer's sample divided by bpgen's sample of the same round.
 */
import { loadavg } from "node:os";
import type { NetModule } from "../src/check/module.ts";
import { cleanupModules, compileAndImport, compileVariants } from "./compile.ts";
import { readClock, simd128Ceiling } from "./machine.ts";
import { cnnBpgenRun } from "./peers/cnn-bpgen.ts";
import { type Agreement, LOSS_TOLERANCE, checkAgainst, stepAll } from "./peers/agreement.ts";
import { CNN_LR, type CnnBatch, type CnnShape, type CnnWeights, type LayerNet, cnnBatch, cnnFlops, cnnSpec, cnnWeights, layerFlops, layerNets, sides } from "./peers/cnn-net.ts";
import { uniform } from "./peers/lstm-net.ts";
import { PEER_LABEL, type PeerId, type PeerRun } from "./peers/types.ts";
import { type CellStats, type Mode, type TimingOptions, measure, minorGc, stats } from "./timing.ts";

const PEERS_IN_ORDER: readonly PeerId[] = ["bpgen", "bpgen-wasm", "bpgen-js", "jax", "tf-cpu", "tf-wasm", "ort"];

// ---- the peers ------------------------------------------------------------------------------------------------

interface Setup {
  readonly runs: PeerRun[];
  /** Peers that cannot take a training step, and why (TF.js wasm). */
  readonly cannotTrain: Map<PeerId, string>;
  readonly versions: string;
  /** Which bpgen builds run, for the report. */
  readonly bpgenNote: string;
  readonly compileMs: number;
  readonly moduleBytes: number;
}

async function setUp(s: CnnShape, w: CnnWeights, data: CnnBatch): Promise<Setup> {
  // the peers' libraries are loaded here, ORT first: its loader sets a global Worker (removed again by initOrt) that jax-js must not see
  const { initOrt } = await import("./peers/ort.ts");
  const { initJax } = await import("./peers/jax.ts");
  const { initWasm } = await import("./peers/tfjs.ts");
  const { cnnOrtRun } = await import("./peers/cnn-ort.ts");
  const { cnnJaxRun } = await import("./peers/cnn-jax.ts");
  const { cnnTfRun } = await import("./peers/cnn-tfjs.ts");
  const ortInfo = await initOrt();
  const jaxInfo = await initJax();
  const tfInfo = await initWasm();
  const ort = await cnnOrtRun(s, w, data);

  console.error("cnn: compiling bpgen's module …");
  const compiled = await compileVariants(cnnSpec(s));
  const runs: PeerRun[] = [cnnBpgenRun("bpgen", compiled.base.module, s, w, data)];
  const sameAsWasm = compiled.wasm?.result.source === compiled.base.result.source;
  if (compiled.wasm && !sameAsWasm) runs.push(cnnBpgenRun("bpgen-wasm", compiled.wasm.module, s, w, data));
  if (compiled.js) runs.push(cnnBpgenRun("bpgen-js", compiled.js.module, s, w, data));
  const bpgenNote =
    compiled.single ??
    `"bpgen" is compile()'s default kernels (auto)${sameAsWasm ? ", the same module as kernels \"wasm\" (WebAssembly, TypeScript fallback)" : ""}; "bpgen (js)" the TypeScript kernels`;

  const cannotTrain = new Map<PeerId, string>();
  runs.push(await cnnJaxRun(s, w, data));
  for (const backend of ["cpu", "wasm"] as const) {
    const tf = await cnnTfRun(backend, s, w, data);
    if (tf.cannotTrain) cannotTrain.set(tf.run.id, tf.cannotTrain);
    runs.push(tf.run);
  }
  runs.push(ort);
  const versions = `jax-js ${jaxInfo.version} (wasm, ${jaxInfo.workers} workers); TF.js ${tfInfo.version} (wasm ${tfInfo.wasmVariant}); onnxruntime-web ${ortInfo.version} (${ortInfo.threads} thread)`;
  return { runs, cannotTrain, versions, bpgenNote, compileMs: compiled.base.compileMillis, moduleBytes: compiled.base.result.stats.bytes };
}

// ---- the tables -------------------------------------------------------------------------------------------------

function ms(us: number): string {
  const v = us / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function ratio(r: number): string {
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

const gflops = (flops: number, us: number): number => flops / (us * 1e3);

function printPeers(s: CnnShape, cells: Map<Mode, Map<PeerId, CellStats>>, cannotTrain: ReadonlyMap<PeerId, string>): void {
  const trainFlops = cnnFlops(s, "train");
  const fwdFlops = cnnFlops(s, "forward");
  console.log(`\n### ${s.size}×${s.size} images, batch ${s.batch}: training step ${(trainFlops / 1e6).toFixed(1)} MFLOP, forward ${(fwdFlops / 1e6).toFixed(1)} MFLOP\n`);
  console.log("| peer | training step ms | peer / bpgen | training GFLOP/s | forward ms | peer / bpgen | forward GFLOP/s | samples (train, forward) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const train = cells.get("train");
  const fwd = cells.get("forward");
  for (const id of PEERS_IN_ORDER) {
    const t = train?.get(id);
    const f = fwd?.get(id);
    if (t === undefined && f === undefined) continue;
    const noTrain = cannotTrain.has(id) ? "cannot train" : "–";
    const tCells = t ? [ms(t.median), ratio(t.ratio), gflops(trainFlops, t.median).toFixed(2)] : [noTrain, "–", "–"];
    const fCells = f ? [ms(f.median), ratio(f.ratio), gflops(fwdFlops, f.median).toFixed(2)] : ["–", "–", "–"];
    console.log(`| ${PEER_LABEL[id]} | ${tCells.join(" | ")} | ${fCells.join(" | ")} | ${t?.samples ?? "–"}, ${f?.samples ?? "–"} |`);
  }
  for (const [id, why] of cannotTrain) console.log(`\n${PEER_LABEL[id]} cannot train this net: ${why}`);
}

/** bpgen's whole-call GFLOP/s against the SIMD128 ceiling, and each layer's share of the FLOPs (no per-layer timing). */
function printLayers(s: CnnShape, cells: Map<Mode, Map<PeerId, CellStats>>, ceiling: number): void {
  const z = sides(s);
  const layers = layerFlops(s);
  const total = { forward: cnnFlops(s, "forward"), train: cnnFlops(s, "train") };
  const shape: Record<string, string> = {
    conv1: `${s.size}×${s.size}×1 → ${z.conv1}×${z.conv1}×8`,
    conv2: `${z.pool1}×${z.pool1}×8 → ${z.conv2}×${z.conv2}×16`,
    dense: `${z.flat} → 10`,
  };
  console.log("\n### bpgen: GFLOP/s and each layer's share of the FLOPs\n");
  console.log("The module cannot time one layer: the GFLOP/s are the whole call's (all products over its time); a layer's share of the call's FLOPs is what its products would take at that rate.\n");
  console.log("| layer | shape | forward MFLOP / call | share | training MFLOP / call | share |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const l of layers) {
    const f = (s.batch * l.forward) / 1e6;
    const t = (s.batch * l.train) / 1e6;
    console.log(`| ${l.layer} | ${shape[l.layer]} | ${f.toFixed(2)} | ${((100 * s.batch * l.forward) / total.forward).toFixed(1)}% | ${t.toFixed(2)} | ${((100 * s.batch * l.train) / total.train).toFixed(1)}% |`);
  }
  console.log(`| all | | ${(total.forward / 1e6).toFixed(2)} | 100% | ${(total.train / 1e6).toFixed(2)} | 100% |`);
  console.log(`\n| build | training GFLOP/s | of the ceiling | forward GFLOP/s | of the ceiling |`);
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const id of ["bpgen", "bpgen-wasm", "bpgen-js"] as const) {
    const t = cells.get("train")?.get(id);
    const f = cells.get("forward")?.get(id);
    if (!t || !f) continue;
    const gt = gflops(total.train, t.median);
    const gf = gflops(total.forward, f.median);
    console.log(`| ${PEER_LABEL[id]} | ${gt.toFixed(2)} | ${((100 * gt) / ceiling).toFixed(1)}% | ${gf.toFixed(2)} | ${((100 * gf) / ceiling).toFixed(1)}% |`);
  }
}

// ---- one layer at a time ---------------------------------------------------------------------------------------

/** One bpgen module in the layer table: its training step and forward pass, and the FLOPs of each for the batch. */
interface Timed {
  readonly name: string;
  readonly step: () => void;
  readonly forward: () => void;
  readonly trainFlops: number;
  readonly forwardFlops: number;
}

/** Each timed module's medians, µs per call, and its time over the whole net's in the same round (median over the rounds). */
interface LayerRow {
  readonly timed: Timed;
  readonly train: number;
  readonly forward: number;
  readonly trainShare: number;
  readonly forwardShare: number;
}

/** A one-layer net's module: its own initial parameters, a seeded batch (inputs in [0, 1), targets ±1). */
function layerTimed(net: LayerNet, m: NetModule<Float32Array>, s: CnnShape): Timed {
  const p = m.initParams(1);
  const next = uniform(5);
  const x = Float32Array.from({ length: s.batch * net.inputSize }, () => (next() + 1) / 2);
  const y = Float32Array.from({ length: s.batch * net.targetSize }, () => next());
  const out = new Float32Array(s.batch * m.meta.outputSize);
  const flops = layerFlops(s).find((l) => l.layer === net.layer);
  if (!flops) throw new Error(`internal: no FLOPs for ${net.layer}`);
  return {
    name: net.layer,
    step: () => {
      m.sgdStep(p, x, y, CNN_LR, s.batch);
    },
    forward: () => m.forward(p, x, out, s.batch),
    trainFlops: s.batch * flops.train,
    forwardFlops: s.batch * flops.forward,
  };
}

const median = (v: readonly number[]): number => {
  const sorted = [...v].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * µs per call of synchronous calls, [call][round]: each warmed up (5 calls), its calls per sample set so a sample
 * lasts about 20 ms, then one sample of each per round, the first rotating, a minor GC (untimed) before each — as
 * bench/timing.ts samples the peers, so that a call and the whole net's are paired by round.
 */
function pairedSamples(calls: readonly (() => void)[], rounds: number): number[][] {
  const reps = calls.map((call) => {
    for (let i = 0; i < 5; i++) call();
    const t0 = performance.now();
    call();
    return Math.max(1, Math.round(20 / Math.max(performance.now() - t0, 0.01)));
  });
  const samples: number[][] = calls.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < calls.length; i++) {
      const k = (i + r) % calls.length;
      minorGc();
      const t0 = performance.now();
      for (let n = 0; n < reps[k]; n++) calls[k]();
      samples[k].push(((performance.now() - t0) * 1000) / reps[k]);
    }
  }
  return samples;
}

/**
 * Each convolution layer compiled alone (WebAssembly kernels, the whole net's default here), timed in the same
 * rounds as the whole net (first in the list).
 */
async function timeLayers(s: CnnShape, whole: PeerRun, rounds: number): Promise<LayerRow[]> {
  const run = (c: PeerRun["step"]): (() => void) => {
    if (!c?.sync) throw new Error("internal: bpgen's calls are synchronous");
    return c.run;
  };
  const timed: Timed[] = [{ name: "the whole net", step: run(whole.step), forward: run(whole.forward), trainFlops: cnnFlops(s, "train"), forwardFlops: cnnFlops(s, "forward") }];
  for (const net of layerNets(s)) {
    console.error(`cnn: compiling ${net.layer} alone …`);
    timed.push(layerTimed(net, (await compileAndImport(net.spec, "f32", "wasm")).module, s));
  }
  console.error("cnn: timing the layers …");
  const train = pairedSamples(timed.map((t) => t.step), rounds);
  const forward = pairedSamples(timed.map((t) => t.forward), rounds);
  const share = (samples: readonly number[], base: readonly number[]) => median(samples.map((v, r) => v / base[r]));
  return timed.map((t, i) => ({ timed: t, train: median(train[i]), forward: median(forward[i]), trainShare: share(train[i], train[0]), forwardShare: share(forward[i], forward[0]) }));
}

function printLayerTimes(rows: readonly LayerRow[], ceiling: number): void {
  console.log("\n### bpgen: each convolution layer compiled alone\n");
  console.log("Its conv, bias, relu and pooling as a net of its own (bench/peers/cnn-net.ts layerNets: loss Σ p·t; conv2's gradient goes back to its input, as in the whole net), WebAssembly kernels, the same batch size, timed in the same rounds as the whole net; *of the whole*: the layer's time over the whole net's in the same round (median over the rounds); GFLOP/s of the layer's products.\n");
  console.log("| module | training step ms | of the whole | GFLOP/s | of the ceiling | forward ms | of the whole | GFLOP/s | of the ceiling |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  for (const r of rows) {
    const gt = gflops(r.timed.trainFlops, r.train);
    const gf = gflops(r.timed.forwardFlops, r.forward);
    console.log(`| ${r.timed.name} | ${ms(r.train)} | ${pct(r.trainShare)} | ${gt.toFixed(2)} | ${pct(gt / ceiling)} | ${ms(r.forward)} | ${pct(r.forwardShare)} | ${gf.toFixed(2)} | ${pct(gf / ceiling)} |`);
  }
}

// ---- main -----------------------------------------------------------------------------------------------------

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function timingOptions(rounds: number): TimingOptions {
  return { warmupMs: 500, warmupCalls: 5, sampleMs: 20, rounds, cellBudgetMs: 8_000, minSamples: 5 };
}

async function main(args: readonly string[]): Promise<void> {
  const rounds = Number(option(args, "--rounds") ?? 15);
  const s: CnnShape = { size: Number(option(args, "--size") ?? 28), batch: Number(option(args, "--batch") ?? 32) };
  const clock = readClock();
  const ceiling = simd128Ceiling();
  const load = loadavg().map((v) => v.toFixed(2)).join(" ");
  const w = cnnWeights(s);
  const data = cnnBatch(s);
  const setup = await setUp(s, w, data);
  const { runs } = setup;
  const bpgen = runs[0];
  const before = await checkAgainst(runs, bpgen, "on the first batch");
  await stepAll(runs);
  const after = await checkAgainst(runs, bpgen, "after one training step", true);
  for (const r of runs) await r.verifyMemory?.();
  console.error("cnn: peers agree; timing …");
  const cells = new Map<Mode, Map<PeerId, CellStats>>();
  for (const mode of ["train", "forward"] as const) {
    const measured = await measure(runs, mode, timingOptions(rounds));
    const base = measured.get("bpgen");
    if (!base) throw new Error("internal: no bpgen cell");
    cells.set(mode, new Map([...measured].map(([id, cell]) => [id, stats(cell, base)])));
    console.error(`cnn: ${mode} done`);
  }
  const layers = args.includes("--no-layers") ? null : await timeLayers(s, bpgen, rounds);
  for (const r of runs) r.dispose();

  console.log(`## CNN (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)\n`);
  console.log(`- \`npx tsx bench/cnn.ts ${args.join(" ")}\`; Node ${process.version}; clock ${(clock.mhz / 1000).toFixed(3)} GHz, SIMD128 ceiling ${ceiling.toFixed(1)} GFLOP/s per core; load average at start ${load}, at the end ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
  console.log(`- ${setup.bpgenNote}; compile() ${setup.compileMs.toFixed(0)} ms, module ${setup.moduleBytes.toLocaleString("en-US")} bytes`);
  console.log(`- ${setup.versions}`);
  const fmt = (a: Agreement) => `loss ${a.loss.toPrecision(7)}, largest relative loss difference ${a.lossDiff.toExponential(1)}, output difference ${a.outputDiff.toExponential(1)} of the largest |output|`;
  console.log(`- agreement with bpgen (tolerance ${LOSS_TOLERANCE}): before training ${fmt(before)}; after one step ${fmt(after)}`);
  printPeers(s, cells, setup.cannotTrain);
  printLayers(s, cells, ceiling);
  if (layers) printLayerTimes(layers, ceiling);
}

const argv = process.argv.slice(2);
let status = 0;
try {
  await main(argv);
} catch (e) {
  // a short message, not the stack through TF.js's wasm glue
  process.stderr.write(`cnn bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  status = 1;
}
cleanupModules();
// TF.js and ORT keep handles open
process.exit(status);
