import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BpgenError, type ErrorDetail } from "../src/errors.ts";
import { loadSpec, parseSpec } from "../src/spec/load.ts";
import { formatPath } from "../src/spec/paths.ts";
import { suggest } from "../src/spec/suggest.ts";
import { isLayerSpec } from "../src/spec/types.ts";

/** The details of the BpgenError that parsing `text` throws. */
function errorsOf(text: string): readonly ErrorDetail[] {
  try {
    parseSpec("net.json", text);
  } catch (e) {
    expect(e).toBeInstanceOf(BpgenError);
    return (e as BpgenError).details;
  }
  throw new Error("expected a BpgenError");
}

/** The only error of `text`. */
function errorOf(text: string): ErrorDetail {
  const details = errorsOf(text);
  expect(details, details.map((d) => d.message).join("; ")).toHaveLength(1);
  return details[0];
}

/** 1-based line:column of the n-th occurrence of `needle` in `text`, plus `shift` characters. */
function where(text: string, needle: string, shift = 0, nth = 0): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i <= nth; i++) offset = text.indexOf(needle, offset + 1);
  if (offset < 0) throw new Error(`${needle} not in text`);
  offset += shift;
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

const LAYER_EXAMPLE = `{
  "$schema": "../node_modules/bpgen/schema/net.schema.json",
  "name": "mnist_mlp",
  "input": 784,
  "layers": [
    { "type": "dense", "units": 128, "activation": "relu" },
    { "type": "dense", "units": 10 }
  ],
  "loss": "softmax_cross_entropy",
  "l2": 0.0001
}
`;

const EQUATION_EXAMPLE = `{
  "name": "chain3",
  "params":  { "w1": { "shape": [], "init": 0.2333 }, "w2": { "shape": [], "init": -0.233 }, "w3": { "shape": [], "init": -0.52133 } },
  "inputs":  { "x": [] },
  "targets": { "t": [] },
  "equations": ["y = w1 * x", "z = w2 * y", "e = w3 * z"],
  "output": "e",
  "loss": "0.5 * (e - t)^2"
}
`;

/** A layer-form file whose first layer has the given JSON text. */
const withLayer = (layer: string) => LAYER_EXAMPLE.replace('{ "type": "dense", "units": 128, "activation": "relu" }', layer);
/** The equation example with `from` replaced by `to`. */
const equation = (from: string, to: string) => {
  expect(EQUATION_EXAMPLE).toContain(from);
  return EQUATION_EXAMPLE.replace(from, to);
};
const layer = (from: string, to: string) => {
  expect(LAYER_EXAMPLE).toContain(from);
  return LAYER_EXAMPLE.replace(from, to);
};

describe("valid files", () => {
  it("loads the layer-form example from docs/net-json.md", () => {
    const { spec, locate, file } = parseSpec("net.json", LAYER_EXAMPLE);
    expect(file).toBe("net.json");
    expect(isLayerSpec(spec)).toBe(true);
    if (!isLayerSpec(spec)) return;
    expect(spec.name).toBe("mnist_mlp");
    expect(spec.input).toBe(784);
    expect(spec.layers.map((l) => l.units)).toEqual([128, 10]);
    expect(spec.loss).toBe("softmax_cross_entropy");
    expect(spec.l2).toBe(0.0001);
    expect(locate(["layers", 1, "units"])).toEqual(where(LAYER_EXAMPLE, "10 }"));
    expect(locate(["layers", 0, "activation"])).toEqual(where(LAYER_EXAMPLE, '"relu"'));
    expect(locate(["loss"])).toEqual({ line: 9, column: 11 });
    expect(locate(["layers", 5])).toBeUndefined();
    expect(locate([])).toEqual({ line: 1, column: 1 });
  });

  it("loads the equation-form example from docs/net-json.md", () => {
    const { spec, locate } = parseSpec("net.json", EQUATION_EXAMPLE);
    expect(isLayerSpec(spec)).toBe(false);
    if (isLayerSpec(spec)) return;
    expect(Object.keys(spec.params)).toEqual(["w1", "w2", "w3"]);
    expect(spec.params.w2).toEqual({ shape: [], init: -0.233 });
    expect(spec.inputs.x).toEqual([]);
    expect(spec.equations).toHaveLength(3);
    expect(spec.output).toBe("e");
    expect(locate(["equations", 2])).toEqual(where(EQUATION_EXAMPLE, '"e = w3 * z"'));
    expect(locate(["params", "w3", "init"])).toEqual(where(EQUATION_EXAMPLE, "-0.52133"));
    expect(locate(["params", "nope"])).toBeUndefined();
  });

  it("accepts activation expressions in x, the identity x, and optional keys", () => {
    const text = withLayer('{ "type": "dense", "units": 4, "activation": "x / (1 + abs(x))", "bias": false, "init": "he" }').replace(
      '"units": 10 }',
      '"units": 10, "activation": "x", "init": 0.5 }',
    );
    const { spec } = parseSpec("net.json", text);
    expect(isLayerSpec(spec) && spec.layers[0].activation).toBe("x / (1 + abs(x))");
  });

  it("accepts an input shape, a regularizer, functions and empty targets", () => {
    expect(() => parseSpec("net.json", layer('"input": 784', '"input": [28, 28]'))).not.toThrow();
    const text = equation('"targets": { "t": [] }', '"targets": {}')
      .replace('"loss": "0.5 * (e - t)^2"', '"loss": "e^2", "regularizer": "w1^2", "functions": { "softsign": "x / (1 + abs(x))" }, "comment": "hi"');
    expect(() => parseSpec("net.json", text)).not.toThrow();
  });

  it("loadSpec reads a file from disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "bpgen-spec-"));
    const file = join(dir, "net.json");
    writeFileSync(file, EQUATION_EXAMPLE);
    expect(loadSpec(file).spec.name).toBe("chain3");
    expect(loadSpec("other.json", LAYER_EXAMPLE).file).toBe("other.json");
  });

  it("ignores a UTF-8 byte order mark", () => {
    expect(parseSpec("net.json", "\uFEFF" + LAYER_EXAMPLE).locate(["name"])).toEqual({ line: 3, column: 11 });
  });
});

