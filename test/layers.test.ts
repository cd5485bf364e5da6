/**
 * The layer types of the layer form (src/frontend/layers/): shape rules and their errors (JSON path, line:column,
 * expected vs found), parameter names and shapes, the schema generated from the registry, explain's and graph's
 * layers read from the builder's record, and every layer type's gradient against central differences of its own
 * loss, on the kernel-IR interpreter.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpgenError, type ErrorDetail } from "../src/errors.ts";
import { LAYER_KINDS, buildLayerNet } from "../src/frontend/layers/index.ts";
import { BUILTINS } from "../src/frontend/functions.ts";
import { parseSpec } from "../src/spec/load.ts";
import { SCHEMA_URL, netSchemaText } from "../src/spec/net-schema.ts";
import { isLayerSpec, type LayerNetSpec, type LayerSpec } from "../src/spec/types.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { explain } from "../src/explain/explain.ts";
import { viewDag } from "../src/graph/dag.ts";
import { layersToDot } from "../src/graph/dot-layers.ts";
import { compileForInspection } from "../src/graph/compiled.ts";
import { tempDir } from "./helpers/cli.ts";
import { loadModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { makeRng, mismatch, randomArray } from "./helpers/ir-util.ts";

type Net = Omit<LayerNetSpec<LayerSpec>, "name"> & { name?: string };

const text = (net: Net) => JSON.stringify({ name: "t", ...net }, null, 2);
const spec = (net: Net) => {
  const { spec: s } = parseSpec("net.json", text(net));
  if (!isLayerSpec(s)) throw new Error("not a layer net");
  return s as unknown as LayerNetSpec<LayerSpec>;
};
const errorsOf = (net: Net): ErrorDetail[] => {
  try {
    parseSpec("net.json", text(net));
  } catch (e) {
    if (e instanceof BpgenError) return [...e.details];
    throw e;
  }
  throw new Error("expected an error");
};
const shapes = (net: Net) => buildLayerNet(spec(net)).layers?.map((l) => l.output.shape.join("x"));
const paramShapes = (net: Net) => Object.fromEntries(buildLayerNet(spec(net)).params.map((p) => [p.name, p.shape.join("x")]));

describe("shape rules", () => {
  it("follow each layer type, PyTorch's arithmetic and TF.js's \"same\"", () => {
    const net: Net = {
      input: [9, 8, 3],
      layers: [
        { type: "conv2d", filters: 4, kernel: [3, 2], stride: 2, padding: "valid" }, // ⌊(9−3)/2⌋+1 = 4, ⌊(8−2)/2⌋+1 = 4
        { type: "conv2d", filters: 5, kernel: 3, padding: "same", stride: [1, 3] }, // ⌈4/1⌉ = 4, ⌈4/3⌉ = 2
        { type: "conv2d", filters: 2, kernel: 2, dilation: 2, padding: [1, [0, 2]] }, // 4+2−3+1 = 4, 2+2−3+1 = 2
        { type: "max_pool2d", size: 2, padding: 1 }, // ⌊(4+2−2)/2⌋+1 = 3, ⌊(2+2−2)/2⌋+1 = 2
        { type: "avg_pool2d", size: [2, 1], stride: 1 }, // 2, 2
        { type: "layernorm" },
        { type: "residual", layers: [{ type: "conv2d", filters: 2, kernel: 1 }, { type: "activation", activation: "tanh" }] },
        { type: "flatten" },
        { type: "dense", units: 3 },
      ],
      loss: "mse",
    };
    expect(shapes(net)).toEqual(["4x4x4", "4x2x5", "4x2x2", "3x2x2", "2x2x2", "2x2x2", "2x2x2", "8", "3"]);
    const oneD: Net = { input: [10, 2], layers: [{ type: "conv1d", filters: 3, kernel: 3, stride: 2 }, { type: "max_pool1d", size: 2 }, { type: "global_avg_pool" }], loss: "mse" };
    expect(shapes(oneD)).toEqual(["4x3", "2x3", "3"]);
    const threeD: Net = { input: [4, 5, 6, 1], layers: [{ type: "conv3d", filters: 2, kernel: [2, 3, 3] }, { type: "avg_pool3d", size: [3, 3, 2] }], loss: "mse" };
    expect(shapes(threeD)).toEqual(["3x3x4x2", "1x1x2x2"]);
  });

  it("name a layer that does not fit by its JSON path, with what it expected and found, at its line", () => {
    const net: Net = { input: 10, layers: [{ type: "dense", units: 4 }, { type: "conv2d", filters: 2, kernel: 3 }], loss: "mse" };
    const [rank] = errorsOf(net);
    // the layer's object opens on the line before its "type"
    const line = text(net).split("\n").findIndex((l) => l.includes('"conv2d"'));
    expect(rank).toMatchObject({ path: "layers[1]", message: "conv2d needs an input with 2 spatial axes and channels last", expected: "[size, size, channels]", found: "[4]", line });
    const [window] = errorsOf({ input: [4, 4, 1], layers: [{ type: "max_pool2d", size: 5 }], loss: "mse" });
    expect(window).toMatchObject({ path: "layers[0]", expected: "an input of at least 5 cells there, or more padding", found: "[4, 4, 1]" });
    const [pool] = errorsOf({ input: [3], layers: [{ type: "global_avg_pool" }], loss: "mse" });
    expect(pool).toMatchObject({ path: "layers[0]", found: "[3]" });
  });

  it("point inside a residual block, and ask for a projection when only the channels differ", () => {
    const inner = errorsOf({ input: [6, 6, 2], layers: [{ type: "residual", layers: [{ type: "layernorm" }, { type: "conv1d", filters: 2, kernel: 2 }] }], loss: "mse" });
    expect(inner.map((d) => d.path)).toEqual(["layers[0].layers[1]"]);
    const [channels] = errorsOf({ input: [6, 6, 2], layers: [{ type: "residual", layers: [{ type: "conv2d", filters: 3, kernel: 3, padding: "same" }] }], loss: "mse" });
    expect(channels).toMatchObject({ path: "layers[0]", expected: "a block whose output has the input's shape [6, 6, 2]", found: "[6, 6, 3]" });
    expect(channels.message).toContain('"projection": true');
    const [spatial] = errorsOf({ input: [6, 6, 2], layers: [{ type: "residual", projection: true, layers: [{ type: "conv2d", filters: 3, kernel: 3 }] }], loss: "mse" });
    expect(spatial).toMatchObject({ path: "layers[0]", found: "[4, 4, 3]" });
    const fits: Net = { input: [6, 6, 2], layers: [{ type: "residual", projection: true, layers: [{ type: "conv2d", filters: 3, kernel: 3, padding: "same" }] }], loss: "mse" };
    expect(shapes(fits)).toEqual(["6x6x3"]);
  });

  it("a layer whose output is too large to compile is named", () => {
    const [d] = errorsOf({ input: [2000, 2000, 3], layers: [{ type: "conv2d", filters: 64, kernel: 3 }, { type: "global_avg_pool" }], loss: "mse" });
    // 1998 · 1998 positions × 64 filters
    expect(d).toMatchObject({ path: "layers[0]", found: (1998 * 1998 * 64).toLocaleString("en-US") });
  });

  it("softmax_cross_entropy needs a vector output", () => {
    const [d] = errorsOf({ input: [4, 4, 1], layers: [{ type: "conv2d", filters: 2, kernel: 3 }], loss: "softmax_cross_entropy" });
    expect(d).toMatchObject({ path: "loss", found: "[2, 2, 2]" });
    expect(d.expected).toContain("global_avg_pool");
  });

  it("an unknown type suggests the nearest and points to the equation form; fields are checked by the type's record", () => {
    const details = errorsOf({ input: [4, 4, 1], layers: [{ type: "Conv2d", filters: 2, kernel: 3 } as unknown as LayerSpec, { type: "max_pool2d", size: 2, strides: 2 } as unknown as LayerSpec], loss: "mse" });
    expect(details[0]).toMatchObject({ path: "layers[0].type", message: 'unknown layer type "Conv2d"', suggestion: '"conv2d"' });
    expect(details[0].expected).toContain("docs/net-json.md#equation-form");
    expect(details[1]).toMatchObject({ path: "layers[1].strides", message: 'unknown key "strides"', suggestion: '"stride"' });
    const renamed = errorsOf({ input: [4, 4, 1], layers: [{ type: "conv2d", units: 2, kernel_size: 3 } as unknown as LayerSpec, { type: "max_pool2d", kernel: 2 } as unknown as LayerSpec], loss: "mse" });
    expect(renamed.filter((d) => d.suggestion).map((d) => [d.path, d.suggestion])).toEqual([
      ["layers[0].units", '"filters"'],
      ["layers[0].kernel_size", '"kernel"'],
      ["layers[1].kernel", '"size"'],
    ]);
    const [kernel] = errorsOf({ input: [4, 4, 1], layers: [{ type: "conv2d", filters: 2, kernel: [3, 3, 3] }], loss: "mse" });
    expect(kernel).toMatchObject({ path: "layers[0].kernel", message: "kernel size must be a positive integer or a list of 2" });
    const [padding] = errorsOf({ input: [4, 4, 1], layers: [{ type: "conv2d", filters: 2, kernel: 3, padding: "sme" as "same" }], loss: "mse" });
    expect(padding).toMatchObject({ path: "layers[0].padding", suggestion: '"same"' });
    const [nested] = errorsOf({ input: [4], layers: [{ type: "residual", layers: [{ type: "dense", units: 4, activation: "rleu" }] }], loss: "mse" });
    expect(nested).toMatchObject({ path: "layers[0].layers[0].activation", suggestion: '"relu"' });
  });
});

describe("parameters", () => {
  it("are named after each layer's place, nested layers after an underscore, in the documented layouts", () => {
    const net: Net = {
      input: [5, 5, 2],
      layers: [
        { type: "conv2d", filters: 3, kernel: [2, 3], padding: "same", activation: "relu" },
        { type: "max_pool2d", size: 2 },
        { type: "residual", projection: true, layers: [{ type: "conv2d", filters: 4, kernel: 1, bias: false }, { type: "layernorm" }] },
        { type: "flatten" },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
    };
    expect(paramShapes(net)).toEqual({ W1: "2x3x2x3", b1: "3", W3_1: "1x1x3x4", g3_2: "4", b3_2: "4", P3: "4x3", W5: "2x16", b5: "2" });
    const built = buildLayerNet(spec(net));
    const init = Object.fromEntries(built.params.map((p) => [p.name, p.init]));
    expect(init.W1).toEqual({ kind: "he", fanIn: 12 }); // relu-like: He, fan-in 2·3 taps × 2 channels
    expect(init.W3_1).toEqual({ kind: "xavier", fanIn: 3, fanOut: 4 });
    expect(init.g3_2).toEqual({ kind: "constant", value: 1 });
    expect(init.b3_2).toEqual({ kind: "constant", value: 0 });
  });

  it("He initialisation follows the activations' relu-like flag, not a list of names", () => {
    const reluLike = [...BUILTINS].filter(([, b]) => b.reluLike).map(([n]) => n);
    expect(reluLike).toEqual(expect.arrayContaining(["relu", "leaky_relu", "gelu", "silu", "mish"]));
    expect(reluLike).not.toContain("tanh");
    for (const activation of ["relu", "tanh"]) {
      const [W] = buildLayerNet(spec({ input: 3, layers: [{ type: "dense", units: 2, activation }], loss: "mse" })).params;
      expect(W.init.kind).toBe(activation === "relu" ? "he" : "xavier");
    }
  });

  it("L2 reads the weights and projections by their role, never a bias or a gain", () => {
    const net = buildLayerNet(spec({ input: [3, 3, 2], l2: 0.1, layers: [{ type: "layernorm" }, { type: "residual", projection: true, layers: [{ type: "conv2d", filters: 1, kernel: 1 }] }, { type: "flatten" }], loss: "mse" }));
    const R = net.objective.inputs.find((n) => net.graph.hint(n) === "R");
    expect(R).toBeDefined();
    const leaves = new Set<string>();
    const visit = (n: typeof net.objective) => (n.op === "param" ? leaves.add(String(n.attr)) : n.inputs.forEach(visit));
    visit(R as typeof net.objective);
    expect([...leaves].sort()).toEqual(["P2", "W2_1"]);
  });

  it("every type's record maps its parameters to PyTorch's, with a permutation of its axes", () => {
    for (const kind of LAYER_KINDS.values()) {
      for (const p of kind.torch.params) expect(p.permute.length, `${kind.type} ${p.role}`).toBeGreaterThan(0);
    }
    // Conv2d weight [out, in, kh, kw] reads our [kh, kw, in, out]
    expect(LAYER_KINDS.get("conv2d")?.torch.params[0].permute).toEqual([3, 2, 0, 1]);
    expect(LAYER_KINDS.get("dense")?.torch.module).toBe("torch.nn.Linear");
  });
});

describe("the schema and the record of layers", () => {
  it("schema/net.schema.json is the registry's (regenerate with npm run docs)", () => {
    expect(readFileSync(SCHEMA_URL, "utf8")).toBe(netSchemaText());
  });

  it("docs/net-json.md lists every layer type and field, and its example builds the shapes and parameters it states", () => {
    const doc = readFileSync(new URL("../docs/net-json.md", import.meta.url), "utf8");
    const table = doc.slice(doc.indexOf("### Layer types"), doc.indexOf("Notes:"));
    for (const kind of LAYER_KINDS.values()) {
      const row = table.split("\n").find((line) => line.startsWith("| ") && line.split("|")[1].includes(`\`${kind.type}\``));
      expect(row, kind.type).toBeDefined();
      for (const field of Object.keys(kind.fields)) expect(row, `${kind.type}.${field}`).toContain(`\`${field}\``);
    }
    const example = /```json\n(\{ "name": "cnn"[\s\S]*?)```/.exec(doc)?.[1];
    const stated = /its parameters (.*?)\.\n/s.exec(doc)?.[1].replace(/\s+/g, " ");
    expect(example && stated).toBeTruthy();
    const net = buildLayerNet(spec(JSON.parse(example as string) as Net));
    expect(net.params.map((p) => `\`${p.name} [${p.shape.join(", ")}]\``).join(", ")).toBe(stated);
    const shapes = net.layers?.map((l) => `${l.type} \`[${l.output.shape.join(", ")}]\``).join(" → ");
    expect(doc.replace(/\s+/g, " ")).toContain(`\`[28, 28, 1]\` → ${shapes}`);
  });

  it("the builder records each layer with its type, label, values and parameters", () => {
    const net = buildLayerNet(spec({ input: [4, 4, 1], layers: [{ type: "conv2d", filters: 2, kernel: 3, activation: "tanh" }, { type: "residual", layers: [{ type: "activation", activation: "relu" }] }, { type: "global_avg_pool" }], loss: "mse" }));
    const layers = net.layers ?? [];
    expect(layers.map((l) => [l.type, l.label, l.path, l.title])).toEqual([
      ["conv2d", "1", "layers[0]", "conv2d 3×3, 2 filters, tanh"],
      ["residual", "2", "layers[1]", "residual of 1 layer"],
      ["global_avg_pool", "3", "layers[2]", "global_avg_pool"],
    ]);
    expect(layers[1].inner.map((l) => [l.label, l.path])).toEqual([["2_1", "layers[1].layers[0]"]]);
    expect(layers[0].preActivation?.op).toBe("add");
    expect(layers[0].output.op).toBe("tanh");
    expect(layers[1].input).toBe(layers[0].output);
    expect(net.output).toBe(layers[2].output);
  });
});

/** ∂J/∂θ against central differences of J, in f64, for a few parameters of each kind. */
function checkGradient(net: Net, seed: number, batch = 2): void {
  const subject = new InterpretedNet(text(net));
  const m = subject.module<Float64Array>("f64");
  const rng = makeRng(seed);
  const params = randomArray(rng, [m.meta.paramCount], -0.8, 0.8);
  const x = randomArray(rng, [batch * m.meta.inputSize]);
  const y = randomArray(rng, [batch * m.meta.targetSize], 0, 1);
  const grads = new Float64Array(m.meta.paramCount);
  m.gradient(params, x, y, grads, batch);
  const J = (p: Float64Array) => m.loss(p, x, y, batch);
  const picks = subject.params().flatMap((p) => [p.offset, p.offset + p.size - 1, p.offset + Math.floor(rng() * p.size)]);
  const numeric = picks.map((i) => {
    const h = 1e-6 * Math.max(1, Math.abs(params[i]));
    const saved = params[i];
    params[i] = saved + h;
    const up = J(params);
    params[i] = saved - h;
    const down = J(params);
    params[i] = saved;
    return (up - down) / (2 * h);
  });
  const analytic = picks.map((i) => grads[i]);
  expect(mismatch(analytic, numeric, 1e-5), JSON.stringify(net.layers)).toBeUndefined();
}

