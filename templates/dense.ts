// Batched kernels for dense layers: one call covers every sample of the batch. Each works on 2×4 tiles
// of its output held in eight registers, so every value loaded from memory feeds two or four
// multiply-adds; edges that do not fill a tile run as plain loops. Arrays are addressed as
// (array, offset, row stride), so parameters, the caller's input rows and workspace buffers pass without copies.

/**
 * Forward product for every sample: out[s·m + i] = Σ_t W[w + i·k + t] · x[xOff + s·xStride + t].
 * Tiles: two weight rows × four samples.
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
  const sTiles = batch - (batch % 4);
  const iTiles = m - (m % 2);
  for (let s = 0; s < sTiles; s += 4) {
    const x0 = xOff + s * xStride;
    const x1 = x0 + xStride;
    const x2 = x1 + xStride;
    const x3 = x2 + xStride;
    for (let i = 0; i < iTiles; i += 2) {
      const r0 = w + i * k;
      const r1 = r0 + k;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let t = 0; t < k; t++) {
        const u = W[r0 + t]!;
        const v = W[r1 + t]!;
        const p0 = x[x0 + t]!;
        const p1 = x[x1 + t]!;
        const p2 = x[x2 + t]!;
        const p3 = x[x3 + t]!;
        a0 += u * p0; a1 += u * p1; a2 += u * p2; a3 += u * p3;
        b0 += v * p0; b1 += v * p1; b2 += v * p2; b3 += v * p3;
      }
      const o = s * m + i;
      out[o] = a0; out[o + m] = a1; out[o + 2 * m] = a2; out[o + 3 * m] = a3;
      out[o + 1] = b0; out[o + 1 + m] = b1; out[o + 1 + 2 * m] = b2; out[o + 1 + 3 * m] = b3;
    }
  }
  // edges: the last row when m is odd, the last samples when batch is not a multiple of four
  for (let s = 0; s < batch; s++) {
    for (let i = s < sTiles ? iTiles : 0; i < m; i++) {
      const row = w + i * k;
      const x0 = xOff + s * xStride;
      let a = 0;
      for (let t = 0; t < k; t++) a += W[row + t]! * x[x0 + t]!;
      out[s * m + i] = a;
    }
  }
}

/**
 * Product with the transposed weights for every sample (the backward pass to a layer's input):
 * out[s·k + j] = Σ_i W[w + i·k + j] · d[s·m + i]. Tiles: two samples × four output columns.
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
  const sTiles = batch - (batch % 2);
  const jTiles = k - (k % 4);
  for (let s = 0; s < sTiles; s += 2) {
    const d0 = s * m;
    const d1 = d0 + m;
    for (let j = 0; j < jTiles; j += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let i = 0; i < m; i++) {
        const r = w + i * k + j;
        const u0 = W[r]!;
        const u1 = W[r + 1]!;
        const u2 = W[r + 2]!;
        const u3 = W[r + 3]!;
        const p = d[d0 + i]!;
        const q = d[d1 + i]!;
        a0 += u0 * p; a1 += u1 * p; a2 += u2 * p; a3 += u3 * p;
        b0 += u0 * q; b1 += u1 * q; b2 += u2 * q; b3 += u3 * q;
      }
      const o = s * k + j;
      out[o] = a0; out[o + 1] = a1; out[o + 2] = a2; out[o + 3] = a3;
      out[o + k] = b0; out[o + k + 1] = b1; out[o + k + 2] = b2; out[o + k + 3] = b3;
    }
  }
  // edges: the last columns when k is not a multiple of four, the last sample when batch is odd
  for (let s = 0; s < batch; s++) {
    for (let j = s < sTiles ? jTiles : 0; j < k; j++) {
      let a = 0;
      for (let i = 0; i < m; i++) a += W[w + i * k + j]! * d[s * m + i]!;
      out[s * k + j] = a;
    }
  }
}

/**
 * Weight gradient averaged over the batch: g[gOff + i·k + j] = (1/batch) · Σ_s d[s·m + i] · x[xOff + s·xStride + j],
 * or with `add` added into g (one step of a recurrence, whose shared weight's gradient sums the steps).
 * Tiles: two gradient rows × four columns, summed over the samples in registers and written once, so the gradient
 * needs neither zeroing beforehand nor a scaling pass afterwards.
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
  add: boolean,
): void {
  const scale = 1 / batch;
  const iTiles = m - (m % 2);
  const jTiles = k - (k % 4);
  for (let i = 0; i < iTiles; i += 2) {
    for (let j = 0; j < jTiles; j += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let s = 0; s < batch; s++) {
        const u = d[s * m + i]!;
        const v = d[s * m + i + 1]!;
        const r = xOff + s * xStride + j;
        const p0 = x[r]!;
        const p1 = x[r + 1]!;
        const p2 = x[r + 2]!;
        const p3 = x[r + 3]!;
        a0 += u * p0; a1 += u * p1; a2 += u * p2; a3 += u * p3;
        b0 += v * p0; b1 += v * p1; b2 += v * p2; b3 += v * p3;
      }
      const g0 = gOff + i * k + j;
      const g1 = g0 + k;
      if (add) {
        g[g0]! += scale * a0; g[g0 + 1]! += scale * a1; g[g0 + 2]! += scale * a2; g[g0 + 3]! += scale * a3;
        g[g1]! += scale * b0; g[g1 + 1]! += scale * b1; g[g1 + 2]! += scale * b2; g[g1 + 3]! += scale * b3;
      } else {
        g[g0] = scale * a0; g[g0 + 1] = scale * a1; g[g0 + 2] = scale * a2; g[g0 + 3] = scale * a3;
        g[g1] = scale * b0; g[g1 + 1] = scale * b1; g[g1 + 2] = scale * b2; g[g1 + 3] = scale * b3;
      }
    }
  }
  // edges: the last columns when k is not a multiple of four, the last row when m is odd
  for (let i = 0; i < m; i++) {
    for (let j = i < iTiles ? jTiles : 0; j < k; j++) {
      let a = 0;
      for (let s = 0; s < batch; s++) a += d[s * m + i]! * x[xOff + s * xStride + j]!;
      if (add) g[gOff + i * k + j]! += scale * a;
      else g[gOff + i * k + j] = scale * a;
    }
  }
}

/**
 * A recurrent weight's gradient over every step, averaged over the batch: g[gOff + i·k + j] = (1/batch) ·
 * Σ_r d[r·m + i] · x[r·k + j] over the batch × steps rows of two stacks (row t of sample s is row s·steps + t), or with
 * `add` added into g. One product after the reverse sweep instead of one per step. The rows are taken in chunks that
 * stay in cache while every tile of two gradient rows × four columns sums them in registers and adds them into g.
 */
