/**
 * The compiler, stage by stage:
 *   spec/      net.json → validated NetSpec (JSON paths, line:column)
 *   frontend/  layers or equations → expression DAG (ir/, simplified as it is built)
 *   autodiff/  one reverse sweep → gradient nodes in the same DAG
 *   lower/     per function: phases, fusion, storage
 *   emit/      TypeScript via ts-morph, formatted by prettier
 */
import { createRequire } from "node:module";
import { reverse } from "./autodiff/reverse.ts";
import { buildEquationNet } from "./frontend/equations.ts";
import { buildLayerNet } from "./frontend/layers.ts";
import type { Net } from "./frontend/net.ts";
import { emitModule, type Precision } from "./emit/module.ts";
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

/** The DAG of a network (front end only), for tools that inspect it. */
export function buildNet(spec: NetSpec, locate?: Locate): Net {
  return isLayerSpec(spec) ? buildLayerNet(spec, locate) : buildEquationNet(spec, locate);
}

export async function compile(spec: NetSpec, options: CompileOptions = {}): Promise<CompileResult> {
  const started = performance.now();
  const sourceFile = options.sourceFile ?? `${spec.name}.json`;
  try {
    const net = buildNet(spec, options.locate);
    const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
    const emitted = await emitModule(net, grads, { precision: options.precision ?? "f32", sourceFile, version: VERSION, optimizer: spec.optimizer });
    const stats: CompileStats = {
      forwardOps: countOps(emitted.plans.forward),
      gradientOps: countOps(emitted.plans.gradient),
      lossOps: countOps(emitted.plans.loss),
      naiveOps: naiveOps(net, grads, countOps(emitted.plans.loss)).total,
      nodes: net.graph.size,
      lines: emitted.source.split("\n").length - 1,
      bytes: Buffer.byteLength(emitted.source),
      millis: performance.now() - started,
    };
    return { name: spec.name, source: emitted.source, stats };
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
