/**
 * Schema validation with ajv, and the translation of ajv's errors into one human message per problem.
 * ajv's raw output is noisy (an anyOf yields one error per branch plus its own); we group by JSON path
 * and describe each path with a hand-written sentence instead.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ACTIVATION_EXPECTED, LAYER_KINDS, LAYER_TYPES } from "../frontend/layers/index.ts";
import { INIT_NAMES, LAYER_LOSSES } from "./types.ts";
import { netSchema } from "./net-schema.ts";
import { formatPath, type PathSegment } from "./paths.ts";
import { suggest, suggestKey } from "./suggest.ts";

export type Form = "layer" | "equation";

/** A problem found in the value, before it is given a file position. */
export interface Problem {
  segments: PathSegment[];
  /** Point at the key rather than the value (unknown or badly named keys). */
  atKey?: boolean;
  /** Point at the object holding `segments` (a missing key has no position of its own). */
  atParent?: boolean;
  message: string;
  expected?: string;
  found?: string;
  suggestion?: string;
}

let validators: Record<Form, ValidateFunction> | undefined;

/** Compiles the two sub-schemas once per process, the layer definitions from the layer registry. */
function getValidators(): Record<Form, ValidateFunction> {
  if (validators) return validators;
  const schema = netSchema();
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false });
  ajv.addSchema(schema, "net");
  validators = {
    layer: ajv.compile({ $ref: "net#/definitions/layerNet" }),
    equation: ajv.compile({ $ref: "net#/definitions/equationNet" }),
  };
  return validators;
}

export function validateSchema(form: Form, value: unknown): Problem[] {
  const validate = getValidators()[form];
  if (validate(value)) return [];
  return describeErrors(form, validate.errors ?? [], value);
}

interface Descriptor {
  /** What the value is, for messages: "layer units". */
  what: string;
  /** The rule, completing "<what> <rule>": "must be a positive integer". */
  rule: string;
  expected: string;
  /** Allowed names, for "unknown <what>" messages and did-you-mean suggestions. */
  choices?: readonly string[];
}

const quoteList = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");
const DIMENSION: Descriptor = { what: "dimension", rule: "must be a positive integer", expected: "an integer ≥ 1" };
const SHAPE_RULE = "must be an array of positive integers";
const SHAPE_EXPECTED = "[] (scalar), [n] (vector), [m, n] (matrix) or more dimensions, such as [h, w, c]";
const INIT: Descriptor = {
  what: "initialization",
  rule: `must be a number or one of ${quoteList(INIT_NAMES)}`,
  expected: `a number or one of ${quoteList(INIT_NAMES)}`,
  choices: INIT_NAMES,
};
const NOTE = (what: string): Descriptor => ({ what, rule: "must be a string", expected: "a string (ignored by the compiler)" });
const COMMON: Record<string, Descriptor> = {
  name: {
    what: "network name",
    rule: "must be an identifier (letters, digits and _, not starting with a digit)",
    expected: "a name such as mnist_mlp",
  },
  $schema: { what: "$schema", rule: "must be a string", expected: "the path or URL of net.schema.json" },
  description: NOTE("description"),
  comment: NOTE("comment"),
};

export { ACTIVATION_EXPECTED };

/** Where the equation form is described, for what no layer type covers. */
export const EQUATION_FORM_DOC = "docs/net-json.md#equation-form";

const LAYER: Record<string, Descriptor> = {
  ...COMMON,
  input: {
    what: "input",
    rule: "must be a positive integer or a non-empty array of positive integers",
    expected: "an integer ≥ 1 or an array of integers ≥ 1",
  },
  "input.*": { ...DIMENSION, what: "input dimension" },
  layers: { what: "layers", rule: "must be a non-empty array of layers", expected: 'an array of layers such as { "type": "dense", "units": n }' },
  // a layer's own fields are described by its record in the layer registry (layerDescriptor)
  loss: { what: "loss", rule: `must be one of ${quoteList(LAYER_LOSSES)}`, expected: `one of ${quoteList(LAYER_LOSSES)}`, choices: LAYER_LOSSES },
  l2: { what: "l2", rule: "must be a non-negative number", expected: "a number ≥ 0" },
};

const EXPRESSION = (what: string, expected: string): Descriptor => ({ what, rule: "must be a non-empty string", expected });
const SHAPES = (section: string, noun: string): Record<string, Descriptor> => ({
  [section]: { what: section, rule: `must be an object mapping ${noun} names to shapes`, expected: `{ "${noun === "input" ? "x" : "t"}": [3] }` },
  [`${section}.*`]: { what: `${noun} shape`, rule: SHAPE_RULE, expected: SHAPE_EXPECTED },
  [`${section}.*.*`]: { ...DIMENSION, what: "shape dimension" },
});

