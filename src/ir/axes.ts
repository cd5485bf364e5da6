/**
 * The attributes of the ops that move elements between shapes (reductions along an axis, broadcasting, parts
 * of a tensor), and the index arithmetic they share: the op table evaluates with it, the graph builds with it,
 * lowering turns it into loop nests. Axes are zero-based here; equations write them one-based (frontend/).
 */
import type { ReduceKind, Shape } from "./node.ts";
import { REDUCE_KINDS } from "./node.ts";

/** Row-major strides of a shape. */
export function strides(shape: Shape): number[] {
  return shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
}

/** The coordinates of a flat row-major index. */
export function coordinates(flat: number, shape: Shape): number[] {
  return strides(shape).map((stride, axis) => Math.floor(flat / stride) % shape[axis]);
}

export function withoutAxis(shape: Shape, axis: number): Shape {
  return shape.filter((_, d) => d !== axis);
}

// ---- reductions along an axis ----------------------------------------------------------------------------

export interface Reduction {
  readonly kind: ReduceKind;
  readonly axis: number;
}

export const reduceAttr = (kind: ReduceKind, axis: number): string => `${kind}@${axis}`;

export function parseReduce(attr: unknown): Reduction {
  const [kind, axis] = String(attr).split("@");
  if (!(REDUCE_KINDS as readonly string[]).includes(kind)) throw new Error(`internal: reduce kind "${kind}"`);
  return { kind: kind as ReduceKind, axis: Number(axis) };
}

/** The axis map that reads a value reduced along `axis` back over the rank-`rank` shape it came from. */
export function reinsertAxis(rank: number, axis: number): AxisMap {
  return Array.from({ length: rank }, (_, d) => (d < axis ? d : d === axis ? null : d - 1));
}

// ---- broadcasting: a small shape read over a big one ----------------------------------------------------

/**
 * For each dimension of the big shape, the dimension of the small shape it reads (its size equal, or 1 and
 * then read at 0), or null for a dimension the small shape does not have. Every small dimension not named
 * has size 1. numpy's rule (and mathjs's) aligns the shapes on the right.
 */
export type AxisMap = readonly (number | null)[];

export const axisMapAttr = (map: AxisMap): string => map.map((d) => (d === null ? "*" : String(d))).join(",");

export function parseAxisMap(attr: unknown): AxisMap {
  return String(attr)
    .split(",")
    .map((d) => (d === "*" ? null : Number(d)));
}

/** The map of numpy broadcasting from `small` to `big`, or undefined when the shapes do not broadcast. */
export function broadcastMap(small: Shape, big: Shape): AxisMap | undefined {
  const lead = big.length - small.length;
  if (lead < 0) return undefined;
  if (!small.every((size, j) => size === big[j + lead] || size === 1)) return undefined;
  return big.map((_, d) => (d < lead ? null : d - lead));
}

/** The numpy broadcast of several shapes, or undefined when they do not broadcast together. */
export function broadcastShapes(shapes: readonly Shape[]): Shape | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const sizes = shapes.map((s) => s[s.length - rank + d] ?? 1);
    const size = Math.max(...sizes);
    if (sizes.some((n) => n !== 1 && n !== size)) return undefined;
    out.push(size);
  }
  return out;
}

/** Whether `map` reads every element of `small` from `big` (each small dimension named once, sizes that fit). */
export function validAxisMap(map: AxisMap, small: Shape, big: Shape): boolean {
  if (map.length !== big.length) return false;
  const named = map.filter((j): j is number => j !== null);
  if (new Set(named).size !== named.length || named.some((j) => j < 0 || j >= small.length)) return false;
  return map.every((j, d) => j === null || small[j] === big[d] || small[j] === 1) && small.every((s, j) => named.includes(j) || s === 1);
}

/** The flat index in `small` that the element `bigFlat` of `big` reads. */
export function smallIndex(bigFlat: number, big: Shape, small: Shape, map: AxisMap): number {
  const at = coordinates(bigFlat, big);
  const smallStrides = strides(small);
  return map.reduce<number>((sum, j, d) => (j === null || small[j] === 1 ? sum : sum + at[d] * smallStrides[j]), 0);
}

// ---- parts of a tensor -------------------------------------------------------------------------------------

/** One dimension of a part: `count` elements from `start`; `keep` false drops the dimension (a single index). */
export interface SlicePart {
  readonly start: number;
  readonly count: number;
  readonly keep: boolean;
}

export const sliceAttr = (parts: readonly SlicePart[]): string => parts.map((p) => (p.keep ? `${p.start}:${p.count}` : String(p.start))).join(",");

