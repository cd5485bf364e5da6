/** Loading a generated module with its training functions, typed by the module API's description (src/module-api.ts). */
import { loadModule } from "../check/module.ts";
import type { FloatArray, NetModule } from "../module-api.ts";

export type { NetModule, OptimizerConfig, OptimizerState } from "../module-api.ts";

/** Loads a generated module's source (bpgen's own output) with its training functions. */
export function loadTrainable<T extends FloatArray = FloatArray>(source: string): NetModule<T> {
  return loadModule<T>(source);
}
