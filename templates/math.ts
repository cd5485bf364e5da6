// Scalar helpers for emitted element expressions: written once here, copied into a module only when used.

/** Logistic sigmoid 1 / (1 + e^−x), finite for every finite x (e^−x may overflow to ∞, giving 0). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** softplus(x) = log(1 + e^x), in the overflow-free form max(x, 0) + log1p(e^−|x|). */
export function softplus(x: number): number {
  return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to about 1e-15: its Maclaurin series below |x| = 2
 * (at most about a bit of cancellation there), 1 − erfc(|x|) from the continued fraction beyond.
 */
// uses: erfcTail
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 2)) return x !== x ? x : Math.sign(x) * (1 - erfcTail(a));
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n;
    const next = term / (2 * n + 1);
    sum += next;
    if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
  }
  return sum * 1.1283791670955126;
}

/** The complementary error function erfc(x) = 1 − erf(x), without the cancellation for large x. */
// uses: erf, erfcTail
export function erfc(x: number): number {
  if (x >= 2) return erfcTail(x);
  if (x <= -2) return 2 - erfcTail(-x);
  return 1 - erf(x);
}

/**
 * erfc(x) for x ≥ 2 from its continued fraction e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
 * evaluated with the modified Lentz method until a step changes it by less than 1e-16.
 */
export function erfcTail(x: number): number {
  if (x > 27) return 0;
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * 1.7724538509055159);
}

/** Rounding half away from zero, as mathjs's round does (Math.round rounds halves up: −2.5 → −2). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** mathjs's mod: the remainder with the sign of the divisor, x − y·floor(x/y). */
export function floorMod(x: number, y: number): number {
  return x - y * Math.floor(x / y);
}
