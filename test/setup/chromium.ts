/**
 * Global setup: makes sure the browser tests have headless Chromium, so `npm test` passes on a fresh machine
 * with no other step: Debian's `chromium` is installed when it is missing (test/setup/debian-package.ts).
 */
import type { TestProject } from "vitest/node";
import { CHROMIUM_MISSING, findChromium } from "../helpers/chromium.ts";
import { ensureTool } from "./debian-package.ts";

const BROWSER_TESTS = ["test/browser-pages.test.ts", "test/report-browser.test.ts", "test/wasm-kernels.test.ts", "test/threads-browser.test.ts"];

export default function setup(project: TestProject): void {
  const { found, problem } = ensureTool({ debianPackage: "chromium", what: "headless Chromium", tests: BROWSER_TESTS, find: findChromium, missing: CHROMIUM_MISSING });
  project.provide("chromium", { binary: found, problem });
}
