/**
 * `bpgen import`: ONNX models built here (with the exporter's protobuf writer, NCHW as PyTorch writes them) import
 * as layer-form networks whose forward, with the weights of the safetensors file, gives what onnxruntime-web gives
 * on the same batch; what bpgen cannot import is one clear error, and the command writes nothing then.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpgenError } from "../../src/errors.ts";
import { floatInput, GraphBuilder } from "../../src/interop/onnx/builder.ts";
import { importOnnx, netJsonText } from "../../src/interop/onnx/import.ts";
import { AttributeType, DataType, encodeModel, type TensorMessage, type ValueInfoMessage } from "../../src/interop/onnx/proto.ts";
import { decodeSafetensors } from "../../src/interop/safetensors.ts";
import { bpgenInProcess } from "../helpers/in-process.ts";
import { channelsLast, importedModule } from "./fixtures/onnx/imported.ts";
import { compiled, forward, loaded, numbers, runOnnx } from "./fixtures/onnx/run.ts";
import { exportOnnx } from "../../src/interop/onnx/export.ts";
import { encodeParams } from "../../src/train/params.ts";

const BATCH = 4;
const dir = mkdtempSync(join(tmpdir(), "bpgen-onnx-import-"));

interface Built {
  readonly bytes: Uint8Array;
  readonly inputDims: number[];
}

function model(name: string, inputDims: number[], outputDims: number[], build: (b: GraphBuilder, x: string) => string): Built {
  const b = new GraphBuilder();
  const x = b.claim("x");
  const y = build(b, x);
  return { bytes: encodeModel(b.model(name, [floatInput(x, inputDims, "N")], [floatInput(y, outputDims, "N")], "", "test")), inputDims };
}

let seed = 100;
const weights = (b: GraphBuilder, name: string, dims: number[], lo = -0.5, hi = 0.5) => b.floats(name, dims, numbers(dims.reduce((p, d) => p * d, 1), seed++, lo, hi));

/** The imported network's forward against onnxruntime-web's run of the model, on one batch. */
async function compare(built: Built, name: string) {
  const result = importOnnx(built.bytes, `${name}.onnx`);
  const { m, params, state } = await importedModule(result);
  const size = built.inputDims.reduce((a, b) => a * b, 1);
  const x = numbers(BATCH * size, 7, -2, 2);
  const onnx = await runOnnx(built.bytes, { x: { data: x, dims: [BATCH, ...built.inputDims] } });
  const expected = Array.from(Object.values(onnx)[0]);
  // an image's channels move last; a sequence [steps, features] stays as it is
  const image = JSON.stringify(result.spec.input) !== JSON.stringify(built.inputDims.length === 1 ? built.inputDims[0] : built.inputDims);
  const rows = image ? channelsLast(x, BATCH, built.inputDims) : x;
  const actual = Array.from(forward(m, params, state, rows, BATCH));
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...actual.map((a, i) => Math.abs(a - expected[i]) / (1 + Math.abs(expected[i]))));
  expect(worst).toBeLessThan(2e-5);
  return result;
}

const cnn = () =>
  model("cnn", [2, 9, 8], [3], (b, x) => {
    let h = b.op("Conv", [x, weights(b, "conv.weight", [4, 2, 3, 3]), weights(b, "conv.bias", [4])], { kernel_shape: [3, 3], pads: [1, 0, 1, 2], strides: [2, 1], dilations: [1, 2] });
    h = b.op("Relu", [h]);
    h = b.op("BatchNormalization", [h, weights(b, "bn.weight", [4], 0.5, 1.5), weights(b, "bn.bias", [4]), weights(b, "bn.mean", [4]), weights(b, "bn.var", [4], 0.5, 2)], { epsilon: { float: 1e-3 }, momentum: { float: 0.8 } });
    h = b.op("MaxPool", [h], { kernel_shape: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1] });
    h = b.op("AveragePool", [h], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 });
    h = b.op("Flatten", [h], { axis: 1 });
    h = b.op("LeakyRelu", [b.op("Gemm", [h, weights(b, "fc1.weight", [6, 48]), weights(b, "fc1.bias", [6])], { transB: 1 })], { alpha: { float: 0.2 } });
    h = b.op("Dropout", [h, b.floats("ratio", [], [0.25])]);
    h = b.op("Gemm", [h, weights(b, "fc2.weight", [6, 3]), weights(b, "fc2.bias", [3])]);
    return b.op("Softmax", [h], { axis: -1 });
  });

/**
 * An ONNX recurrent op of `direction` over x [batch, steps, features] moved steps first, random weights, and its
 * initial states when given (initial_h, and initial_c of an LSTM): its outputs Y, Y_h (and Y_c).
 */
