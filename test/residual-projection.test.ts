/**
 * Residual blocks whose projection changes the spatial shape (src/frontend/layers/residual.ts): a block that
 * downsamples gets a 1×1 convolution of the stride that maps its input onto its output; the shapes, the one error
 * when no stride does (JSON path, expected vs found), the value against the shortcut written out by hand, and
 * the gradient against central differences. TF.js checks these blocks inside random stacks too
 * (test/oracle/random-layer-stacks.ts, test/oracle-layer-stacks.test.ts).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpgenError, type ErrorDetail } from "../src/errors.ts";
import { buildLayerNet } from "../src/frontend/layers/index.ts";
import { parseSpec } from "../src/spec/load.ts";
import { isLayerSpec, type LayerNetSpec, type LayerSpec } from "../src/spec/types.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { makeRng, mismatch, randomArray } from "./helpers/ir-util.ts";

type Net = Omit<LayerNetSpec<LayerSpec>, "name">;

const text = (net: Net) => JSON.stringify({ name: "t", ...net }, null, 2);
const built = (net: Net) => {
  const { spec } = parseSpec("net.json", text(net));
  if (!isLayerSpec(spec)) throw new Error("not a layer net");
  return buildLayerNet(spec as unknown as LayerNetSpec<LayerSpec>);
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
const residual = (layers: LayerSpec[], projection = true): LayerSpec => ({ type: "residual", layers, ...(projection ? { projection } : {}) });

describe("a projection that downsamples", () => {
  it("maps the input onto the block's output with the stride of a 1×1 convolution", () => {
    const cases: [number[], LayerSpec[], string, string][] = [
      // PyTorch's stride-2 block: padding 1, 3×3, stride 2
      [[8, 8, 3], [{ type: "conv2d", filters: 5, kernel: 3, stride: 2, padding: 1 }], "4x4x5", "5x3"],
      // "same" and stride 2 on an odd size: ⌈7 / 2⌉ = 4 = ⌊6 / 2⌋ + 1
      [[7, 6, 2], [{ type: "conv2d", filters: 2, kernel: 3, stride: 2, padding: "same" }], "4x3x2", "2x2"],
      // one axis strided only; a pooling inside
      [[6, 5], [{ type: "max_pool1d", size: 2 }, { type: "conv1d", filters: 4, kernel: 1 }], "3x4", "4x5"],
      // "valid" 2×2×2 windows of stride 2 on a volume: 5 → 2, 3 → 1
      [[5, 3, 4, 1], [{ type: "conv3d", filters: 2, kernel: 2, stride: 2 }], "2x1x2x2", "2x1"],
    ];
    for (const [input, layers, shape, P] of cases) {
      const net = built({ input, layers: [residual(layers)], loss: "mse" });
      expect(net.layers?.map((l) => l.output.shape.join("x")), JSON.stringify(layers)).toEqual([shape]);
      expect(net.params.find((p) => p.name === "P1")?.shape.join("x")).toBe(P);
    }
  });

  it("is one error naming the layer, the axis and the sizes a stride gives, when no stride maps the shapes", () => {
    const [valid] = errorsOf({ input: [6, 6, 2], layers: [{ type: "activation", activation: "tanh" }, residual([{ type: "conv2d", filters: 3, kernel: 3 }])], loss: "mse" });
    expect(valid).toMatchObject({ path: "layers[1]", expected: "a block output with 6, 3, 2 or 1 cells along spatial axis 1, any channels", found: "[4, 4, 3]" });
    expect(valid.message).toContain("none reads 4 of the 6 cells of spatial axis 1");
    const [second] = errorsOf({ input: [4, 7, 1], layers: [residual([{ type: "conv2d", filters: 1, kernel: [1, 3], stride: [2, 1] }])], loss: "mse" });
    expect(second).toMatchObject({ path: "layers[0]", expected: "a block output with 7, 4, 3, 2 or 1 cells along spatial axis 2, any channels", found: "[2, 5, 1]" });
    const [rank] = errorsOf({ input: [4, 4, 2], layers: [residual([{ type: "global_avg_pool" }])], loss: "mse" });
    expect(rank).toMatchObject({ path: "layers[0]", expected: "a block output of rank 3, [4 or fewer, 4 or fewer, channels]", found: "[2]" });
    const details = errorsOf({ input: [6, 6, 2], layers: [residual([{ type: "conv2d", filters: 3, kernel: 3 }]), residual([{ type: "conv2d", filters: 3, kernel: 3 }])], loss: "mse" });
    expect(details.map((d) => d.path)).toEqual(["layers[0]"]);
  });

  it("without a projection, a block that downsamples is an error that suggests one", () => {
    const [d] = errorsOf({ input: [6, 6, 2], layers: [residual([{ type: "conv2d", filters: 2, kernel: 3, stride: 2, padding: 1 }], false)], loss: "mse" });
    expect(d).toMatchObject({ path: "layers[0]", expected: "a block whose output has the input's shape [6, 6, 2]", found: "[3, 3, 2]" });
    expect(d.message).toContain('"projection": true learns a 1×1 convolution of stride 2×2');
  });

  it("the documented block builds as documented", () => {
    const doc = readFileSync(new URL("../docs/net-json.md", import.meta.url), "utf8");
    const block = JSON.parse(/```json\n\s*(\{ "type": "residual", "projection": true[\s\S]*?)```/.exec(doc)?.[1] ?? "") as LayerSpec;
    const net = built({ input: [8, 8, 8], layers: [block], loss: "mse" });
    expect(net.output.shape).toEqual([4, 4, 16]);
    expect(net.params.find((p) => p.name === "P1")?.shape).toEqual([16, 8]);
  });
});

describe("the strided shortcut computes", () => {
  it("block(x) + P x at positions 0, s, 2s, … (the block made zero by zero weights)", () => {
    // the block is a convolution whose weights and bias are zero: the output is the shortcut alone
    const subject = new InterpretedNet(text({ input: [5, 7, 2], layers: [residual([{ type: "conv2d", filters: 3, kernel: 3, stride: [2, 3], padding: 1 }])], loss: "mse" }));
    const m = subject.module<Float64Array>("f64");
    const rng = makeRng(3);
    const P = subject.params().find((p) => p.name === "P1");
    if (!P) throw new Error("no projection");
    const params = new Float64Array(m.meta.paramCount);
    params.set(randomArray(rng, [P.size]), P.offset);
    const batch = 2;
    const x = randomArray(rng, [batch * 5 * 7 * 2]);
    const out = new Float64Array(batch * m.meta.outputSize);
    m.forward(params, x, out, batch);
    // output [3, 3, 3] (strides 2 and 3): rows 0, 2, 4 and columns 0, 3, 6 of the input, each position's channels times Pᵀ
    const want: number[] = [];
    for (let s = 0; s < batch; s++) {
      for (const i of [0, 2, 4]) {
        for (const j of [0, 3, 6]) {
          const at = s * 70 + i * 14 + j * 2;
          for (let o = 0; o < 3; o++) want.push(params[P.offset + 2 * o] * x[at] + params[P.offset + 2 * o + 1] * x[at + 1]);
        }
      }
    }
    expect(mismatch(out, want, 1e-12)).toBeUndefined();
  });

  it("a gradient that agrees with central differences of the loss", () => {
    const cases: Net[] = [
      { input: [6, 5, 2], l2: 0.05, layers: [residual([{ type: "conv2d", filters: 3, kernel: 3, stride: 2, padding: "same", activation: "tanh" }, { type: "layernorm" }]), { type: "activation", activation: "softplus" }, { type: "flatten" }, { type: "dense", units: 2 }], loss: "softmax_cross_entropy" },
      { input: [7, 3], layers: [residual([{ type: "conv1d", filters: 3, kernel: 2, stride: 3, activation: "sigmoid" }]), residual([{ type: "avg_pool1d", size: 2 }])], loss: "mse" },
    ];
    cases.forEach((net, k) => {
      const subject = new InterpretedNet(text(net));
      const m = subject.module<Float64Array>("f64");
      const rng = makeRng(50 + k);
      const batch = 2;
      const params = randomArray(rng, [m.meta.paramCount], -0.8, 0.8);
      const x = randomArray(rng, [batch * m.meta.inputSize]);
      const y = randomArray(rng, [batch * m.meta.targetSize], 0, 1);
      const grads = new Float64Array(m.meta.paramCount);
      m.gradient(params, x, y, grads, batch);
      // every element of every projection, and the first, last and a random element of each other parameter
      const picks = subject.params().flatMap((p) => (p.name.startsWith("P") ? Array.from({ length: p.size }, (_, i) => p.offset + i) : [p.offset, p.offset + p.size - 1, p.offset + Math.floor(rng() * p.size)]));
      const numeric = picks.map((i) => {
        const h = 1e-6 * Math.max(1, Math.abs(params[i]));
        const saved = params[i];
        params[i] = saved + h;
        const up = m.loss(params, x, y, batch);
        params[i] = saved - h;
        const down = m.loss(params, x, y, batch);
        params[i] = saved;
        return (up - down) / (2 * h);
      });
      expect(mismatch(picks.map((i) => grads[i]), numeric, 1e-5), JSON.stringify(net.layers)).toBeUndefined();
    });
  });
});
