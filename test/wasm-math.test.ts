/**
 * The SIMD math library (src/render/wasm/math.ts): accuracy of every function in every shape over
 * random points across the whole domain and focused ranges, special values exactly as Math gives
 * them, scalar and SIMD shapes agreeing bit for bit, memoisation and inlining, f32 shapes using
 * only f32 arithmetic, no relaxed SIMD. Prints a table of the measured maximum errors and a speed
 * comparison against JavaScript's Math (printed only; nothing asserts on time).
 *
 * Error: ulps at the magnitude of the reference value (fractional; a correctly rounded result is
 * ≤ 0.5). References: for f32 shapes, f64 values (Math, or our f64 erf after it is checked against
 * the double-double reference); for f64 shapes, double-double references (test/helpers/wasm-math-reference.ts)
 * except sin/cos, which are measured against Math.sin/Math.cos (fdlibm, < 1 ulp).
 */
import { afterAll, describe, expect, it } from "vitest";
import { ModuleBuilder } from "../src/render/wasm/encoder.ts";
import { type MathFunction, type MathShape, emitMathInline, math, useMath } from "../src/render/wasm/math.ts";
import { type ErrorStats, type FloatArray, MathKernels, logUniform, measure, randomFiniteF32, randomFiniteF64, rng, uniform } from "./helpers/wasm-math-support.ts";
import { type DD, refErf, refExp, refExpm1, refLog, refLog1p, refSigmoid, refSoftplus, refTanh } from "./helpers/wasm-math-reference.ts";
import { wasmToText } from "./helpers/wat.ts";

type Precision = "f32" | "f64";

/** Error bounds the library promises (in ulps). */
const BOUND: Record<Precision, number> = { f32: 2, f64: 4 };

/** A set of inputs for one precision. */
type Inputs = (p: Precision) => number[];

const N32 = 200_000;
const N64 = 30_000;
const count = (p: Precision) => (p === "f32" ? N32 : N64);
const seedOf = (label: string) => [...label].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);

const between = (lo32: number, hi32: number, lo64 = lo32, hi64 = hi32): Inputs => (p) =>
  p === "f32" ? uniform(count(p), lo32, hi32, seedOf(`${lo32}${hi32}`)) : uniform(count(p), lo64, hi64, seedOf(`${lo64}${hi64}`));
/** Log-uniform magnitudes 2^a..2^b, clipped to each precision's exponent range. */
const magnitudes = (a: number, b: number, signed = true): Inputs => (p) => {
  const [lo, hi] = p === "f32" ? [-149, 127] : [-1074, 1023];
  return logUniform(count(p), Math.max(a, lo), Math.min(b, hi), seedOf(`m${a}${b}`), signed);
};
/** Random finite bit patterns: every magnitude and sign, subnormals included. */
const anyFinite: Inputs = (p) => (p === "f32" ? randomFiniteF32(count(p), 99) : randomFiniteF64(count(p), 99));
/** Points as close to multiples of π/2 as the precision allows (k up to `maxK`), and a few ulps around. */
const nearHalfPiMultiples = (maxK32: number, maxK64: number): Inputs => (p) => {
  const r = rng(17);
  const out: number[] = [];
  const round = p === "f32" ? Math.fround : (x: number) => x;
  while (out.length < count(p)) {
    const k = 1 + Math.floor(r() * (p === "f32" ? maxK32 : maxK64));
    const x = round((k * Math.PI) / 2);
    const ulp = Math.abs(x) * (p === "f32" ? 2 ** -23 : 2 ** -52);
    for (let d = -2; d <= 2; d++) out.push(round(x + d * ulp));
  }
  return out;
};

interface Case {
  /** Reference for f32 shapes: a value accurate to f64 precision. */
  f32: (x: number) => number;
  /** Reference for f64 shapes: double-double, or a Math value. */
  f64: (x: number) => DD | number;
  /** Named input sets, each run in both precisions. */
  inputs: Record<string, Inputs>;
  /** [x, expected] pairs compared exactly (Object.is, NaN equal to NaN), for both precisions unless split. */
  special: readonly (readonly [number, number])[];
  special32?: readonly (readonly [number, number])[];
  special64?: readonly (readonly [number, number])[];
}

const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** f64 erf of the library itself, once it has been checked against refErf: the f32 reference. */
let erf64: (xs: Float64Array) => FloatArray = () => {
  throw new Error("erf64 used before the f64 erf check");
};

