/**
 * Networks run by the kernel-IR interpreter (src/render/interp) instead of a generated module: spec → DAG →
 * gradients → kernel IR → a backend's passes → interpreter, with nothing printed, formatted or transpiled.
 * The numeric tests whose subject is the mathematics (the oracle, the functions, the peer suites, the
 * extremes) run here; test/renderers.test.ts checks that each backend's generated module computes what the
 * interpreter computes on the same kernel IR, so the two together cover what a generated module computes.
 *
 * One network is lowered once: the kernel IR does not depend on the precision (the module's arrays do), so
 * f64 and f32 run from one lowering, and each backend's passes run once.
 */
import { type Gradients, reverse } from "../../src/autodiff/reverse.ts";
import type { Net } from "../../src/ir/net.ts";
import { type LoweredModule, lowerModule } from "../../src/lower/functions.ts";
import { buildNet, runPasses } from "../../src/pipeline.ts";
import { BACKENDS, type BackendName } from "../../src/render/backends.ts";
import { type FloatArray, type Precision, arrayType } from "../../src/render/interp/interpret.ts";
import { type InterpretedModule, interpretModule } from "../../src/render/interp/module.ts";
import { parseSpec } from "../../src/spec/load.ts";
import type { NetSpec } from "../../src/spec/types.ts";

export type { FloatArray, Precision };

/** A parameter as a generated module's meta.params describes it. */
export interface ParamPlace {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** One network lowered once, run by the interpreter after any backend's passes, at either precision. */
export class InterpretedNet {
  readonly net: Net;
  readonly grads: Gradients;
  /** Every planned value stored: the kernel IR before any pass. */
  readonly materialized: LoweredModule;
  private readonly passed = new Map<BackendName, LoweredModule>();

  /** `spec` (net.json's text, or an object checked as the text it serialises to, as compile() does) is validated, then lowered. */
  constructor(spec: NetSpec | string) {
    this.net = buildNet(parseSpec("net.json", typeof spec === "string" ? spec : JSON.stringify(spec, null, 2)).spec);
    this.grads = reverse(this.net.graph, this.net.objective, this.net.params.map((p) => p.node));
    this.materialized = lowerModule(this.net, this.grads);
  }

  /** The kernel IR `backend`'s part of a module is rendered from (its tiles, its code budget). */
  lowered(backend: BackendName = "js"): LoweredModule {
    let l = this.passed.get(backend);
    if (!l) this.passed.set(backend, (l = runPasses(this.materialized, BACKENDS[backend])));
    return l;
  }

  /** forward, loss and gradient with a generated module's signatures, on `backend`'s kernel IR. */
  module<T extends FloatArray = FloatArray>(precision: Precision, backend: BackendName = "js"): InterpretedModule<T> {
    return interpretModule<T>(this.lowered(backend), precision);
  }

  /** The flat parameter layout, as a module's meta.params states it. */
  params(): ParamPlace[] {
    const { offsets } = this.materialized.layout;
    return this.net.params.map((p) => {
      const offset = offsets.get(p.node);
      if (offset === undefined) throw new Error(`parameter ${p.name} has no place in the layout`);
      return { name: p.name, shape: [...p.shape], offset, size: p.shape.reduce((a, b) => a * b, 1) };
    });
  }
}

/**
 * A generated module's sgdStep on the interpreter: J from gradient, then p ← p − lr·g element by element in
 * the module's precision (what the TypeScript modules' sgdStep does; test/renderers.test.ts holds every backend's
 * sgdStep to this).
 */
export function interpretedSgdStep<T extends FloatArray>(m: InterpretedModule<T>, precision: Precision, params: T, inputs: T, targets: T, lr: number, batch?: number): number {
  const grads = new (arrayType(precision))(m.meta.paramCount) as T;
  const J = m.gradient(params, inputs, targets, grads, batch);
  for (let i = 0; i < params.length; i++) params[i] -= lr * grads[i];
  return J;
}
