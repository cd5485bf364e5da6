/**
 * Global setup: makes sure the browser tests have headless Chromium, so `npm test` passes on a fresh machine
 * with no other step. When none is found and this runs as root on Debian, it installs Debian's `chromium`
 * with apt-get (quietly, non-interactively); otherwise the browser tests fail with one message saying what
 * to install. Runs that select only other test files never install anything.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { CHROMIUM_MISSING, findChromium } from "../helpers/chromium.ts";

const BROWSER_TESTS = ["test/browser-pages.test.ts", "test/report-browser.test.ts", "test/wasm-kernels.test.ts", "test/threads-browser.test.ts"];

export default function setup(project: TestProject): void {
  if (!selectsBrowserTests()) {
    project.provide("chromium", { binary: findChromium(), problem: CHROMIUM_MISSING });
    return;
  }
  let binary = findChromium();
  let problem: string | undefined;
  if (binary === undefined) {
    if (process.getuid?.() === 0 && existsSync("/etc/debian_version")) {
      process.stderr.write("headless Chromium not found: installing Debian's chromium with apt-get (once per machine)\n");
      problem = aptInstall();
      binary = findChromium();
    }
    if (binary === undefined) {
      problem = problem ? `${CHROMIUM_MISSING} (apt-get failed: ${problem})` : CHROMIUM_MISSING;
      process.stderr.write(`${problem}\n`);
    }
  }
  project.provide("chromium", { binary, problem });
}

/** Whether this run includes a browser test: no file filter on the command line, or one that matches it. */
function selectsBrowserTests(): boolean {
  const runAt = process.argv.findIndex((a) => a === "run" || a === "watch");
  const filters = process.argv.slice(runAt + 1).filter((a) => !a.startsWith("-") && !/vitest(\.m?js)?$/.test(a));
  return filters.length === 0 || filters.some((f) => BROWSER_TESTS.some((t) => t.includes(f.replace(/^\.\//, ""))));
}

/** apt-get update and install chromium; undefined on success, else the tail of the failure. */
function aptInstall(): string | undefined {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "chromium"]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", timeout: 20 * 60_000, stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) return (r.error?.message ?? r.stderr ?? "").trim().split("\n").slice(-3).join(" ");
  }
  return undefined;
}