function recurrentOp(b: GraphBuilder, x: string, op: "LSTM" | "GRU" | "RNN", features: number, units: number, direction: string, activations?: string[], initial: string[] = []): string[] {
  const rows = { LSTM: 4, GRU: 3, RNN: 1 }[op] * units;
  const d = direction === "bidirectional" ? 2 : 1;
  const steps = b.op("Transpose", [x], { perm: [1, 0, 2] });
  const W = [weights(b, `${op}.W`, [d, rows, features]), weights(b, `${op}.R`, [d, rows, units]), weights(b, `${op}.B`, [d, 2 * rows])];
  const attributes = { hidden_size: units, direction, ...(op === "GRU" ? { linear_before_reset: 1 } : {}), ...(activations ? { activations: { strings: activations } } : {}) };
  return b.opMany(op, [steps, ...W, ...(initial.length > 0 ? ["", ...initial] : [])], op === "LSTM" ? 3 : 2, attributes);
}

/** A ConstantOfShape of `shape` filled with `value` (the builder writes no tensor attributes). */
function constantOfShape(b: GraphBuilder, shape: string, value: TensorMessage): string {
  const out = b.op("ConstantOfShape", [shape]);
  b.nodes[b.nodes.length - 1].attribute = [{ name: "value", type: AttributeType.TENSOR, t: value }];
  return out;
}

/**
 * The shape of h0.expand(directions, x.shape[0], -1) as torch.onnx (1.13) writes it: [directions, batch, -1] with
 * the -1 made 1 (ONNX's Expand has no -1) by Reshape, ConstantOfShape, Mul, Equal and Where; `times` multiplies the
 * batch (2: a shape bpgen does not follow).
 */
function torchExpandShape(b: GraphBuilder, x: string, directions: number, times = 1): string {
  let batch = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", [x]), b.int64s([], [0])]), b.int64s([1], [0])]);
  if (times !== 1) batch = b.op("Mul", [batch, b.int64s([], [times])]);
  const shape = b.op("Reshape", [b.op("Concat", [b.int64s([1], [directions]), batch, b.int64s([1], [-1])], { axis: 0 }), b.int64s([1], [-1])]);
  const ones = constantOfShape(b, b.op("Shape", [shape]), { dims: [1], dataType: DataType.INT64, int64Data: [1] });
  return b.op("Where", [b.op("Equal", [shape, b.op("Mul", [ones, b.int64s([], [-1])])]), ones, shape]);
}

describe("ONNX import", () => {
  it("a CNN (convolution with asymmetric padding, strides and dilation, batch norm, pooling, flatten, dense, softmax) computes what onnxruntime computes", async () => {
    const result = await compare(cnn(), "cnn");
    expect(result.spec.input).toEqual([9, 8, 2]);
    expect(result.spec.loss).toBe("softmax_cross_entropy");
    expect((result.spec.layers as { type: string }[]).map((l) => l.type)).toEqual(["conv2d", "batchnorm", "max_pool2d", "avg_pool2d", "flatten", "dense", "dropout", "dense"]);
    expect(result.spec.layers).toContainEqual({ type: "batchnorm", momentum: 0.2, eps: 0.001 });
    expect(result.tensors.map((t) => t.name)).toEqual(["W1", "b1", "g2", "b2", "W6", "b6", "W8", "b8", "m2", "v2"]);
    expect(result.tensors[0].shape).toEqual([3, 3, 2, 4]);
  });

  it("an MLP with MatMul + Add, SiLU as x · sigmoid(x), a residual block and layer norm", async () => {
    const built = model("mlp", [5], [2], (b, x) => {
      const h = b.op("Add", [b.op("MatMul", [x, weights(b, "W0", [5, 8])]), weights(b, "b0", [8])]);
      const silu = b.op("Mul", [h, b.op("Sigmoid", [h])]);
      const inner = b.op("Tanh", [b.op("Gemm", [silu, weights(b, "W1", [8, 8]), weights(b, "b1", [8])], { transB: 1 })]);
      const sum = b.op("Add", [inner, silu]);
      const norm = b.op("LayerNormalization", [sum, weights(b, "ln.g", [8], 0.5, 1.5), weights(b, "ln.b", [8])], { axis: -1, epsilon: { float: 1e-5 } });
      return b.op("Sigmoid", [b.op("Gemm", [norm, weights(b, "W2", [8, 2])])]);
    });
    const result = await compare(built, "mlp");
    expect(result.spec.layers).toEqual([
      { type: "dense", units: 8, activation: "silu" },
      { type: "residual", layers: [{ type: "dense", units: 8, activation: "tanh" }] },
      { type: "layernorm" },
      { type: "dense", units: 2, activation: "sigmoid", bias: false },
    ]);
    expect(result.spec.loss).toBe("binary_cross_entropy");
  });

  it("a 1-D convolution with SAME_UPPER padding, global average pooling and a reshape", async () => {
    const built = model("seq", [3, 10], [2], (b, x) => {
      const h = b.op("Elu", [b.op("Conv", [x, weights(b, "c.w", [4, 3, 3]), weights(b, "c.b", [4])], { auto_pad: "SAME_UPPER", strides: [2] })]);
      const pooled = b.op("Reshape", [b.op("GlobalAveragePool", [h]), b.int64s([2], [-1, 4])]);
      return b.op("Gemm", [pooled, weights(b, "fc.w", [2, 4]), weights(b, "fc.b", [2])], { transB: 1 });
    });
    const result = await compare(built, "seq");
    expect(result.spec.input).toEqual([10, 3]);
    expect(result.spec.loss).toBe("mse");
  });
});

