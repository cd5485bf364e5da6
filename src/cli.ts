/**
 * The command line: wires arguments to compile() and the checker. Exit codes: 0 success, 1 a check
 * failed (--verify found a stale file, gradcheck found a wrong gradient), 2 bad input, 3 internal error.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { BpgenError } from "./errors.ts";
import { type CompileResult, type Precision, VERSION, compile, compileFile } from "./pipeline.ts";
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
      code = await runGradcheck(files, Number(opts.seed), Number(opts.batch));
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

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (e instanceof BpgenError) {
    process.stderr.write(`${e.message}\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`bpgen: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (debug) process.stderr.write(`${(e as Error)?.stack ?? ""}\n`);
  else process.stderr.write("(run with --debug for a stack trace, and please report it)\n");
  return EXIT.internal;
}

/** Compiles every input first and writes only when all succeeded, each file atomically. */
async function build(files: string[], opts: BuildOptions): Promise<number> {
  if (opts.out?.endsWith(".ts") && files.length > 1) {
    throw new BpgenError({ message: "--out names one file but several inputs were given", expected: "a folder for several inputs", found: opts.out });
  }
  const results: { result: CompileResult; target: string }[] = [];
  const errors: BpgenError[] = [];
  for (const file of files) {
    try {
      const result = await compileFile(file, { precision: opts.precision, sourceFile: displayPath(file) });
      results.push({ result, target: targetPath(result.name, opts.out) });
    } catch (e) {
      if (!(e instanceof BpgenError)) throw e;
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  if (opts.verify) return verify(results);
  for (const { result, target } of results) {
    writeAtomically(target, result.source);
    process.stdout.write(`wrote ${target}\n`);
    if (opts.stats) process.stdout.write(formatStats(result));
  }
  return EXIT.ok;
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

function writeAtomically(target: string, text: string): void {
  mkdirSync(dirname(resolve(target)), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}

export function formatStats(r: CompileResult): string {
  const s = r.stats;
  const { forwardOps: f, gradientOps: g } = s;
  const ratio = f.perSample > 0 ? (g.perSample / f.perSample).toFixed(2) : "-";
  return [
    `  ${r.name}: ${s.lines} lines, ${s.bytes} bytes, ${s.nodes} DAG nodes, compiled in ${s.millis.toFixed(0)} ms`,
    `  arithmetic operations per sample: forward ${f.perSample}, forward+backward ${g.perSample} (ratio ${ratio})`,
    `  once per call: forward ${f.perCall}, forward+backward ${g.perCall}`,
    "",
  ].join("\n");
}

function targetKind(spec: NetSpec): TargetKind {
  if (!isLayerSpec(spec)) return "real";
  return spec.loss === "softmax_cross_entropy" ? "one-hot" : spec.loss === "binary_cross_entropy" ? "binary" : "real";
}

async function runGradcheck(files: string[], seed: number, batch: number): Promise<number> {
  let failed = false;
  for (const file of files) {
    const { spec, locate } = loadSpec(file);
    const build = async (precision: Precision) => (await compile(spec, { precision, sourceFile: file, locate })).source;
    const m64 = loadModule<Float64Array>(await build("f64"));
    const m32 = loadModule<Float32Array>(await build("f32"));
    const report = gradcheck(m64, m32, { seed, batch, targets: targetKind(spec) });
    process.stdout.write(`${formatReport(file, report)}\n`);
    failed ||= !report.ok;
  }
  return failed ? EXIT.checkFailed : EXIT.ok;
}
