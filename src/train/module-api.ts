/** The training part of a generated module's API (src/emit/optimizers.ts), as seen by `bpgen train` and the tests. */
import { type FloatArray, type NetModule, loadModule } from "../check/module.ts";
import type { OptimizerType } from "../spec/types.ts";

export interface OptimizerConfig {
  readonly type: OptimizerType;
  readonly lr?: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
  readonly clipNorm?: number;
  readonly clipValue?: number;
}

export interface OptimizerState<T extends FloatArray = FloatArray> {
  readonly config: Readonly<Required<OptimizerConfig>>;
  step: number;
  readonly m: T;
  readonly v: T;
  readonly grads: T;
  gradNorm: number;
  lastStepApplied: boolean;
  skippedSteps: number;
  readonly network: string;
}

export interface TrainableModule<T extends FloatArray = FloatArray> extends NetModule<T> {
  readonly optimizerDefaults: OptimizerConfig;
  createOptimizer(config?: Partial<OptimizerConfig>): OptimizerState<T>;
  applyGradients(p: T, state: OptimizerState<T>, g: T): number;
  trainStep(p: T, state: OptimizerState<T>, x: T, y: T, batch?: number): number;
}

/** Loads a generated module's source (bpgen's own output) with its training functions. */
export function loadTrainable<T extends FloatArray = FloatArray>(source: string): TrainableModule<T> {
  return loadModule<T>(source) as TrainableModule<T>;
}