describe("JSON syntax errors", () => {
  it("reports a missing comma with line:column and expected/found", () => {
    const text = '{\n  "name": "a"\n  "input": 3\n}';
    const d = errorOf(text);
    expect(d.message).toContain("expected ',' or '}'");
    expect(d).toMatchObject({ file: "net.json", line: 3, column: 3, found: '"input"' });
  });

  it("reports a missing comma inside an array as expecting ']'", () => {
    const d = errorOf('{"layers": [1 2]}');
    expect(d.message).toContain("expected ',' or ']'");
    expect(d).toMatchObject({ line: 1, column: 15, found: "2" });
  });

  it("reports a trailing comma in an object at the comma", () => {
    const text = '{\n  "name": "m",\n  "input": 784,\n}';
    const d = errorOf(text);
    expect(d.message).toBe("trailing comma is not allowed in JSON");
    expect(d).toMatchObject({ line: 3, column: 15 });
  });

  it("reports a trailing comma in an array", () => {
    const text = layer('"input": 784', '"input": [28, 28, ]');
    const d = errorOf(text);
    expect(d.message).toContain("trailing comma");
    expect(d).toMatchObject(where(text, ", ]"));
  });

  it("rejects comments", () => {
    const d = errorOf('{\n  // a comment\n  "layers": []\n}');
    expect(d.message).toContain("comments are not allowed");
    expect(d).toMatchObject({ line: 2, column: 3 });
  });

  it("reports an invalid value such as a bare word", () => {
    const d = errorOf('{"name": "m", "input": tru}');
    expect(d.message).toContain("invalid value");
    expect(d).toMatchObject({ line: 1, column: 24, found: "tru" });
  });

  it("reports an unclosed object at the end of the file", () => {
    const d = errorOf('{"name": "m",\n "input": 3');
    expect(d.message).toContain("unclosed object");
    expect(d).toMatchObject({ line: 2, found: "end of file" });
  });

  it("reports an empty file", () => {
    expect(errorOf("  \n")).toMatchObject({ message: "the file is empty", line: 1, column: 1 });
  });

  it("rejects a root that is not an object", () => {
    const d = errorOf("\n[1, 2]");
    expect(d).toMatchObject({ message: "net.json must be a JSON object", line: 2, column: 1, found: "[1, 2]" });
  });

  it("reports a duplicate key at its second occurrence", () => {
    const text = layer('"l2": 0.0001', '"l2": 0.0001,\n  "loss": "mse"');
    const d = errorOf(text);
    expect(d).toMatchObject({ message: 'duplicate key "loss"', path: "loss", ...where(text, '"loss"', 0, 1) });
  });
});

