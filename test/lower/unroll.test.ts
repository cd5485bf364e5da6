/**
 * The unroll pass: short loops written out with literal indices, short sums as one expression, long sums as
 * an accumulator loop. The terms are added in the same order; a long sum's accumulator starts from 0 where
 * the interpreter's sum starts from its first term, which can only turn −0 into +0: results agree as
 * numbers (0 = −0), in f64 and f32.
 */
import { describe, expect, it } from "vitest";
import { unroll } from "../../src/lower/passes/unroll.ts";
import { type Expr, type Stmt, load, op } from "../../src/lower/kernel.ts";
import { ownExprs, visitExpr, visitStmts } from "../../src/lower/walk.ts";
import { HandBuffers, countStmts, expectAgree, expectPassPreserves, idx, localVar, loop, loopVar, ret, run, store } from "../helpers/kernel-ir.ts";

const b = new HandBuffers({ paramCount: 64, inputSize: 0, targetSize: 0, outputSize: 0 });
const options = { maxTrips: 16, budget: 256, temp: localVar };

/** grads[i] = tanh(w[i]) for i < n. */
function elementLoop(n: number): Stmt[] {
  const i = loopVar("i", n);
  return [loop(i, [store(b.grads, idx(0, [i, 1]), op("tanh", load(b.params, idx(0, [i, 1]))))])];
}

/** return Σ_{i<n} w[i]·w[i]. */
function sumOf(n: number): Stmt[] {
  const i = loopVar("i", n);
  const term: Expr = op("mul", load(b.params, idx(0, [i, 1])), load(b.params, idx(0, [i, 1])));
  return [ret({ k: "sum", v: i, term })];
}

function hasSum(body: readonly Stmt[]): boolean {
  let found = false;
  visitStmts(body, (s) => ownExprs(s).forEach((e) => visitExpr(e, (x) => (found ||= x.k === "sum"))));
  return found;
}

describe("unroll", () => {
  const f64 = { batch: 1, precision: "f64", seed: 5 } as const;

  it("writes out a short loop with literal indices", () => {
    const before = elementLoop(4);
    const after = unroll(before, options);
    expect(countStmts(after, (s) => s.k === "loop")).toBe(0);
    expect(after.map((s) => (s.k === "store" ? s.index.c : -1))).toEqual([0, 1, 2, 3]);
    expectAgree("tanh over 4", run(after, b.sizes, f64), run(before, b.sizes, f64), "bits");
  });

  it("keeps a long loop", () => {
    expect(countStmts(unroll(elementLoop(40), options), (s) => s.k === "loop")).toBe(1);
  });

  it("keeps a short loop its backend keeps (one that runs in SIMD lanes)", () => {
    const keeps = (l: Extract<Stmt, { k: "loop" }>) => l.v.extent === 8;
    expect(countStmts(unroll(elementLoop(8), { ...options, keeps }), (s) => s.k === "loop")).toBe(1);
    expect(countStmts(unroll(elementLoop(4), { ...options, keeps }), (s) => s.k === "loop")).toBe(0);
  });

  it("writes a short sum as one expression and a long one as an accumulator loop", () => {
    const short = unroll(sumOf(8), options);
    expect(hasSum(short)).toBe(false);
    expect(countStmts(short, (s) => s.k === "loop")).toBe(0);
    const long = unroll(sumOf(64), options);
    expect(hasSum(long)).toBe(false);
    expect(countStmts(long, (s) => s.k === "loop")).toBe(1);
    expect(countStmts(long, (s) => s.k === "update" && s.mode === "+=")).toBe(1);
    expectAgree("Σ over 8", run(short, b.sizes, f64), run(sumOf(8), b.sizes, f64), "bits");
    expectAgree("Σ over 64", run(long, b.sizes, f64), run(sumOf(64), b.sizes, f64), "value");
  });

  it("preserves results on random networks (equal as numbers in f64 and f32)", () => {
    const meaningful = expectPassPreserves("unroll", { f64: "value", f32: "value" });
    expect(meaningful).toBeGreaterThan(100);
  });
});
