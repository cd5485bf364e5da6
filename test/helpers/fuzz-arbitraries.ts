/**
 * fast-check arbitraries for fuzzing: random valid networks of both forms (layers, and equations built from
 * random elementwise expression trees, user functions and the oracle's templates), the data to run them on,
 * and malformed files made by mutating valid ones (values, keys, names, expression text, raw JSON text).
 */
import fc from "fast-check";
import { LAYER_LOSSES, type EquationNetSpec, type LayerNetSpec, type NetSpec } from "../../src/spec/types.ts";
import { CUSTOM_ACTIVATIONS, makeRng, randomEquationNet } from "../oracle/random-nets.ts";
import { ORACLE_ACTIVATIONS } from "../oracle/tf-equations.ts";

// ---- layer form ------------------------------------------------------------------------------------------

const activation = fc.constantFrom<string>(...ORACLE_ACTIVATIONS, ...CUSTOM_ACTIVATIONS);

const layer = fc.record(
  {
    type: fc.constant("dense" as const),
    units: fc.integer({ min: 1, max: 5 }),
    activation,
    bias: fc.boolean(),
    init: fc.constantFrom<LayerNetSpec["layers"][number]["init"]>("xavier", "he", "zeros", 0.5),
  },
  { requiredKeys: ["type", "units"] },
);

export const layerNet: fc.Arbitrary<LayerNetSpec> = fc
  .record({
    input: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))),
    layers: fc.array(layer, { minLength: 1, maxLength: 4 }),
    loss: fc.constantFrom(...LAYER_LOSSES),
    l2: fc.option(fc.constantFrom(0, 0.001, 0.1), { nil: undefined }),
    // binary cross-entropy through an output that is not a sigmoid: probabilities from a squashed softsign
    squashed: fc.boolean(),
  })
  .map(({ input, layers, loss, l2, squashed }) => {
    const copy = layers.map((l) => ({ ...l }));
    const last = copy[copy.length - 1];
    if (loss === "softmax_cross_entropy") last.units = Math.max(2, last.units);
    if (loss === "binary_cross_entropy") last.activation = squashed ? "0.5 + 0.45 * x / (1 + abs(x))" : "sigmoid";
    const spec: LayerNetSpec = { name: "fuzz_layers", input: Array.isArray(input) ? [...input] : input, layers: copy, loss };
    if (l2 !== undefined) spec.l2 = l2;
    return spec;
  });

// ---- equation form ---------------------------------------------------------------------------------------

/** Elementwise functions safe on any finite input (no log or sqrt of a negative, no overflow at moderate values). */
const UNARY = ["tanh", "sigmoid", "softplus", "softsign", "elu", "gelu", "swish", "relu", "leaky_relu", "abs", "square"] as const;
/** Compositions that keep a domain: exp of a non-positive value, sqrt and log of something ≥ 1. */
const SAFE = ["exp(-square(%))", "sqrt(1 + square(%))", "log(1 + exp(-abs(%))) + relu(%)", "% ./ (1 + abs(%))"] as const;

interface Expr {
  text: string;
  /** Whether it is a vector (it uses a vector leaf) or a scalar. */
  vector: boolean;
}

/** A random elementwise expression over the given leaves (the vector ones listed in `vectors`), as text. */
function expression(leaves: readonly string[], functions: readonly string[], vectors: readonly string[] = []): fc.Arbitrary<string> {
  const leaf = fc.constantFrom(...leaves).map((text): Expr => ({ text, vector: vectors.includes(text) }));
  const tree = fc.letrec<{ e: Expr }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(fc.constantFrom(...UNARY, ...functions), tie("e")).map(([f, a]) => ({ text: `${f}(${a.text})`, vector: a.vector })),
      fc.tuple(fc.constantFrom(...SAFE), tie("e")).map(([f, a]) => ({ text: f.replaceAll("%", `(${a.text})`), vector: a.vector })),
      fc.tuple(fc.constantFrom("+", "-", ".*"), tie("e"), tie("e")).map(([op, a, b]) => ({ text: `(${a.text} ${op} ${b.text})`, vector: a.vector || b.vector })),
      fc
        .tuple(fc.constantFrom("maximum", "minimum"), tie("e"), tie("e"))
        // equal shapes only (TF.js cannot differentiate a broadcasting max), and no ties max(a, a): the
        // subgradient there is a convention, which finite differences cannot check
        .filter(([, a, b]) => a.vector === b.vector && a.text !== b.text)
        .map(([f, a, b]) => ({ text: `${f}(${a.text}, ${b.text})`, vector: a.vector })),
    ),
  }));
  return tree.e.map((e) => e.text);
}

const number = fc.constantFrom("0.5", "2", "0.1", "1.5", "pi / 4");

export type TargetKind = "normal" | "probability" | "binary";

