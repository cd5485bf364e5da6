/**
 * The exported PyTorch module against bpgen's own, on real PyTorch: bpgen's parameters (and running statistics)
 * written as safetensors with PyTorch's names load into the generated nn.Module, which computes the same output,
 * loss and (in training mode) objective, gradient and running statistics, in f64 to 1e-9; and back: a
 * state_dict PyTorch made, saved by the module's own writer, loaded by bpgen, gives PyTorch's output and loss.
 * One Python process runs every network of a test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type FloatArray, isStatefulModule, type AnyNetModule, type NetModule } from "../../src/module-api.ts";
import { encodeSafetensors } from "../../src/interop/safetensors.ts";
import { type TorchTensor, fromTorchOrder, torchNames } from "../../src/interop/torch-names.ts";
import { bindState } from "../../src/train/module-api.ts";
import { encodeParams, loadParams } from "../../src/train/params.ts";
import type { NetSpec } from "../../src/spec/types.ts";
import { compileF64, exportInto, firstMismatch, runPython, uniform } from "./torch-support.ts";

const BATCH = 5;

/** Small networks covering every layer type, each with its loss. */
const NETS: Record<string, object> = {
  mlp_l2: { input: 3, layers: [{ type: "dense", units: 5, activation: "tanh" }, { type: "dense", units: 4, activation: "softplus" }, { type: "dense", units: 2 }], loss: "mse", l2: 0.01 },
  bce_sigmoid: { input: 4, layers: [{ type: "dense", units: 3, activation: "gelu" }, { type: "dense", units: 2, activation: "sigmoid" }], loss: "binary_cross_entropy" },
  conv2d_pool: {
    input: [6, 5, 2],
    layers: [
      { type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "elu" },
      { type: "conv2d", filters: 4, kernel: [2, 1], padding: [[1, 0], 1], dilation: [1, 2], activation: "silu" },
      { type: "max_pool2d", size: 2, padding: "same" },
      { type: "flatten" },
      { type: "dense", units: 3 },
    ],
    loss: "softmax_cross_entropy",
  },
  conv1d_bn: {
    input: [9, 2],
    layers: [
      { type: "conv1d", filters: 3, kernel: 3, padding: "same", bias: false },
      { type: "batchnorm", momentum: 0.2 },
      { type: "activation", activation: "relu" },
      { type: "avg_pool1d", size: 3, stride: 2, padding: 1 },
      { type: "global_avg_pool" },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    loss: "binary_cross_entropy",
  },
  conv3d: {
    input: [4, 4, 3, 1],
    layers: [
      { type: "conv3d", filters: 2, kernel: 2, activation: "relu" },
      { type: "max_pool3d", size: [2, 2, 1] },
      { type: "avg_pool3d", size: 1 },
      { type: "flatten" },
      { type: "dense", units: 2, activation: "mish" },
    ],
    loss: "mse",
  },
  batchnorm_layernorm: {
    input: [5, 5, 2],
    layers: [
      { type: "conv2d", filters: 3, kernel: 3, bias: false },
      { type: "batchnorm", eps: 0.001 },
      { type: "activation", activation: "relu" },
      { type: "global_avg_pool" },
      { type: "batchnorm" },
      { type: "dense", units: 4 },
      { type: "layernorm" },
      { type: "dense", units: 3 },
    ],
    loss: "softmax_cross_entropy",
  },
  residual: {
    input: [6, 6, 3],
    layers: [
      { type: "conv2d", filters: 4, kernel: 3, padding: "same" },
      { type: "residual", layers: [{ type: "conv2d", filters: 4, kernel: 3, padding: "same", activation: "relu" }, { type: "layernorm" }] },
      { type: "residual", projection: true, layers: [{ type: "conv2d", filters: 6, kernel: 3, stride: 2, padding: "same", activation: "relu" }, { type: "batchnorm" }] },
      { type: "global_avg_pool" },
      { type: "residual", layers: [{ type: "dense", units: 6, activation: "tanh" }] },
      { type: "residual", projection: true, layers: [{ type: "dense", units: 3 }] },
      { type: "dense", units: 2 },
    ],
    loss: "mse",
    l2: 0.001,
  },
  expression_activations: {
    input: 3,
    layers: [
      { type: "dense", units: 4, activation: "x / (1 + abs(x))" },
      { type: "activation", activation: "leaky_relu(x, 0.2)" },
      { type: "dense", units: 3, activation: "where(x > 0, x, exp(x) - 1) + 0.1 * x^2" },
      { type: "dense", units: 2, activation: "hard_swish" },
    ],
    loss: "mse",
  },
  dropout: { input: 4, layers: [{ type: "dense", units: 6, activation: "relu" }, { type: "dropout", rate: 0.3 }, { type: "dense", units: 2 }], loss: "mse" },
  rnn_gru: {
    input: [5, 3],
    layers: [
      { type: "rnn", units: 4, activation: "relu", return_sequences: true },
      { type: "gru", units: 3, initial_state: "learned" },
      { type: "dense", units: 2 },
    ],
    loss: "mse",
  },
  lstm_sequence: {
    input: [4, 2],
    layers: [
      { type: "lstm", units: 3, initial_state: "learned", return_sequences: true },
      { type: "dense", units: 3 },
    ],
    loss: "softmax_cross_entropy",
  },
  // bidirectional layers (PyTorch's bidirectional=True): every step's states of both directions, into a second
  // bidirectional layer whose output is each direction's last state (the reverse one's after the first step, not
  // output[:, -1]'s); learned initial states of both directions, stacked into PyTorch's [2, batch, units]
  bi_rnn_gru: {
    input: [5, 3],
    layers: [
      { type: "rnn", units: 4, activation: "relu", bidirectional: true, return_sequences: true },
      { type: "gru", units: 3, bidirectional: true, initial_state: "learned" },
      { type: "dense", units: 2 },
    ],
    loss: "mse",
    l2: 0.01,
  },
  bi_gru_lstm: {
    input: [6, 2],
    layers: [
      { type: "gru", units: 3, bidirectional: true, return_sequences: true },
      { type: "lstm", units: 2, bidirectional: true },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    loss: "binary_cross_entropy",
  },
  bi_lstm_sequence: {
    input: [4, 2],
    layers: [
      { type: "lstm", units: 3, bidirectional: true, initial_state: "learned", return_sequences: true },
      { type: "dense", units: 3 },
    ],
    loss: "softmax_cross_entropy",
  },
  // the network's output is the bidirectional layer's own: every step's [T, 2·units], and the last states [2·units]
  bi_gru_steps_out: { input: [4, 3], layers: [{ type: "gru", units: 2, bidirectional: true, return_sequences: true }], loss: "mse" },
  bi_rnn_last_out: {
    input: [5, 2],
    layers: [
      { type: "rnn", units: 3, return_sequences: true },
      { type: "rnn", units: 3, bidirectional: true, initial_state: "learned" },
    ],
    loss: "mse",
    l2: 0.01,
  },
};

/** Networks of the equation form: their expression graphs in torch operations. */
const EQUATION_NETS: Record<string, object> = {
  eq_mlp: {
    params: { W: { shape: [4, 3] }, b: { shape: [4] }, V: { shape: [2, 4] } },
    inputs: { x: [3], s: [] },
    targets: { t: [2] },
    equations: ["h = tanh(W * x + b) .* s", "z = V * h"],
    output: "z",
    loss: "0.5 * sum((z - t) .^ 2)",
    regularizer: "0.01 * sum(W .* W)",
  },
  eq_cnn: {
    params: { K: { shape: [3, 3, 1, 2] }, c: { shape: [2] }, V: { shape: [3, 18] }, d: { shape: [3] } },
    inputs: { img: [5, 5, 1] },
    targets: { y: [3] },
    equations: ['a = relu(conv2d(img, K, 1, "same") + c)', 'p = max_pool2d(a, 2, 2, "same")', "z = V * reshape(p, [-1]) + d"],
    output: "z",
    loss: "logsumexp(z) - sum(y .* z)",
  },
  eq_tensors: {
    params: { A: { shape: [3, 3] }, u: { shape: [3] } },
    inputs: { x: [3] },
    targets: { t: [3] },
    equations: ["B = A' * A", "o = B .* x + u", "r = softmax(o, 2)", "m = max(o, 1)", "q = concat(sum(r, 1), mean(o, 2), m)", "z = where(q[1:3] > 0, q[1:3], 0.5 * q[4:6]) + abs(q[7:9]) .* sign(x)"],
    output: "z",
    loss: "sum((z - t) .^ 2)",
  },
  // recurrences: a Python loop over the steps, differentiated by autograd through every step
  eq_elman: {
    params: { Wx: { shape: [4, 3] }, Wh: { shape: [4, 4] }, b: { shape: [4] }, Wy: { shape: [2, 4] } },
    inputs: { x: [6, 3] },
    targets: { t: [2], s: [6, 4] },
    equations: [{ recurrence: { over: { x_t: "x" }, carry: { h: "zeros(4)" }, equations: ["h = tanh(Wx * x_t + Wh * h + b)"], outputs: { hs: "h" }, final: { hT: "h" } } }, "y = Wy * hT"],
    output: "y",
    loss: "0.5 * sum((y - t) .^ 2) + 0.5 * sum((hs - s) .^ 2)",
  },
  // a recurrence that runs backwards beside one that runs forwards, their final states joined (a bidirectional Elman
  // network in equations); the backward one's every-step output read by the loss
  eq_bidirectional: {
    params: { Wx: { shape: [4, 3] }, Wh: { shape: [4, 4] }, Vx: { shape: [4, 3] }, Vh: { shape: [4, 4] }, Wy: { shape: [2, 8] } },
    inputs: { x: [5, 3] },
    targets: { t: [2], s: [5, 4] },
    equations: [
      { recurrence: { over: { x_t: "x" }, carry: { h: "zeros(4)" }, equations: ["h = tanh(Wx * x_t + Wh * h)"], final: { hT: "h" } } },
      { recurrence: { over: { x_r: "x" }, reverse: true, carry: { g: "zeros(4)" }, equations: ["g = tanh(Vx * x_r + Vh * g)"], outputs: { gs: "g" }, final: { g1: "g" } } },
      "y = Wy * concat(hT, g1)",
    ],
    output: "y",
    loss: "0.5 * sum((y - t) .^ 2) + 0.5 * sum((gs - s) .^ 2)",
  },
  // a peephole LSTM (docs/net-json.md): the gates read the cell state, c0 learned; the input's part one product before the loop;
  // then a recurrence of no sequence
  eq_peephole: {
    params: {
      ...Object.fromEntries(["i", "f", "c", "o"].flatMap((g) => [[`U${g}`, { shape: [3, 3] }], [`b${g}`, { shape: [3] }], ...(g === "c" ? [] : [[`p${g}`, { shape: [3] }]])])),
      W: { shape: [12, 2] },
      c0: { shape: [3], init: 0.3 },
      Wy: { shape: [2, 3] },
    },
    inputs: { x: [5, 2] },
    targets: { t: [2] },
    equations: [
      "zx = x * W'",
      {
        recurrence: {
          over: { z_t: "zx" },
          carry: { h: "zeros(3)", c: "c0" },
          equations: [
            "i = sigmoid(z_t[1:3] + Ui * h + pi .* c + bi)",
            "f = sigmoid(z_t[4:6] + Uf * h + pf .* c + bf)",
            "c = f .* c + i .* tanh(z_t[7:9] + Uc * h + bc)",
            "o = sigmoid(z_t[10:12] + Uo * h + po .* c + bo)",
            "h = o .* tanh(c)",
          ],
          final: { hT: "h", cT: "c" },
        },
      },
      // a recurrence of no sequence, from a value of each sample
      { recurrence: { steps: 3, carry: { m: "hT" }, equations: ["m = 0.5 * m + tanh(Uo * m)"], final: { mT: "m" } } },
      "y = Wy * mT",
    ],
    output: "y",
    loss: "0.5 * sum((y - t) .^ 2) + 0.1 * sum(cT)",
  },
  // two stacked recurrences (the second over the first's sequence), a minimal gated unit; the output every step's
  eq_stacked: {
    params: { A: { shape: [3, 2] }, B: { shape: [3, 3] }, Wf: { shape: [3, 3] }, Uf: { shape: [3, 3] }, Wh: { shape: [3, 3] }, Uh: { shape: [3, 3] }, V: { shape: [2, 3] } },
    inputs: { x: [4, 2] },
    targets: { t: [4, 2] },
    equations: [
      { recurrence: { over: { x_t: "x" }, carry: { h: "zeros(3)" }, equations: ["h = relu(A * x_t + B * h) - 0.5 * h"], outputs: { hs: "h" } } },
      {
        recurrence: {
          over: { u: "hs" },
          carry: { g: "zeros(3)" },
          equations: ["f = sigmoid(Wf * u + Uf * g)", "g = (1 - f) .* g + f .* tanh(Wh * u + Uh * (f .* g))"],
          outputs: { gs: "g" },
        },
      },
      "z = gs * V'",
    ],
    output: "z",
    loss: "sum(logsumexp(z, 2) - sum(t .* z, 2))",
  },
};

/** What the Python program computes for one network. */
interface TorchResult {
  out: number[];
  loss: number;
  J?: number;
  grads?: Record<string, number[]>;
  buffers?: Record<string, number[]>;
  back_out: number[];
  f32: { dtype: string; out: number[] };
  init: Record<string, [number, number]>;
  back_loss: number;
}

const PROGRAM = `
import importlib.util, json, sys
import torch

results = []
for case in json.load(open(sys.argv[1])):
    spec = importlib.util.spec_from_file_location(case["name"], case["module"])
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    data = m.load_file(case["data"])
    x, y = data["x"], data["y"]
    net = m.load(case["params"], torch.float64)
    net.eval()
    with torch.no_grad():
        r = {"out": net(x).flatten().tolist(), "loss": float(net.objective(x, y))}
    # the same parameters written in f32: loaded as float32, computed in float32
    net32 = m.load(case["params32"]).eval()
    with torch.no_grad():
        r["f32"] = {"dtype": str(next(net32.parameters()).dtype), "out": net32(x.float()).flatten().tolist()}
    if case["training"]:
        net.train()
        J = net.objective(x, y)
        J.backward()
        r["J"] = float(J)
        r["grads"] = {n: p.grad.flatten().tolist() for n, p in net.named_parameters()}
        r["buffers"] = {n: b.flatten().tolist() for n, b in net.named_buffers() if b.is_floating_point()}
    # a fresh module's parameters, drawn as bpgen draws them: each one's smallest and largest value
    torch.manual_seed(3)
    r["init"] = {n: [float(p.min()), float(p.max())] for n, p in m.Net().double().named_parameters()}
    # back: weights PyTorch made, saved as a plain state_dict (no metadata), read by bpgen
    torch.manual_seed(7)
    fresh = m.Net().double()
    with torch.no_grad():
        for p in fresh.parameters():
            p.uniform_(-0.6, 0.6)
        for n, b in fresh.named_buffers():
            if n.endswith("running_mean"):
                b.uniform_(-0.5, 0.5)
            if n.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    fresh.eval()
    if case["equations"]:
        m.save(fresh, case["back"])
    else:
        m.save_file(dict(fresh.state_dict()), case["back"])
    with torch.no_grad():
        r["back_out"] = fresh(x).flatten().tolist()
        r["back_loss"] = float(fresh.objective(x, y))
    results.append(r)
print(json.dumps(results))
`;

interface Case {
  name: string;
  spec: NetSpec;
  m: AnyNetModule<Float64Array>;
  params: Float64Array;
  state?: Float64Array;
  x: Float64Array;
  y: Float64Array;
  dir: string;
}

const root = mkdtempSync(join(tmpdir(), "bpgen-torch-module-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Targets the loss reads: one-hot rows (softmax), numbers in (0, 1) (binary cross-entropy), any numbers (mse, an equation form's loss). */
function targets(loss: string, count: number, size: number, next: () => number): Float64Array {
  const y = new Float64Array(count * size);
  const classes = loss === "softmax_cross_entropy" ? (size % 3 === 0 && size > 3 ? 3 : size) : 0;
  for (let i = 0; i < y.length; i++) y[i] = loss === "binary_cross_entropy" ? 0.05 + 0.9 * next() : loss === "softmax_cross_entropy" ? 0 : 2 * next() - 1;
  if (classes) for (let r = 0; r < y.length / classes; r++) y[r * classes + Math.floor(next() * classes)] = 1;
  return y;
}

async function prepare(name: string, net: object, seed: number): Promise<Case> {
  const spec = { name, ...net } as NetSpec;
  const dir = join(root, name);
  await exportInto(dir, spec);
  const m = await compileF64(spec);
  const next = uniform(seed);
  const params = Float64Array.from({ length: m.meta.paramCount }, () => next() - 0.5);
  const state = isStatefulModule(m) ? m.initState(1) : undefined;
  // running statistics away from their start, so that inference reads them
  if (isStatefulModule(m)) for (const s of m.meta.state) if (/^[mv]\d/.test(s.name)) for (let i = 0; i < s.size; i++) (state as Float64Array)[s.offset + i] = s.name.startsWith("m") ? next() - 0.5 : 0.5 + next();
  const x = Float64Array.from({ length: BATCH * m.meta.inputSize }, () => 2 * next() - 1);
  const y = targets((spec as { loss: string }).loss, BATCH, m.meta.targetSize, next);
  const names = torchNames(spec);
  writeFileSync(join(dir, "params.safetensors"), encodeParams("params.safetensors", m.meta, params, state, names));
  const state32 = state && Float32Array.from(state);
  writeFileSync(join(dir, "params32.safetensors"), encodeParams("params32.safetensors", m.meta, Float32Array.from(params), state32, names));
  writeFileSync(join(dir, "data.safetensors"), encodeSafetensors([
    { name: "x", dtype: "F64", shape: [BATCH, m.meta.inputSize], data: x },
    { name: "y", dtype: "F64", shape: [BATCH, m.meta.targetSize], data: y },
  ]));
  return { name, spec, m, params, state, x, y, dir };
}

const bound = (c: Case, state = c.state): NetModule<Float64Array> => (isStatefulModule(c.m) ? bindState(c.m, state as Float64Array) : (c.m as NetModule<Float64Array>));

const training = (c: Case) => !JSON.stringify(c.spec).includes('"dropout"');

/** The tensors of the PyTorch module: the layer form's names, or the equation form's parameters under `p.`. */
const tensorsOf = (c: Case): TorchTensor[] =>
  torchNames(c.spec)?.slice() ?? c.m.meta.params.map((p) => ({ bpgen: p.name, torch: `p.${p.name}`, kind: "param" as const, shape: p.shape, torchShape: p.shape, permute: p.shape.map((_, k) => k), penalised: false }));

describe("the exported PyTorch module computes bpgen's network (f64), both forms", () => {
  let cases: Case[] = [];
  let results: TorchResult[] = [];

  it("runs every network in PyTorch", async () => {
    cases = await Promise.all(Object.entries({ ...NETS, ...EQUATION_NETS }).map(([name, net], k) => prepare(name, net, 11 + k)));
    const list = cases.map((c) => ({
      name: c.name,
      module: join(c.dir, `${c.name}.py`),
      params: join(c.dir, "params.safetensors"),
      params32: join(c.dir, "params32.safetensors"),
      data: join(c.dir, "data.safetensors"),
      back: join(c.dir, "back.safetensors"),
      training: training(c),
      equations: c.name in EQUATION_NETS,
    }));
    writeFileSync(join(root, "cases.json"), JSON.stringify(list));
    results = JSON.parse(runPython(PROGRAM, [join(root, "cases.json")], { timeout: 180_000 })) as TorchResult[];
    expect(results).toHaveLength(cases.length);
  });

  for (const name of [...Object.keys(NETS), ...Object.keys(EQUATION_NETS)]) {
    it(`${name}: forward and loss in inference, objective, gradient and running statistics in training`, () => {
      const k = cases.findIndex((c) => c.name === name);
      const [c, r] = [cases[k], results[k]];
      const m = bound(c);
      const out = new Float64Array(BATCH * m.meta.outputSize);
      m.forward(c.params, c.x, out, BATCH);
      expect(firstMismatch(out, r.out, 1e-9), "forward").toBeUndefined();
      expect(firstMismatch([m.loss(c.params, c.x, c.y, BATCH)], [r.loss], 1e-9), "loss").toBeUndefined();
      if (training(c)) {
        const state = c.state && Float64Array.from(c.state);
        const grads = new Float64Array(m.meta.paramCount);
        const J = bound(c, state).gradient(c.params, c.x, c.y, grads, BATCH);
        expect(firstMismatch([J], [r.J as number], 1e-9), "training objective").toBeUndefined();
        const names = tensorsOf(c);
        for (const t of names) {
          const layout = (t.kind === "param" ? m.meta.params : (m.meta as { state?: typeof m.meta.params }).state ?? []).find((p) => p.name === t.bpgen);
          if (!layout) throw new Error(`no ${t.bpgen} in meta`);
          const theirs = new Float64Array(layout.size);
          fromTorchOrder(t.kind === "param" ? (r.grads?.[t.torch] ?? []) : (r.buffers?.[t.torch] ?? []), t, theirs);
          const ours = (t.kind === "param" ? grads : (state as FloatArray)).subarray(layout.offset, layout.offset + layout.size);
          expect(firstMismatch(ours, theirs, 1e-9), `${t.kind === "param" ? "gradient of" : "state"} ${t.bpgen} (${t.torch})`).toBeUndefined();
        }
        expect(Object.keys(r.grads ?? {}).sort()).toEqual(names.filter((t) => t.kind === "param").map((t) => t.torch).sort());
      }
    });

    it(`${name}: a fresh module draws its parameters from bpgen's distributions`, () => {
      const k = cases.findIndex((c) => c.name === name);
      const [c, r] = [cases[k], results[k]];
      for (const t of torchNames(c.spec) ?? []) {
        if (!t.init) continue;
        const [low, high] = r.init[t.torch];
        if (t.init.kind === "constant") expect([low, high], t.torch).toEqual([t.init.value, t.init.value]);
        const limit = t.init.kind === "xavier" ? Math.sqrt(6 / (t.init.fanIn + t.init.fanOut)) : Infinity;
        // drawn (different values, unless there is one), and within Xavier's limit
        const drawn = low < high || t.shape.reduce((x, y) => x * y, 1) === 1;
        if (t.init.kind !== "constant") expect(drawn && -low <= limit && high <= limit, `${t.torch}: [${low}, ${high}] within ±${limit}`).toBe(true);
      }
    });

    it(`${name}: a state_dict saved by PyTorch, loaded by bpgen`, () => {
      const k = cases.findIndex((c) => c.name === name);
      const [c, r] = [cases[k], results[k]];
      const params = new Float64Array(c.m.meta.paramCount);
      const state = c.state && Float64Array.from(c.state);
      loadParams(join(c.dir, "back.safetensors"), c.m.meta, params, state, torchNames(c.spec));
      const m = bound(c, state);
      const out = new Float64Array(BATCH * m.meta.outputSize);
      m.forward(params, c.x, out, BATCH);
      expect(firstMismatch(out, r.back_out, 1e-9), "forward").toBeUndefined();
      expect(firstMismatch([m.loss(params, c.x, c.y, BATCH)], [r.back_loss], 1e-9), "loss").toBeUndefined();
    });
  }

  it("writes f32 files that PyTorch reads as float32, with the same forward to f32 precision", () => {
    for (const [k, c] of cases.entries()) {
      const r = results[k].f32;
      expect(r.dtype, c.name).toBe("torch.float32");
      const out = new Float64Array(BATCH * c.m.meta.outputSize);
      bound(c, c.state && Float64Array.from(Float32Array.from(c.state))).forward(Float64Array.from(Float32Array.from(c.params)), c.x, out, BATCH);
      expect(firstMismatch(out, r.out, 1e-5), c.name).toBeUndefined();
      expect(readFileSync(join(c.dir, "params32.safetensors")).length, c.name).toBeLessThan(readFileSync(join(c.dir, "params.safetensors")).length);
    }
    // computed in f32 by PyTorch: not bpgen's f64 numbers
    expect(cases.some((c, k) => firstMismatch(results[k].out, results[k].f32.out, 1e-12) !== undefined)).toBe(true);
  });
});
