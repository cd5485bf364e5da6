/** Layouts and windows of an ONNX import: ONNX's channels-first tensors and filters as bpgen's, padding as net.json writes it. */
import type { Padding } from "../../spec/types.ts";

/** A row-major matrix [rows, cols] transposed. */
export function transposed(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** Gate blocks of `size` values each, reordered: block k of the result is block order[k] of `values`. */
export function blocks(values: Float64Array, order: readonly number[], size: number): Float64Array {
  const out = new Float64Array(order.length * size);
  order.forEach((from, to) => out.set(values.subarray(from * size, (from + 1) * size), to * size));
  return out;
}

/** ONNX's filter [out, in, taps...] as bpgen's [taps..., in, out]. */
export function channelsLastFilter(values: Float64Array, dims: readonly number[]): Float64Array {
  const [outC, inC] = dims;
  const taps = dims.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float64Array(values.length);
  for (let o = 0; o < outC; o++) for (let i = 0; i < inC; i++) for (let t = 0; t < taps; t++) out[(t * inC + i) * outC + o] = values[(o * inC + i) * taps + t];
  return out;
}

/** For an image [spatial..., C] flattened by bpgen: each element's position in ONNX's flattening of [C, spatial...]. */
export function channelsFirstPositions(shape: readonly number[]): Int32Array {
  const channels = shape[shape.length - 1];
  const positions = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const perm = new Int32Array(positions * channels);
  for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) perm[p * channels + c] = c * positions + p;
  return perm;
}

export function permuted(values: Float64Array, perm: Int32Array | undefined): Float64Array {
  return perm ? Float64Array.from(perm, (k) => values[k]) : values;
}

export function windowed(spatial: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[], sides: readonly [number, number][]): number[] {
  return spatial.map((size, k) => Math.floor((size + sides[k][0] + sides[k][1] - dilation[k] * (kernel[k] - 1) - 1) / stride[k]) + 1);
}

/** ONNX's SAME_UPPER (the odd cell after, bpgen's "same") or SAME_LOWER (before). */
export function sameSides(spatial: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[], lower: boolean): [number, number][] {
  return spatial.map((size, k) => {
    const out = Math.ceil(size / stride[k]);
    const total = Math.max(0, (out - 1) * stride[k] + dilation[k] * (kernel[k] - 1) + 1 - size);
    const small = Math.floor(total / 2);
    return lower ? [total - small, small] : [small, total - small];
  });
}

export function paddingSpec(sides: readonly [number, number][]): Padding {
  if (sides.every(([p, q]) => p === 0 && q === 0)) return "valid";
  if (sides.every(([p, q]) => p === q && p === sides[0][0])) return sides[0][0];
  return sides.map(([p, q]) => (p === q ? p : [p, q]));
}

