/** The benchmark's results, as bench/run.ts collects them and the report modules print them. */
import type { Clock } from "./machine.ts";
import type { RefNet } from "./nets.ts";
import type { JaxInfo } from "./peers/jax.ts";
import type { OrtInfo } from "./peers/ort.ts";
import type { TfBackend, TfInfo, TfProducts } from "./peers/tfjs.ts";
import type { PeerId } from "./peers/types.ts";
import type { MemoryReport } from "./probes.ts";
import type { CellStats, Mode } from "./timing.ts";

export interface Machine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly os: string;
  readonly node: string;
  readonly loadAverage: string;
  readonly clock: Clock;
  /** One core's SIMD128 ceiling, GFLOP/s. */
  readonly ceiling: number;
}

/** How the peers were set up in this run (versions, back ends, threads). */
export interface PeerSetup {
  readonly tf: TfInfo;
  readonly tfProducts: Readonly<Record<TfBackend, TfProducts>>;
  readonly jax: JaxInfo;
  readonly ort: OrtInfo;
  /** Several bpgen rows (compile() builds different modules for kernels js / wasm / auto). */
  readonly bpgenVariants: boolean;
  /** Why there is one bpgen row, when there is one. */
  readonly bpgenSingle: string | null;
}

export interface NetResult {
  readonly net: RefNet;
  readonly compileMillis: number;
  readonly bytes: number;
  readonly forwardFlops: number;
  readonly trainFlops: number;
  /** Step-0 loss of every training peer (all within the tolerance of bpgen's, checked before timing). */
  readonly losses: Partial<Record<PeerId, number>>;
  /** max |output − bpgen's output| / max |bpgen's output| of every peer's forward pass (checked before timing). */
  readonly outputDiffs: Partial<Record<PeerId, number>>;
  readonly forwardOps: number;
  readonly gradientOps: number;
  readonly train: ReadonlyMap<PeerId, CellStats>;
  readonly forward: ReadonlyMap<PeerId, CellStats>;
}

export interface ScalingRow {
  readonly depth: number;
  readonly width: number;
  readonly params: number;
  /** compile() wall time, median of `runs` in a warm process. */
  readonly millis: number;
  readonly runs: number;
  /** The first compile() in a fresh process, and loading the compiler's modules before it. */
  readonly coldMillis: number;
  readonly loadMillis: number;
  readonly bytes: number;
  readonly lines: number;
  readonly nodes: number;
  readonly opRatio: number;
}

export interface Options {
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly timing: string;
  readonly lossTolerance: number;
  readonly outputTolerance: number;
}

export interface Report {
  readonly machine: Machine;
  readonly peers: PeerSetup;
  readonly options: Options;
  readonly nets: readonly NetResult[];
  /** The large-product micro-benchmarks. */
  readonly products: readonly NetResult[];
  readonly scaling: readonly ScalingRow[] | null;
  readonly memory: readonly MemoryReport[] | null;
  readonly totalSeconds: number;
}

export function cellsOf(r: NetResult, mode: Mode): ReadonlyMap<PeerId, CellStats> {
  return mode === "train" ? r.train : r.forward;
}

/** Peer time / bpgen time (> 1: bpgen is faster), paired by round; NaN when the peer was not timed. */
export function speedup(r: NetResult, mode: Mode, peer: PeerId): number {
  return cellsOf(r, mode).get(peer)?.ratio ?? NaN;
}

/** FLOPs of one call (the whole batch). */
export function callFlops(r: NetResult, mode: Mode): number {
  return (mode === "train" ? r.trainFlops : r.forwardFlops) * r.net.batch;
}

/** GFLOP/s of a cell's median time. */
export function gflopsOf(r: NetResult, mode: Mode, c: CellStats): number {
  return callFlops(r, mode) / (c.median * 1e3);
}
