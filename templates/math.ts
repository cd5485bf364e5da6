// Scalar helpers for emitted element expressions: written once here, copied into a module only when used.

/** Logistic sigmoid 1 / (1 + e^−x), finite for every finite x (e^−x may overflow to ∞, giving 0). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** softplus(x) = log(1 + e^x), in the overflow-free form max(x, 0) + log1p(e^−|x|). */
export function softplus(x: number): number {
  return (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
