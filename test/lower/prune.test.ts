/**
 * The prune pass: workspace stores and locals nothing reads are dropped, and loops left empty with them. It
 * removes only statements whose values are never read, so results are bit-equal in f64 and f32.
 */
import { describe, expect, it } from "vitest";
import { prune } from "../../src/lower/passes/prune.ts";
import { type Stmt, get, load, op } from "../../src/lower/kernel.ts";
import { HandBuffers, countStmts, declare, expectAgree, expectPassPreserves, idx, localVar, loop, loopVar, ret, run, store } from "../helpers/kernel-ir.ts";

const N = 20;
const b = new HandBuffers({ paramCount: N, inputSize: 0, targetSize: 0, outputSize: 0 });

/** A dead workspace loop, a dead local, a live local returned and a store into grads (never dead: the caller reads it). */
function body(): { stmts: Stmt[]; dead: ReturnType<HandBuffers["work"]>; unused: ReturnType<typeof localVar> } {
  const dead = b.work(N);
  const [i, j] = [loopVar("i", N), loopVar("j", N)];
  const unused = localVar("unused");
  const live = localVar("live");
  const stmts: Stmt[] = [
    loop(i, [store(dead, idx(0, [i, 1]), op("exp", load(b.params, idx(0, [i, 1]))))]),
    declare(unused, op("log", load(b.params, idx(3)))),
    loop(j, [store(b.grads, idx(0, [j, 1]), op("neg", load(b.params, idx(0, [j, 1]))))]),
    declare(live, op("sin", load(b.params, idx(5)))),
    ret(get(live)),
  ];
  return { stmts, dead, unused };
}

describe("prune", () => {
  it("removes a dead store (and its loop) and a dead local, keeps what is read and what the caller reads", () => {
    const { stmts, dead, unused } = body();
    const after = prune(stmts);
    expect(countStmts(after, (s) => s.k === "store" && s.buf === dead)).toBe(0);
    expect(countStmts(after, (s) => s.k === "let" && s.local === unused)).toBe(0);
    expect(countStmts(after, (s) => s.k === "loop")).toBe(1);
    expect(countStmts(after, (s) => s.k === "store" && s.buf === b.grads)).toBe(1);
    expect(countStmts(after, (s) => s.k === "let")).toBe(1);
    const options = { batch: 1, precision: "f64", seed: 11 } as const;
    expectAgree("pruned", run(after, b.sizes, options), run(stmts, b.sizes, options), "bits");
  });

  it("keeps a workspace value that is read", () => {
    const t = b.work(N);
    const i = loopVar("i", N);
    const j = loopVar("j", N);
    const stmts = [loop(i, [store(t, idx(0, [i, 1]), load(b.params, idx(0, [i, 1])))]), loop(j, [store(b.grads, idx(0, [j, 1]), load(t, idx(0, [j, 1])))])];
    expect(prune(stmts)).toEqual(stmts);
  });

  it("preserves results on random networks, bit-equal in f64 and f32", () => {
    const meaningful = expectPassPreserves("prune", { f64: "bits", f32: "bits" });
    expect(meaningful).toBeGreaterThan(100);
  });
});
