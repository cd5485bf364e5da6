/**
 * erf, the error function.
 *
 * |x| < 1: erf(x) = x + x·(P(x²) − 1), P the minimax polynomial for erf(√z)/√z on z ∈ [0, 1] with
 * relative weight (degree 6 for f32: 1.2e-9; degree 11 for f64: 7.4e-18).
 *
 * 1 ≤ |x|: erf(|x|) = 1 − e^(−x²)·R(|x|), R(x) = erfc(x)·e^(x²) a smooth function (≈ 1/(x√π) for
 * large x). R is a polynomial in t = |x| − mid, fitted by minimax with weight e^(−x²), i.e. for the
 * absolute error of erf (which is what matters: erf ≥ 0.84 here, so its ulp is constant), on
 * [1, 4] with mid = 2.5 and degree 8 for f32 (2.4e-9), on [1, 6] with mid = 3.5 and degree 20 for
 * f64 (1.0e-17). The shift keeps Horner's evaluation well conditioned (≤ 0.34 ulp of rounding,
 * checked in simulation). |x| is clamped at 4 / 6, beyond which erf rounds to ±1.
 *
 * All coefficients from a Remez exchange in 60-digit arithmetic (mpmath), rounded to f64. The
 * rounding of x² costs at most erfc(x)·x²·2^-p relative, below 0.2 ulp over the whole range.
 * ±0, ±Infinity (→ ±1) and NaN behave as in Math.
 */
import { byPrecision } from "./common.ts";
import type { MathEmitter, Val } from "./dsl.ts";
import { expInNormalRange } from "./exp.ts";

interface ErfConstants {
  readonly inner: readonly number[];
  readonly outer: readonly number[];
  readonly mid: number;
  readonly saturate: number;
}

const ERF: { f32: ErfConstants; f64: ErfConstants } = {
  f32: {
    inner: [
      1.1283791657175104, -0.3761262574973063, 0.11283584181883648, -0.026853766489426972, 0.00518823189926979,
      -0.0008009269589625843, 7.850538745139621e-5,
    ],
    outer: [
      0.21080761397712586, -0.07434219666320072, 0.024914283560059293, -0.008133142471450425, 0.0023022001137706204,
      -0.0006595637804763826, 0.0005456196323261446, 0.00022631636321771557, 0.00010708985066253946,
    ],
    mid: 2.5,
    saturate: 4, // 1 − erf(4) = 1.5e-8 < 2^-25
  },
  f64: {
    inner: [
      1.1283791670955126, -0.37612638903183515, 0.11283791670944078, -0.02686617064309393, 0.005223977605970355,
      -0.0008548325922034795, 0.00012055293354397576, -1.492470794437213e-5, 1.6447076863067511e-6,
      -1.620588809743222e-7, 1.3709112143475456e-8, -7.775933390627217e-10,
    ],
    outer: [
      0.15529365560721053, -0.04132357783163925, 0.01066113334074581, -0.0026730738134672014, 0.0006526865687767471,
      -0.000155472727087803, 3.617245839630778e-5, -8.243123707879792e-6, 1.8490023650114394e-6,
      -3.777827340426954e-7, 1.0105179955919335e-7, -2.347967425515065e-8, -1.123630556179536e-8,
      -1.0910919322994243e-8, -1.7793765619707302e-9, 1.690774282794007e-9, 1.5679097165290406e-9,
      6.27617088081527e-10, 1.4705313325462056e-10, 1.94498466897224e-11, 1.1768028476449603e-12,
    ],
    mid: 3.5,
    saturate: 6, // 1 − erf(6) = 2.2e-17 < 2^-54
  },
};

export function erf(m: MathEmitter, x: Val): Val {
  const c = byPrecision(m, ERF);
  // x + x·(P − 1) rather than x·P: the rounding of P's leading coefficient 2/√π to f32 alone would
  // cost up to an ulp, while P − 1 ≤ 0.13 contributes its rounding only at an eighth of the scale.
  const inner = x.add(x.mul(m.poly(x.square(), [c.inner[0] - 1, ...c.inner.slice(1)])));
  const a = x.abs().atLeast(1).atMost(c.saturate);
  const gaussian = expInNormalRange(m, a.square().neg());
  const outer = m.f(1).sub(gaussian.mul(m.poly(a.sub(c.mid), c.outer))).copysign(x);
  return m.select(x.abs().lt(1), inner, outer);
}
