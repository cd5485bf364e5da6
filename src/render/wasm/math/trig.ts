/**
 * sin and cos.
 *
 * Reduction: k = round(x·2/π), r = x − k·π/2 by Cody–Waite with π/2 split into parts (five for
 * f32: four of 12 significant bits and one of 24; four for f64: three of 33 bits and one of 53),
 * so that k·p_i is exact while |k| < 2^12 (f32) or 2^20 (f64). x − k·p1 − k·p2 is exact; the
 * other parts are subtracted with two-sums whose errors are collected in rLo, so that
 * x − k·π/2 = r + rLo to about 2^-65 (f32) or 2^-130 (f64) absolute. That matters where sin or cos
 * is small: f32 inputs come within 2^-27.8 of a multiple of π/2 in this range. rLo enters the
 * kernels to first order. The error bound therefore
 * holds for |x| ≤ 2^12·π/2 ≈ 6434 (f32) and |x| ≤ 2^20·π/2 ≈ 1.6e6 (f64). Beyond, the products
 * are no longer exact and accuracy degrades gradually; r is clamped to [−0.8, 0.8] so results stay
 * finite and within [−1, 1] for every finite x (for |x| ≥ 2^22 (f32) / 2^51 (f64) they are
 * meaningless). ±Infinity and NaN give NaN.
 *
 * Kernels on |r| ≤ π/4, z = r²:
 *   sin r = r + r·z·S(z),  S minimax for (sin √z − √z)/z^1.5, relative weight;
 *   cos r = 1 − z/2 + z²·C(z), C minimax for (cos √z − 1 + z/2)/z², relative weight,
 *           with 1 − z/2 evaluated as w + ((1 − w) − z/2) (w = 1 − z/2 rounded), as in fdlibm.
 * Degrees 2 and 2 for f32 (4.1e-9, 1.3e-10), 5 and 5 for f64 (4.2e-18, 6.5e-20); coefficients from
 * a Remez exchange in mpmath, rounded to f64.
 *
 * The quadrant k mod 4 picks ±sin r or ±cos r; cos x is sin x with the quadrant advanced by one.
 */
import { byPrecision, flipSign, roundToInteger } from "./common.ts";
import type { MathEmitter, Val } from "./dsl.ts";

interface TrigConstants {
  /**
   * π/2 = p1 + p2 + … + pn (+ a remainder below 2^-72 relative): every part but the last has few
   * enough bits that k·p_i is exact for the k of the documented range; x − k·p1 − k·p2 is exact
   * too, and the remaining parts are subtracted with error-free two-sums.
   */
  readonly halfPiParts: readonly number[];
  /** Legitimate bound of the reduction's low part (keeps it bounded when r is clamped). */
  readonly loBound: number;
  readonly s: readonly number[];
  readonly c: readonly number[];
}

const TRIG: { f32: TrigConstants; f64: TrigConstants } = {
  f32: {
    // 12, 12, 12, 12 and 24 bits. f32 inputs get within 2^-27.8 of a multiple of π/2 (for k ≤ 2^12),
    // so r must be good to ~2^-54 absolute: hence five parts and the compensated subtractions.
    halfPiParts: [1.5703125, 0.0004837512969970703, 7.549533620476723e-8, 2.5632829192545614e-12, 6.123233601181349e-17],
    loBound: 2 ** -20,
    s: [-0.16666653867407294, 0.008332113280157002, -0.00019508773822691074],
    c: [0.04166664437446669, -0.0013887251810956896, 2.4425718805422886e-5],
  },
  f64: {
    // 33, 33, 33 and 53 bits.
    halfPiParts: [1.5707963267341256, 6.077100506303966e-11, 2.0222662487111665e-21, 8.4784276603689e-32],
    loBound: 2 ** -48,
    s: [
      -0.16666666666666627, 0.008333333333320947, -0.0001984126982862365, 2.7557313277732597e-6,
      -2.5050692746415738e-8, 1.589297757163703e-10,
    ],
    c: [
      0.04166666666666658, -0.0013888888888871384, 2.4801587287788003e-5, -2.7557313866998234e-7,
      2.0875657768814615e-9, -1.1356276754884112e-11,
    ],
  },
};

/** Keeps the kernels' inputs bounded (slightly beyond π/4) whatever the reduction gave. */
const R_LIMIT = 0.8;

/** a + b = sum + error exactly (Knuth's two-sum, no ordering requirement). */
function twoSum(a: Val, b: Val): { sum: Val; error: Val } {
  const sum = a.add(b);
  const bPart = sum.sub(a);
  return { sum, error: a.sub(sum.sub(bPart)).add(b.sub(bPart)) };
}

/** k = round(x·2/π) and x − k·π/2 = r + rLo. */
function reduceByHalfPi(m: MathEmitter, x: Val): { ki: Val; r: Val; rLo: Val } {
  const c = byPrecision(m, TRIG);
  const [p1, p2, ...rest] = c.halfPiParts;
  const { kf, ki } = roundToInteger(m, x.mul(2 / Math.PI));
  let hi = x.sub(kf.mul(p1)).sub(kf.mul(p2)); // exact: Sterbenz, then the difference fits the mantissa
  let lo: Val | undefined;
  for (const p of rest) {
    const { sum, error } = twoSum(hi, kf.mul(-p));
    hi = sum;
    lo = lo ? lo.add(error) : error;
  }
  // Outside the documented range (or for ±Infinity/NaN, which stay NaN) r may be anything: bound both parts.
  return { ki, r: hi.atLeast(-R_LIMIT).atMost(R_LIMIT), rLo: (lo ?? m.f(0)).atLeast(-c.loBound).atMost(c.loBound) };
}

/** sin x (quadrantOffset 0) or cos x (quadrantOffset 1). */
function sinOrCos(m: MathEmitter, x: Val, quadrantOffset: 0 | 1): Val {
  const c = byPrecision(m, TRIG);
  const { ki, r, rLo } = reduceByHalfPi(m, x);
  const z = r.square();
  const halfZ = z.mul(0.5);
  // sin(r + rLo) ≈ r + (rLo·(1 − z/2) + r·z·S); its sign is r's (|r| ≤ π/4), which also fixes sin(−0)
  const sinR = r.add(rLo.sub(rLo.mul(halfZ)).add(r.mul(z).mul(m.poly(z, c.s)))).copysign(r);
  // cos(r + rLo) ≈ cos r − r·rLo
  const w = m.f(1).sub(halfZ);
  const cosR = w.add(m.f(1).sub(w).sub(halfZ).add(z.square().mul(m.poly(z, c.c))).sub(r.mul(rLo)));
  const quadrant = quadrantOffset === 0 ? ki : ki.iadd(1);
  const odd = quadrant.iand(1).ieq(1);
  const value = m.select(odd, cosR, sinR);
  // quadrants 2 and 3 negate: move bit 1 of the quadrant to the sign bit
  const negate = quadrant.iand(2).shl(m.shape.bits - 2);
  return flipSign(value, negate);
}

export function sin(m: MathEmitter, x: Val): Val {
  return sinOrCos(m, x, 0);
}

export function cos(m: MathEmitter, x: Val): Val {
  return sinOrCos(m, x, 1);
}
