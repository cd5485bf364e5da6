/**
 * `npm run bench [-- --only <net>[,<net>…]] [--quick]`
 *
 * For every reference network and large-product micro-benchmark (bench/nets.ts): one training step and one
 * forward pass, timed for bpgen's generated module(s) (compiled now, from the working tree), the hand-written
 * baseline, jax-js, TF.js cpu and wasm, and onnxruntime-web (forward only) — see bench/bench-net.ts; then
 * compile time and size for MLPs of growing depth and width, and memory for mnist_mlp at batch 64 in child
 * processes. Prints the results as markdown and, for a full run, writes them to BENCHMARKS.md, keeping the sections
 * other scripts measure (compile time against network size, layer modes, LSTM, CNN: `npx tsx bench/cnn.ts`).
 *
 *   --only a,b   only these networks (reference or product; timing tables only; BENCHMARKS.md is not written)
 *   --quick      fewer, shorter samples (timing tables only; BENCHMARKS.md is not written)
 *   --write      write BENCHMARKS.md even for a partial run
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { LOSS_TOLERANCE, OUTPUT_TOLERANCE, benchNet } from "./bench-net.ts";
import { cleanupModules } from "./compile.ts";
import { readClock, simd128Ceiling } from "./machine.ts";
import { MEMORY_PEERS, coldCompile, probeMemory, type MemoryReport } from "./probes.ts";
import { ROOT, mlpLayout, productNets, referenceNets, scalingMlp } from "./nets.ts";
import { initJax } from "./peers/jax.ts";
import { initOrt } from "./peers/ort.ts";
import { FASTEST_PRODUCTS, initWasm } from "./peers/tfjs.ts";
import { markdown, type Machine, type NetResult, type PeerSetup, type Report, type ScalingRow } from "./report.ts";
import type { TimingOptions } from "./timing.ts";

const FULL: TimingOptions = { warmupMs: 500, warmupCalls: 5, sampleMs: 10, rounds: 41, cellBudgetMs: 6000, minSamples: 5 };
const QUICK: TimingOptions = { warmupMs: 200, warmupCalls: 3, sampleMs: 10, rounds: 11, cellBudgetMs: 1500, minSamples: 3 };
const SCALING: readonly [number, number][] = [
  [2, 256],
  [5, 256],
  [10, 256],
  [20, 256],
  [5, 64],
  [5, 1024],
];

interface Args {
  only: string[];
  quick: boolean;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { only: [], quick: false, write: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") args.quick = true;
    else if (a === "--write") args.write = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const value = a === "--only" ? argv[++i] : a.slice("--only=".length);
      if (!value) throw new Error("--only needs a network name");
      args.only.push(...value.split(",").filter((s) => s.length > 0));
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: npm run bench -- [--only <net>[,<net>…]] [--quick] [--write]\n");
      process.exit(0);
    } else throw new Error(`unknown option ${a} (use --only <net>, --quick, --write)`);
  }
  return args;
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function timingText(t: TimingOptions): string {
  return `warm-up ≥ ${t.warmupMs} ms and ≥ ${t.warmupCalls} calls per peer per net and mode; samples of ≈ ${t.sampleMs} ms (at least one call); up to ${t.rounds} rounds alternating the peers; a cell stops after ${t.cellBudgetMs / 1000} s of samples once it has ${t.minSamples}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = parseArgs(process.argv.slice(2));
  const timing = args.quick ? QUICK : FULL;
  const all = [...referenceNets(), ...productNets()];
  const unknown = args.only.filter((id) => !all.some((n) => n.id === id));
  if (unknown.length) throw new Error(`unknown network ${unknown.join(", ")}; the networks are ${all.map((n) => n.id).join(", ")}`);
  const chosen = args.only.length ? all.filter((n) => args.only.includes(n.id)) : all;
  const productIds = new Set(productNets().map((n) => n.id));
  const partial = args.quick || args.only.length > 0;

  const tf = await initWasm();
  // ORT first: loading its runtime touches a global that jax-js looks at (see initOrt)
  const ort = await initOrt();
  const jax = await initJax();
  const cpus = os.cpus();
  const clock = readClock();
  const machine: Machine = {
    date: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
    cpu: cpus[0]?.model ?? "unknown CPU",
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
    clock,
    ceiling: simd128Ceiling(),
  };
  log(`bench: ${machine.cpu} × ${machine.cores}, ${(clock.mhz / 1000).toFixed(2)} GHz (SIMD128 ceiling ${machine.ceiling.toFixed(1)} GFLOP/s), Node ${machine.node}`);
  log(`bench: jax-js ${jax.version}, TF.js ${tf.version} (wasm ${tf.wasmVariant}), onnxruntime-web ${ort.version} (${ort.threads} thread)`);

  const nets: NetResult[] = [];
  const products: NetResult[] = [];
  let mnistModule: string | undefined;
  let bpgenVariants = false;
  let bpgenSingle: string | null = null;
  for (const net of chosen) {
    const { result, compiled } = await benchNet(net, timing, log);
    if (net.id === "mnist_mlp") mnistModule = compiled.base.file;
    if (compiled.single === null) bpgenVariants = true;
    else bpgenSingle ??= compiled.single;
    (productIds.has(net.id) ? products : nets).push(result);
  }
  const peers: PeerSetup = { tf, tfProducts: FASTEST_PRODUCTS, jax, ort, bpgenVariants, bpgenSingle: bpgenVariants ? null : bpgenSingle };

  let scaling: ScalingRow[] | null = null;
  let memory: MemoryReport[] | null = null;
  if (!partial) {
    const { compile } = await import("../src/pipeline.ts");
    scaling = [];
    const runs = 3;
    for (const [depth, width] of SCALING) {
      const spec = scalingMlp(depth, width);
      const times: number[] = [];
      let last: Awaited<ReturnType<typeof compile>> | undefined;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        last = await compile(spec);
        times.push(performance.now() - t0);
      }
      if (!last) throw new Error("no compile");
      times.sort((a, b) => a - b);
      const cold = coldCompile(depth, width);
      scaling.push({
        depth,
        width,
        params: mlpLayout(spec).paramCount,
        millis: times[runs >> 1],
        runs,
        coldMillis: cold.compileMs,
        loadMillis: cold.loadMs,
        bytes: last.stats.bytes,
        lines: last.stats.lines,
        nodes: last.stats.nodes,
        opRatio: last.stats.gradientOps.perSample / last.stats.lossOps.perSample,
      });
      log(`  compile ${depth} × ${width}: ${Math.round(cold.compileMs)} ms cold, ${Math.round(times[runs >> 1])} ms warm, ${last.stats.bytes} bytes`);
    }
    if (!mnistModule) throw new Error("mnist_mlp was not compiled");
    memory = [];
    for (const peer of MEMORY_PEERS) {
      const r = probeMemory(peer, mnistModule);
      memory.push(r);
      log(`  memory ${peer}: RSS ${(r.rss / 2 ** 20).toFixed(1)} MB, heapUsed + external ${((r.heapUsed + r.external) / 2 ** 20).toFixed(1)} MB`);
    }
  }

  const report: Report = {
    machine,
    peers,
    options: { quick: args.quick, only: args.only, timing: timingText(timing), lossTolerance: LOSS_TOLERANCE, outputTolerance: OUTPUT_TOLERANCE },
    nets,
    products,
    scaling,
    memory,
    totalSeconds: (performance.now() - started) / 1000,
  };
  let text = markdown(report);
  if (!partial) {
    log("bench: startup of the command and bundle sizes");
    const { measureStartup, startupMarkdown } = await import("./startup.ts");
    const { bundleMarkdown, measureBundles } = await import("./bundle.ts");
    text += `\n## Startup of the command\n\n${startupMarkdown(measureStartup(5))}\n## Bundle sizes\n\n${bundleMarkdown(await measureBundles())}`;
  }
  process.stdout.write(text);
  if (!partial || args.write) {
    writeFileSync(join(ROOT, "BENCHMARKS.md"), text + keptSections(join(ROOT, "BENCHMARKS.md")));
    log("bench: wrote BENCHMARKS.md");
  } else log("bench: partial run, BENCHMARKS.md left as it is (--write to overwrite)");
}

/**
 * The heading of the sections other scripts measure, written by hand from their output (bench/compile-time.ts, then
 * bench/layer-modes.ts, bench/lstm.ts and bench/cnn.ts): kept, to the end of the file, when it is rewritten.
 */
const KEPT_FROM = "\n## Compile time against network size";

function keptSections(file: string): string {
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const at = old.indexOf(KEPT_FROM);
  return at >= 0 ? old.slice(at) : "";
}

try {
  await main();
  cleanupModules();
  process.exit(0);
} catch (e) {
  cleanupModules();
  // a short message, not the stack through TF.js's wasm glue (which reprints its whole minified source)
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
