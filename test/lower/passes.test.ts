/**
 * All passes together on the examples: the module before the passes (every planned value stored) and after
 * them, both run by the interpreter, agree — closely, since flatten regroups sums and inline skips the f32
 * rounding of the values it inlines.
 */
import { describe, expect, it } from "vitest";
import { arrayType, type FloatArray, type Precision } from "../../src/render/interp/interpret.ts";
import { exampleSpec } from "../helpers/examples-support.ts";
import { compileForInterpreter, compileMaterializedForInterpreter } from "../helpers/interp.ts";
import { makeRng } from "../oracle/random-nets.ts";

/** The examples small enough to run unoptimised in a moment. */
const EXAMPLES = ["chain3", "xor_sigmoid", "mse_sigmoid", "iris_softmax", "softmax_10_20_2", "deep_l2", "deep_sigmoid10"];
const TOLERANCE: Record<Precision, number> = { f64: 1e-12, f32: 1e-5 };

function close(a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!(Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y)))) return i;
  }
  return -1;
}

describe("the passes keep every example's results", () => {
  for (const name of EXAMPLES) {
    for (const precision of ["f64", "f32"] as const) {
      it(`${name} (${precision})`, () => {
        const spec = exampleSpec(name);
        const [before, after] = [compileMaterializedForInterpreter(spec, precision), compileForInterpreter(spec, precision)];
        const { meta } = after;
        const rng = makeRng(name.length);
        const random = (n: number, f: () => number): FloatArray => {
          const a = new (arrayType(precision))(n);
          for (let i = 0; i < n; i++) a[i] = f();
          return a;
        };
        const batch = 3;
        const params = random(meta.paramCount, () => 0.5 * rng.normal());
        const inputs = random(batch * meta.inputSize, () => rng.normal());
        const targets = random(batch * meta.targetSize, () => rng.next());
        const tolerance = TOLERANCE[precision];
        const [outA, outB] = [random(batch * meta.outputSize, () => Number.NaN), random(batch * meta.outputSize, () => Number.NaN)];
        before.forward(params, inputs, outA, batch);
        after.forward(params, inputs, outB, batch);
        expect(close(outB, outA, tolerance), "forward").toBe(-1);
        expect(close([after.loss(params, inputs, targets, batch)], [before.loss(params, inputs, targets, batch)], tolerance), "loss").toBe(-1);
        const [gA, gB] = [random(meta.paramCount, () => Number.NaN), random(meta.paramCount, () => Number.NaN)];
        const J = [before.gradient(params, inputs, targets, gA, batch), after.gradient(params, inputs, targets, gB, batch)];
        expect(close([J[1]], [J[0]], tolerance), "gradient J").toBe(-1);
        expect(close(gB, gA, tolerance), "gradient").toBe(-1);
        expect(gB.some((g) => g !== 0 && Number.isFinite(g))).toBe(true);
      });
    }
  }
});