const CASES: Record<MathFunction, Case> = {
  exp: {
    f32: Math.exp,
    f64: refExp,
    inputs: {
      "whole range": between(-110, 90, -750, 710),
      "[-1, 1]": between(-1, 1),
      "near overflow": between(85, 89, 700, 710),
      "subnormal results": between(-104, -87, -745.2, -708),
      "tiny |x|": magnitudes(-1074, -1),
      "any finite": anyFinite,
    },
    special: [[0, 1], [-0, 1], [Infinity, Infinity], [-Infinity, 0], [NaN, NaN], [1000, Infinity], [-1000, 0], [1e-30, 1]],
    special32: [[88.8, Infinity], [-104, 0]],
    special64: [[710, Infinity], [-746, 0], [-745, 5e-324]],
  },
  expm1: {
    f32: Math.expm1,
    f64: refExpm1,
    inputs: {
      "whole range": between(-20, 90, -40, 710),
      "[-1, 1]": between(-1, 1),
      "k = 1 boundary": between(0.2, 0.8),
      "tiny |x|": magnitudes(-1074, -1),
      "any finite": anyFinite,
    },
    special: [[0, 0], [-0, -0], [Infinity, Infinity], [-Infinity, -1], [NaN, NaN], [1000, Infinity], [-1000, -1], [1e-30, 1e-30], [-1e-30, -1e-30]],
  },
  log: {
    f32: Math.log,
    f64: refLog,
    inputs: {
      "all magnitudes": magnitudes(-1074, 1024, false),
      "[0.5, 2]": between(0.5, 2),
      "near 1": between(0.99, 1.01),
      "subnormals": magnitudes(-1074, -1022, false),
      "f32 subnormals": (p) => (p === "f32" ? logUniform(N32, -149, -126, 3, false) : []),
      "any finite": anyFinite,
    },
    special: [[0, -Infinity], [-0, -Infinity], [-1, NaN], [Infinity, Infinity], [-Infinity, NaN], [NaN, NaN], [1, 0]],
  },
  log1p: {
    f32: Math.log1p,
    f64: refLog1p,
    inputs: {
      "[-1, 1]": between(-1, 1),
      "tiny |x|": magnitudes(-1074, -1),
      "large": magnitudes(0, 1024, false),
      "near -1": between(-1, -0.9),
      "any finite": anyFinite,
    },
    special: [[0, 0], [-0, -0], [-1, -Infinity], [-2, NaN], [Infinity, Infinity], [-Infinity, NaN], [NaN, NaN], [1e-30, 1e-30]],
  },
  tanh: {
    f32: Math.tanh,
    f64: refTanh,
    inputs: {
      "[-10, 10]": between(-10, 10),
      "switch at 0.55": between(0.3, 1),
      "saturation": between(-25, 25),
      "tiny |x|": magnitudes(-1074, 0),
      "any finite": anyFinite,
    },
    special: [[0, 0], [-0, -0], [Infinity, 1], [-Infinity, -1], [NaN, NaN], [1000, 1], [-1000, -1], [1e300, 1], [1e-30, 1e-30]],
  },
  sigmoid: {
    f32: sigmoid64,
    f64: refSigmoid,
    inputs: {
      "[-20, 20]": between(-20, 20),
      "negative tail": between(-105, 0, -760, 0),
      "subnormal tail": between(-104, -87, -745, -708),
      "tiny |x|": magnitudes(-1074, 0),
      "positive": between(0, 40),
      "any finite": anyFinite,
    },
    special: [[0, 0.5], [-0, 0.5], [Infinity, 1], [-Infinity, 0], [NaN, NaN], [1000, 1], [-1000, 0], [1e300, 1], [-1e300, 0]],
  },
  softplus: {
    f32: softplus64,
    f64: refSoftplus,
    inputs: {
      "[-20, 20]": between(-20, 20),
      "negative tail": between(-105, 0, -760, 0),
      "subnormal tail": between(-104, -87, -745, -708),
      "tiny |x|": magnitudes(-1074, 0),
      "positive": between(0, 40),
      "large": magnitudes(0, 1024),
      "any finite": anyFinite,
    },
    special: [[1000, 1000], [-1000, 0], [Infinity, Infinity], [-Infinity, 0], [NaN, NaN], [1e300, 1e300]],
    special32: [[0, Math.fround(Math.LN2)]],
    special64: [[0, Math.LN2]],
  },
  erf: {
    f32: (x) => x, // replaced by the checked f64 erf (see erf64)
    f64: refErf,
    inputs: {
      "[-6, 6]": between(-6, 6),
      "around 1": between(0.5, 1.5),
      "tail": between(3, 6),
      "tiny |x|": magnitudes(-1074, 0),
      "any finite": anyFinite,
    },
    special: [[0, 0], [-0, -0], [Infinity, 1], [-Infinity, -1], [NaN, NaN], [10, 1], [-10, -1], [1e300, 1]],
  },
  sin: {
    f32: Math.sin,
    f64: Math.sin,
    inputs: {
      "[-4, 4]": between(-4, 4),
      "[-100, 100]": between(-100, 100),
      "documented range": between(-6434, 6434, -1.6e6, 1.6e6),
      "near multiples of π/2": nearHalfPiMultiples(4096, 2 ** 20),
      "tiny |x|": magnitudes(-1074, 0),
    },
    special: [[0, 0], [-0, -0], [Infinity, NaN], [-Infinity, NaN], [NaN, NaN], [1e-30, 1e-30]],
  },
  cos: {
    f32: Math.cos,
    f64: Math.cos,
    inputs: {
      "[-4, 4]": between(-4, 4),
      "[-100, 100]": between(-100, 100),
      "documented range": between(-6434, 6434, -1.6e6, 1.6e6),
      "near multiples of π/2": nearHalfPiMultiples(4096, 2 ** 20),
      "tiny |x|": magnitudes(-1074, 0),
    },
    special: [[0, 1], [-0, 1], [Infinity, NaN], [-Infinity, NaN], [NaN, NaN]],
  },
};

