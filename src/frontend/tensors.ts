/**
 * Functions of tensors of any rank, built from the graph's views (ir/axes.ts View): reshapes, permutations
 * of axes, padding, batched products, and the sliding windows behind convolutions and pooling. Tensors are
 * channels-last, as in TF.js and Keras: x is [..., spatial dimensions, channels], and the dimensions in front
 * (a batch, or none) are carried through. Filters are [taps..., in channels, out channels].
 */
import { type SlicePart, type View, broadcastShapes, permuteView, reshapeView, strides } from "../ir/axes.ts";
import type { Graph } from "../ir/graph.ts";
import { type Node, type Shape, shapeText, sizeOf } from "../ir/node.ts";
import { ArgumentError, type Literal } from "./arguments.ts";

const listText = (xs: readonly number[]) => `[${xs.join(", ")}]`;
/** A literal as equations write it: `[1, 2]`, `"same"`. */
const show = (l: Literal | undefined): string =>
  l === undefined ? "nothing" : typeof l === "number" ? String(l) : typeof l === "string" ? JSON.stringify(l) : `[${l.map(show).join(", ")}]`;

// ---- reshape, transpose, pad, matmul -------------------------------------------------------------------

/** mathjs's reshape: the elements in row-major order, laid out in `sizes` (one of them may be −1: the rest). */
export function reshape(g: Graph, x: Node, sizes: Literal | undefined): Node {
  if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && (s === -1 || (s as number) >= 1))) {
    throw new ArgumentError("reshape(x, sizes) needs the new sizes as a list of positive integers (one may be −1)", "a list such as [4, 3] or [-1, 3]", show(sizes));
  }
  const given = sizes as number[];
  const free = given.filter((s) => s === -1).length;
  const known = given.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  const total = sizeOf(x.shape);
  if (free > 1 || (free === 1 && total % known !== 0)) {
    throw new ArgumentError(`reshape(x, sizes) can infer at most one size, and ${total} elements must divide into the others`, `sizes whose product is ${total}`, listText(given));
  }
  const shape = given.map((s) => (s === -1 ? total / known : s));
  if (sizeOf(shape) !== total) {
    throw new ArgumentError(`reshape of ${shapeText(x.shape)} (${total} elements) to ${listText(shape)} (${sizeOf(shape)} elements)`, `sizes whose product is ${total}`, listText(shape));
  }
  return toShape(g, x, shape);
}

/** `x` laid out in `shape` (the same number of elements, row-major). */
export function toShape(g: Graph, x: Node, shape: Shape): Node {
  return g.view(x, reshapeView(shape, `reshape|${listText(shape)}`), shape);
}

/**
 * transpose(x) of a vector or a matrix, as mathjs; transpose(x, perm) of any tensor: dimension d of the
 * result is dimension perm[d] of x (one-based, as numpy's axes would be counted from 1).
 */
export function transpose(g: Graph, x: Node, perm: Literal | undefined): Node {
  if (perm === undefined) {
    if (x.shape.length <= 2) return g.transpose(x);
    throw new ArgumentError(
      `transpose(x) of ${shapeText(x.shape)}: mathjs transposes only matrices, and numpy would reverse every axis`,
      `transpose(x, [${x.shape.map((_, d) => x.shape.length - d).join(", ")}]) for the reversal, or another order of 1 to ${x.shape.length}`,
      shapeText(x.shape),
    );
  }
  const rank = x.shape.length;
  const valid = Array.isArray(perm) && perm.length === rank && [...perm].sort().every((p, d) => p === d + 1);
  if (!valid) throw new ArgumentError(`transpose(x, perm) needs an order of the dimensions 1 to ${rank} of ${shapeText(x.shape)}`, `a list such as [${x.shape.map((_, d) => rank - d).join(", ")}]`, show(perm));
  const axes = (perm as number[]).map((p) => p - 1);
  if (rank === 2 && axes[0] === 1) return g.transpose(x);
  return g.view(x, permuteView(x.shape, axes, `transpose|${listText(axes.map((a) => a + 1))}`), axes.map((a) => x.shape[a]));
}

