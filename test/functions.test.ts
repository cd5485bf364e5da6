/**
 * Every function of equations (src/frontend/functions.ts), lowered to kernel IR and run by the interpreter: the
 * gradient against central finite differences of the loss (f64), and f32 against f64, at random points of the
 * function's domain away from its kinks; the conventions at kinks, ties and bounds; regressions. The cases live
 * in test/helpers/function-cases.ts; test/renderers.test.ts holds both kernel back ends' modules of the same
 * networks to the interpreter.
 */
import { describe, expect, it } from "vitest";
import { BUILTINS, arityOf } from "../src/frontend/functions.ts";
import { arrayType } from "../src/render/interp/interpret.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { CASES, CONVENTIONS, CONV_DENSE, FUNCTION_NETS, N, R, RELU_POW, ZERO_BASE, conventionNet, scalarNet, type Case, type Range } from "./helpers/function-cases.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";

let seed = 11;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const sample = (ranges: readonly Range[]) => {
  const [lo, hi] = ranges[Math.floor(random() * ranges.length)] as Range;
  return lo + (hi - lo) * random();
};

describe("every function of equations, interpreted: gradient = finite differences (f64), f32 ≈ f64", () => {
  it("has a case for every builtin", () => {
    expect([...BUILTINS.keys()].filter((n) => !(n in CASES))).toEqual([]);
    for (const [name, b] of BUILTINS) {
      const [fewest] = arityOf(b);
      const c = CASES[name] as Case;
      if (!c.call) expect(c.args.length, name).toBe(fewest);
    }
  });

  for (const { name, spec, ranges, perElement } of FUNCTION_NETS) {
    it(name, () => checkGradients(name, spec, ranges, perElement));
  }
});

/**
 * The gradient against central finite differences of the loss (f64), and f32 against f64, both from one
 * lowering. `ranges` are per argument (N elements each), or per element when `perElement`.
 */
function checkGradients(name: string, spec: NetSpec, ranges: readonly (readonly Range[])[], perElement: boolean): void {
  const net = new InterpretedNet(spec);
  const m64 = net.module<Float64Array>("f64");
  const m32 = net.module<Float32Array>("f32");
  const P = m64.meta.paramCount;
  const inputSize = m64.meta.inputSize;
  const targetSize = m64.meta.targetSize;
  for (let trial = 0; trial < 3; trial++) {
    const p = new Float64Array(P);
    if (perElement) ranges.forEach((r, i) => (p[i] = Math.fround(sample(r))));
    else {
      ranges.forEach((r, k) => {
        for (let i = 0; i < N; i++) p[k * N + i] = Math.fround(sample(r));
      });
      for (let i = ranges.length * N; i < P; i++) p[i] = Math.fround(sample(R));
    }
    const w = Float64Array.from({ length: inputSize }, () =>
      Math.fround(0.5 + random()),
    );
    const y = Float64Array.from({ length: targetSize }, () =>
      Math.fround(random()),
    );
    const g = new Float64Array(P);
    m64.gradient(p, w, y, g, 1);
    const J = (q: Float64Array) => m64.loss(q, w, y, 1);
    const scale = Math.max(...g.map(Math.abs), 1e-3);
    for (let i = 0; i < P; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(p[i] as number));
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[i] = (p[i] as number) + h;
      down[i] = (p[i] as number) - h;
      const fd = (J(up) - J(down)) / (2 * h);
      expect(
        Math.abs((g[i] as number) - fd),
        `${name}: d/dp[${i}] at ${Array.from(p).join(", ")}: gradient ${g[i]}, finite difference ${fd}`,
      ).toBeLessThan(1e-6 * scale + 1e-8);
    }
    const g32 = new Float32Array(P);
    m32.gradient(
      Float32Array.from(p),
      Float32Array.from(w),
      Float32Array.from(y),
      g32,
      1,
    );
    for (let i = 0; i < P; i++) {
      expect(
        Math.abs((g32[i] as number) - (g[i] as number)),
        `${name} f32: d/dp[${i}]`,
      ).toBeLessThan(2e-4 * scale + 1e-6);
    }
  }
}

