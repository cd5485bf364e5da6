/**
 * `bpgen export --to onnx`: each model runs in onnxruntime-web and gives what the generated module's forward
 * gives on the same batch, with the parameters of a parameters file (random, so that every weight's layout is
 * exercised, and batch norm's running statistics are not the identity) or initParams'.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpgenError } from "../../src/errors.ts";
import { floatInput, GraphBuilder } from "../../src/interop/onnx/builder.ts";
import { type DagContext, translate } from "../../src/interop/onnx/dag.ts";
import { exportOnnx, onnxModel } from "../../src/interop/onnx/export.ts";
import { decodeModel, encodeModel, type GraphMessage } from "../../src/interop/onnx/proto.ts";
import type { Node } from "../../src/ir/node.ts";
import { buildNet } from "../../src/pipeline.ts";
import { encodeParams } from "../../src/train/params.ts";
import { compiled, forward, loaded, numbers, runOnnx, type TestModule } from "./fixtures/onnx/run.ts";

const dir = mkdtempSync(join(tmpdir(), "bpgen-onnx-export-"));
const BATCH = 5;

/** Random parameters (and state, the variances positive) saved as a parameters file the exporter reads. */
function savedParams(m: TestModule, name: string): { file: string; params: Float32Array; state?: Float32Array } {
  const params = numbers(m.meta.paramCount, 11, -0.6, 0.6);
  const layout = m.meta.state;
  let state: Float32Array | undefined;
  if (layout && m.meta.stateCount !== undefined) {
    state = Float32Array.from(m.initState?.() ?? new Float32Array(m.meta.stateCount));
    for (const s of layout) {
      if (/^m/.test(s.name)) state.set(numbers(s.size, 3, -0.5, 0.5), s.offset);
      if (/^v/.test(s.name)) state.set(numbers(s.size, 5, 0.5, 2), s.offset);
    }
  }
  const file = join(dir, `${name}.json`);
  writeFileSync(file, encodeParams(file, m.meta, params, state));
  return { file, params, state };
}

/** The model's output and forward's on one batch, with saved parameters (or initParams' when `fresh`). */
async function bothOutputs(spec: { name: string } & object, options: { fresh?: boolean } = {}) {
  const net = loaded(spec, join(dir, `${spec.name}.net.json`));
  const m = await compiled(net);
  const saved = options.fresh ? { file: undefined, params: Float32Array.from(m.initParams()), state: m.initState ? Float32Array.from(m.initState()) : undefined } : savedParams(m, spec.name);
  const [file] = await exportOnnx({ file: net.file, loaded: net, params: saved.file });
  const model = file.data as Uint8Array;
  const graph = decodeModel(model).graph ?? {};
  const inputs = numbers(BATCH * m.meta.inputSize, 17, -2, 2);
  const expected = forward(m, saved.params, saved.state, inputs, BATCH);
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  let at = 0;
  for (const input of graph.input ?? []) {
    const dims = (input.type?.tensorType?.shape?.dim ?? []).slice(1).map((d) => Number(d.dimValue));
    const size = dims.reduce((a, b) => a * b, 1);
    // several inputs are concatenated in each sample's row of the module's inputs
    const data = new Float32Array(BATCH * size);
    for (let s = 0; s < BATCH; s++) data.set(inputs.subarray(s * m.meta.inputSize + at, s * m.meta.inputSize + at + size), s * size);
    feeds[String(input.name)] = { data, dims: [BATCH, ...dims] };
    at += size;
  }
  const result = await runOnnx(model, feeds);
  const actual = result[String(graph.output?.[0]?.name)];
  return { expected: Array.from(expected), actual: Array.from(actual), target: file.target, graph };
}

function expectClose(actual: number[], expected: number[], tolerance = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i]) / (1 + Math.abs(expected[i]))));
  expect(worst).toBeLessThan(tolerance);
}

const ops = (graph: { node?: { opType?: string }[] }) => (graph.node ?? []).map((n) => n.opType);

