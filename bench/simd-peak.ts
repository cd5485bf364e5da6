/**
 * The measured SIMD128 peak of one core: how many f32 multiplies and adds per second WebAssembly's 128-bit SIMD
 * gives on this machine, as V8 compiles it. No kernel can go faster, so it says how far from the hardware a kernel
 * is, and whether a speed target is reachable at all.
 *
 *   npx tsx bench/simd-peak.ts [--seconds 0.5] [--rounds 7]
 *
 * The kernel, built with bpgen's own WebAssembly encoder: `ACCUMULATORS` independent chains acc ← acc·x + y over
 * f32x4 locals, no memory traffic. Enough chains hide the multiply's and the add's latency, so what is measured is
 * the arithmetic throughput. It is timed over `--rounds` rounds of about `--seconds` of the process's CPU time (so
 * that time spent waiting for a core that other processes held does not count); the best round counts.
 */
import { ModuleBuilder, type FunctionBuilder, type Local } from "../src/render/wasm/encoder.ts";
import { readClock } from "./machine.ts";

/**
 * Chains in flight: enough to hide the latencies, few enough for x86's 16 vector registers (V8 uses no more; at
 * 14 chains it spills, and the rate halves).
 */
const ACCUMULATORS = 12;
/** A multiply and an add of 4 lanes per chain and iteration. */
const FLOPS_PER_ITERATION = ACCUMULATORS * 8;

/** acc_i ← acc_i·x + y for every accumulator, `iterations` times; returns a lane of their sum (nothing is dead code). */
function chainsBody(f: FunctionBuilder, iterations: Local): void {
  const accs = Array.from({ length: ACCUMULATORS }, (_, i) => f.local("v128", `acc${i}`));
  const x = f.local("v128", "x");
  const y = f.local("v128", "y");
  f.f32x4Const(0.999999).localSet(x).f32x4Const(1e-7).localSet(y);
  accs.forEach((acc, i) => f.f32x4Const(i).localSet(acc));
  f.loop((top) => {
    for (const acc of accs) f.localGet(acc).localGet(x).op("f32x4.mul").localGet(y).op("f32x4.add").localSet(acc);
    f.localGet(iterations).i32Const(1).op("i32.sub").localTee(iterations).brIf(top);
  });
  f.localGet(accs[0]);
  for (const acc of accs.slice(1)) f.localGet(acc).op("f32x4.add");
  f.op("f32x4.extract_lane", 0);
}

function buildKernel(): (iterations: number) => number {
  const mod = new ModuleBuilder("simd_peak");
  const chains = mod.function("chains", { params: { iterations: "i32" }, results: ["f32"] }, (f, { iterations }) => chainsBody(f, iterations));
  mod.exportFunction("chains", chains);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(mod.toBytes()));
  return instance.exports.chains as (iterations: number) => number;
}

/** CPU seconds of this process: time it ran, not time it waited for a core other processes held. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The best GFLOP/s over `rounds` rounds of about `seconds` of CPU time each. */
function measure(kernel: (iterations: number) => number, seconds: number, rounds: number): number {
  let iterations = 1 << 16;
  // grow the count until one call takes a tenth of a round (by then V8 runs its optimised code)
  for (;;) {
    const t0 = cpuSeconds();
    kernel(iterations);
    if (cpuSeconds() - t0 > seconds / 10 || iterations > 2 ** 30) break;
    iterations *= 2;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const t0 = cpuSeconds();
    while (cpuSeconds() - t0 < seconds) {
      kernel(iterations);
      calls++;
    }
    best = Math.max(best, (calls * iterations * FLOPS_PER_ITERATION) / (cpuSeconds() - t0) / 1e9);
  }
  return best;
}

/** One core's measured SIMD128 peak, GFLOP/s (f32 multiplies and adds). */
export function measureSimdPeak(seconds = 0.5, rounds = 7): number {
  return measure(buildKernel(), seconds, rounds);
}

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const v = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!(v > 0)) throw new Error(`${name} takes a positive number`);
  return v;
}

function main(): void {
  const seconds = flag("--seconds", 0.5);
  const rounds = flag("--rounds", 7);
  const clock = readClock();
  const peak = measureSimdPeak(seconds, rounds);
  console.log(`SIMD128 peak of one core: ${peak.toFixed(1)} GFLOP/s (best of ${rounds} rounds of ${seconds} s CPU; Node ${process.version})`);
  console.log(`= ${((peak * 1000) / clock.mhz).toFixed(1)} f32 operations per cycle at the ${clock.mhz.toFixed(0)} MHz of ${clock.source}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
