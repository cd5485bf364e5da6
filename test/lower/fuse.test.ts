/**
 * The fuse pass: consecutive element loops of one trip count run as one loop when every iteration still sees
 * what it saw. Each element's arithmetic is unchanged, so results are bit-equal in f64 and in f32.
 */
import { describe, expect, it } from "vitest";
import { fuse } from "../../src/lower/passes/fuse.ts";
import { type Stmt, load, num, op } from "../../src/lower/kernel.ts";
import { HandBuffers, countStmts, expectAgree, expectPassPreserves, idx, loop, loopVar, run, store } from "../helpers/kernel-ir.ts";

const N = 32;
const b = new HandBuffers({ paramCount: N, inputSize: 0, targetSize: 0, outputSize: 0 });

/** t[i] = exp(w[i]); grads[j] = 2·t[read(j)], as two loops of `n` trips. */
function twoLoops(n: number, reversed: boolean): Stmt[] {
  const t = b.work(n);
  const [i, j] = [loopVar("i", n), loopVar("j", n)];
  const read = reversed ? idx(n - 1, [j, -1]) : idx(0, [j, 1]);
  return [
    loop(i, [store(t, idx(0, [i, 1]), op("exp", load(b.params, idx(0, [i, 1]))))]),
    loop(j, [store(b.grads, idx(0, [j, 1]), op("mul", num(2), load(t, read)))]),
  ];
}

const loops = (body: readonly Stmt[]) => countStmts(body, (s) => s.k === "loop");

describe("fuse", () => {
  it("runs two loops over the same elements as one, bit-equal", () => {
    const before = twoLoops(N, false);
    const after = fuse(before, 16);
    expect(loops(before)).toBe(2);
    expect(loops(after)).toBe(1);
    for (const precision of ["f64", "f32"] as const) {
      const options = { batch: 1, precision, seed: 3 };
      expectAgree(`fused (${precision})`, run(after, b.sizes, options), run(before, b.sizes, options), "bits");
    }
  });

  it("keeps loops apart when the second reads another element of what the first writes", () => {
    expect(loops(fuse(twoLoops(N, true), 16))).toBe(2);
  });

  it("leaves loops short enough to be written out alone", () => {
    expect(loops(fuse(twoLoops(8, false), 16))).toBe(2);
  });

  it("preserves results on random networks, bit-equal in f64 and f32", () => {
    const meaningful = expectPassPreserves("fuse", { f64: "bits", f32: "bits" });
    expect(meaningful).toBeGreaterThan(100);
  });
});
