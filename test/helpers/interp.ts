/**
 * Networks compiled to kernel IR and run by the interpreter (src/render/interp), for the tests of the passes,
 * the plan and the lowering: the kernel IR before and after the TypeScript backend's passes (InterpretedNet,
 * test/helpers/interpreted.ts, does the lowering).
 */
import type { Gradients } from "../../src/autodiff/reverse.ts";
import type { Net } from "../../src/ir/net.ts";
import type { LoweredModule } from "../../src/lower/functions.ts";
import type { FloatArray, Precision } from "../../src/render/interp/interpret.ts";
import { type InterpretedModule, interpretModule } from "../../src/render/interp/module.ts";
import type { NetSpec } from "../../src/spec/types.ts";
import { InterpretedNet } from "./interpreted.ts";

export interface Lowered {
  readonly net: Net;
  readonly grads: Gradients;
  /** Before the passes: every planned value stored. */
  readonly materialized: LoweredModule;
  /** After the passes, as the TypeScript kernels are built (library tiles, the JavaScript code budget). */
  readonly passed: LoweredModule;
}

/** A spec (object or net.json text) lowered, before and after the TypeScript backend's passes. */
export function lowerSpec(spec: NetSpec | string): Lowered {
  const n = new InterpretedNet(spec);
  return { net: n.net, grads: n.grads, materialized: n.materialized, passed: n.lowered("js") };
}

/** The module the TypeScript kernels of `spec` compute, run by the interpreter. */
export function compileForInterpreter<T extends FloatArray = FloatArray>(spec: NetSpec | string, precision: Precision): InterpretedModule<T> {
  return new InterpretedNet(spec).module<T>(precision);
}

/** The lowered module before any pass (every planned value stored), run by the interpreter: for pass tests. */
export function compileMaterializedForInterpreter<T extends FloatArray = FloatArray>(spec: NetSpec | string, precision: Precision): InterpretedModule<T> {
  return interpretModule<T>(new InterpretedNet(spec).materialized, precision);
}
