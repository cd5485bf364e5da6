/** Layouts and windows of an ONNX import: ONNX's channels-first tensors and filters as bpgen's, padding as net.json writes it. */
import type { Padding } from "../../spec/types.ts";
import type { Attributes } from "./read.ts";

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


/** The attributes bpgen reads of a Conv, and of a MaxPool or an AveragePool. */
export const CONV_ATTRIBUTES = ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"] as const;
export const poolAttributes = (max: boolean): readonly string[] =>
  max ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"] : ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"];

/** A window read from a Conv or pooling node: its taps, step, spacing, padding (each side, and as net.json writes it) and output size. */
export interface Window {
  readonly kernel: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly padding: { readonly spec: Padding; readonly sides: [number, number][] };
  /** The output's spatial sizes. */
  readonly out: number[];
}

/** A Conv's window over `spatial`, its taps the filter's: kernel_shape (if given) must be those. */
export function convWindow(a: Attributes, kernel: readonly number[], spatial: readonly number[], fail: (message: string) => never): Window {
  const declared = a.ints("kernel_shape");
  if (declared && declared.join() !== kernel.join()) a.refuse("kernel_shape", `[${declared.join(", ")}]`, `the filter's [${kernel.join(", ")}]`);
  const stride = a.ints("strides") ?? kernel.map(() => 1);
  const dilation = a.ints("dilations") ?? kernel.map(() => 1);
  const padding = windowPadding(a, spatial, kernel, stride, dilation, fail);
  return { kernel, stride, dilation, padding, out: windowed(spatial, kernel, stride, dilation, padding.sides) };
}

/** A MaxPool's or AveragePool's window over `spatial` (ceil_mode 0, no dilation; an average with padding counts the padded cells). */
export function poolWindow(a: Attributes, max: boolean, spatial: readonly number[], fail: (message: string) => never): Window {
  if (a.int("ceil_mode", 0) !== 0) a.refuse("ceil_mode", String(a.int("ceil_mode", 0)), "ceil_mode = 0 (bpgen's windows fit inside the padded input)");
  const n = spatial.length;
  const size = a.ints("kernel_shape");
  if (!size || size.length !== n) return a.refuse("kernel_shape", size ? `[${size.join(", ")}]` : "missing", `${n} window sizes`);
  const dilation = a.ints("dilations") ?? size.map(() => 1);
  if (dilation.some((d) => d !== 1)) a.refuse("dilations", `[${dilation.join(", ")}]`, "1 on every axis (bpgen's pooling windows are not dilated)");
  const stride = a.ints("strides") ?? size.map(() => 1);
  const padding = windowPadding(a, spatial, size, stride, dilation, fail);
  if (!max && a.int("count_include_pad", 0) !== 1 && padding.sides.some(([p, q]) => p + q > 0)) {
    a.refuse("count_include_pad", String(a.int("count_include_pad", 0)), "count_include_pad = 1 with padding (bpgen's average counts the padded cells as zeros, as PyTorch's default)");
  }
  return { kernel: size, stride, dilation, padding, out: windowed(spatial, size, stride, dilation, padding.sides) };
}

/** The cells before and after each spatial axis, from pads or auto_pad, and their net.json form. */
function windowPadding(a: Attributes, spatial: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[], fail: (message: string) => never): { spec: Padding; sides: [number, number][] } {
  const n = spatial.length;
  const auto = a.string("auto_pad", "NOTSET");
  if (auto === "SAME_UPPER") return { spec: "same", sides: sameSides(spatial, kernel, stride, dilation, false) };
  let sides: [number, number][];
  if (auto === "SAME_LOWER") sides = sameSides(spatial, kernel, stride, dilation, true);
  else if (auto === "VALID") sides = spatial.map(() => [0, 0]);
  else if (auto === "NOTSET") {
    const pads = a.ints("pads") ?? Array<number>(2 * n).fill(0);
    if (pads.length !== 2 * n || pads.some((p) => !Number.isInteger(p) || p < 0)) a.refuse("pads", `[${pads.join(", ")}]`, `${2 * n} cell counts ≥ 0`);
    sides = spatial.map((_, k) => [pads[k], pads[n + k]]);
  } else return a.refuse("auto_pad", auto, "NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  spatial.forEach((size, k) => {
    if (size + sides[k][0] + sides[k][1] < dilation[k] * (kernel[k] - 1) + 1) fail(`its window is larger than its padded input along spatial axis ${k + 1}`);
  });
  return { spec: paddingSpec(sides), sides };
}
