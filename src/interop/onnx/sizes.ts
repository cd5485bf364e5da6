/**
 * Sizes an ONNX graph computes from a value's shape: PyTorch writes `x.view(x.size(0), -1)`, and a recurrent op's
 * initial state sized by the batch, as Shape, Gather, Unsqueeze, Cast, Slice and Concat of such sizes; and
 * `h0.expand(1, x.shape[0], -1)` as well as Reshape, ConstantOfShape, Mul, Equal and Where of them (the -1 of
 * expand made 1, ONNX's Expand having no -1). Both forms of the import fold them here, the batch symbolic.
 */
import { DataType, type NodeMessage } from "./proto.ts";
import { Attributes, type Constant, quoted, tensorValues } from "./read.ts";

/** A size: the batch, or a number. */
export type Size = number | "batch";

/**
 * Sizes as a node computes them: a vector (what Shape gives), or one size (a scalar, what a Gather of one index
 * gives). The rank matters only to a Shape of them; sizes of more axes are not folded.
 */
export interface Sizes {
  readonly values: readonly Size[];
  readonly scalar: boolean;
}

/** Where sizes come from: a value's shape as ONNX holds it (what Shape gives), and a name holding sizes (computed, or a constant). */
export interface SizeSource {
  readonly shapeOf: (name: string) => readonly Size[] | undefined;
  readonly sizesOf: (name: string) => Sizes | undefined;
}

/** The most values a ConstantOfShape folds: shape arithmetic is over a few axes, and a shape from the file must not size an allocation. */
const MOST_FOLDED = 64;

const vector = (values: readonly Size[]): Sizes => ({ values, scalar: false });

/** A constant as sizes: a scalar or a vector (a weight of more axes is none). */
export function constantSizes(c: Constant): Sizes | undefined {
  return c.dims.length <= 1 ? { values: Array.from(c.data), scalar: c.dims.length === 0 } : undefined;
}

/** The sizes `node` computes, or undefined where it is none of these ops or reads what is not sizes. */
export function computedSizes(node: NodeMessage, file: string, source: SizeSource): Sizes | undefined {
  const op = node.opType ?? "";
  const inputs = node.input ?? [];
  const sizes = (k: number) => source.sizesOf(inputs[k] ?? "");
  switch (op) {
    case "Shape": {
      // the whole shape: Shape's start and end attributes (a part of it) are not read
      if ((node.attribute ?? []).length > 0) return undefined;
      const shape = source.shapeOf(inputs[0] ?? "");
      if (shape) return vector(shape);
      const of = sizes(0);
      return of && vector(of.scalar ? [] : [of.values.length]);
    }
    case "Gather": {
      const [from, index] = [sizes(0), sizes(1)];
      if (!from || from.scalar || !index || new Attributes(node, file, ["axis"]).int("axis", 0) !== 0) return undefined;
      const picked = index.values.map((i) => (typeof i === "number" ? from.values[i < 0 ? from.values.length + i : i] : undefined));
      return picked.every((p) => p !== undefined) ? { values: picked as Size[], scalar: index.scalar } : undefined;
    }
    case "Unsqueeze": {
      // one size made a vector of one; a vector made [1, n] or [n, 1] is no longer a vector of sizes
      new Attributes(node, file, ["axes"]);
      const x = sizes(0);
      return x?.scalar ? vector(x.values) : undefined;
    }
    case "Cast":
      new Attributes(node, file, ["to", "saturate"]);
      return sizes(0);
    case "Slice": {
      const [from, start, end] = [sizes(0), sizes(1)?.values[0], sizes(2)?.values[0]];
      if (!from || from.scalar || typeof start !== "number" || typeof end !== "number" || (inputs[3] ?? "") !== "" || (inputs[4] ?? "") !== "") return undefined;
      return vector(from.values.slice(start, end));
    }
    case "Concat": {
      new Attributes(node, file, ["axis"]);
      const parts = inputs.map((_, k) => sizes(k));
      return parts.every((p) => p !== undefined && !p.scalar) ? vector(parts.flatMap((p) => (p as Sizes).values)) : undefined;
    }
    case "Reshape":
      return reshaped(node, file, sizes(0), sizes(1));
    case "ConstantOfShape":
      return filled(node, file, sizes(0));
    case "Mul":
      new Attributes(node, file, []);
      return elementwise([sizes(0), sizes(1)], ([a, b]) => product(a, b));
    case "Equal":
      new Attributes(node, file, []);
      return elementwise([sizes(0), sizes(1)], ([a, b]) => equal(a, b));
    case "Where":
      new Attributes(node, file, []);
      // the condition is Equal's 1 or 0 (true or false): a batch there is no condition
      return elementwise([sizes(0), sizes(1), sizes(2)], ([c, a, b]) => (typeof c === "number" ? (c !== 0 ? a : b) : undefined));
    default:
      return undefined;
  }
}

