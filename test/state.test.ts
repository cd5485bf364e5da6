/**
 * Networks with state and two modes (docs/module-api.md "Networks with state"): the module's API and its
 * checks, the state update of a training step against a hand computation, inference that never changes the
 * state, the two modes, the zero-copy arrays, and the same results from the TypeScript and WebAssembly kernels.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { Graph } from "../src/ir/graph.ts";
import type { Node } from "../src/ir/node.ts";
import type { Kernels, Precision } from "../src/pipeline.ts";
import type { StatefulNetModule } from "../src/module-api.ts";
import { isStatefulModule } from "../src/module-api.ts";
import { MOMENTUM, compileStateful, runningMeanNet } from "./helpers/stateful-nets.ts";

const BATCH = 4;
const x = Float32Array.from({ length: BATCH * 3 }, (_, i) => Math.sin(i + 1));
const y = Float32Array.from({ length: BATCH * 2 }, (_, i) => Math.cos(i));

/** z = W·x + b for every sample, in f64 from the f32 numbers. */
function affine(params: Float32Array, inputs: Float32Array, batch: number): number[][] {
  return Array.from({ length: batch }, (_, s) =>
    [0, 1].map((o) => params[6 + o]! + [0, 1, 2].reduce((acc, i) => acc + params[o * 3 + i]! * inputs[s * 3 + i]!, 0)),
  );
}

const modules = new Map<string, StatefulNetModule<Float32Array>>();
const KERNELS: readonly Kernels[] = ["js", "wasm"];

beforeAll(async () => {
  for (const kernels of KERNELS) modules.set(kernels, (await compileStateful<Float32Array>(runningMeanNet(), "f32", kernels)).module);
});

