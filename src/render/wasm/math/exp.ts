/**
 * exp and expm1.
 *
 * Range reduction (both): k = round(x / ln 2), r = x − k·ln2_hi − k·ln2_lo (Cody–Waite: ln2_hi has
 * few enough bits that k·ln2_hi and x − k·ln2_hi are exact), so |r| ≤ ln2/2 (plus rounding slack)
 * and e^x = 2^k · e^r.
 *
 * Kernel: e^r − 1 = r + r²·P(r). P is the minimax polynomial for (e^r − 1 − r)/r² on
 * [−ln2/2, ln2/2] weighted by r²/e^r, i.e. minimising the relative error of e^r itself; degree 4
 * for f32 (relative error 3.1e-9 ≈ 0.05 ulp) and degree 9 for f64 (3.6e-18 ≈ 0.03 ulp). The
 * coefficients were computed once with a Remez exchange in 60-digit arithmetic (mpmath) and are
 * stored rounded to f64 (and rounded again to f32 by the f32 shapes).
 */
import { byPrecision, roundToInteger, pow2, scaleByPow2 } from "./common.ts";
import type { MathEmitter, Val } from "./dsl.ts";

interface ExpConstants {
  /** ln 2 split: hi has trailing zero bits so that k·hi is exact for every k reached. */
  readonly ln2Hi: number;
  readonly ln2Lo: number;
  /** Minimax P(r) ≈ (e^r − 1 − r)/r², constant term first. */
  readonly p: readonly number[];
  /** exp: below this the result is 0, above it +Infinity (with margin; clamping keeps k small). */
  readonly expMin: number;
  readonly expMax: number;
  /** expm1: below this the result rounds to −1. */
  readonly expm1Min: number;
  /** expm1: for k above this, e^x − 1 rounds like e^x (the −1 is below an eighth of an ulp). */
  readonly expm1BigK: number;
}

const EXP: { f32: ExpConstants; f64: ExpConstants } = {
  f32: {
    ln2Hi: 0.693359375, // 0x3f318000: 9 significant bits, k has at most 8
    ln2Lo: -2.1219444005469058e-4,
    p: [0.49999993447796487, 0.16666520631709497, 0.041668388045313996, 0.00836871687972814, 0.0013814598646664034],
    expMin: -104, // e^-104 < 2^-150: rounds to 0
    expMax: 89, // e^89 > FLT_MAX
    expm1Min: -18, // e^-18 < 2^-25
    expm1BigK: 26,
  },
  f64: {
    ln2Hi: 6.93147180369123816490e-1, // 0x3fe62e42fee00000: 32 significant bits, k has at most 11
    ln2Lo: 1.90821492927058770002e-10,
    p: [
      0.5000000000000011, 0.16666666666666413, 0.041666666666530155, 0.008333333333494461, 0.0013888888943630114,
      0.00019841269506578688, 2.480149309890655e-5, 2.7557586373840165e-6, 2.763024837921144e-7, 2.5000061602835666e-8,
    ],
    expMin: -746, // e^-746 < 2^-1075
    expMax: 710, // e^710 > DBL_MAX
    expm1Min: -40, // e^-40 < 2^-54
    expm1BigK: 55,
  },
};

const LOG2E = Math.LOG2E;

interface Reduced {
  /** x − k·ln 2, rounded. */
  r: Val;
  /** The rounding error of r: x − k·ln 2 = r + c (to well beyond working precision). */
  c: Val;
  kf: Val;
  ki: Val;
}

/** k = round(x/ln2) and r = x − k·ln2 (Cody–Waite), with the rounding error of r. x must be clamped. */
export function reduceByLn2(m: MathEmitter, x: Val): Reduced {
  const { ln2Hi, ln2Lo } = byPrecision(m, EXP);
  const { kf, ki } = roundToInteger(m, x.mul(LOG2E));
  const rHi = x.sub(kf.mul(ln2Hi)); // exact
  const kLo = kf.mul(ln2Lo);
  const r = rHi.sub(kLo);
  const c = rHi.sub(r).sub(kLo);
  return { r, c, kf, ki };
}

/** e^r − 1 for |r| ≲ ln2/2: r + r²·P(r). */
export function expm1Kernel(m: MathEmitter, r: Val): Val {
  return r.add(r.square().mul(m.poly(r, byPrecision(m, EXP).p)));
}

/**
 * e^x. Overflow gives +Infinity, underflow 0 or a correctly scaled subnormal; NaN gives NaN
 * (the clamps keep NaN). Error: ≤ 1 ulp (see the tests for the measured maximum).
 */
export function exp(m: MathEmitter, x: Val): Val {
  const c = byPrecision(m, EXP);
  const clamped = x.atLeast(c.expMin).atMost(c.expMax);
  const { r, ki } = reduceByLn2(m, clamped);
  return scaleByPow2(m, expm1Kernel(m, r).add(1), ki);
}

/**
 * e^x for x known to lie in [−ln2·(bias−1), ln2·bias] (no clamping, one scaling multiply): for
 * callers that bound their argument, such as tanh.
 */
export function expInNormalRange(m: MathEmitter, x: Val): Val {
  const { r, ki } = reduceByLn2(m, x);
  return expm1Kernel(m, r).add(1).mul(pow2(m, ki));
}

/**
 * e^x − 1, accurate near 0 (relative error) and everywhere else.
 *
 * With s = 2^k: e^x − 1 = (s − 1) + s·(e^r − 1), where s − 1 is exact for the k that matter and
 * e^r − 1 comes from the kernel, corrected by the reduction's rounding error c
 * (e^(r+c) − 1 ≈ (e^r − 1) + c·(1 + r)) — without the correction the k = 1 case (x just above
 * ln2/2, where 2·(e^r − 1) and 1 nearly cancel) loses an ulp. For k > expm1BigK the −1 no longer
 * matters and e^x is computed as for exp (which also overflows properly). Keeps the sign of ±0.
 */
export function expm1(m: MathEmitter, x: Val): Val {
  const k = byPrecision(m, EXP);
  const clamped = x.atLeast(k.expm1Min).atMost(k.expMax);
  const { r, c, kf, ki } = reduceByLn2(m, clamped);
  const em1 = expm1Kernel(m, r);
  const corrected = em1.add(c.add(c.mul(r)));
  const s = pow2(m, ki); // garbage for k beyond the exponent range; those lanes take the other branch
  const moderate = s.sub(1).add(s.mul(corrected));
  const big = scaleByPow2(m, em1.add(1), ki);
  const result = m.select(kf.gt(k.expm1BigK), big, moderate);
  // k = 0 gives r = x and c = 0, so result = em1 = x + x²·P(x), except that −0 + (+0) is +0.
  return m.select(x.eq(0), x, result);
}
