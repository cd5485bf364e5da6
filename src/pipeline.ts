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
import { buildLayerNet } from "./frontend/layers/index.ts";
import { type Net, trainingObjective } from "./ir/net.ts";
import { argumentChecks } from "./emit/entry-points.ts";
import { DEFAULT_PRECISION, emitModule, moduleShape, type Precision } from "./emit/module.ts";
import type { Target, TargetFile } from "./emit/targets.ts";
import { templateNames } from "./emit/templates.ts";
import { type KernelName, type LoweredModule, type PerFunction, lowerModule } from "./lower/functions.ts";
import type { FunctionPlan } from "./lower/plan.ts";
import type { KernelFunction, Local, Stmt } from "./lower/kernel.ts";
import { claimNames } from "./lower/name-order.ts";
import { IrNames, Namer, NodeNames } from "./lower/names.ts";
import { flatten } from "./lower/passes/flatten.ts";
import { fuse } from "./lower/passes/fuse.ts";
import { inline } from "./lower/passes/inline.ts";
import { prune } from "./lower/passes/prune.ts";
import { type TileChooser, tile } from "./lower/passes/tile.ts";
import { unroll } from "./lower/passes/unroll.ts";
import { codeSize } from "./lower/walk.ts";
import { type Backend, type ModulePart, functionsInOrder } from "./render/backend.ts";
import { BACKENDS, type BackendName } from "./render/backends.ts";
import { DEFAULT_KERNELS, type Kernels, kernelChain } from "./render/policy.ts";
import { type OpCounts, countOps } from "./lower/stats.ts";
import { naiveOps } from "./explain/naive.ts";
import { loadSpec, parseSpec } from "./spec/load.ts";
import { type EquationEntry, type EquationNetSpec, type LayerNetSpec, type LayerSpec, type LoadedSpec, type Locate, type NetSpec, isLayerSpec } from "./spec/types.ts";
import { BpgenError, internalError } from "./errors.ts";
import { VERSION } from "./version.ts";
import { posixRelative, projectRootOf } from "./build/project.ts";

export type { Precision, Target, TargetFile };
export { VERSION };

export type { Kernels };

export interface CompileOptions {
  /** `Float32Array` (`"f32"`, the default) or `Float64Array` (`"f64"`) throughout the module. */
  precision?: Precision;
  /** The files to produce (`result.files`): `"ts"` (default) the module; `"js"` JavaScript and its `.d.ts`; `"dts"` the `.d.ts` only. */
  target?: Target;
  /** The module's kernels: `"auto"` (the default: render/policy.ts), or a backend by name (`"js"`, `"wasm"`). */
  kernels?: Kernels;
  /** WebAssembly kernels may use relaxed SIMD's fused multiply-add where the engine has it (faster; results then vary by machine). */
  relaxedSimd?: boolean;
  /**
   * WebAssembly kernels that several threads run, once the module's `startThreads()` has started a pool of workers
   * (shared memory; results the same on any number of threads). `true` asks for WebAssembly kernels (`kernels` auto
   * or wasm); `"auto"` builds them for threads where the module has WebAssembly kernels anyway.
   */
  threads?: boolean | "auto";
  /** The net.json path, named in the generated header and in error messages (default `<name>.json`). */
  sourceFile?: string;
  /** The command the header's "Regenerate with:" line shows (default `npx bpgen <sourceFile>` plus the precision). */
  regenerate?: string;
  /** Points JSON paths at line:column in the source, for errors found while compiling (set by the loaders). */
  locate?: Locate;
  /**
   * `false`: the module's source as printed, without formatting it with prettier (about half of a compile): the
   * same code, for a caller that only loads and runs it. Files of other targets are formatted regardless.
   */
  format?: boolean;
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
  /** Loops never written out (the backend's). */
  readonly keepsLoop?: Backend["keepsLoop"];
}

export interface Pass {
  readonly name: string;
  readonly run: (body: readonly Stmt[], ctx: PassContext) => Stmt[];
}

/** Loops of at most this many trips, whose copies stay within UNROLL_BUDGET IR nodes, are written out. */
const UNROLL = { maxTrips: 16, budget: 256 } as const;
/** What a function too large for that unrolling writes out instead: only the shortest loops. */
const UNROLL_LARGE = { maxTrips: 4, budget: 32 } as const;

/** The kernel IR passes, in order. */
export const PASSES: readonly Pass[] = [
  // a value read once, element for element, is computed where it is read: no store, no buffer
  { name: "inline", run: (body, ctx) => inline(body, (n) => ctx.roots.has(n)) },
  // a loop nest walking its buffers row-major becomes one loop over all elements
  { name: "flatten", run: (body) => flatten(body) },
  // consecutive element loops of one trip count (too long to write out) run as one loop
  { name: "fuse", run: (body, ctx) => fuse(body, ctx.unrolling.maxTrips) },
  // short loops and sums written out with literal indices; long sums get an accumulator loop
  { name: "unroll", run: (body, ctx) => unroll(body, { ...ctx.unrolling, temp: ctx.temp, keeps: ctx.keepsLoop }) },
  // stores and locals nothing reads any more
  { name: "prune", run: (body) => prune(body) },
  // each contraction gets its backend's register tile
  { name: "tile", run: (body, ctx) => tile(body, ctx.tiles) },
];