export function stepsWeightGradient(
  g: Float32Array | Float64Array,
  gOff: number,
  d: Float32Array | Float64Array,
  x: Float32Array | Float64Array,
  batch: number,
  steps: number,
  m: number,
  k: number,
  add: boolean,
): void {
  const scale = 1 / batch;
  const rows = batch * steps;
  const chunk = Math.max(4, Math.floor(32768 / (m + k)));
  const iTiles = m - (m % 2);
  const jTiles = k - (k % 4);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    // the first chunk writes (unless adding), the later ones add
    const keep = add || r0 > 0;
    for (let i = 0; i < iTiles; i += 2) {
      for (let j = 0; j < jTiles; j += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (let r = r0; r < r1; r++) {
          const u = d[r * m + i]!;
          const v = d[r * m + i + 1]!;
          const q = r * k + j;
          const p0 = x[q]!;
          const p1 = x[q + 1]!;
          const p2 = x[q + 2]!;
          const p3 = x[q + 3]!;
          a0 += u * p0; a1 += u * p1; a2 += u * p2; a3 += u * p3;
          b0 += v * p0; b1 += v * p1; b2 += v * p2; b3 += v * p3;
        }
        const g0 = gOff + i * k + j;
        const g1 = g0 + k;
        if (keep) {
          g[g0]! += scale * a0; g[g0 + 1]! += scale * a1; g[g0 + 2]! += scale * a2; g[g0 + 3]! += scale * a3;
          g[g1]! += scale * b0; g[g1 + 1]! += scale * b1; g[g1 + 2]! += scale * b2; g[g1 + 3]! += scale * b3;
        } else {
          g[g0] = scale * a0; g[g0 + 1] = scale * a1; g[g0 + 2] = scale * a2; g[g0 + 3] = scale * a3;
          g[g1] = scale * b0; g[g1 + 1] = scale * b1; g[g1 + 2] = scale * b2; g[g1 + 3] = scale * b3;
        }
      }
    }
    // edges: the last columns when k is not a multiple of four, the last row when m is odd
    for (let i = 0; i < m; i++) {
      for (let j = i < iTiles ? jTiles : 0; j < k; j++) {
        let a = 0;
        for (let r = r0; r < r1; r++) a += d[r * m + i]! * x[r * k + j]!;
        if (keep) g[gOff + i * k + j]! += scale * a;
        else g[gOff + i * k + j] = scale * a;
      }
    }
  }
}

