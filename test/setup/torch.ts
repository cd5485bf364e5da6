/**
 * Global setup: makes sure the PyTorch interop tests have a Python with PyTorch, so `npm test` passes on a fresh
 * machine with no other step: Debian's `python3-torch` (CPU, with torch.distributed and gloo) is installed when it
 * is missing (test/setup/debian-package.ts).
 */
import { spawnSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { ensureTool } from "./debian-package.ts";

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
  const { found, problem } = ensureTool({ debianPackage: "python3-torch", what: "PyTorch", tests: TORCH_TESTS, find: findTorchPython, missing: TORCH_MISSING });
  project.provide("torch", { python: found, problem });
}
