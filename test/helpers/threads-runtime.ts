/**
 * The thread pool's runtime as a generated module carries it: templates/threads.ts transpiled from TypeScript to
 * JavaScript (and minified, for the test that its worker's source text survives a minifier), written beside a
 * script that runs the test kernel on it, for child processes and browser pages.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import ts from "typescript";
import { JOBS, matrixEntry, threadKernelBytes } from "./threads-kernel.ts";

const TEMPLATE = fileURLToPath(new URL("../../templates/threads.ts", import.meta.url));

/** templates/threads.ts as an ES module in JavaScript: TypeScript's transpile, then esbuild's minifier if asked. */
export function runtimeJavaScript(minify: boolean): string {
  const js = ts.transpileModule(readFileSync(TEMPLATE, "utf8"), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  return minify ? transformSync(js, { minify: true, format: "esm", target: "es2022" }).code : js;
}

/**
 * The body of a script (an ES module importing `startThreadPool`, `runOnThreads`, `threadsSupported` from
 * `runtime`) that runs rowSums on `threads` threads, or on one where the pool is null, and prints one JSON line:
 * whether it had a pool, the total, the participation mask, and µs per round trip of the empty job over `rounds`.
 * It never stops the pool. The same text runs in Node and in browsers (pages and workers).
 */
export function kernelScript(runtime: string, threads: number, rows: number, columns: number, rounds: number): string {
  const base64 = Buffer.from(threadKernelBytes()).toString("base64");
  return `import { startThreadPool, runOnThreads, threadsSupported } from ${JSON.stringify(runtime)};
const binary = atob(${JSON.stringify(base64)});
const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
const rows = ${rows};
const columns = ${columns};
const MATRIX = 4096;
const pages = Math.ceil((MATRIX + 8 * rows * columns + 16 * rows) / 65536);
const memory = new WebAssembly.Memory({ initial: pages, maximum: 256, shared: true });
const m = new Float64Array(memory.buffer, MATRIX, rows * columns);
const matrixEntry = ${String(matrixEntry)};
for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) m[r * columns + c] = matrixEntry(r, c);
const module = new WebAssembly.Module(bytes);
const instance = new WebAssembly.Instance(module, { env: { memory } });
const pool = await startThreadPool({ module, memory, exports: instance.exports, imports: "{}", jobs: ${JSON.stringify(JOBS)}, control: 0, threads: ${threads} });
const run = (job, batch, capacity) => (pool ? runOnThreads(pool, job, batch, capacity) : instance.exports[${JSON.stringify(JOBS)}[job]](batch, capacity, 0, 1));
const total = run(0, rows, columns);
const start = performance.now();
for (let i = 0; i < ${rounds}; i++) run(1, 0, 0);
const microseconds = ${rounds} > 0 ? ((performance.now() - start) * 1000) / ${rounds} : 0;
const mask = new Int32Array(memory.buffer, 64, 1)[0];
const result = { supported: threadsSupported(), pool: pool !== null, total, mask, microseconds, callerSleeps: pool ? pool.callerSleeps : null };
`;
}
