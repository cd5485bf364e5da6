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
import { createRequire } from "node:module";
import { type Gradients, reverse } from "./autodiff/reverse.ts";
import { buildEquationNet } from "./frontend/equations.ts";
import { buildLayerNet } from "./frontend/layers.ts";
import type { Net } from "./frontend/net.ts";
import { emitModule, type Precision } from "./emit/module.ts";
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
import { type OpCounts, countOps } from "./lower/stats.ts";
import { naiveOps } from "./explain/naive.ts";
import { loadSpec } from "./spec/load.ts";
import { type Locate, type NetSpec, isLayerSpec } from "./spec/types.ts";
import { BpgenError } from "./errors.ts";

export type { Precision };

export const VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;

export interface CompileOptions {
  precision?: Precision;
  /** The net.json path, named in the generated header and in error messages. */
  sourceFile?: string;
  /** Points JSON paths at line:column in the source, for errors found while compiling. */
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
  name: string;
  source: string;
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
}

export interface Pass {
  readonly name: string;
  readonly run: (body: readonly Stmt[], ctx: PassContext) => Stmt[];
}

/** Loops of at most this many trips, whose copies stay within UNROLL_BUDGET IR nodes, are written out. */
const UNROLL = { maxTrips: 16, budget: 256 } as const;

/** The kernel IR passes, in order. */
export const PASSES: readonly Pass[] = [
  // a value read once, element for element, is computed where it is read: no store, no buffer
  { name: "inline", run: (body, ctx) => inline(body, (n) => ctx.roots.has(n)) },
  // a loop nest walking its buffers row-major becomes one loop over all elements
  { name: "flatten", run: (body) => flatten(body) },
  // consecutive element loops of one trip count (too long to write out) run as one loop
  { name: "fuse", run: (body) => fuse(body, UNROLL.maxTrips) },
  // short loops and sums written out with literal indices; long sums get an accumulator loop
  { name: "unroll", run: (body, ctx) => unroll(body, { ...UNROLL, temp: ctx.temp }) },
  // stores and locals nothing reads any more
  { name: "prune", run: (body) => prune(body) },
  // each contraction gets its renderer's register tile
  { name: "tile", run: (body, ctx) => tile(body, ctx.tiles) },
];

/** Runs every pass over every function of the lowered module. */
export function runPasses(lowered: LoweredModule, tiles: TileChooser = libraryTiles): LoweredModule {
  const functions = Object.fromEntries(
    (Object.entries(lowered.functions) as [FunctionName, KernelFunction][]).map(([name, fn]) => {
      const ctx: PassContext = { roots: new Set(lowered.plans[name].roots), tiles, temp: (base) => ({ hint: base, named: false }) };
      const body = PASSES.reduce((b, pass) => pass.run(b, ctx), fn.body);
      return [name, { ...fn, body }];
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
  readonly source: string;
}

/** net → gradients → kernel IR → passes → module text. */
export async function compileNet(net: Net, options: { precision: Precision; sourceFile: string; optimizer?: NetSpec["optimizer"] }): Promise<CompiledNet> {
  const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
  const lowered = runPasses(lowerModule(net, grads));
  const namer = new Namer();
  namer.reserve(templateNames());
  const names = new IrNames(new NodeNames(net.graph, namer));
  const source = await emitModule(net, lowered, names, { precision: options.precision, sourceFile: options.sourceFile, version: VERSION, optimizer: options.optimizer });
  return { net, grads, lowered, names, source };
}

/** The DAG of a network (front end only), for tools that inspect it. */
export function buildNet(spec: NetSpec, locate?: Locate): Net {
  return isLayerSpec(spec) ? buildLayerNet(spec, locate) : buildEquationNet(spec, locate);
}

export async function compile(spec: NetSpec, options: CompileOptions = {}): Promise<CompileResult> {
  const started = performance.now();
  const sourceFile = options.sourceFile ?? `${spec.name}.json`;
  try {
    const net = buildNet(spec, options.locate);
    const compiled = await compileNet(net, { precision: options.precision ?? "f32", sourceFile, optimizer: spec.optimizer });
    const { plans } = compiled.lowered;
    const stats: CompileStats = {
      forwardOps: countOps(plans.forward),
      gradientOps: countOps(plans.gradient),
      lossOps: countOps(plans.loss),
      naiveOps: naiveOps(net, compiled.grads, countOps(plans.loss)).total,
      nodes: net.graph.size,
      lines: compiled.source.split("\n").length - 1,
      bytes: Buffer.byteLength(compiled.source),
      millis: performance.now() - started,
    };
    return { name: spec.name, source: compiled.source, stats };
  } catch (e) {
    if (e instanceof BpgenError) throw e.at({ file: sourceFile });
    // a network so deep that a recursive stage (ours or prettier's) runs out of stack is bad input, not a crash
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new BpgenError({ file: sourceFile, message: "the network is too deep to compile", expected: "fewer chained operations", found: "an expression deeper than the compiler's stack" });
    }
    throw e;
  }
}

/** Loads, validates and compiles one net.json file. */
export async function compileFile(file: string, options: CompileOptions = {}): Promise<CompileResult> {
  const loaded = loadSpec(file);
  return compile(loaded.spec, { ...options, sourceFile: options.sourceFile ?? file, locate: loaded.locate });
}
