/**
 * safetensors files of a network's parameters with bpgen's and PyTorch's names (no Python here): the layouts
 * PyTorch reads (a convolution's [out, in, kh, kw] from our [kh, kw, in, out]), round trips in f32 and f64, the
 * refusal of another network's file naming both layouts, and what `bpgen export --to pytorch` refuses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BpgenError, paramsFromSafetensors, paramsToSafetensors, torchNames } from "../../src/index.ts";
import { decodeSafetensors } from "../../src/interop/safetensors.ts";
import type { NetMeta } from "../../src/check/module.ts";
import type { NetSpec } from "../../src/spec/types.ts";
import { metaOfNet } from "../../src/interop/net-meta.ts";
import { buildNet } from "../../src/pipeline.ts";
import { bpgenInProcess } from "../helpers/in-process.ts";

const CNN = {
  name: "cnn",
  input: [4, 3, 2],
  layers: [
    { type: "conv2d", filters: 5, kernel: [3, 2] },
    { type: "batchnorm" },
    { type: "dropout", rate: 0.1 },
    { type: "flatten" },
    { type: "dense", units: 2 },
  ],
  loss: "mse",
};
const MLP = { name: "mlp", input: 3, layers: [{ type: "dense", units: 4 }, { type: "dense", units: 2 }], loss: "mse" };
/** Bidirectional recurrent layers (with learned initial states) around a one-way one: 2·units into the next layer. */
const BIRNN = {
  name: "birnn",
  input: [4, 2],
  layers: [
    { type: "lstm", units: 3, bidirectional: true, initial_state: "learned", return_sequences: true },
    { type: "rnn", units: 2, return_sequences: true },
    { type: "gru", units: 2, bidirectional: true },
  ],
  loss: "mse",
  l2: 0.01,
};

const metaOf = (spec: object) => metaOfNet(buildNet(spec as NetSpec)) as NetMeta & { stateCount?: number; state?: NetMeta["params"] };
const counting = (n: number, f64: boolean) => {
  const values = Array.from({ length: n }, (_, i) => (i + 1) / 7);
  return f64 ? Float64Array.from(values) : Float32Array.from(values);
};

