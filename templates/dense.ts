// Batched kernels for dense layers: one call covers every sample of the batch, so each weight loaded from
// memory feeds several multiply-adds (four samples, or four rows of the gradient) held in registers.
// Arrays are addressed as (array, offset, row stride), so parameters, the caller's input rows and
// workspace buffers all pass without copies.

/**
 * Forward product for every sample: out[s·m + i] = Σ_t W[w + i·k + t] · x[xOff + s·xStride + t].
 * Four samples share each weight load; the last few samples run one at a time.
 */
export function denseForward(
  out: Float32Array | Float64Array,
  W: Float32Array | Float64Array,
  w: number,
  x: Float32Array | Float64Array,
  xOff: number,
  xStride: number,
  batch: number,
  m: number,
  k: number,
): void {
  let s = 0;
  for (; s + 4 <= batch; s += 4) {
    const x0 = xOff + s * xStride;
    const x1 = x0 + xStride;
    const x2 = x1 + xStride;
    const x3 = x2 + xStride;
    for (let i = 0; i < m; i++) {
      const row = w + i * k;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let t = 0; t < k; t++) {
        const wt = W[row + t];
        a0 += wt * x[x0 + t];
        a1 += wt * x[x1 + t];
        a2 += wt * x[x2 + t];
        a3 += wt * x[x3 + t];
      }
      out[s * m + i] = a0;
      out[(s + 1) * m + i] = a1;
      out[(s + 2) * m + i] = a2;
      out[(s + 3) * m + i] = a3;
    }
  }
  for (; s < batch; s++) {
    const x0 = xOff + s * xStride;
    for (let i = 0; i < m; i++) {
      const row = w + i * k;
      let a0 = 0;
      let a1 = 0;
      let t = 0;
      for (; t + 2 <= k; t += 2) {
        a0 += W[row + t] * x[x0 + t];
        a1 += W[row + t + 1] * x[x0 + t + 1];
      }
      if (t < k) a0 += W[row + t] * x[x0 + t];
      out[s * m + i] = a0 + a1;
    }
  }
}

/**
 * Product with the transposed weights for every sample (the backward pass to a layer's input):
 * out[s·k + j] = Σ_i W[w + i·k + j] · d[s·m + i]. Each weight row is streamed once per four samples
 * into four output rows that stay in cache.
 */
export function denseTransposed(
  out: Float32Array | Float64Array,
  W: Float32Array | Float64Array,
  w: number,
  d: Float32Array | Float64Array,
  batch: number,
  m: number,
  k: number,
): void {
  out.fill(0, 0, batch * k);
  let s = 0;
  for (; s + 4 <= batch; s += 4) {
    const o0 = s * k;
    const o1 = o0 + k;
    const o2 = o1 + k;
    const o3 = o2 + k;
    for (let i = 0; i < m; i++) {
      const d0 = d[s * m + i];
      const d1 = d[(s + 1) * m + i];
      const d2 = d[(s + 2) * m + i];
      const d3 = d[(s + 3) * m + i];
      if (d0 === 0 && d1 === 0 && d2 === 0 && d3 === 0) continue;
      const row = w + i * k;
      for (let j = 0; j < k; j++) {
        const wj = W[row + j];
        out[o0 + j] += wj * d0;
        out[o1 + j] += wj * d1;
        out[o2 + j] += wj * d2;
        out[o3 + j] += wj * d3;
      }
    }
  }
  for (; s < batch; s++) {
    const o0 = s * k;
    for (let i = 0; i < m; i++) {
      const d0 = d[s * m + i];
      if (d0 === 0) continue;
      const row = w + i * k;
      for (let j = 0; j < k; j++) out[o0 + j] += W[row + j] * d0;
    }
  }
}

/**
 * Weight gradient summed over the batch: g[gOff + i·k + j] += Σ_s d[s·m + i] · x[xOff + s·xStride + j].
 * Four gradient rows stay in cache while every sample's input row is streamed past them once; rows
 * whose deltas are all zero (inactive ReLUs) are skipped.
 */
export function denseWeightGradient(
  g: Float32Array | Float64Array,
  gOff: number,
  d: Float32Array | Float64Array,
  x: Float32Array | Float64Array,
  xOff: number,
  xStride: number,
  batch: number,
  m: number,
  k: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const g0 = gOff + i * k;
    const g1 = g0 + k;
    const g2 = g1 + k;
    const g3 = g2 + k;
    for (let s = 0; s < batch; s++) {
      const d0 = d[s * m + i];
      const d1 = d[s * m + i + 1];
      const d2 = d[s * m + i + 2];
      const d3 = d[s * m + i + 3];
      if (d0 === 0 && d1 === 0 && d2 === 0 && d3 === 0) continue;
      const row = xOff + s * xStride;
      for (let j = 0; j < k; j++) {
        const xj = x[row + j];
        g[g0 + j] += d0 * xj;
        g[g1 + j] += d1 * xj;
        g[g2 + j] += d2 * xj;
        g[g3 + j] += d3 * xj;
      }
    }
  }
  for (; i < m; i++) {
    const g0 = gOff + i * k;
    for (let s = 0; s < batch; s++) {
      const d0 = d[s * m + i];
      if (d0 === 0) continue;
      const row = xOff + s * xStride;
      for (let j = 0; j < k; j++) g[g0 + j] += d0 * x[row + j];
    }
  }
}
