/**
 * The compiler, stage by stage:
 *   spec/      net.json → validated NetSpec (JSON paths, line:column)
 *   frontend/  layers or equations → expression DAG (ir/, simplified as it is built)
 *   autodiff/  one reverse sweep → gradient nodes in the same DAG
 *   lower/     per function: a schedule on the DAG (plan.ts), then kernel IR with every value stored
 *   passes     over the kernel IR, in the order of PASSES below
 *   render/    kernel IR → TypeScript statements (render/ts)
 *   emit/      the module around them (API, checks, workspace), built with ts-morph, formatted by prettier
 */
import { type Gradients, reverse } from "./autodiff/reverse.ts";
import { buildEquationNet } from "./frontend/equations.ts";
import { buildLayerNet } from "./frontend/layers.ts";
import type { Net } from "./frontend/net.ts";
import { emitModule, type Precision } from "./emit/module.ts";
import type { Target, TargetFile } from "./emit/targets.ts";
import { templateNames } from "./emit/templates.ts";
import { type FunctionName, type LoweredModule, lowerModule } from "./lower/functions.ts";
import type { KernelFunction, Local, Stmt } from "./lower/kernel.ts";
import { IrNames, Namer, NodeNames } from "./lower/names.ts";
import { flatten } from "./lower/passes/flatten.ts";
import { fuse } from "./lower/passes/fuse.ts";
import { inline } from "./lower/passes/inline.ts";
import { prune } from "./lower/passes/prune.ts";
import { type TileChooser, libraryTiles, tile } from "./lower/passes/tile.ts";
import { unroll } from "./lower/passes/unroll.ts";
import { type WorkspaceLayout, reuse } from "./lower/passes/reuse.ts";
import { codeSize, visitStmts } from "./lower/walk.ts";
import { renderWasm } from "./render/wasm/module.ts";
import { wasmTiles } from "./render/wasm/tiles.ts";
import { type OpCounts, countOps } from "./lower/stats.ts";
import { naiveOps } from "./explain/naive.ts";
import { loadSpec, parseSpec } from "./spec/load.ts";
import { type LoadedSpec, type Locate, type NetSpec, isLayerSpec } from "./spec/types.ts";
import { BpgenError, internalError } from "./errors.ts";
import { VERSION } from "./version.ts";
import { posixRelative, projectRootOf } from "./build/project.ts";

export type { Precision, Target, TargetFile };
export { VERSION };

/** How the generated module runs its batched dense kernels (passed through to the compiler). */
export type Kernels = "auto" | "js" | "wasm";

export interface CompileOptions {
  /** `Float32Array` (`"f32"`, the default) or `Float64Array` (`"f64"`) throughout the module. */
  precision?: Precision;
  /** The files to produce (`result.files`): `"ts"` (default) the module; `"js"` JavaScript and its `.d.ts`; `"dts"` the `.d.ts` only. */
  target?: Target;
  /** The module's kernels: `"auto"` (default: WebAssembly for networks with batched dense layers), `"js"` or `"wasm"`. */
  kernels?: Kernels;
  /** WebAssembly kernels may use relaxed SIMD's fused multiply-add where the engine has it (faster; results then vary by machine). */
  relaxedSimd?: boolean;
  /** The net.json path, named in the generated header and in error messages (default `<name>.json`). */
  sourceFile?: string;
  /** The command the header's "Regenerate with:" line shows (default `npx bpgen <sourceFile>` plus the precision). */
  regenerate?: string;
  /** Points JSON paths at line:column in the source, for errors found while compiling (set by the loaders). */
  locate?: Locate;
}

export interface CompileStats {
  /** Arithmetic operations in `forward`, per sample and once per call. */
  forwardOps: OpCounts;
  /** Arithmetic operations in `loss` (forward to the objective), per sample and once per call. */
  lossOps: OpCounts;
  /** Arithmetic operations in `gradient` (forward and backward), per sample and once per call. */
  gradientOps: OpCounts;
  /** What the same gradients would cost derived per parameter without sharing (forward pass + each tree). */
  naiveOps: OpCounts;
  nodes: number;
  lines: number;
  bytes: number;
  millis: number;
}

