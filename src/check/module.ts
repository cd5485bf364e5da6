import { ts } from "ts-morph";

/** The API every generated module exports (CONTRACT.md §3), as seen by the checker and the tests. */
export type FloatArray = Float32Array | Float64Array;

export interface ParamMeta {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

export interface ModuleMeta {
  readonly name: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly targetSize: number;
  readonly paramCount: number;
  readonly params: readonly ParamMeta[];
}

export interface NetModule<T extends FloatArray = FloatArray> {
  readonly meta: ModuleMeta;
  initParams(seed?: number): T;
  forward(p: T, x: T, out: T, batch?: number): void;
  loss(p: T, x: T, y: T, batch?: number): number;
  gradient(p: T, x: T, y: T, g: T, batch?: number): number;
  sgdStep(p: T, x: T, y: T, lr: number, batch?: number): number;
}

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