describe("form detection", () => {
  it("says which keys choose a form when neither is present", () => {
    const d = errorOf('{ "name": "m", "input": 3 }');
    expect(d.message).toBe('expected a "layers" key (layer form) or an "equations" key (equation form)');
    expect(d).toMatchObject({ line: 1, column: 1, found: 'keys "name", "input"' });
  });

  it("suggests the form key for a near miss", () => {
    const text = '{\n  "name": "m",\n  "layer": []\n}';
    const d = errorOf(text);
    expect(d.suggestion).toBe('"layers" instead of "layer"');
    expect(d).toMatchObject({ line: 3, column: 3 });
  });
});

describe("layer form", () => {
  it("reports an unknown key in a layer with a suggestion", () => {
    const text = withLayer('{ "type": "dense", "unts": 128 }');
    const unknown = errorsOf(text).find((d) => d.message === 'unknown key "unts"');
    expect(unknown).toMatchObject({ path: "layers[0].unts", suggestion: '"units"', ...where(text, '"unts"') });
    expect(errorsOf(text).some((d) => d.message === 'missing required key "units"' && d.path === "layers[0].units")).toBe(true);
  });

  it.each([
    ["note", "comment"],
    ["notes", "comment"],
    ["Note", "comment"],
    ["remark", "comment"],
    ["doc", "comment"],
    ["desc", "description"],
    ["Description", "description"],
    ["comments", "comment"],
    ["comnent", "comment"],
  ])("suggests by meaning, not only by spelling, for the top-level key %j: %j", (key, meant) => {
    const text = layer('"l2": 0.0001', `"l2": 0.0001,\n  ${JSON.stringify(key)}: "a note"`);
    const d = errorOf(text);
    expect(d).toMatchObject({ message: `unknown key ${JSON.stringify(key)}`, path: key, suggestion: JSON.stringify(meant), ...where(text, `"${key}"`) });
    // what it suggests is accepted there
    expect(() => parseSpec("net.json", text.replace(`"${key}":`, `"${meant}":`))).not.toThrow();
  });

  it("suggests no free-text key where none is accepted (in a layer)", () => {
    const d = errorsOf(withLayer('{ "type": "dense", "units": 128, "note": "hidden" }')).find((e) => e.message === 'unknown key "note"');
    expect(d?.path).toBe("layers[0].note");
    expect(d?.suggestion).toBeUndefined();
  });

  it("reports an unknown top-level key with a suggestion", () => {
    const text = layer('"l2"', '"lamda2"').replace('"loss"', '"los"');
    const details = errorsOf(text);
    expect(details.find((d) => d.path === "los")).toMatchObject({ message: 'unknown key "los"', suggestion: '"loss"' });
    expect(details.find((d) => d.path === "loss")).toMatchObject({ message: 'missing required key "loss"', line: 1, column: 1 });
  });

  it.each([
    ["0", "0"],
    ["1.5", "1.5"],
    ['"10"', '"10"'],
    ["-3", "-3"],
  ])("rejects units %s", (units, found) => {
    const text = LAYER_EXAMPLE.replace('"units": 10 }', `"units": ${units} }`);
    const d = errorOf(text);
    expect(d).toMatchObject({
      message: "layer units must be a positive integer",
      path: "layers[1].units",
      expected: "an integer ≥ 1",
      found,
      ...where(text, `${units} }`),
    });
  });

  it("suggests the nearest loss name", () => {
    const text = layer('"softmax_cross_entropy"', '"softmax_crossentropy"');
    const d = errorOf(text);
    expect(d).toMatchObject({ message: 'unknown loss "softmax_crossentropy"', path: "loss", suggestion: '"softmax_cross_entropy"', line: 9, column: 11 });
    expect(d.expected).toContain('"mse"');
  });

  it("rejects an unknown activation name with a suggestion", () => {
    const text = layer('"relu"', '"sigmoud"');
    const d = errorOf(text);
    expect(d).toMatchObject({ message: 'unknown activation "sigmoud"', path: "layers[0].activation", suggestion: '"sigmoid"', ...where(text, '"sigmoud"') });
  });

  it("rejects a non-string activation", () => {
    const d = errorOf(layer('"relu"', "3"));
    expect(d).toMatchObject({ message: "activation must be a builtin name or an expression in x", path: "layers[0].activation", found: "3" });
  });

  it("rejects a negative input size", () => {
    const text = layer('"input": 784', '"input": -784');
    const d = errorOf(text);
    expect(d).toMatchObject({ path: "input", found: "-784", line: 4, column: 12 });
    expect(d.message).toContain("input must be a positive integer");
  });

  it("points at the bad entry of an input shape, once", () => {
    const text = layer('"input": 784', '"input": [28, 0]');
    const d = errorOf(text);
    expect(d).toMatchObject({ message: "input dimension must be a positive integer", path: "input[1]", found: "0", line: 4, column: 17 });
  });

  it("rejects a negative l2", () => {
    const d = errorOf(layer('"l2": 0.0001', '"l2": -0.1'));
    expect(d).toMatchObject({ message: "l2 must be a non-negative number", path: "l2", found: "-0.1", line: 10, column: 9 });
  });

  it("rejects an empty layers array", () => {
    const text = '{ "name": "m", "input": 3, "layers": [], "loss": "mse" }';
    expect(errorOf(text)).toMatchObject({ message: "layers must be a non-empty array of layers", path: "layers", ...where(text, "[]") });
  });

  it("rejects an unknown layer type, a bad init and a non-boolean bias", () => {
    const text = withLayer('{ "type": "conv", "units": 3, "init": "xaviar", "bias": "yes" }');
    const details = errorsOf(text);
    expect(details.map((d) => d.path)).toEqual(["layers[0].type", "layers[0].init", "layers[0].bias"]);
    expect(details[0]).toMatchObject({ message: 'unknown layer type "conv"' });
    expect(details[0].expected).toContain('"dense", "conv1d", "conv2d"');
    expect(details[0].expected).toContain("equation form (docs/net-json.md#equation-form)");
    expect(details[1]).toMatchObject({ message: 'unknown initialization "xaviar"', suggestion: '"xavier"', ...where(text, '"xaviar"') });
    expect(details[2]).toMatchObject({ message: "layer bias must be true or false", found: '"yes"' });
  });

  it("rejects a network name that is not an identifier", () => {
    const d = errorOf(layer('"mnist_mlp"', '"mnist-mlp"'));
    expect(d).toMatchObject({ path: "name", line: 3, column: 11, found: '"mnist-mlp"' });
    expect(d.message).toContain("network name must be an identifier");
  });

  it("rejects networks with too many parameters", () => {
    const text = layer('"input": 784', '"input": [10000, 10000]');
    const d = errorOf(text);
    expect(d.message).toContain("network too large to compile");
    expect(d).toMatchObject({ path: "layers", line: 5, column: 13 });
  });

  it("rejects a dimension above 10 million", () => {
    const text = layer('"units": 10 }', '"units": 20000000 }');
    const d = errorOf(text);
    expect(d).toMatchObject({ message: "dimension 20,000,000 is too large to compile", path: "layers[1].units", ...where(text, "20000000") });
  });
});

