/**
 * Numerical extremes: logits of ±1e4 (and ±1e30), inputs of 0 and ±1e30, saturated sigmoids and tanh,
 * logs of probabilities that underflow. Wherever the mathematics is finite, bpgen's loss, gradient and
 * output must be finite and equal to a hand derivation, and agree with the TF.js oracle whenever the
 * oracle itself stays finite (it has no stable rewrite of log(σ(z)), so it overflows where bpgen must not).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type FloatArray, loadModule } from "../src/check/module.ts";
import { compile, type Precision } from "../src/pipeline.ts";
import { withKernels } from "./helpers/kernels.ts";
import { isLayerSpec, type EquationNetSpec, type LayerNetSpec, type NetSpec } from "../src/spec/types.ts";
import { tfEquationNet } from "./oracle/tf-equations.ts";
import { tfLayerNet } from "./oracle/tf-layers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

interface Result {
  J: number;
  L: number;
  g: number[];
  out: number[];
}

async function evaluate(spec: NetSpec, precision: Precision, p: number[], x: number[], y: number[], batch: number): Promise<Result> {
  const m = loadModule((await compile(structuredClone(spec), withKernels({ precision }))).source);
  const array = (v: number[]): FloatArray => (precision === "f64" ? Float64Array.from(v) : Float32Array.from(v));
  const g = array(new Array<number>(m.meta.paramCount).fill(Number.NaN));
  const out = array(new Array<number>(batch * m.meta.outputSize).fill(Number.NaN));
  const J = m.gradient(array(p), array(x), array(y), g, batch);
  const L = m.loss(array(p), array(x), array(y), batch);
  m.forward(array(p), array(x), out, batch);
  return { J, L, g: [...g], out: [...out] };
}

function oracle(spec: NetSpec, p: number[], x: number[], y: number[], batch: number): Result {
  const args = [Float64Array.from(p), Float64Array.from(x), Float64Array.from(y), batch] as const;
  const r = isLayerSpec(spec) ? tfLayerNet(spec, ...args) : tfEquationNet(spec, ...args);
  return { J: r.loss, L: r.loss, g: [...r.grad], out: [...r.output] };
}

const finite = (values: readonly number[]) => values.every((v) => Number.isFinite(v));

/** |got − want| ≤ tol · max(1, |want|), element by element. */
function expectClose(what: string, got: readonly number[], want: readonly number[], tol: number): void {
  expect(got.length, what).toBe(want.length);
  const bad = got.map((v, i) => [i, v, want[i]] as const).filter(([, v, w]) => !(Math.abs(v - w) <= tol * Math.max(1, Math.abs(w))));
  expect(bad, `${what}: [index, got, want]`).toEqual([]);
}

interface Case {
  label: string;
  spec: NetSpec;
  precisions: readonly Precision[];
  p: number[];
  x: number[];
  y: number[];
  batch: number;
  /** The hand derivation (when there is a closed form). */
  want?: Partial<Result>;
  /** Whether the TF.js oracle is expected to be finite here (and so must agree). */
  oracleFinite: boolean;
}

const BOTH = ["f64", "f32"] as const;

const softmaxLayer: LayerNetSpec = { name: "sce", input: 1, layers: [{ type: "dense", units: 3, bias: false }], loss: "softmax_cross_entropy" };
const softmaxEquations: EquationNetSpec = {
  name: "sce_eq",
  params: { W: { shape: [3, 1] } },
  inputs: { x: [1] },
  targets: { t: [3] },
  equations: ["o = W * x", "p = softmax(o)"],
  output: "p",
  loss: "-sum(t .* log(p))",
};

/** Softmax cross-entropy with logits ±s: per sample 2s, 0 and log 3; gradient (p − y)xᵀ averaged. */
function softmaxCase(spec: NetSpec, s: number, precisions: readonly Precision[], oracleFinite: boolean): Case {
  return {
    label: `${spec.name}: softmax cross-entropy at logits ±${s}`,
    spec,
    precisions,
    p: [s, -s, 0],
    x: [1, -1, 0],
    y: [0, 1, 0, 0, 1, 0, 1, 0, 0],
    batch: 3,
    want: { J: (2 * s + Math.log(3)) / 3, g: [1 / 3, -1 / 3, 0], out: [1, 0, 0, 0, 1, 0, 1 / 3, 1 / 3, 1 / 3] },
    oracleFinite,
  };
}

