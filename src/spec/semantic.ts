/**
 * Checks the schema cannot express: activation names, declared names (identifiers, reserved words,
 * clashes across sections) and sizes. They run on the raw value, so each guards its own types.
 */
import { ACTIVATIONS } from "../frontend/functions.ts";
import { LAYER_KINDS, LayerShapeError, lossShapeProblem } from "../frontend/layers/index.ts";
import { type Shape, shapeText } from "../ir/node.ts";
import type { PathSegment } from "./paths.ts";
import type { LayerLoss, LayerSpec } from "./types.ts";
import type { Problem } from "./schema.ts";
import { ACTIVATION_EXPECTED } from "../frontend/layers/fields.ts";
import { explainUnknownFunction } from "../frontend/elsewhere.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words that cannot name a generated variable: JavaScript reserved words and a few dangerous globals. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined NaN Infinity"
  ).split(" "),
);
/** Keys that would reach Object.prototype if used on an ordinary object. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export const MAX_DIMENSION = 1e7;
export const MAX_PARAMETERS = 1e8;
/** The most values one sample's inputs, targets, or any intermediate value may hold. */
export const MAX_ELEMENTS = 1e8;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const plural = (n: number) => n.toLocaleString("en-US");

/** A bare identifier activation must be a builtin (or "x", the identity); expressions are left to the compiler. */
export function checkActivations(spec: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const builtins: readonly string[] = ACTIVATIONS;
  const visit = (layers: unknown, path: PathSegment[]) => {
    if (!Array.isArray(layers)) return;
    layers.forEach((layer, i) => {
      if (!isObject(layer)) return;
      // a residual block's layers
      if (layer.type === "residual") visit(layer.layers, [...path, i, "layers"]);
      const activation = layer.activation;
      if (typeof activation !== "string") return;
      const name = activation.trim();
      if (!IDENTIFIER.test(name) || name === "x" || builtins.includes(name)) return;
      const help = explainUnknownFunction(name, "activation", builtins);
      problems.push({ segments: [...path, i, "activation"], message: help.message, expected: ACTIVATION_EXPECTED, suggestion: help.suggestion });
    });
  };
  visit(spec.layers, ["layers"]);
  return problems;
}

const NAME_EXPECTED = "a name such as w1: letters, digits and _, not starting with a digit, not a reserved word";

/** Every name declared in params, inputs, targets and functions is a safe identifier, declared once. */
export function checkNames(spec: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const section of ["params", "inputs", "targets", "functions"]) {
    const record = spec[section];
    if (!isObject(record)) continue;
    for (const name of Object.keys(record)) {
      const problem = nameProblem(name, section, seen.get(name));
      if (problem) problems.push({ segments: [section, name], atKey: true, found: JSON.stringify(name), ...problem });
      if (!seen.has(name)) seen.set(name, section);
    }
  }
  return problems;
}

function nameProblem(name: string, section: string, firstSection: string | undefined): { message: string; expected: string } | undefined {
  const problem = identifierProblem(name, section);
  if (problem) return problem;
  if (firstSection !== undefined) {
    return { message: `${JSON.stringify(name)} is declared twice (first in ${firstSection}, again in ${section})`, expected: "each name declared once across params, inputs, targets and functions" };
  }
  return undefined;
}

/** Why `name` cannot name a value declared or defined in `section`, or undefined when it can. */
export function identifierProblem(name: string, section: string): { message: string; expected: string } | undefined {
  const quoted = JSON.stringify(name);
  const bad = (message: string) => ({ message, expected: NAME_EXPECTED });
  if (PROTOTYPE_KEYS.has(name)) return bad(`${quoted} cannot be used as a name in ${section}`);
  if (!IDENTIFIER.test(name)) return bad(`invalid name ${quoted} in ${section}: names must be identifiers`);
  if (RESERVED.has(name)) return bad(`${quoted} is a reserved word and cannot be used as a name in ${section}`);
  return undefined;
}

