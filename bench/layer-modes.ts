/**
 * What batch normalization and dropout cost: the convolutional digits net's training step (sgdStep) and forward
 * pass at batch 32, f32, default kernels, for
 *   - examples/mnist_cnn.json, the equation-form CNN (the net before the layer types),
 *   - examples/mnist_cnn_bn.json, the layer-form CNN with batchnorm and dropout (training mode for sgdStep:
 *     batch statistics and the running statistics' update; inference mode for forward),
 *   - the same layer-form CNN with its batchnorm and dropout layers taken out.
 * Each variant's calls are timed in rounds taken in turn, so that the machine's load falls on all of them alike;
 * the table gives the median per call and the ratio to the equation-form CNN.
 *
 *   npx tsx bench/layer-modes.ts [--rounds 15]
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type AnyNetModule, isStatefulModule } from "../src/module-api.ts";
import { compile } from "../src/pipeline.ts";
import type { LayerNetSpec, LayerSpec, NetSpec } from "../src/spec/types.ts";
import { ROOT } from "./nets.ts";

const BATCH = 32;
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf("--rounds") + 1] || 15);

/** A net in either form, its layers of any type. */
type AnySpec = NetSpec | LayerNetSpec<LayerSpec>;

interface Variant {
  readonly label: string;
  readonly spec: AnySpec;
}

const example = (name: string) => JSON.parse(readFileSync(join(ROOT, "examples", `${name}.json`), "utf8")) as AnySpec;

const MODE_LAYERS: ReadonlySet<string> = new Set(["batchnorm", "dropout"]);

/** The layers without batchnorm and dropout, inside residual blocks too. */
function withoutModes(layers: readonly LayerSpec[]): LayerSpec[] {
  return layers
    .filter((l) => !MODE_LAYERS.has(l.type))
    .map((l) => (l.type === "residual" ? { ...l, layers: withoutModes(l.layers) } : l));
}

function variants(): Variant[] {
  const bn = example("mnist_cnn_bn");
  if (!("layers" in bn)) throw new Error("examples/mnist_cnn_bn.json is expected in the layer form");
  return [
    { label: "mnist_cnn (equations)", spec: example("mnist_cnn") },
    { label: "mnist_cnn_bn (layers, batchnorm + dropout)", spec: bn },
    { label: "mnist_cnn_bn without batchnorm and dropout", spec: { ...bn, name: "mnist_cnn_plain", layers: withoutModes(bn.layers) } },
  ];
}

async function load(spec: AnySpec, dir: string): Promise<AnyNetModule<Float32Array>> {
  const { files } = await compile(spec, { target: "js", format: false });
  const js = files.find((f) => f.fileName.endsWith(".js"));
  if (!js) throw new Error("internal: no JavaScript file");
  const file = join(dir, `${spec.name}.mjs`);
  writeFileSync(file, js.text);
  return (await import(pathToFileURL(file).href)) as AnyNetModule<Float32Array>;
}

/** The training step and the forward pass of a module, on fixed random data. */
function calls(m: AnyNetModule<Float32Array>): { train: () => void; forward: () => void } {
  const meta = m.meta as { inputSize: number; outputSize: number; targetSize: number; stateCount?: number };
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const x = Float32Array.from({ length: BATCH * meta.inputSize }, random);
  const y = new Float32Array(BATCH * meta.targetSize);
  for (let s = 0; s < BATCH; s++) y[s * meta.targetSize + (s % meta.targetSize)] = 1;
  const out = new Float32Array(BATCH * meta.outputSize);
  const params = m.initParams(1);
  const lr = 1e-4;
  if (isStatefulModule(m)) {
    const state = m.initState(1);
    return { train: () => void m.sgdStep(params, state, x, y, lr, BATCH), forward: () => m.forward(params, state, x, out, BATCH) };
  }
  return { train: () => void m.sgdStep(params, x, y, lr, BATCH), forward: () => m.forward(params, x, out, BATCH) };
}

function timeRound(fn: () => void, reps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bpgen-layer-modes-"));
  const runs = await Promise.all(variants().map(async (v) => ({ ...v, ...calls(await load(v.spec, dir)), train_ms: [] as number[], forward_ms: [] as number[] })));
  // warm-up: V8 optimises the kernels before anything is timed
  for (const r of runs) for (let i = 0; i < 20; i++) (r.train(), r.forward());
  for (let k = 0; k < rounds; k++) {
    for (const r of runs) {
      r.train_ms.push(timeRound(r.train, 5));
      r.forward_ms.push(timeRound(r.forward, 10));
    }
  }
  const [base] = runs;
  const [baseTrain, baseForward] = [median(base.train_ms), median(base.forward_ms)];
  console.log(`| batch ${BATCH}, f32 (median of ${rounds} rounds) | training step | ratio | forward | ratio |`);
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const r of runs) {
    const [t, f] = [median(r.train_ms), median(r.forward_ms)];
    console.log(`| ${r.label} | ${t.toFixed(2)} ms | ${(t / baseTrain).toFixed(2)}× | ${f.toFixed(2)} ms | ${(f / baseForward).toFixed(2)}× |`);
  }
}

await main();