/**
 * One sample's product of two matrices, row-major into out: out[o + i·n + j] = Σ_t a[aOff + i·aRow + t·aCol] ·
 * b[bOff + t·bRow + j·bCol] for i < m, j < n, or with `add` added into out (one sample's part of a filter's
 * gradient): a convolution's windows times its filter, and its gradients; the strides read either operand
 * transposed. Tiles: two rows × four columns.
 */
export function matrixProduct(
  out: Float32Array | Float64Array,
  o: number,
  a: Float32Array | Float64Array,
  aOff: number,
  aRow: number,
  aCol: number,
  b: Float32Array | Float64Array,
  bOff: number,
  bRow: number,
  bCol: number,
  m: number,
  n: number,
  k: number,
  add: boolean,
): void {
  const iTiles = m - (m % 2);
  const jTiles = n - (n % 4);
  for (let i = 0; i < iTiles; i += 2) {
    for (let j = 0; j < jTiles; j += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let p = aOff + i * aRow;
      let q = bOff + j * bCol;
      for (let t = 0; t < k; t++) {
        const u = a[p]!;
        const v = a[p + aRow]!;
        const w0 = b[q]!;
        const w1 = b[q + bCol]!;
        const w2 = b[q + 2 * bCol]!;
        const w3 = b[q + 3 * bCol]!;
        a0 += u * w0; a1 += u * w1; a2 += u * w2; a3 += u * w3;
        b0 += v * w0; b1 += v * w1; b2 += v * w2; b3 += v * w3;
        p += aCol;
        q += bRow;
      }
      const r0 = o + i * n + j;
      const r1 = r0 + n;
      if (add) {
        out[r0]! += a0; out[r0 + 1]! += a1; out[r0 + 2]! += a2; out[r0 + 3]! += a3;
        out[r1]! += b0; out[r1 + 1]! += b1; out[r1 + 2]! += b2; out[r1 + 3]! += b3;
      } else {
        out[r0] = a0; out[r0 + 1] = a1; out[r0 + 2] = a2; out[r0 + 3] = a3;
        out[r1] = b0; out[r1 + 1] = b1; out[r1 + 2] = b2; out[r1 + 3] = b3;
      }
    }
  }
  // edges: the last columns when n is not a multiple of four, the last row when m is odd
  for (let i = 0; i < m; i++) {
    for (let j = i < iTiles ? jTiles : 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += a[aOff + i * aRow + t * aCol]! * b[bOff + t * bRow + j * bCol]!;
      if (add) out[o + i * n + j]! += acc;
      else out[o + i * n + j] = acc;
    }
  }
}
