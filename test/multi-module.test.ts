/**
 * Several generated modules in one app: imported as namespaces they compile together under a strict tsc and
 * bundle together with esbuild, each keeping its own names and workspace; and a bundler drops what an app
 * does not call (the workspace is allocated by the first call, so importing `meta` alone costs no kernels).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { compileFile } from "../src/pipeline.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";

const APP = `import * as xor from "./xor_sigmoid.ts";
import * as digits from "./mnist_mlp.ts";

const p = xor.initParams(7);
const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
const y = new Float32Array([0, 1, 1, 0]);
const state = xor.createOptimizer({ type: "adam", lr: 0.05 });
let first = 0;
let last = 0;
for (let step = 0; step < 600; step++) {
  const J = xor.trainStep(p, state, x, y, 4);
  if (step === 0) first = J;
  last = J;
}
const q = digits.initParams(1);
const image = new Float32Array(2 * digits.meta.inputSize).fill(0.5);
const label = new Float32Array(2 * digits.meta.targetSize);
label[3] = 1;
label[10 + 7] = 1;
const before = digits.loss(q, image, label, 2);
digits.sgdStep(q, image, label, 0.1, 2);
const after = digits.loss(q, image, label, 2);
const out = (globalThis as unknown as { process: { stdout: { write(text: string): void } } }).process.stdout;
out.write(JSON.stringify({ names: [xor.meta.name, digits.meta.name], first, last, before, after }));
`;

async function project(): Promise<string> {
  const dir = tempDir();
  for (const name of ["xor_sigmoid", "mnist_mlp"]) {
    writeFileSync(join(dir, `${name}.ts`), (await compileFile(join(ROOT, "examples", `${name}.json`))).source);
  }
  writeFileSync(join(dir, "app.ts"), APP);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  return dir;
}

async function bundle(entry: string, minify: boolean): Promise<string> {
  const out = await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "neutral", minify, write: false, logLevel: "silent" });
  return out.outputFiles[0]?.text ?? "";
}

describe("two generated modules in one app", () => {
  it("compile together as namespace imports under a strict tsc", async () => {
    const dir = await project();
    const tsconfig = {
      compilerOptions: { target: "ES2022", module: "NodeNext", strict: true, noUncheckedIndexedAccess: true, allowImportingTsExtensions: true, noEmit: true, types: [] },
    };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });

  it("bundle together with esbuild and both work: the XOR net trains, the digits net takes a step", async () => {
    const dir = await project();
    const code = await bundle(join(dir, "app.ts"), true);
    writeFileSync(join(dir, "bundle.mjs"), code);
    const run = spawnSync(process.execPath, [join(dir, "bundle.mjs")], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    const result = JSON.parse(run.stdout) as { names: string[]; first: number; last: number; before: number; after: number };
    expect(result.names).toEqual(["xor_sigmoid", "mnist_mlp"]);
    expect(result.last).toBeLessThan(0.1 * result.first);
    expect(result.after).toBeLessThan(result.before);
  });

  it("cost a bundle only what the app calls: importing meta alone carries no kernels", async () => {
    const dir = await project();
    writeFileSync(join(dir, "meta.ts"), 'import { meta } from "./mnist_mlp.ts";\nconsole.log(meta.paramCount);\n');
    const code = await bundle(join(dir, "meta.ts"), true);
    expect(code).not.toMatch(/denseForward|wasmBinary|Float32Array\(\d/);
    expect(code.length).toBeLessThan(2000);
  });
});
