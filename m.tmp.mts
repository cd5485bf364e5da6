import { readFileSync } from "node:fs";
import { compile } from "./src/pipeline.ts";
import { loadModule } from "./src/check/module.ts";
type M = { meta: { paramCount: number; inputSize: number; targetSize: number; outputSize: number }; initParams(s: number): Float32Array; sgdStep(p: Float32Array, x: Float32Array, y: Float32Array, lr: number, b: number): number; forward(p: Float32Array, x: Float32Array, o: Float32Array, b: number): void };
const time = (f: () => void) => { const n0 = performance.now(); let n = 0; while (performance.now() - n0 < 30) { for (let i = 0; i < 50; i++) f(); n += 50; } return ((performance.now() - n0) / n) * 1000; };
for (const f of process.argv.slice(2)) {
  const spec = JSON.parse(readFileSync(`examples/${f}.json`, "utf8"));
  const mods: Record<string, M> = {};
  for (const k of ["js", "wasm"] as const) mods[k] = loadModule((await compile(spec, { kernels: k })).source) as unknown as M;
  for (const batch of [1, 16]) {
    const r: Record<string, number[]> = { js: [], wasm: [], jsf: [], wasmf: [] };
    const m0 = mods.js;
    const x = new Float32Array(batch * m0.meta.inputSize).map(() => Math.random());
    const y = new Float32Array(batch * m0.meta.targetSize).map(() => (Math.random() < 0.5 ? 0 : 1));
    const o = new Float32Array(batch * m0.meta.outputSize);
    for (let round = 0; round < 7; round++) for (const k of ["js", "wasm"]) {
      const m = mods[k]; const p = m.initParams(1);
      r[k].push(time(() => m.sgdStep(p, x, y, 1e-4, batch)));
      r[k + "f"].push(time(() => m.forward(p, x, o, batch)));
    }
    const med = (a: number[]) => a.sort((p, q) => p - q)[3];
    console.log(f.padEnd(16), "b=" + batch, "step js/wasm", (med(r.js) / med(r.wasm)).toFixed(2), "fwd js/wasm", (med(r.jsf) / med(r.wasmf)).toFixed(2), `(${med(r.js).toFixed(3)} µs vs ${med(r.wasm).toFixed(3)})`);
  }
}
