/**
 * What the global setups share (test/setup/chromium.ts, torch.ts): a tool some test files need, looked for once
 * before every run, and installed from Debian's packages with apt-get (quietly, non-interactively) when it is
 * missing, this runs as root on Debian, and the run selects one of those files. Otherwise the tests that need it
 * fail with one message saying what to install; runs that select only other files never install anything.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface NeededTool<T> {
  /** The Debian package that brings it. */
  readonly debianPackage: string;
  /** What it is, for the line printed while installing ("headless Chromium"). */
  readonly what: string;
  /** The test files that need it. */
  readonly tests: readonly string[];
  /** Where it is, or undefined. */
  readonly find: () => T | undefined;
  /** The message of a test that needs it when it is missing. */
  readonly missing: string;
}

/** The tool (installed first if it is missing and may be), or the problem the tests needing it report. */
export function ensureTool<T>(tool: NeededTool<T>): { found?: T; problem?: string } {
  let found = tool.find();
  if (found !== undefined) return { found };
  if (!selects(tool.tests)) return { problem: tool.missing };
  let failure: string | undefined;
  if (process.getuid?.() === 0 && existsSync("/etc/debian_version")) {
    process.stderr.write(`${tool.what} not found: installing Debian's ${tool.debianPackage} with apt-get (once per machine)\n`);
    failure = aptInstall(tool.debianPackage);
    found = tool.find();
  }
  if (found !== undefined) return { found };
  const problem = failure ? `${tool.missing} (apt-get failed: ${failure})` : tool.missing;
  process.stderr.write(`${problem}\n`);
  return { problem };
}

/** Whether this run includes one of `tests`: no file filter on the command line, or one that matches it. */
function selects(tests: readonly string[]): boolean {
  const runAt = process.argv.findIndex((a) => a === "run" || a === "watch");
  const filters = process.argv.slice(runAt + 1).filter((a) => !a.startsWith("-") && !/vitest(\.m?js)?$/.test(a));
  return filters.length === 0 || filters.some((f) => tests.some((t) => t.includes(f.replace(/^\.\//, ""))));
}

/** apt-get update and install the package; undefined on success, else the tail of the failure. */
function aptInstall(name: string): string | undefined {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", name]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", timeout: 20 * 60_000, stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) return (r.error?.message ?? r.stderr ?? "").trim().split("\n").slice(-3).join(" ");
  }
  return undefined;
}
