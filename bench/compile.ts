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
import type { CompileResult, Precision } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { importModule } from "./module-import.ts";

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

export async function compileAndImport(spec: NetSpec, precision: Precision = "f32"): Promise<CompiledNet> {
  const { compile } = await import("../src/pipeline.ts");
  const started = performance.now();
  const result = await compile(spec, { precision, sourceFile: `${spec.name}.json` });
  const compileMillis = performance.now() - started;
  const file = writeModule(result.source, `${spec.name}_${precision}`);
  return { result, file, module: await importModule(file), compileMillis };
}

/** Removes the temporary modules written by this process. */
export function cleanupModules(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
