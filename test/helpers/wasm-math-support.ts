/**
 * Support for the math library tests: a module that maps each math function over memory arrays,
 * error measurement in ulps, and input generators.
 */
import { ModuleBuilder } from "../../src/render/wasm/encoder.ts";
import { type MathFunction, type MathShape, math } from "../../src/render/wasm/math.ts";

export type FloatArray = Float32Array | Float64Array;

const PAGE = 65536;

/**
 * One module with, for every (function, shape), an exported `map(src, dst, bytes)` that applies
 * the function to each element (each v128 for the vector shapes) of src and stores it to dst.
 */
export class MathKernels {
  private readonly memory: WebAssembly.Memory;
  private readonly exports: Record<string, unknown>;

  constructor(fns: readonly MathFunction[], shapes: readonly MathShape[] = math.shapes) {
    const mod = new ModuleBuilder("math_kernels");
    mod.defineMemory({ min: 1 }, "memory");
    for (const fn of fns) for (const shape of shapes) mod.exportFunction(kernelName(fn, shape), mapKernel(mod, fn, shape));
    const bytes = mod.toBytes();
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    this.exports = instance.exports as Record<string, unknown>;
    this.memory = this.exports.memory as WebAssembly.Memory;
  }

  /** fn(xs) elementwise; xs must be a Float32Array for f32 shapes and a Float64Array for f64 shapes. */
  apply(fn: MathFunction, shape: MathShape, xs: FloatArray): FloatArray {
    const bytes = xs.byteLength;
    const vector = shape === "f32x4" || shape === "f64x2";
    const padded = vector ? Math.ceil(bytes / 16) * 16 : bytes;
    const needed = 2 * padded;
    if (this.memory.buffer.byteLength < needed) this.memory.grow(Math.ceil((needed - this.memory.buffer.byteLength) / PAGE));
    new Uint8Array(this.memory.buffer, 0, padded).fill(0);
    new Uint8Array(this.memory.buffer, 0, bytes).set(new Uint8Array(xs.buffer, xs.byteOffset, bytes));
    const run = this.exports[kernelName(fn, shape)] as (src: number, dst: number, n: number) => void;
    run(0, padded, padded);
    const out = new Uint8Array(bytes);
    out.set(new Uint8Array(this.memory.buffer, padded, bytes));
    return xs instanceof Float32Array ? new Float32Array(out.buffer) : new Float64Array(out.buffer);
  }

  /** Runs the kernel over data already in memory (for timing): src at 0, dst after it. */
  timedRun(fn: MathFunction, shape: MathShape, bytes: number): void {
    if (this.memory.buffer.byteLength < 2 * bytes) this.memory.grow(Math.ceil((2 * bytes - this.memory.buffer.byteLength) / PAGE));
    (this.exports[kernelName(fn, shape)] as (src: number, dst: number, n: number) => void)(0, bytes, bytes);
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }
}

function kernelName(fn: MathFunction, shape: MathShape): string {
  return `map_${fn}_${shape}`;
}

function mapKernel(mod: ModuleBuilder, fn: MathFunction, shape: MathShape) {
  const callee = math.use(mod, fn, shape);
  const step = shape === "f32" ? 4 : shape === "f64" ? 8 : 16;
  return mod.function(`map.${fn}.${shape}`, { params: { src: "i32", dst: "i32", bytes: "i32" } }, (f, { src, dst, bytes }) => {
    const i = f.local("i32", "i");
    f.block((done) =>
      f.loop((next) => {
        f.localGet(i).localGet(bytes).i32GeU().brIf(done);
        f.localGet(dst).localGet(i).i32Add();
        f.localGet(src).localGet(i).i32Add();
        if (shape === "f32") f.f32Load().call(callee).f32Store();
        else if (shape === "f64") f.f64Load().call(callee).f64Store();
        else f.v128Load().call(callee).v128Store();
        f.localGet(i).i32Const(step).i32Add().localSet(i).br(next);
      }),
    );
  });
}

// ---- ulps ----------------------------------------------------------------------------------------

const view = new DataView(new ArrayBuffer(8));

/** Binary exponent of a finite nonzero double (floor(log2|x|)), exact, subnormals included. */
export function exponentOf(x: number): number {
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  return exponentOf(x * 2 ** 64) - 64;
}

/** The spacing of f32 (or f64) numbers at the magnitude of `exact`. */
export function ulpAt(exact: number, float: "f32" | "f64"): number {
  const [mant, minExp] = float === "f32" ? [23, -126] : [52, -1022];
  if (exact === 0) return 2 ** (minExp - mant);
  return 2 ** (Math.max(exponentOf(exact), minExp) - mant);
}

