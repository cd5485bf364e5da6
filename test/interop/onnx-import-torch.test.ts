/**
 * Models made in PyTorch and exported with torch.onnx.export import into bpgen, and the imported module computes
 * PyTorch's forward (inference mode) and, with the loss the test names, PyTorch's loss and gradient (training
 * mode, batch norm on the batch's statistics). One python process (fixtures/onnx/torch_models.py) builds the models,
 * exports them and writes the references; both sides compute in float64 from the same float32 weights. Another
 * exports bpgen's own PyTorch export of a network (bpgen → PyTorch → ONNX → bpgen).
 * PyTorch is the one the global setup found or installed (test/setup/torch.ts): without it this test fails, saying so.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importOnnx, type ImportResult } from "../../src/interop/onnx/import.ts";
import { channelsLast, importedModule } from "./fixtures/onnx/imported.ts";
import { forward } from "./fixtures/onnx/run.ts";
import { exportInto, runPython, torchPython } from "./torch-support.ts";

const SCRIPT = fileURLToPath(new URL("./fixtures/onnx/torch_models.py", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bpgen-onnx-torch-"));

interface Reference {
  readonly x: number[];
  readonly inputDims: number[];
  readonly targets: number[];
  readonly output: number[];
  readonly loss: number;
  readonly grads: Record<string, number[]>;
}

let prepared = false;

/** Runs the python script once (when the first test needs it), with the Python the global setup found (test/setup/torch.ts). */
function prepare(): void {
  if (prepared) return;
  execFileSync(torchPython(), [SCRIPT, dir], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, OMP_NUM_THREADS: "1" } });
  prepared = true;
}

const reference = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as Reference;

function close(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1e-6 + Math.abs(expected[i])));
  expect(worst).toBeLessThan(tolerance);
}

