/** Building blocks shared by the math functions: rounding to an integer, powers of two, per-precision constants. */
import type { MathEmitter, Val } from "./dsl.ts";

/** Constants chosen by the shape's float precision. */
export function byPrecision<T>(m: MathEmitter, constants: { f32: T; f64: T }): T {
  return constants[m.shape.float];
}

/**
 * Rounds `y` to the nearest integer (ties to even) and returns it both as a float (`kf`) and as an
 * integer in int lanes (`ki`), with one addition: adding 1.5·2^mantissa pushes the fraction bits
 * out, so the integer sits in the low bits of the sum's bit pattern. Needs |y| < 2^(mantissa−1),
 * which callers ensure by clamping. (f64x2 has no float↔i64 conversions; this needs none.)
 */
export function roundToInteger(m: MathEmitter, y: Val): { kf: Val; ki: Val } {
  const shifter = 1.5 * 2 ** m.shape.mantissaBits;
  const t = y.add(shifter);
  return { kf: t.sub(shifter), ki: t.bits().isub(m.floatBits(shifter)) };
}

/** 2^k as a float, for an integer k in the normal exponent range (k + bias in [1, 2·bias]). */
export function pow2(m: MathEmitter, k: Val): Val {
  return k.iadd(m.shape.exponentBias).shl(m.shape.mantissaBits).asFloat();
}

/**
 * p · 2^k for |k| up to about twice the exponent range: the power is split into two factors
 * 2^(k>>1) · 2^(k − (k>>1)), each a normal float, so that results which overflow become ±Infinity
 * and results in the subnormal range are rounded once, correctly, by the second multiplication.
 */
export function scaleByPow2(m: MathEmitter, p: Val, k: Val): Val {
  const half = k.shrS(1);
  return p.mul(pow2(m, half)).mul(pow2(m, k.isub(half)));
}

/** `value` with its sign flipped where the int `flip` has the sign bit set (and only the sign bit may be set). */
export function flipSign(value: Val, flip: Val): Val {
  return value.bits().ixor(flip).asFloat();
}
