/**
 * Malformed and hostile net.json files, each with what bpgen must say about it: where (the text whose
 * line:column the message gives), and what (path, equation, expected, found, suggestion). Used by
 * test/hostile.test.ts, which runs each through the command line over an existing output file.
 */
import { PAYLOAD } from "./fuzz-cli.ts";

export interface BadInput {
  label: string;
  /** The text of the input file. */
  text: string;
  /** Where the first error must point: the position of this text in the file (its `nth` occurrence, plus `shift` characters). */
  at?: { needle: string; nth?: number; shift?: number };
  /** What stderr must contain (besides the file name and "error:"). */
  says: (string | RegExp)[];
  /** What stderr must not contain. */
  never?: (string | RegExp)[];
  /** The number of errors reported, when it matters. */
  errors?: number;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const EQ = {
  name: "net",
  params: { W: { shape: [3, 2] }, b: { shape: [3] } },
  inputs: { x: [2] },
  targets: { t: [3] },
  equations: ["h = tanh(W * x + b)"],
  output: "h",
  loss: "0.5 * sum((h - t).^2)",
};
const LAYER = {
  name: "net",
  input: 2,
  layers: [
    { type: "dense", units: 3, activation: "tanh" },
    { type: "dense", units: 2 },
  ],
  loss: "mse",
};
const eqNet = (over: Record<string, unknown> = {}) => json({ ...EQ, ...over });
const eqs = (...equations: string[]) => eqNet({ equations, output: "h" });
const layerNet = (over: Record<string, unknown> = {}) => json({ ...LAYER, ...over });
const layers = (...list: Record<string, unknown>[]) => layerNet({ layers: list });

/** A scalar network whose only equation is `text` (defining y), for expressions that need no shapes. */
const scalarEq = (text: string) =>
  json({ name: "net", params: { w: { shape: [] } }, inputs: { x: [] }, targets: { t: [] }, equations: [text], output: "y", loss: "(y - t)^2" });

export const JSON_INPUTS: BadInput[] = [
  { label: "an empty file", text: "", at: { needle: "" }, says: ["the file is empty", "expected: a JSON object"] },
  {
    label: "a missing comma",
    text: '{\n  "name": "net"\n  "input": 2\n}\n',
    at: { needle: '"input"' },
    says: ["invalid JSON: expected ',' or '}'", 'found: "input"'],
  },
  {
    label: "a trailing comma",
    text: layerNet().replace('"loss": "mse"', '"loss": "mse",'),
    at: { needle: ",\n}" },
    says: ["trailing comma is not allowed in JSON"],
  },
  { label: "a comment", text: '{\n  // the net\n  "name": "net"\n}\n', at: { needle: "//" }, says: ["comments are not allowed in JSON"] },
  {
    label: "a duplicate key",
    text: layerNet().replace('"input": 2', '"input": 2,\n  "input": 3'),
    at: { needle: '"input"', nth: 1 },
    says: ['duplicate key "input"', "at input", 'found: "input" again'],
  },
  { label: "a root that is an array", text: "[1, 2]\n", at: { needle: "[" }, says: ["net.json must be a JSON object", "found: [1, 2]"] },
  { label: "JSON nested 100 000 levels deep", text: "[".repeat(100_000), at: { needle: "[" }, says: ["nested too deeply"] },
  {
    label: "a byte order mark before the JSON",
    text: `\ufeff{\n  "name": 3,\n  "input": 2,\n  "layers": [{ "type": "dense", "units": 1 }],\n  "loss": "mse"\n}\n`,
    at: { needle: "3" },
    says: ["network name must be an identifier", "at name"],
  },
  { label: "a raw tab inside a string", text: '{\n  "name": "a\tb"\n}\n', at: { needle: "\t" }, says: ["control character in a string"] },
];

export const SCHEMA_INPUTS: BadInput[] = [
  { label: "zero units", text: layers({ type: "dense", units: 0 }), at: { needle: "0" }, says: ["layer units must be a positive integer", "at layers[0].units", "expected: an integer ≥ 1"] },
  {
    label: 'activation "sigmoud"',
    text: layers({ type: "dense", units: 1, activation: "sigmoud" }),
    at: { needle: '"sigmoud"' },
    says: ['unknown activation "sigmoud"', "at layers[0].activation", 'did you mean "sigmoid"?'],
  },
  {
    label: "a misspelt loss",
    text: layerNet({ loss: "softmax_crossentropy" }),
    at: { needle: '"softmax_crossentropy"' },
    says: ['unknown loss "softmax_crossentropy"', "at loss", 'did you mean "softmax_cross_entropy"?'],
  },
  {
    label: '"layer" instead of "layers"',
    text: layerNet().replace('"layers"', '"layer"'),
    at: { needle: '"layer"' },
    says: ['expected a "layers" key', 'did you mean "layers" instead of "layer"?'],
  },
  {
    label: "both forms at once",
    text: layerNet({ equations: ["y = x"] }),
    at: { needle: '"equations"' },
    says: ['unknown key "equations"', "not both"],
  },
  {
    label: "a network name that closes a string and a comment",
    text: layerNet({ name: `a*/"; ${PAYLOAD}; //` }),
    at: { needle: '"a*/' },
    says: ["network name must be an identifier", "at name"],
  },
  {
    label: "a network name with a line separator (U+2028)",
    text: layerNet({ name: "net\u2028globalThis.__pwned = 1" }),
    at: { needle: '"net\u2028' },
    says: ["network name must be an identifier", "at name"],
    never: ["\u2028"],
  },
  { label: "a dimension above 10 million", text: layerNet({ input: 20_000_000 }), at: { needle: "20000000" }, says: ["dimension 20,000,000 is too large to compile", "at input"] },
  { label: "too many parameters", text: layerNet({ input: [10_000, 10_000] }), at: { needle: "[\n    {" }, says: ["network too large to compile: 300,000,011 parameters", "at layers", "expected: at most 100,000,000 parameters"] },
  {
    label: 'init "xavir"',
    text: layers({ type: "dense", units: 1, init: "xavir" }),
    at: { needle: '"xavir"' },
    says: ['unknown initialization "xavir"', "at layers[0].init", 'did you mean "xavier"?'],
  },
  { label: "a negative l2", text: layerNet({ l2: -1 }), at: { needle: "-1" }, says: ["l2 must be a non-negative number", "at l2", "expected: a number ≥ 0"] },
  {
    label: 'a parameter named "__proto__"',
    text: eqNet().replace('"b": {', '"__proto__": { "shape": [3] },\n    "b": {'),
    at: { needle: '"__proto__"' },
    says: ['"__proto__" cannot be used as a name in params', "at params.__proto__"],
  },
  {
    label: 'a parameter named "constructor"',
    text: eqNet({ params: { ...EQ.params, constructor: { shape: [] } } }),
    at: { needle: '"constructor"' },
    says: ['"constructor" cannot be used as a name in params', "at params.constructor"],
  },
  {
    label: 'an input named "a*/" (closes a comment)',
    text: eqNet({ inputs: { x: [2], "a*/": [1] } }),
    at: { needle: '"a*/"' },
    says: ['invalid name "a*/" in inputs', 'at inputs["a*/"]'],
  },
  {
    label: "a target named by a double quote",
    text: eqNet({ targets: { t: [3], '"': [1] } }),
    at: { needle: '"\\""' },
    says: ['invalid name "\\"" in targets', 'at targets["\\""]'],
  },
  {
    label: 'a parameter named "return"',
    text: eqNet({ params: { ...EQ.params, return: { shape: [] } } }),
    at: { needle: '"return"' },
    says: ['"return" is a reserved word', "at params.return"],
  },
  {
    label: "a Unicode parameter name",
    text: eqNet({ params: { ...EQ.params, "θ": { shape: [] } } }),
    at: { needle: '"θ"' },
    says: ['invalid name "θ" in params: names must be identifiers'],
  },
  {
    label: "a name declared twice",
    text: eqNet({ inputs: { x: [2], W: [1] } }),
    at: { needle: '"W"', nth: 1 },
    says: ['"W" is declared twice (first in params, again in inputs)'],
  },
  {
    label: "a shape with a fractional size",
    text: eqNet({ params: { ...EQ.params, T: { shape: [2, 2.5] } } }),
    at: { needle: "2.5" },
    says: ["shape dimension must be a positive integer", "at params.T.shape[1]", "found: 2.5"],
  },
  {
    label: "inputs of 10¹⁴ values per sample",
    text: eqNet({ inputs: { x: [2], X: [10_000_000, 10_000_000] } }),
    at: { needle: '"inputs": {', shift: 10 },
    says: ["the inputs of one sample have 100,000,000,000,002 values, too many to compile", "expected: at most 100,000,000"],
  },
];

/** An image net: X is [4, 4, 2] (height, width, channels), K a 3×3 filter from its 2 channels to 2. */
const image = (equation: string, K: number[] = [3, 3, 2, 2]) =>
  eqNet({ params: { K: { shape: K } }, inputs: { X: [4, 4, 2] }, targets: {}, equations: [equation], output: "h", loss: "sum(h)" });

export const EQUATION_INPUTS: BadInput[] = [
  {
    label: 'an unknown function "sigmoud"',
    text: eqs("h = sigmoud(W * x + b)"),
    at: { needle: "sigmoud(" },
    says: ['unknown function "sigmoud"', "at equations[0]", 'in "h = sigmoud(W * x + b)"', 'did you mean "sigmoid"?'],
  },
  {
    label: "an unknown function after an escape sequence (\\t) in the same string",
    text: eqs("h =\ttanh(W * x + b) + sigmoud(b)"),
    at: { needle: "sigmoud(" },
    says: ['unknown function "sigmoud"', 'in "h =\\ttanh(W * x + b) + sigmoud(b)"'],
  },
  {
    label: "an unknown name with a near miss",
    text: eqs("h = tanh(w * x + b)"),
    at: { needle: "w * x" },
    says: ['unknown name "w"', 'did you mean "W"?', "found: w"],
  },
  {
    label: "a name used before it is defined",
    text: eqNet({ equations: ["z = 2 * h", "h = tanh(W * x + b)"], output: "h" }),
    at: { needle: "h\"," },
    says: ['"h" is used before it is defined', 'found: "h" is defined later, by equations[1]', "move equations[1] above equations[0]"],
  },
  {
    label: "a cycle between two equations",
    text: eqNet({ equations: ["a = W * x + c", "c = tanh(a)"], output: "c", loss: "sum(c)" }),
    at: { needle: "c\",\n" },
    says: ["circular definition: a → c → a", "at equations[0]"],
  },
  {
    label: "an equation using its own name",
    text: eqs("h = tanh(W * x + h)"),
    at: { needle: "h)" },
    says: ['"h" is used in its own definition'],
  },
  {
    label: "a name defined twice",
    text: eqNet({ equations: ["h = tanh(W * x + b)", "h = 2 * h"] }),
    at: { needle: "h = 2" },
    says: ['"h" is already defined (by equations[0])', "at equations[1]"],
  },
  { label: "an equation redefining a parameter", text: eqs("W = 2 * b", "h = tanh(b)"), at: { needle: "W = 2" }, says: ['"W" is already defined (in params)'] },
  { label: "a reserved word on the left", text: eqs("return = tanh(W * x + b)"), at: { needle: "return =" }, says: ['"return" is a reserved word and cannot be used as a name in equations'] },
  { label: '"__proto__" on the left', text: eqs("__proto__ = tanh(W * x + b)"), at: { needle: "__proto__ =" }, says: ['"__proto__" cannot be used as a name in equations'] },
  { label: '"constructor" on the left', text: eqs("constructor = tanh(W * x + b)"), at: { needle: "constructor =" }, says: ['"constructor" cannot be used as a name in equations'] },
  { label: "an equation that assigns nothing", text: eqs("tanh(W * x + b)"), at: { needle: "tanh(W" }, says: ["an equation must assign a name", "expected: name = expression"] },
  {
    label: "a function definition among the equations",
    text: eqs("f(a) = a", "h = tanh(W * x + b)"),
    at: { needle: "f(a)" },
    says: ["functions are declared in `functions`, not in equations"],
  },
  {
    label: "a second statement after ;",
    text: eqs(`h = tanh(W * x + b); ${PAYLOAD}`),
    at: { needle: "; globalThis" },
    says: ["an equation defines one name", "several statements"],
  },
  {
    label: "a template literal with ${}",
    text: eqs("h = `${globalThis.__pwned = 1}`"),
    at: { needle: "`${" },
    says: ["cannot parse expression", "at equations[0]"],
  },
  {
    label: 'require("fs") in an equation',
    text: eqs('h = require("fs").writeFileSync("bpgen-pwned-marker", "1")'),
    at: { needle: '"h = require' },
    says: ["a computed function is not supported in expressions", "expected: a function name"],
  },
  { label: "a call of require()", text: eqs('h = require("fs") * x'), at: { needle: "require(" }, says: ['unknown function "require"'] },
  {
    label: "constructor.constructor(...)()",
    text: eqs('h = constructor.constructor("globalThis.__pwned = 1")'),
    at: { needle: '"h = constructor' },
    says: ["a computed function is not supported in expressions"],
  },
  {
    label: "a call of a call, f(...)()",
    text: eqs('h = constructor.constructor("globalThis.__pwned = 1")()'),
    at: { needle: ')()"', shift: 2 },
    says: ["cannot parse expression: Value expected", "at equations[0]"],
  },
  { label: "mathjs evaluate()", text: eqs('h = evaluate("globalThis.__pwned = 1")'), at: { needle: "evaluate(" }, says: ['unknown function "evaluate"'] },
  { label: "mathjs import()", text: eqs('h = import({ pwned: 1 })'), at: { needle: "import(" }, says: ['unknown function "import"'] },
  {
    label: "a shape mismatch",
    text: eqs("h = tanh(W' * x + b)"),
    at: { needle: `"h = tanh(W'` },
    says: ["shape mismatch: matrix product needs matching inner sizes", "found: [2, 3] * [2]", "expected: a scalar operand, or [m, k] * [k, n]"],
  },
  {
    label: "a loss that is not a scalar",
    text: eqNet({ loss: "h - t" }),
    at: { needle: '"h - t"' },
    says: ["the loss must be a scalar per sample", "at loss", "expected: shape []", "found: shape [3]"],
  },
  {
    label: "a regularizer that uses an input",
    text: eqNet({ regularizer: "sum(x)" }),
    at: { needle: '"sum(x)"' },
    says: ["the regularizer may use parameters only", "at regularizer"],
  },
  {
    label: "an output that reads a target",
    text: eqNet({ equations: ["h = tanh(W * x + b)", "r = h - t"], output: "r" }),
    at: { needle: '"r"' },
    says: ['output "r" depends on the target "t", but forward is given no targets', "at output", 'found: "r" reads "t"'],
  },
  { label: "an undefined output", text: eqNet({ output: "hh" }), at: { needle: '"hh"' }, says: ['output "hh" is not defined', "at output", 'did you mean "h"?'] },
  {
    label: "a function that calls itself",
    text: eqNet({ functions: { f: "x + f(x)" }, equations: ["h = f(W * x + b)"] }),
    at: { needle: "f(x)" },
    says: ['function "f" calls itself: f → f', "at functions.f"],
  },
  {
    label: "two functions calling each other",
    text: eqNet({ functions: { f: "g(x) + 1", g: "2 * f(x)" }, equations: ["h = f(W * x + b)"] }),
    at: { needle: "g(x) + 1" },
    says: ['function "f" calls itself: f → g → f'],
    errors: 1,
  },
  {
    label: "a function body with an unknown name",
    text: eqNet({ functions: { f: "x + q" }, equations: ["h = f(W * x + b)", "z = f(h)"] }),
    at: { needle: "q\"" },
    says: ['unknown name "q" in the body of function "f"', "at functions.f"],
    errors: 1,
  },
  { label: "a function body that is not elementwise", text: eqNet({ functions: { f: "sum(x)" }, equations: ["h = f(W * x + b)"] }), at: { needle: "sum(x)\"" }, says: ["sum() is not allowed in a scalar function"] },
  { label: "a number too large for a double", text: eqs("h = 1e999 * tanh(W * x + b)"), at: { needle: "1e999" }, says: ["a number is too large", "found: 1e999"] },
  {
    label: "parentheses nested 500 deep",
    text: scalarEq(`y = ${"(".repeat(500)}w * x${")".repeat(500)}`),
    at: { needle: "(".repeat(101), shift: 100 },
    says: ["the expression is nested too deeply", "expected: at most 100 brackets open at once"],
  },
  {
    label: "a sum of 3000 terms",
    text: scalarEq(`y = ${Array.from({ length: 3000 }, (_, i) => `w * x * ${i}`).join(" + ")}`),
    at: { needle: '"y = w' },
    says: ["the expression is too deep to compile", "add many terms with sum(...)"],
  },
  {
    label: "a chain of 1200 equations",
    text: json({
      name: "net",
      params: { w: { shape: [] } },
      inputs: { x: [] },
      targets: { t: [] },
      equations: ["y0 = w * x", ...Array.from({ length: 1200 }, (_, i) => `y${i + 1} = tanh(y${i}) * w`)],
      output: "y1200",
      loss: "(y1200 - t)^2",
    }),
    at: { needle: '"y500 =' },
    says: ['the equation defining "y500" is too deep to compile', "at equations[500]", "found: a chain of 1,002 operations"],
    errors: 1,
  },
  {
    label: "a value of 400 million numbers",
    text: json({ name: "net", params: { w: { shape: [] } }, inputs: { X: [20000, 1] }, targets: { t: [] }, equations: ["y = sum(X * X') * w"], output: "y", loss: "(y - t)^2" }),
    at: { needle: '"y = sum' },
    says: ["a value of shape [20000, 20000] is too large to compile", "found: 400,000,000"],
  },
  {
    label: "an ANSI escape sequence in an equation",
    text: eqs("h = tanh(W * x + b)\u001b[2J\u001b[31m"),
    at: { needle: "\\u001b" },
    says: ["cannot parse expression", "\\u001b"],
    never: ["\u001b"],
  },
  {
    label: "a right-to-left override in an equation",
    text: eqs("h = tanh(W * x + b) \u202e + 1"),
    at: { needle: "\u202e" },
    says: ["cannot parse expression", "\\u202e"],
    never: ["\u202e"],
  },
  {
    label: "several bad equations (all reported; what depends on them skipped)",
    text: eqNet({ equations: ["h = sigmoud(W * x + b)", "z = W * y", "q = h + zz", "o = tanh(W * x + b)"], output: "o" }),
    at: { needle: "sigmoud(" },
    says: ['unknown function "sigmoud"', 'unknown name "y"', "at equations[0]", "at equations[1]", "2 errors"],
    never: ["zz", "equations[2]"],
    errors: 2,
  },
  {
    label: "two bad activations",
    text: layers({ type: "dense", units: 3, activation: "x + y" }, { type: "dense", units: 2, activation: "sigmoud(x)" }),
    at: { needle: "y\"" },
    says: ['unknown name "y" in an activation', 'unknown function "sigmoud"', "at layers[0].activation", "at layers[1].activation", 'did you mean "x"?'],
    errors: 2,
  },
  {
    label: "an activation with a second statement",
    text: layers({ type: "dense", units: 3, activation: `x; ${PAYLOAD}` }),
    at: { needle: "; globalThis" },
    says: ["block syntax is not supported in expressions", "at layers[0].activation"],
  },
  { label: "an activation calling require()", text: layers({ type: "dense", units: 3, activation: "require('fs')" }), at: { needle: "require(" }, says: ['unknown function "require"'] },
  {
    label: "a padding conv2d does not know",
    text: image('h = conv2d(X, K, 1, "full")'),
    at: { needle: "conv2d(" },
    says: ['conv2d: the padding is "valid", "same", a number, or [before, after]', 'found: "full"'],
  },
  {
    label: "a filter for other channels",
    text: image("h = conv2d(X, K)", [3, 3, 3, 2]),
    at: { needle: "conv2d(" },
    says: ["conv2d needs a filter [taps, taps, 2, out], with x's 2 channels", "found: [3, 3, 3, 2]"],
  },
  {
    label: "a window larger than the image",
    text: image("h = max_pool2d(X, 5)"),
    at: { needle: "max_pool2d(" },
    says: ["max_pool2d: a window spans 5 elements of spatial dimension 1, which has 4 with padding", "expected: an input of at least 5 there"],
  },
  {
    label: "transpose of a rank-3 tensor without an order",
    text: image("h = transpose(X)"),
    at: { needle: "transpose(" },
    says: ["mathjs transposes only matrices, and numpy would reverse every axis", "transpose(x, [3, 2, 1])"],
  },
  {
    label: "a permutation with a repeated axis",
    text: image("h = transpose(X, [1, 1, 2])"),
    at: { needle: "transpose(" },
    says: ["needs an order of the dimensions 1 to 3 of [4, 4, 2]", "found: [1, 1, 2]"],
  },
  {
    label: "a reshape to another number of elements",
    text: image("h = reshape(X, [5, 6])"),
    at: { needle: "reshape(" },
    says: ["reshape of [4, 4, 2] (32 elements) to [5, 6] (30 elements)", "expected: sizes whose product is 32"],
  },
  {
    label: "* between tensors of rank 3",
    text: image("h = X * K"),
    at: { needle: '"h = X * K"' },
    says: ['"*" multiplies vectors and matrices', "matmul(A, B)"],
  },
];
