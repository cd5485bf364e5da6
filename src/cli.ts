/**
 * The command line: wires arguments to compile() and the checker. Exit codes: 0 success, 1 a check
 * failed (--verify found a stale file, gradcheck found a wrong gradient), 2 bad input, 3 internal error.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { BpgenError } from "./errors.ts";
import { writeAllAtomically } from "./files.ts";
import { type CompileResult, type Precision, VERSION, compile } from "./pipeline.ts";
import { loadSpec } from "./spec/load.ts";
import { isLayerSpec, type NetSpec } from "./spec/types.ts";
import { loadModule } from "./check/module.ts";
import { formatReport, gradcheck } from "./check/gradcheck.ts";
import type { TargetKind } from "./check/data.ts";
import { registerExplain } from "./commands/explain.ts";
import { registerGraph } from "./commands/graph.ts";
import { registerTrain } from "./commands/train.ts";

export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, internal: 3 } as const;

interface BuildOptions {
  out?: string;
  precision: Precision;
  verify?: boolean;
  stats?: boolean;
}

export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const program = new Command("bpgen")
    .description("Compile a network description (net.json) into a TypeScript module with forward, gradient and sgdStep.")
    .version(VERSION)
    .option("--debug", "print stack traces of internal errors")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  let code: number = EXIT.ok;
  const precision = () => new Option("--precision <p>", "array type of the generated module").choices(["f32", "f64"]).default("f32");

  program
    .command("build", { isDefault: true })
    .description("write generated/<name>.ts for each net.json (the default command)")
    .argument("<files...>", "net.json files")
    .option("-o, --out <file.ts|dir>", "destination file (one input) or folder (default: generated/)")
    .addOption(precision())
    .option("--verify", "write nothing; fail when a file on disk differs from what would be generated")
    .option("--stats", "print operation counts, size and compile time")
    .action(async (files: string[], opts: BuildOptions) => {
      code = await build(files, opts);
    });

  program
    .command("gradcheck")
    .description("check every parameter's gradient against finite differences (f64) and the f32 module against f64")
    .argument("<files...>", "net.json files")
    .option("--seed <n>", "seed of the random point and data", "1")
    .option("--batch <n>", "samples in the check batch", "3")
    .action(async (files: string[], opts: { seed: string; batch: string }) => {
      code = await runGradcheck(files, integerOption("--seed", opts.seed, 0), integerOption("--batch", opts.batch, 1));
    });

  const done = (c: number) => {
    code = c;
  };
  registerTrain(program, done);
  registerGraph(program, done);
  registerExplain(program, done);

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    return reportError(e, debug);
  }
}

/** An integer option of at least `min`; anything else is bad input. */
function integerOption(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BpgenError({ message: `${flag} must be an integer of at least ${min}`, expected: `an integer ≥ ${min}`, found: text });
  }
  return value;
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (e instanceof BpgenError) {
    const count = e.details.length > 1 ? `${e.details.length} errors\n` : "";
    process.stderr.write(`${e.message}\n${count}`);
    if (debug) process.stderr.write(`${e.stack ?? ""}\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`bpgen: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (debug) process.stderr.write(`${(e as Error)?.stack ?? ""}\n`);
  else process.stderr.write("(run with --debug for a stack trace, and please report it)\n");
  return EXIT.internal;
}

/** Compiles every input first and writes only when all succeeded, each file atomically. */
async function build(files: string[], opts: BuildOptions): Promise<number> {
  // the same input named twice is compiled once
  const inputs = files.filter((file, i) => files.findIndex((f) => resolve(f) === resolve(file)) === i);
  if (opts.out?.endsWith(".ts") && inputs.length > 1) {
    throw new BpgenError({ message: "--out names one file but several inputs were given", expected: "a folder for several inputs", found: opts.out });
  }
  const results: { result: CompileResult; target: string; file: string }[] = [];
  const errors: BpgenError[] = [];
  for (const file of inputs) {
    try {
      const result = await compileInput(file, opts.precision);
      results.push({ result, target: targetPath(result.name, opts.out), file });
    } catch (e) {
      if (!(e instanceof BpgenError)) throw e;
      errors.push(e);
    }
  }
  errors.push(...sameTargets(results));
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  if (opts.verify) return verify(results);
  writeAllAtomically(results.map(({ target, result }) => ({ target, data: result.source })));
  for (const { result, target } of results) {
    process.stdout.write(`wrote ${target}\n`);
    if (opts.stats) process.stdout.write(formatStats(result));
  }
  return EXIT.ok;
}

/**
 * Loads, validates and compiles one input. Errors name the file as the user typed it; a network so deep
 * that a pass of the compiler runs out of stack is reported as such, not as an internal error.
 */
async function compileInput(file: string, precision: Precision): Promise<CompileResult> {
  const { spec, locate } = loadSpec(file);
  try {
    return await compile(spec, { precision, sourceFile: displayPath(file), locate });
  } catch (e) {
    if (e instanceof BpgenError) throw new BpgenError(e.details.map((d) => ({ ...d, file })));
    if (e instanceof Error && /Maximum call stack size exceeded/.test(e.message)) {
      throw new BpgenError({
        file,
        message: "the network is too deep to compile: the compiler ran out of stack space",
        expected: "fewer operations chained one after another",
        found: "a chain too long for the compiler",
      });
    }
    throw e;
  }
}

/** Two inputs that would write the same file (same network name) are an error, not a silent overwrite. */
function sameTargets(results: readonly { target: string; file: string }[]): BpgenError[] {
  const first = new Map<string, string>();
  const errors: BpgenError[] = [];
  for (const { target, file } of results) {
    const key = resolve(target);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, file);
    else errors.push(new BpgenError({ file, message: `${file} and ${earlier} would both write ${target}`, expected: "a different network name in each input", found: `the same output file ${target}` }));
  }
  return errors;
}

