/**
 * Kernels on several threads (`--threads`). The pass that shares each function among threads
 * (src/lower/passes/threads.ts) is held to the function it rewrote on the examples, run by the kernel-IR interpreter
 * (one thread: every share is the first thread's), and checked for what makes several threads safe: inside a loop
 * split by the samples nothing is written that another sample's thread writes or reads. Generated modules then run in
 * Node on one and two threads: the same bits, whatever the number, as close to the module built without threads as
 * rounding allows; a module falls back to one thread, and a process that never stops its pool still exits. The same
 * module in Chromium is test/threads-module-browser.test.ts; the pool runtime itself is test/threads-runtime.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadModule, toJavaScript } from "./helpers/load-module.ts";
import type { Buffer, KernelFunction, Stmt } from "../src/lower/kernel.ts";
import { shareAcrossThreads } from "../src/lower/passes/threads.ts";
import { visitStmts } from "../src/lower/walk.ts";
import { compile } from "../src/pipeline.ts";
import { type FloatArray, type Precision, arrayType, interpret } from "../src/render/interp/interpret.ts";
import type { LayerNetSpec, LayerSpec } from "../src/spec/types.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { threadRaces } from "./helpers/thread-races.ts";
import { exampleText } from "./helpers/project.ts";

/** Examples covering each kind of work the pass splits: dense layers, convolutions, batch norm, recurrences, equations. */
const EXAMPLES = ["mnist_mlp", "mnist_cnn_bn", "deep_sigmoid10_bn", "adding_lstm", "adding_rnn", "chain3", "xor_sigmoid"];

/**
 * The networks held to the race detector: recurrences (forward steps without barriers), batch norm, dense layers;
 * and an LSTM whose steps' values, of rows of different sizes, would share bytes with another thread's if they did
 * not live through the loop (passes/reuse.ts).
 */
const RACE_NETS = ["adding_lstm", "adding_rnn", "deep_sigmoid10_bn", "chain3", "xor_sigmoid", "lstm_32"];
const LSTM_32 = { name: "lstm_32", input: [4, 6], layers: [{ type: "lstm", units: 32 }, { type: "dense", units: 3 }], loss: "mse" };

/** Each example lowered once for the tests below (the lowering, not the pass, is most of their time). */
const lowered = new Map<string, InterpretedNet>();
function example(name: string): InterpretedNet {
  let net = lowered.get(name);
  if (!net) lowered.set(name, (net = new InterpretedNet(exampleText(name))));
  return net;
}

