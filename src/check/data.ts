/** Seeded random parameters and data for checks: targets shaped to what the loss expects. */
import { readFileSync } from "node:fs";
import { type NetMeta, toJavaScript } from "./module.ts";

export type TargetKind = "one-hot" | "binary" | "real";

interface Rng {
  rngSeed(seed: number): Uint32Array;
  rngNext(state: Uint32Array): number;
}
let rng: Rng | undefined;

/**
 * templates/rng.ts itself, read at run time like every template (so it is one generator, and the compiled
 * package in dist/ needs no JavaScript copy of it): transpiled in memory and evaluated once per process.
 */
function templateRng(): Rng {
  if (rng) return rng;
  const source = readFileSync(new URL("../../templates/rng.ts", import.meta.url), "utf8");
  const exports: Partial<Rng> = {};
  new Function("exports", toJavaScript(source, "commonjs"))(exports);
  rng = exports as Rng;
  return rng;
}

/** A seeded uniform [0, 1) generator: the same one generated modules use for initParams (templates/rng.ts). */
export function makeRandom(seed: number): () => number {
  const { rngSeed, rngNext } = templateRng();
  const state = rngSeed(seed);
  return () => rngNext(state);
}

/** A standard normal number by Box–Muller from `rand`'s uniforms. */
export function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function randomInputs(meta: NetMeta, batch: number, rand: () => number): Float64Array {
  return Float64Array.from({ length: batch * meta.inputSize }, () => normal(rand));
}

export function randomTargets(meta: NetMeta, batch: number, kind: TargetKind, rand: () => number): Float64Array {
  const n = meta.targetSize;
  const y = new Float64Array(batch * n);
  for (let s = 0; s < batch; s++) {
    if (kind === "one-hot") y[s * n + Math.floor(rand() * n)] = 1;
    else for (let i = 0; i < n; i++) y[s * n + i] = kind === "binary" ? (rand() < 0.5 ? 0 : 1) : normal(rand);
  }
  return y;
}