// The f64 erf is checked first so that it can serve as the f32 reference.
const ORDER: MathFunction[] = ["erf", "exp", "expm1", "log", "log1p", "tanh", "sigmoid", "softplus", "sin", "cos"];

const kernels = new MathKernels(ORDER);
const asArray = (p: Precision, xs: number[]): FloatArray => (p === "f32" ? Float32Array.from(xs) : Float64Array.from(xs));
const scalarShape = (p: Precision): MathShape => p;
const vectorShape = (p: Precision): MathShape => (p === "f32" ? "f32x4" : "f64x2");

/** Max error per function and shape, for the summary. */
const summary = new Map<string, ErrorStats>();

function record(fn: MathFunction, shape: MathShape, stats: ErrorStats): void {
  const key = `${fn} ${shape}`;
  const prev = summary.get(key);
  if (!prev || stats.maxUlp > prev.maxUlp) summary.set(key, { ...stats, maxSteps: Math.max(stats.maxSteps, prev?.maxSteps ?? 0) });
  else prev.maxSteps = Math.max(prev.maxSteps, stats.maxSteps);
}

function expectSameBits(a: FloatArray, b: FloatArray, what: string): void {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  let first = -1;
  for (let i = 0; i < x.length && first < 0; i++) if (x[i] !== y[i]) first = Math.floor(i / a.BYTES_PER_ELEMENT);
  expect(first, `${what}: scalar and SIMD results differ first at element ${first} (${a[first]} vs ${b[first]})`).toBe(-1);
}

/** Runs fn over xs in both shapes of the precision, checks they agree bit for bit, and measures the error. */
function check(fn: MathFunction, p: Precision, label: string, raw: number[]): void {
  if (raw.length === 0) return;
  const xs = asArray(p, raw);
  const scalar = kernels.apply(fn, scalarShape(p), xs);
  const vector = kernels.apply(fn, vectorShape(p), xs);
  expectSameBits(scalar, vector, `${fn} ${p} ${label}`);
  const { want, lo } = reference(fn, p, xs);
  const stats = measure(xs, vector, want, p, lo);
  record(fn, scalarShape(p), stats);
  record(fn, vectorShape(p), stats);
  const where = `${fn} ${p} ${label}: max ${stats.maxUlp.toFixed(3)} ulp at x = ${stats.at} (got ${stats.got}, want ${stats.want})`;
  expect(stats.maxUlp, where).toBeLessThanOrEqual(BOUND[p]);
  if (p === "f32") expect(stats.maxSteps, where).toBeLessThanOrEqual(BOUND.f32);
}

function reference(fn: MathFunction, p: Precision, xs: FloatArray): { want: ArrayLike<number>; lo?: ArrayLike<number> } {
  if (p === "f32") {
    if (fn === "erf") return { want: erf64(Float64Array.from(xs)) };
    return { want: Array.from(xs, CASES[fn].f32) };
  }
  const values = Array.from(xs, CASES[fn].f64);
  if (typeof values[0] === "number") return { want: values as number[] };
  const pairs = values as DD[];
  return { want: pairs.map((v) => v[0]), lo: pairs.map((v) => v[1]) };
}

