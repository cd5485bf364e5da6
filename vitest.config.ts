import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * Tests of what the generated modules compute run twice, once per kernel back end (TypeScript and
 * WebAssembly); everything else runs once. The numeric tests whose subject is the mathematics run the kernel IR
 * on the interpreter instead (test/helpers/interpreted.ts), once, and test/renderers.test.ts holds each back
 * end's modules to the interpreter.
 */
const KERNEL_TESTS = [
  "test/renderers.test.ts",
  "test/examples.test.ts",
  "test/generated.test.ts",
  "test/shared-params.test.ts",
  "test/optim.test.ts",
  "test/traps.test.ts",
];

const shared = {
  globalSetup: ["test/setup/chromium.ts", "test/setup/torch.ts"],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // a worker keeps the modules it loaded for its project's next file (the compiler takes about 2 s to load): no
  // test file changes them, and the kernel projects' variable is the same for every file of a project
  isolate: false,
};

export default defineConfig({
  test: {
    // vitest's default leaves one core to its main process, which idles: on two cores that is one test file at a time
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { ...shared, name: "kernels: js", include: KERNEL_TESTS, env: { BPGEN_TEST_KERNELS: "js" } } },
      { test: { ...shared, name: "kernels: wasm", include: KERNEL_TESTS, env: { BPGEN_TEST_KERNELS: "wasm" } } },
      { test: { ...shared, name: "other", include: ["test/**/*.test.ts"], exclude: KERNEL_TESTS } },
    ],
  },
});
