/**
 * The WebAssembly kernels of a generated module, beyond agreeing with the TypeScript ones (the oracle, the
 * examples and the allocation probes run on both back ends): the fallback where WebAssembly is missing or
 * rejects SIMD, the zero-copy arrays of kernelArrays and what growing the memory does to them, the opt-in
 * relaxed-SIMD build, deterministic bytes, and the kernels as text (a golden file a reader can open).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Worker } from "node:worker_threads";
import { loadModule, toJavaScript } from "./helpers/load-module.ts";
import { compileFile } from "../src/pipeline.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";
import "./helpers/chromium.ts";
import { expectGolden } from "./helpers/golden.ts";
import { kernelBytes, wabtValidate, wasmToText } from "./helpers/wat.ts";

const MNIST = join(ROOT, "examples", "mnist_mlp.json");
const XOR = join(ROOT, "examples", "xor_sigmoid.json");

interface Arrays {
  params: Float32Array;
  grads: Float32Array;
  inputs: Float32Array;
  targets: Float32Array;
  out: Float32Array;
}
interface WasmModule {
  meta: { paramCount: number; inputSize: number; targetSize: number; outputSize: number };
  initParams(seed?: number): Float32Array;
  forward(p: Float32Array, x: Float32Array, out: Float32Array, batch?: number): void;
  gradient(p: Float32Array, x: Float32Array, y: Float32Array, g: Float32Array, batch?: number): number;
  sgdStep(p: Float32Array, x: Float32Array, y: Float32Array, lr: number, batch?: number): number;
  kernelArrays(batch: number): Arrays;
}

const load = (source: string) => loadModule<Float32Array>(source) as unknown as WasmModule;

function data(m: WasmModule, batch: number): { x: Float32Array; y: Float32Array } {
  const x = Float32Array.from({ length: batch * m.meta.inputSize }, (_, i) => Math.sin(i * 0.37));
  const y = Float32Array.from({ length: batch * m.meta.targetSize }, (_, i) => (i % m.meta.targetSize === i % 3 ? 1 : 0));
  return { x, y };
}

function gradientOf(m: WasmModule, batch: number): Float32Array {
  const { x, y } = data(m, batch);
  const g = new Float32Array(m.meta.paramCount);
  m.gradient(m.initParams(2), x, y, g, batch);
  return g;
}

const inWasmMemory = (a: Float32Array) => a.buffer.byteLength > a.byteLength;

describe("WebAssembly kernels", async () => {
  const wasmSource = (await compileFile(MNIST, { kernels: "wasm" })).source;
  const jsSource = (await compileFile(MNIST, { kernels: "js" })).source;
  const reference = gradientOf(load(jsSource), 5);

  it("fall back to the TypeScript kernels where WebAssembly rejects the SIMD binary, with the same results", () => {
    const original = globalThis.WebAssembly;
    const refusing = { ...original, validate: () => false } as typeof WebAssembly;
    Object.defineProperty(globalThis, "WebAssembly", { value: refusing, configurable: true, writable: true });
    try {
      const m = load(wasmSource);
      expect(Array.from(gradientOf(m, 5))).toEqual(Array.from(reference));
      expect(inWasmMemory(m.kernelArrays(4).params)).toBe(false);
    } finally {
      Object.defineProperty(globalThis, "WebAssembly", { value: original, configurable: true, writable: true });
    }
  });

  it("fall back where there is no WebAssembly at all", () => {
    const original = globalThis.WebAssembly;
    Object.defineProperty(globalThis, "WebAssembly", { value: undefined, configurable: true, writable: true });
    try {
      expect(Array.from(gradientOf(load(wasmSource), 5))).toEqual(Array.from(reference));
    } finally {
      Object.defineProperty(globalThis, "WebAssembly", { value: original, configurable: true, writable: true });
    }
  });

  it("run in WebAssembly where it is available, agreeing with the TypeScript kernels to float rounding", () => {
    const m = load(wasmSource);
    expect(inWasmMemory(m.kernelArrays(4).params)).toBe(true);
    const g = gradientOf(m, 5);
    const scale = Math.max(...reference.map(Math.abs));
    expect(Math.max(...g.map((v, i) => Math.abs(v - (reference[i] as number))))).toBeLessThan(1e-5 * scale);
  });

  it("take kernelArrays' arrays without copying, and give the same results as ordinary arrays", () => {
    const m = load(wasmSource);
    const batch = 6;
    const arrays = m.kernelArrays(batch);
    const { x, y } = data(m, batch);
    const p = m.initParams(3);
    arrays.params.set(p);
    arrays.inputs.set(x);
    arrays.targets.set(y);
    const J = m.gradient(arrays.params, arrays.inputs, arrays.targets, arrays.grads, batch);
    const g = new Float32Array(m.meta.paramCount);
    expect(m.gradient(p, x, y, g, batch)).toBe(J);
    expect(Array.from(arrays.grads)).toEqual(Array.from(g));
    m.forward(arrays.params, arrays.inputs, arrays.out, batch);
    const out = new Float32Array(batch * m.meta.outputSize);
    m.forward(p, x, out, batch);
    expect(Array.from(arrays.out.subarray(0, out.length))).toEqual(Array.from(out));
    // an sgd step on the arrays in memory moves the parameters in place
    const before = Float32Array.from(arrays.params);
    m.sgdStep(arrays.params, arrays.inputs, arrays.targets, 0.1, batch);
    m.sgdStep(p, x, y, 0.1, batch);
    expect(Array.from(arrays.params)).toEqual(Array.from(p));
    expect(Array.from(arrays.params)).not.toEqual(Array.from(before));
  });

  it("grow the memory for a larger batch: earlier arrays are left empty, and kernelArrays gives current ones", () => {
    const m = load(wasmSource);
    const small = m.kernelArrays(2);
    small.params.set(m.initParams(4));
    const big = m.kernelArrays(4096);
    expect(small.params.length).toBe(0);
    expect(big.inputs.length).toBe(4096 * m.meta.inputSize);
    // the parameters in memory survive the growth
    expect(Array.from(big.params)).toEqual(Array.from(m.initParams(4)));
    const { x, y } = data(m, 4096);
    big.inputs.set(x);
    big.targets.set(y);
    expect(Number.isFinite(m.gradient(big.params, big.inputs, big.targets, big.grads, 4096))).toBe(true);
    // passing an array detached by the growth is an error that names it
    expect(() => m.gradient(small.params, x, y, big.grads, 4096)).toThrow(/params needs exactly/);
  });

  it("are the same bytes for the same network", async () => {
    expect((await compileFile(MNIST, { kernels: "wasm" })).source).toBe(wasmSource);
  });

  it("with --relaxed-simd carry a fused build, used only where the engine validates it", async () => {
    const relaxedSource = (await compileFile(MNIST, { kernels: "wasm", relaxedSimd: true })).source;
    expect(relaxedSource).toContain("const wasmBinaryRelaxed =");
    // Node 20 rejects relaxed SIMD without a flag: the module runs the deterministic build, bit for bit
    const plain = gradientOf(load(wasmSource), 5);
    expect(Array.from(gradientOf(load(relaxedSource), 5))).toEqual(Array.from(plain));
    // with the flag it runs the fused one: the last bits differ, the values agree
    const dir = tempDir();
    const file = join(dir, "net.mjs");
    writeFileSync(file, toJavaScript(relaxedSource, "esm"));
    const script = `import * as m from ${JSON.stringify(file)};
const batch = 5, I = m.meta.inputSize, T = m.meta.targetSize;
const x = Float32Array.from({ length: batch * I }, (_, i) => Math.sin(i * 0.37));
const y = Float32Array.from({ length: batch * T }, (_, i) => (i % T === i % 3 ? 1 : 0));
const g = new Float32Array(m.meta.paramCount);
m.gradient(m.initParams(2), x, y, g, batch);
process.stdout.write(JSON.stringify(Array.from(g)));`;
    const run = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--input-type=module", "-e", script], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.stderr).toBe("");
    const fused = JSON.parse(run.stdout) as number[];
    const scale = Math.max(...plain.map(Math.abs));
    expect(fused.some((v, i) => v !== plain[i])).toBe(true);
    expect(Math.max(...fused.map((v, i) => Math.abs(v - (plain[i] as number))))).toBeLessThan(1e-5 * scale);
  });

  it("read as text: the kernels of xor_sigmoid (test/golden/xor_sigmoid.wat)", async () => {
    const source = (await compileFile(XOR, { kernels: "wasm" })).source;
    const bytes = kernelBytes(source);
    await wabtValidate(bytes);
    const text = await wasmToText(bytes);
    expect(text).toMatch(/\(func \$forward /);
    expect(text).toMatch(/\(export "gradient" \(func \$gradient\)\)/);
    expectGolden("xor_sigmoid.wat", text);
  });

  /** The gradient of mnist at a fixed point, computed by the module's JavaScript text wherever it runs. */
  const PROBE = `const batch = 5, I = meta.inputSize, T = meta.targetSize;
const x = Float32Array.from({ length: batch * I }, (_, i) => Math.sin(i * 0.37));
const y = Float32Array.from({ length: batch * T }, (_, i) => (i % T === i % 3 ? 1 : 0));
const g = new Float32Array(meta.paramCount);
const J = gradient(initParams(2), x, y, g, batch);
const probe = { J, inMemory: kernelArrays(1).params.buffer.byteLength > kernelArrays(1).params.byteLength, g: Array.from(g.subarray(0, 64)).concat(Array.from(g.subarray(g.length - 64))) };`;
  const expected = () => {
    const m = load(wasmSource);
    const g = gradientOf(m, 5);
    return [...Array.from(g.subarray(0, 64)), ...Array.from(g.subarray(g.length - 64))];
  };

  it("instantiate themselves in a worker_threads worker", async () => {
    const dir = tempDir();
    const file = join(dir, "net.mjs");
    writeFileSync(file, toJavaScript(wasmSource, "esm"));
    const code = `import { parentPort } from "node:worker_threads";
import { meta, initParams, gradient, kernelArrays } from ${JSON.stringify(pathToFileURL(file).href)};
${PROBE}
parentPort.postMessage(probe);`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    const probe = await new Promise<{ inMemory: boolean; g: number[] }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(probe.inMemory).toBe(true);
    expect(probe.g).toEqual(expected());
  });

  it("instantiate themselves in Chromium, on the page and in a worker", () => {
    const { binary, problem } = inject("chromium");
    expect(problem, problem).toBeUndefined();
    const js = toJavaScript(wasmSource, "esm");
    // a classic worker from a blob (a page opened from a file may not start module workers): the module's
    // text with its exports as plain declarations
    const workerCode = `${js.replace(/^export /gm, "")}\n${PROBE}\npostMessage(probe);`;
    const page = `<!doctype html><html><body><pre id="page"></pre><pre id="worker"></pre>
<script type="module">
${js.replace(/<\/script/gi, "<\\/script")}
${PROBE}
document.getElementById("page").textContent = JSON.stringify(probe);
const blob = new Blob([${JSON.stringify(workerCode).replace(/<\/script/gi, "<\\/script")}], { type: "text/javascript" });
const worker = new Worker(URL.createObjectURL(blob));
worker.onmessage = (e) => { document.getElementById("worker").textContent = JSON.stringify(e.data); };
worker.onerror = (e) => { document.getElementById("worker").textContent = "error: " + e.message; };
</script></body></html>`;
    const dir = mkdtempSync(join(tmpdir(), "bpgen-wasm-page-"));
    try {
      const file = join(dir, "page.html");
      writeFileSync(file, page);
      const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`, "--virtual-time-budget=20000", "--dump-dom"];
      const run = spawnSync(binary as string, [...flags, pathToFileURL(file).href], { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
      expect(run.status, run.stderr.slice(-2000)).toBe(0);
      const read = (id: string) => {
        const text = new RegExp(`<pre id="${id}">([^<]*)</pre>`).exec(run.stdout)?.[1] ?? "";
        expect(text.startsWith("{"), `${id}: ${text.slice(0, 300)}`).toBe(true);
        return JSON.parse(text.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as { inMemory: boolean; g: number[] };
      };
      const want = expected();
      for (const id of ["page", "worker"]) {
        const probe = read(id);
        expect(probe.inMemory, id).toBe(true);
        expect(probe.g.length).toBe(want.length);
        const scale = Math.max(...want.map(Math.abs));
        expect(Math.max(...probe.g.map((v, i) => Math.abs(v - (want[i] as number)))), id).toBeLessThan(1e-6 * scale);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("--kernels auto", () => {
  // the module embeds its WebAssembly binary as base64, which starts with the magic bytes \0asm: "AGFzbQ"
  const embedsWasm = async (example: string) => (await compileFile(join(ROOT, "examples", `${example}.json`))).source.includes('"AGFzbQ');

  it("keeps the smallest networks in TypeScript, where a call into WebAssembly costs more than their arithmetic", async () => {
    for (const example of ["chain3", "xor_sigmoid"]) expect(await embedsWasm(example), example).toBe(false);
  });

  it("picks WebAssembly from 256 operations per sample, and for dense layers", async () => {
    for (const example of ["mse_sigmoid", "softmax_10_20_2", "deep_relu10", "mnist_mlp"]) expect(await embedsWasm(example), example).toBe(true);
  });
});