/** Rejects networks too large to compile. Runs only on a schema-valid spec, so shapes are integer arrays. */
export function checkSizes(spec: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const dim: DimCheck = (value, segments, total) => {
    const limit = total === undefined ? MAX_DIMENSION : MAX_ELEMENTS;
    if (value > limit) {
      problems.push({
        segments,
        message: total === undefined ? `dimension ${plural(value)} is too large to compile` : `${total} ${plural(value)} values, too many to compile`,
        expected: `at most ${plural(limit)}`,
        found: plural(value),
      });
    }
  };
  const total = "layers" in spec ? layerParameterCount(spec, dim, problems) : equationParameterCount(spec, dim);
  if (problems.length === 0 && total.count > MAX_PARAMETERS) {
    problems.push({
      segments: [total.where],
      message: `network too large to compile: ${plural(total.count)} parameters`,
      expected: `at most ${plural(MAX_PARAMETERS)} parameters`,
      found: plural(total.count),
    });
  }
  return problems;
}

/** Reports `value` when above the limit: a dimension, or (with `total`) the size of a whole section. */
type DimCheck = (value: number, segments: PathSegment[], total?: string) => void;

/**
 * The parameters of a layer net, counted layer by layer from the input's shape with each type's rules; a layer
 * whose input does not fit it is reported (at its JSON path, expected vs found) and ends the count.
 */
function layerParameterCount(spec: Record<string, unknown>, dim: DimCheck, problems: Problem[]): { count: number; where: string } {
  const input = spec.input as number | number[];
  if (typeof input === "number") dim(input, ["input"]);
  else input.forEach((n, i) => dim(n, ["input", i]));
  let count = 0;
  // whether the shape being walked is a sequence (one row per step), as the builder tracks it
  let sequence = false;
  const walk = (layers: readonly LayerSpec[], from: Shape, path: PathSegment[]): Shape | undefined => {
    let shape: Shape | undefined = from;
    for (const [i, layer] of layers.entries()) {
      if (shape === undefined) return undefined;
      const kind = LAYER_KINDS.get(layer.type);
      if (!kind) return undefined;
      const at: PathSegment[] = [...path, i];
      for (const field of ["units", "filters"] as const) if (field in layer) dim((layer as unknown as Record<string, number>)[field], [...at, field]);
      let out: Shape;
      try {
        out = kind.outputShape(layer, shape, sequence);
      } catch (e) {
        if (!(e instanceof LayerShapeError)) throw e;
        problems.push({ segments: [...at, ...(e.path ?? [])], message: e.message, expected: e.expected, found: e.found });
        return undefined;
      }
      dim(out.reduce((a, b) => a * b, 1), at, "the output of this layer has");
      const sequenceIn = sequence;
      if (layer.type === "residual") walk(layer.layers, shape, [...at, "layers"]);
      count += kind.paramsOf(layer, shape, "", sequenceIn).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
      sequence = kind.sequenceOut?.(layer, sequenceIn) ?? false;
      shape = out;
    }
    return shape;
  };
  const output = walk(spec.layers as LayerSpec[], typeof input === "number" ? [input] : input, ["layers"]);
  const lossProblem = output === undefined ? undefined : lossShapeProblem(spec.loss as LayerLoss, output, sequence);
  if (lossProblem) problems.push({ segments: ["loss"], ...lossProblem });
  return { count, where: "layers" };
}

function equationParameterCount(spec: Record<string, unknown>, dim: DimCheck): { count: number; where: string } {
  let count = 0;
  for (const section of ["params", "inputs", "targets"]) {
    const record = spec[section] as Record<string, { shape: number[] } | number[]>;
    let total = 0;
    for (const name of Object.keys(record)) {
      const entry = record[name];
      const shape = Array.isArray(entry) ? entry : entry.shape;
      const segments: PathSegment[] = Array.isArray(entry) ? [section, name] : [section, name, "shape"];
      shape.forEach((n, i) => dim(n, [...segments, i]));
      const size = shape.reduce((a, b) => a * b, 1);
      if (section === "params") count += size;
      else total += size;
    }
    if (section !== "params") dim(total, [section], `the ${section} of one sample have`);
  }
  return { count, where: "params" };
}