describe.each(KERNELS)("a running mean (%s kernels)", (kernels) => {
  const m = () => modules.get(kernels) as StatefulNetModule<Float32Array>;

  test("meta describes the state; initState gives its initial values", () => {
    expect(isStatefulModule(m())).toBe(true);
    expect(m().meta.stateCount).toBe(2);
    expect(m().meta.state).toEqual([{ name: "m", shape: [2], offset: 0, size: 2 }]);
    expect(Array.from(m().initState())).toEqual([0, 0]);
  });

  test("a training step moves the running mean toward the batch mean: m ← (1 − μ)·m + μ·mean(z)", () => {
    const params = m().initParams(3);
    const state = Float32Array.of(0.5, -2);
    const before = Array.from(state);
    const grads = new Float32Array(m().meta.paramCount);
    m().gradient(params, state, x, y, grads);
    const z = affine(params, x, BATCH);
    for (const o of [0, 1]) {
      const mean = z.reduce((acc, row) => acc + row[o]!, 0) / BATCH;
      expect(state[o]).toBeCloseTo((1 - MOMENTUM) * before[o]! + MOMENTUM * mean, 5);
    }
  });

  test("forward, loss, trainingForward and trainingLoss never change the state", () => {
    const params = m().initParams(2);
    const state = Float32Array.of(0.25, 0.75);
    const out = new Float32Array(BATCH * 2);
    m().forward(params, state, x, out);
    m().loss(params, state, x, y);
    m().trainingForward(params, state, x, out);
    m().trainingLoss(params, state, x, y);
    expect(Array.from(state)).toEqual([0.25, 0.75]);
  });

  test("inference subtracts the running mean, training does not", () => {
    const params = m().initParams(5);
    const state = Float32Array.of(0.5, -1);
    const inference = new Float32Array(BATCH * 2);
    const training = new Float32Array(BATCH * 2);
    m().forward(params, state, x, inference);
    m().trainingForward(params, state, x, training);
    const z = affine(params, x, BATCH);
    z.forEach((row, s) =>
      row.forEach((v, o) => {
        expect(training[s * 2 + o]).toBeCloseTo(v, 5);
        expect(inference[s * 2 + o]).toBeCloseTo(v - state[o]!, 5);
      }),
    );
    const sq = (d: number) => d * d;
    const jTrain = z.reduce((acc, row, s) => acc + sq(row[0]! - y[s * 2]!) + sq(row[1]! - y[s * 2 + 1]!), 0) / BATCH;
    const jInfer = z.reduce((acc, row, s) => acc + sq(row[0]! - state[0]! - y[s * 2]!) + sq(row[1]! - state[1]! - y[s * 2 + 1]!), 0) / BATCH;
    expect(m().trainingLoss(params, state, x, y)).toBeCloseTo(jTrain, 4);
    expect(m().loss(params, state, x, y)).toBeCloseTo(jInfer, 4);
  });

  test("gradient returns the training J; its gradient matches finite differences of trainingLoss", () => {
    const params = m().initParams(4);
    const state = m().initState();
    const grads = new Float32Array(m().meta.paramCount);
    const probe = Float32Array.from(state);
    const J = m().gradient(params, probe, x, y, grads);
    expect(J).toBeCloseTo(m().trainingLoss(params, state, x, y), 5);
    for (let i = 0; i < params.length; i++) {
      const h = 1e-2;
      const p = Float32Array.from(params);
      p[i] = params[i]! + h;
      const up = m().trainingLoss(p, state, x, y);
      p[i] = params[i]! - h;
      const down = m().trainingLoss(p, state, x, y);
      expect(grads[i]).toBeCloseTo((up - down) / (2 * h), 2);
    }
  });

  test("sgdStep and trainStep update the state as gradient does", () => {
    const params = m().initParams(6);
    const viaGradient = Float32Array.of(1, 2);
    m().gradient(params, viaGradient, x, y, new Float32Array(m().meta.paramCount));
    const viaSgd = Float32Array.of(1, 2);
    m().sgdStep(Float32Array.from(params), viaSgd, x, y, 0.1);
    const viaTrainStep = Float32Array.of(1, 2);
    m().trainStep(Float32Array.from(params), viaTrainStep, m().createOptimizer({ type: "sgd", lr: 0.1 }), x, y);
    expect(Array.from(viaSgd)).toEqual(Array.from(viaGradient));
    expect(Array.from(viaTrainStep)).toEqual(Array.from(viaGradient));
  });

  test("sgdStep's parameter update uses the gradient of the parameters before the step", () => {
    const params = m().initParams(7);
    const grads = new Float32Array(m().meta.paramCount);
    m().gradient(params, m().initState(), x, y, grads);
    const stepped = Float32Array.from(params);
    m().sgdStep(stepped, m().initState(), x, y, 0.5);
    stepped.forEach((v, i) => expect(v).toBeCloseTo(params[i]! - 0.5 * grads[i]!, 5));
  });

  test("the state is checked as the parameters are", () => {
    const params = m().initParams();
    const out = new Float32Array(BATCH * 2);
    expect(() => m().forward(params, new Float32Array(3), x, out)).toThrow(RangeError);
    expect(() => m().forward(params, new Float32Array(3), x, out)).toThrow(/state/);
    expect(() => m().loss(params, new Float64Array(2) as unknown as Float32Array, x, y)).toThrow(TypeError);
    expect(() => m().gradient(params, new Float32Array(1), x, y, new Float32Array(8))).toThrow(/state/);
  });

  test("kernelArrays carries the state; a step on them updates it in place", () => {
    // with WebAssembly kernels a call with other arrays copies them into the memory kernelArrays hands out: this one first
    const state = Float32Array.of(0.5, -2);
    m().gradient(m().initParams(3), state, x, y, new Float32Array(8));
    const a = m().kernelArrays(BATCH);
    expect(a.state.length).toBe(2);
    a.params.set(m().initParams(3));
    a.state.set([0.5, -2]);
    a.inputs.set(x);
    a.targets.set(y);
    m().sgdStep(a.params, a.state, a.inputs, a.targets, 0.01, BATCH);
    expect(Array.from(a.state)).toEqual(Array.from(state));
  });
});

test("the TypeScript and WebAssembly kernels give the same state after the same steps", () => {
  const [js, wasm] = KERNELS.map((k) => modules.get(k) as StatefulNetModule<Float32Array>);
  const states = [js, wasm].map((m) => {
    const params = m.initParams(9);
    const state = m.initState();
    const opt = m.createOptimizer({ type: "adam", lr: 0.01 });
    for (let i = 0; i < 5; i++) m.trainStep(params, state, opt, x, y);
    return Array.from(state);
  });
  states[1]!.forEach((v, i) => expect(v).toBeCloseTo(states[0]![i]!, 5));
});

