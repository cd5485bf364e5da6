/**
 * One memory probe, run by bench/probes.ts in a child process of its own:
 *   node --expose-gc --import tsx bench/memory-child.ts <peer> [module.mjs]
 * peer: bpgen (the generated module at module.mjs), hand, jax, tf-cpu, tf-wasm, or none (the bare process with the
 * same loader, as a baseline). Trains mnist_mlp at batch 64 for a warm-up (≥ minSteps steps and ≥ minMs),
 * then takes the peak of process.memoryUsage() over more steps, collects garbage, and prints one JSON line.
 * Only the peer being measured is loaded (no compiler, no other peer).
 */
import type { PeerRun } from "./peers/types.ts";

const [peer, moduleFile] = process.argv.slice(2);
const batch = Number(process.env.BENCH_MEMORY_BATCH ?? 64);
const minSteps = Number(process.env.BENCH_MEMORY_STEPS ?? 50);
const minMs = Number(process.env.BENCH_MEMORY_MS ?? 2000);

export interface MemoryReport {
  peer: string;
  batch: number;
  warmupSteps: number;
  measuredSteps: number;
  /** Peak resident set size over the whole process, start-up included (getrusage ru_maxrss), bytes. */
  maxRss: number;
  /** Peak RSS while training (warm-up and measured steps), sampled after every step, bytes. */
  peakRss: number;
  /** Peak over the measured steps, sampled after every step, bytes. */
  peakHeapUsed: number;
  peakExternal: number;
  /** After the steps and a full garbage collection, bytes. */
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

async function makeRun(): Promise<PeerRun | null> {
  if (peer === "none") return null;
  const { makeBatch, referenceNets, seeded } = await import("./nets.ts");
  const net = referenceNets().find((n) => n.id === "mnist_mlp");
  if (!net) throw new Error("mnist_mlp is a reference net");
  const data = makeBatch(net.spec, batch);
  if (peer === "bpgen") {
    const { importModule } = await import("./module-import.ts");
    const { bpgenRun } = await import("./peers/bpgen.ts");
    const m = await importModule(moduleFile);
    return bpgenRun(m, m.initParams(1), data);
  }
  const rand = seeded(3);
  const { mlpLayout } = await import("./nets.ts");
  const { isLayerSpec } = await import("../src/spec/types.ts");
  if (!isLayerSpec(net.spec)) throw new Error("mnist_mlp is a layer net");
  const params = Float32Array.from({ length: mlpLayout(net.spec).paramCount }, () => 0.05 * (rand() - 0.5));
  if (peer === "hand") {
    const { createHandwritten, f32, handRun } = await import("./peers/handwritten.ts");
    return handRun(createHandwritten(net.spec, batch, f32), params, data);
  }
  if (peer === "jax") {
    const { jaxRun } = await import("./peers/jax.ts");
    return jaxRun(net.spec, params, data);
  }
  if (peer === "tf-cpu" || peer === "tf-wasm") {
    const { tfRun } = await import("./peers/tfjs.ts");
    return tfRun(peer === "tf-cpu" ? "cpu" : "wasm", net.spec, params, data);
  }
  throw new Error(`unknown peer ${peer}`);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const run = await makeRun();
const call = run?.step;
if (run && !call?.sync) throw new Error(`memory probe: ${peer} has no synchronous training step`);
const step = call?.sync ? call.run : () => {};
let warmupSteps = 0;
let measuredSteps = 0;
let peakHeapUsed = 0;
let peakExternal = 0;
let peakRss = 0;
if (run) {
  await run.activate();
  const started = performance.now();
  while (warmupSteps < minSteps || performance.now() - started < minMs) {
    step();
    warmupSteps++;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  for (; measuredSteps < minSteps; measuredSteps++) {
    step();
    const m = process.memoryUsage();
    if (m.heapUsed > peakHeapUsed) peakHeapUsed = m.heapUsed;
    if (m.external > peakExternal) peakExternal = m.external;
    if (m.rss > peakRss) peakRss = m.rss;
  }
}
gc();
const m = process.memoryUsage();
const report: MemoryReport = {
  peer,
  batch,
  warmupSteps,
  measuredSteps,
  maxRss: process.resourceUsage().maxRSS * 1024,
  peakRss: Math.max(peakRss, m.rss),
  peakHeapUsed: Math.max(peakHeapUsed, m.heapUsed),
  peakExternal: Math.max(peakExternal, m.external),
  rss: m.rss,
  heapUsed: m.heapUsed,
  arrayBuffers: m.arrayBuffers,
  external: m.external,
};
process.stdout.write(`BENCH_MEMORY ${JSON.stringify(report)}\n`);
// the wasm backend keeps the event loop alive in some versions
process.exit(0);