describe("gradients against central differences", () => {
  const cases: [string, Net][] = [
    ["dense on a shape (read flattened)", { input: [2, 3], layers: [{ type: "dense", units: 3, activation: "tanh" }, { type: "dense", units: 2 }], loss: "softmax_cross_entropy" }],
    ["conv1d, stride and dilation, max_pool1d", { input: [9, 2], layers: [{ type: "conv1d", filters: 3, kernel: 2, dilation: 2, activation: "softplus" }, { type: "max_pool1d", size: 2, stride: 1 }, { type: "flatten" }], loss: "mse" }],
    ["conv2d same, avg_pool2d padded, global_avg_pool", { input: [5, 4, 2], layers: [{ type: "conv2d", filters: 3, kernel: [3, 2], padding: "same", stride: 2, activation: "tanh" }, { type: "avg_pool2d", size: 2, padding: 1 }, { type: "global_avg_pool" }, { type: "dense", units: 2 }], loss: "softmax_cross_entropy" }],
    ["conv3d without bias, max_pool3d", { input: [3, 4, 4, 1], layers: [{ type: "conv3d", filters: 2, kernel: 2, bias: false, activation: "sigmoid" }, { type: "max_pool3d", size: [1, 2, 2] }], loss: "mse" }],
    ["layernorm on a vector and on a tensor", { input: [3, 4], layers: [{ type: "layernorm", eps: 0.01 }, { type: "flatten" }, { type: "dense", units: 5 }, { type: "layernorm" }], loss: "mse" }],
    ["residual with a projection, an activation layer, L2", { input: [4, 4, 2], l2: 0.05, layers: [{ type: "residual", projection: true, layers: [{ type: "conv2d", filters: 3, kernel: 3, padding: "same", activation: "tanh" }, { type: "layernorm" }] }, { type: "activation", activation: "softplus" }, { type: "flatten" }, { type: "residual", layers: [{ type: "dense", units: 48 }] }], loss: "mse" }],
  ];
  cases.forEach(([name, net], i) => it(name, () => checkGradient(net, 40 + i)));
});