describe("equation form", () => {
  it("reports a missing output at the enclosing object", () => {
    const d = errorOf(equation('  "output": "e",\n', ""));
    expect(d).toMatchObject({ message: 'missing required key "output"', path: "output", line: 1, column: 1 });
  });

  it("accepts shapes of rank 3 and more (images, volumes), and rejects a shape that is not a list of sizes", () => {
    expect(() => parseSpec("net.json", equation('"x": []', '"x": [2, 3, 4]'))).not.toThrow();
    const text = equation('"x": []', '"x": [2, "3"]');
    expect(errorOf(text)).toMatchObject({
      message: "shape dimension must be a positive integer",
      path: "inputs.x[1]",
      ...where(text, '"3"'),
    });
  });

  it("rejects a zero entry in a parameter shape", () => {
    const text = equation('"w2": { "shape": []', '"w2": { "shape": [3, 0]');
    expect(errorOf(text)).toMatchObject({ message: "shape dimension must be a positive integer", path: "params.w2.shape[1]", found: "0", ...where(text, "0]") });
  });

  it("rejects a reserved word as a name", () => {
    const text = equation('"w1":', '"class":');
    expect(errorOf(text)).toMatchObject({ message: '"class" is a reserved word and cannot be used as a name in params', path: "params.class", ...where(text, '"class"') });
  });

  it("treats __proto__ as an ordinary, rejected name (no prototype pollution)", () => {
    const text = equation('"t": []', '"__proto__": [], "constructor": []');
    const details = errorsOf(text);
    expect(details.map((d) => d.path)).toEqual(["targets.__proto__", "targets.constructor"]);
    expect(details[0]).toMatchObject({ message: '"__proto__" cannot be used as a name in targets', ...where(text, '"__proto__"') });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("does not let a top-level __proto__ key change the prototype", () => {
    const text = layer('"l2": 0.0001', '"__proto__": { "polluted": true }');
    expect(errorOf(text)).toMatchObject({ message: 'unknown key "__proto__"', path: "__proto__", line: 10, column: 3 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects names with spaces and dots, quoting them in the path", () => {
    const text = equation('"w2":', '"my param":').replace('"w3":', '"a.b":');
    const details = errorsOf(text);
    expect(details.map((d) => d.path)).toEqual(['params["my param"]', 'params["a.b"]']);
    expect(details[0].message).toBe('invalid name "my param" in params: names must be identifiers');
    expect(details[1]).toMatchObject(where(text, '"a.b"'));
  });

  it("rejects a name declared in params and again in inputs", () => {
    const text = equation('"x": []', '"w2": []');
    expect(errorOf(text)).toMatchObject({ message: '"w2" is declared twice (first in params, again in inputs)', path: "inputs.w2", ...where(text, '"w2"', 0, 1) });
  });

  it("rejects a function that reuses a target name", () => {
    const text = equation('"output": "e",', '"output": "e", "functions": { "t": "x + 1" },');
    expect(errorOf(text)).toMatchObject({ message: '"t" is declared twice (first in targets, again in functions)', path: "functions.t" });
  });

  it("rejects an unknown key in a parameter with a suggestion", () => {
    const text = equation('"w1": { "shape": []', '"w1": { "shape": [], "intt": 1');
    expect(errorOf(text)).toMatchObject({ message: 'unknown key "intt"', path: "params.w1.intt", suggestion: '"init"', ...where(text, '"intt"') });
  });

  it("rejects an empty equations array and a non-string equation", () => {
    expect(errorOf(equation('["y = w1 * x", "z = w2 * y", "e = w3 * z"]', "[]"))).toMatchObject({
      message: "equations must be a non-empty array of strings",
      path: "equations",
      line: 6,
      column: 16,
    });
    expect(errorOf(equation('"z = w2 * y"', "42"))).toMatchObject({ message: "an equation must be a non-empty string", path: "equations[1]", found: "42" });
  });

  it("rejects a parameter too large to compile", () => {
    const text = equation('"w1": { "shape": []', '"w1": { "shape": [20000, 20000]');
    const d = errorOf(text);
    expect(d.message).toBe("network too large to compile: 400,000,002 parameters");
    expect(d).toMatchObject({ path: "params", ...where(text, "{ \"w1\"") });
  });

  it("reports many errors at once, in file order", () => {
    const text = equation('"w1": { "shape": []', '"w1": { "shape": [0]')
      .replace('"x": []', '"x": [1, 2.5]')
      .replace('"output": "e",', '"output": 5,')
      .replace('"chain3"', '"chain 3"');
    const details = errorsOf(text);
    expect(details.map((d) => d.path)).toEqual(["name", "params.w1.shape[0]", "inputs.x[1]", "output"]);
    expect(details.map((d) => d.line)).toEqual([2, 3, 4, 7]);
    expect(details.every((d) => d.file === "net.json")).toBe(true);
    expect(details[3]).toMatchObject({ message: "output must be a non-empty string", found: "5" });
  });
});

describe("loadSpec", () => {
  it("reports a missing file as a BpgenError", () => {
    expect(() => loadSpec("/nonexistent/net.json")).toThrow(BpgenError);
    try {
      loadSpec("/nonexistent/net.json");
    } catch (e) {
      expect((e as BpgenError).details[0]).toMatchObject({ file: "/nonexistent/net.json", message: "cannot read /nonexistent/net.json: no such file" });
    }
  });
});

describe("helpers", () => {
  it("formatPath uses dots for identifiers and brackets otherwise", () => {
    expect(formatPath(["layers", 1, "units"])).toBe("layers[1].units");
    expect(formatPath(["params", "weird key", "shape", 0])).toBe('params["weird key"].shape[0]');
    expect(formatPath([])).toBe("");
  });

  it("suggest finds near misses only", () => {
    expect(suggest("sigmoud", ["relu", "sigmoid", "tanh"])).toBe("sigmoid");
    expect(suggest("ReLU", ["relu", "tanh"])).toBe("relu");
    expect(suggest("banana", ["relu", "tanh"])).toBeUndefined();
    expect(suggest("relu", ["relu"])).toBeUndefined();
  });
});