/** The model imported, its loss set to `loss`, run on the reference's batch: forward, then loss and gradient. */
async function check(name: string, loss: string, outputOf: (torchOutput: number[]) => number[]): Promise<ImportResult> {
  prepare();
  const result = importOnnx(readFileSync(join(dir, `${name}.onnx`)), `${name}.onnx`);
  const ref = reference(name);
  const withLoss = { ...result, spec: { ...result.spec, loss } };
  const { m, params, state } = await importedModule(withLoss, "f64");
  const batch = ref.x.length / ref.inputDims.reduce((a, b) => a * b, 1);
  // an image's channels move last; a sequence [steps, features] stays as it is
  const image = JSON.stringify(result.spec.input) !== JSON.stringify(ref.inputDims.length === 1 ? ref.inputDims[0] : ref.inputDims);
  const x = Float64Array.from(image ? channelsLast(Float32Array.from(ref.x), batch, ref.inputDims) : ref.x);
  close(forward(m, params, state, x, batch), outputOf(ref.output));
  const grads = new Float64Array(m.meta.paramCount);
  const J = state ? m.gradient(params, state, x, Float64Array.from(ref.targets), grads, batch) : m.gradient(params, x, Float64Array.from(ref.targets), grads, batch);
  expect(Math.abs(J - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-9);
  expect(Object.keys(ref.grads).sort()).toEqual(m.meta.params.map((p) => p.name).sort());
  for (const p of m.meta.params) close(grads.subarray(p.offset, p.offset + p.size), ref.grads[p.name]);
  return result;
}

/** Each row's softmax: what bpgen's forward gives under softmax_cross_entropy. */
const softmaxRows = (k: number) => (logits: number[]) =>
  logits.map((_, i) => {
    const row = logits.slice(i - (i % k), i - (i % k) + k);
    const top = Math.max(...row);
    return Math.exp(logits[i] - top) / row.reduce((s, v) => s + Math.exp(v - top), 0);
  });

describe("ONNX import of PyTorch models", { timeout: 120_000 }, () => {
  it("an MLP: forward, and the softmax cross-entropy's loss and gradient", async () => {
    const result = await check("mlp", "softmax_cross_entropy", softmaxRows(3));
    expect(result.spec.layers).toEqual([
      { type: "dense", units: 16, activation: "tanh" },
      { type: "dense", units: 8, activation: "relu" },
      { type: "dense", units: 3 },
    ]);
  });

  it("a CNN with batch norm: forward with the running statistics, and the gradient with the batch's", async () => {
    const result = await check("cnn", "mse", (y) => y);
    expect((result.spec.layers as { type: string }[]).map((l) => l.type)).toEqual(["conv2d", "batchnorm", "max_pool2d", "conv2d", "flatten", "dense"]);
    expect(result.spec.input).toEqual([8, 8, 2]);
  });

  it("a CNN with convolution then batch norm, exported in training mode to keep the batch norm", async () => {
    const result = await check("usual", "mse", (y) => y);
    expect((result.spec.layers as { type: string }[]).map((l) => l.type)).toEqual(["conv2d", "batchnorm", "activation", "flatten", "dense"]);
    expect(result.notes.join("\n")).toMatch(/training mode/);
  });

  it("a tutorial CNN: x.view(x.size(0), -1) and a log-softmax output, which becomes the softmax cross-entropy", async () => {
    const result = await check("tutorial", "softmax_cross_entropy", (logProbabilities) => logProbabilities.map(Math.exp));
    expect(result.spec.loss).toBe("softmax_cross_entropy");
    expect((result.spec.layers as { type: string }[]).map((l) => l.type)).toEqual(["conv2d", "max_pool2d", "flatten", "dense"]);
  });

  it("LSTM, RNN (relu) and GRU layers and the last step of the last: forward, loss and gradient through time", async () => {
    const result = await check("recurrent", "mse", (y) => y);
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 5, return_sequences: true },
      { type: "rnn", units: 4, return_sequences: true, activation: "relu" },
      { type: "gru", units: 4 },
      { type: "dense", units: 2 },
    ]);
    expect(result.spec.input).toEqual([7, 3]);
  });

  it("bidirectional LSTM and GRU layers: every step's states of both directions, then the last states joined, torch.cat((h_n[0], h_n[1]), 1)", async () => {
    const result = await check("bidirectional", "mse", (y) => y);
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 4, return_sequences: true, bidirectional: true },
      { type: "gru", units: 3, bidirectional: true },
      { type: "dense", units: 2 },
    ]);
    expect(result.tensors.map((t) => t.name)).toContain("W_hh2_reverse");
  });

  it("a bidirectional RNN (relu), then a bidirectional GRU's last states as h_n.permute(1, 0, 2).reshape(batch, -1)", async () => {
    const result = await check("bidirectional_permuted", "mse", (y) => y);
    expect(result.spec.layers).toEqual([
      { type: "rnn", units: 4, return_sequences: true, activation: "relu", bidirectional: true },
      { type: "gru", units: 3, bidirectional: true },
      { type: "dense", units: 2 },
    ]);
  });

  it("learned initial states as bpgen's PyTorch export writes them: a one-way LSTM's, then a bidirectional GRU's, each stacked and expanded over the batch", async () => {
    const result = await check("learned", "mse", (y) => y);
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 5, return_sequences: true, initial_state: "learned" },
      { type: "gru", units: 3, initial_state: "learned", bidirectional: true },
      { type: "dense", units: 2 },
    ]);
    expect(result.tensors.map((t) => `${t.name} [${t.shape.join(", ")}]`)).toEqual(expect.arrayContaining(["h0_1 [5]", "c0_1 [5]", "h0_2 [3]", "h0_2_reverse [3]"]));
  });

  it("learned initial states of a bidirectional LSTM, then of an RNN written h0.expand(1, x.shape[0], -1)", async () => {
    const result = await check("learned_expanded", "mse", (y) => y);
    expect(result.spec.layers).toEqual([
      { type: "lstm", units: 4, return_sequences: true, initial_state: "learned", bidirectional: true },
      { type: "rnn", units: 5, activation: "relu", initial_state: "learned" },
      { type: "dense", units: 2 },
    ]);
    expect(result.tensors.map((t) => t.name)).toEqual(expect.arrayContaining(["h0_1", "c0_1", "h0_1_reverse", "c0_1_reverse", "h0_2"]));
  });

  it("bpgen's own PyTorch export of learned initial states, exported by torch.onnx, imports back as the same layers, values and forward", async () => {
    const spec = {
      name: "learned_roundtrip",
      input: [6, 3],
      layers: [
        { type: "lstm", units: 4, return_sequences: true, initial_state: "learned" },
        { type: "gru", units: 3, initial_state: "learned", bidirectional: true },
        { type: "dense", units: 2 },
      ],
      loss: "mse",
    };
    const folder = join(dir, spec.name);
    await exportInto(folder, spec);
    // the parameters random (bpgen's initial states start at zeros), the file's float32; the reference from them in float64
    runPython(
      `import json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import torch
from ${spec.name} import Net
torch.manual_seed(2)
net = Net().eval()
with torch.no_grad():
    for p in net.parameters():
        p.normal_(0, 0.5)
x = torch.randn(5, 6, 3)
torch.onnx.export(net, x, sys.argv[1] + "/net.onnx", opset_version=17, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
states = {"h0_1": net[0].h0, "c0_1": net[0].c0, "h0_2": net[1].h0, "h0_2_reverse": net[1].h0_reverse}
net = net.double()
with torch.no_grad():
    json.dump({"x": x.double().reshape(-1).tolist(), "output": net(x.double()).reshape(-1).tolist(), "states": {k: v.tolist() for k, v in states.items()}}, open(sys.argv[1] + "/reference.json", "w"))`,
      [folder],
    );
    const result = importOnnx(readFileSync(join(folder, "net.onnx")), "net.onnx");
    expect(result.spec.layers).toEqual(spec.layers);
    const ref = JSON.parse(readFileSync(join(folder, "reference.json"), "utf8")) as { x: number[]; output: number[]; states: Record<string, number[]> };
    for (const [name, values] of Object.entries(ref.states)) expect(Array.from(result.tensors.find((t) => t.name === name)?.data ?? [])).toEqual(values);
    const { m, params, state } = await importedModule(result, "f64");
    close(forward(m, params, state, Float64Array.from(ref.x), 5), ref.output);
  });

  it("a ResNet block with a strided projection shortcut, batch norms folded by the export: the equation form over images", async () => {
    const result = await check("resnet", "0.5 * sum((y - t).^2)", (y) => y);
    expect(result.spec.inputs).toEqual({ x_x: [8, 8, 3] });
    const equations = (result.spec.equations as string[]).join("\n");
    expect(equations).toMatch(/= conv2d\(v_Relu_output_0, w_onnx__Conv_\d+, 2, "valid"\) \+ w_onnx__Conv_\d+$/m);
    expect(equations).toMatch(/= avg_pool2d\(v_\w+, 4\)$/m);
    expect(result.notes.join("\n")).toMatch(/projection with a bias/);
  });
});
