/**
 * Generated modules compile in a user's project with the strictest settings people turn on: every example,
 * in both precisions and with either kernel back end, imported from a file that uses the module the way the README
 * shows.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileFile } from "../src/pipeline.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";

const STRICT = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    noImplicitOverride: true,
    noPropertyAccessFromIndexSignature: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    types: [],
  },
};

const USE = `import { meta, initParams, forward, gradient, sgdStep, createOptimizer, trainStep } from "./net.ts";

const params = initParams(1);
const x = new ARRAY(2 * meta.inputSize);
const y = new ARRAY(2 * meta.targetSize);
const g = new ARRAY(meta.paramCount);
const out = new ARRAY(2 * meta.outputSize);
forward(params, x, out, 2);
const J: number = gradient(params, x, y, g, 2) + sgdStep(params, x, y, 0.1, 2);
const state = createOptimizer({ type: "adam", lr: 0.01 });
trainStep(params, state, x, y, 2);
export const result = [J, out[0] ?? 0];
`;

/** The same for a network with state (batch norm, dropout): the state array after the parameters, and both modes. */
const USE_STATEFUL = `import { meta, initParams, initState, forward, loss, gradient, sgdStep, createOptimizer, trainStep, trainingForward, trainingLoss } from "./net.ts";

const params = initParams(1);
const state = initState(1);
const x = new ARRAY(2 * meta.inputSize);
const y = new ARRAY(2 * meta.targetSize);
const g = new ARRAY(meta.paramCount);
const out = new ARRAY(2 * meta.outputSize);
forward(params, state, x, out, 2);
trainingForward(params, state, x, out, 2);
const J: number = gradient(params, state, x, y, g, 2) + sgdStep(params, state, x, y, 0.1, 2) + loss(params, state, x, y) + trainingLoss(params, state, x, y);
const optimizer = createOptimizer({ type: "adam", lr: 0.01 });
trainStep(params, state, optimizer, x, y, 2);
export const result = [J, out[0] ?? 0, meta.stateCount, meta.state.length];
`;

const examples = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json"));
const PRECISIONS = ["f32", "f64"] as const;
const KERNELS = ["js", "wasm"] as const;

describe("generated TypeScript in a strict user project", () => {
  it("every example compiles, in both precisions and with either kernel back end (and one built for threads), under strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, noUnused*, verbatimModuleSyntax, isolatedModules", async () => {
    // one project holding every example in each precision, and in f32 with each back end where the default picks the
    // other (a folder each), checked by one tsc run; errors name the folder
    const dir = tempDir();
    const write = (name: string, source: string, precision: "f32" | "f64") => {
      const folder = join(dir, name);
      mkdirSync(folder);
      const use = source.includes("export function initState(") ? USE_STATEFUL : USE;
      writeFileSync(join(folder, "net.ts"), source);
      writeFileSync(join(folder, "use.ts"), use.replaceAll("ARRAY", precision === "f64" ? "Float64Array" : "Float32Array"));
    };
    const body = (source: string) => source.slice(source.indexOf("\n"));
    for (const example of examples) {
      const file = join(ROOT, "examples", example);
      const name = example.replace(/\.json$/, "");
      let defaultF32 = "";
      for (const precision of PRECISIONS) {
        const { source } = await compileFile(file, { precision, format: false });
        if (precision === "f32") defaultF32 = body(source);
        write(`${name}-${precision}`, source, precision);
      }
      for (const kernels of KERNELS) {
        const { source } = await compileFile(file, { kernels, format: false });
        if (body(source) !== defaultF32) write(`${name}-f32-${kernels}`, source, "f32");
      }
    }
    // a module built for threads: its pool, its glue and the worker's function type-check the same way
    const threaded = join(dir, "mnist_cnn_bn-threads");
    mkdirSync(threaded);
    writeFileSync(join(threaded, "net.ts"), (await compileFile(join(ROOT, "examples", "mnist_cnn_bn.json"), { threads: true, format: false })).source);
    writeFileSync(join(threaded, "use.ts"), `${USE_STATEFUL.replaceAll("ARRAY", "Float32Array")}
import { startThreads, stopThreads } from "./net.ts";
export const threads: number = await startThreads(2);
await stopThreads();
`);
    // TypeScript's own lib files are not the subject (skipDefaultLibCheck); the generated modules are all checked
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...STRICT.compilerOptions, skipDefaultLibCheck: true } }));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    const errors = tsc.status === 0 ? [] : [`${tsc.stdout}${tsc.stderr}`];
    const checked = readdirSync(dir).filter((f) => !f.includes("."));
    // every example in both precisions and with the one back end its default does not pick, and the threaded build
    expect(checked).toHaveLength(examples.length * (PRECISIONS.length + 1) + 1);
    expect(errors.join("\n")).toBe("");
  });
});