const documentedCnn = (): NetSpec => {
  const doc = readFileSync(new URL("../docs/net-json.md", import.meta.url), "utf8");
  return JSON.parse(/```json\n(\{ "name": "cnn"[\s\S]*?)```/.exec(doc)?.[1] ?? "") as NetSpec;
};

describe("end to end", () => {
  it("explain names each layer by its type, and graph --collapse draws one box per layer", async () => {
    const file = join(tempDir(), "cnn.json");
    writeFileSync(file, JSON.stringify(documentedCnn()));
    const compiled = await compileForInspection(file);
    const { markdown } = await explain(compiled);
    expect(markdown).toContain("The layers: layer 1: conv2d 3×3, 8 filters, relu (W1, b1); layer 2: max\\_pool2d 2×2; layer 3: residual of 2 layers;");
    expect(markdown).toContain("layer 3\\_2: layernorm (g3\\_2, b3\\_2), in the block of layer 3");
    expect(markdown).toContain("\\delta^{3,1}");
    const dot = layersToDot(viewDag(compiled), true);
    const forward = [...dot.matchAll(/label="(layer \d+)\\n(?:[^"]*?\\n)?([^"\\]*?(?:conv2d|max_pool2d|residual|global_avg_pool|dense)[^"\\]*)\\n/g)].map((m) => `${m[1]}: ${m[2]}`);
    expect(forward).toEqual(["layer 1: conv2d 3×3, 8 filters, relu", "layer 2: max_pool2d 2×2", "layer 3: residual of 2 layers", "layer 4: global_avg_pool", "layer 5: dense 10"]);
  });

  it("the documented CNN compiles to a module that computes what the interpreter computes on its kernel IR", async () => {
    const example = documentedCnn();
    // the TypeScript kernels, unformatted: the same code, compiled in half the time
    const { source } = await compile(example, { precision: "f64", kernels: "js", format: false });
    const module = loadModule<Float64Array>(source);
    const interpreted = new InterpretedNet(example).module<Float64Array>("f64");
    expect(module.meta.paramCount).toBe(8 * 9 + 8 + 8 * 72 + 8 + 8 + 8 + 80 + 10);
    const batch = 2;
    const rng = makeRng(7);
    const params = module.initParams(3);
    const x = randomArray(rng, [batch * 28 * 28]);
    const y = new Float64Array(batch * 10);
    y[3] = 1;
    y[10 + 7] = 1;
    const grads = new Float64Array(params.length);
    const want = new Float64Array(params.length);
    const J = module.gradient(params, x, y, grads, batch);
    expect(mismatch([J], [interpreted.gradient(params, x, y, want, batch)], 1e-12)).toBeUndefined();
    expect(mismatch(grads, want, 1e-10, 1e-8)).toBeUndefined();
    expect(grads.some((g) => g !== 0)).toBe(true);
  });
});
