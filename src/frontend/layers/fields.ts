/**
 * The fields several layer types share (activation, bias, init, the window options), the rules of windows
 * over spatial axes, and initialisation. The schema fragments refer to net.schema.json's shared definitions.
 */
import type { Shape } from "../../ir/node.ts";
import { shapeText } from "../../ir/node.ts";
import type { InitPlan } from "../../ir/net.ts";
import { INIT_NAMES, type InitSpec, type Padding, type Spatial } from "../../spec/types.ts";
import { ACTIVATIONS, BUILTINS } from "../functions.ts";
import { type Field, LayerShapeError } from "./layer.ts";

export const quoteList = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");

export const ACTIVATION_EXPECTED = `one of ${quoteList(ACTIVATIONS)}, or an expression in x such as "x / (1 + abs(x))"`;

export const activationField = (fallback?: string): Field => ({
  schema: {
    $ref: "#/definitions/activation",
    description: fallback === undefined ? "A builtin name, or a mathjs expression in x." : `A builtin name, or a mathjs expression in x such as "x / (1 + abs(x))". Default "${fallback}".`,
  },
  what: "activation",
  rule: "must be a builtin name or an expression in x",
  expected: ACTIVATION_EXPECTED,
  ...(fallback === undefined ? {} : { default: `"${fallback}"` }),
});

export const biasField: Field = {
  schema: { type: "boolean", default: true, description: "Whether the layer adds a learned bias. Default true." },
  what: "layer bias",
  rule: "must be true or false",
  expected: "a boolean",
  default: "true",
};

export const initField: Field = {
  schema: { $ref: "#/definitions/init", description: 'Weight initialization. Default "he" for relu-like activations, "xavier" otherwise; a number gives a constant.' },
  what: "initialization",
  rule: `must be a number or one of ${quoteList(INIT_NAMES)}`,
  expected: `a number or one of ${quoteList(INIT_NAMES)}`,
  choices: INIT_NAMES,
  default: '"he" after a relu-like activation, else "xavier"',
};

export const positiveField = (what: string, description: string): Field => ({
  schema: { $ref: "#/definitions/dimension", description },
  what,
  rule: "must be a positive integer",
  expected: "an integer ≥ 1",
});

/** A number, or one positive integer per spatial axis. */
export function spatialField(what: string, n: number, description: string, fallback?: string): Field {
  return {
    schema: {
      description,
      anyOf: [{ $ref: "#/definitions/dimension" }, { type: "array", minItems: n, maxItems: n, items: { $ref: "#/definitions/dimension" } }],
    },
    what,
    rule: `must be a positive integer or a list of ${n}`,
    expected: `an integer ≥ 1, or [${Array(n).fill(2).join(", ")}]`,
    ...(fallback === undefined ? {} : { default: fallback }),
  };
}

export function paddingField(n: number): Field {
  const side = { type: "integer", minimum: 0 };
  return {
    schema: {
      description: '"valid" (none), "same" (ceil(size / stride) outputs, the odd cell after, as TF.js), cells on both sides of every spatial axis, or per axis a number or [before, after]. Default "valid".',
      anyOf: [
        { enum: ["valid", "same"] },
        side,
        { type: "array", minItems: n, maxItems: n, items: { anyOf: [side, { type: "array", minItems: 2, maxItems: 2, items: side }] } },
      ],
    },
    what: "padding",
    rule: `must be "valid", "same", a number of cells, or one entry for each of the ${n} spatial axes`,
    expected: `"valid", "same", 1, or [${Array(n).fill("[0, 1]").join(", ")}]`,
    choices: ["valid", "same"],
    default: '"valid"',
  };
}

// ---- windows over spatial axes -------------------------------------------------------------------------

/** One value per axis from a number or a list. */
export const perAxis = (value: Spatial | undefined, n: number, fallback: readonly number[]): number[] =>
  value === undefined ? [...fallback] : typeof value === "number" ? Array<number>(n).fill(value) : [...value];

/** Cells before and after each spatial axis; "same" as TF.js (tensors.ts paddingOf). */
export function paddingSides(padding: Padding | undefined, spatial: readonly number[], taps: readonly number[], stride: readonly number[], dilation: readonly number[]): [number, number][] {
  if (padding === undefined || padding === "valid") return spatial.map(() => [0, 0]);
  if (padding === "same") {
    return spatial.map((size, k) => {
      const total = Math.max(0, (Math.ceil(size / stride[k]) - 1) * stride[k] + dilation[k] * (taps[k] - 1) + 1 - size);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  if (typeof padding === "number") return spatial.map(() => [padding, padding]);
  return padding.map((p) => (typeof p === "number" ? [p, p] : [p[0], p[1]]));
}

export interface Window {
  readonly taps: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly padding: Padding | undefined;
}

/**
 * The shape of windows sliding over the `n` spatial axes of a channels-last `input` ([spatial..., channels]):
 * [out..., channels]; throws when the input has another rank or a window does not fit.
 */
export function windowedShape(type: string, input: Shape, n: number, w: Window): number[] {
  if (input.length !== n + 1) {
    throw new LayerShapeError(
      `${type} needs an input with ${n} spatial ax${n === 1 ? "is" : "es"} and channels last`,
      `[${[...Array(n).fill("size"), "channels"].join(", ")}]`,
      shapeText(input),
    );
  }
  const spatial = input.slice(0, n);
  const sides = paddingSides(w.padding, spatial, w.taps, w.stride, w.dilation);
  return [
    ...spatial.map((size, k) => {
      const span = w.dilation[k] * (w.taps[k] - 1) + 1;
      const padded = size + sides[k][0] + sides[k][1];
      if (padded < span) {
        throw new LayerShapeError(`${type}: a window spans ${span} cells of spatial axis ${k + 1}, which has ${padded} with padding`, `an input of at least ${span} cells there, or more padding`, shapeText(input));
      }
      return Math.floor((padded - span) / w.stride[k]) + 1;
    }),
    input[n],
  ];
}

// ---- initialisation ------------------------------------------------------------------------------------

/** He for a relu-like activation (the functions table says which), Xavier otherwise; an explicit init wins. */
export function weightInit(init: InitSpec | undefined, activation: string | undefined, fanIn: number, fanOut: number): InitPlan {
  const reluLike = BUILTINS.get((activation ?? "linear").trim())?.reluLike === true;
  return initPlan(init ?? (reluLike ? "he" : "xavier"), fanIn, fanOut);
}

export function initPlan(init: InitSpec, fanIn: number, fanOut: number): InitPlan {
  if (typeof init === "number") return { kind: "constant", value: init };
  if (init === "zeros") return { kind: "constant", value: 0 };
  if (init === "he") return { kind: "he", fanIn };
  return { kind: "xavier", fanIn, fanOut };
}

export const ZERO: InitPlan = { kind: "constant", value: 0 };
export const ONE: InitPlan = { kind: "constant", value: 1 };

export const times = (xs: readonly number[]) => xs.join("×");
export const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