describe("accuracy against Math and double-double references", () => {
  for (const fn of ORDER) {
    for (const p of ["f64", "f32"] as const) {
      it(`${fn} ${p} / ${vectorShape(p)}: ≤ ${BOUND[p]} ulp, scalar and SIMD identical`, () => {
        for (const [label, inputs] of Object.entries(CASES[fn].inputs)) check(fn, p, label, inputs(p));
        if (fn === "erf" && p === "f64") erf64 = (xs) => kernels.apply("erf", "f64x2", xs);
      });
    }
  }

  it("erf's double-double reference matches known values", () => {
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [5, 0.9999999999984626],
    ];
    for (const [x, v] of known) expect(refErf(x)[0]).toBe(v);
  });
});

describe("special values", () => {
  for (const fn of ORDER) {
    for (const p of ["f32", "f64"] as const) {
      it(`${fn} ${p} and ${vectorShape(p)}`, () => {
        const c = CASES[fn];
        const pairs = [...c.special, ...((p === "f32" ? c.special32 : c.special64) ?? [])];
        const xs = asArray(p, pairs.map(([x]) => x));
        for (const shape of [scalarShape(p), vectorShape(p)]) {
          const got = kernels.apply(fn, shape, xs);
          pairs.forEach(([x, want], i) => {
            const w = p === "f32" ? Math.fround(want) : want;
            const text = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
            expect(Object.is(got[i], w) || (Number.isNaN(got[i]) && Number.isNaN(w)), `${fn}.${shape}(${text(x)}) = ${text(got[i])}, want ${text(w)}`).toBe(true);
          });
        }
      });
    }
  }

  it("sin and cos stay finite and within [-1, 1] for every finite input, far beyond the documented range", () => {
    for (const p of ["f32", "f64"] as const) {
      const raw = [...(p === "f32" ? randomFiniteF32(100_000, 5) : randomFiniteF64(100_000, 5)), 1e30, -3.4e38, 2 ** 22, 2 ** 51 + 1];
      const xs = asArray(p, p === "f32" ? raw.map(Math.fround).filter(Number.isFinite) : raw);
      for (const fn of ["sin", "cos"] as const) {
        for (const shape of [scalarShape(p), vectorShape(p)]) {
          const got = kernels.apply(fn, shape, xs);
          const bad = got.findIndex((v) => !(Math.abs(v) <= 1));
          expect(bad, `${fn}.${shape}(${xs[bad]}) = ${got[bad]}`).toBe(-1);
        }
      }
    }
  });

  it("tanh and sigmoid saturate to exactly ±1, 0, 1 without NaN; softplus is exact at both ends", () => {
    for (const p of ["f32", "f64"] as const) {
      const big = p === "f32" ? [110, 1e4, 3e38] : [800, 1e10, 1e308];
      const xs = asArray(p, [...big, ...big.map((v) => -v)]);
      const n = big.length;
      for (const shape of [scalarShape(p), vectorShape(p)]) {
        const tanh = kernels.apply("tanh", shape, xs);
        const sig = kernels.apply("sigmoid", shape, xs);
        const sp = kernels.apply("softplus", shape, xs);
        for (let i = 0; i < n; i++) {
          expect([tanh[i], tanh[i + n], sig[i], sig[i + n]]).toEqual([1, -1, 1, 0]);
          expect(sp[i]).toBe(xs[i]);
          expect(sp[i + n]).toBe(0);
        }
      }
    }
  });
});

