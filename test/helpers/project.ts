/** Temporary projects for the build and packaging tests, and a plain-Node script that trains XOR. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT, tempDir } from "./cli.ts";

export const example = (name: string) => join(ROOT, "examples", `${name}.json`);
export const exampleText = (name: string) => readFileSync(example(name), "utf8");

/** A folder with a package.json (the project root) and the given files (paths relative to it). */
export function tempProject(files: Record<string, string> = {}, packageJson: object = { name: "demo", private: true, type: "module" }): string {
  const dir = tempDir();
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * An ES module that imports `module` (a generated xor_sigmoid module), trains it with Adam and prints
 * `{ name, before, after, correct }` as JSON; in a worker it posts that object to the parent instead.
 */
export function xorTrainer(module: string): string {
  return `import { parentPort } from "node:worker_threads";
import { meta, initParams, createOptimizer, trainStep, forward, loss } from ${JSON.stringify(module)};
const X = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
const Y = Float32Array.of(0, 1, 1, 0);
const p = initParams(7);
const opt = createOptimizer({ type: "adam", lr: 0.05 });
const before = loss(p, X, Y, 4);
for (let i = 0; i < 1000; i++) trainStep(p, opt, X, Y, 4);
const out = new Float32Array(4);
forward(p, X, out, 4);
const correct = Array.from(out).filter((o, s) => (o > 0.5 ? 1 : 0) === Y[s]).length;
const result = { name: meta.name, before, after: loss(p, X, Y, 4), correct };
if (parentPort) parentPort.postMessage(result);
else console.log(JSON.stringify(result));
`;
}

export interface XorResult {
  name: string;
  before: number;
  after: number;
  correct: number;
}

/** The last line of a trainer's output, parsed. */
export function xorResult(stdout: string): XorResult {
  const line = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as XorResult;
}