/** numpy's pad with a constant: `widths` before and after each dimension (a number for all sides, or per dimension). */
export function pad(g: Graph, x: Node, widths: Literal | undefined, value: Literal | undefined): Node {
  const rank = x.shape.length;
  const fill = value ?? 0;
  if (typeof fill !== "number") throw new ArgumentError("pad(x, widths, value) takes a number as the value", "a number such as 0 or -Infinity", show(value));
  const sides = typeof widths === "number" ? x.shape.map(() => sidesOf(widths)) : Array.isArray(widths) && widths.length === rank ? widths.map(sidesOf) : [];
  if (sides.length !== rank || sides.some((s) => s === undefined)) {
    throw new ArgumentError(`pad(x, widths) needs a width for all sides, or [before, after] for each of the ${rank} dimensions of ${shapeText(x.shape)}`, `a number, or a list such as [${x.shape.map(() => "[0, 1]").join(", ")}]`, show(widths));
  }
  return padBy(g, x, sides as [number, number][], fill);
}

/** Cells before and after one dimension: a number for both, or [before, after]; non-negative integers. */
function sidesOf(w: Literal): [number, number] | undefined {
  if (typeof w === "number") return Number.isInteger(w) && w >= 0 ? [w, w] : undefined;
  if (Array.isArray(w) && w.length === 2 && w.every((v) => Number.isInteger(v) && (v as number) >= 0)) return [w[0] as number, w[1] as number];
  return undefined;
}

function padBy(g: Graph, x: Node, sides: readonly (readonly [number, number])[], fill: number): Node {
  const parts: SlicePart[] = x.shape.map((size, d) => ({ start: sides[d][0], count: size, keep: true }));
  return g.unslice(x, parts, x.shape.map((size, d) => size + sides[d][0] + sides[d][1]), fill);
}

/**
 * numpy's matmul: the matrix product of the last two dimensions, the dimensions in front broadcast (a batch
 * of products); a vector is a row in front and a column behind, its dimension dropped from the result.
 * Vectors and matrices alone are the product `*`.
 */
export function matmul(g: Graph, a: Node, b: Node): Node {
  if (a.shape.length === 0 || b.shape.length === 0) throw new ArgumentError("matmul of a scalar", "two tensors (a scalar scales with *)", `matmul(${shapeText(a.shape)}, ${shapeText(b.shape)})`);
  if (a.shape.length <= 2 && b.shape.length <= 2) return g.matmul(a, b);
  const A = a.shape.length === 1 ? toShape(g, a, [1, a.shape[0]]) : a;
  const B = b.shape.length === 1 ? toShape(g, b, [b.shape[0], 1]) : b;
  const [m, k] = A.shape.slice(-2);
  const [k2, n] = B.shape.slice(-2);
  const batch = broadcastShapes([A.shape.slice(0, -2), B.shape.slice(0, -2)]);
  if (k !== k2 || !batch) {
    throw new ArgumentError(`matmul needs [..., m, k] and [..., k, n] with batch dimensions that broadcast`, "matching inner sizes k", `matmul(${shapeText(a.shape)}, ${shapeText(b.shape)})`);
  }
  // every product a[…, i, t] b[…, t, j] laid out over [..., m, k, n], then summed over t
  const r = batch.length;
  const big = [...batch, m, k, n];
  const batchMap = (rank: number) => batch.map((_, d) => (d - (r - (rank - 2)) >= 0 ? d - (r - (rank - 2)) : null));
  const ra = A.shape.length;
  const rb = B.shape.length;
  const aBig = g.expand(A, [...batchMap(ra), ra - 2, ra - 1, null], big);
  const bBig = g.expand(B, [...batchMap(rb), null, rb - 2, rb - 1], big);
  const product = g.reduce("sum", g.mul(aBig, bBig), r + 1);
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  return toShape(g, product, shape);
}

// ---- sliding windows ------------------------------------------------------------------------------------

/** How a window slides over the spatial dimensions: its taps, step and spacing, and the padding on each side. */
export interface Sliding {
  readonly taps: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly padding: readonly (readonly [number, number])[];
}