/** Sizes reshaped to [] (one size) or to one axis ([-1], [n], or [0] keeping it): a vector's own values. */
function reshaped(node: NodeMessage, file: string, x: Sizes | undefined, target: Sizes | undefined): Sizes | undefined {
  const allowzero = new Attributes(node, file, ["allowzero"]).int("allowzero", 0);
  if (!x || !target || target.scalar) return undefined;
  const count = x.values.length;
  if (target.values.length === 0) return count === 1 ? { values: x.values, scalar: true } : undefined;
  const [to] = target.values;
  const fits = target.values.length === 1 && (to === -1 || to === count || (to === 0 && allowzero === 0 && !x.scalar));
  return fits ? vector(x.values) : undefined;
}

/** ConstantOfShape of a known shape with an integer value: that value repeated (PyTorch's ones to compare with -1). */
function filled(node: NodeMessage, file: string, shape: Sizes | undefined): Sizes | undefined {
  new Attributes(node, file, ["value"]);
  const value = (node.attribute ?? []).find((a) => a.name === "value")?.t;
  // a float value (zeros of a state) is not sizes, and the default value is a float 0
  if (!shape || shape.scalar || !value || (value.dataType !== DataType.INT64 && value.dataType !== DataType.INT32)) return undefined;
  if (!shape.values.every((d): d is number => typeof d === "number" && Number.isInteger(d) && d >= 0)) return undefined;
  const count = (shape.values as number[]).reduce((p, d) => p * d, 1);
  const fill = tensorValues(value, file, `node ${quoted(node.name || node.output?.[0])}: its value`).data;
  if (count > MOST_FOLDED || fill.length !== 1) return undefined;
  return { values: Array<number>(count).fill(fill[0]), scalar: shape.values.length === 0 };
}

/**
 * An op of each position of sizes broadcast one against the other (a scalar or a vector of one against a vector),
 * or undefined where an input is not sizes, the lengths do not broadcast, or `op` cannot tell (a batch it does not know).
 */
function elementwise(parts: readonly (Sizes | undefined)[], op: (xs: readonly Size[]) => Size | undefined): Sizes | undefined {
  if (!parts.every((p): p is Sizes => p !== undefined)) return undefined;
  const length = Math.max(...parts.map((p) => p.values.length));
  if (parts.some((p) => p.values.length !== length && p.values.length !== 1)) return undefined;
  const values = Array.from({ length }, (_, k) => op(parts.map((p) => p.values[p.values.length === 1 ? 0 : k])));
  return values.every((v) => v !== undefined) ? { values: values as Size[], scalar: parts.every((p) => p.scalar) } : undefined;
}

/** a · b, the batch only times 1. */
function product(a: Size, b: Size): Size | undefined {
  if (typeof a === "number" && typeof b === "number") return a * b;
  return a === 1 ? b : b === 1 ? a : undefined;
}

/** a = b as 1 or 0: the batch equals itself and no negative number (a size is not negative), else it is unknown. */
function equal(a: Size, b: Size): Size | undefined {
  if (a === b) return 1;
  if (typeof a === "number" && typeof b === "number") return 0;
  const other = a === "batch" ? b : a;
  return typeof other === "number" && other < 0 ? 0 : undefined;
}

/**
 * The shape of Expand(x, target), x of `dims`: numpy's broadcasting, the axes aligned at the right, each equal or
 * one of them 1; undefined where they do not broadcast, or where an axis of x other than 1 would meet the batch.
 */
export function expandedShape(dims: readonly number[], target: readonly Size[]): Size[] | undefined {
  const rank = Math.max(dims.length, target.length);
  const at = <T>(list: readonly T[], k: number): T | 1 => (k - rank + list.length >= 0 ? list[k - rank + list.length] : 1);
  const shape = Array.from({ length: rank }, (_, k): Size | undefined => {
    const [a, t] = [at(dims, k), at(target, k)];
    return a === t || t === 1 ? a : a === 1 ? t : undefined;
  });
  return shape.every((s) => s !== undefined) ? (shape as Size[]) : undefined;
}