/** Deterministic values in [−1, 1) (a fixed linear congruential sequence). */
function values(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

describe("sharing a function among threads (the kernel IR)", () => {
  it.each(EXAMPLES)("computes what the function computed, every function of %s (f64)", (name) => {
    const net = example(name);
    const { layout } = net.materialized;
    const batch = 5;
    const params = Float64Array.from(values(layout.paramCount, 1), (v) => 0.4 * v);
    const inputs = Float64Array.from(values(batch * layout.inputSize, 2));
    const targets = Float64Array.from(values(batch * layout.targetSize, 3), (v) => (v > 0 ? 1 : 0));
    const run = (fn: KernelFunction) => {
      const arrays = { params, inputs, targets, grads: new Float64Array(layout.paramCount), out: new Float64Array(batch * layout.outputSize), state: new Float64Array(layout.stateCount ?? 0).fill(0.5) };
      const J = interpret(fn, arrays, { batch, precision: "f64" });
      return { J, grads: arrays.grads, out: arrays.out, state: arrays.state };
    };
    for (const [fname, fn] of Object.entries(net.lowered("wasm").functions)) {
      // stateGradientNorms runs the TypeScript kernel, never the WebAssembly one
      if (!fn || fname === "stateGradientNorms") continue;
      const shared = shareAcrossThreads(fn);
      expect(shared.body.some((s) => s.k === "barrier" || (s.k === "loop" && s.shared)), `${fname} is shared`).toBe(true);
      const [before, after] = [run(fn), run(shared)];
      const close = (a: Float64Array, b: Float64Array) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= 1e-12 * (1 + Math.abs(v)));
      if (before.J === undefined) expect(after.J, fname).toBeUndefined();
      else expect(Math.abs((after.J as number) - before.J), fname).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(before.J)));
      expect(close(before.grads, after.grads), `${fname}: grads`).toBe(true);
      expect(close(before.out, after.out), `${fname}: out`).toBe(true);
      expect(close(before.state, after.state), `${fname}: state`).toBe(true);
    }
  });

  it.each(EXAMPLES)("leaves no write to memory another sample's thread touches inside a loop split by the samples (%s)", (name) => {
    const net = example(name);
    for (const fn of Object.values(net.lowered("wasm").functions)) {
      if (!fn || fn.name === "stateGradientNorms") continue;
      const shared = shareAcrossThreads(fn);
      const perThread = shared.perThread ?? new Set<Buffer>();
      visitStmts(shared.body, (s) => {
        if (s.k !== "loop" || !s.shared || s.v.extent !== "batch") return;
        const declared = new Set<unknown>();
        visitStmts(s.body, (st) => {
          if (st.k === "let") declared.add(st.local);
          // a sample's own row (its index moves with the sample), or this thread's own scratch
          const own = (buf: Buffer, index: { terms: readonly { v: unknown }[] }) => (buf.perSample && index.terms.some((t) => t.v === s.v)) || perThread.has(buf);
          if (st.k === "store" || st.k === "fill") expect(own(st.buf, st.index), `${fn.name}: ${st.k} into ${st.buf.role}`).toBe(true);
          if (st.k === "contract") expect(own(st.c.out.buf, st.c.out.index), `${fn.name}: a product into ${st.c.out.buf.role}`).toBe(true);
          if (st.k === "update") expect(declared.has(st.local), `${fn.name}: an update of ${st.local.hint} declared outside the loop`).toBe(true);
          if (st.k === "barrier" || st.k === "single") throw new Error(`${fn.name}: a ${st.k} inside a thread's share`);
        });
      });
      // barriers stand where every thread runs: never in a share or in the first thread's block
      const inside = (body: readonly Stmt[]) => visitStmts(body, (st) => expect(st.k, fn.name).not.toBe("barrier"));
      visitStmts(shared.body, (s) => {
        if ((s.k === "loop" && s.shared) || s.k === "single") inside(s.body);
      });
    }
  });

  // 3 threads on 5 samples: shares of 1, 2 and 2 samples, and element chunks split unevenly
  it.each(RACE_NETS)("runs %s on 3 threads without a race: between two barriers, no thread writes memory another touches", (name) => {
    const net = name === LSTM_32.name ? new InterpretedNet(JSON.stringify(LSTM_32)) : example(name);
    for (const fn of Object.values(net.lowered("wasm").functions)) {
      if (!fn || fn.name === "stateGradientNorms") continue;
      const { races, barriers } = threadRaces(shareAcrossThreads(fn), 3, 5);
      expect(new Set(barriers).size, `${fn.name}: barriers passed by each thread`).toBe(1);
      expect(races.slice(0, 3), fn.name).toEqual([]);
    }
  });

  it("runs a recurrence's forward steps and its reverse sweep on without barriers, the weights' gradients after the sweep", () => {
    const fn = (name: "forward" | "gradient") => shareAcrossThreads(example("adding_lstm").lowered("wasm").functions[name]);
    const stepLoops = (body: readonly Stmt[]) => body.flatMap((s) => (s.k === "loop" && s.kind === "time" ? [s] : []));
    const barriersIn = (body: readonly Stmt[]) => body.filter((s) => s.k === "barrier").length;
    const [forwardSteps] = stepLoops(fn("forward").body);
    expect(barriersIn(forwardSteps?.body ?? [])).toBe(0);
    const gradient = fn("gradient");
    const [, reverse] = stepLoops(gradient.body);
    expect(reverse?.reverse).toBe(true);
    // each thread keeps its samples' deltas from step to step; the weight gradients, which read every sample's, are
    // one product over the stacked steps after the sweep, behind one barrier
    expect(barriersIn(reverse?.body ?? [])).toBe(0);
    const afterSweep = gradient.body.slice(gradient.body.indexOf(reverse as Stmt) + 1);
    const firstProduct = afterSweep.findIndex((s) => s.k === "contract" && s.c.steps !== undefined);
    expect(firstProduct).toBeGreaterThan(0);
    expect(afterSweep.slice(0, firstProduct).some((s) => s.k === "barrier")).toBe(true);
  });

  it("ends a step at a barrier where the next step overwrites what this one's weight gradient reads from every sample", () => {
    // for t: each sample's delta row d = x_t (split by the samples); then grads += Σ_s d ⊗ x_t (split by its rows)
    const [t, s, i, j] = [{ name: "t", extent: 4 }, { name: "s", extent: "batch" as const }, { name: "i", extent: 4 }, { name: "j", extent: 4 }];
    const inputs: Buffer = { role: "inputs", size: 16, perSample: true };
    const delta: Buffer = { role: "work", size: 4, perSample: true, hint: "delta" };
    const grads: Buffer = { role: "grads", size: 16, perSample: false };
    const x = (v: typeof i) => ({ c: 0, terms: [{ v: s, k: 16 }, { v: t, k: 4 }, { v, k: 1 }] });
    const d = (v: typeof i) => ({ c: 0, terms: [{ v: s, k: 4 }, { v, k: 1 }] });
    const rows: Stmt = { k: "loop", v: s, kind: "samples", body: [{ k: "loop", v: i, kind: "elements", body: [{ k: "store", buf: delta, index: d(i), value: { k: "load", buf: inputs, index: x(i) }, mode: "=" }] }] };
    const outer: Stmt = {
      k: "contract",
      c: { pattern: "weightGradient", out: { buf: grads, index: { c: 0, terms: [{ v: i, k: 4 }, { v: j, k: 1 }] } }, a: { buf: delta, index: d(i) }, b: { buf: inputs, index: x(j) }, outVars: [i, j], reduce: s, mode: "+=" },
    };
    const fn: KernelFunction = { name: "sweep", body: [{ k: "fill", buf: grads, index: { c: 0, terms: [] }, count: 16, value: 0 }, { k: "loop", v: t, kind: "time", body: [rows, outer] }] };
    const shared = shareAcrossThreads(fn);
    const steps = shared.body.find((st) => st.k === "loop" && st.kind === "time");
    if (steps?.k !== "loop") throw new Error("no loop over the steps");
    expect(steps.body.map((st) => st.k)).toEqual(["loop", "barrier", "contract", "barrier"]);
    expect(threadRaces(shared, 2, 5).races).toEqual([]);
    // without the step's last barrier, the detector finds the race: a thread a step ahead overwrites its samples' rows
    const open = { ...shared, body: shared.body.map((st) => (st === steps ? { ...steps, body: steps.body.slice(0, -1) } : st)) };
    expect(threadRaces(open, 2, 5).races.length).toBeGreaterThan(0);
  });

  it("splits mnist_mlp's gradient: its sample loops and products by the samples, its weight gradients by their rows", () => {
    const fn = shareAcrossThreads(example("mnist_mlp").lowered("wasm").functions.gradient);
    const top = fn.body;
    const products = top.flatMap((s) => (s.k === "contract" ? [s.c] : []));
    expect(products.map((c) => [c.pattern, c.shared])).toEqual([
      ["forward", "samples"],
      ["forward", "samples"],
      ["weightGradient", "outputs"],
      ["transposed", "samples"],
      ["weightGradient", "outputs"],
    ]);
    expect(top.filter((s) => s.k === "loop" && s.kind === "samples" && s.shared).length).toBe(3);
    // the bias gradients come out of per-sample rows, taken in sample order and split by their elements
    const takesRows = (s: Stmt) => s.k === "loop" && s.shared === true && s.body.some((b) => b.k === "note" && b.note.lhs === "partial sums");
    expect(top.filter(takesRows).length).toBe(2);
    // over W1's 100 352 elements, in chunks of 256 the renderer runs in lanes: the regularizer's Σ W1² (each chunk's sum
    // stored, then taken in order) and d_W1 = λ·W1 + the mean
    const chunked = top.flatMap((s) => (s.k === "loop" && s.shared === true && s.v.extent === 392 ? [s.body.map((b) => (b.k === "loop" ? `${b.kind} ${b.v.extent}` : b.k))] : []));
    expect(chunked).toEqual([["let", "structure 256", "store"], ["elements 256"]]);
  });

  it("splits the forward product of a layer of 256 Ki weights or more by its outputs, with a barrier before the samples read them", () => {
    const wide = { name: "wide", input: 512, layers: [{ type: "dense", units: 512, activation: "relu" }, { type: "dense", units: 10 }], loss: "mse" };
    const body = shareAcrossThreads(new InterpretedNet(JSON.stringify(wide)).lowered("wasm").functions.forward).body.filter((s) => s.k !== "note");
    const products = body.flatMap((s) => (s.k === "contract" ? [s.c.shared] : []));
    expect(products).toEqual(["outputs", "samples"]);
    const first = body.findIndex((s) => s.k === "contract");
    expect(body[first + 1]?.k).toBe("barrier");
  });

  it("leaves a function it cannot share to the first thread", () => {
    const grads: Buffer = { role: "grads", size: 4, perSample: false };
    const s = { name: "s", extent: "batch" as const };
    // a plain store (not a sum) of every sample into the same element: the last sample's value, which threads would race for
    const fn: KernelFunction = { name: "odd", body: [{ k: "loop", v: s, kind: "samples", body: [{ k: "store", buf: grads, index: { c: 0, terms: [] }, value: { k: "num", value: 1 }, mode: "=" }] }] };
    expect(shareAcrossThreads(fn).body).toEqual([{ k: "single", body: fn.body }]);
  });
});