describe("ONNX export, layer form", () => {
  it("an MLP with dropout and a softmax output: Gemm, the activations, Softmax; dropout left out", async () => {
    const spec = {
      name: "mlp",
      input: 6,
      layers: [{ type: "dense", units: 8, activation: "tanh" }, { type: "dropout", rate: 0.3 }, { type: "dense", units: 7, activation: "relu" }, { type: "dense", units: 3 }],
      loss: "softmax_cross_entropy",
    };
    const { expected, actual, target, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(target).toBe(join(dir, "mlp.onnx"));
    expect(ops(graph)).toEqual(["Gemm", "Tanh", "Gemm", "Relu", "Gemm", "Softmax"]);
    expect(graph.input?.[0].type?.tensorType?.shape?.dim?.[0]).toEqual({ dimParam: "batch" });
  });

  it("the activations that are one ONNX op are written as it, with bpgen's constants", async () => {
    const names = ["softplus", "softsign", "selu", "leaky_relu", "hard_sigmoid", "hard_swish", "elu", "sigmoid"];
    const spec = { name: "acts", input: 6, layers: names.map((activation) => ({ type: "dense", units: 6, activation })), loss: "mse" };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(graph).filter((op) => op !== "Gemm" && op !== "Identity")).toEqual(["Softplus", "Softsign", "Selu", "LeakyRelu", "HardSigmoid", "HardSwish", "Elu", "Sigmoid"]);
  });

  it("the freshly initialised parameters when no file is given", async () => {
    const spec = { name: "fresh", input: 4, layers: [{ type: "dense", units: 3, activation: "sigmoid" }, { type: "dense", units: 2, activation: "sigmoid" }], loss: "binary_cross_entropy" };
    const { expected, actual } = await bothOutputs(spec, { fresh: true });
    expectClose(actual, expected);
  });

  it("a CNN with convolutions (padding, strides, dilation), batch norm in inference form, pooling and dropout", async () => {
    const spec = {
      name: "cnn",
      input: [9, 8, 2],
      layers: [
        { type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "relu" },
        { type: "batchnorm", eps: 0.001 },
        { type: "max_pool2d", size: 2, padding: [[0, 1], 0] },
        { type: "dropout", rate: 0.5 },
        { type: "conv2d", filters: 3, kernel: [2, 3], stride: [1, 2], padding: [[1, 0], 1], dilation: [2, 1], activation: "elu" },
        { type: "avg_pool2d", size: 2, stride: 1, padding: 1 },
        { type: "flatten" },
        { type: "dense", units: 6, activation: "gelu" },
        { type: "layernorm" },
        { type: "dense", units: 3 },
      ],
      loss: "softmax_cross_entropy",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(graph)).toContain("BatchNormalization");
    expect(ops(graph)).toContain("LayerNormalization");
    expect(ops(graph)).not.toContain("Dropout");
  });

  it("residual blocks (with a strided projection), 1-D convolution, global average pooling, an expression activation", async () => {
    const spec = {
      name: "resnet",
      input: [12, 3],
      layers: [
        { type: "conv1d", filters: 4, kernel: 3, padding: 1, activation: "x / (1 + abs(x))" },
        { type: "residual", layers: [{ type: "conv1d", filters: 4, kernel: 3, padding: "same", activation: "swish" }, { type: "batchnorm" }] },
        { type: "residual", projection: true, layers: [{ type: "conv1d", filters: 6, kernel: 3, stride: 2, padding: "same" }, { type: "layernorm" }] },
        { type: "max_pool1d", size: 3, stride: 2 },
        { type: "global_avg_pool" },
        { type: "residual", layers: [{ type: "dense", units: 6, activation: "leaky_relu(x, 0.2)" }] },
        { type: "dense", units: 2, activation: "sigmoid" },
      ],
      loss: "mse",
    };
    const { expected, actual } = await bothOutputs(spec);
    expectClose(actual, expected);
  });

  it("3-D convolution and pooling", async () => {
    const spec = {
      name: "volume",
      input: [4, 5, 4, 2],
      layers: [
        { type: "conv3d", filters: 3, kernel: [2, 3, 2], stride: [1, 2, 1], padding: "same", activation: "tanh" },
        { type: "avg_pool3d", size: 2, padding: 1 },
        { type: "max_pool3d", size: [1, 2, 2], stride: 1 },
        { type: "global_avg_pool" },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
    };
    const { expected, actual } = await bothOutputs(spec);
    expectClose(actual, expected);
  });

  it("recurrent layers as ONNX's LSTM, GRU and RNN (gate blocks reordered, learned initial states), then a dense layer on every step", async () => {
    const spec = {
      name: "recurrent",
      input: [6, 3],
      layers: [
        { type: "lstm", units: 5, return_sequences: true, initial_state: "learned" },
        { type: "gru", units: 4, return_sequences: true },
        { type: "dense", units: 4, activation: "tanh" },
        { type: "gru", units: 3, return_sequences: true, initial_state: "learned" },
        { type: "rnn", units: 3, activation: "relu" },
        { type: "dense", units: 2 },
      ],
      loss: "softmax_cross_entropy",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(graph).filter((op) => ["LSTM", "GRU", "RNN"].includes(String(op)))).toEqual(["LSTM", "GRU", "GRU", "RNN"]);
  });

  it("bidirectional layers, stacked, with learned initial states: one node of both directions each, every step's output joined", async () => {
    const spec = {
      name: "bidirectional",
      input: [6, 3],
      layers: [
        { type: "lstm", units: 4, return_sequences: true, bidirectional: true, initial_state: "learned" },
        { type: "gru", units: 3, return_sequences: true, bidirectional: true },
        { type: "dense", units: 4, activation: "tanh" },
        { type: "rnn", units: 3, return_sequences: true, activation: "relu", bidirectional: true, initial_state: "learned" },
        { type: "gru", units: 3, bidirectional: true, initial_state: "learned" },
        { type: "dense", units: 2 },
      ],
      loss: "softmax_cross_entropy",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    const cells = (graph.node ?? []).filter((n) => ["LSTM", "GRU", "RNN"].includes(String(n.opType)));
    expect(cells.map((n) => n.opType)).toEqual(["LSTM", "GRU", "RNN", "GRU"]);
    for (const n of cells) expect(new TextDecoder().decode(n.attribute?.find((a) => a.name === "direction")?.s)).toBe("bidirectional");
    // W [2, 4·units, features]: the forward direction's gate blocks, then the reverse one's
    const W = (graph.initializer ?? []).find((t) => t.name === cells[0].input?.[1]);
    expect(W?.dims?.map(Number)).toEqual([2, 16, 3]);
  });

  it("a bidirectional layer's last states (forward, then reverse) and every step's, as the model's output, for each cell", async () => {
    const nets = [
      { type: "lstm", units: 4, bidirectional: true, initial_state: "learned" },
      { type: "rnn", units: 3, bidirectional: true },
      { type: "gru", units: 3, bidirectional: true, return_sequences: true, initial_state: "learned" },
      { type: "lstm", units: 2, bidirectional: true, return_sequences: true },
    ];
    for (const [k, layer] of nets.entries()) {
      const spec = { name: `bidirectional_${k}`, input: [5, 2], layers: [layer], loss: "mse" };
      const { expected, actual } = await bothOutputs(spec);
      expectClose(actual, expected);
    }
  });
});

describe("ONNX export, equation form", () => {
  it("products, slices, a convolution, pooling, reductions and a softmax, from the DAG", async () => {
    const spec = {
      name: "eqnet",
      params: { K: { shape: [3, 3, 2, 4] }, c: { shape: [4] }, W: { shape: [5, 16] }, v: { shape: [5] }, s: { shape: [], init: 0.7 } },
      inputs: { img: [6, 6, 2], extra: [5] },
      targets: { t: [5] },
      equations: [
        "h = relu(conv2d(img, K) + c)",
        "p = max_pool2d(h, [2, 2])",
        "f = reshape(p, [16])",
        "z = W * f + v .* extra + s * sum(extra) - mean(f)",
        "q = concat(z[1:3], tanh(z[4:5]) .^ 2)",
        "y = softmax(q)",
      ],
      output: "y",
      loss: "-sum(t .* log(y))",
    };
    const { expected, actual } = await bothOutputs(spec);
    expectClose(actual, expected);
  });

  it("padding, transposes, reductions along an axis, comparisons and a concatenation with a parameter", async () => {
    const spec = {
      name: "eqmore",
      params: { A: { shape: [4, 5] }, e: { shape: [2] } },
      inputs: { x: [4, 3] },
      targets: { t: [8] },
      equations: [
        "p = pad(x, [[1, 0], [0, 2]], -0.5)",
        "m = transpose(p) * A'",
        "r = max(m, 2) + mean(p, 1) .* 0.5 + min(sum(p, 2)) + where(sum(x) > 0, 1, -1)",
        "q = concat(r, e, [sign(x[1, 1]) * abs(x[2, 2])])",
        "y = sigmoid(q)",
      ],
      output: "y",
      loss: "0.5 * sum((y - t).^2)",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(graph)).toContain("ReduceMax");
  });

  it("atan2 in every quadrant and on the axes (atan2(0, 0) = 0), composed from Atan and Where", async () => {
    const spec = {
      name: "angles",
      params: { w: { shape: [6] } },
      inputs: { x: [6] },
      targets: { t: [24] },
      equations: ["a = w .* x", "y = concat(atan2(a, x), atan2(relu(a), x), atan2(a, relu(x)), atan2(relu(-abs(a)), relu(-abs(x))))"],
      output: "y",
      loss: "0.5 * sum((y - t).^2)",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    // the batch has each case: y and x of either sign (the left half-plane beyond ±π/2), y = 0 with x < 0, x = 0, both 0
    const near = (angle: number) => expected.some((v) => Math.abs(v - angle) < 1e-6);
    expect([near(Math.PI), near(Math.PI / 2), near(-Math.PI / 2)]).toEqual([true, true, true]);
    expect([expected.some((v) => v > Math.PI / 2 + 1e-3), expected.some((v) => v < -Math.PI / 2 - 1e-3)]).toEqual([true, true]);
    for (let s = 0; s < BATCH; s++) expect(expected.slice(s * 24 + 18, s * 24 + 24)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ops(graph)).toContain("Atan");
  });

  it("an op with no ONNX form is one error naming the equation (or the recurrence) and the op", async () => {
    const errorOf = async (spec: object) => {
      const net = loaded(spec);
      const error = await exportOnnx({ file: net.file, loaded: net }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BpgenError);
      return (error as BpgenError).message;
    };
    const base = { name: "bad", params: { w: { shape: [2] } }, inputs: { x: [2] }, targets: { t: [2] }, output: "y", loss: "sum((y - t).^2)" };
    const plain = await errorOf({ ...base, equations: ["a = w .* x", "y = a - batch_mean(a)"] });
    expect(plain).toMatch(/equation defining y uses batchMean/);
    expect(plain).toMatch(/equations\[1\]/);
    const carried = await errorOf({ ...base, equations: [{ recurrence: { steps: 2, carry: { h: "batch_mean(x)" }, equations: ["h = tanh(w .* h)"], final: { y: "h" } } }] });
    expect(carried).toMatch(/recurrence handing out y uses batchMean/);
    expect(carried).toMatch(/equations\[0\]\.recurrence/);
  });
});

/** An Elman network over `steps` steps whose last state is read. */
const elman = (steps: number) => ({
  name: "elman",
  params: { Wx: { shape: [4, 3] }, Wh: { shape: [4, 4] }, b: { shape: [4] }, Wy: { shape: [2, 4] } },
  inputs: { x: [steps, 3] },
  targets: { t: [2] },
  equations: [
    { recurrence: { over: { x_t: "x" }, carry: { h: "zeros(4)" }, equations: ["h = tanh(Wx * x_t + Wh * h + b)"], final: { hT: "h" } } },
    "y = Wy * hT",
  ],
  output: "y",
  loss: "0.5 * sum((y - t).^2)",
});

/** The body graph of the graph's one Scan node. */
function scanBody(graph: GraphMessage): GraphMessage {
  const scans = (graph.node ?? []).filter((n) => n.opType === "Scan");
  expect(scans).toHaveLength(1);
  const body = scans[0].attribute?.find((a) => a.name === "body")?.g;
  if (!body) throw new Error("the Scan has no body");
  return body;
}

describe("ONNX export, equation form: recurrences as a Scan", () => {
  it("an Elman network's last state: one Scan, whose body is one step, so the model's size does not grow with T", async () => {
    const { expected, actual, graph } = await bothOutputs(elman(6));
    expectClose(actual, expected);
    const body = scanBody(graph);
    expect(ops(body)).toEqual(expect.arrayContaining(["MatMul", "Tanh"]));
    expect(ops(body)).not.toContain("Scan");
    // the parameters stay initializers of the model, read by the body from there
    expect(body.initializer ?? []).toEqual([]);
    expect((graph.initializer ?? []).map((t) => t.name)).toEqual(expect.arrayContaining(["Wx", "Wh", "b"]));

    const values = (steps: number) => {
      const spec = loaded(elman(steps)).spec;
      const params = new Map(Object.entries(elman(steps).params).map(([name, p]) => [name, new Float64Array(p.shape.reduce((a, c) => a * c, 1)).fill(0.1)]));
      return onnxModel(spec, { params, state: new Map() }, "elman.json").length;
    };
    const [short, long] = [values(8), values(64)];
    // 56 more steps cost not even one float each (only the input's declared length differs)
    expect(Math.abs(long - short)).toBeLessThan(56 * 4);
  });

  it("a peephole LSTM (its gates read the cell state, before and after the step assigns it), a learned initial state", async () => {
    const gate = (g: string) => ({ [`W${g}`]: { shape: [4, 3] }, [`U${g}`]: { shape: [4, 4] }, [`b${g}`]: { shape: [4] } });
    const spec = {
      name: "peephole",
      params: { ...gate("i"), ...gate("f"), ...gate("c"), ...gate("o"), pi: { shape: [4] }, pf: { shape: [4] }, po: { shape: [4] }, h0: { shape: [4] }, Wy: { shape: [3, 4] } },
      inputs: { x: [5, 3] },
      targets: { t: [3] },
      equations: [
        {
          recurrence: {
            over: { x_t: "x" },
            carry: { h: "h0", c: "zeros(4)" },
            equations: [
              "i = sigmoid(Wi * x_t + Ui * h + pi .* c + bi)",
              "f = sigmoid(Wf * x_t + Uf * h + pf .* c + bf)",
              "c = f .* c + i .* tanh(Wc * x_t + Uc * h + bc)",
              "o = sigmoid(Wo * x_t + Uo * h + po .* c + bo)",
              "h = o .* tanh(c)",
            ],
            final: { hT: "h" },
          },
        },
        "y = softmax(Wy * hT)",
      ],
      output: "y",
      loss: "-sum(t .* log(y))",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(scanBody(graph)).filter((op) => op === "Sigmoid")).toHaveLength(3);
  });

  it("every step's value read as a sequence; a step reading per-sample values from before the recurrence; a recurrence without sequences", async () => {
    const spec = {
      name: "sequence",
      params: { Wx: { shape: [4, 3] }, V: { shape: [4, 2] }, Wh: { shape: [4, 4] }, b: { shape: [4] }, G: { shape: [2, 2] } },
      inputs: { x: [6, 3], c: [2] },
      targets: { t: [26] },
      equations: [
        "zx = x * Wx'",
        "u = V * c",
        { recurrence: { over: { zx_t: "zx" }, carry: { h: "tanh(u)" }, equations: ["h = tanh(zx_t + Wh * h + u)"], outputs: { hs: "h .* 2", bs: "b" } } },
        { recurrence: { steps: 3, carry: { g: "c" }, equations: ["g = tanh(G * g + 0.5)"], final: { gT: "g" } } },
        "y = concat(reshape(hs - bs, [24]), gT)",
      ],
      output: "y",
      loss: "0.5 * sum((y - t).^2)",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    expect(ops(graph).filter((op) => op === "Scan")).toHaveLength(2);
    expect(ops(graph)).toContain("Range");
  });
});

describe("ONNX export, equation form: a recurrence that runs backwards", () => {
  it("is a Scan whose directions are 1 (from the last row, its outputs prepended): a bidirectional Elman network in equations", async () => {
    const spec = {
      name: "backwards",
      params: { Wx: { shape: [4, 3] }, Wh: { shape: [4, 4] }, Vx: { shape: [4, 3] }, Vh: { shape: [4, 4] }, Wy: { shape: [2, 8] } },
      inputs: { x: [5, 3] },
      targets: { t: [22] },
      equations: [
        { recurrence: { over: { x_t: "x" }, carry: { h: "zeros(4)" }, equations: ["h = tanh(Wx * x_t + Wh * h)"], final: { hT: "h" } } },
        { recurrence: { over: { x_r: "x" }, reverse: true, carry: { g: "zeros(4)" }, equations: ["g = tanh(Vx * x_r + Vh * g)"], outputs: { gs: "g" }, final: { g1: "g" } } },
        "y = concat(Wy * concat(hT, g1), reshape(gs, [20]))",
      ],
      output: "y",
      loss: "0.5 * sum((y - t).^2)",
    };
    const { expected, actual, graph } = await bothOutputs(spec);
    expectClose(actual, expected);
    const scans = (graph.node ?? []).filter((n) => n.opType === "Scan");
    const directions = scans.map((n) => (n.attribute ?? []).filter((a) => a.name?.startsWith("scan_") && a.name.endsWith("directions")).map((a) => [a.name, [...(a.ints ?? [])].map(Number)]));
    expect(directions).toEqual([[], [["scan_input_directions", [1]], ["scan_output_directions", [1]]]]);
  });
});

describe("ONNX export, the DAG writer: a reversed recurrence", () => {
  it("is a Scan over the steps from the last, its stacks prepended: a bidirectional layer's DAG, written node by node, gives forward's", async () => {
    for (const return_sequences of [false, true]) {
      const spec = loaded({ name: "reversed", input: [5, 3], layers: [{ type: "gru", units: 3, bidirectional: true, return_sequences, initial_state: "learned" }], loss: "mse" });
      const m = await compiled(spec);
      const params = numbers(m.meta.paramCount, 3, -0.6, 0.6);
      const values = new Map(m.meta.params.map((p) => [p.name, Float64Array.from(params.subarray(p.offset, p.offset + p.size))]));
      // the layer form writes the layer as ONNX's GRU; here the whole forward pass goes through dag.ts as an equation net's would
      const net = buildNet(spec.spec);
      const b = new GraphBuilder();
      const x = b.claim("x");
      const leafValue = (leaf: Node) => {
        const v = values.get(String(leaf.attr));
        if (!v) throw new Error(`no value for the parameter ${String(leaf.attr)}`);
        return v;
      };
      const ctx: DagContext = { b, graph: net.graph, bound: new Map([[net.inputs[0].node, x]]), leafValue, written: new Map() };
      const y = b.op("Identity", [translate(ctx, net.output)], {}, "y");
      const graph = b.model("reversed", [floatInput(x, [5, 3])], [floatInput(y, net.output.shape)], "", "test");
      const scans = (graph.graph?.node ?? []).filter((n) => n.opType === "Scan");
      expect(scans.map((n) => n.attribute?.some((a) => a.name === "scan_input_directions"))).toEqual([false, true]);
      const inputs = numbers(BATCH * 15, 9, -2, 2);
      const result = await runOnnx(encodeModel(graph), { x: { data: inputs, dims: [BATCH, 5, 3] } });
      expectClose(Array.from(result.y), Array.from(forward(m, params, undefined, inputs, BATCH)));
    }
  });
});
