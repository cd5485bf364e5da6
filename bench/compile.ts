/**
 * Compiling for the bpgen peer: each network is compiled at benchmark start with compile() from src/pipeline.ts, the
 * TypeScript is transpiled to an ES module, written to a temporary .mjs file and loaded with a real
 * `import()`, the way a user runs a generated module. So the benchmark always measures the compiler as it
 * is in the working tree, not the files under generated/.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NetModule, toJavaScript } from "../src/check/module.ts";
import type { CompileResult, Precision, compile } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { importModule } from "./module-import.ts";

/** The kernel back ends compile() is about to offer (`compile(spec, { kernels })`). */
export type Kernels = "js" | "wasm" | "auto";
export const KERNELS: readonly Kernels[] = ["auto", "js", "wasm"];

/**
 * compile()'s options as the benchmark passes them: whatever compile() declares, plus `kernels`, which it may
 * not know yet. An object of this type is assignable to compile()'s parameter (an extra property is allowed
 * outside an object literal), and when CompileOptions gains `kernels` the intersection keeps it type-checked.
 */
export type BenchCompileOptions = NonNullable<Parameters<typeof compile>[1]> & { kernels?: Kernels };

export interface CompiledNet {
  readonly result: CompileResult;
  /** The .mjs file the module was imported from. */
  readonly file: string;
  readonly module: NetModule<Float32Array>;
  /** Wall-clock time of compile() (the same as result.stats.millis, measured around the call). */
  readonly compileMillis: number;
}

let dir: string | undefined;
let counter = 0;

/** A fresh temporary folder for this process's transpiled modules. */
export function moduleDir(): string {
  dir ??= mkdtempSync(join(tmpdir(), "bpgen-bench-"));
  return dir;
}

/** Transpiles a generated module to JavaScript (ES2022, ES modules), writes it to a temporary .mjs and returns the path. */
export function writeModule(source: string, name: string): string {
  const js = toJavaScript(source, "esm");
  const file = join(moduleDir(), `${name}_${counter++}.mjs`);
  writeFileSync(file, js);
  return file;
}

export async function compileAndImport(spec: NetSpec, precision: Precision = "f32", kernels?: Kernels): Promise<CompiledNet> {
  const { compile } = await import("../src/pipeline.ts");
  const options: BenchCompileOptions = { precision, sourceFile: `${spec.name}.json` };
  if (kernels) options.kernels = kernels;
  const started = performance.now();
  const result = await compile(spec, options);
  const compileMillis = performance.now() - started;
  const file = writeModule(result.source, `${spec.name}_${precision}${kernels ? `_${kernels}` : ""}`);
  return { result, file, module: await importModule(file), compileMillis };
}

/** The bpgen modules of one network: the default build, and one per kernel back end when they differ from it. */
export interface CompiledVariants {
  /** compile() with `kernels: "auto"` (the default). */
  readonly base: CompiledNet;
  /** `kernels: "js"` and `"wasm"`, present only when some back end changes the generated source. */
  readonly js: CompiledNet | null;
  readonly wasm: CompiledNet | null;
  /** Why there is a single build ("compile() ignores kernels", "compile() rejects kernels: …"), or null. */
  readonly single: string | null;
}

/**
 * Compiles a network once per kernel back end. If compile() rejects the option, or every back end yields the
 * same source as compile() without it, the option has no effect yet and only the default build is kept.
 */
export async function compileVariants(spec: NetSpec): Promise<CompiledVariants> {
  const plain = await compileAndImport(spec);
  const sources = new Map<Kernels, CompiledNet>();
  for (const k of KERNELS) {
    try {
      sources.set(k, await compileAndImport(spec, "f32", k));
    } catch (e) {
      return { base: plain, js: null, wasm: null, single: `compile() rejects kernels: "${k}" (${e instanceof Error ? e.message.split("\n")[0] : String(e)})` };
    }
  }
  const differs = [...sources.values()].some((c) => c.result.source !== plain.result.source);
  if (!differs) return { base: plain, js: null, wasm: null, single: "compile() ignores kernels: js, wasm and auto build the module it builds without the option" };
  const auto = sources.get("auto") ?? plain;
  return { base: auto, js: sources.get("js") ?? null, wasm: sources.get("wasm") ?? null, single: null };
}

/** Removes the temporary modules written by this process. */
export function cleanupModules(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
