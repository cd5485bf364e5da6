/**
 * The bpgen peer: a generated module (compiled and imported by bench/compile.ts) driven through its public API.
 * `id` tells the module's kernel back end apart when compile() builds several (see bench/compile.ts).
 * This file imports nothing at run time, so the memory probe can load it without the compiler.
 */
import type { NetModule } from "../../src/check/module.ts";
import type { Batch } from "../nets.ts";
import { BENCH_LR, syncCall, type PeerId, type PeerRun } from "./types.ts";

export type BpgenPeerId = Extract<PeerId, "bpgen" | "bpgen-js" | "bpgen-wasm">;

/** The peer of a module from `params` (copied) on a batch; a training step is sgdStep at `lr`. */
export function bpgenRun(m: NetModule<Float32Array>, params: Float32Array, data: Pick<Batch, "x" | "y" | "batch">, id: BpgenPeerId = "bpgen", lr = BENCH_LR): PeerRun {
  const p = Float32Array.from(params);
  const { x, y, batch } = data;
  const out = new Float32Array(batch * m.meta.outputSize);
  // Keeps the returned J alive so the call cannot be treated as dead code.
  const sink = new Float64Array(1);
  return {
    id,
    activate: async () => {},
    loss: () => m.loss(p, x, y, batch),
    step: syncCall(() => {
      sink[0] += m.sgdStep(p, x, y, lr, batch);
    }),
    forward: syncCall(() => m.forward(p, x, out, batch)),
    output: async () => {
      m.forward(p, x, out, batch);
      return Float32Array.from(out);
    },
    dispose: () => {},
  };
}
