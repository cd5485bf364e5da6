/**
 * The flatten pass: a row-major nest of two element loops becomes one loop over all elements (no arithmetic
 * moves: bit-equal); a double sum Σ_i Σ_j becomes one sum over all elements, which adds the same terms in
 * the same order but without the inner partial sums — a reordering, so results are close, not equal.
 */
import { describe, expect, it } from "vitest";
import { flatten } from "../../src/lower/passes/flatten.ts";
import { type Expr, type Stmt, load, op } from "../../src/lower/kernel.ts";
import { HandBuffers, expectAgree, expectPassPreserves, idx, loop, loopVar, ret, run, store } from "../helpers/kernel-ir.ts";

const [M, N] = [4, 6];
const b = new HandBuffers({ paramCount: M * N, inputSize: M * N, targetSize: 0, outputSize: M * N });
const s = loopVar("s", "batch");

/** out[s][i][j] = exp(x[s][i][j]), or of x[s][j][i] (a transposed read: not row-major in (i, j)). */
function nest(transposed: boolean): Stmt[] {
  const [i, j] = [loopVar("i", M), loopVar("j", N)];
  const read = transposed ? idx(0, [s, M * N], [j, M], [i, 1]) : idx(0, [s, M * N], [i, N], [j, 1]);
  return [loop(s, [loop(i, [loop(j, [store(b.out, idx(0, [s, M * N], [i, N], [j, 1]), op("exp", load(b.inputs, read)))])])], "samples")];
}

const innerLoops = (body: readonly Stmt[]) => ((body[0] as Extract<Stmt, { k: "loop" }>).body as Extract<Stmt, { k: "loop" }>[]);

describe("flatten", () => {
  it("turns a row-major 2-nest into one loop over m·n elements, bit-equal", () => {
    const before = nest(false);
    const after = flatten(before);
    const [flat] = innerLoops(after);
    expect(flat.v.extent).toBe(M * N);
    expect(flat.body.every((x) => x.k === "store")).toBe(true);
    for (const batch of [1, 2]) {
      const options = { batch, precision: "f64", seed: batch } as const;
      expectAgree("exp over a 4×6 nest", run(after, b.sizes, options), run(before, b.sizes, options), "bits");
    }
  });

  it("leaves a nest that reads across rows (a transpose) nested", () => {
    const [outer] = innerLoops(flatten(nest(true)));
    expect(outer.v.extent).toBe(M);
    expect(outer.body[0].k).toBe("loop");
  });

  it("turns Σ_i Σ_j into one sum over all elements, close to the double sum", () => {
    const [i, j] = [loopVar("i", M), loopVar("j", N)];
    const term: Expr = op("mul", load(b.params, idx(0, [i, N], [j, 1])), load(b.params, idx(0, [i, N], [j, 1])));
    const before: Stmt[] = [ret({ k: "sum", v: i, term: { k: "sum", v: j, term } })];
    const after = flatten(before);
    const value = (after[0] as Extract<Stmt, { k: "return" }>).value;
    expect(value.k === "sum" && value.v.extent === M * N && value.term.k !== "sum").toBe(true);
    const options = { batch: 1, precision: "f64", seed: 7 } as const;
    expectAgree("Σ w²", run(after, b.sizes, options), run(before, b.sizes, options), { tolerance: 1e-14 });
  });

  it("preserves results on random networks (sums reordered: within 1e-12)", () => {
    const meaningful = expectPassPreserves("flatten", { f64: { tolerance: 1e-12 }, f32: { tolerance: 1e-12 } });
    expect(meaningful).toBeGreaterThan(100);
  });
});