test.each<Precision>(["f64"])("an %s module with state", async (precision) => {
  const { module: m, source } = await compileStateful<Float64Array>(runningMeanNet(), precision, "js");
  expect(source).toContain("export function initState(");
  const state = Float64Array.of(1, 1);
  m.gradient(m.initParams(), state, Float64Array.from(x), Float64Array.from(y), new Float64Array(8));
  expect(state[0]).not.toBe(1);
});

test("the modules of networks with state compile under the strictest settings the documentation promises", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { spawnSync } = await import("node:child_process");
  const { dropoutNet } = await import("./helpers/stateful-nets.ts");
  const dir = mkdtempSync(join(tmpdir(), "bpgen-state-"));
  for (const [net, kernels] of [[runningMeanNet(), "js"], [runningMeanNet(), "wasm"], [dropoutNet(8, 2, 0.5), "js"], [dropoutNet(8, 2, 0.5), "wasm"]] as const) {
    const { source } = await compileStateful(net, "f32", kernels);
    writeFileSync(join(dir, `${net.name}_${kernels}.ts`), source);
  }
  const compilerOptions = {
    target: "ES2022",
    module: "NodeNext",
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    noPropertyAccessFromIndexSignature: true,
    noEmit: true,
    types: [],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const tsc = spawnSync(process.execPath, [join(import.meta.dirname, "..", "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
  expect(tsc.stdout + tsc.stderr).toBe("");
}, 60_000);

/** runningMeanNet with a second state value `other` [2], and the updates `updates` builds from (m, m's update, other). */
function withOther(updates: (m: Node, update: Node, other: Node, g: Graph) => [Node, Node][]) {
  const net = runningMeanNet();
  const g = net.graph;
  const other = g.state("other", [2]);
  const [[m, update]] = [...(net.training?.updates ?? [])] as [[Node, Node]];
  return {
    ...net,
    state: [...(net.state ?? []), { name: "other", node: other, shape: [2], init: { kind: "constant", value: 0 } } as const],
    training: { ...(net.training as NonNullable<typeof net.training>), updates: new Map(updates(m, update, other, g)) },
  };
}

test("a state update that is another updated state value is refused (the updates are written one after another)", async () => {
  const net = withOther((m, update, other) => [[m, update], [other, m]]);
  await expect(compileStateful(net, "f32", "js")).rejects.toThrow(/reads another state value/);
});

test.each(["js", "wasm"] as const)("updates computed from each other's old values (%s kernels): each reads the state as it was", async (kernels) => {
  const net = withOther((m, update, other, g) => [[m, update], [other, g.add(m, other)]]);
  const { module } = await compileStateful<Float64Array>(net, "f64", kernels);
  const params = module.initParams(1);
  const state = Float64Array.of(0.5, -1, 2, 3);
  const x = Float64Array.of(1, 2, 3);
  const trained = Float64Array.from(state);
  module.gradient(params, trained, x, Float64Array.of(0, 0), new Float64Array(params.length), 1);
  // other ← m + other from the old m, whatever m became
  expect(Array.from(trained.subarray(2))).toEqual([0.5 + 2, -1 + 3]);
  expect(Array.from(trained.subarray(0, 2))).not.toEqual([0.5, -1]);
});

test("a module with state, formatted, becomes JavaScript and declarations that declare its state API", async () => {
  const { compileNet } = await import("../src/pipeline.ts");
  const { emitTargets } = await import("../src/emit/targets.ts");
  const { source } = await compileNet(runningMeanNet(), { precision: "f32", sourceFile: "running_mean.json", kernels: "js" });
  const files = await emitTargets("running_mean", source, "js");
  // without the formatter's line breaks and trailing commas
  const dts = (files.find((f) => f.kind === "dts")?.text ?? "").replace(/\s+/g, "").replace(/,\)/g, ")");
  expect(files.map((f) => f.kind)).toEqual(["js", "dts"]);
  expect(dts).toContain("exportdeclarefunctioninitState(_seed?:number):Float32Array;");
  expect(dts).toContain("exportdeclarefunctiontrainingLoss(params:Float32Array,state:Float32Array,inputs:Float32Array,targets:Float32Array,batch?:number):number;");
  expect(dts).toContain("exportdeclarefunctiontrainStep(params:Float32Array,state:Float32Array,optimizer:OptimizerState,");
  expect(dts).toContain("stateCount:number;");
}, 60_000);
