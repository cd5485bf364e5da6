/**
 * Global setup: makes sure the PyTorch interop tests have a Python with PyTorch, so `npm test` passes on a fresh
 * machine with no other step. When none is found and this runs as root on Debian, it installs Debian's
 * `python3-torch` (CPU, with torch.distributed and gloo) with apt-get (quietly, non-interactively); otherwise
 * those tests fail with one message saying what to install. Runs that select only other test files never install
 * anything.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";

/** Set by the global setup: a Python that imports torch, or why there is none. */
declare module "vitest" {
  export interface ProvidedContext {
    torch: { python?: string; problem?: string };
  }
}

/** The test files that run PyTorch: a run selecting one of them makes sure PyTorch is there. */
export const TORCH_TESTS = ["test/interop/torch-module.test.ts", "test/interop/torch-train.test.ts", "test/interop/onnx-import-torch.test.ts"];

export const TORCH_MISSING =
  "PyTorch is needed for the PyTorch interop tests: install Debian's `python3-torch` (apt-get install python3-torch), or set BPGEN_PYTHON to a Python that imports torch";

/** $BPGEN_PYTHON, else /usr/bin/python3 or python3 on the PATH, whichever imports torch. */
export function findTorchPython(): string | undefined {
  const candidates = [process.env.BPGEN_PYTHON, "/usr/bin/python3", "python3"].filter((c): c is string => !!c);
  return candidates.find((python) => spawnSync(python, ["-c", "import torch"], { stdio: "ignore", timeout: 120_000 }).status === 0);
}

export default function setup(project: TestProject): void {
  if (!selectsTorchTests()) {
    project.provide("torch", { problem: TORCH_MISSING });
    return;
  }
  let python = findTorchPython();
  let problem: string | undefined;
  if (python === undefined) {
    if (process.getuid?.() === 0 && existsSync("/etc/debian_version")) {
      process.stderr.write("PyTorch not found: installing Debian's python3-torch with apt-get (once per machine)\n");
      problem = aptInstall();
      python = findTorchPython();
    }
    if (python === undefined) {
      problem = problem ? `${TORCH_MISSING} (apt-get failed: ${problem})` : TORCH_MISSING;
      process.stderr.write(`${problem}\n`);
    }
  }
  project.provide("torch", { python, problem });
}

/** Whether this run includes a PyTorch test: no file filter on the command line, or one that matches it. */
function selectsTorchTests(): boolean {
  const runAt = process.argv.findIndex((a) => a === "run" || a === "watch");
  const filters = process.argv.slice(runAt + 1).filter((a) => !a.startsWith("-") && !/vitest(\.m?js)?$/.test(a));
  return filters.length === 0 || filters.some((f) => TORCH_TESTS.some((t) => t.includes(f.replace(/^\.\//, ""))));
}

/** apt-get update and install python3-torch; undefined on success, else the tail of the failure. */
function aptInstall(): string | undefined {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "python3-torch"]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", timeout: 20 * 60_000, stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) return (r.error?.message ?? r.stderr ?? "").trim().split("\n").slice(-3).join(" ");
  }
  return undefined;
}
