/**
 * `bpgen [net.json …]`: compiles every input, then writes all outputs or none (each atomically, leaving a file
 * that already holds its content untouched), or with --verify compares them with the files on disk.
 * Settings come from the flags, then the project's config (./config.ts), then the defaults.
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { BpgenError } from "../errors.ts";
import { describeWrites, writeAllAtomically, type OutputFile } from "../files.ts";
import type { CompileResult, Kernels, Precision, Target } from "../pipeline.ts";
import { DEFAULT_PRECISION } from "../render/backend.ts";
import { DEFAULT_KERNELS } from "../render/policy.ts";
import { loadSpec } from "../spec/load.ts";
import { type LoadedConfig, findConfig } from "./config.ts";
import { expandInputs } from "./inputs.ts";
import { jsModuleFormatAt, posixRelative, projectRootOf, shellQuote } from "./project.ts";

export interface BuildFlags {
  out?: string;
  precision?: Precision;
  target?: Target;
  kernels?: Kernels;
  relaxedSimd?: boolean;
  threads?: boolean;
  verify?: boolean;
  stats?: boolean;
  watch?: boolean;
}

export type OutputPlace = { kind: "file"; path: string; suffix: string } | { kind: "dir"; path: string };

export interface BuildSettings {
  precision: Precision;
  target: Target;
  kernels: Kernels;
  relaxedSimd: boolean;
  threads: boolean;
  out: OutputPlace;
  config?: LoadedConfig;
}

/** One compiled input and the files it makes. */
export interface Built {
  readonly input: string;
  readonly result: CompileResult;
  readonly outputs: readonly OutputFile[];
}

/** What an output file's name says about its content. */
const FILE_SUFFIXES: readonly { suffix: string; target: Target }[] = [
  { suffix: ".d.ts", target: "dts" },
  { suffix: ".d.mts", target: "dts" },
  { suffix: ".ts", target: "ts" },
  { suffix: ".mts", target: "ts" },
  { suffix: ".js", target: "js" },
  { suffix: ".mjs", target: "js" },
];
const UNSUPPORTED_SUFFIXES = [".d.cts", ".cts", ".cjs", ".tsx", ".jsx"];
const DEFAULT_SUFFIX: Readonly<Record<Target, string>> = { ts: ".ts", js: ".js", dts: ".d.ts" };

/**
 * The suffixes of the files a target writes into the folder `dir`: the main file's and, for js, its declarations'.
 * The JavaScript is an ES module, and Node loads a `.js` file as one only under a package.json saying
 * `"type": "module"`; anywhere else (a CommonJS package, as `npm init -y` makes) it is written as `.mjs` with a
 * `.d.mts`, which every Node, worker, bundler and TypeScript reads as an ES module whatever the package says.
 * (CommonJS output instead would lose what an ES module gives: loading in browser workers and bundlers' tree
 * shaking; a CommonJS package imports the `.mjs` with `await import()`.)
 */
export function suffixesIn(dir: string, target: Target): { main: string; dts?: string } {
  if (target !== "js") return { main: DEFAULT_SUFFIX[target] };
  return jsModuleFormatAt(dir).format === "module" ? { main: ".js", dts: ".d.ts" } : { main: ".mjs", dts: ".d.mts" };
}

export async function runBuild(files: readonly string[], flags: BuildFlags): Promise<number> {
  if (flags.watch) {
    if (flags.verify) throw new BpgenError({ message: "--watch and --verify do not go together", expected: "one of them", found: "both" });
    return (await import("./watch.ts")).watchBuild(files, flags);
  }
  const { inputs, settings } = prepare(files, flags);
  const built = await buildAll(inputs, settings);
  if (flags.verify) return verify(built);
  const statuses = writeAllAtomically(built.flatMap((b) => b.outputs));
  let at = 0;
  for (const b of built) {
    process.stdout.write(describeWrites(statuses.slice(at, (at += b.outputs.length))));
    if (flags.stats) process.stdout.write(formatStats(b.result));
  }
  return 0;
}

/** The inputs (expanded) and settings of a build, from the flags and the project's config. */
export function prepare(files: readonly string[], flags: BuildFlags): { inputs: string[]; settings: BuildSettings; config?: LoadedConfig } {
  const config = findConfig(process.cwd());
  const inputs = inputsOf(files, config);
  const settings = resolveSettings(flags, config, inputs.length);
  const warning = commonJsWarning(settings.out);
  if (warning !== undefined) process.stderr.write(`${warning}\n`);
  return { inputs, settings, config };
}

/**
 * A warning when `-o` names a `.js` file where Node loads `.js` as CommonJS: the file is still written (a
 * bundler or a browser takes it as the ES module it is), but `node` would refuse its `export` statements.
 */
