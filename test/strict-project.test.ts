/**
 * Generated modules compile in a user's project with the strictest settings people turn on: every example,
 * in both precisions, imported from a file that uses the module the way the README shows.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isStateful } from "../src/ir/net.ts";
import { buildNet, compileFile } from "../src/pipeline.ts";
import { parseSpec } from "../src/spec/load.ts";
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

/** The same for a module with state (batchnorm, dropout): the state array after the parameters, the training-mode functions. */
const USE_STATEFUL = `import { meta, initParams, initState, forward, gradient, sgdStep, createOptimizer, trainStep, trainingForward, trainingLoss } from "./net.ts";

const params = initParams(1);
const s = initState(1);
const x = new ARRAY(2 * meta.inputSize);
const y = new ARRAY(2 * meta.targetSize);
const g = new ARRAY(meta.paramCount);
const out = new ARRAY(2 * meta.outputSize);
forward(params, s, x, out, 2);
trainingForward(params, s, x, out, 2);
const J: number = gradient(params, s, x, y, g, 2) + sgdStep(params, s, x, y, 0.1, 2) + trainingLoss(params, s, x, y, 2);
const state = createOptimizer({ type: "adam", lr: 0.01 });
trainStep(params, s, state, x, y, 2);
export const result = [J, out[0] ?? 0, meta.stateCount];
`;

const examples = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json"));

describe("generated TypeScript in a strict user project", () => {
  for (const precision of ["f32", "f64"] as const) {
    it(`every example compiles (${precision}) under strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, noUnused*, verbatimModuleSyntax, isolatedModules`, async () => {
      // one project holding every example (a folder each), checked by one tsc run; errors name the folder
      const dir = tempDir();
      for (const example of examples) {
        const folder = join(dir, example.replace(/\.json$/, ""));
        mkdirSync(folder);
        const { source } = await compileFile(join(ROOT, "examples", example), { precision });
        writeFileSync(join(folder, "net.ts"), source);
        const use = isStateful(buildNet(parseSpec(example, readFileSync(join(ROOT, "examples", example), "utf8")).spec)) ? USE_STATEFUL : USE;
        writeFileSync(join(folder, "use.ts"), use.replaceAll("ARRAY", precision === "f64" ? "Float64Array" : "Float32Array"));
      }
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(STRICT));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
      const errors = tsc.status === 0 ? [] : [`${tsc.stdout}${tsc.stderr}`];
      const checked = readdirSync(dir).filter((f) => !f.includes("."));
      expect(checked).toHaveLength(examples.length);
      expect(errors.join("\n")).toBe("");
    });
  }
});