/** The fields of a recurrence block at `at` (docs/net-json.md#recurrences). */
const RECURRENCE = (at: string): Record<string, Descriptor> => {
  const names = (field: string, what: string, rule: string, expected: string, item: Descriptor): Record<string, Descriptor> => ({
    [`${at}.${field}`]: { what, rule, expected },
    [`${at}.${field}.*`]: item,
  });
  return {
    [at]: {
      what: "a recurrence",
      rule: "must be an object with carry and equations",
      expected: '{ "over": { "x_t": "x" }, "carry": { "h": "zeros(n)" }, "equations": ["h = ..."], "outputs": { "hs": "h" }, "final": { "hT": "h" } }',
    },
    ...names("over", "over", "must be an object mapping row names to sequences", '{ "x_t": "x" } (x_t: row t of x, a value of shape [T, ...])', EXPRESSION("a sequence", "an expression of shape [T, ...]")),
    [`${at}.steps`]: { what: "steps", rule: "must be a positive integer", expected: "the number of steps T, an integer ≥ 1" },
    [`${at}.reverse`]: { what: "reverse", rule: "must be true or false", expected: "a boolean" },
    ...names("carry", "carry", "must be an object mapping carried names to initial values", '{ "h": "zeros(16)" }', EXPRESSION("an initial value", 'an expression such as "zeros(16)"')),
    [`${at}.equations`]: { what: "the step's equations", rule: "must be a non-empty array of strings", expected: '["h = tanh(W * h + x_t)", ...]' },
    [`${at}.equations.*`]: EXPRESSION("a step equation", 'a string such as "h = tanh(W * h + x_t)"'),
    ...names("outputs", "outputs", "must be an object mapping new names to expressions", '{ "hs": "h" } (every step\'s h, [T, ...])', EXPRESSION("an output", "an expression of the step's names")),
    ...names("final", "final", "must be an object mapping new names to expressions", '{ "hT": "h" } (h after the last step)', EXPRESSION("a final value", "an expression of the carried names")),
  };
};

const EQUATION: Record<string, Descriptor> = {
  ...COMMON,
  params: { what: "params", rule: "must be an object mapping parameter names to { \"shape\": [...] }", expected: '{ "w": { "shape": [2, 3] } }' },
  "params.*": { what: "a parameter", rule: "must be an object with a shape", expected: '{ "shape": [...], "init": ... }' },
  "params.*.shape": { what: "parameter shape", rule: SHAPE_RULE, expected: SHAPE_EXPECTED },
  "params.*.shape.*": { ...DIMENSION, what: "shape dimension" },
  "params.*.init": INIT,
  ...SHAPES("inputs", "input"),
  ...SHAPES("targets", "target"),
  // an entry may be a recurrence too, but a value that is neither is almost always a string gone wrong: the messages
  // speak of strings, and what is expected names both
  equations: { what: "equations", rule: "must be a non-empty array of strings", expected: '["y = w * x", ...], each entry a string or { "recurrence": { ... } }' },
  "equations.*": { what: "an equation", rule: "must be a non-empty string", expected: 'a string such as "y = w * x", or { "recurrence": { ... } } (docs/net-json.md#recurrences)' },
  ...RECURRENCE("equations.*.recurrence"),
  output: EXPRESSION("output", "the name of the network's output value"),
  loss: EXPRESSION("loss", 'a per-sample scalar expression such as "0.5 * (e - t)^2"'),
  regularizer: EXPRESSION("regularizer", "an expression over params"),
  functions: { what: "functions", rule: "must be an object mapping function names to expressions in x", expected: '{ "softsign": "x / (1 + abs(x))" }' },
  "functions.*": EXPRESSION("a function body", 'an expression in x such as "x / (1 + abs(x))"'),
};

const NAMED_SECTIONS = new Set(["params", "inputs", "targets", "functions"]);

/** The fields of a recurrence whose keys are names the user chooses. */
const NAMED_RECURRENCE_FIELDS = new Set(["over", "carry", "outputs", "final"]);

/** The descriptor key of a path: indices and user-chosen names become "*". */
function pattern(segments: readonly PathSegment[]): string {
  const userName = (i: number) =>
    (i === 1 && NAMED_SECTIONS.has(String(segments[0]))) || (i >= 2 && segments[i - 2] === "recurrence" && NAMED_RECURRENCE_FIELDS.has(String(segments[i - 1])));
  return segments.map((s, i) => (typeof s === "number" || userName(i) ? "*" : s)).join(".");
}

/** Splits an ajv instancePath ("/layers/1/units") into segments, using the data to tell indices from keys. */
export function pointerSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const segment = Array.isArray(current) ? Number(key) : key;
    segments.push(segment);
    current = current !== null && typeof current === "object" ? (current as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return segments;
}

export function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let current = data;
  for (const s of segments) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, s)) return undefined;
    current = (current as Record<PathSegment, unknown>)[s];
  }
  return current;
}

const LAYER_ITEM: Descriptor = { what: "a layer", rule: "must be an object", expected: '{ "type": "dense", "units": n }' };
const LAYER_TYPE: Descriptor = {
  what: "layer type",
  rule: `must be one of ${quoteList(LAYER_TYPES)}`,
  expected: `one of ${quoteList(LAYER_TYPES)}; anything else can be written in the equation form (${EQUATION_FORM_DOC})`,
  choices: LAYER_TYPES,
};