/** Where the windows of x lie: the padded shape, x's part of it, and the view [..., out..., taps..., C] of it. */
interface Windows {
  readonly padded: Shape;
  readonly parts: readonly SlicePart[];
  readonly view: View;
  readonly shape: Shape;
  readonly out: readonly number[];
  readonly lead: Shape;
}

/** The geometry of the windows over a tensor of `shape` with `n` spatial dimensions before its channels. */
function windowsOf(what: string, shape: Shape, n: number, s: Sliding): Windows {
  const r = shape.length;
  const lead = shape.slice(0, r - n - 1);
  const spatial = shape.slice(r - n - 1, r - 1);
  const padded = shape.map((size, d) => {
    const k = d - lead.length;
    return k >= 0 && k < n ? size + s.padding[k][0] + s.padding[k][1] : size;
  });
  const out = spatial.map((_, k) => Math.floor((padded[lead.length + k] - s.dilation[k] * (s.taps[k] - 1) - 1) / s.stride[k]) + 1);
  const bad = out.findIndex((o) => o < 1);
  if (bad >= 0) {
    const span = s.dilation[bad] * (s.taps[bad] - 1) + 1;
    throw new ArgumentError(`${what}: a window spans ${span} elements of spatial dimension ${bad + 1}, which has ${padded[lead.length + bad]} with padding`, `an input of at least ${span} there, or more padding`, shapeText(shape));
  }
  const st = strides(padded);
  const viewStrides = [...lead.map((_, d) => st[d]), ...out.map((_, k) => s.stride[k] * st[lead.length + k]), ...s.taps.map((_, k) => s.dilation[k] * st[lead.length + k]), 1];
  const label = `windows|${listText(s.taps)}${s.stride.some((v) => v !== 1) ? `, stride ${listText(s.stride)}` : ""}${s.dilation.some((v) => v !== 1) ? `, dilation ${listText(s.dilation)}` : ""}`;
  const parts = shape.map((size, d): SlicePart => {
    const k = d - lead.length;
    return { start: k >= 0 && k < n ? s.padding[k][0] : 0, count: size, keep: true };
  });
  return { padded, parts, view: { label, offset: 0, strides: viewStrides }, shape: [...lead, ...out, ...s.taps, shape[r - 1]], out, lead };
}

/** The windows of x: [..., out..., taps..., C], padded with `fill` (0, or −∞ where a maximum is taken). */
function windows(g: Graph, what: string, x: Node, n: number, s: Sliding, fill: number): { node: Node; w: Windows } {
  const w = windowsOf(what, x.shape, n, s);
  const padded = g.unslice(x, w.parts, w.padded, fill);
  return { node: g.view(padded, w.view, w.shape), w };
}

/** How many spatial dimensions a function of `n` dimensions sees, checked against x's rank. */
function checkInput(what: string, x: Node, n: number): void {
  if (x.shape.length < n + 1) {
    throw new ArgumentError(`${what} needs x with ${n} spatial dimension${n === 1 ? "" : "s"} and channels last`, `[${[...Array(n).fill("size"), "channels"].join(", ")}], or with batch dimensions in front`, shapeText(x.shape));
  }
}

/** stride, dilation: one positive integer for every spatial dimension, or a list of them. */
function perDimension(what: string, name: string, value: Literal | undefined, n: number, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  const list = typeof value === "number" ? Array<number>(n).fill(value) : Array.isArray(value) ? value : [];
  if (list.length !== n || !list.every((v) => Number.isInteger(v) && (v as number) >= 1)) {
    throw new ArgumentError(`${what}: the ${name} is a positive integer, or a list of ${n}`, `a number such as 2, or [${Array(n).fill(2).join(", ")}]`, show(value));
  }
  return list as number[];
}

/**
 * The padding: "valid" (none), "same" (TF.js's: ceil(size / stride) outputs, the odd element after), a
 * number for both sides of every spatial dimension, or [before, after] (or a number) for each.
 */