/**
 * A network with enough work per sample that a batch of 64 runs on two threads (the glue's JOB_WORK /
 * WORK_PER_THREAD): an LSTM (whose forward steps run on without a barrier between them, each thread on its own
 * samples, and whose reverse sweep has barriers in every step), then dense layers with a batch norm.
 */
const NET: LayerNetSpec<LayerSpec> = {
  name: "threads_net",
  input: [6, 8],
  layers: [
    { type: "lstm", units: 48 },
    { type: "dense", units: 96, activation: "relu" },
    { type: "batchnorm" },
    { type: "dense", units: 64, activation: "tanh" },
    { type: "dense", units: 10 },
  ],
  loss: "softmax_cross_entropy",
};

interface ThreadedModule<T extends FloatArray> {
  meta: { paramCount: number; inputSize: number; targetSize: number; outputSize: number; stateCount?: number };
  initParams(seed?: number): T;
  initState?(): T;
  gradient(...args: unknown[]): number;
  forward(...args: unknown[]): void;
  sgdStep(...args: unknown[]): number;
  startThreads(threads?: number): Promise<number>;
  stopThreads(): Promise<void>;
}

async function threadedModule<T extends FloatArray>(precision: Precision, threads: boolean): Promise<{ source: string; module: ThreadedModule<T> }> {
  const { source } = await compile(NET, { precision, threads, kernels: "wasm", format: false });
  return { source, module: loadModule(source) as unknown as ThreadedModule<T> };
}

