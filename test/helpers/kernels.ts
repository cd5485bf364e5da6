/**
 * The kernels the kernel-dependent tests compile for. vitest.config.ts runs those tests once per kernel back
 * end, as the projects "kernels: js" and "kernels: wasm", with BPGEN_TEST_KERNELS set accordingly; any other
 * test (and a test file run on its own without the variable) gets the default, "auto".
 */
import type { CompileOptions, Kernels } from "../../src/pipeline.ts";

const requested = process.env.BPGEN_TEST_KERNELS;

export const TEST_KERNELS: Kernels = requested === "js" || requested === "wasm" ? requested : "auto";

/** `options` with the kernels of this test run. */
export function withKernels(options: CompileOptions): CompileOptions {
  return { ...options, kernels: TEST_KERNELS };
}
