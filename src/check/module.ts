import { ts } from "ts-morph";

export type { FloatArray, NetMeta, NetModule, ParamLayout } from "../module-api.ts";
import type { FloatArray, NetModule } from "../module-api.ts";

/**
 * Loads a generated module from its TypeScript source without touching the disk.
 * The source is bpgen's own output (every name in it validated), never user text.
 */
export function loadModule<T extends FloatArray = FloatArray>(source: string): NetModule<T> {
  const js = toJavaScript(source, "commonjs");
  const exports: Record<string, unknown> = {};
  new Function("exports", js)(exports);
  return exports as unknown as NetModule<T>;
}

/** A generated module as JavaScript (ES2022): an ES module to write to a `.mjs` file, or CommonJS for loadModule. */
export function toJavaScript(source: string, format: "esm" | "commonjs"): string {
  const module = format === "esm" ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS;
  return ts.transpileModule(source, { compilerOptions: { module, target: ts.ScriptTarget.ES2022 } }).outputText;
}
