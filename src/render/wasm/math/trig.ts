/**
 * sin and cos.
 *
 * Reduction: k = round(x·2/π), r = x − k·π/2 by Cody–Waite with π/2 split into four parts
 * p1 + p2 + p3 + p4 (the first three with 12 significant bits for f32, 33 for f64, the last one
 * full), so that k·p_i is exact while |k| < 2^12 (f32) or 2^20 (f64): |r| ≤ π/4 and
 * x = r + k·π/2 to about 2^-72 (f32) or 2^-150 (f64) relative to π/2. The reduced argument is
 * kept as r + rLo (the rounding error of the last subtraction) and rLo enters the kernels to first
 * order, so the reduction costs well under an ulp even where sin or cos is small. The error bound therefore
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
  readonly halfPiParts: readonly [number, number, number, number];
  readonly s: readonly number[];
  readonly c: readonly number[];
}

const TRIG: { f32: TrigConstants; f64: TrigConstants } = {
  f32: {
    halfPiParts: [1.5703125, 0.0004837512969970703, 7.549533620476723e-8, 2.5633440682570896e-12],
    s: [-0.16666653867407294, 0.008332113280157002, -0.00019508773822691074],
    c: [0.04166664437446669, -0.0013887251810956896, 2.4425718805422886e-5],
  },
  f64: {
    halfPiParts: [1.5707963267341256, 6.077100506303966e-11, 2.0222662487111665e-21, 8.4784276603689e-32],
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

/** sin x (quadrantOffset 0) or cos x (quadrantOffset 1). */
function sinOrCos(m: MathEmitter, x: Val, quadrantOffset: 0 | 1): Val {
  const c = byPrecision(m, TRIG);
  const [p1, p2, p3, p4] = c.halfPiParts;
  const { kf, ki } = roundToInteger(m, x.mul(2 / Math.PI));
  // x − k·p1 and then − k·p2 are exact (Sterbenz; the difference fits the mantissa while k is in
  // range); the small tail k·(p3 + p4) is subtracted once, keeping that rounding error as rLo.
  const head = x.sub(kf.mul(p1)).sub(kf.mul(p2));
  const tail = kf.mul(p3).add(kf.mul(p4));
  const r = head.sub(tail).atLeast(-R_LIMIT).atMost(R_LIMIT);
  const rLo = head.sub(r).sub(tail); // x − k·π/2 ≈ r + rLo (0 where r was clamped: garbage anyway)
  const z = r.square();
  const halfZ = z.mul(0.5);
  // sin(r + rLo) ≈ r + (rLo·(1 − z/2) − r·z·(−S)); subtracting the products keeps sin(−0) = −0
  const sinR = r.sub(r.mul(z).mul(m.poly(z, c.s.map((v) => -v))).sub(rLo.sub(rLo.mul(halfZ))));
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
