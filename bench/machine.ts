/**
 * The machine's clock and its SIMD128 ceiling: what one core can do with WebAssembly's 128-bit SIMD, the
 * yardstick of the large-product micro-benchmarks.
 *
 * The ceiling is measured (bench/simd-peak.ts: independent multiply-add chains over f32x4 registers), since the
 * clock a core runs at under load is not one the system reports: the base clock of /proc/cpuinfo gave a ceiling
 * that the product kernels exceeded by up to 1.4×.
 * The clock is lscpu's "CPU max MHz" when it reports one (the peak clock), else the largest "cpu MHz" of
 * /proc/cpuinfo (the current clock of each core), else 2.6 GHz (this machine's nominal clock) with a note.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { measureSimdPeak } from "./simd-peak.ts";

const FALLBACK_MHZ = 2600;

export interface Clock {
  readonly mhz: number;
  /** Where the figure comes from, for the report. */
  readonly source: string;
}

function lscpuMaxMhz(): number | null {
  const r = spawnSync("lscpu", [], { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0 || !r.stdout) return null;
  const m = /^CPU max MHz:\s*([\d.]+)/m.exec(r.stdout);
  const v = m ? Number(m[1]) : NaN;
  return v > 0 ? v : null;
}

function cpuinfoMhz(): number | null {
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const values = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1])).filter((v) => v > 0);
    return values.length ? Math.max(...values) : null;
  } catch {
    return null;
  }
}

export function readClock(): Clock {
  const max = lscpuMaxMhz();
  if (max) return { mhz: max, source: `lscpu "CPU max MHz"` };
  const cur = cpuinfoMhz();
  if (cur) return { mhz: cur, source: `/proc/cpuinfo "cpu MHz", the largest over the cores; lscpu reports no max MHz` };
  return { mhz: FALLBACK_MHZ, source: "not readable from this machine: 2.6 GHz assumed, the nominal clock" };
}

/** One core's SIMD128 ceiling in GFLOP/s, measured once per process (about 4 s). */
export function simd128Ceiling(): number {
  ceiling ??= measureSimdPeak();
  return ceiling;
}
let ceiling: number | undefined;
