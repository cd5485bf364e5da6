// Optimizer updates for trainStep/applyGradients: each is one fused pass over the parameters that clips
// the gradient (global-norm scale, then clamp by value) and applies its update rule in place. The raw
// gradient `g` is never modified, so callers can still inspect it after the step.

/** Σ g[i]² over g[0 .. n): the squared global norm of a gradient, for clipping by norm and for diagnostics. */
export function optSumSquares(g: Float32Array | Float64Array, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += g[i] * g[i];
  return acc;
}

/**
 * Plain SGD with clipping: p ← p − lr · ĝ, where ĝ = clamp(scale · g, −clip, clip).
 * `scale` is min(1, clipNorm / ‖g‖) (1 without norm clipping); `clip` is Infinity without value clipping.
 */
export function optSgd(p: Float32Array | Float64Array, g: Float32Array | Float64Array, n: number, lr: number, scale: number, clip: number): void {
  for (let i = 0; i < n; i++) {
    let gi = g[i] * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    p[i] -= lr * gi;
  }
}

/**
 * SGD with momentum, the TensorFlow/PyTorch convention (no dampening): v ← μ·v + ĝ, then
 * p ← p − lr · v, or with Nesterov p ← p − lr · (ĝ + μ·v). ĝ is the clipped gradient as in optSgd.
 */
export function optMomentum(
  p: Float32Array | Float64Array,
  g: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  n: number,
  lr: number,
  mu: number,
  nesterov: boolean,
  scale: number,
  clip: number,
): void {
  for (let i = 0; i < n; i++) {
    let gi = g[i] * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    const vi = mu * v[i] + gi;
    v[i] = vi;
    p[i] -= nesterov ? lr * (gi + mu * vi) : lr * vi;
  }
}

/**
 * Adam (Kingma & Ba) with bias correction, and AdamW's decoupled weight decay when `decay` > 0
 * (Loshchilov & Hutter, as PyTorch's AdamW): m ← β₁m + (1−β₁)ĝ, v ← β₂v + (1−β₂)ĝ²,
 * p ← p·(1 − lr·decay) − lr · (m / c₁) / (√(v / c₂) + ε), with c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ at step t.
 */
export function optAdam(
  p: Float32Array | Float64Array,
  g: Float32Array | Float64Array,
  m: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  c1: number,
  c2: number,
  decay: number,
  scale: number,
  clip: number,
): void {
  const keep = 1 - lr * decay;
  for (let i = 0; i < n; i++) {
    let gi = g[i] * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * keep - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
  }
}

/** Throws a RangeError naming an optimizer setting unless `ok`; allocates only when it throws. */
export function optCheck(name: string, ok: boolean, value: number | string, expected: string): void {
  if (!ok) throw new RangeError(`optimizer ${name} must be ${expected}, got ${value}`);
}