const root = mkdtempSync(join(tmpdir(), "bpgen-torch-names-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("PyTorch's names and layouts", () => {
  it("names the layer form's tensors as the exported module's state_dict", () => {
    const names = torchNames(CNN as NetSpec) ?? [];
    expect(names.map((t) => [t.bpgen, t.torch, t.torchShape])).toEqual([
      ["W1", "1.weight", [5, 2, 3, 2]],
      ["b1", "1.bias", [5]],
      ["g2", "2.weight", [5]],
      ["b2", "2.bias", [5]],
      ["m2", "2.running_mean", [5]],
      ["v2", "2.running_var", [5]],
      ["W5", "6.weight", [2, 2 * 2 * 5]],
      ["b5", "6.bias", [2]],
    ]);
    expect(torchNames({ name: "eq", inputs: { x: 1 }, params: { w: 1 }, equations: ["out = w * x"], loss: "out" } as unknown as NetSpec)).toBeUndefined();
  });

  it("names both directions of a bidirectional recurrent layer: the reverse one's with PyTorch's suffix, its initial state the module's", () => {
    const names = torchNames(BIRNN as NetSpec) ?? [];
    expect(names.map((t) => [t.bpgen, t.torch, t.torchShape, t.penalised])).toEqual([
      ["W_ih1", "0.weight_ih_l0", [12, 2], true],
      ["W_hh1", "0.weight_hh_l0", [12, 3], true],
      ["b_ih1", "0.bias_ih_l0", [12], false],
      ["b_hh1", "0.bias_hh_l0", [12], false],
      ["h0_1", "0.h0", [3], false],
      ["c0_1", "0.c0", [3], false],
      ["W_ih1_reverse", "0.weight_ih_l0_reverse", [12, 2], true],
      ["W_hh1_reverse", "0.weight_hh_l0_reverse", [12, 3], true],
      ["b_ih1_reverse", "0.bias_ih_l0_reverse", [12], false],
      ["b_hh1_reverse", "0.bias_hh_l0_reverse", [12], false],
      ["h0_1_reverse", "0.h0_reverse", [3], false],
      ["c0_1_reverse", "0.c0_reverse", [3], false],
      ["W_ih2", "1.weight_ih_l0", [2, 6], true],
      ["W_hh2", "1.weight_hh_l0", [2, 2], true],
      ["b_ih2", "1.bias_ih_l0", [2], false],
      ["b_hh2", "1.bias_hh_l0", [2], false],
      ["W_ih3", "2.weight_ih_l0", [6, 2], true],
      ["W_hh3", "2.weight_hh_l0", [6, 2], true],
      ["b_ih3", "2.bias_ih_l0", [6], false],
      ["b_hh3", "2.bias_hh_l0", [6], false],
      ["W_ih3_reverse", "2.weight_ih_l0_reverse", [6, 2], true],
      ["W_hh3_reverse", "2.weight_hh_l0_reverse", [6, 2], true],
      ["b_ih3_reverse", "2.bias_ih_l0_reverse", [6], false],
      ["b_hh3_reverse", "2.bias_hh_l0_reverse", [6], false],
    ]);
    // each reverse tensor holds its own parameter's values (PyTorch's layout is ours), and reads back
    const meta = metaOf(BIRNN);
    const params = counting(meta.paramCount, true);
    const bytes = paramsToSafetensors(meta, params, { pytorch: BIRNN });
    const file = decodeSafetensors(bytes, "birnn");
    for (const t of names.filter((n) => n.torch.endsWith("_reverse"))) {
      const p = meta.params.find((q) => q.name === t.bpgen);
      expect(Array.from(file.tensors.find((f) => f.name === t.torch)?.data ?? []), t.torch).toEqual(Array.from(params.subarray(p?.offset, (p?.offset ?? 0) + (p?.size ?? 0))));
    }
    const into = new Float64Array(meta.paramCount);
    expect(paramsFromSafetensors(bytes, meta, into, { pytorch: BIRNN })).toBe("pytorch");
    expect(into).toEqual(params);
  });

  it("writes a convolution's weight [kh, kw, in, out] as PyTorch's [out, in, kh, kw]", () => {
    const meta = metaOf(CNN);
    const params = counting(meta.paramCount, true);
    const state = counting(meta.stateCount ?? 0, true);
    const file = decodeSafetensors(paramsToSafetensors(meta, params, { state, pytorch: CNN }), "cnn");
    const weight = file.tensors.find((t) => t.name === "1.weight");
    const W = meta.params[0];
    const [kh, kw, cin, cout] = W.shape;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let c = 0; c < cin; c++)
          for (let o = 0; o < cout; o++) expect(weight?.data[((o * cin + c) * kh + i) * kw + j]).toBe(params[W.offset + ((i * kw + j) * cin + c) * cout + o]);
    expect(file.metadata).toEqual({ format: "bpgen", net: "cnn", names: "pytorch" });
    // the dropout generator's seed and step have no PyTorch buffer
    expect(file.tensors.map((t) => t.name)).not.toContain("rng_seed");
  });

  for (const f64 of [false, true]) {
    it(`reads back what it writes, in both namings (${f64 ? "f64" : "f32"})`, () => {
      const meta = metaOf(CNN);
      const params = counting(meta.paramCount, f64);
      const state = counting(meta.stateCount ?? 0, f64);
      for (const pytorch of [undefined, CNN]) {
        const bytes = paramsToSafetensors(meta, params, { state, pytorch });
        expect(decodeSafetensors(bytes, "x").tensors[0].dtype).toBe(f64 ? "F64" : "F32");
        const into = new (f64 ? Float64Array : Float32Array)(meta.paramCount);
        const stateInto = new (f64 ? Float64Array : Float32Array)(meta.stateCount ?? 0).fill(-1);
        expect(paramsFromSafetensors(bytes, meta, into, { stateInto, pytorch: CNN })).toBe(pytorch ? "pytorch" : "bpgen");
        expect(into).toEqual(params);
        const kept = meta.state?.filter((s) => pytorch === undefined || /^[mv]\d/.test(s.name)) ?? [];
        for (const s of meta.state ?? []) {
          const expected = kept.includes(s) ? state.subarray(s.offset, s.offset + s.size) : new Float64Array(s.size).fill(-1);
          expect(Array.from(stateInto.subarray(s.offset, s.offset + s.size)), s.name).toEqual(Array.from(expected));
        }
      }
    });
  }

  it("refuses a file of another network, naming both layouts", () => {
    const [cnn, mlp] = [metaOf(CNN), metaOf(MLP)];
    const bytes = paramsToSafetensors(mlp, counting(mlp.paramCount, false), { pytorch: MLP });
    const attempt = () => paramsFromSafetensors(bytes, cnn, new Float32Array(cnn.paramCount), { stateInto: new Float32Array(cnn.stateCount ?? 0), pytorch: CNN, file: "mlp.safetensors" });
    expect(attempt).toThrow(BpgenError);
    try {
      attempt();
    } catch (e) {
      const [detail] = (e as BpgenError).details;
      expect(detail.message).toContain("does not fit the network cnn");
      expect(detail.expected).toContain("1.weight [5, 2, 3, 2]");
      expect(detail.found).toBe("0.weight [4, 3], 0.bias [4], 1.weight [2, 4], 1.bias [2]");
      expect(detail.file).toBe("mlp.safetensors");
    }
    const ours = paramsToSafetensors(mlp, counting(mlp.paramCount, true));
    const refusal = (() => {
      try {
        paramsFromSafetensors(ours, cnn, new Float32Array(cnn.paramCount), { stateInto: new Float32Array(cnn.stateCount ?? 0), pytorch: CNN });
      } catch (e) {
        return (e as BpgenError).details[0];
      }
    })();
    expect(refusal?.message).toContain("bpgen's names");
    expect(refusal?.expected).toContain("W1 [3, 2, 2, 5], b1 [5]");
    expect(refusal?.found).toBe("W1 [4, 3], b1 [4], W2 [2, 4], b2 [2]");
  });

  it("bpgen train's parameter files: .safetensors beside .json and .bin, read by --resume", async () => {
    const net = join(root, "mlp.json");
    const data = join(root, "mlp.csv");
    writeFileSync(net, JSON.stringify(MLP));
    writeFileSync(data, ["a,b,c,y1,y2", ...Array.from({ length: 12 }, (_, i) => `${i % 3},${i % 5},${i % 2},${i % 4},1`)].join("\n"));
    const first = await bpgenInProcess(["train", net, "--data", data, "--targets", "y1,y2", "--epochs", "2", "--out", join(root, "run1"), "--no-progress"]);
    expect(first.code, first.stderr).toBe(0);
    const file = join(root, "run1", "params.safetensors");
    expect(decodeSafetensors(readFileSync(file), file).tensors.map((t) => t.name)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias"]);
    const resumed = await bpgenInProcess(["train", net, "--data", data, "--targets", "y1,y2", "--epochs", "0", "--resume", file, "--out", join(root, "run2"), "--no-progress"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(root, "run2", "params.json"), "utf8")).toBe(readFileSync(join(root, "run1", "params.json"), "utf8"));
  });
});