describe("a module with --threads, in Node", () => {
  const batch = 64;
  const loaded: ThreadedModule<FloatArray>[] = [];
  afterAll(async () => {
    for (const m of loaded) await m.stopThreads();
  });

  it.each(["f32", "f64"] as const)("computes the same bits on one and two threads, and what the module without threads computes (%s)", async (precision) => {
    const [{ source, module: t }, { module: plain }] = await Promise.all([threadedModule(precision, true), threadedModule(precision, false)]);
    loaded.push(t);
    expect(source).toMatch(/export async function startThreads\(/);
    const Array_ = arrayType(precision);
    const params = t.initParams(7);
    const inputs = Array_.from(values(batch * t.meta.inputSize, 11));
    const targets = Array_.from(Array.from({ length: batch * t.meta.targetSize }, (_, i) => (i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0)));
    const stateCount = t.meta.stateCount ?? 0;
    const step = (m: ThreadedModule<FloatArray>) => {
      const state = new Array_(stateCount).fill(1);
      const grads = new Array_(params.length);
      const J = m.gradient(params, state, inputs, targets, grads, batch);
      const out = new Array_(batch * t.meta.outputSize);
      m.forward(params, state, inputs, out, batch);
      const stepped = params.slice();
      const before = m.sgdStep(stepped, state, inputs, targets, 0.1, batch);
      return { J, grads, out, state, stepped, before };
    };
    const one = step(t);
    expect(await t.startThreads(2)).toBe(2);
    const two = step(t);
    const bits = (a: FloatArray, b: FloatArray) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
    // a race shows in some calls only: many calls, each with the one thread's bits
    let differing = 0;
    for (let round = 0; round < 200; round++) {
      const again = step(t);
      if (again.J !== one.J || !bits(again.grads, one.grads) || !bits(again.out, one.out)) differing++;
    }
    expect(differing, "calls on two threads whose bits differ from one thread's").toBe(0);
    expect(two.J).toBe(one.J);
    expect(two.before).toBe(one.before);
    for (const key of ["grads", "out", "state", "stepped"] as const) {
      const first = one[key].findIndex((v, i) => !Object.is(v, two[key][i]));
      expect(first, `${key}: ${one[key][first]} on one thread, ${two[key][first]} on two`).toBe(-1);
    }
    // the sums over the samples change order only where a thread's part is rounded to the array's type first (in f32,
    // through the LSTM's steps too)
    const reference = step(plain);
    const tolerance = precision === "f64" ? 1e-12 : 1e-4;
    const scale = Math.max(...Array.from(reference.grads, Math.abs));
    expect(Math.abs(one.J - reference.J)).toBeLessThanOrEqual(tolerance * Math.abs(reference.J));
    for (let i = 0; i < params.length; i++) expect(Math.abs((one.grads[i] as number) - (reference.grads[i] as number))).toBeLessThanOrEqual(tolerance * scale);
    await t.stopThreads();
    expect(bits(step(t).grads, one.grads)).toBe(true);
  });

  it("splits a large network's parameter update among the threads, with the same bits", async () => {
    // 400 × 400 + 400 × 10 weights: an update worth two threads by the glue's rule (three operations a parameter)
    const spec: LayerNetSpec<LayerSpec> = { name: "threads_update", input: 400, layers: [{ type: "dense", units: 400, activation: "relu" }, { type: "dense", units: 10 }], loss: "softmax_cross_entropy" };
    const { source } = await compile(spec, { threads: true, format: false });
    expect(source).toMatch(/const KERNEL_JOBS = \[.*"sgdUpdate"\]/);
    const t = loadModule(source) as unknown as ThreadedModule<Float32Array>;
    loaded.push(t as unknown as ThreadedModule<FloatArray>);
    const batch = 8;
    const inputs = Float32Array.from(values(batch * t.meta.inputSize, 5));
    const targets = Float32Array.from({ length: batch * t.meta.targetSize }, (_, i) => (i % 10 === 4 ? 1 : 0));
    const step = () => {
      const params = t.initParams(3);
      const J = t.sgdStep(params, inputs, targets, 0.5, batch);
      return { J, params };
    };
    const one = step();
    expect(await t.startThreads(2)).toBe(2);
    for (let round = 0; round < 20; round++) {
      const two = step();
      expect(two.J).toBe(one.J);
      const first = two.params.findIndex((v, i) => !Object.is(v, one.params[i]));
      expect(first, `params[${first}]: ${one.params[first]} on one thread, ${two.params[first]} on two`).toBe(-1);
    }
    await t.stopThreads();
  });

  it("runs on one thread where the kernels import a function of the module's own, which a worker lacks", async () => {
    const spec: LayerNetSpec<LayerSpec> = { name: "threads_erfc", input: 8, layers: [{ type: "dense", units: 8, activation: "erfc" }, { type: "dense", units: 2 }], loss: "mse" };
    const { source } = await compile(spec, { threads: true, format: false });
    expect(source).toMatch(/const WORKERS_CAN_IMPORT: boolean = false;/);
    const t = loadModule(source) as unknown as ThreadedModule<Float32Array>;
    expect(await t.startThreads(2)).toBe(1);
    const params = t.initParams(1);
    const J = t.gradient(params, new Float32Array(8).fill(0.5), new Float32Array(2).fill(1), new Float32Array(params.length), 1);
    expect(Number.isFinite(J)).toBe(true);
  });

  it("runs on the calling thread where asked for one, and starts a pool again after stopping one", async () => {
    const { module: t } = await threadedModule("f32", true);
    loaded.push(t);
    expect(await t.startThreads(1)).toBe(1);
    expect(await t.startThreads(2)).toBe(2);
    await t.stopThreads();
    await t.stopThreads();
    expect(await t.startThreads(2)).toBe(2);
    await expect(t.startThreads(0)).rejects.toThrow(/positive integer/);
  });

  it("lets a process that started a pool and never stopped it exit", async () => {
    const { source } = await threadedModule("f32", true);
    const dir = mkdtempSync(join(tmpdir(), "bpgen-threads-"));
    try {
      writeFileSync(join(dir, "net.mjs"), toJavaScript(source, "esm"));
      writeFileSync(
        join(dir, "main.mjs"),
        `import * as net from "./net.mjs";
const threads = await net.startThreads(2);
const p = net.initParams(1);
const x = new Float32Array(${batch} * net.meta.inputSize).fill(0.5);
const y = new Float32Array(${batch} * net.meta.targetSize).fill(0.1);
const J = net.gradient(p, new Float32Array(net.meta.stateCount).fill(1), x, y, new Float32Array(p.length), ${batch});
console.log(JSON.stringify({ threads, finite: Number.isFinite(J) }));
`,
      );
      const printed = execFileSync(process.execPath, [join(dir, "main.mjs")], { encoding: "utf8", timeout: 30_000 });
      expect(JSON.parse(printed)).toEqual({ threads: 2, finite: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
