/**
 * The bpgen peer: a generated module (compiled and imported by bench/compile.ts) driven through its public API.
 * This file imports nothing at run time, so the memory probe can load it without the compiler.
 */
import type { NetModule } from "../../src/check/module.ts";
import type { Batch } from "../nets.ts";
import { BENCH_LR, type PeerRun } from "./types.ts";

export function bpgenRun(m: NetModule<Float32Array>, params: Float32Array, data: Batch): PeerRun {
  const p = Float32Array.from(params);
  const { x, y, batch } = data;
  const out = new Float32Array(batch * m.meta.outputSize);
  // Keeps the returned J alive so the call cannot be treated as dead code.
  const sink = new Float64Array(1);
  return {
    id: "bpgen",
    activate: async () => {},
    loss: () => m.loss(p, x, y, batch),
    step: () => {
      sink[0] += m.sgdStep(p, x, y, BENCH_LR, batch);
    },
    forward: () => m.forward(p, x, out, batch),
    dispose: () => {},
  };
}