export interface EquationCase {
  spec: EquationNetSpec;
  targets: TargetKind;
}

/** y = W2·f(W1·x + b1) + b2 with a random elementwise f (possibly through user functions), and a random loss. */
const generatedEquationNet: fc.Arbitrary<EquationCase> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 4 }),
    m: fc.integer({ min: 1, max: 3 }),
    transposed: fc.boolean(),
    scalarInput: fc.boolean(),
    functionBody: fc.option(expression(["x", "0.5", "2"], []), { nil: undefined }),
    loss: fc.constantFrom<TargetKind>("normal", "probability", "binary"),
    regularizer: fc.boolean(),
    seed: fc.integer(),
  })
  .chain((r) => {
    const functions = r.functionBody === undefined ? [] : ["fz"];
    const leaves = ["z", "c", ...(r.scalarInput ? ["s"] : [])];
    return fc.tuple(fc.constant(r), expression(leaves, functions, ["z"]), number).map(([r2, body, k]) => ({ r: r2, body, k }));
  })
  .map(({ r, body, k }) => {
    const m = r.loss === "probability" ? Math.max(2, r.m) : r.m;
    const spec: EquationNetSpec = {
      name: "fuzz_equations",
      params: {
        W1: { shape: r.transposed ? [r.n, r.h] : [r.h, r.n] },
        b1: { shape: [r.h] },
        c: { shape: [] },
        W2: { shape: [m, r.h] },
        b2: { shape: [m] },
      },
      inputs: r.scalarInput ? { x: [r.n], s: [] } : { x: [r.n] },
      targets: { t: [m] },
      // `0.1 * z` keeps h a vector when the random body happens to use only scalars
      equations: [r.transposed ? "z = W1' * x + b1" : "z = W1 * x + b1", `h = 0.1 * z + ${k} * (${body})`, "o = W2 * h + b2"],
      output: "o",
      loss: LOSSES[r.loss],
    };
    if (r.functionBody !== undefined) spec.functions = { fz: r.functionBody };
    if (r.regularizer) spec.regularizer = "0.001 * sum(W1 .* W1) + 0.01 * c^2";
    return { spec, targets: r.loss };
  });

const LOSSES: Record<TargetKind, string> = {
  normal: "0.5 * sum((o - t).^2)",
  probability: "logsumexp(o) - sum(t .* o)",
  binary: "sum(softplus(o) - t .* o)",
};

/** The oracle suite's templates (matrix inputs, transposes, several inputs and targets, autoencoders). */
const templateEquationNet: fc.Arbitrary<EquationCase> = fc.integer().map((seed) => {
  const spec = randomEquationNet(makeRng(seed), "fuzz_template");
  const targets: TargetKind = /logsumexp/.test(spec.loss) ? "probability" : /softplus\(/.test(spec.loss) ? "binary" : "normal";
  return { spec, targets };
});

export const equationNet: fc.Arbitrary<EquationCase> = fc.oneof(generatedEquationNet, templateEquationNet);

export const anyNet: fc.Arbitrary<NetSpec> = fc.oneof(
  layerNet,
  equationNet.map((c) => c.spec),
);

/** Parameters, inputs and targets: a seed for their values, a batch size, and a scale for the parameters. */
export const data = fc.record({ seed: fc.integer(), batch: fc.integer({ min: 1, max: 4 }), scale: fc.constantFrom(0.3, 1, 2) });

// ---- malformed files -------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Text that looks like an expression but is often wrong: unknown names and functions, odd operators, huge numbers. */
const expressionText = fc
  .array(
    fc.constantFrom(
      "x", "W1", "b1", "h", "o", "z", "t", "c", "y", "sigmoud", "tanh", "sum", "softmax", "f", "__proto__", "constructor",
      "+", "-", "*", ".*", "/", "^", "'", "(", ")", "[", "]", ",", "=", "==", ";", "1e999", "0", "2", "\"s\"", "`", "${", "\n", "\u2028",
    ),
    { maxLength: 12 },
  )
  .map((tokens) => tokens.join(" "));

const odd = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom<Json>(0, -1, 1.5, 1e9, 1e308, "", "relu", "sigmoud", "xavir", "mse", [], {}, [0], [2, 2, 2], null, true),
  expressionText,
);

