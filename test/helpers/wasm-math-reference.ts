/**
 * High-precision references for the math tests, in double-double arithmetic (a value is hi + lo
 * with |lo| ≤ ulp(hi)/2, about 106 bits): exp, expm1, log1p (Newton on exp), tanh, sigmoid,
 * softplus and erf (Taylor series below 2.5, continued fraction for erfc above). Written for these
 * tests, independently of the implementations under test; checked against known values.
 */

/** A double-double hi + lo. */
export type DD = readonly [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

const SPLITTER = 134217729; // 2^27 + 1

function split(a: number): DD {
  const t = SPLITTER * a;
  const hi = t - (t - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

export function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = quickTwoSum(s, e + t);
  return quickTwoSum(s2, e2 + f);
}

export function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

export function ddDiv(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  const r = ddAdd(a, ddMul(b, [-q1, 0]));
  const q2 = r[0] / b[0];
  const r2 = ddAdd(r, ddMul(b, [-q2, 0]));
  const q3 = r2[0] / b[0];
  return ddAdd(quickTwoSum(q1, q2), [q3, 0]);
}

/** a / b for a double b (cheaper than ddDiv; same accuracy). */
function ddDivNumber(a: DD, b: number): DD {
  const q1 = a[0] / b;
  const [p, e] = twoProd(q1, b);
  const q2 = (a[0] - p - e + a[1]) / b;
  return quickTwoSum(q1, q2);
}

const dd = (x: number): DD => [x, 0];
const neg = (a: DD): DD => [-a[0], -a[1]];
const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];
const TWO_OVER_SQRT_PI: DD = [1.1283791670955126, 1.533545961316588e-17];
const ONE_OVER_SQRT_PI: DD = [0.5641895835477563, 7.66772980658294e-18];

/** e^a − 1 for |a| ≤ ~0.35 (before the final scaling): Taylor series of e^(a/2^10) − 1, then 10 doublings. */
function ddExpm1Small(a: DD): DD {
  // e^a − 1 = a + a²/2 + …; below 2^-600 the square is beyond double-double precision (and a/1024
  // would lose a subnormal's bits).
  if (Math.abs(a[0]) < 2 ** -600) return a;
  const r: DD = [a[0] / 1024, a[1] / 1024];
  let term = r;
  let sum = r;
  for (let n = 2; n <= 12; n++) {
    term = ddDivNumber(ddMul(term, r), n);
    sum = ddAdd(sum, term);
  }
  // e^(2y) − 1 = (e^y − 1)·(e^y − 1 + 2)
  for (let i = 0; i < 10; i++) sum = ddMul(sum, ddAdd(sum, dd(2)));
  return sum;
}

/** e^a as a double-double (a a double-double); ±Infinity/0 beyond the range, as a pair. */
export function ddExp(a: DD): DD {
  if (a[0] > 709.8) return [Infinity, 0];
  if (a[0] < -745.2) return [0, 0];
  const k = Math.round(a[0] / LN2[0]);
  const r = ddAdd(a, neg(ddMul(LN2, dd(k))));
  const e = ddAdd(ddExpm1Small(r), dd(1));
  // scale in two steps so that 2^k never overflows on its own
  const k1 = Math.trunc(k / 2);
  const s1 = 2 ** k1;
  const s2 = 2 ** (k - k1);
  return [e[0] * s1 * s2, e[1] * s1 * s2];
}

/** e^x − 1, with relative accuracy near 0. */
export function refExpm1(x: number): DD {
  if (x > 709.8) return [Infinity, 0];
  if (Math.abs(x) < 0.3) return ddExpm1Small(dd(x));
  return ddAdd(ddExp(dd(x)), dd(-1));
}

/** log(1 + x) for x > −1: one Newton step y + ((1 + x)·e^−y − 1) from Math.log1p (≤ 1 ulp) doubles the bits. */
export function refLog1p(x: number): DD {
  if (x === Infinity) return [Infinity, 0];
  // log(1 + x) = log x + 1/x − …: the split in twoProd would overflow for such x
  if (x > 1e30) return ddAdd(refLog(x), dd(1 / x));
  const y = Math.log1p(x);
  const onePlusX = twoSum(1, x);
  // (1 + x)·e^−y − 1, computed as (1 + x)·(e^−y − 1) + x to keep its relative accuracy for small x
  const correction = ddAdd(ddMul(onePlusX, refExpm1Dd(dd(-y))), dd(x));
  return ddAdd(dd(y), correction);
}

function refExpm1Dd(a: DD): DD {
  if (Math.abs(a[0]) < 0.3) return ddExpm1Small(a);
  return ddAdd(ddExp(a), dd(-1));
}

/** log(x) for x > 0 (Newton step from Math.log). */
export function refLog(x: number): DD {
  if (x === Infinity) return [Infinity, 0];
  // x = mant·2^e exactly, mant in [1, 2): log x = log(mant) + e·ln2, so exp never leaves its range
  const e = exponentOf(x);
  const mant = x / 2 ** e;
  const y = Math.log(mant);
  const correction = ddAdd(ddMul(dd(mant), ddExp(dd(-y))), dd(-1)); // mant·e^−y − 1
  return ddAdd(ddAdd(dd(y), correction), ddMul(LN2, dd(e)));
}

function exponentOf(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  if (2 ** (e + 1) <= x) e++;
  return e;
}

export function refExp(x: number): DD {
  return ddExp(dd(x));
}

/** tanh via e^(2x) − 1 (relative accuracy near 0 from the small-argument expm1). */
export function refTanh(x: number): DD {
  const a = Math.abs(x);
  if (a > 20) return [Math.sign(x), 0];
  if (a < 1e-9) return [x, 0]; // tanh x = x − x³/3: the cube is below 2^-60 relative
  const em1 = refExpm1Dd(dd(2 * a));
  const t = ddDiv(em1, ddAdd(em1, dd(2)));
  return x < 0 ? neg(t) : t;
}

/** 1/(1 + e^−x). */
export function refSigmoid(x: number): DD {
  if (x >= 0) return ddDiv(dd(1), ddAdd(dd(1), ddExp(dd(-x))));
  const e = ddExp(dd(x));
  return ddDiv(e, ddAdd(dd(1), e));
}

/** log(1 + e^x) = max(x, 0) + log1p(e^−|x|). */
export function refSoftplus(x: number): DD {
  const e = ddExp(dd(-Math.abs(x)));
  // log1p of a double-double argument: Newton from Math.log1p of its head
  const y = Math.log1p(e[0]);
  const onePlusE = ddAdd(dd(1), e);
  const correction = ddAdd(ddMul(onePlusE, refExpm1Dd(dd(-y))), e);
  const l = ddAdd(dd(y), correction);
  return ddAdd(dd(Math.max(x, 0)), l);
}

/** erf(x): Taylor series for |x| ≤ 2.5, 1 − erfc(x) by continued fraction above. */
export function refErf(x: number): DD {
  if (Number.isNaN(x)) return [NaN, 0];
  const a = Math.abs(x);
  // erfc(27) < 1e-318: beyond, erf is 1 to any precision (and x² would overflow the split)
  const r = a <= 2.5 ? erfSeries(a) : a > 27 ? dd(1) : ddAdd(dd(1), neg(erfcContinuedFraction(a)));
  return x < 0 || Object.is(x, -0) ? neg(r) : r;
}

/** 2/√π · Σ (−1)^n x^(2n+1) / (n!·(2n+1)); terms grow to ~e^(x²) before decaying, costing ≤ 3 of 32 digits at 2.5. */
function erfSeries(x: number): DD {
  if (x === 0) return [0, 0];
  const x2 = twoProd(x, x);
  let power: DD = dd(x); // x^(2n+1)/n!
  let sum: DD = dd(x);
  for (let n = 1; n < 200; n++) {
    power = ddDivNumber(ddMul(power, x2), n);
    const term = ddDivNumber(power, 2 * n + 1);
    sum = ddAdd(sum, n % 2 === 1 ? neg(term) : term);
    if (Math.abs(term[0]) < 1e-34 * Math.abs(sum[0])) break;
  }
  return ddMul(TWO_OVER_SQRT_PI, sum);
}

/**
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated backwards
 * from deep enough that it has converged (x > 2.5). e^(−x²) uses the exactly split x² so only
 * Math.exp's error (≤ 1 ulp relative of a value below 4e-4) remains.
 */
function erfcContinuedFraction(x: number): DD {
  if (x === Infinity) return [0, 0];
  // Converged to double-double precision by depth 150 at x = 2.5 (60 from x = 4), checked against depth 3000.
  let tail: DD = dd(x);
  for (let k = x < 4 ? 150 : 60; k >= 1; k--) tail = ddAdd(dd(x), ddDiv(dd(k / 2), tail));
  const x2 = twoProd(x, x);
  const gaussian = ddExp(neg(x2));
  return ddDiv(ddMul(gaussian, ONE_OVER_SQRT_PI), tail);
}
