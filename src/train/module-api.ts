/** Loading a generated module with its training functions, typed by the module API's description (src/module-api.ts). */
import { loadModule } from "../check/module.ts";
import { type FloatArray, type NetModule, type StatefulNetModule, isStatefulModule } from "../module-api.ts";

export type { AnyNetModule, NetModule, OptimizerConfig, OptimizerState, StatefulNetModule } from "../module-api.ts";
export { isStatefulModule };

/**
 * Loads a generated module's source (bpgen's own output) with its training functions. A module of a network
 * with state is typed as the stateless kind here; isStatefulModule tells them apart (train() does).
 */
export function loadTrainable<T extends FloatArray = FloatArray>(source: string): NetModule<T> {
  return loadModule<T>(source);
}

/**
 * A module of a network with state as a stateless one over `state`: every call passes that array (forward and
 * loss read it, gradient, sgdStep and trainStep update it in place), so the trainer drives both kinds alike.
 */
export function bindState<T extends FloatArray>(m: StatefulNetModule<T>, state: T): NetModule<T> {
  return {
    meta: m.meta,
    optimizerDefaults: m.optimizerDefaults,
    initParams: (seed) => m.initParams(seed),
    forward: (params, inputs, out, batch) => m.forward(params, state, inputs, out, batch),
    loss: (params, inputs, targets, batch) => m.loss(params, state, inputs, targets, batch),
    gradient: (params, inputs, targets, grads, batch) => m.gradient(params, state, inputs, targets, grads, batch),
    sgdStep: (params, inputs, targets, lr, batch) => m.sgdStep(params, state, inputs, targets, lr, batch),
    kernelArrays: (batch) => m.kernelArrays(batch),
    createOptimizer: (config) => m.createOptimizer(config),
    applyGradients: (params, optimizer, grads) => m.applyGradients(params, optimizer, grads),
    trainStep: (params, optimizer, inputs, targets, batch) => m.trainStep(params, state, optimizer, inputs, targets, batch),
    ...(m.stateGradientNorms ? { stateGradientNorms: bound(m.stateGradientNorms.bind(m), state) } : {}),
  };
}

/** stateGradientNorms over `state` (which it reads, never changes). */
function bound<T extends FloatArray>(f: NonNullable<StatefulNetModule<T>["stateGradientNorms"]>, state: T): NonNullable<NetModule<T>["stateGradientNorms"]> {
  return (params, inputs, targets, out, batch) => f(params, state, inputs, targets, out, batch);
}