/** The input as the header names it: relative to the working directory, with forward slashes, so output is the same on every machine. */
function displayPath(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return (rel.startsWith("..") || isAbsolute(rel) ? file : rel).split(sep).join("/");
}

function targetPath(name: string, out: string | undefined): string {
  if (out?.endsWith(".ts")) return out;
  return join(out ?? "generated", `${name}.ts`);
}

function verify(results: { result: CompileResult; target: string }[]): number {
  const stale = results.filter(({ result, target }) => !existsSync(target) || readFileSync(target, "utf8") !== result.source);
  for (const { target } of stale) process.stderr.write(`${target} is stale or missing: run bpgen without --verify to regenerate it\n`);
  if (stale.length === 0) process.stdout.write(`${results.length} generated file(s) up to date\n`);
  return stale.length > 0 ? EXIT.checkFailed : EXIT.ok;
}

export function formatStats(r: CompileResult): string {
  const s = r.stats;
  const { forwardOps: f, lossOps: l, gradientOps: g, naiveOps: naive } = s;
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "-");
  return [
    `  ${r.name}: ${s.lines} lines, ${s.bytes} bytes, ${s.nodes} DAG nodes, compiled in ${s.millis.toFixed(0)} ms`,
    `  arithmetic operations per sample: forward ${f.perSample}, loss ${l.perSample}, forward+backward ${g.perSample} (${ratio(g.perSample, l.perSample)}× the loss)`,
    `  without sharing (each parameter's derivative on its own): ${naive.perSample} per sample, ${ratio(naive.perSample, g.perSample)}× more`,
    `  once per call: forward ${f.perCall}, forward+backward ${g.perCall}`,
    "",
  ].join("\n");
}

function targetKind(spec: NetSpec): TargetKind {
  if (!isLayerSpec(spec)) return "real";
  return spec.loss === "softmax_cross_entropy" ? "one-hot" : spec.loss === "binary_cross_entropy" ? "binary" : "real";
}

async function runGradcheck(files: string[], seed: number, batch: number): Promise<number> {
  // every input is compiled (and every error reported) before any check runs
  const modules: { file: string; spec: NetSpec; f64: string; f32: string }[] = [];
  const errors: BpgenError[] = [];
  for (const file of files) {
    try {
      const f64 = (await compileInput(file, "f64")).source;
      const f32 = (await compileInput(file, "f32")).source;
      modules.push({ file, spec: loadSpec(file).spec, f64, f32 });
    } catch (e) {
      if (!(e instanceof BpgenError)) throw e;
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  let failed = false;
  for (const { file, spec, f64, f32 } of modules) {
    const report = gradcheck(loadModule<Float64Array>(f64), loadModule<Float32Array>(f32), { seed, batch, targets: targetKind(spec) });
    process.stdout.write(`${formatReport(file, report)}\n`);
    failed ||= !report.ok;
  }
  return failed ? EXIT.checkFailed : EXIT.ok;
}