describe("bpgen export --to pytorch refuses what it cannot write, and writes nothing", () => {
  const exportTo = async (spec: object, extra: string[] = []) => {
    const dir = mkdtempSync(join(root, "export-"));
    const net = join(dir, "net.json");
    writeFileSync(net, JSON.stringify(spec, null, 1));
    const run = await bpgenInProcess(["export", net, "--to", "pytorch", "--out", join(dir, "out"), ...extra]);
    return { ...run, written: existsSync(join(dir, "out")) };
  };

  it("an activation that does not read x (a constant): exit 2, its place in net.json", async () => {
    const run = await exportTo({ ...MLP, layers: [{ type: "dense", units: 4 }, { type: "dense", units: 2, activation: "0.5" }] });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain("layers[1].activation");
    expect(run.stderr).toContain("elementwise");
    expect(run.written).toBe(false);
  });

  it("a missing --params file, and a file of another network", async () => {
    const missing = await exportTo(MLP, ["--params", join(root, "nowhere.safetensors")]);
    expect([missing.code, missing.written]).toEqual([2, false]);
    expect(missing.stderr).toContain("cannot read the parameter file");
    const other = join(root, "other.safetensors");
    const cnn = metaOf(CNN);
    writeFileSync(other, paramsToSafetensors(cnn, counting(cnn.paramCount, false), { state: counting(cnn.stateCount ?? 0, false), pytorch: CNN }));
    const wrong = await exportTo(MLP, ["--params", other]);
    expect([wrong.code, wrong.written]).toEqual([2, false]);
    expect(wrong.stderr).toContain("does not fit the network mlp");
  });

  it("the equation form: written as torch operations, a recurrence as a loop over its steps", async () => {
    const chain = await exportTo(JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "examples", "chain3.json"), "utf8")) as object);
    expect([chain.code, chain.written], chain.stderr).toEqual([0, true]);
    const recurrent = await exportTo({
      name: "rnn_eq",
      params: { Wx: { shape: [4, 2] }, Wh: { shape: [4, 4] }, b: { shape: [4] }, Wy: { shape: [1, 4] } },
      inputs: { x: [5, 2] },
      targets: { t: [1] },
      equations: [{ recurrence: { over: { x_t: "x" }, carry: { h: "zeros(4)" }, equations: ["h = tanh(Wx * x_t + Wh * h + b)"], final: { hT: "h" } } }, "y = Wy * hT"],
      output: "y",
      loss: "0.5 * sum((y - t).^2)",
    });
    expect([recurrent.code, recurrent.written], recurrent.stderr).toEqual([0, true]);
    const module = readFileSync(recurrent.stdout.match(/wrote (\S+rnn_eq\.py)/)?.[1] as string, "utf8");
    expect(module).toMatch(/# a recurrence of 5 steps carrying h: .*\n\s+v\d+ = .*# carried: h\n\s+for t in range\(5\):\n/);
  });

  it("a bidirectional recurrent layer: PyTorch's bidirectional=True, 2·units into the next layer, a one-way layer's line as before", async () => {
    const run = await exportTo(BIRNN);
    expect([run.code, run.written], run.stderr).toEqual([0, true]);
    const module = readFileSync(run.stdout.match(/wrote (\S+birnn\.py)/)?.[1] as string, "utf8");
    expect(module).toContain("LSTMLayer(2, 3, return_sequences=True, learned_initial=True, bidirectional=True),");
    expect(module).toContain('RNNLayer(6, 2, return_sequences=True, learned_initial=False, nonlinearity="tanh"),');
    expect(module).toContain("GRULayer(2, 2, return_sequences=False, learned_initial=False, bidirectional=True),");
    // the reverse direction's weights are in the l2 penalty, its initial states are drawn as bpgen draws them (zeros)
    expect(module).toContain('"0.weight_ih_l0_reverse", "0.weight_hh_l0_reverse"');
    expect(module).toContain('"0.c0_reverse": ("constant", 0.0),');
  });

  it("an unknown target", async () => {
    const dir = mkdtempSync(join(root, "target-"));
    writeFileSync(join(dir, "net.json"), JSON.stringify(MLP));
    const bad = await bpgenInProcess(["export", join(dir, "net.json"), "--to", "tensorflow"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("pytorch");
  });

  it("prints nothing of net.json's text into the Python but numbers and checked names", async () => {
    const run = await exportTo({ ...MLP, description: 'x"""\nimport os; os.system("echo hacked")\n"""' });
    expect(run.code, run.stderr).toBe(0);
    const dir = run.stdout.match(/wrote (\S+mlp\.py)/)?.[1] as string;
    expect(readFileSync(dir, "utf8")).not.toContain("hacked");
  });
});