/** The words for a value at `segments`: from the table, or for a layer's fields from its type's record. */
type Describe = (segments: readonly PathSegment[], data: unknown) => Descriptor | undefined;

const describeEquation: Describe = (segments) => EQUATION[pattern(segments)];

const describeLayer: Describe = (segments, data) => (segments[0] === "layers" && typeof segments[1] === "number" ? layerDescriptor(segments, data) : LAYER[pattern(segments)]);

/** layers[i](.layers[j])*.field(.k): the layer is found in the data, its field in its type's record. */
function layerDescriptor(segments: readonly PathSegment[], data: unknown): Descriptor | undefined {
  let k = 2;
  while (segments.length > k + 1 && segments[k] === "layers" && typeof segments[k + 1] === "number") k += 2;
  const [field, ...deeper] = segments.slice(k);
  if (field === undefined) return LAYER_ITEM;
  if (field === "type") return LAYER_TYPE;
  const layer = valueAt(data, segments.slice(0, k));
  const type = layer !== null && typeof layer === "object" ? (layer as { type?: unknown }).type : undefined;
  // a layer of an unknown type: the words of the first type with that field (the shared fields are checked anyway)
  const kind = typeof type === "string" ? LAYER_KINDS.get(type) : undefined;
  const described = kind ? kind.fields[String(field)] : [...LAYER_KINDS.values()].find((k) => k.fields[String(field)])?.fields[String(field)];
  if (!described || deeper.length === 0) return described;
  return { what: `${described.what} entry`, rule: described.rule.replace(/^must be/, "must be part of"), expected: described.expected };
}

function describeErrors(form: Form, errors: readonly ErrorObject[], data: unknown): Problem[] {
  const table = form === "layer" ? describeLayer : describeEquation;
  // propertyNames errors are left to the name checks, which explain reserved words and duplicates too;
  // an if/then error only says which branch failed, and that branch's own errors say why
  const relevant = errors.filter((e) => e.keyword !== "propertyNames" && e.keyword !== "if" && e.propertyName === undefined);
  const problems: Problem[] = [];
  const valueGroups = new Map<string, ErrorObject[]>();
  for (const e of relevant) {
    if (e.keyword === "additionalProperties") problems.push(unknownKey(form, e, data));
    else if (e.keyword === "required") problems.push(missingKey(table, e, data));
    else valueGroups.set(e.instancePath, [...(valueGroups.get(e.instancePath) ?? []), e]);
  }
  for (const [pointer, group] of valueGroups) {
    // A failed anyOf with errors deeper inside (input: [0]) is better explained by those deeper errors.
    const hasDeeper = [...valueGroups.keys()].some((p) => p.startsWith(pointer + "/"));
    if (hasDeeper && group.some((e) => e.keyword === "anyOf")) continue;
    problems.push(badValue(table, pointerSegments(pointer, data), group, data));
  }
  return problems;
}

function badValue(table: Describe, segments: PathSegment[], group: ErrorObject[], data: unknown): Problem {
  const d = table(segments, data);
  if (!d) return { segments, message: `${formatPath(segments) || "the value"} ${group[0].message ?? "is invalid"}` };
  const value = valueAt(data, segments);
  if (d.choices && typeof value === "string") {
    const suggestion = suggest(value, d.choices);
    return {
      segments,
      message: `unknown ${d.what} ${JSON.stringify(value)}`,
      expected: d.expected,
      suggestion: suggestion === undefined ? undefined : JSON.stringify(suggestion),
    };
  }
  return { segments, message: `${d.what} ${d.rule}`, expected: d.expected };
}

function unknownKey(form: Form, e: ErrorObject, data: unknown): Problem {
  const key = String((e.params as { additionalProperty: string }).additionalProperty);
  const parent = pointerSegments(e.instancePath, data);
  const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const suggestion = suggestKey(key, allowed);
  const other = form === "layer" ? "equations" : "layers";
  const message =
    parent.length === 0 && key === other
      ? `unknown key ${JSON.stringify(key)}: a net.json uses either "layers" (layer form) or "equations" (equation form), not both`
      : `unknown key ${JSON.stringify(key)}`;
  return {
    segments: [...parent, key],
    atKey: true,
    message,
    expected: `one of ${quoteList(allowed)}`,
    found: JSON.stringify(key),
    suggestion: suggestion === undefined ? undefined : JSON.stringify(suggestion),
  };
}

function missingKey(table: Describe, e: ErrorObject, data: unknown): Problem {
  const key = String((e.params as { missingProperty: string }).missingProperty);
  const segments = [...pointerSegments(e.instancePath, data), key];
  const d = table(segments, data);
  return { segments, atParent: true, message: `missing required key ${JSON.stringify(key)}`, expected: d?.expected };
}
