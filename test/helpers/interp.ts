/**
 * Networks compiled to kernel IR and run by the interpreter (src/render/interp): spec → DAG → gradients →
 * lowering → passes, with nothing printed, formatted or loaded.
 */
import { type Gradients, reverse } from "../../src/autodiff/reverse.ts";
import type { Net } from "../../src/frontend/net.ts";
import { type LoweredModule, lowerModule } from "../../src/lower/functions.ts";
import type { TileChooser } from "../../src/lower/passes/tile.ts";
import { libraryTiles } from "../../src/lower/passes/tile.ts";
import { JS_CODE_BUDGET, buildNet, runPasses } from "../../src/pipeline.ts";
import type { FloatArray, Precision } from "../../src/render/interp/interpret.ts";
import { type InterpretedModule, interpretModule } from "../../src/render/interp/module.ts";
import { parseSpec } from "../../src/spec/load.ts";
import type { NetSpec } from "../../src/spec/types.ts";

export interface Lowered {
  readonly net: Net;
  readonly grads: Gradients;
  /** Before the passes: every planned value stored. */
  readonly materialized: LoweredModule;
  /** After the passes, as the TypeScript kernels are built (library tiles, the JavaScript code budget). */
  readonly passed: LoweredModule;
}

/** A spec (object or net.json text) lowered, before and after the passes. */
export function lowerSpec(spec: NetSpec | string, tiles: TileChooser = libraryTiles): Lowered {
  const parsed = typeof spec === "string" ? parseSpec("net.json", spec).spec : spec;
  const net = buildNet(parsed);
  const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
  const materialized = lowerModule(net, grads);
  return { net, grads, materialized, passed: runPasses(materialized, tiles, JS_CODE_BUDGET) };
}

/** The module the TypeScript kernels of `spec` compute, run by the interpreter. */
export function compileForInterpreter<T extends FloatArray = FloatArray>(spec: NetSpec | string, precision: Precision): InterpretedModule<T> {
  return interpretModule<T>(lowerSpec(spec).passed, precision);
}

/** The lowered module before any pass (every planned value stored), run by the interpreter: for pass tests. */
export function compileMaterializedForInterpreter<T extends FloatArray = FloatArray>(spec: NetSpec | string, precision: Precision): InterpretedModule<T> {
  return interpretModule<T>(lowerSpec(spec).materialized, precision);
}