export interface CompileResult {
  /** The network's name (net.json's "name"). */
  name: string;
  /** The generated TypeScript module. */
  source: string;
  /** The files of the requested target, each with its default file name: `[<name>.ts]`, `[<name>.js, <name>.d.ts]` or `[<name>.d.ts]`. */
  files: TargetFile[];
  stats: CompileStats;
}

/** What a pass sees besides the body it rewrites. */
export interface PassContext {
  /** The function's roots (its results): never inlined away. */
  readonly roots: ReadonlySet<import("./ir/node.ts").Node>;
  /** The register tiles of the renderer the module is for. */
  readonly tiles: TileChooser;
  /** A fresh scalar local (an accumulator). */
  readonly temp: (base: string) => Local;
  /** How far loops are written out. */
  readonly unrolling: { readonly maxTrips: number; readonly budget: number };
}

export interface Pass {
  readonly name: string;
  readonly run: (body: readonly Stmt[], ctx: PassContext) => Stmt[];
}

/** Loops of at most this many trips, whose copies stay within UNROLL_BUDGET IR nodes, are written out. */
const UNROLL = { maxTrips: 16, budget: 256 } as const;
/** What a function too large for that unrolling writes out instead: only the shortest loops. */
const UNROLL_LARGE = { maxTrips: 4, budget: 32 } as const;

/**
 * The largest TypeScript kernel written with UNROLL (lower/walk.ts codeSize units, ≈ 10 bytes of bytecode each):
 * V8 never optimises a function over 60 KB of bytecode, and the examples' functions near that size run 3–15×
 * faster with fewer loops written out (mnist_cnn's gradient: 780 ms → 52 ms a batch of 32; deep_relu10's 3×).
 */
export const JS_CODE_BUDGET = 4500;

/** The kernel IR passes, in order. */
export const PASSES: readonly Pass[] = [
  // a value read once, element for element, is computed where it is read: no store, no buffer
  { name: "inline", run: (body, ctx) => inline(body, (n) => ctx.roots.has(n)) },
  // a loop nest walking its buffers row-major becomes one loop over all elements
  { name: "flatten", run: (body) => flatten(body) },
  // consecutive element loops of one trip count (too long to write out) run as one loop
  { name: "fuse", run: (body, ctx) => fuse(body, ctx.unrolling.maxTrips) },
  // short loops and sums written out with literal indices; long sums get an accumulator loop
  { name: "unroll", run: (body, ctx) => unroll(body, { ...ctx.unrolling, temp: ctx.temp }) },
  // stores and locals nothing reads any more
  { name: "prune", run: (body) => prune(body) },
  // each contraction gets its renderer's register tile
  { name: "tile", run: (body, ctx) => tile(body, ctx.tiles) },
];

/**
 * After the passes, for the WebAssembly renderer only: buffer reuse lays out each function's workspace in
 * its memory, buffers whose lifetimes do not overlap sharing bytes (16-byte aligned).
 */
export const LAYOUT = { name: "reuse", run: (fn: KernelFunction, precision: Precision) => reuse(fn, precision === "f64" ? 2 : 4) } as const;

function workspaceLayouts(lowered: LoweredModule): (precision: Precision) => Record<FunctionName, WorkspaceLayout> {
  return (precision) =>
    Object.fromEntries((Object.entries(lowered.functions) as [FunctionName, KernelFunction][]).map(([name, fn]) => [name, LAYOUT.run(fn, precision)])) as Record<
      FunctionName,
      WorkspaceLayout
    >;
}

/**
 * Runs every pass over every function of the lowered module; with a `codeBudget`, a function whose code would
 * pass it is passed again with UNROLL_LARGE.
 */
export function runPasses(lowered: LoweredModule, tiles: TileChooser = libraryTiles, codeBudget = Infinity): LoweredModule {
  const functions = Object.fromEntries(
    (Object.entries(lowered.functions) as [FunctionName, KernelFunction][]).map(([name, fn]) => {
      const passed = (unrolling: PassContext["unrolling"]) => {
        const ctx: PassContext = { roots: new Set(lowered.plans[name].roots), tiles, temp: (base) => ({ hint: base, named: false }), unrolling };
        return PASSES.reduce((b, pass) => pass.run(b, ctx), fn.body);
      };
      const body = passed(UNROLL);
      return [name, { ...fn, body: codeSize(body) > codeBudget ? passed(UNROLL_LARGE) : body }];
    }),
  ) as Record<FunctionName, KernelFunction>;
  return { ...lowered, functions };
}

