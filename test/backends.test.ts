/**
 * The backend records and the kernel policy (src/render/): every registered backend can be asked for, every
 * chain ends with a backend that runs everywhere, `auto` follows its thresholds, and no code outside the
 * WebAssembly backend and the policy branches on WebAssembly.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import prettier from "prettier";
import { describe, expect, it } from "vitest";
import { compile } from "../src/pipeline.ts";
import { BACKENDS, type BackendName } from "../src/render/backends.ts";
import { KERNELS, KERNELS_HELP, WASM_MIN_OPERATIONS, kernelChain } from "../src/render/policy.ts";
import { DENSE_MIN_WEIGHTS } from "../src/lower/dense.ts";
import { countOps } from "../src/lower/stats.ts";
import { lowerSpec } from "./helpers/interp.ts";
import { denseSpec } from "./helpers/small-nets.ts";

const example = (name: string) => readFileSync(new URL(`../examples/${name}.json`, import.meta.url), "utf8");

describe("the backend registry", () => {
  it("offers every registered backend to --kernels, besides auto", () => {
    expect([...KERNELS].sort()).toEqual(["auto", ...Object.keys(BACKENDS)].sort());
  });

  it("names each backend by its key", () => {
    for (const [key, backend] of Object.entries(BACKENDS)) expect(backend.name).toBe(key);
  });

  it("gives every shipped backend a part of the module", () => {
    for (const backend of Object.values(BACKENDS)) expect(typeof backend.module).toBe("function");
  });
});

describe("the kernel policy", () => {
  const small = lowerSpec(example("chain3")).materialized;
  const dense = lowerSpec(denseSpec(32)).materialized;
  const busy = lowerSpec(example("softmax_10_20_2")).materialized;

  it("ends every chain with a backend that runs everywhere, and lists none twice", () => {
    for (const requested of KERNELS) {
      for (const lowered of [small, dense, busy]) {
        const chain = kernelChain(requested, lowered);
        expect(BACKENDS[chain[chain.length - 1] as BackendName].runsEverywhere, `${requested}: ${chain.join(", ")}`).toBe(true);
        expect(new Set(chain).size).toBe(chain.length);
      }
    }
  });

  it("runs exactly what was asked for when a backend is named", () => {
    expect(kernelChain("js", dense)).toEqual(["js"]);
    expect(kernelChain("wasm", small)).toEqual(["wasm", "js"]);
  });

  it("chooses WebAssembly for batched dense products and busy gradients, TypeScript for small nets", () => {
    expect(countOps(small.plans.gradient).perSample).toBeLessThan(WASM_MIN_OPERATIONS);
    expect(kernelChain("auto", small)).toEqual(["js"]);
    expect(kernelChain("auto", dense)).toEqual(["wasm", "js"]);
    expect(countOps(busy.plans.gradient).perSample).toBeGreaterThanOrEqual(WASM_MIN_OPERATIONS);
    expect(kernelChain("auto", busy)).toEqual(["wasm", "js"]);
  });

  it("states its thresholds in the help text", () => {
    expect(KERNELS_HELP).toContain(`${DENSE_MIN_WEIGHTS} weights`);
    expect(KERNELS_HELP).toContain(`${WASM_MIN_OPERATIONS} operations`);
  });
});

describe("one seam", () => {
  const src = fileURLToPath(new URL("../src/", import.meta.url));
  const allowed = (file: string) => file.startsWith("render/wasm/") || file === "render/policy.ts";
  const branch = /[!=]== "wasm"|ctx\.wasm\b|\.wasm \?/;

  it("has no branch on WebAssembly outside its backend and the kernel policy", () => {
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(50);
    const offending = files.filter((f) => !allowed(f.split(sep).join("/")) && branch.test(readFileSync(join(src, f), "utf8")));
    expect(offending).toEqual([]);
  });

  it("would see such a branch", () => {
    expect(branch.test('if (kernels === "wasm") return;')).toBe(true);
    expect(branch.test("const rest = ctx.wasm ? a : b;")).toBe(true);
  });
});

describe("compiling without formatting", () => {
  it.each(["xor_sigmoid", "mnist_mlp"])("%s: the module prettier would format, byte for byte, once formatted", async (name) => {
    const spec = example(name);
    const formatted = (await compile(spec, { sourceFile: `examples/${name}.json` })).source;
    const printed = (await compile(spec, { sourceFile: `examples/${name}.json`, format: false })).source;
    expect(printed).not.toBe(formatted);
    expect(await prettier.format(printed, { parser: "babel-ts" })).toBe(formatted);
  });
});
