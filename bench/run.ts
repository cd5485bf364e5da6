/**
 * `npm run bench [-- --only <net>[,<net>…]] [--quick]`
 *
 * For every reference network (bench/nets.ts): one training step and one forward pass, timed for bpgen's
 * generated module (compiled now, from the working tree), the hand-written baseline, TF.js cpu and TF.js wasm;
 * then compile time and size for MLPs of growing depth and width, and memory for mnist_mlp at batch 64 in child
 * processes. Prints the results as markdown and, for a full run, writes them to BENCHMARKS.md.
 *
 *   --only a,b   only these reference networks (timing tables only; BENCHMARKS.md is not written)
 *   --quick      fewer, shorter samples (timing tables only; BENCHMARKS.md is not written)
 *   --write      write BENCHMARKS.md even for a partial run
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { cleanupModules, compileAndImport } from "./compile.ts";
import { MEMORY_PEERS, coldCompile, probeMemory, type MemoryReport } from "./probes.ts";
import { ROOT, benchParams, forwardFlopsPerSample, makeBatch, referenceNets, scalingMlp, trainFlopsPerSample, mlpLayout } from "./nets.ts";
import { bpgenRun } from "./peers/bpgen.ts";
import { createHandwritten, f32, handRun } from "./peers/handwritten.ts";
import { initWasm, tfRun } from "./peers/tfjs.ts";
import { PEER_LABEL, type PeerId, type PeerRun } from "./peers/types.ts";
import { PEERS, markdown, ratio, us, type Machine, type NetResult, type Report, type ScalingRow } from "./report.ts";
import { measure, stats, type CellStats, type Mode, type TimingOptions } from "./timing.ts";

const FULL: TimingOptions = { warmupMs: 500, warmupCalls: 5, sampleMs: 10, rounds: 41, cellBudgetMs: 6000, minSamples: 5 };
const QUICK: TimingOptions = { warmupMs: 200, warmupCalls: 3, sampleMs: 10, rounds: 11, cellBudgetMs: 1500, minSamples: 3 };
const LOSS_TOLERANCE = 1e-4;
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
  const all = referenceNets();
  const unknown = args.only.filter((id) => !all.some((n) => n.id === id));
  if (unknown.length) throw new Error(`unknown network ${unknown.join(", ")}; the reference networks are ${all.map((n) => n.id).join(", ")}`);
  const nets = args.only.length ? all.filter((n) => args.only.includes(n.id)) : all;
  const partial = args.quick || args.only.length > 0;

  const tf = await initWasm();
  const cpus = os.cpus();
  const machine: Machine = {
    date: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
    cpu: cpus[0]?.model ?? "unknown CPU",
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version,
    wasmVariant: tf.wasmVariant,
    loadAverage: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
  };
  log(`bench: ${machine.cpu} × ${machine.cores}, Node ${machine.node}, TF.js ${machine.tfjs}, wasm ${machine.wasmVariant}`);

  const results: NetResult[] = [];
  let mnistModule: string | undefined;
  for (const net of nets) {
    const compiled = await compileAndImport(net.spec);
    if (net.id === "mnist_mlp") mnistModule = compiled.file;
    const m = compiled.module;
    const params = benchParams(m.initParams(1));
    const data = makeBatch(net.spec, net.batch);
    const runs: PeerRun[] = [
      bpgenRun(m, params, data),
      handRun(createHandwritten(net.spec, net.batch, f32), params, data),
      await tfRun("cpu", net.spec, params, data),
      await tfRun("wasm", net.spec, params, data),
    ];
    // the same loss at step 0, or nothing is timed
    const losses = {} as Record<PeerId, number>;
    for (const run of runs) {
      await run.activate();
      losses[run.id] = run.loss();
    }
    const bad = runs.filter((r) => !(Math.abs(losses[r.id] - losses.bpgen) <= LOSS_TOLERANCE * Math.abs(losses.bpgen)));
    if (bad.length) {
      throw new Error(
        `${net.id}: step-0 losses disagree (relative tolerance ${LOSS_TOLERANCE}): ${runs.map((r) => `${r.id} ${losses[r.id]}`).join(", ")}`,
      );
    }
    const cells = {} as Record<Mode, Map<PeerId, CellStats>>;
    for (const mode of ["train", "forward"] as const) {
      const measured = await measure(runs, mode, timing);
      const baseCell = measured.get("bpgen");
      if (!baseCell) throw new Error("no bpgen cell");
      cells[mode] = new Map([...measured].map(([id, cell]) => [id, stats(cell, baseCell)]));
      log(
        `  ${net.id} ${mode}: ` +
          PEERS.map((p) => {
            const c = cells[mode].get(p);
            return c ? `${PEER_LABEL[p]} ${us(c.median)} µs (${ratio(c.ratio)})` : "";
          }).join(", "),
      );
    }
    for (const run of runs) {
      await run.activate();
      run.dispose();
    }
    results.push({
      net,
      compileMillis: compiled.compileMillis,
      bytes: compiled.result.stats.bytes,
      forwardFlops: forwardFlopsPerSample(net.spec),
      trainFlops: trainFlopsPerSample(net.spec),
      losses,
      forwardOps: compiled.result.stats.lossOps.perSample,
      gradientOps: compiled.result.stats.gradientOps.perSample,
      train: cells.train,
      forward: cells.forward,
    });
  }

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
    options: { quick: args.quick, only: args.only, timing: timingText(timing) },
    nets: results,
    scaling,
    memory,
    totalSeconds: (performance.now() - started) / 1000,
  };
  const text = markdown(report);
  process.stdout.write(text);
  if (!partial || args.write) {
    writeFileSync(join(ROOT, "BENCHMARKS.md"), text);
    log("bench: wrote BENCHMARKS.md");
  } else log("bench: partial run, BENCHMARKS.md left as it is (--write to overwrite)");
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