/**
 * Error of `got` against the reference `exact`, in ulps at the reference's magnitude (fractional:
 * a correctly rounded result has error ≤ 0.5). Equal values (±Infinity too) and NaN against NaN
 * give 0; any other mismatch of specials gives Infinity. Signed zeros are compared separately.
 */
export function ulpError(got: number, exact: number, float: "f32" | "f64"): number {
  if (Number.isNaN(exact) || Number.isNaN(got)) return Number.isNaN(exact) && Number.isNaN(got) ? 0 : Infinity;
  // An exact value beyond the largest f32 rounds to ±Infinity.
  const rounded = float === "f32" ? Math.fround(exact) : exact;
  if (got === exact || got === rounded) return 0;
  if (!Number.isFinite(got) || !Number.isFinite(rounded)) return Infinity;
  return Math.abs(got - exact) / ulpAt(exact, float);
}

/** Like ulpError, against the double-double hi + lo (the difference got − hi is exact when it matters). */
export function ulpErrorDd(got: number, hi: number, lo: number, float: "f32" | "f64"): number {
  if (!Number.isFinite(hi) || !Number.isFinite(got) || lo === 0) return ulpError(got, hi, float);
  if (got === hi + lo && Math.abs(lo) < ulpAt(hi, float) / 2 && float === "f32") return ulpError(got, hi, float);
  return Math.abs(got - hi - lo) / ulpAt(hi, float);
}

const f32Bits = new Int32Array(1);
const f32View = new Float32Array(f32Bits.buffer);

/** Integer steps between two f32 values (0 if equal), counting through zero. */
export function f32Steps(a: number, b: number): number {
  const ordered = (x: number) => {
    f32View[0] = x;
    const bits = f32Bits[0];
    return bits < 0 ? -(bits & 0x7fffffff) : bits;
  };
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(ordered(a) - ordered(b));
}

export interface ErrorStats {
  /** Max fractional error in ulps against the exact (or reference) value. */
  maxUlp: number;
  /** The input where it occurred, the result and the reference. */
  at: number;
  got: number;
  want: number;
  /** For f32: max integer distance in ulps from the correctly rounded result. */
  maxSteps: number;
  count: number;
}

/** Measures `got` against `want` (exact or high-precision reference values) for inputs `xs`. */
export function measure(
  xs: ArrayLike<number>,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  float: "f32" | "f64",
  /** Low parts of double-double references (want[i] + wantLo[i]), if any. */
  wantLo?: ArrayLike<number>,
): ErrorStats {
  const stats: ErrorStats = { maxUlp: 0, at: NaN, got: NaN, want: NaN, maxSteps: 0, count: xs.length };
  for (let i = 0; i < xs.length; i++) {
    const e = wantLo ? ulpErrorDd(got[i], want[i], wantLo[i], float) : ulpError(got[i], want[i], float);
    if (e > stats.maxUlp || (Number.isNaN(stats.at) && e > 0)) Object.assign(stats, { maxUlp: e, at: xs[i], got: got[i], want: want[i] });
    if (float === "f32") {
      const steps = f32Steps(got[i], Math.fround(want[i]));
      if (steps > stats.maxSteps) stats.maxSteps = steps;
    }
  }
  return stats;
}

// ---- inputs ----------------------------------------------------------------------------------------

/** A deterministic PRNG (xorshift128+ folded to [0, 1)). */
export function rng(seed: number): () => number {
  let s0 = (seed * 2654435761) >>> 0 || 1;
  let s1 = (seed ^ 0x9e3779b9) >>> 0 || 2;
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 2 ** 32 + ((s0 >>> 5) / 2 ** 59);
  };
}

/** n values uniform in [lo, hi]. */
export function uniform(n: number, lo: number, hi: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** n values with log-uniform magnitude in [2^loExp, 2^hiExp] and random sign (if `signed`). */
export function logUniform(n: number, loExp: number, hiExp: number, seed: number, signed = true): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const mag = 2 ** (loExp + (hiExp - loExp) * r());
    return signed && r() < 0.5 ? -mag : mag;
  });
}

/** n random f32 bit patterns that are finite (every magnitude, subnormals included). */
export function randomFiniteF32(n: number, seed: number): number[] {
  const r = rng(seed);
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const out: number[] = [];
  while (out.length < n) {
    bits[0] = Math.floor(r() * 2 ** 32);
    if (Number.isFinite(f[0])) out.push(f[0]);
  }
  return out;
}

/** n random finite f64 bit patterns. */
export function randomFiniteF64(n: number, seed: number): number[] {
  const r = rng(seed);
  const bits = new Uint32Array(2);
  const f = new Float64Array(bits.buffer);
  const out: number[] = [];
  while (out.length < n) {
    bits[0] = Math.floor(r() * 2 ** 32);
    bits[1] = Math.floor(r() * 2 ** 32);
    if (Number.isFinite(f[0])) out.push(f[0]);
  }
  return out;
}