/** Everything compiling one network produces, for the build and for tools that inspect the result. */
export interface CompiledNet {
  readonly net: Net;
  readonly grads: Gradients;
  readonly lowered: LoweredModule;
  readonly names: IrNames;
  /** The kernels the module runs. */
  readonly kernels: "js" | "wasm";
  readonly source: string;
}

/** net → gradients → kernel IR → passes → module text. */
export async function compileNet(
  net: Net,
  options: { precision: Precision; sourceFile: string; optimizer?: NetSpec["optimizer"]; regenerate?: string; kernels?: Kernels; relaxedSimd?: boolean },
): Promise<CompiledNet> {
  const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
  const materialized = lowerModule(net, grads);
  const lowered = runPasses(materialized, libraryTiles, JS_CODE_BUDGET);
  const namer = new Namer();
  namer.reserve(templateNames());
  const names = new IrNames(new NodeNames(net.graph, namer));
  const kernels = chooseKernels(options.kernels ?? "auto", lowered);
  // the TypeScript kernels first, so that names are claimed in the order the module prints them
  const emitOptions = { ...options, version: VERSION };
  if (kernels === "js") return { net, grads, lowered, names, kernels, source: await emitModule(net, lowered, names, emitOptions) };
  const wasmIr = runPasses(materialized, wasmTiles);
  const layouts = workspaceLayouts(wasmIr);
  const render = (relaxed: boolean) => renderWasm(wasmIr, layouts, names, { precision: options.precision, relaxed });
  // the relaxed build (opt-in) beside the deterministic one, which engines without relaxed SIMD run
  const wasm = () => ({ plain: render(false), ...(options.relaxedSimd ? { relaxed: render(true) } : {}) });
  const source = await emitModule(net, lowered, names, { ...emitOptions, wasm });
  return { net, grads, lowered, names, kernels, source };
}

/**
 * Below this many operations per sample in the gradient, a call into WebAssembly and its copies cost more than
 * the arithmetic they would speed up. Measured on the examples (sgdStep, batch 1 and 16): chain3 (15 operations)
 * runs 1.7–2.5× faster in TypeScript, xor_sigmoid (102) the same in both, mse_sigmoid and iris_softmax (≈ 350)
 * 1.3–1.5× faster in WebAssembly, softmax_10_20_2 (1 058) 2.5–2.9×, and the straight-line deep nets (≈ 14 000),
 * whose TypeScript functions are too large for V8 to optimise, 37–62×.
 */
export const WASM_MIN_OPERATIONS = 256;

/**
 * `auto`: WebAssembly where the network has batched dense products (a layer with 512 weights or more) or its
 * gradient does at least WASM_MIN_OPERATIONS operations per sample; TypeScript below that.
 */
export function chooseKernels(requested: Kernels, lowered: LoweredModule): "js" | "wasm" {
  if (requested !== "auto") return requested;
  let dense = false;
  visitStmts(lowered.functions.gradient.body, (s) => (dense ||= s.k === "contract"));
  return dense || countOps(lowered.plans.gradient).perSample >= WASM_MIN_OPERATIONS ? "wasm" : "js";
}

/** The DAG of a network (front end only), for tools that inspect it. */
export function buildNet(spec: NetSpec, locate?: Locate): Net {
  return isLayerSpec(spec) ? buildLayerNet(spec, locate) : buildEquationNet(spec, locate);
}

/**
 * Validates and compiles a network: `input` is net.json's text or the parsed object. Everything wrong with it
 * is reported at once as one BpgenError (kind "input"), with the messages, JSON paths and suggestions of the
 * command line; for text also the line:column. A failure that is bpgen's fault is a BpgenError of kind
 * "internal" with the original error as its cause.
 */