const bceLayer: LayerNetSpec = { name: "bce", input: 1, layers: [{ type: "dense", units: 2, activation: "sigmoid", bias: false }], loss: "binary_cross_entropy" };
const logSigmoid: EquationNetSpec = {
  name: "log_sigmoid",
  params: { w: { shape: [] } },
  inputs: { x: [] },
  targets: { t: [] },
  equations: ["z = w * x"],
  output: "z",
  loss: "-(t * log(sigmoid(z)) + (1 - t) * log(1 - sigmoid(z)))",
};
const saturating: LayerNetSpec = {
  name: "saturated",
  input: 2,
  layers: [
    { type: "dense", units: 3, activation: "tanh" },
    { type: "dense", units: 2, activation: "sigmoid" },
    { type: "dense", units: 2, activation: "softsign" },
  ],
  loss: "mse",
};
/** W1 [3,2] b1 [3] W2 [2,3] b2 [2] W3 [2,2] b3 [2], with the first two layers' weights scaled by `s`. */
const saturatingParams = (s: number) => [
  ...[1, -2, 0.5, 1.5, -1, 0.25].map((v) => v * s),
  0.1, -0.2, 0.3,
  ...[2, -1, 1, -3, 0.5, 1].map((v) => v * s),
  0.05, -0.05,
  0.7, -0.4, 0.2, 0.9,
  0.1, 0.2,
];
const ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softsign", "gelu", "swish"];
const allActivations = (loss: LayerNetSpec["loss"]): LayerNetSpec => ({
  name: "every_activation",
  input: 2,
  layers: [...ACTIVATIONS.map((activation) => ({ type: "dense" as const, units: 2, activation })), { type: "dense", units: 2 }],
  loss,
});
const activationParams = (scale: number) => Array.from({ length: 11 * 6 }, (_, i) => scale * Math.sin(1 + i));

const CASES: Case[] = [
  softmaxCase(softmaxLayer, 1e4, BOTH, true),
  softmaxCase(softmaxLayer, 1e30, BOTH, true),
  // TF.js takes the log of a softmax that underflows; bpgen rewrites log(softmax(o)) to o − lse(o)
  softmaxCase(softmaxEquations, 50, BOTH, false),
  softmaxCase(softmaxEquations, 1e4, BOTH, false),
  {
    label: "sigmoid with binary cross-entropy at logits ±1e4: from the logits, σ(z) − y",
    spec: bceLayer,
    precisions: BOTH,
    p: [1e4, -1e4],
    x: [1, -1],
    y: [1, 1, 0, 0],
    batch: 2,
    want: { J: 1e4, g: [0, -1], out: [1, 0, 0, 1] },
    oracleFinite: true,
  },
  {
    label: "log(σ(z)) and log(1 − σ(z)) written out, at z = ±1e4 and ±1e30",
    spec: logSigmoid,
    precisions: BOTH,
    p: [1e4],
    x: [1, -1, 1, 1e26, -1e26],
    y: [0, 0, 1, 0, 1],
    batch: 5,
    // per sample softplus(z) − t z: 1e4, 0, 0, 1e30, 1e30; dJ/dw = mean((σ(z) − t) x)
    want: { J: (1e4 + 2e30) / 5, g: [(1 + 1e26 + 1e26) / 5], out: [1e4, -1e4, 1e4, 1e30, -1e30] },
    oracleFinite: false,
  },
  {
    label: "saturated tanh and sigmoid layers (pre-activations of ±1e4)",
    spec: saturating,
    precisions: BOTH,
    p: saturatingParams(1e4),
    x: [0.3, -0.7, -1.1, 0.4],
    y: [0.5, -0.5, 0.2, 0.1],
    batch: 2,
    oracleFinite: true,
  },
  {
    label: "saturated layers at inputs of ±1e30",
    spec: saturating,
    precisions: BOTH,
    p: saturatingParams(1),
    x: [1e30, -1e30, -1e30, 1e30],
    y: [0.5, -0.5, 0.2, 0.1],
    batch: 2,
    oracleFinite: true,
  },
  {
    label: "every activation at inputs of 0",
    spec: allActivations("mse"),
    precisions: BOTH,
    p: activationParams(0.8),
    x: [0, 0, 0, 0],
    y: [0.5, -0.5, 1, 2],
    batch: 2,
    oracleFinite: true,
  },
  {
    label: "every activation at pre-activations of exactly 0 (zero weights)",
    spec: allActivations("softmax_cross_entropy"),
    precisions: BOTH,
    p: activationParams(0),
    x: [0.5, -2, 3, 1],
    y: [1, 0, 0, 1],
    batch: 2,
    want: { J: Math.log(2) },
    oracleFinite: true,
  },
];