describe("ONNX import of bidirectional recurrent ops", () => {
  it("written as PyTorch's export writes them (every step's output moved and reshaped, torch.cat((h_n[0], h_n[1]), 1)), they compute what onnxruntime computes", async () => {
    const built = model("bidirectional", [5, 3], [2], (b, x) => {
      const [Y] = recurrentOp(b, x, "LSTM", 3, 4, "bidirectional");
      // output: [T, 2, batch, H] → [T, batch, 2, H] → [T, batch, 2H] → batch first
      const sequence = b.op("Transpose", [b.op("Reshape", [b.op("Transpose", [Y], { perm: [0, 2, 1, 3] }), b.int64s([3], [0, 0, -1])])], { perm: [1, 0, 2] });
      const [, last] = recurrentOp(b, sequence, "GRU", 8, 3, "bidirectional");
      const joined = b.op("Concat", [b.op("Gather", [last, b.int64s([], [0])]), b.op("Gather", [last, b.int64s([], [1])])], { axis: 1 });
      return b.op("Gemm", [joined, weights(b, "fc.w", [2, 6]), weights(b, "fc.b", [2])], { transB: 1 });
    });
    const result = await compare(built, "bidirectional");
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 4, return_sequences: true, bidirectional: true },
      { type: "gru", units: 3, bidirectional: true },
      { type: "dense", units: 2 },
    ]);
    expect(result.tensors.map((t) => t.name).slice(0, 8)).toEqual(["W_ih1", "W_hh1", "b_ih1", "b_hh1", "W_ih1_reverse", "W_hh1_reverse", "b_ih1_reverse", "b_hh1_reverse"]);
  });

  it("and the last states as h_n.permute(1, 0, 2).flatten(1), of an RNN whose activations are listed once per direction", async () => {
    const built = model("flattened", [5, 3], [8], (b, x) => {
      const [, last] = recurrentOp(b, x, "RNN", 3, 4, "bidirectional", ["Relu", "Relu"]);
      return b.op("Flatten", [b.op("Transpose", [last], { perm: [1, 0, 2] })], { axis: 1 });
    });
    const result = await compare(built, "flattened");
    expect(result.spec.layers).toEqual([{ type: "rnn", units: 4, activation: "relu", bidirectional: true }]);
  });
});

describe("ONNX import of learned initial states as PyTorch's export writes them", () => {
  it("a one-way LSTM's ([hidden] and [1, 1, hidden] constants) and a bidirectional GRU's, expanded to a shape computed from the batch size, compute what onnxruntime computes", async () => {
    const built = model("learned_states", [5, 3], [6], (b, input) => {
      // x.reshape(x.shape[0], 5, 3), as bpgen's PyTorch export begins: a reshape to the input's own shape
      const x = b.op("Reshape", [input, b.op("Concat", [b.batchSize(input), b.int64s([2], [5, 3])], { axis: 0 })]);
      const h0 = b.op("Expand", [weights(b, "h0", [4]), torchExpandShape(b, x, 1)]);
      const c0 = b.op("Expand", [weights(b, "c0", [1, 1, 4]), torchExpandShape(b, x, 1)]);
      const [Y] = recurrentOp(b, x, "LSTM", 3, 4, "forward", undefined, [h0, c0]);
      const sequence = b.op("Transpose", [b.op("Squeeze", [Y, b.int64s([1], [1])])], { perm: [1, 0, 2] });
      const gruH0 = b.op("Expand", [weights(b, "gru.h0", [2, 1, 3]), torchExpandShape(b, x, 2)]);
      const [, last] = recurrentOp(b, sequence, "GRU", 4, 3, "bidirectional", undefined, [gruH0]);
      return b.op("Concat", [b.op("Gather", [last, b.int64s([], [0])]), b.op("Gather", [last, b.int64s([], [1])])], { axis: 1 });
    });
    const result = await compare(built, "learned_states");
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 4, return_sequences: true, initial_state: "learned" },
      { type: "gru", units: 3, initial_state: "learned", bidirectional: true },
    ]);
    expect(result.tensors.map((t) => `${t.name} [${t.shape.join(", ")}]`)).toEqual(expect.arrayContaining(["h0_1 [4]", "c0_1 [4]", "h0_2 [3]", "h0_2_reverse [3]"]));
  });
});