export async function compile(input: NetSpec | string, options: CompileOptions = {}): Promise<CompileResult> {
  if (typeof input === "string") {
    const file = options.sourceFile ?? "net.json";
    return compileLoaded(parseSpec(file, input), { ...options, sourceFile: file });
  }
  const file = options.sourceFile ?? defaultSourceFile(input);
  return compileLoaded(parseObject(file, input), { ...options, sourceFile: file });
}

/**
 * Loads, validates and compiles one net.json file. Errors name `file` as given; the header names it relative
 * to its project root (the folder of the nearest package.json or bpgen.config.json), as the command line does.
 */
export async function compileFile(file: string, options: CompileOptions = {}): Promise<CompileResult> {
  const loaded = loadSpec(file);
  const sourceFile = options.sourceFile ?? posixRelative(projectRootOf(file), file);
  try {
    return await compileLoaded(loaded, { ...options, sourceFile });
  } catch (e) {
    if (e instanceof BpgenError && e.kind === "input") throw new BpgenError(e.details.map((d) => ({ ...d, file })));
    throw e;
  }
}

/**
 * Compiles a spec that parseSpec/loadSpec has validated (the loaders and the command line call this, after
 * working out the header from the network's name).
 */
export async function compileLoaded(loaded: LoadedSpec, options: CompileOptions = {}): Promise<CompileResult> {
  const started = performance.now();
  const spec = loaded.spec;
  const sourceFile = options.sourceFile ?? loaded.file;
  try {
    const net = buildNet(spec, options.locate ?? loaded.locate);
    const precision = options.precision ?? "f32";
    const emitted = await compileNet(net, {
      precision,
      sourceFile,
      optimizer: spec.optimizer,
      regenerate: options.regenerate,
      kernels: options.kernels ?? "auto",
      relaxedSimd: options.relaxedSimd ?? false,
    });
    const target = options.target ?? "ts";
    const files: TargetFile[] =
      target === "ts"
        ? [{ kind: "ts", fileName: `${spec.name}.ts`, text: emitted.source }]
        : await (await import("./emit/targets.ts")).emitTargets(spec.name, emitted.source, target);
    const stats: CompileStats = {
      forwardOps: countOps(emitted.lowered.plans.forward),
      gradientOps: countOps(emitted.lowered.plans.gradient),
      lossOps: countOps(emitted.lowered.plans.loss),
      naiveOps: naiveOps(net, emitted.grads, countOps(emitted.lowered.plans.loss)).total,
      nodes: net.graph.size,
      lines: emitted.source.split("\n").length - 1,
      bytes: Buffer.byteLength(emitted.source),
      millis: performance.now() - started,
    };
    return { name: spec.name, source: emitted.source, files, stats };
  } catch (e) {
    if (e instanceof BpgenError) throw e.at({ file: sourceFile });
    // a network so deep that a recursive stage (ours or prettier's) runs out of stack is bad input, not a crash
    if (e instanceof Error && /Maximum call stack size exceeded|call stack/i.test(e.message)) {
      throw new BpgenError({
        file: sourceFile,
        message: "the network is too deep to compile: the compiler ran out of stack space",
        expected: "fewer operations chained one after another",
        found: "a chain too long for the compiler",
      });
    }
    throw internalError(e, sourceFile);
  }
}

function defaultSourceFile(input: object): string {
  const name: unknown = (input as { name?: unknown }).name;
  return typeof name === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${name}.json` : "net.json";
}

/**
 * An object is checked as the text it serialises to, so every message is the one the command line gives for
 * the same network; the positions would point into text the caller never saw, so they are left out.
 */
function parseObject(file: string, input: object): LoadedSpec {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new BpgenError({ file, message: "the network must be a net.json object or its JSON text", expected: "{ ... } or a string", found: input === null ? "null" : Array.isArray(input) ? "an array" : typeof input });
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(input, null, 2);
  } catch (e) {
    throw new BpgenError({ file, message: `the network cannot be serialised as JSON: ${(e as Error).message}`, expected: "plain JSON data (no cycles, no BigInt)" });
  }
  try {
    const loaded = parseSpec(file, text);
    return { ...loaded, locate: () => undefined };
  } catch (e) {
    if (!(e instanceof BpgenError)) throw e;
    throw new BpgenError(e.details.map(({ line: _line, column: _column, ...rest }) => rest), { kind: e.kind });
  }
}
