/**
 * log and log1p.
 *
 * Reduction: x = 2^k · (1 + f) with 1 + f in [√2/2, √2), found from the bit pattern (adding
 * bits(1) − bits(√2/2) carries into the exponent exactly when the mantissa is at least √2/2's).
 * Then log x = k·ln2 + log(1 + f), with ln2 split (Cody–Waite) so k·ln2_hi is exact.
 *
 * Kernel (as in fdlibm): s = f/(2 + f), so log(1 + f) = 2·atanh(s) = 2s + s·R, R = z·T(z), z = s²,
 * |s| ≤ 0.1716; evaluated as f − (hf − s·(hf + R)) with hf = f²/2, which keeps the leading terms
 * exact. T is the minimax polynomial for (2·atanh(√z)/√z − 2)/z on [0, 0.0300] weighted by z/2
 * (i.e. minimising the relative error of log(1 + f)): degree 2 for f32 (8.8e-10), degree 6 for
 * f64 (1.4e-18). Coefficients from a Remez exchange in 60-digit arithmetic (mpmath), rounded to f64.
 */
import { byPrecision } from "./common.ts";
import type { MathEmitter, Val } from "./dsl.ts";

interface LogConstants {
  readonly ln2Hi: number;
  readonly ln2Lo: number;
  /** T(z), constant term first. */
  readonly t: readonly number[];
  /** bits(1.0) − bits(√2/2): adding it carries into the exponent iff the mantissa ≥ √2/2's. */
  readonly sqrtHalfOffset: bigint;
  readonly sqrtHalfBits: bigint;
  readonly mantissaMask: bigint;
  readonly smallestNormal: number;
  /** Scale for subnormal inputs (a power of two that makes them normal), and its log2. */
  readonly subnormalScaleLog2: number;
}

const LOG: { f32: LogConstants; f64: LogConstants } = {
  f32: {
    ln2Hi: 0.693359375, // 9 significant bits; |k| ≤ 150 has 8
    ln2Lo: -2.1219444005469058e-4,
    t: [0.666667832229961, 0.39976612321305677, 0.2989865499463927],
    sqrtHalfOffset: 0x3f800000n - 0x3f3504f3n,
    sqrtHalfBits: 0x3f3504f3n,
    mantissaMask: 0x007fffffn,
    smallestNormal: 2 ** -126,
    subnormalScaleLog2: 25,
  },
  f64: {
    ln2Hi: 6.93147180369123816490e-1, // 32 significant bits; |k| ≤ 1075 has 11
    ln2Lo: 1.90821492927058770002e-10,
    t: [
      0.6666666666666745, 0.39999999999339336, 0.2857142876059536, 0.22222196570137154, 0.18183674826769053,
      0.15311072372260062, 0.14827151620715184,
    ],
    sqrtHalfOffset: 0x3ff0000000000000n - 0x3fe6a09e667f3bcdn,
    sqrtHalfBits: 0x3fe6a09e667f3bcdn,
    mantissaMask: 0x000fffffffffffffn,
    smallestNormal: 2 ** -1022,
    subnormalScaleLog2: 54,
  },
};

/** x = 2^k·(1 + f) for a positive normal x: k as a float, f in [√2/2 − 1, √2 − 1). */
function splitExponent(m: MathEmitter, x: Val): { k: Val; f: Val } {
  const c = byPrecision(m, LOG);
  const shifted = x.bits().iadd(c.sqrtHalfOffset);
  const k = shifted.shrS(m.shape.mantissaBits).isub(m.shape.exponentBias).toFloat();
  const mantissa = shifted.iand(c.mantissaMask).iadd(c.sqrtHalfBits).asFloat();
  return { k, f: mantissa.sub(1) };
}

/**
 * k·ln2 + log(1 + f) + lo, where `lo` is a small correction added with the low-order terms
 * (log1p's rounding error of 1 + x, divided by 1 + x).
 */
function logOfParts(m: MathEmitter, k: Val, f: Val, lo?: Val): Val {
  const c = byPrecision(m, LOG);
  const s = f.div(f.add(2));
  const z = s.square();
  const r = z.mul(m.poly(z, c.t));
  const hf = f.square().mul(0.5);
  const kLo = lo ? k.mul(c.ln2Lo).add(lo) : k.mul(c.ln2Lo);
  return k.mul(c.ln2Hi).sub(hf.sub(s.mul(hf.add(r)).add(kLo)).sub(f));
}

/**
 * The value of log-like functions outside the domain where the formula applies, from the argument
 * `u` of the logarithm: log(0) = −Infinity, log(negative) = NaN, log(+Infinity) = +Infinity, NaN → NaN.
 */
function withSpecialValues(m: MathEmitter, u: Val, value: Val): Val {
  const regular = u.gt(0).and(u.lt(Infinity));
  const special = m.select(u.eq(0), -Infinity, m.select(u.lt(0), NaN, u));
  return m.select(regular, value, special);
}

/** Natural logarithm. Subnormal inputs are scaled into the normal range first. */
export function log(m: MathEmitter, x: Val): Val {
  const c = byPrecision(m, LOG);
  const subnormal = x.lt(c.smallestNormal);
  const scaled = m.select(subnormal, x.mul(2 ** c.subnormalScaleLog2), x);
  const parts = splitExponent(m, scaled);
  const k = parts.k.sub(m.select(subnormal, c.subnormalScaleLog2, 0));
  return withSpecialValues(m, x, logOfParts(m, k, parts.f));
}

/**
 * log(1 + x), accurate for small |x|: u = 1 + x is rounded, and its rounding error
 * c = x − (u − 1) (or 1 − (u − x) when u ≥ 2, where that form is the exact one) enters as
 * log(u + c) ≈ log(u) + c/u. For tiny x this makes the result x itself. Keeps the sign of ±0.
 * u is never subnormal (x ≥ −1 near −1 is a multiple of ulp(1)/2), so no scaling is needed.
 */
export function log1p(m: MathEmitter, x: Val): Val {
  const u = x.add(1);
  const error = m.select(u.ge(2), u.sub(x).neg().add(1), x.sub(u.sub(1)));
  const { k, f } = splitExponent(m, u);
  const result = withSpecialValues(m, u, logOfParts(m, k, f, error.div(u)));
  return m.select(x.eq(0), x, result);
}
