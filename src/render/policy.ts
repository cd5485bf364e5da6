/**
 * The kernel policy: which backends a module runs (`--kernels`), the thresholds of `auto`, and the code-size
 * limit of the TypeScript kernels. Every number here is measured; the command line's help text is printed
 * from them.
 */
import type { LoweredModule } from "../lower/functions.ts";
import { DENSE_MIN_WEIGHTS } from "../lower/dense.ts";
import { countOps } from "../lower/stats.ts";
import { visitStmts } from "../lower/walk.ts";
import type { BackendName } from "./backends.ts";

/** How the generated module runs its kernels: a backend by name, or `auto`. */
export type Kernels = "auto" | BackendName;

export const KERNELS: readonly Kernels[] = ["auto", "js", "wasm"];

/** What a module runs when nothing is asked. */
export const DEFAULT_KERNELS: Kernels = "auto";

/**
 * The largest TypeScript kernel written with the full unrolling (lower/walk.ts codeSize units, ≈ 10 bytes of
 * bytecode each): V8 never optimises a function over 60 KB of bytecode, and the examples' functions near that
 * size run 3–15× faster with fewer loops written out (mnist_cnn's gradient: 780 ms → 52 ms a batch of 32;
 * deep_relu10's 3×).
 */
export const JS_CODE_BUDGET = 4500;

/**
 * Below this many operations per sample in the gradient, a call into WebAssembly and its copies cost more than
 * the arithmetic they would speed up. Measured on the examples (sgdStep, batch 1 and 16): chain3 (15 operations)
 * runs 1.7–2.5× faster in TypeScript, xor_sigmoid (102) the same in both, mse_sigmoid and iris_softmax (≈ 350)
 * 1.3–1.5× faster in WebAssembly, softmax_10_20_2 (1 058) 2.5–2.9×, and the straight-line deep nets (≈ 14 000),
 * whose TypeScript functions are too large for V8 to optimise, 37–62×.
 */
export const WASM_MIN_OPERATIONS = 256;

/**
 * The backends a module runs, in order of preference; the last runs everywhere. `auto`: WebAssembly where the
 * network has batched dense products (a layer of DENSE_MIN_WEIGHTS weights or more) or its gradient does at
 * least WASM_MIN_OPERATIONS operations per sample, TypeScript alone below that.
 */
export function kernelChain(requested: Kernels, lowered: LoweredModule, threads = false): readonly BackendName[] {
  // threads are the WebAssembly kernels': asking for them asks for those
  const wasm = requested === "wasm" || (requested === "auto" && (threads || worthWebAssembly(lowered)));
  return wasm ? ["wasm", "js"] : ["js"];
}

function worthWebAssembly(lowered: LoweredModule): boolean {
  let dense = false;
  visitStmts(lowered.functions.gradient.body, (s) => (dense ||= s.k === "contract"));
  return dense || countOps(lowered.plans.gradient).perSample >= WASM_MIN_OPERATIONS;
}

/** `--kernels`' help text, with the numbers of the policy. */
export const KERNELS_HELP =
  "the module's kernels: WebAssembly SIMD (wasm), TypeScript (js), or wasm for all but the smallest networks " +
  `(auto, the default: dense layers of ${DENSE_MIN_WEIGHTS} weights or more, or ${WASM_MIN_OPERATIONS} operations per sample)`;
