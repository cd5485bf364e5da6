// Optimizer updates for trainStep/applyGradients: each is one fused pass over the parameters that clips
// the gradient (global-norm scale, then clamp by value) and applies its update rule in place. The raw
// gradient `g` is never modified, so callers can still inspect it after the step.

// Hyperparameters reach these loops in one Float64Array `h`, filled by the module before each call, so the
// calls pass only arrays and integers: a number argument to a call V8 does not inline is boxed on the heap,
// which would make every training step allocate. Slots:
//   h[0] lr   h[1] scale (min(1, clipNorm/‖g‖))   h[2] clip (clipValue, or Infinity)   h[3] μ (momentum)
//   h[4] β₁   h[5] β₂   h[6] ε   h[7] c₁ = 1 − β₁ᵗ   h[8] c₂ = 1 − β₂ᵗ   h[9] weight decay   h[10] Σ g² (output)

/** Σ g[i]² over g[0 .. n) into h[10]: the squared global norm of a gradient, for clipping by norm and for diagnostics. */
export function optSumSquares(g: Float32Array | Float64Array, n: number, h: Float64Array): void {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += g[i]! * g[i]!;
  h[10] = acc;
}

/**
 * Plain SGD with clipping: p ← p − lr · ĝ, where ĝ = clamp(scale · g, −clip, clip).
 * `scale` is min(1, clipNorm / ‖g‖) (1 without norm clipping); `clip` is Infinity without value clipping.
 */
export function optSgd(p: Float32Array | Float64Array, g: Float32Array | Float64Array, n: number, h: Float64Array): void {
  const lr = h[0]!;
  const scale = h[1]!;
  const clip = h[2]!;
  for (let i = 0; i < n; i++) {
    let gi = g[i]! * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    p[i]! -= lr * gi;
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
  h: Float64Array,
  nesterov: boolean,
): void {
  const lr = h[0]!;
  const scale = h[1]!;
  const clip = h[2]!;
  const mu = h[3]!;
  for (let i = 0; i < n; i++) {
    let gi = g[i]! * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    const vi = mu * v[i]! + gi;
    v[i] = vi;
    p[i]! -= nesterov ? lr * (gi + mu * vi) : lr * vi;
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
  h: Float64Array,
): void {
  const lr = h[0]!;
  const scale = h[1]!;
  const clip = h[2]!;
  const beta1 = h[4]!;
  const beta2 = h[5]!;
  const epsilon = h[6]!;
  const c1 = h[7]!;
  const c2 = h[8]!;
  const keep = 1 - lr * h[9]!;
  for (let i = 0; i < n; i++) {
    let gi = g[i]! * scale;
    if (gi > clip) gi = clip;
    else if (gi < -clip) gi = -clip;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i]! * keep - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
  }
}

/** Throws a RangeError naming an optimizer setting unless `ok`; allocates only when it throws. */
export function optCheck(name: string, ok: boolean, value: number | string, expected: string): void {
  if (!ok) throw new RangeError(`optimizer ${name} must be ${expected}, got ${value}`);
}

// uses: editDistance
/** Throws a RangeError for a key of `config` that is not a setting, naming the nearest one. */
export function optKeys(config: object, known: readonly string[]): void {
  if (config === null || typeof config !== "object") throw new TypeError(`optimizer settings must be an object, got ${config === null ? "null" : typeof config}`);
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    let best = known[0]!;
    let bestDistance = Infinity;
    for (const k of known) {
      const d = editDistance(key.toLowerCase(), k.toLowerCase());
      if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    const hint = bestDistance <= Math.max(2, key.length / 3) ? `; did you mean "${best}"?` : `; the settings are ${known.join(", ")}`;
    throw new RangeError(`unknown optimizer setting "${key}"${hint}`);
  }
}

/** Levenshtein distance (insertions, deletions and substitutions). */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}