describe("ONNX import of a graph with branches: the equation form", () => {
  it("two branches joined by Mul and Concat, then a softmax", async () => {
    const built = model("branches", [5], [3], (b, x) => {
      const left = b.op("Relu", [b.op("Gemm", [x, weights(b, "left.weight", [4, 5]), weights(b, "left.bias", [4])], { transB: 1 })], {}, "left/out");
      const right = b.op("Tanh", [b.op("MatMul", [x, weights(b, "right", [5, 4])])], {}, "right/out");
      const both = b.op("Concat", [b.op("Mul", [left, right]), b.op("Sub", [right, b.scalar(0.5)]), x], { axis: 1 });
      const normal = b.op("LayerNormalization", [both, weights(b, "ln.g", [13], 0.5, 1.5), weights(b, "ln.b", [13])], { axis: -1, epsilon: { float: 1e-3 } });
      return b.op("Softmax", [b.op("Gemm", [normal, weights(b, "head.weight", [13, 3]), weights(b, "head.bias", [1, 3])])], { axis: 1 });
    });
    const result = await compare(built, "branches");
    expect(result.spec.equations).toEqual([
      "v_gemm = w_left_weight * x_x + w_left_bias",
      expect.stringMatching(/^v_left_out = relu\(/),
      expect.stringMatching(/^v_\w+ = w_right \* x_x$/),
      expect.stringMatching(/^v_right_out = tanh\(/),
      expect.stringMatching(/^v_\w+ = v_left_out \.\* v_right_out$/),
      expect.stringMatching(/^v_\w+ = v_right_out - 0\.5$/),
      expect.stringMatching(/^v_\w+ = concat\(v_\w+, v_\w+, x_x\)$/),
      expect.stringMatching(/^v_\w+ = \(v_\w+ - mean\(v_\w+\)\) \.\/ sqrt\(/),
      expect.stringMatching(/^v_\w+ = w_head_weight \* v_\w+ \+ w_head_bias$/),
      expect.stringMatching(/^v_\w+ = softmax\(v_\w+\)$/),
      expect.stringMatching(/^y = v_\w+$/),
    ]);
    expect(result.spec.loss).toBe("-sum(t .* log(y))");
    expect(JSON.parse(netJsonText(result.spec))).toEqual(result.spec);
  });
});

describe("ONNX import of a graph with branches over images: the equation form, channels last", () => {
  it("convolutions, pooling, batch norm, channels joined, gated and added, x.view(x.size(0), -1) and a Gemm compute what onnxruntime computes", async () => {
    const built = model("inception", [2, 6, 5], [3], (b, x) => {
      const conv = b.op("Relu", [b.op("Conv", [x, weights(b, "c.w", [3, 2, 3, 3]), weights(b, "c.b", [3])], { pads: [1, 0, 1, 2] })]);
      const pooled = b.op("MaxPool", [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] });
      const both = b.op("Concat", [conv, pooled], { axis: 1 });
      const normal = b.op("BatchNormalization", [both, weights(b, "bn.g", [5], 0.5, 1.5), weights(b, "bn.b", [5]), weights(b, "bn.m", [5]), weights(b, "bn.v", [5], 0.5, 2)], { epsilon: { float: 1e-3 } });
      const main = b.op("Conv", [normal, weights(b, "d.w", [4, 5, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1] });
      const shortcut = b.op("Conv", [x, weights(b, "s.w", [4, 2, 1, 1])], { strides: [2, 2] });
      const sum = b.op("Add", [main, shortcut]);
      // a squeeze-and-excitation gate: each channel scaled by a function of its mean
      const gated = b.op("Mul", [sum, b.op("Sigmoid", [b.op("GlobalAveragePool", [sum])])]);
      const shifted = b.op("Mul", [b.op("Add", [gated, weights(b, "shift", [4, 1, 1])]), b.scalar(0.5)]);
      const averaged = b.op("AveragePool", [b.op("Tanh", [shifted])], { kernel_shape: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], count_include_pad: 1 });
      // PyTorch's x.view(x.size(0), -1): the target shape computed from the batch size
      const batch = b.op("Unsqueeze", [b.op("Gather", [b.op("Shape", [averaged]), b.int64s([], [0])], { axis: 0 }), b.int64s([1], [0])]);
      const flat = b.op("Reshape", [averaged, b.op("Concat", [batch, b.int64s([1], [-1])], { axis: 0 })]);
      return b.op("Gemm", [flat, weights(b, "fc.w", [3, 36]), weights(b, "fc.b", [3])], { transB: 1 });
    });
    const result = await compare(built, "inception");
    expect(result.spec.inputs).toEqual({ x_x: [6, 5, 2] });
    const equations = (result.spec.equations as string[]).join("\n");
    expect(equations).toMatch(/= conv2d\(x_x, w_c_w, 1, \[1, \[0, 2\]\]\) \+ w_c_b$/m);
    expect(equations).toMatch(/= max_pool2d\(x_x, 3, 1, 1\)$/m);
    expect(equations).toMatch(/= concat\(v_\w+, v_\w+\)$/m);
    expect(equations).toMatch(/= reshape\(v_\w+, \[36\]\)$/m);
    expect(result.notes.join("\n")).toMatch(/batch norm is written in its inference form/);
    expect(result.tensors.find((t) => t.name === "w_shift")?.shape).toEqual([4]);
  });

  it("an op that reads an image along ONNX's channel axis is refused, naming the node", () => {
    const built = model("segment", [2, 4, 4], [2, 4, 4], (b, x) => {
      const conv = b.op("Conv", [x, weights(b, "w", [2, 2, 1, 1])]);
      return b.op("Softmax", [b.op("Add", [conv, b.op("Relu", [x])])], { axis: 1 });
    });
    expect(() => importOnnx(built.bytes, "segment.onnx")).toThrow(/node "Softmax_\d+" \(Softmax\): it reads an image, whose values bpgen holds channels last/);
  });
});

/** A network exported by bpgen with random parameters, imported back: the same layers, parameters and forward. */
async function roundTrip(spec: { name: string; input: number[]; layers: object[]; loss: string }): Promise<void> {
  const net = loaded(spec, join(dir, `${spec.name}.json`));
  const original = await compiled(net);
  const params = numbers(original.meta.paramCount, 5, -0.5, 0.5);
  const state = original.initState ? Float32Array.from(original.initState()) : undefined;
  for (const s of original.meta.state ?? []) if (state && /^[mv]/.test(s.name)) state.set(numbers(s.size, 9, 0.2, 1.5), s.offset);
  const paramsFile = join(dir, `${spec.name}.params.json`);
  writeFileSync(paramsFile, encodeParams(paramsFile, original.meta, params, state));
  const [file] = await exportOnnx({ file: net.file, loaded: net, params: paramsFile });
  const result = importOnnx(file.data as Uint8Array, `${spec.name}.onnx`);
  expect(result.spec.input).toEqual(spec.input);
  expect(result.spec.layers).toEqual(spec.layers);
  expect(JSON.parse(netJsonText(result.spec))).toEqual(result.spec);
  const back = await importedModule(result);
  expect(Array.from(back.params)).toEqual(Array.from(params));
  const x = numbers(BATCH * original.meta.inputSize, 3, -2, 2);
  expect(Array.from(forward(back.m, back.params, back.state, x, BATCH))).toEqual(Array.from(forward(original, params, state, x, BATCH)));
}

describe("ONNX round trip", () => {
  it("bpgen's own export of a CNN imports back as the same layers and parameters", async () => {
    await roundTrip({
      name: "roundtrip",
      input: [7, 6, 2],
      layers: [
        { type: "conv2d", filters: 3, kernel: 3, padding: 1, activation: "relu" },
        { type: "batchnorm" },
        { type: "max_pool2d", size: 2, padding: [[0, 1], 0] },
        { type: "residual", layers: [{ type: "conv2d", filters: 3, kernel: 1, activation: "tanh" }] },
        { type: "flatten" },
        { type: "dense", units: 5, activation: "elu" },
        { type: "layernorm" },
        { type: "dense", units: 3 },
      ],
      loss: "softmax_cross_entropy",
    });
  });

  it("and of recurrent layers with a learned initial state", async () => {
    await roundTrip({
      name: "recurrent_roundtrip",
      input: [6, 3],
      layers: [
        { type: "lstm", units: 5, return_sequences: true, initial_state: "learned" },
        { type: "rnn", units: 3, return_sequences: true, activation: "relu" },
        { type: "gru", units: 4, initial_state: "learned" },
        { type: "dense", units: 2, activation: "sigmoid" },
      ],
      loss: "binary_cross_entropy",
    });
  });

  it("and of bidirectional layers: every step's output, the last states, learned initial states", async () => {
    await roundTrip({
      name: "bidirectional_roundtrip",
      input: [6, 3],
      layers: [
        { type: "lstm", units: 4, return_sequences: true, bidirectional: true, initial_state: "learned" },
        { type: "rnn", units: 3, return_sequences: true, activation: "relu", bidirectional: true },
        { type: "dense", units: 4, activation: "tanh" },
        { type: "gru", units: 3, bidirectional: true, initial_state: "learned" },
        { type: "dense", units: 2, activation: "sigmoid" },
      ],
      loss: "binary_cross_entropy",
    });
  });

  it("and of residual blocks with projections (a strided 1×1 convolution, a matrix)", async () => {
    await roundTrip({
      name: "projections",
      input: [8, 7, 2],
      layers: [
        { type: "conv2d", filters: 3, kernel: 3, padding: 1, activation: "relu" },
        { type: "residual", layers: [{ type: "conv2d", filters: 4, kernel: 3, stride: 2, padding: 1 }, { type: "batchnorm" }], projection: true },
        { type: "global_avg_pool" },
        { type: "residual", layers: [{ type: "dense", units: 5, activation: "tanh" }], projection: true },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
    });
  });

  it("and of a dense layer on every step of a sequence, with a softmax per step", async () => {
    await roundTrip({
      name: "tagger",
      input: [5, 3],
      layers: [
        { type: "gru", units: 4, return_sequences: true },
        { type: "dense", units: 6, activation: "tanh" },
        { type: "layernorm" },
        { type: "dense", units: 3 },
      ],
      loss: "softmax_cross_entropy",
    });
  });
});

describe("ONNX import of a model with two inputs: the equation form", () => {
  it("each input is one of net.json's inputs, in the model's order", async () => {
    const b = new GraphBuilder();
    const [x, u] = [b.claim("x"), b.claim("u")];
    const h = b.op("Relu", [b.op("Gemm", [x, weights(b, "w1", [4, 5]), weights(b, "b1", [4])], { transB: 1 })]);
    const y = b.op("Sigmoid", [b.op("Gemm", [b.op("Concat", [h, u], { axis: 1 }), weights(b, "w2", [7, 2])])]);
    const bytes = encodeModel(b.model("two", [floatInput(x, [5], "N"), floatInput(u, [3], "N")], [floatInput(y, [2], "N")], "", "test"));
    const result = importOnnx(bytes, "two.onnx");
    expect(result.spec.inputs).toEqual({ x_x: [5], x_u: [3] });
    const { m, params } = await importedModule(result);
    const [xs, us] = [numbers(BATCH * 5, 21, -2, 2), numbers(BATCH * 3, 22, -2, 2)];
    const onnx = await runOnnx(bytes, { x: { data: xs, dims: [BATCH, 5] }, u: { data: us, dims: [BATCH, 3] } });
    const rows = new Float32Array(BATCH * 8);
    for (let s = 0; s < BATCH; s++) {
      rows.set(xs.subarray(5 * s, 5 * s + 5), 8 * s);
      rows.set(us.subarray(3 * s, 3 * s + 3), 8 * s + 5);
    }
    const actual = Array.from(forward(m, params, undefined, rows, BATCH));
    const expected = Array.from(Object.values(onnx)[0]);
    expect(Math.max(...actual.map((a, i) => Math.abs(a - expected[i])))).toBeLessThan(2e-6);
  });
});

describe("ONNX import errors", () => {
  const problem = (bytes: Uint8Array): string => {
    try {
      importOnnx(bytes, "m.onnx");
    } catch (e) {
      expect(e).toBeInstanceOf(BpgenError);
      expect((e as BpgenError).kind).toBe("input");
      return (e as BpgenError).message;
    }
    throw new Error("expected the model to be refused");
  };

  it("an op bpgen lacks names the node, its op type and what bpgen offers", () => {
    const built = model("odd", [4], [4], (b, x) => b.op("Cos", [x], {}, "cosine"));
    const message = problem(built.bytes);
    expect(message).toMatch(/^m\.onnx: error: node "Cos_0" \(Cos\): bpgen has no layer for the ONNX op Cos/);
    expect(message).toMatch(/expected: one of the ops bpgen imports: Gemm, MatMul/);
  });

  it("an unsupported attribute names the node, the attribute and its value", () => {
    const grouped = model("grouped", [2, 6, 6], [2, 4, 4], (b, x) => b.op("Conv", [x, weights(b, "w", [2, 1, 3, 3])], { group: 2 }));
    expect(problem(grouped.bytes)).toMatch(/node "Conv_0" \(Conv\): the attribute group = 2 is not supported/);
    const ceil = model("ceil", [1, 5, 5], [1, 3, 3], (b, x) => b.op("MaxPool", [x], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }));
    expect(problem(ceil.bytes)).toMatch(/the attribute ceil_mode = 1 is not supported/);
    const unknown = model("unknown", [3], [3], (b, x) => b.op("Relu", [x], { bogus: 1 }));
    expect(problem(unknown.bytes)).toMatch(/the attribute bogus = 1 is not supported/);
  });

  it("names from the file become identifiers; a --name that is not one is refused", () => {
    const b = new GraphBuilder();
    const y = b.op("Relu", [b.claim("x")]);
    const odd = encodeModel(b.model("main", [floatInput("x", [3])], [floatInput(y, [3])], "", "test"));
    expect(importOnnx(odd, "m.onnx", { name: "digits_2" }).name).toBe("digits_2");
    const hostile = encodeModel(b.model("9 lives; \u001b[31m", [floatInput("x", [3])], [floatInput(y, [3])], "", "test"));
    expect(importOnnx(hostile, "m.onnx").name).toBe("net_9_lives____31m");
    expect(() => importOnnx(odd, "m.onnx", { name: "a-b" })).toThrow(/--name "a-b" cannot name a network/);
  });

  it("a damaged file: not protobuf, truncated, a weight of the wrong size", () => {
    expect(problem(new TextEncoder().encode("this is not a model at all"))).toMatch(/not an ONNX model/);
    const { bytes } = cnn();
    expect(problem(bytes.subarray(0, bytes.length - 40))).toMatch(/not an ONNX model/);
    const b = new GraphBuilder();
    const y = b.op("Gemm", [b.claim("x"), weights(b, "w", [3, 2])]);
    const graph = b.model("bad", [floatInput("x", [3])], [floatInput(y, [2])], "", "test");
    const w = graph.graph?.initializer?.[0];
    if (w) w.rawData = w.rawData?.subarray(0, 20);
    expect(problem(encodeModel(graph))).toMatch(/initializer "w": its raw data does not have the size its dims say/);
  });

  it("weights in an external file, a second output, an input of unknown size", () => {
    const gemm = (outputs: (y: string) => ValueInfoMessage[], input: ValueInfoMessage = floatInput("x", [3])) => {
      const b = new GraphBuilder();
      const y = b.op("Gemm", [b.claim("x"), weights(b, "w", [3, 2])]);
      return b.model("m", [input], outputs(y), "", "test");
    };
    const external = gemm((y) => [floatInput(y, [2])]);
    const w = external.graph?.initializer?.[0];
    if (w) Object.assign(w, { rawData: undefined, dataLocation: 1, externalData: [{ key: "location", value: "weights.bin" }] });
    expect(problem(encodeModel(external))).toMatch(/initializer "w": its data is in an external file/);
    expect(problem(encodeModel(gemm((y) => [floatInput(y, [2]), floatInput("x", [3])])))).toMatch(/the model has 2 outputs; bpgen imports a network of one output/);
    const unknown = { name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimParam: "features" }] } } } };
    expect(problem(encodeModel(gemm((y) => [floatInput(y, [2])], unknown)))).toMatch(/the input "x" needs a batch axis and then fixed sizes/);
  });

  it("a recurrent op that runs only in reverse, or whose two directions are not joined as bpgen's layer joins them, names the node", () => {
    const reverse = model("reverse", [5, 3], [4], (b, x) => b.op("Squeeze", [recurrentOp(b, x, "GRU", 3, 4, "reverse")[1], b.int64s([1], [0])]));
    expect(problem(reverse.bytes)).toMatch(/node "GRU_1" \(GRU\): the attribute direction = reverse is not supported\n\s+expected: forward or bidirectional/);
    // output[:, -1]: the reverse direction's half there has read only the last step
    const lastStep = model("last_step", [5, 3], [8], (b, x) => {
      const [Y] = recurrentOp(b, x, "LSTM", 3, 4, "bidirectional");
      const sequence = b.op("Transpose", [b.op("Reshape", [b.op("Transpose", [Y], { perm: [0, 2, 1, 3] }), b.int64s([3], [0, 0, -1])])], { perm: [1, 0, 2] });
      return b.op("Gather", [sequence, b.int64s([], [-1])], { axis: 1 });
    });
    expect(problem(lastStep.bytes)).toMatch(/node "Gather_5" \(Gather\): it reads the last step of a bidirectional layer's output/);
    // h_n[-1] alone, the reverse direction's last state
    const oneDirection = model("one_direction", [5, 3], [4], (b, x) => b.op("Gather", [recurrentOp(b, x, "RNN", 3, 4, "bidirectional")[1], b.int64s([], [-1])]));
    expect(problem(oneDirection.bytes)).toMatch(/node "Gather_2" \(Gather\): it reads a bidirectional recurrent op's last states otherwise than as both directions' concatenated/);
    // the reverse direction first
    const swapped = model("swapped", [5, 3], [8], (b, x) => {
      const [, last] = recurrentOp(b, x, "RNN", 3, 4, "bidirectional");
      return b.op("Concat", [b.op("Gather", [last, b.int64s([], [1])]), b.op("Gather", [last, b.int64s([], [0])])], { axis: 1 });
    });
    expect(problem(swapped.bytes)).toMatch(/both directions' concatenated; bpgen's bidirectional layer outputs .* forward first/);
    // Y [T, 2, batch, H] squeezed as if it had one direction
    const squeezed = model("squeezed", [5, 3], [5, 4], (b, x) => b.op("Transpose", [b.op("Squeeze", [recurrentOp(b, x, "GRU", 3, 4, "bidirectional")[0], b.int64s([1], [1])])], { perm: [1, 0, 2] }));
    expect(problem(squeezed.bytes)).toMatch(/node "Squeeze_2" \(Squeeze\): it squeezes the direction axis of a bidirectional recurrent op's output/);
  });

  it("an initial state computed from the batch size otherwise than bpgen follows names the node", () => {
    const lstm = (build: (b: GraphBuilder, x: string) => string[]) =>
      model("state", [5, 3], [4], (b, x) => b.op("Squeeze", [recurrentOp(b, x, "LSTM", 3, 4, "forward", undefined, build(b, x))[1], b.int64s([1], [0])])).bytes;
    const expanded = (b: GraphBuilder, x: string, dims: number[], times = 1) => b.op("Expand", [weights(b, "s", dims), torchExpandShape(b, x, dims[0], times)]);
    // an expand over twice the batch
    const twice = problem(lstm((b, x) => [expanded(b, x, [1, 1, 4], 2), expanded(b, x, [1, 1, 4])]));
    expect(twice).toMatch(/node "Mul_\d+" \(Mul\): it computes from the batch size what bpgen does not follow\n\s+expected: sizes of one axis computed with Shape/);
    // two directions' states for a one-way op
    expect(problem(lstm((b, x) => [expanded(b, x, [2, 1, 4]), expanded(b, x, [2, 1, 4])]))).toMatch(
      /node "LSTM_\d+" \(LSTM\): its initial state "expand" is \[2, batch, 4\]\n\s+expected: \[1, batch, 4\]: \[num_directions, batch, hidden_size\]/,
    );
    // zeros of one direction's shape (torch.zeros(1, x.size(0), 4)) for a bidirectional op
    const oneDirection = model("zeros", [5, 3], [8], (b, x) => {
      const zeros = constantOfShape(b, b.op("Concat", [b.int64s([1], [1]), b.batchSize(x), b.int64s([1], [4])], { axis: 0 }), { dims: [1], dataType: DataType.FLOAT, floatData: [0] });
      const [, last] = recurrentOp(b, x, "GRU", 3, 4, "bidirectional", undefined, [zeros]);
      return b.op("Concat", [b.op("Gather", [last, b.int64s([], [0])]), b.op("Gather", [last, b.int64s([], [1])])], { axis: 1 });
    });
    expect(problem(oneDirection.bytes)).toMatch(/node "GRU_\d+" \(GRU\): its initial state "constantofshape" is \[1, batch, 4\]\n\s+expected: \[2, batch, 4\]: \[num_directions, batch, hidden_size\]/);
    // ones over a shape computed from the batch size (torch.ones(1, x.size(0), …)): a constant state, not a learned one
    const ones = (b: GraphBuilder, x: string) => constantOfShape(b, torchExpandShape(b, x, 1), { dims: [1], dataType: DataType.FLOAT, floatData: [1] });
    expect(problem(lstm((b, x) => [ones(b, x), ones(b, x)]))).toMatch(/node "ConstantOfShape_\d+" \(ConstantOfShape\): it computes from the batch size what bpgen does not follow/);
    // a learned state read as a value of the network
    const added = problem(lstm((b, x) => [b.op("Add", [expanded(b, x, [1, 1, 4]), b.floats("noise", [4], [0.1, 0.2, 0.3, 0.4])]), expanded(b, x, [1, 1, 4])]));
    expect(added).toMatch(/node "Add_\d+" \(Add\): it reads "expand", computed from the batch size, as a value of the network/);
  });

  it("a graph with branches and an op the equation form lacks names both", () => {
    const built = model("fork", [2, 4, 4], [2, 4, 4], (b, x) => b.op("Add", [b.op("Relu", [x]), b.op("MaxPool", [x], { kernel_shape: [1, 1] })]));
    const message = problem(built.bytes);
    expect(message).toMatch(/node "MaxPool_1" \(MaxPool\): the graph is not a chain of layers \(node "Relu_0" reads "x"|node "MaxPool_1" reads "x"/);
    expect(message).toMatch(/expected: in a graph with branches, one of: Gemm, MatMul/);
  });
});

describe("bpgen import", () => {
  it("writes <name>.json and <name>.safetensors, says which loss it chose, and trains from there", async () => {
    const file = join(dir, "cnn.onnx");
    writeFileSync(file, cnn().bytes);
    const out = join(dir, "out");
    const run = await bpgenInProcess(["import", file, "--out", out, "--name", "digits"]);
    expect(run.stderr).toMatch(/note: loss: softmax_cross_entropy/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(join(out, "digits.json"));
    const spec = JSON.parse(readFileSync(join(out, "digits.json"), "utf8")) as { name: string; loss: string; description: string };
    expect(spec.name).toBe("digits");
    expect(spec.description).toMatch(/set "loss"/);
    const tensors = decodeSafetensors(readFileSync(join(out, "digits.safetensors")), "digits.safetensors");
    expect(tensors.tensors.map((t) => t.name)).toContain("W1");
    const build = await bpgenInProcess([join(out, "digits.json"), "--out", join(dir, "digits.ts")]);
    expect(build.code).toBe(0);
  });

  it("an op it cannot import: exit code 2, one error, nothing written", async () => {
    const file = join(dir, "odd.onnx");
    writeFileSync(file, model("odd", [4], [4], (b, x) => b.op("Cos", [x])).bytes);
    const out = join(dir, "nothing");
    const run = await bpgenInProcess(["import", file, "--out", out]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")[0]).toMatch(/odd\.onnx: error: node "Cos_0" \(Cos\)/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