export function commonJsWarning(out: OutputPlace): string | undefined {
  if (out.kind !== "file" || out.suffix !== ".js") return undefined;
  const { format, packageJson } = jsModuleFormatAt(dirname(resolve(out.path)));
  if (format === "module") return undefined;
  const mjs = `${out.path.slice(0, -".js".length)}.mjs`;
  const why = packageJson === undefined ? "no package.json above it" : `${packageJson} has no "type": "module"`;
  return `warning: ${out.path} is an ES module, but Node loads .js files there as CommonJS (${why}) and \`node\` would fail on its exports: name it ${mjs}, or add "type": "module" to the package.json (bundlers and browsers load it either way)`;
}

function inputsOf(files: readonly string[], config: LoadedConfig | undefined): string[] {
  if (files.length > 0) return expandInputs(files);
  if (config?.config.inputs) {
    try {
      return expandInputs(config.config.inputs, config.dir);
    } catch (e) {
      if (!(e instanceof BpgenError)) throw e;
      throw new BpgenError(e.details.map((d) => ({ ...d, file: config.file, path: d.path ?? (config.file.endsWith("package.json") ? "bpgen.inputs" : "inputs") })));
    }
  }
  throw new BpgenError({
    message: "no input: name the net.json files to compile, or list them in the project's config",
    expected: 'npx bpgen net.json [more.json …], or "inputs" in bpgen.config.json (or in package.json\'s "bpgen" key)',
    found: config ? `${config.file} without "inputs"` : "no arguments and no config",
  });
}

export function resolveSettings(flags: BuildFlags, config: LoadedConfig | undefined, inputCount: number): BuildSettings {
  const c = config?.config ?? {};
  let out: OutputPlace;
  let implied: Target | undefined;
  if (flags.out !== undefined) {
    const named = fileKind(flags.out);
    if (named) {
      if (flags.target !== undefined && flags.target !== named.target) {
        throw new BpgenError({
          message: `--target ${flags.target} does not match the output file ${flags.out}`,
          expected: `a ${DEFAULT_SUFFIX[flags.target]} file name for --target ${flags.target} (or leave --target out: the name's extension chooses it)`,
          found: `${named.suffix}, which is --target ${named.target}`,
        });
      }
      if (inputCount > 1) {
        throw new BpgenError({ message: "--out names one file but several inputs were given", expected: "a folder for several inputs", found: flags.out });
      }
      implied = named.target;
      out = { kind: "file", path: flags.out, suffix: named.suffix };
    } else {
      out = { kind: "dir", path: flags.out };
    }
  } else {
    out = { kind: "dir", path: c.outDir !== undefined && config ? displayPath(resolve(config.dir, c.outDir)) : "generated" };
  }
  return {
    precision: flags.precision ?? c.precision ?? DEFAULT_PRECISION,
    target: flags.target ?? implied ?? c.target ?? "ts",
    kernels: flags.kernels ?? c.kernels ?? DEFAULT_KERNELS,
    relaxedSimd: flags.relaxedSimd ?? c.relaxedSimd ?? false,
    threads: flags.threads ?? c.threads ?? false,
    out,
    config,
  };
}

/** The target an output file name implies, or undefined for a folder. */
export function fileKind(path: string): { suffix: string; target: Target } | undefined {
  const lower = path.toLowerCase();
  const unsupported = UNSUPPORTED_SUFFIXES.find((s) => lower.endsWith(s));
  if (unsupported) {
    throw new BpgenError({
      message: `bpgen cannot write a ${unsupported} file`,
      expected: "an output file ending in .ts, .mts, .js, .mjs, .d.ts or .d.mts (ES modules), or a folder; for a CommonJS package, .mjs (its code loads it with import())",
      found: path,
    });
  }
  return FILE_SUFFIXES.find((k) => lower.endsWith(k.suffix) && basename(lower).length > k.suffix.length);
}

/** The file of each kind the target makes for network `name`. */
export function outputPaths(name: string, settings: BuildSettings): Map<Target, string> {
  const { out, target } = settings;
  const paths = new Map<Target, string>();
  if (out.kind === "file") {
    paths.set(target, out.path);
    if (target === "js") paths.set("dts", `${out.path.slice(0, -out.suffix.length)}${out.suffix === ".mjs" ? ".d.mts" : ".d.ts"}`);
    return paths;
  }
  const inDir = (suffix: string) => join(out.path, `${name}${suffix}`);
  const suffixes = suffixesIn(out.path, target);
  paths.set(target, inDir(suffixes.main));
  if (suffixes.dts !== undefined) paths.set("dts", inDir(suffixes.dts));
  return paths;
}

/** Compiles every input first; when any fails, all failures are reported together and nothing is returned. */
export async function buildAll(inputs: readonly string[], settings: BuildSettings): Promise<Built[]> {
  const built: Built[] = [];
  const errors: BpgenError[] = [];
  for (const input of inputs) {
    try {
      built.push(await buildInput(input, settings));
    } catch (e) {
      if (!(e instanceof BpgenError) || e.kind === "internal") throw e;
      errors.push(e);
    }
  }
  errors.push(...sameTargets(built));
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  return built;
}

/**
 * Loads, validates and compiles one input. Errors name the file as the user typed it; the header names it
 * relative to its project root, with the command that reproduces the file from there.
 */
