/**
 * Probes in child processes: memory of mnist_mlp training at batch 64, each peer in a process of its own
 * (bench/memory-child.ts), one after the other, plus a bare process with the same loader as the baseline; and
 * cold compiles in fresh processes (bench/compile-child.ts).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { MemoryReport } from "./memory-child.ts";
import { ROOT } from "./nets.ts";

export type { MemoryReport };

export const MEMORY_PEERS = ["none", "bpgen", "hand", "jax", "tf-cpu", "tf-wasm"] as const;
export type MemoryPeer = (typeof MEMORY_PEERS)[number];

export function probeMemory(peer: MemoryPeer, moduleFile: string, env: Record<string, string> = {}): MemoryReport {
  const args = ["--expose-gc", "--import", "tsx", join(ROOT, "bench", "memory-child.ts"), peer, moduleFile];
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
  const line = child.stdout.split("\n").find((l) => l.startsWith("BENCH_MEMORY "));
  if (child.status !== 0 || !line) {
    throw new Error(`memory probe ${peer} failed (exit ${child.status}):\n${child.stderr.split("\n").slice(-15).join("\n")}`);
  }
  return JSON.parse(line.slice("BENCH_MEMORY ".length)) as MemoryReport;
}

export interface ColdCompile {
  /** Loading the compiler's modules (ts-morph, prettier, mathjs, …) in a fresh process. */
  loadMs: number;
  /** The first compile() in that process. */
  compileMs: number;
  bytes: number;
}

/** Compiles the scaling MLP in a fresh process (bench/compile-child.ts). */
export function coldCompile(depth: number, width: number): ColdCompile {
  const args = ["--import", "tsx", join(ROOT, "bench", "compile-child.ts"), String(depth), String(width)];
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  const line = child.stdout.split("\n").find((l) => l.startsWith("BENCH_COMPILE "));
  if (child.status !== 0 || !line) throw new Error(`cold compile ${depth} × ${width} failed (exit ${child.status}):\n${child.stderr.slice(-2000)}`);
  return JSON.parse(line.slice("BENCH_COMPILE ".length)) as ColdCompile;
}