/**
 * Runs every pass over every function of the lowered module, for the backend whose tiles and code budget
 * are given: a function whose code would pass the budget is passed again with UNROLL_LARGE.
 */
export function runPasses(lowered: LoweredModule, backend: Pick<Backend, "tiles" | "codeBudget" | "keepsLoop">): LoweredModule {
  const functions = Object.fromEntries(
    (Object.entries(lowered.functions) as [KernelName, KernelFunction][]).map(([name, fn]) => {
      const passed = (unrolling: PassContext["unrolling"]) => {
        const ctx: PassContext = { roots: new Set((lowered.plans[name] as FunctionPlan).roots), tiles: backend.tiles, temp: (base) => ({ hint: base, named: false }), unrolling, keepsLoop: backend.keepsLoop };
        return PASSES.reduce((b, pass) => pass.run(b, ctx), fn.body);
      };
      const body = passed(UNROLL);
      return [name, { ...fn, body: codeSize(body) > backend.codeBudget ? passed(UNROLL_LARGE) : body }];
    }),
  ) as PerFunction<KernelFunction>;
  return { ...lowered, functions };
}

/** Everything compiling one network produces, for the build and for tools that inspect the result. */
export interface CompiledNet {
  readonly net: Net;
  readonly grads: Gradients;
  /** The kernel IR of the backend that runs everywhere (TypeScript), after its passes. */
  readonly lowered: LoweredModule;
  readonly names: IrNames;
  /** The backends the module runs, in order of preference. */
  readonly kernels: readonly BackendName[];
  readonly source: string;
}

export interface CompileNetOptions {
  precision: Precision;
  sourceFile: string;
  optimizer?: NetSpec["optimizer"];
  regenerate?: string;
  kernels?: Kernels;
  relaxedSimd?: boolean;
  threads?: boolean | "auto";
  format?: boolean;
}

/** net → gradients → kernel IR → each backend's passes → names → each backend's part → module text. */
export async function compileNet(net: Net, options: CompileNetOptions): Promise<CompiledNet> {
  const grads = reverse(net.graph, trainingObjective(net), net.params.map((p) => p.node));
  const materialized = lowerModule(net, grads);
  if (options.threads === true && options.kernels === "js") {
    throw new BpgenError({ file: options.sourceFile, message: "threads run the WebAssembly kernels", expected: "--kernels wasm or auto with --threads", found: "--kernels js" });
  }
  const kernels = kernelChain(options.kernels ?? DEFAULT_KERNELS, materialized, options.threads === true);
  const chain = kernels.map((name) => ({ name, backend: BACKENDS[name] as Backend }));
  const passed = new Map(chain.map(({ name, backend }) => [name, runPasses(materialized, backend)]));
  const names = moduleNames(net, [...passed.values()]);
  const shape = moduleShape(materialized.layout, options.precision);
  const parts = chain.map(({ name, backend }, i): ModulePart => {
    if (!backend.module) throw internalError(new Error(`the ${name} backend is not shipped in modules`), options.sourceFile);
    const lowered = passed.get(name) as LoweredModule;
    return backend.module({ lowered, names, shape, relaxedSimd: options.relaxedSimd ?? false, threads: (options.threads ?? false) !== false, fallback: i > 0, checks: (fn) => argumentChecks(shape, fn) });
  });
  const source = await emitModule(net, materialized.layout, names, parts, { ...options, version: VERSION });
  return { net, grads, lowered: passed.get("js") ?? runPasses(materialized, BACKENDS.js), names, kernels, source };
}

/**
 * Every name the module uses, claimed before any backend prints: the template functions', the kernel IR of
 * the backend that runs everywhere (lower/name-order.ts), the output, then the other backends' kernel IR.
 */
export function moduleNames(net: Net, loweredByBackend: readonly LoweredModule[]): IrNames {
  const namer = new Namer();
  namer.reserve(templateNames());
  const names = new IrNames(new NodeNames(net.graph, namer));
  const [everywhere, ...faster] = [...loweredByBackend].reverse();
  const claim = (lowered: LoweredModule) => claimNames(functionsInOrder(lowered).map(([, f]) => f), names);
  if (everywhere) claim(everywhere);
  // forward's documentation names the output
  names.nodes.of(net.output);
  faster.forEach(claim);
  return names;
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
export async function compile(input: NetSpec | LayerNetSpec<LayerSpec> | EquationNetSpec<EquationEntry> | string, options: CompileOptions = {}): Promise<CompileResult> {
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
    const precision = options.precision ?? DEFAULT_PRECISION;
    const emitted = await compileNet(net, {
      precision,
      sourceFile,
      optimizer: spec.optimizer,
      regenerate: options.regenerate,
      kernels: options.kernels,
      relaxedSimd: options.relaxedSimd,
      threads: options.threads,
      format: options.format,
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
