/**
 * The cases of test/extremes.test.ts: logits of ±1e4 (and ±1e30), inputs of 0 and ±1e30, saturated sigmoids and
 * tanh, logs of probabilities that underflow, with hand derivations where there is a closed form; and the
 * derivatives of activations at 0 and far out. test/renderers.test.ts runs the same networks at the same points
 * in the modules of both kernel back ends.
 */
import type { Precision } from "../../src/pipeline.ts";
import type { EquationNetSpec, LayerNetSpec, NetSpec } from "../../src/spec/types.ts";

/** What one evaluation gives: J from gradient, L from loss, g and forward's output. */
export interface Result {
  J: number;
  L: number;
  g: number[];
  out: number[];
}

export interface Case {
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

export const BOTH = ["f64", "f32"] as const;

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

export const CASES: Case[] = [
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

/** dJ/dw of `loss = f(w * x)` at (w, x) is f′(w·x)·x. */
export function derivativeNet(f: string): EquationNetSpec {
  return { name: "d", params: { w: { shape: [] } }, inputs: { x: [] }, targets: {}, equations: [`y = ${f}(w * x)`], output: "y", loss: "y" };
}

/** Where the derivatives are taken far out: f′(x)·x at w = 1 and these x. */
export const FAR = [1e4, -1e4, 1e30, -1e30];

/** f, f′(0), then f′(x)·x at each x of FAR (all finite: saturation gives 0, not 0·∞). */
export const DERIVATIVES: readonly [string, number, number[]][] = [
  ["sigmoid", 0.25, [0, 0, 0, 0]],
  ["tanh", 1, [0, 0, 0, 0]],
  ["elu", 1, [1e4, 0, 1e30, 0]],
  ["softplus", 0.5, [1e4, 0, 1e30, 0]],
  ["softsign", 1, [1e4 / (1 + 1e4) ** 2, -1e4 / (1 + 1e4) ** 2, 1e30 / (1 + 1e30) ** 2, -1e30 / (1 + 1e30) ** 2]],
  ["gelu", 0.5, [1e4, 0, 1e30, 0]],
  ["swish", 0.5, [1e4, 0, 1e30, 0]],
];
