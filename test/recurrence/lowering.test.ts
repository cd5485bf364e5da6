/**
 * Recurrences lowered to kernel IR: one loop over the steps inside the sample loop (a reverse one for the
 * reverse sweep), run by the kernel-IR interpreter after each backend's passes, in f64 and f32: forward, loss
 * and gradient agree with the DAG's reference interpreter.
 */
import { describe, expect, it } from "vitest";
import { reverse } from "../../src/autodiff/reverse.ts";
import type { Node } from "../../src/ir/node.ts";
import { lowerModule } from "../../src/lower/functions.ts";
import { countOps } from "../../src/lower/stats.ts";
import { naiveOps } from "../../src/explain/naive.ts";
import type { Stmt } from "../../src/lower/kernel.ts";
import { visitStmts } from "../../src/lower/walk.ts";
import { runPasses } from "../../src/pipeline.ts";
import { BACKENDS } from "../../src/render/backends.ts";
import { interpretModule } from "../../src/render/interp/module.ts";
import { ArrayWorkspace, type Workspace } from "../../src/render/interp/interpret.ts";
import { LayoutWorkspace } from "../../src/render/interp/layout-workspace.ts";
import { reuse } from "../../src/lower/passes/reuse.ts";
import { type CellOptions, cellAsNet, cellEnv, cellNet, flatten } from "../helpers/recurrent-cells.ts";
import { evalMany, evalPerSample, makeRng, mismatch } from "../helpers/ir-util.ts";

const CASES: CellOptions[] = [
  { kind: "elman", steps: 5, features: 3, units: 4, everyStep: false },
  { kind: "lstm", steps: 4, features: 3, units: 5, everyStep: false },
  { kind: "lstm", steps: 6, features: 2, units: 3, everyStep: true },
  { kind: "elman", steps: 3, features: 2, units: 2, everyStep: true, reverse: true },
];

function timeLoops(body: readonly Stmt[]): Extract<Stmt, { k: "loop" }>[] {
  const out: Extract<Stmt, { k: "loop" }>[] = [];
  visitStmts(body, (s) => s.k === "loop" && s.kind === "time" && out.push(s));
  return out;
}

describe("a recurrence lowered", () => {
  for (const c of CASES) {
    for (const backend of ["js", "wasm"] as const) {
      it(`${c.kind} over ${c.steps} steps, loss on ${c.everyStep ? "every step" : "the last state"}${c.reverse ? ", backwards" : ""} (${backend} passes)`, () => {
        const cell = cellNet(c);
        const net = cellAsNet(cell);
        const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
        const lowered = runPasses(lowerModule(net, grads), BACKENDS[backend]);
        expect(timeLoops(lowered.functions.forward.body)).toHaveLength(1);
        const loops = timeLoops(lowered.functions.gradient.body);
        expect(loops.map((l) => l.reverse ?? false)).toEqual([c.reverse ?? false, !(c.reverse ?? false)]);
        const batch = 3;
        const env = cellEnv(cell, batch, makeRng(c.steps * 11 + c.units));
        const { params, inputs, targets } = flatten(cell, env, batch);
        const wantGrads = evalMany(net.params.map((p) => grads.byParam.get(p.node) as Node), env, batch);
        const [wantJ] = evalMany([net.objective], env, batch);
        const wantOut = evalPerSample(net.output, env, batch);
        for (const precision of ["f64", "f32"] as const) {
          const tol = precision === "f64" ? 1e-10 : 2e-4;
          const Arr = precision === "f64" ? Float64Array : Float32Array;
          const m = interpretModule(lowered, precision);
          const g = new Arr(params.length);
          const J = m.gradient(new Arr(params), new Arr(inputs), new Arr(targets), g, batch);
          expect(mismatch([J], wantJ, tol)).toBeUndefined();
          expect(mismatch(g, Float64Array.from(wantGrads.flatMap((a) => [...a])), tol, 1e-2), `${precision} gradient`).toBeUndefined();
          expect(mismatch([m.loss(new Arr(params), new Arr(inputs), new Arr(targets), batch)], wantJ, tol)).toBeUndefined();
          const out = new Arr(batch * wantOut[0].length);
          m.forward(new Arr(params), new Arr(inputs), out, batch);
          expect(mismatch(out, Float64Array.from(wantOut.flatMap((a) => [...a])), tol), `${precision} forward`).toBeUndefined();
        }
      });
    }
  }
});

describe("a recurrence across the batch in the WebAssembly workspace layout", () => {
  it("an LSTM whose step runs dense kernels computes the same in the laid-out workspace (buffers sharing bytes) as with a buffer each", () => {
    const cell = cellNet({ kind: "lstm", steps: 5, features: 2, units: 16, everyStep: false });
    const net = cellAsNet(cell);
    const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
    const lowered = runPasses(lowerModule(net, grads), BACKENDS.wasm);
    expect(lowered.plans.gradient.segments.some((s) => s.kind === "recurrence"), "the recurrence runs across the batch").toBe(true);
    const batch = 3;
    const { params, inputs, targets } = flatten(cell, cellEnv(cell, batch, makeRng(21)), batch);
    const run = (workspace: Workspace) => {
      const g = new Float64Array(params.length);
      const J = interpretModule(lowered, "f64", workspace).gradient(params, inputs, targets, g, batch);
      return [J, ...g];
    };
    // garbage (NaN) where a buffer is read before it is written
    const laidOut = run(new LayoutWorkspace(reuse(lowered.functions.gradient, 2), "f64", Number.NaN));
    expect(mismatch(laidOut, run(new ArrayWorkspace("f64")), 1e-12)).toBeUndefined();
  });
});

describe("a recurrence's operation count", () => {
  const counts = (steps: number) => {
    const net = cellAsNet(cellNet({ kind: "lstm", steps, features: 3, units: 8, everyStep: false }));
    const grads = reverse(net.graph, net.objective, net.params.map((p) => p.node));
    const { plans } = lowerModule(net, grads);
    return { forward: countOps(plans.forward).perSample, gradient: countOps(plans.gradient).perSample, naive: naiveOps(net, grads, countOps(plans.loss)).total.perSample };
  };

  it("counts the cell once per step: the module's forward pass and gradient, and the naive count beside them", () => {
    const [short, long] = [counts(5), counts(20)];
    // four times the steps: all but the dense head four times the work (the threads' shares and `--kernels auto` read it)
    for (const key of ["forward", "gradient", "naive"] as const) {
      expect(long[key] / short[key], key).toBeGreaterThan(3.5);
      expect(long[key] / short[key], key).toBeLessThanOrEqual(4);
    }
    // the backward sweep costs a few forward passes, not dozens (as counting its cell once against the forward's did)
    expect(long.gradient / long.forward).toBeLessThan(5);
  });
});