describe("module integration", () => {
  it("adds each function once per module and shape (memoised), with a readable name", async () => {
    const mod = new ModuleBuilder("m");
    const a = useMath(mod, "exp", "f32x4");
    const b = math.use(mod, "exp", "f32x4");
    const c = math.use(mod, "exp", "f64");
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a.name).toBe("math.exp.f32x4");
    expect(a.type).toEqual({ params: ["v128"], results: ["v128"] });
    expect(c.type).toEqual({ params: ["f64"], results: ["f64"] });
    const other = new ModuleBuilder();
    expect(math.use(other, "exp", "f32x4")).not.toBe(a);
    mod.exportFunction("exp", a);
    const text = await wasmToText(mod.toBytes());
    expect(text.match(/\(func \$math\.exp\.f32x4 /g)).toHaveLength(1);
    expect(() => math.use(mod, "nope" as MathFunction, "f32")).toThrow(/no function "nope"/);
    expect(() => math.use(mod, "exp", "f16" as MathShape)).toThrow(/no shape "f16"/);
  });

  it("inline emission computes the same bits as the called function", () => {
    const mod = new ModuleBuilder();
    for (const fn of ORDER) {
      mod.exportFunction(`inline_${fn}`, mod.function(`inline_${fn}`, { params: { x: "f64" }, results: ["f64"] }, (f, { x }) => {
        f.localGet(x).f64Const(2).f64Mul();
        emitMathInline(f, fn, "f64");
      }));
      mod.exportFunction(`call_${fn}`, mod.function(`call_${fn}`, { params: { x: "f64" }, results: ["f64"] }, (f, { x }) => {
        f.localGet(x).f64Const(2).f64Mul().call(useMath(mod, fn, "f64"));
      }));
    }
    const e = new WebAssembly.Instance(new WebAssembly.Module(mod.toBytes())).exports as Record<string, (x: number) => number>;
    const xs = uniform(2000, -5, 5, 1);
    for (const fn of ORDER) for (const x of xs) expect(Object.is(e[`inline_${fn}`](x), e[`call_${fn}`](x)), `${fn}(${x})`).toBe(true);
  });

  it("f32 shapes use only f32 arithmetic, and no function uses relaxed SIMD (same bytes on every machine)", async () => {
    const mod = new ModuleBuilder();
    for (const fn of ORDER) for (const shape of math.shapes) useMath(mod, fn, shape);
    const bytes = mod.toBytes();
    expect(WebAssembly.validate(bytes)).toBe(true); // Node 20 rejects relaxed SIMD without its flag
    const text = await wasmToText(bytes);
    expect(text).not.toMatch(/relaxed/);
    const bodies = text.split("(func ").slice(1);
    for (const body of bodies) {
      const name = body.slice(0, body.indexOf(" "));
      if (name.endsWith(".f32") || name.endsWith(".f32x4")) expect(body, name).not.toMatch(/\bf64/);
    }
    const again = new ModuleBuilder();
    for (const fn of ORDER) for (const shape of math.shapes) useMath(again, fn, shape);
    expect(again.toBytes()).toEqual(bytes);
  });
});

describe("speed (printed only)", () => {
  it("elements per second: f32x4 over memory vs a JS loop calling Math over a Float32Array", () => {
    const n = 1 << 18;
    // One loop per function, each calling Math directly (monomorphic, as a hand-written kernel would).
    const jsLoops: Record<"exp" | "tanh" | "sigmoid" | "log", (a: Float32Array, out: Float32Array) => void> = {
      exp: (a, out) => {
        for (let i = 0; i < a.length; i++) out[i] = Math.exp(a[i]);
      },
      tanh: (a, out) => {
        for (let i = 0; i < a.length; i++) out[i] = Math.tanh(a[i]);
      },
      sigmoid: (a, out) => {
        for (let i = 0; i < a.length; i++) out[i] = 1 / (1 + Math.exp(-a[i]));
      },
      log: (a, out) => {
        for (let i = 0; i < a.length; i++) out[i] = Math.log(a[i]);
      },
    };
    const bestOf = (run: () => void) => {
      for (let i = 0; i < 6; i++) run();
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        run();
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    const lines: string[] = [];
    for (const [fn, js] of Object.entries(jsLoops) as [keyof typeof jsLoops, (a: Float32Array, out: Float32Array) => void][]) {
      kernels.timedRun(fn, "f32x4", 4 * n); // memory sized, code tiered up
      const input = new Float32Array(kernels.buffer, 0, n);
      const r = rng(3);
      for (let i = 0; i < n; i++) input[i] = fn === "log" ? 10 * r() + 1e-3 : 10 * r() - 5;
      const copy = Float32Array.from(input);
      const out = new Float32Array(n);
      const wasm = bestOf(() => kernels.timedRun(fn, "f32x4", 4 * n));
      const jsTime = bestOf(() => js(copy, out));
      const rate = (ms: number) => `${((n / ms) * 1e-3).toFixed(0)} M/s`;
      lines.push(`${fn.padEnd(8)} wasm f32x4 ${rate(wasm).padStart(9)}   JS Math ${rate(jsTime).padStart(9)}   ×${(jsTime / wasm).toFixed(1)}`);
    }
    console.log(`math speed (${n} elements, best of 5):\n${lines.join("\n")}`);
  });
});

afterAll(() => {
  const rows = [...summary.entries()].map(([key, s]) => {
    const steps = key.includes("f32") ? `, ≤ ${s.maxSteps} step(s) from correctly rounded` : "";
    return `${key.padEnd(17)} ${s.maxUlp.toFixed(3).padStart(6)} ulp${steps}   (x = ${s.at})`;
  });
  if (rows.length > 0) console.log(`math max errors:\n${rows.join("\n")}`);
});
