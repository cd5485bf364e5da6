import { describe, expect, it } from "vitest";
import { denseForward, denseTransposed, denseWeightGradient, matrixProduct, stepsWeightGradient } from "../templates/dense.ts";
import { makeRandom, normal } from "../src/check/data.ts";

const rand = makeRandom(99);
const fill = (n: number, zeros = 0) => Float64Array.from({ length: n }, () => (rand() < zeros ? 0 : normal(rand)));
const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-12 * (1 + Math.abs(b[i])) * 100);
};

// batch sizes around the block of four, and odd sizes, exercise every remainder path
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 4, 4],
  [5, 9, 3],
  [9, 6, 13],
  [8, 12, 2],
];

describe("dense kernels agree with the plain triple loops", () => {
  it.each(SHAPES)("batch %i, m %i, k %i", (batch, m, k) => {
    const wOff = 3;
    const W = fill(wOff + m * k);
    const xStride = k + 2;
    const xOff = 1;
    const x = fill(xOff + batch * xStride);
    const d = fill(batch * m, 0.3); // some zero deltas, as after a ReLU

    const out = new Float64Array(batch * m);
    denseForward(out, W, wOff, x, xOff, xStride, batch, m, k);
    const want = new Float64Array(batch * m);
    for (let s = 0; s < batch; s++)
      for (let i = 0; i < m; i++) for (let t = 0; t < k; t++) want[s * m + i] += W[wOff + i * k + t] * x[xOff + s * xStride + t];
    close(out, want);

    const back = new Float64Array(batch * k).fill(7); // must be overwritten
    denseTransposed(back, W, wOff, d, batch, m, k);
    const wantBack = new Float64Array(batch * k);
    for (let s = 0; s < batch; s++)
      for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) wantBack[s * k + j] += W[wOff + i * k + j] * d[s * m + i];
    close(back, wantBack);

    const g = fill(2 + m * k); // overwritten, except outside its region
    const wantG = Float64Array.from(g);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < k; j++) {
        let sum = 0;
        for (let s = 0; s < batch; s++) sum += d[s * m + i] * x[xOff + s * xStride + j];
        wantG[2 + i * k + j] = sum / batch;
      }
    denseWeightGradient(g, 2, d, x, xOff, xStride, batch, m, k, false);
    close(g, wantG);

    // added into what is there (a recurrence's step)
    const h = fill(2 + m * k);
    const wantH = Float64Array.from(h, (v, at) => (at < 2 ? v : v + wantG[at]));
    denseWeightGradient(h, 2, d, x, xOff, xStride, batch, m, k, true);
    close(h, wantH);

    // one sample's matrix product, its first operand read transposed: out[i, j] (+)= Σ_t a[t, i]·W[t, j]
    const rows = batch;
    const a = fill(5 + k * rows);
    const product = fill(rows * m);
    const wantProduct = new Float64Array(rows * m);
    for (let i = 0; i < rows; i++) for (let j = 0; j < m; j++) for (let t = 0; t < k; t++) wantProduct[i * m + j] += a[5 + t * rows + i] * W[wOff + t * m + j];
    const before = Float64Array.from(product);
    matrixProduct(product, 0, a, 5, 1, rows, W, wOff, m, 1, rows, m, k, true);
    close(product, Float64Array.from(wantProduct, (v, at) => v + before[at]));
    matrixProduct(product, 0, a, 5, 1, rows, W, wOff, m, 1, rows, m, k, false);
    close(product, wantProduct);
  });
});

describe("a recurrent weight's gradient over every step of every sample", () => {
  // 32768 / (m + k) rows to a chunk: 300 + 9 columns take 106, so 7 samples × 40 steps run in three chunks, the last short
  it.each([
    [7, 40, 300, 9],
    [3, 5, 7, 13],
    [1, 1, 2, 4],
  ])("batch %i, %i steps, m %i, k %i", (batch, steps, m, k) => {
    const d = fill(batch * steps * m, 0.3);
    const x = fill(batch * steps * k);
    const want = new Float64Array(m * k);
    for (let r = 0; r < batch * steps; r++) for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) want[i * k + j] += (d[r * m + i] * x[r * k + j]) / batch;
    // written over whatever was there (NaN included), except outside its region
    const g = new Float64Array(3 + m * k).fill(Number.NaN);
    g[0] = g[1] = g[2] = 5;
    stepsWeightGradient(g, 3, d, x, batch, steps, m, k, false);
    close(g, [5, 5, 5, ...want]);
    const h = fill(m * k);
    const wantH = Float64Array.from(h, (v, at) => v + want[at]);
    stepsWeightGradient(h, 0, d, x, batch, steps, m, k, true);
    close(h, wantH);
  });
});
