/**
 * Timing: each peer is warmed up, its repetitions per sample calibrated, then the peers are sampled in
 * rounds, one sample of each per round (the starting peer rotates each round), so drift on a shared machine
 * falls on all of them alike. A sample is `reps` back-to-back calls timed together, divided by `reps`.
 * Before every sample the young generation is collected (untimed), so one peer's garbage is not collected
 * during another peer's sample.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Call, PeerId, PeerRun } from "./peers/types.ts";

export type Mode = "train" | "forward";

export interface TimingOptions {
  /** Warm-up per peer per network and mode: at least this long … */
  readonly warmupMs: number;
  /** … and at least this many calls. */
  readonly warmupCalls: number;
  /** Target duration of one sample (reps is chosen to reach it; at least one call). */
  readonly sampleMs: number;
  /** Rounds of alternation: the most samples a cell gets. */
  readonly rounds: number;
  /** A cell stops taking samples once it has used this much time (slow peers on big nets) … */
  readonly cellBudgetMs: number;
  /** … but never before it has this many samples. */
  readonly minSamples: number;
}

export interface Cell {
  readonly peer: PeerId;
  readonly mode: Mode;
  readonly reps: number;
  /** µs per call, one entry per sample. */
  readonly samples: number[];
  /** The round of each sample. */
  readonly rounds: number[];
}

export interface CellStats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
  readonly reps: number;
  /**
   * Time relative to the baseline cell (bpgen): the median over rounds of this cell's sample divided by the
   * baseline's sample of the same round. Paired this way, a load change on the machine that lasts longer than a
   * round cancels out.
   */
  readonly ratio: number;
  /** The ratio of the medians, for comparison. */
  readonly ratioOfMedians: number;
}

type Gc = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;

let gcFn: Gc | undefined;
/** The V8 gc() function, exposed at run time (no --expose-gc needed on the command line). */
function gc(): Gc {
  if (!gcFn) {
    setFlagsFromString("--expose-gc");
    gcFn = runInNewContext("gc") as Gc;
  }
  return gcFn;
}

export function minorGc(): void {
  gc()({ type: "minor" });
}

/** The call a cell times: a peer's training step or forward pass (null when the peer has no such mode). */
export function callOf(run: PeerRun, mode: Mode): Call | null {
  return mode === "train" ? run.step : run.forward;
}

type SyncLoop = (fn: () => void, reps: number) => void;
type AsyncLoop = (fn: () => Promise<void>, reps: number) => Promise<void>;

/**
 * A loop of its own per cell (a fresh function, so its call site only ever sees this peer's function and
 * stays monomorphic). An asynchronous call is awaited before the next one starts.
 */
function makeLoop(call: Call): (reps: number) => Promise<void> | void {
  if (call.sync) {
    const loop = new Function("fn", "reps", "for (let i = 0; i < reps; i++) fn();") as SyncLoop;
    const fn = call.run;
    return (reps) => loop(fn, reps);
  }
  const loop = new Function("fn", "reps", "return (async () => { for (let i = 0; i < reps; i++) await fn(); })();") as AsyncLoop;
  const fn = call.run;
  return (reps) => loop(fn, reps);
}

/** Time of `reps` calls in ms. */
async function timeCalls(loop: (reps: number) => Promise<void> | void, reps: number): Promise<number> {
  const t0 = performance.now();
  const done = loop(reps);
  if (done) await done;
  return performance.now() - t0;
}

/** Samples every peer that has the mode (inference-only peers sit out the training step). */
export async function measure(runs: readonly PeerRun[], mode: Mode, opts: TimingOptions): Promise<Map<PeerId, Cell>> {
  const plans: { run: PeerRun; loop: (reps: number) => Promise<void> | void; reps: number; cap: number; cell: Cell; used: number }[] = [];
  for (const run of runs) {
    const call = callOf(run, mode);
    if (!call) continue;
    await run.activate();
    const loop = makeLoop(call);
    // warm-up
    const started = performance.now();
    let calls = 0;
    while (calls < opts.warmupCalls || performance.now() - started < opts.warmupMs) {
      await timeCalls(loop, 1);
      calls++;
    }
    // calibration: double the calls until they take 2 ms (or one call is slower than that)
    let n = 1;
    let t = await timeCalls(loop, n);
    while (t < 2 && n < 1 << 24) {
      n *= 2;
      t = await timeCalls(loop, n);
    }
    const perCall = t / n;
    const reps = Math.max(1, Math.round(opts.sampleMs / perCall));
    const cap = Math.max(opts.minSamples, Math.min(opts.rounds, Math.floor(opts.cellBudgetMs / (reps * perCall))));
    plans.push({ run, loop, reps, cap, cell: { peer: run.id, mode, reps, samples: [], rounds: [] }, used: 0 });
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[(i + r) % plans.length];
      if (p.cell.samples.length >= p.cap) continue;
      await p.run.activate();
      minorGc();
      const ms = await timeCalls(p.loop, p.reps);
      p.used += ms;
      p.cell.samples.push((ms * 1000) / p.reps);
      p.cell.rounds.push(r);
    }
  }
  return new Map(plans.map((p) => [p.run.id, p.cell]));
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function stats(cell: Cell, base: Cell): CellStats {
  const byRound = new Map(base.rounds.map((r, i) => [r, base.samples[i]]));
  const paired: number[] = [];
  cell.rounds.forEach((r, i) => {
    const b = byRound.get(r);
    if (b !== undefined) paired.push(cell.samples[i] / b);
  });
  const m = median(cell.samples);
  return {
    median: m,
    min: Math.min(...cell.samples),
    max: Math.max(...cell.samples),
    samples: cell.samples.length,
    reps: cell.reps,
    ratio: paired.length > 0 ? median(paired) : m / median(base.samples),
    ratioOfMedians: m / median(base.samples),
  };
}
