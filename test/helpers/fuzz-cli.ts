/**
 * The command line run in-process: the same `main` that bin/bpgen.js calls, with stdout and stderr captured.
 * Starting the real binary costs about 2.5 s (tsx, mathjs, ts-morph, prettier), too slow for dozens of inputs;
 * test/cli.test.ts and the child-process checks in test/hostile.test.ts cover the binary itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { main } from "../../src/cli.ts";
import { ROOT, type Run } from "./cli.ts";

type Write = typeof process.stdout.write;

/** Runs `bpgen args…` in this process and returns its exit code and output. */
export async function runCli(args: readonly string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const capture = (into: string[]): Write => ((chunk: string | Uint8Array) => (into.push(String(chunk)), true)) as Write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

/** A stack trace line such as "    at build (/work/src/cli.ts:12:3)" (not our "  at layers[0].units"). */
export const STACK_TRACE = /\n\s+at .*[\\/].*\.(ts|js|mjs|cjs):\d+/;

/** Every file under `dir` with its bytes, to prove a failed run changed nothing. */
export function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path, readFileSync(path, "latin1"));
    }
  }
  return files;
}

/** 1-based line:column of the `nth` occurrence of `needle` in `text`, plus `shift` (columns count UTF-16 units, as bpgen does). */
export function positionOf(text: string, needle: string, nth = 0, shift = 0): string {
  let offset = -1;
  for (let i = 0; i <= nth; i++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`${JSON.stringify(needle)} is not in the text`);
  }
  offset += shift;
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

// ---- proof of non-execution ------------------------------------------------------------------------------

/** The file a hostile input would write if any of it ran (relative: it lands in the working directory). */
export const MARKER = "bpgen-pwned-marker";

/** Code that, if it ever ran, leaves a trace: a global, a marker file, and a polluted Object.prototype. */
export const PAYLOAD = `globalThis.__pwned = 1; require("fs").writeFileSync("${MARKER}", "1"); Object.prototype.polluted = 1`;

/** Throws if any trace of PAYLOAD exists in this process or in `dirs`. */
export function assertNoTrace(...dirs: string[]): void {
  const g = globalThis as { __pwned?: unknown };
  if (g.__pwned !== undefined) throw new Error("globalThis.__pwned was set");
  if ((Object.prototype as { polluted?: unknown }).polluted !== undefined) throw new Error("Object.prototype was polluted");
  if (({} as { polluted?: unknown }).polluted !== undefined) throw new Error("Object.prototype was polluted");
  for (const dir of [process.cwd(), ...dirs]) {
    if (existsSync(join(dir, MARKER))) throw new Error(`${join(dir, MARKER)} was written`);
  }
}

export interface ImportResult {
  file: string;
  ok: boolean;
  error?: string;
  J?: number;
  gradFinite?: boolean;
  pwned?: boolean;
}

/**
 * Imports each generated module in a fresh Node process (ESM through tsx, working directory `dir`) and
 * calls initParams, forward, loss, gradient and sgdStep on one sample; reports what happened and whether
 * any hostile code ran there.
 */
export function importInChild(dir: string, modules: readonly string[]): { results: ImportResult[]; stderr: string } {
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  const script = `
    const results = [];
    for (const file of ${JSON.stringify(modules)}) {
      try {
        const m = await import(${JSON.stringify(pathToFileURL(dir).href)} + "/" + encodeURIComponent(file));
        const p = m.initParams(3);
        const Arr = p.constructor;
        const x = Arr.from({ length: m.meta.inputSize }, (_, i) => Math.sin(i + 1));
        const y = Arr.from({ length: m.meta.targetSize }, (_, i) => (i === 0 ? 1 : 0));
        const out = new Arr(m.meta.outputSize);
        const g = new Arr(m.meta.paramCount);
        m.forward(p, x, out, 1);
        const L = m.loss(p, x, y, 1);
        const J = m.gradient(p, x, y, g, 1);
        m.sgdStep(p, x, y, 0.01, 1);
        results.push({ file, ok: L === J, J, gradFinite: g.every(Number.isFinite) && out.every(Number.isFinite) });
      } catch (e) {
        results.push({ file, ok: false, error: String(e && e.stack || e) });
      }
    }
    const pwned = globalThis.__pwned !== undefined || ({}).polluted !== undefined;
    process.stdout.write(JSON.stringify(results.map((r) => ({ ...r, pwned }))));
  `;
  const loader = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
  const run = spawnSync(process.execPath, ["--import", loader, "--input-type=module", "-e", script], { cwd: dir, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`child process failed (${run.status}): ${run.stderr}`);
  return { results: JSON.parse(run.stdout) as ImportResult[], stderr: run.stderr };
}

/** runCli from `cwd` (the working directory is restored after), for tests that build inside a temporary project. */
export async function runCliIn(cwd: string, args: readonly string[]): Promise<Run> {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    return await runCli(args);
  } finally {
    process.chdir(before);
  }
}
