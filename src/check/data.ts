/** Seeded random parameters and data for checks: targets shaped to what the loss expects. */
import type { ModuleMeta } from "./module.ts";

export type TargetKind = "one-hot" | "binary" | "real";

/** mulberry32: small, fast, and the same numbers on every platform. */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function randomInputs(meta: ModuleMeta, batch: number, rand: () => number): Float64Array {
  return Float64Array.from({ length: batch * meta.inputSize }, () => normal(rand));
}

export function randomTargets(meta: ModuleMeta, batch: number, kind: TargetKind, rand: () => number): Float64Array {
  const n = meta.targetSize;
  const y = new Float64Array(batch * n);
  for (let s = 0; s < batch; s++) {
    if (kind === "one-hot") y[s * n + Math.floor(rand() * n)] = 1;
    else for (let i = 0; i < n; i++) y[s * n + i] = kind === "binary" ? (rand() < 0.5 ? 0 : 1) : normal(rand);
  }
  return y;
}