/** A path into `value` (object keys and array indices), chosen by `pick`. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object") return [prefix];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

type Mutation = (value: Json, at: (string | number)[]) => Json;

function update(value: Json, at: (string | number)[], change: (parent: Json, key: string | number) => void): Json {
  const copy = structuredClone(value);
  let parent: Json = copy;
  for (const k of at.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k];
  if (at.length > 0 && parent !== null && typeof parent === "object") change(parent, at[at.length - 1]);
  return copy;
}

const mutation: fc.Arbitrary<{ kind: string; apply: Mutation }> = fc.oneof(
  odd.map((v) => ({ kind: `set ${JSON.stringify(v)}`, apply: ((value, at) => update(value, at, (p, k) => ((p as Record<string | number, Json>)[k] = v))) as Mutation })),
  fc.constant({ kind: "delete", apply: ((value, at) => update(value, at, (p, k) => (Array.isArray(p) ? p.splice(Number(k), 1) : delete (p as Record<string, Json>)[k]))) as Mutation }),
  fc.string({ unit: "binary", maxLength: 10 }).map((name) => ({
    kind: `rename to ${JSON.stringify(name)}`,
    apply: (value: Json, at: (string | number)[]) =>
      update(value, at, (p, k) => {
        if (Array.isArray(p) || typeof k !== "string") return;
        const record = p as Record<string, Json>;
        const v = record[k];
        delete record[k];
        record[name] = v;
      }),
  })),
  expressionText.map((text) => ({ kind: `text ${JSON.stringify(text)}`, apply: (value: Json, at: (string | number)[]) => update(value, at, (p, k) => ((p as Record<string | number, Json>)[k] = text)) })),
);

export interface Malformed {
  text: string;
  /** What was done to the valid file, for the failure report. */
  how: string[];
}

/** A valid network with one to three random mutations, then maybe a raw edit of its JSON text. */
const mutatedJson: fc.Arbitrary<Malformed> = fc
  .tuple(anyNet, fc.array(fc.tuple(mutation, fc.nat()), { minLength: 1, maxLength: 3 }), fc.option(fc.tuple(fc.nat(), fc.constantFrom("", ",", "}", "\"", "\\", "/*", "\u0000", "[", "1e999")), { nil: undefined }))
  .map(([spec, mutations, raw]) => {
    let value = structuredClone(spec) as unknown as Json;
    const how: string[] = [];
    for (const [m, pick] of mutations) {
      const all = paths(value).filter((p) => p.length > 0);
      if (all.length === 0) break;
      const at = all[pick % all.length];
      value = m.apply(value, at);
      how.push(`${m.kind} at ${JSON.stringify(at)}`);
    }
    let text = JSON.stringify(value, null, 2);
    if (raw) {
      const [offset, insert] = raw;
      const i = offset % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + (insert === "" ? 1 : 0));
      how.push(`raw ${insert === "" ? "delete" : `insert ${JSON.stringify(insert)}`} at ${i}`);
    }
    return { text, how };
  });

/** Small edits of one expression of a valid equation net: a character dropped, a token inserted, a name swapped. */
const brokenExpression: fc.Arbitrary<Malformed> = fc
  .tuple(
    equationNet,
    fc.nat(),
    fc.nat(),
    fc.oneof(
      fc.constant<Edit>({ kind: "drop" }),
      fc.constantFrom("(", ")", "*", "'", ".*", "^", ",", "=", "x", "t", "W1", "sigmoud", "sum", "1e999", " ; ", "y").map((token): Edit => ({ kind: "insert", token })),
      fc.constantFrom("x", "t", "W1", "W2", "z", "h", "o", "c", "q", "softmax", "sum", "sigmoid").map((token): Edit => ({ kind: "swap", token })),
    ),
  )
  .map(([{ spec }, which, where, edit]) => {
    const texts: [string, (s: EquationNetSpec, v: string) => void][] = [
      ...spec.equations.map((_, i): [string, (s: EquationNetSpec, v: string) => void] => [`equations[${i}]`, (s, v) => (s.equations[i] = v)]),
      ["loss", (s, v) => (s.loss = v)],
      ["output", (s, v) => (s.output = v)],
      ...Object.keys(spec.functions ?? {}).map((name): [string, (s: EquationNetSpec, v: string) => void] => [`functions.${name}`, (s, v) => ((s.functions ?? {})[name] = v)]),
    ];
    const [label, set] = texts[which % texts.length];
    const copy = structuredClone(spec);
    const before = label === "loss" ? copy.loss : label === "output" ? copy.output : label.startsWith("functions.") ? (copy.functions ?? {})[label.slice(10)] : copy.equations[Number(label.slice(10, -1))];
    const i = where % (before.length + 1);
    const after =
      edit.kind === "drop"
        ? before.slice(0, i) + before.slice(i + 1)
        : edit.kind === "insert"
          ? before.slice(0, i) + edit.token + before.slice(i)
          : before.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (name, at: number) => (at <= i && i <= at + name.length ? edit.token : name));
    set(copy, after);
    return { text: JSON.stringify(copy, null, 2), how: [`${label}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`] };
  });

type Edit = { kind: "drop" } | { kind: "insert"; token: string } | { kind: "swap"; token: string };

/** Malformed files: mutated JSON values, keys and text, and small edits of expressions. */
export const malformed: fc.Arbitrary<Malformed> = fc.oneof(mutatedJson, brokenExpression);