export async function buildInput(input: string, settings: BuildSettings): Promise<Built> {
  const { compileLoaded } = await import("../pipeline.ts");
  const loaded = loadSpec(input);
  const paths = outputPaths(loaded.spec.name, settings);
  const main = paths.get(settings.target) ?? "";
  const root = projectRootOf(input);
  try {
    const result = await compileLoaded(loaded, {
      precision: settings.precision,
      target: settings.target,
      kernels: settings.kernels,
      relaxedSimd: settings.relaxedSimd,
      threads: settings.threads,
      sourceFile: posixRelative(root, input),
      regenerate: regenerateCommand(input, loaded.spec.name, main, settings, root),
    });
    const outputs = result.files.map((f) => ({ target: paths.get(f.kind) ?? f.fileName, data: f.text }));
    return { input, result, outputs };
  } catch (e) {
    if (e instanceof BpgenError && e.kind === "input") throw new BpgenError(e.details.map((d) => ({ ...d, file: input })));
    throw e;
  }
}

/**
 * The command, run from the project root, that writes this very file: the input and, where they differ from
 * what that command would do by itself (the defaults, or the project's config there), -o, --target,
 * --precision, --kernels, --relaxed-simd and --threads.
 */
export function regenerateCommand(input: string, name: string, main: string, settings: BuildSettings, root: string): string {
  const defaults = settings.config && resolve(settings.config.dir) === resolve(root) ? settings.config.config : {};
  const args = ["npx", "bpgen", posixRelative(root, input)];
  const defaultDir = resolve(root, defaults.outDir ?? "generated");
  const defaultMain = join(defaultDir, `${name}${suffixesIn(defaultDir, settings.target).main}`);
  if (resolve(main) !== defaultMain) args.push("-o", posixRelative(root, main));
  else if (settings.target !== (defaults.target ?? "ts")) args.push("--target", settings.target);
  if (settings.precision !== (defaults.precision ?? DEFAULT_PRECISION)) args.push("--precision", settings.precision);
  if (settings.kernels !== (defaults.kernels ?? DEFAULT_KERNELS)) args.push("--kernels", settings.kernels);
  if (settings.relaxedSimd !== (defaults.relaxedSimd ?? false)) args.push("--relaxed-simd");
  if (settings.threads !== (defaults.threads ?? false)) args.push("--threads");
  return args.map(shellQuote).join(" ");
}

/** Two inputs that would write the same file (same network name) are an error, not a silent overwrite. */
function sameTargets(built: readonly Built[]): BpgenError[] {
  const first = new Map<string, string>();
  const errors: BpgenError[] = [];
  for (const { outputs, input } of built) {
    for (const { target } of outputs) {
      const key = resolve(target);
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, input);
      else if (earlier !== input) {
        errors.push(new BpgenError({ file: input, message: `${input} and ${earlier} would both write ${target}`, expected: "a different network name in each input", found: `the same output file ${target}` }));
      }
    }
  }
  return errors;
}

/** The diff shown for one stale file is cut after this many lines. */
export const MAX_DIFF_LINES = 80;

async function verify(built: readonly Built[]): Promise<number> {
  const { readFileSync } = await import("node:fs");
  const { createTwoFilesPatch } = await import("diff");
  let stale = 0;
  let files = 0;
  for (const { target, data } of built.flatMap((b) => b.outputs)) {
    files++;
    const wanted = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
    let existing: string | undefined;
    try {
      existing = readFileSync(target, "utf8");
    } catch {
      existing = undefined;
    }
    if (existing === wanted) continue;
    stale++;
    if (existing === undefined) {
      process.stderr.write(`${target} is missing: run bpgen without --verify to generate it\n`);
      continue;
    }
    process.stderr.write(`${target} is stale: run bpgen without --verify to regenerate it\n`);
    const patch = createTwoFilesPatch(`${target} (on disk)`, `${target} (would be generated)`, existing, wanted, undefined, undefined, { context: 3 });
    process.stderr.write(capDiff(patch));
  }
  if (stale === 0) process.stdout.write(`${files} generated file(s) up to date\n`);
  return stale > 0 ? 1 : 0;
}

/** A unified diff without its "=====" banner, cut after MAX_DIFF_LINES lines with a count of the rest. */
export function capDiff(patch: string): string {
  const lines = patch.split("\n").filter((l, i) => !(i === 0 && /^=+$/.test(l)));
  if (lines[lines.length - 1] === "") lines.pop();
  const shown = lines.slice(0, MAX_DIFF_LINES);
  const more = lines.length - shown.length;
  return `${shown.join("\n")}\n${more > 0 ? `… ${more} more diff line(s) not shown\n` : ""}`;
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

/** A path relative to the working directory when it is inside it, else absolute. */
function displayPath(absolute: string): string {
  const rel = relative(process.cwd(), absolute);
  return rel === "" ? "." : rel.startsWith("..") ? absolute : rel;
}