function paddingOf(what: string, value: Literal | undefined, spatial: readonly number[], taps: readonly number[], stride: readonly number[], dilation: readonly number[]): [number, number][] {
  const n = spatial.length;
  if (value === undefined || value === "valid") return spatial.map(() => [0, 0]);
  if (value === "same") {
    return spatial.map((size, k) => {
      const total = Math.max(0, (Math.ceil(size / stride[k]) - 1) * stride[k] + dilation[k] * (taps[k] - 1) + 1 - size);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  const sides = typeof value === "number" ? spatial.map(() => sidesOf(value)) : Array.isArray(value) && value.length === n ? value.map(sidesOf) : [];
  if (sides.length !== n || sides.some((s) => s === undefined)) {
    throw new ArgumentError(
      `${what}: the padding is "valid", "same", a number, or [before, after] for each of the ${n} spatial dimension${n === 1 ? "" : "s"}`,
      `"same", 1, or [${Array(n).fill("[0, 1]").join(", ")}]`,
      show(value),
    );
  }
  return sides as [number, number][];
}

/** The options after x and the filter (or the window size): stride, padding, dilation. */
function sliding(what: string, shape: Shape, n: number, taps: readonly number[], options: readonly (Literal | undefined)[], defaultStride: readonly number[]): Sliding {
  const [strideOpt, paddingOpt, dilationOpt] = options;
  const stride = perDimension(what, "stride", strideOpt, n, defaultStride);
  const dilation = perDimension(what, "dilation", dilationOpt, n, Array(n).fill(1));
  const spatial = shape.slice(shape.length - n - 1, shape.length - 1);
  return { taps, stride, dilation, padding: paddingOf(what, paddingOpt, spatial, taps, stride, dilation) };
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** The filter's shape checked: [taps..., channels of x, out] (depthwise: multiplier; dilation: none after C). */
function filterTaps(what: string, w: Node, n: number, channels: number, trailing: number, layout: string): number[] {
  const ok = w.shape.length === n + 1 + trailing && w.shape[n] === channels;
  if (!ok) throw new ArgumentError(`${what} needs a filter ${layout}, with x's ${channels} channels`, layout, shapeText(w.shape));
  return w.shape.slice(0, n);
}

/**
 * The windows of x that a filter w slides over (conv, depthwise_conv, dilation): x and w checked, w laid out
 * [taps..., channels, ...trailing] (`trailing` names the dimensions after the channels), padded cells `fill`.
 */
function filterWindows(g: Graph, n: number, what: string, x: Node, w: Node, options: readonly (Literal | undefined)[], trailing: readonly string[], fill: number) {
  checkInput(what, x, n);
  const channels = x.shape[x.shape.length - 1];
  const taps = filterTaps(what, w, n, channels, trailing.length, `[${[...Array(n).fill("taps"), channels, ...trailing].join(", ")}]`);
  const s = sliding(what, x.shape, n, taps, options, Array(n).fill(1));
  const { node, w: win } = windows(g, what, x, n, s, fill);
  return { node, win, taps, channels, rows: product(win.lead) * product(win.out) };
}

/** conv1d/2d/3d: y[..., o..., j] = Σ over taps and channels of windows(x)[..., o..., taps..., c] w[taps..., c, j]. */
export function conv(g: Graph, n: number, what: string, x: Node, w: Node, options: readonly (Literal | undefined)[]): Node {
  const { node, win, taps, channels, rows } = filterWindows(g, n, what, x, w, options, ["out"], 0);
  const inner = product(taps) * channels;
  const outChannels = w.shape[n + 1];
  const y = g.matmul(toShape(g, node, [rows, inner]), toShape(g, w, [inner, outChannels]));
  return toShape(g, y, [...win.lead, ...win.out, outChannels]);
}

/** depthwise_conv2d: each channel c convolved with its own filters w[taps..., c, m]; output channel c·M + m. */
export function depthwiseConv(g: Graph, n: number, what: string, x: Node, w: Node, options: readonly (Literal | undefined)[]): Node {
  const { node, win, taps, channels, rows } = filterWindows(g, n, what, x, w, options, ["multiplier"], 0);
  const multiplier = w.shape[n + 1];
  const cols = toShape(g, node, [rows, product(taps), channels, 1]);
  const filters = toShape(g, w, [product(taps), channels, multiplier]);
  const y = g.reduce("sum", g.mul(cols, filters), 1);
  return toShape(g, y, [...win.lead, ...win.out, channels * multiplier]);
}

/**
 * conv2d_transpose (and 1d, 3d): the adjoint of the convolution of a tensor of shape `output` with the same
 * filter, stride and padding — each element of x spreads its taps over the windows it would have been
 * computed from. The filter is [taps..., out channels, in channels], as TF.js's.
 */
export function convTranspose(g: Graph, n: number, what: string, x: Node, w: Node, options: readonly (Literal | undefined)[]): Node {
  checkInput(what, x, n);
  const [outputOpt, ...rest] = options;
  const inChannels = x.shape[x.shape.length - 1];
  const output = Array.isArray(outputOpt) && outputOpt.length === x.shape.length && outputOpt.every((v) => Number.isInteger(v) && (v as number) >= 1) ? (outputOpt as number[]) : undefined;
  if (!output) throw new ArgumentError(`${what} needs the output shape, of the rank of x`, `a list such as [${x.shape.map((s, d) => (d === x.shape.length - 1 ? "out" : s)).join(", ")}]`, show(outputOpt));
  const ok = w.shape.length === n + 2 && w.shape[n + 1] === inChannels && w.shape[n] === output[output.length - 1];
  if (!ok) throw new ArgumentError(`${what} needs a filter [taps..., out, in] with x's ${inChannels} channels in and the output's ${output[output.length - 1]} out`, `[${[...Array(n).fill("taps"), output[output.length - 1], inChannels].join(", ")}]`, shapeText(w.shape));
  const taps = w.shape.slice(0, n);
  const s = sliding(what, output, n, taps, rest, Array(n).fill(1));
  const win = windowsOf(what, output, n, s);
  const expected = [...win.lead, ...win.out, inChannels];
  if (expected.length !== x.shape.length || expected.some((d, k) => d !== x.shape[k])) {
    throw new ArgumentError(`${what}: the convolution of ${listText(output)} with this filter, stride and padding has shape ${listText(expected)}, which x must have`, listText(expected), shapeText(x.shape));
  }
  const rows = product(win.lead) * product(win.out);
  const outChannels = output[output.length - 1];
  const filters = toShape(g, w, [product(taps) * outChannels, inChannels]);
  const cols = g.matmul(toShape(g, x, [rows, inChannels]), g.transpose(filters));
  const spread = g.unview(toShape(g, cols, win.shape), win.view, win.padded);
  return g.slice(spread, win.parts);
}

/** max_pool and avg_pool (1d, 2d, 3d): the maximum or the mean of each window, channel by channel. */
export function pool(g: Graph, kind: "max" | "avg", n: number, what: string, x: Node, options: readonly (Literal | undefined)[]): Node {
  checkInput(what, x, n);
  const [sizeOpt, ...rest] = options;
  const taps = perDimension(what, "window size", sizeOpt, n, []);
  const s = sliding(what, x.shape, n, taps, rest, taps);
  // padded cells never win a maximum; in a mean they count as zeros (PyTorch's default)
  const { node, w: win } = windows(g, what, x, n, s, kind === "max" ? -Infinity : 0);
  const grouped = toShape(g, node, [...win.lead, ...win.out, product(taps), x.shape[x.shape.length - 1]]);
  const axis = win.lead.length + n;
  return kind === "max" ? g.reduce("firstMax", grouped, axis) : g.scale(1 / product(taps), g.reduce("sum", grouped, axis));
}

/** dilation2d: the greyscale dilation y[..., o, c] = max over the window of x + w[taps..., c]. */
export function dilation(g: Graph, n: number, what: string, x: Node, w: Node, options: readonly (Literal | undefined)[]): Node {
  // padded cells never win a maximum
  const { node, win, taps, channels } = filterWindows(g, n, what, x, w, options, [], -Infinity);
  const grouped = toShape(g, g.add(node, w), [...win.lead, ...win.out, product(taps), channels]);
  return g.reduce("firstMax", grouped, win.lead.length + n);
}
