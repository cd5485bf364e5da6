/**
 * What the PyTorch interop tests share: the Python the global setup found (test/setup/torch.ts), running one
 * Python program per test, exporting a network into a folder, compiling it in f64, and seeded random data.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { inject } from "vitest";
import { loadModule } from "../helpers/load-module.ts";
import { exportPytorch } from "../../src/interop/pytorch/export.ts";
import type { AnyNetModule } from "../../src/module-api.ts";
import { compile } from "../../src/pipeline.ts";
import { parseSpec } from "../../src/spec/load.ts";
import { TORCH_MISSING } from "../setup/torch.ts";

/** The Python with torch the global setup found. */
export function torchPython(): string {
  const { python, problem } = inject("torch");
  if (!python) throw new Error(problem ?? TORCH_MISSING);
  return python;
}

/** Runs a Python program (its text) with `args`; its standard output, or an error with its standard error. */
export function runPython(program: string, args: readonly string[] = [], options: { timeout?: number; cwd?: string } = {}): string {
  const r = spawnSync(torchPython(), ["-c", program, ...args], { encoding: "utf8", timeout: options.timeout ?? 120_000, cwd: options.cwd, env: { ...process.env, OMP_NUM_THREADS: "1" } });
  if (r.status !== 0) throw new Error(`python failed (${r.status ?? r.signal}): ${r.stderr.slice(-4000)}`);
  return r.stdout;
}

/** Exports `spec` (a net.json object) with `bpgen export --to pytorch` into `dir`; returns the files written. */
export async function exportInto(dir: string, spec: object, params?: string): Promise<string[]> {
  const file = join(dir, "net.json");
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(spec));
  const files = await exportPytorch({ file, loaded: parseSpec(file, JSON.stringify(spec)), out: dir, params });
  for (const f of files) {
    mkdirSync(dirname(f.target), { recursive: true });
    writeFileSync(f.target, f.data);
  }
  return files.map((f) => f.target);
}

/** The network's module, compiled in f64 with TypeScript kernels. */
export async function compileF64(spec: object): Promise<AnyNetModule<Float64Array>> {
  const { source } = await compile(JSON.stringify(spec), { precision: "f64", kernels: "js", format: false });
  return loadModule<Float64Array>(source) as unknown as AnyNetModule<Float64Array>;
}

/** A seeded generator of uniform numbers in [0, 1) (a 32-bit xorshift: the tests' data, not bpgen's). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** |a − b| ≤ tol · max(1, |a|, |b|) for every element; the first element that is not, else undefined. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): string | undefined {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(a[i]), Math.abs(b[i])))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  }
  return undefined;
}
