/**
 * How compile time grows with the network: compiles the LSTM written out over 4 … 64 steps
 * (bench/lstm-unrolled.ts) and the examples, and prints DAG nodes → seconds, for the whole compile() and stage by
 * stage (front end, autodiff, planning and lowering, each kernel IR pass, the WebAssembly build, emitting
 * with prettier's share).
 *
 *   npx tsx bench/compile-time.ts [--steps 4,8,16,32,64] [--no-examples] [--no-stages]
 *
 * compile() is timed by the wall clock and by this process's CPU time (the steadier of the two on a shared machine).
 * The stages (CPU time) are timed on a second compile of the same network, run piece by piece as compileNet does; the
 * passes are timed by wrapping each entry of PASSES for the length of that run.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import prettier from "prettier";
import { reverse } from "../src/autodiff/reverse.ts";
import { argumentChecks } from "../src/emit/entry-points.ts";
import { emitModule, moduleShape } from "../src/emit/module.ts";
import { type LoweredModule, lowerModule } from "../src/lower/functions.ts";
import { PASSES, type Pass, buildNet, compile, moduleNames, runPasses } from "../src/pipeline.ts";
import type { Backend } from "../src/render/backend.ts";
import { BACKENDS } from "../src/render/backends.ts";
import { kernelChain } from "../src/render/policy.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { VERSION } from "../src/version.ts";
import { lstmUnrolled } from "./lstm-unrolled.ts";
import { ROOT } from "./nets.ts";

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const steps = (option("--steps") ?? "4,8,16,32,64").split(",").map(Number);
const withExamples = !args.includes("--no-examples");
const withStages = !args.includes("--no-stages");

/** Milliseconds of CPU time per stage. */
type Times = Map<string, number>;

/**
 * CPU time of this process in milliseconds: on a shared machine it moves far less with the load than the wall
 * clock (which counts the time other processes run), so the stages are timed with it.
 */
function cpuMillis(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function timed<T>(times: Times, stage: string, f: () => T): T {
  const t0 = cpuMillis();
  try {
    return f();
  } finally {
    times.set(stage, (times.get(stage) ?? 0) + cpuMillis() - t0);
  }
}

async function timedAsync<T>(times: Times, stage: string, f: () => Promise<T>): Promise<T> {
  const t0 = cpuMillis();
  try {
    return await f();
  } finally {
    times.set(stage, (times.get(stage) ?? 0) + cpuMillis() - t0);
  }
}

/** Runs `f` with every pass of PASSES timed into `times` (under "pass <name>"). */
function withTimedPasses<T>(times: Times, f: () => T): T {
  const passes = PASSES as Pass[];
  const original = passes.map((p) => p.run);
  passes.forEach((p, i) => ((p as { run: Pass["run"] }).run = (body, ctx) => timed(times, `pass ${p.name}`, () => original[i](body, ctx))));
  try {
    return f();
  } finally {
    passes.forEach((p, i) => ((p as { run: Pass["run"] }).run = original[i]));
  }
}

/** The stages of compileNet, one after another, timed (the module is the same as compile()'s with kernels "auto"). */
async function stages(spec: NetSpec): Promise<Times> {
  const times: Times = new Map();
  const net = timed(times, "frontend", () => buildNet(spec));
  const grads = timed(times, "autodiff", () => reverse(net.graph, net.objective, net.params.map((p) => p.node)));
  const materialized = timed(times, "plan+lower", () => lowerModule(net, grads));
  const chain = kernelChain("auto", materialized);
  const passed = chain.map((name) => withTimedPasses(times, () => timed(times, `${name} passes`, () => runPasses(materialized, BACKENDS[name]))));
  const names = timed(times, "names", () => moduleNames(net, passed));
  const shape = moduleShape(materialized.layout, "f32");
  const parts = chain.map((name, i) =>
    timed(times, `${name} render`, () => {
      const backend: Backend = BACKENDS[name];
      if (!backend.module) throw new Error(`${name} ships nothing`);
      return backend.module({ lowered: passed[i] as LoweredModule, names, shape, relaxedSimd: false, threads: false, fallback: i > 0, checks: (fn) => argumentChecks(shape, fn) });
    }),
  );
  const options = { precision: "f32" as const, sourceFile: `${spec.name}.json`, version: VERSION };
  const source = await timedAsync(times, "emit (all)", () => emitModule(net, materialized.layout, names, parts, options));
  // prettier once more on its own output: about what it took inside emit
  await timedAsync(times, "prettier (share)", () => prettier.format(source, { parser: "babel-ts" }));
  times.set("nodes", net.graph.size);
  return times;
}

interface Row {
  readonly name: string;
  readonly nodes: number;
  /** compile(), wall clock and CPU time. */
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly stages?: Times;
}

async function measure(spec: NetSpec): Promise<Row> {
  const t0 = performance.now();
  const c0 = cpuMillis();
  const result = await compile(spec, { sourceFile: `${spec.name}.json` });
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpuMillis() - c0) / 1000;
  const row: Row = { name: spec.name, nodes: result.stats.nodes, seconds, cpuSeconds, ...(withStages ? { stages: await stages(spec) } : {}) };
  print(row);
  return row;
}

const STAGE_ORDER = [
  "frontend",
  "autodiff",
  "plan+lower",
  ...PASSES.map((p) => `pass ${p.name}`),
  ...Object.keys(BACKENDS).map((name) => `${name} passes`),
  "names",
  ...Object.keys(BACKENDS).map((name) => `${name} render`),
  "emit (all)",
  "prettier (share)",
];

function print(row: Row): void {
  const head = `${row.name.padEnd(20)} ${String(row.nodes).padStart(6)} nodes  ${row.seconds.toFixed(2).padStart(6)} s  (CPU ${row.cpuSeconds.toFixed(2).padStart(6)} s)`;
  if (!row.stages) {
    console.log(head);
    return;
  }
  const parts = STAGE_ORDER.filter((s) => row.stages?.has(s)).map((s) => `${s} ${((row.stages?.get(s) ?? 0) / 1000).toFixed(2)}`);
  console.log(`${head}   [${parts.join(", ")}]`);
}

function examples(): NetSpec[] {
  const dir = join(ROOT, "examples");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as NetSpec);
}

// one small compile first, so that the curve does not include loading and warming up the compiler
await compile(lstmUnrolled(2));
console.log("LSTM written out over T steps (bench/lstm-unrolled.ts). compile(): wall clock and CPU seconds; [stages]: CPU seconds,");
console.log("each pass summed over the TypeScript and WebAssembly builds, wasm render and prettier inside emit");
for (const t of steps) await measure(lstmUnrolled(t));
if (withExamples) {
  console.log("examples/");
  for (const spec of examples()) await measure(spec);
}
