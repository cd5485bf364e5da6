/**
 * The command line run inside the test's own process: `main` from src/cli.ts with its standard output and error
 * captured. For tests whose subject is what a command does (what it trains, writes, prints, the code it
 * returns), not the process around it: each spawned `bpgen` costs a second or two of starting Node and loading
 * the compiler, which this process has already loaded. What only a real process shows (its exit status, a
 * signal, the text of a crash) stays with `bpgen` in ./cli.ts, which spawns bin/bpgen.js.
 */
import { main } from "../../src/cli.ts";
import type { Run } from "./cli.ts";

/**
 * Runs `bpgen <args>` in this process, from `cwd` (the current directory by default; the test files run one at
 * a time in each worker process, so it is changed for the command and changed back), and returns the code
 * `main` returns (bin/bpgen.js makes it the exit status) with what the command wrote to stdout and stderr.
 */
export async function bpgenInProcess(args: string[], cwd?: string): Promise<Run> {
  const captured = { stdout: "", stderr: "" };
  const previousCwd = process.cwd();
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array) => {
      captured[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture("stdout");
  process.stderr.write = capture("stderr");
  try {
    if (cwd !== undefined) process.chdir(cwd);
    const code = await main(args);
    return { code, ...captured };
  } finally {
    process.chdir(previousCwd);
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
}
