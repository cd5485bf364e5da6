/**
 * Reference values of the special functions the op table needs and JavaScript's Math lacks, computed by
 * quadrature — a method independent of the series and continued fraction the generated code uses
 * (templates/math.ts) and of the WebAssembly library's polynomials, so each checks the others.
 */

/** Nodes and weights of 16-point Gauss–Legendre quadrature on [−1, 1] (the positive half; symmetric). */
const NODES = [0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438, 0.755404408355003, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499];
const WEIGHTS = [0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767, 0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541];

/** ∫ₐᵇ f, on pieces of length at most `step`, 16 points each. */
function integrate(f: (t: number) => number, a: number, b: number, step: number): number {
  const pieces = Math.max(1, Math.ceil((b - a) / step));
  const h = (b - a) / pieces;
  let total = 0;
  for (let p = 0; p < pieces; p++) {
    const mid = a + (p + 0.5) * h;
    let s = 0;
    for (let k = 0; k < NODES.length; k++) {
      const d = (NODES[k] as number) * (h / 2);
      s += (WEIGHTS[k] as number) * (f(mid - d) + f(mid + d));
    }
    total += (s * h) / 2;
  }
  return total;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (odd; 1 − erfc beyond 1). */
export function erfFn(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  const value = a > 1 ? 1 - erfcFn(a) : TWO_OVER_SQRT_PI * integrate((t) => Math.exp(-t * t), 0, a, 0.25);
  return x < 0 ? -value : value;
}

/** erfc(x) = 2/√π e^(−x²) ∫₀^∞ e^(−2xu − u²) du for x ≥ 0 (no cancellation); 2 − erfc(−x) below 0. */
export function erfcFn(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfcFn(-x);
  if (x > 27) return 0;
  // the integrand has fallen below e^(−40) of its start by u = 40 / (2x + 6)
  const end = 40 / (2 * x + 6);
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * integrate((u) => Math.exp(-2 * x * u - u * u), 0, end, end / 16);
}