describe("numerical extremes", () => {
  for (const c of CASES) {
    for (const precision of c.precisions) {
      it(`${c.label} (${precision})`, async () => {
        const got = await evaluate(c.spec, precision, c.p, c.x, c.y, c.batch);
        expect(finite([got.J, got.L]), `J ${got.J}, L ${got.L}`).toBe(true);
        expect(finite(got.g), `g ${got.g}`).toBe(true);
        expect(finite(got.out), `out ${got.out}`).toBe(true);
        const tol = precision === "f64" ? 1e-9 : 1e-6;
        expectClose("loss() vs gradient()", [got.L], [got.J], tol);
        if (c.want?.J !== undefined) expectClose("J", [got.J], [c.want.J], tol);
        if (c.want?.g !== undefined) expectClose("gradient", got.g, c.want.g, tol);
        if (c.want?.out !== undefined) expectClose("output", got.out, c.want.out, tol);
        const o = oracle(c.spec, c.p, c.x, c.y, c.batch);
        const oracleOk = finite([o.J, ...o.g, ...o.out]);
        expect(oracleOk, "the oracle is finite here").toBe(c.oracleFinite);
        if (!oracleOk) return;
        expectClose("J vs TF.js", [got.J], [o.J], 1e-5);
        const scale = Math.max(1e-2, ...o.g.map(Math.abs));
        expectClose("gradient vs TF.js", got.g.map((v) => v / scale), o.g.map((v) => v / scale), 1e-3);
        expectClose("output vs TF.js", got.out, o.out, 1e-5);
      });
    }
  }
});

describe("derivatives at exactly 0 and far out", () => {
  /** dJ/dw of `loss = f(w * x)` at (w, x): f′(w·x)·x. */
  async function derivative(f: string, precision: Precision, w: number, x: number): Promise<number> {
    const spec: EquationNetSpec = { name: "d", params: { w: { shape: [] } }, inputs: { x: [] }, targets: {}, equations: [`y = ${f}(w * x)`], output: "y", loss: "y" };
    return (await evaluate(spec, precision, [w], [x], [], 1)).g[0];
  }

  // f′(0), then f′(x)·x at x = 1e4, −1e4, 1e30, −1e30 (all finite: saturation gives 0, not 0·∞)
  const CASES: [string, number, number[]][] = [
    ["sigmoid", 0.25, [0, 0, 0, 0]],
    ["tanh", 1, [0, 0, 0, 0]],
    ["elu", 1, [1e4, 0, 1e30, 0]],
    ["softplus", 0.5, [1e4, 0, 1e30, 0]],
    ["softsign", 1, [1e4 / (1 + 1e4) ** 2, -1e4 / (1 + 1e4) ** 2, 1e30 / (1 + 1e30) ** 2, -1e30 / (1 + 1e30) ** 2]],
    ["gelu", 0.5, [1e4, 0, 1e30, 0]],
    ["swish", 0.5, [1e4, 0, 1e30, 0]],
  ];
  for (const [f, atZero, far] of CASES) {
    for (const precision of BOTH) {
      it(`${f} (${precision})`, async () => {
        expectClose(`${f}′(0)`, [await derivative(f, precision, 0, 1)], [atZero], 1e-12);
        const xs = [1e4, -1e4, 1e30, -1e30];
        const got: number[] = [];
        for (const x of xs) got.push(await derivative(f, precision, 1, x));
        const want = precision === "f32" ? far.map((v, i) => (v === 0 ? 0 : v * (Math.fround(xs[i]) / xs[i]))) : far;
        expectClose(`${f}′(x)·x at ±1e4, ±1e30`, got, want, 1e-6);
      });
    }
  }
});