describe("regressions", () => {
  const none = new Float64Array(0);

  for (const [what, equation] of [
    ["a loss that is exactly a scalar parameter", "e = x"],
    ["a loss the simplifier reduces to a scalar parameter", "e = x + 0"],
  ] as const) {
    it(`${what} (${equation}): loss, gradient and forward return it`, () => {
      const net = new InterpretedNet(scalarNet("loss_is_param", equation));
      for (const [precision, F] of [["f64", Float64Array], ["f32", Float32Array]] as const) {
        const m = net.module(precision);
        const p = F.of(0.75);
        const g = new F(1);
        const out = new F(1);
        const empty = new F(0);
        expect(m.loss(p, empty, empty, 1)).toBe(0.75);
        expect(m.gradient(p, empty, empty, g, 1)).toBe(0.75);
        expect(g[0]).toBe(1);
        m.forward(p, empty, out, 1);
        expect(out[0]).toBe(0.75);
      }
    });
  }

  it("d/dx 0^(2^x + x^3 + 2) is 0, not NaN", () => {
    const m = new InterpretedNet(scalarNet("zero_base", ZERO_BASE)).module<Float64Array>("f64");
    for (const x of [0.5, -0.3, 2]) {
      const g = new Float64Array(1);
      expect(m.gradient(Float64Array.of(x), none, none, g, 1)).toBe(0);
      expect(g[0]).toBe(0);
    }
  });

  it("a learnable exponent of relu outputs: dJ/dp finite where an output is 0, and 0 for a negative base", () => {
    const m = new InterpretedNet(RELU_POW).module<Float64Array>("f64");
    const x = Float64Array.of(-1, 0, 2, 3);
    const g = new Float64Array(1);
    m.gradient(Float64Array.of(2), x, none, g, 1);
    // d/dp Σ relu(x)^p = Σ_{x > 0} x^p log x; (x − 1)^p contributes where x − 1 > 0 only (the negative bases give 0)
    const want = 2 ** 2 * Math.log(2) + 3 ** 2 * Math.log(3) + 1 ** 2 * Math.log(1) + 2 ** 2 * Math.log(2);
    expect(g[0]).toBeCloseTo(want, 10);
  });

  it("a convolution under a dense layer of 512+ weights, over a batch: gradient = finite differences of loss, forward per sample", () => {
    // the im2col matrix is read by the filter's gradient through a transpose, in the sample loop after the
    // batched dense kernels: it must be kept one row per sample there (it was the last sample's for all), and
    // forward, which keeps it one row only, must not lay another value's rows over it
    const m = new InterpretedNet(CONV_DENSE).module<Float64Array>("f64");
    const batch = 3;
    const P = m.meta.paramCount;
    const p = Float64Array.from({ length: P }, () => random() - 0.5);
    const x = Float64Array.from({ length: batch * 36 }, () => random() - 0.5);
    const y = Float64Array.from({ length: batch * 10 }, () => random() - 0.5);
    const g = new Float64Array(P);
    m.gradient(p, x, y, g, batch);
    for (let i = 0; i < P; i += 7) {
      const h = 1e-6;
      const up = Float64Array.from(p);
      const down = Float64Array.from(p);
      up[i] = (p[i] as number) + h;
      down[i] = (p[i] as number) - h;
      const fd = (m.loss(up, x, y, batch) - m.loss(down, x, y, batch)) / (2 * h);
      expect(Math.abs((g[i] as number) - fd), `d/dp[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    }
    const out = new Float64Array(batch * 10);
    m.forward(p, x, out, batch);
    for (let s = 0; s < batch; s++) {
      const one = new Float64Array(10);
      m.forward(p, x.slice(s * 36, (s + 1) * 36), one, 1);
      expect(Array.from(out.slice(s * 10, (s + 1) * 10)), `sample ${s}`).toEqual(Array.from(one));
    }
  });
});

/** The documented conventions at kinks, ties and bounds (test/helpers/function-cases.ts): exact points, so exact values. */
describe("conventions at kinks, ties and bounds", () => {
  for (const [equation, x, want] of CONVENTIONS) {
    it(`${equation} at x = [${x.join(", ")}]: gradient [${want.join(", ")}]`, () => {
      const net = new InterpretedNet(conventionNet(equation, x.length));
      for (const precision of ["f64", "f32"] as const) {
        const F = arrayType(precision);
        const g = new F(x.length);
        net.module(precision).gradient(F.from(x), new F(0), new F(0), g, 1);
        expect([...g], precision).toEqual(want);
      }
    });
  }
});
