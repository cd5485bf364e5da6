/**
 * Loading generated modules in the tests. The product's loader (src/check/module.ts) strips the types with the
 * TypeScript compiler, which took about a fifth of the suite's time (865 modules, 117 ms each); esbuild strips them
 * in a tenth of that. The modules run the same: only types and comments differ between the two transpiles, and the
 * product's own loader is still what `bpgen train` and `gradcheck` use in the CLI tests.
 */
import { transformSync } from "esbuild";
import type { FloatArray, NetModule } from "../../src/check/module.ts";

export type { FloatArray, NetModule } from "../../src/check/module.ts";

/** A generated module from its TypeScript source, as JavaScript (ES2022): an ES module for a `.mjs` file, or CommonJS. */
export function toJavaScript(source: string, format: "esm" | "commonjs"): string {
  return transformSync(source, { loader: "ts", format: format === "esm" ? "esm" : "cjs", target: "es2022" }).code;
}

/** Loads a generated module from its source without touching the disk (bpgen's own output, never user text). */
export function loadModule<T extends FloatArray = FloatArray>(source: string): NetModule<T> {
  // esbuild's CommonJS assigns module.exports as a whole
  const module: { exports: Record<string, unknown> } = { exports: {} };
  new Function("module", "exports", toJavaScript(source, "commonjs"))(module, module.exports);
  return module.exports as unknown as NetModule<T>;
}
