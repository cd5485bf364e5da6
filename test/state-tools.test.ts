/**
 * bpgen's tools on networks with state: the gradient checker in training mode (a fixed state, so one dropout
 * mask and one batch), parameter files that carry the state, and the training loop that updates and keeps it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { gradcheck } from "../src/check/gradcheck.ts";
import { BpgenError } from "../src/errors.ts";
import type { StatefulNetModule } from "../src/module-api.ts";
import { train } from "../src/train/loop.ts";
import { encodeParams, loadParams } from "../src/train/params.ts";
import { compileStateful, dropoutNet, runningMeanNet } from "./helpers/stateful-nets.ts";

describe("gradcheck in training mode", () => {
  test.each([
    ["a running mean", runningMeanNet()],
    ["dropout", dropoutNet(6, 2, 0.5)],
  ])("%s: gradient against finite differences of trainingLoss, f32 against f64", async (_, net) => {
    const m64 = (await compileStateful<Float64Array>(net, "f64", "js")).module;
    const m32 = (await compileStateful<Float32Array>(net, "f32", "js")).module;
    const report = gradcheck(m64, m32, { seed: 2, batch: 4 });
    expect(report.rows.map((r) => [r.param, r.ok])).toEqual(m64.meta.params.map((p) => [p.name, true]));
    expect(Number.isFinite(report.loss)).toBe(true);
  });

  test("a wrong gradient fails: the check compares with the training mode, not inference", async () => {
    const m64 = (await compileStateful<Float64Array>(dropoutNet(6, 2, 0.5), "f64", "js")).module;
    // differences of the inference loss instead of the training loss: the gradient no longer matches
    const inference: StatefulNetModule<Float64Array> = { ...m64, trainingLoss: (p, s, x, y, b) => m64.loss(p, s, x, y, b) };
    expect(gradcheck(inference, undefined, { seed: 2, batch: 4 }).ok).toBe(false);
  });
});

describe("parameter files with state", () => {
  const dir = mkdtempSync(join(tmpdir(), "bpgen-state-params-"));

  test.each(["params.json", "params.bin"])("%s round-trips the parameters and the state", async (name) => {
    const m = (await compileStateful<Float32Array>(runningMeanNet(), "f32", "js")).module;
    const params = m.initParams(4);
    const state = Float32Array.of(0.125, -3.5);
    const file = join(dir, name);
    writeFileSync(file, encodeParams(file, m.meta, params, state));
    const p = new Float32Array(m.meta.paramCount);
    const s = new Float32Array(m.meta.stateCount);
    loadParams(file, m.meta, p, s);
    expect(Array.from(p)).toEqual(Array.from(params));
    expect(Array.from(s)).toEqual([0.125, -3.5]);
  });

  test("a file without state does not load into a network with state, nor the other way round", async () => {
    const m = (await compileStateful<Float32Array>(runningMeanNet(), "f32", "js")).module;
    const stateless = { ...m.meta } as Record<string, unknown>;
    delete stateless.stateCount;
    delete stateless.state;
    const plainMeta = stateless as unknown as typeof m.meta;
    const withoutState = join(dir, "plain.json");
    writeFileSync(withoutState, encodeParams(withoutState, plainMeta, m.initParams()));
    expect(() => loadParams(withoutState, m.meta, new Float32Array(8), new Float32Array(2))).toThrow(BpgenError);
    const withState = join(dir, "stateful.bin");
    writeFileSync(withState, encodeParams(withState, m.meta, m.initParams(), m.initState()));
    expect(() => loadParams(withState, plainMeta, new Float32Array(8))).toThrow(/holds state/);
  });
});

test("the training loop updates the state, evaluates with it and keeps the best epoch's", async () => {
  const m = (await compileStateful<Float32Array>(runningMeanNet(), "f32", "js")).module;
  const count = 64;
  const x = Float32Array.from({ length: count * 3 }, (_, i) => Math.sin(i * 0.7));
  const y = Float32Array.from({ length: count * 2 }, (_, i) => 1 + 0.1 * Math.cos(i));
  const result = await train(m, { x, y, count }, {
    epochs: 5,
    batch: 8,
    validation: 0,
    seed: 1,
    optimizer: { type: "adam", lr: 0.05 },
    thresholds: { low: 0, high: Infinity, ratio: 0 },
    task: "regression",
  });
  expect(result.stopped).toBe("finished");
  const state = result.best.state;
  if (!state) throw new Error("no state kept");
  // the running mean has moved from 0 toward the outputs, which training pulls toward the targets (about 1)
  expect(state[0]!).toBeGreaterThan(0.1);
  const losses = result.history.map((h) => h.train.loss);
  expect(losses.at(-1)!).toBeLessThan(losses[0]!);
});
