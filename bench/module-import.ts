/** Loads a transpiled generated module with a real ESM import (kept apart from the compiler so probes can load modules alone). */
import { pathToFileURL } from "node:url";
import type { NetModule } from "../src/check/module.ts";

export async function importModule(file: string): Promise<NetModule<Float32Array>> {
  return (await import(pathToFileURL(file).href)) as NetModule<Float32Array>;
}
