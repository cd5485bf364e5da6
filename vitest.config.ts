import { defineConfig } from "vitest/config";

/**
 * Tests of what the generated modules compute run twice, once per kernel back end (TypeScript and
 * WebAssembly); everything else runs once.
 */
const KERNEL_TESTS = [
  "test/renderers.test.ts",
  "test/examples.test.ts",
  "test/generated.test.ts",
  "test/shared-params.test.ts",
  "test/optim.test.ts",
  "test/traps.test.ts",
];

const shared = { globalSetup: ["test/setup/chromium.ts"], testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "kernels: js", include: KERNEL_TESTS, env: { BPGEN_TEST_KERNELS: "js" } } },
      { test: { ...shared, name: "kernels: wasm", include: KERNEL_TESTS, env: { BPGEN_TEST_KERNELS: "wasm" } } },
      { test: { ...shared, name: "other", include: ["test/**/*.test.ts"], exclude: KERNEL_TESTS } },
    ],
  },
});
