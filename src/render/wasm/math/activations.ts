/** tanh, sigmoid and softplus, built on the exp and log1p kernels. */
import { byPrecision } from "./common.ts";
import type { MathEmitter, Val } from "./dsl.ts";
import { exp, expInNormalRange } from "./exp.ts";
import { log1p } from "./log.ts";

interface TanhConstants {
  /** Below this |x| the odd polynomial is used; above, the exponential form (well conditioned there). */
  readonly small: number;
  /** Above this |x|, tanh rounds to ±1; |x| is clamped to it so that e^(2|x|) stays finite. */
  readonly saturate: number;
  /** P(z) with tanh(x) = x + x³·P(x²), constant term first. */
  readonly p: readonly number[];
}

const TANH: { f32: TanhConstants; f64: TanhConstants } = {
  f32: {
    small: 0.55,
    saturate: 10, // 1 − tanh(10) = 4e-9 < 2^-25
    p: [-0.3333331748597896, 0.1333258339014794, -0.05385199747151443, 0.021070300117686628, -0.006272166456587581],
  },
  f64: {
    small: 0.55,
    saturate: 20, // 1 − tanh(20) = 8.5e-18 < 2^-54
    p: [
      -0.333333333333333, 0.13333333333326558, -0.05396825396372302, 0.021869488384749225, -0.008863232582802591,
      0.003592091837016206, -0.0014555415671123131, 0.0005884390890032557, -0.00023336748626279222,
      8.329577365530281e-5, -1.9481621258361147e-5,
    ],
  },
};

/**
 * tanh. For |x| < 0.55: x + x³·P(x²), P the minimax polynomial for (tanh(√z) − √z)/z^1.5 on
 * z ∈ [0, 0.3025] weighted for the relative error of tanh (degree 4 for f32: 1.0e-9; degree 10 for
 * f64: 5.8e-19; Remez exchange in mpmath, rounded to f64). For |x| ≥ 0.55: 1 − 2/(e^(2|x|) + 1)
 * with the sign of x, where 2/(e^(2|x|) + 1) ≤ 1/2 so the subtraction loses nothing; |x| is clamped
 * at 10 (f32) / 20 (f64), beyond which tanh rounds to ±1, so large inputs give exactly ±1, never NaN.
 * NaN stays NaN; the sign is applied last (copysign), which keeps tanh(−0) = −0.
 */
export function tanh(m: MathEmitter, x: Val): Val {
  const c = byPrecision(m, TANH);
  const z = x.square();
  const small = x.add(x.mul(z).mul(m.poly(z, c.p)));
  const a = x.abs().atMost(c.saturate);
  const e = expInNormalRange(m, a.add(a));
  const large = m.f(1).sub(m.f(2).div(e.add(1)));
  // tanh has the sign of x; copysign also gives tanh(−0) = −0, which x + (+0) would not.
  return m.select(x.abs().lt(c.small), small, large).copysign(x);
}

/**
 * The logistic sigmoid 1/(1 + e^−x), stable in both tails: with E = e^−|x| ≤ 1 (never overflows),
 * σ(x) = 1/(1 + E) for x ≥ 0 and E/(1 + E) for x < 0. The rounding error of 1 + E is carried as
 * err = E − ((1 + E) − 1) (exact, since E ≤ 1) and applied as q − q·err/(1 + E), which removes
 * the largest error term; 1/(1 + E) there is q (x ≥ 0) or 1 − q (x < 0), so one division suffices. Large positive x give exactly 1, large negative x underflow gracefully
 * through subnormals to 0; NaN gives NaN.
 */
export function sigmoid(m: MathEmitter, x: Val): Val {
  const e = exp(m, x.abs().neg());
  const s = e.add(1);
  const err = e.sub(s.sub(1));
  const positive = x.ge(0);
  const q = m.select(positive, 1, e).div(s);
  // 1/(1 + E) is q itself for x ≥ 0 and 1 − q for x < 0: no second division for the correction
  const reciprocal = m.select(positive, q, m.f(1).sub(q));
  return q.sub(q.mul(err).mul(reciprocal));
}

/**
 * softplus log(1 + e^x), computed as max(x, 0) + log1p(e^−|x|): no overflow for large x
 * (softplus(1000) = 1000), graceful underflow for very negative x (softplus(−1000) = 0), and the
 * relative accuracy of log1p for the small second term. NaN gives NaN.
 */
export function softplus(m: MathEmitter, x: Val): Val {
  return x.atLeast(0).add(log1p(m, exp(m, x.abs().neg())));
}
