/**
 * Sizes an ONNX graph computes from a value's shape: PyTorch writes `x.view(x.size(0), -1)`, and a recurrent op's
 * initial state sized by the batch, as Shape, Gather, Unsqueeze, Cast, Slice and Concat of such sizes. Both forms
 * of the import read them here, the batch symbolic.
 */
import type { NodeMessage } from "./proto.ts";
import { Attributes } from "./read.ts";

/** A size: the batch, or a number. */
export type Size = number | "batch";

/** Where sizes come from: a value's shape as ONNX holds it (what Shape gives), and a name holding sizes (computed, or a constant). */
export interface SizeSource {
  readonly shapeOf: (name: string) => readonly Size[] | undefined;
  readonly sizesOf: (name: string) => readonly Size[] | undefined;
}

/** The sizes `node` computes, or undefined where it is none of these ops or reads what is not sizes. */
export function computedSizes(node: NodeMessage, file: string, source: SizeSource): readonly Size[] | undefined {
  const op = node.opType ?? "";
  const inputs = node.input ?? [];
  const sizes = (k: number) => source.sizesOf(inputs[k] ?? "");
  switch (op) {
    case "Shape":
      // the whole shape: Shape's start and end attributes (a part of it) are not read
      return (node.attribute ?? []).length > 0 ? undefined : source.shapeOf(inputs[0] ?? "");
    case "Gather": {
      const [from, index] = [sizes(0), sizes(1)];
      if (!from || !index || new Attributes(node, file, ["axis"]).int("axis", 0) !== 0) return undefined;
      const picked = index.map((i) => (typeof i === "number" ? from[i < 0 ? from.length + i : i] : undefined));
      return picked.every((p) => p !== undefined) ? (picked as Size[]) : undefined;
    }
    case "Unsqueeze":
    case "Cast":
      new Attributes(node, file, op === "Cast" ? ["to"] : ["axes"]);
      return sizes(0);
    case "Slice": {
      const [from, start, end] = [sizes(0), sizes(1)?.[0], sizes(2)?.[0]];
      if (!from || typeof start !== "number" || typeof end !== "number" || (inputs[3] ?? "") !== "" || (inputs[4] ?? "") !== "") return undefined;
      return from.slice(start, end);
    }
    case "Concat": {
      new Attributes(node, file, ["axis"]);
      const parts = inputs.map((_, k) => sizes(k));
      return parts.every((p) => p !== undefined) ? parts.flatMap((p) => p as Size[]) : undefined;
    }
    default:
      return undefined;
  }
}