export function parseSlice(attr: unknown): SlicePart[] {
  return String(attr)
    .split("|")[0]
    .split(",")
    .map((p) => {
      const [start, count] = p.split(":").map(Number);
      return count === undefined ? { start, count: 1, keep: false } : { start, count, keep: true };
    });
}

/** An unslice's attribute: the part, and the value around it when that is not 0 (a padding of −∞ for a maximum). */
export const unsliceAttr = (parts: readonly SlicePart[], fill: number): string => (fill === 0 ? sliceAttr(parts) : `${sliceAttr(parts)}|${fill}`);

export function unsliceFill(attr: unknown): number {
  const fill = String(attr).split("|")[1];
  return fill === undefined ? 0 : Number(fill);
}

export function sliceShape(parts: readonly SlicePart[]): Shape {
  return parts.filter((p) => p.keep).map((p) => p.count);
}

/** The part as an equation writes it: one-based, inclusive, `:` for a whole dimension. */
export function sliceText(parts: readonly SlicePart[], shape: Shape): string {
  return parts
    .map((p, d) => {
      if (!p.keep) return String(p.start + 1);
      if (p.start === 0 && p.count === shape[d]) return ":";
      return p.count === 1 ? `${p.start + 1}:${p.start + 1}` : `${p.start + 1}:${p.start + p.count}`;
    })
    .join(", ");
}

/** The flat index in the whole tensor of the element `partFlat` of the part. */
export function wholeIndex(partFlat: number, parts: readonly SlicePart[], shape: Shape): number {
  const at = coordinates(partFlat, sliceShape(parts));
  const wholeStrides = strides(shape);
  let k = 0;
  return parts.reduce((sum, p, d) => sum + (p.start + (p.keep ? at[k++] : 0)) * wholeStrides[d], 0);
}

// ---- views: each element read from an affine position of the operand --------------------------------------

/**
 * Element `at` of a view reads element `offset + Σ at[d]·strides[d]` of its operand (flat, row-major): a
 * reshape, a permutation of axes, a strided part, or the windows of a convolution (two dimensions of the
 * view, the window's position and the tap inside it, stepping through one dimension of the operand).
 * `label` is how equations write it (`reshape(x, [4, 3])`), for the comments of the generated code.
 */
export interface View {
  readonly label: string;
  readonly offset: number;
  readonly strides: readonly number[];
}

export const viewAttr = (v: View): string => `${v.offset};${v.strides.join(",")};${v.label}`;

export function parseView(attr: unknown): View {
  const text = String(attr);
  const [offset, strideText] = text.split(";", 2);
  const label = text.slice(offset.length + strideText.length + 2);
  return { offset: Number(offset), strides: strideText === "" ? [] : strideText.split(",").map(Number), label };
}

/** The flat index in the operand that element `flat` of a view of shape `shape` reads. */
export function viewSource(flat: number, shape: Shape, view: View): number {
  return coordinates(flat, shape).reduce((sum, c, d) => sum + c * view.strides[d], view.offset);
}

/** The view that reads `shape` as `like`'s row-major elements in order (a reshape). */
export function reshapeView(shape: Shape, label: string): View {
  return { label, offset: 0, strides: strides(shape) };
}

/** The view whose dimension d is dimension perm[d] of the operand (zero-based). */
export function permuteView(from: Shape, perm: readonly number[], label: string): View {
  const st = strides(from);
  return { label, offset: 0, strides: perm.map((p) => st[p]) };
}

/** Whether a view of `shape` reads an operand of `source` shape as it is, element for element. */
export function isIdentityView(view: View, shape: Shape, source: Shape): boolean {
  if (view.offset !== 0 || shape.reduce((a, b) => a * b, 1) !== source.reduce((a, b) => a * b, 1)) return false;
  const st = strides(shape);
  return shape.every((size, d) => size === 1 || view.strides[d] === st[d]);
}

/**
 * The view that undoes `view` (of shape `shape`, over a tensor of shape `source`) when it moves every element
 * once without changing the row-major order of any dimension's elements — a reshape (read back in order) or
 * a permutation of axes (permuted back); undefined for the others (windows, parts), whose adjoint adds up.
 */
export function inverseView(view: View, shape: Shape, source: Shape): View | undefined {
  const [name] = view.label.split("|", 1);
  if (isIdentityView(view, shape, source)) return reshapeView(source, `reshape|[${source.join(", ")}]`);
  if (view.offset !== 0 || shape.length !== source.length) return undefined;
  const st = strides(source);
  const perm = view.strides.map((s, d) => st.findIndex((t, e) => t === s && source[e] === shape[d]));
  if (perm.some((p) => p < 0) || new Set(perm).size !== perm.length) return undefined;
  const back = source.map((_, e) => perm.indexOf(e));
  return permuteView(shape, back, `transpose|[${back.map((b) => b + 1).join(", ")}]`);
}
