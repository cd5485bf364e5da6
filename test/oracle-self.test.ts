/**
 * Validates the TF.js oracle (test/oracle/) on its own, without the compiler: hand computations, an
 * independent float64 reference of the layer form, cross-checks between the two forms, finite differences
 * of the oracle's own loss, the interpreter's shape rules, and the random generators.
 */
import * as tf from "@tensorflow/tfjs";
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import { erfFn } from "../src/ir/special.ts";
import { beforeAll, describe, expect, it } from "vitest";
import type { EquationNetSpec, LayerNetSpec, NetSpec } from "../src/spec/types.ts";
import { isLayerSpec } from "../src/spec/types.ts";
import { CUSTOM_ACTIVATIONS, EQUATION_TEMPLATES, makeRng, netSizes, randomData, randomEquationNet, randomLayerNet, randomParams, toF32Values } from "./oracle/random-nets.ts";
import { evalMath, OracleError, tfEquationNet } from "./oracle/tf-equations.ts";
import { layerLayout, tfLayerNet } from "./oracle/tf-layers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number, context = ""): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const t = tol(i);
    if (!(Math.abs(got[i] - want[i]) <= t)) bad.push(`[${i}] got ${got[i]} want ${want[i]} (tol ${t.toExponential(2)})`);
  }
  if (bad.length > 0) throw new Error(`${what}: ${bad.length} mismatch(es)\n${bad.slice(0, 8).join("\n")}\n${context}`);
}
const valueTol = (want: ArrayLike<number>, rtol: number) => (i: number) => rtol * (1 + Math.abs(want[i]));
const gradTol = (want: ArrayLike<number>, rtol: number) => {
  const scale = Math.max(maxAbs(want), 1e-2);
  return () => rtol * scale;
};

// ---- an independent float64 reference of the layer form ---------------------------------------------

const sigmoid64 = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const ACT64: Record<string, (x: number) => number> = {
  linear: (x) => x,
  sigmoid: sigmoid64,
  tanh: Math.tanh,
  relu: (x) => Math.max(x, 0),
  leaky_relu: (x) => (x > 0 ? x : 0.01 * x),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  softplus: softplus64,
  softsign: (x) => x / (1 + Math.abs(x)),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  swish: (x) => x * sigmoid64(x),
  silu: (x) => x * sigmoid64(x),
  gelu_exact: (x) => 0.5 * x * (1 + erfFn(x / Math.SQRT2)),
  selu: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x)),
  celu: (x) => (x > 0 ? x : Math.expm1(x)),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  mish: (x) => x * Math.tanh(softplus64(x)),
  hard_sigmoid: (x) => Math.min(Math.max(x + 3, 0), 6) / 6,
  hard_swish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  log_sigmoid: (x) => -softplus64(-x),
  sin: Math.sin,
  cos: Math.cos,
  atan: Math.atan,
  asinh: Math.asinh,
  erf: (x) => erfFn(x),
  // the custom expressions of random-nets.ts, written by hand
  "x / (1 + abs(x))": (x) => x / (1 + Math.abs(x)),
  "tanh(x) * 0.5 + x": (x) => Math.tanh(x) * 0.5 + x,
  "sqrt(1 + x^2) - 1": (x) => Math.sqrt(1 + x * x) - 1,
  "x * sigmoid(x) - 0.1": (x) => x * sigmoid64(x) - 0.1,
  "max(x, 0.2 * x)": (x) => Math.max(x, 0.2 * x),
  "exp(-x^2) + 0.1 * x": (x) => Math.exp(-(x * x)) + 0.1 * x,
  "log(1 + exp(x))": (x) => Math.log(1 + Math.exp(x)),
};

function refLayer(spec: LayerNetSpec, p: Float64Array, x: Float64Array, y: Float64Array, batch: number) {
  const L = layerLayout(spec);
  const output = new Float64Array(batch * L.outputSize);
  let total = 0;
  for (let s = 0; s < batch; s++) {
    let a = Array.from(x.subarray(s * L.inputSize, (s + 1) * L.inputSize));
    let z = a;
    for (const layer of L.layers) {
      const act = ACT64[layer.activation];
      if (!act) throw new Error(`no f64 reference for ${layer.activation}`);
      z = Array.from({ length: layer.units }, (_, j) => {
        let v = layer.b ? p[layer.b.offset + j] : 0;
        for (let k = 0; k < layer.fanIn; k++) v += p[layer.W.offset + j * layer.fanIn + k] * a[k];
        return v;
      });
      a = z.map(act);
    }
    const t = Array.from(y.subarray(s * L.targetSize, (s + 1) * L.targetSize));
    let loss = 0;
    let out = a;
    if (spec.loss === "mse") loss = 0.5 * a.reduce((acc, v, i) => acc + (v - t[i]) ** 2, 0);
    else if (spec.loss === "binary_cross_entropy") loss = z.reduce((acc, v, i) => acc + softplus64(v) - t[i] * v, 0);
    else {
      const m = Math.max(...a);
      const lse = m + Math.log(a.reduce((acc, v) => acc + Math.exp(v - m), 0));
      loss = -a.reduce((acc, v, i) => acc + t[i] * (v - lse), 0);
      out = a.map((v) => Math.exp(v - lse));
    }
    total += loss;
    output.set(out, s * L.outputSize);
  }
  let J = total / batch;
  if (spec.l2) for (const layer of L.layers) for (let i = 0; i < layer.W.size; i++) J += (spec.l2 / 2) * p[layer.W.offset + i] ** 2;
  return { loss: J, output };
}

function centralDifferences(f: (p: Float64Array) => number, p: Float64Array, step: (v: number) => number): Float64Array {
  const g = new Float64Array(p.length);
  const q = Float64Array.from(p);
  for (let i = 0; i < p.length; i++) {
    const h = step(p[i]);
    q[i] = p[i] + h;
    const up = f(q);
    q[i] = p[i] - h;
    const down = f(q);
    q[i] = p[i];
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// ---- hand computations -------------------------------------------------------------------------------

describe("oracle: hand computations", () => {
  it("1-layer linear MSE net (with and without l2) matches a hand computation", () => {
    const W = [
      [0.5, -1, 2],
      [0.25, 0, -0.5],
    ];
    const b = [0.1, -0.2];
    const xs = [
      [1, 2, 3],
      [-1, 0.5, 0],
    ];
    const ys = [
      [1, 0],
      [0, 1],
    ];
    const params = Float64Array.from([...W.flat(), ...b]);
    const x = Float64Array.from(xs.flat());
    const y = Float64Array.from(ys.flat());
    for (const l2 of [0, 0.1]) {
      const spec: LayerNetSpec = { name: "lin", input: 3, layers: [{ type: "dense", units: 2 }], loss: "mse", ...(l2 ? { l2 } : {}) };
      // a = W x + b; J = mean_s 0.5 |a - y|² + l2/2 |W|²; dJ/dW = mean_s (a - y) xᵀ + l2 W; dJ/db = mean_s (a - y)
      const a = xs.map((xv) => W.map((row, j) => row.reduce((acc, w, k) => acc + w * xv[k], b[j])));
      const r = a.map((av, s) => av.map((v, j) => v - ys[s][j]));
      let J = r.reduce((acc, rv) => acc + 0.5 * rv.reduce((q, v) => q + v * v, 0), 0) / 2;
      J += (l2 / 2) * W.flat().reduce((q, v) => q + v * v, 0);
      const gW = W.map((row, j) => row.map((w, k) => (r[0][j] * xs[0][k] + r[1][j] * xs[1][k]) / 2 + l2 * w));
      const gb = b.map((_, j) => (r[0][j] + r[1][j]) / 2);
      const res = tfLayerNet(spec, params, x, y, 2);
      expect(res.loss).toBeCloseTo(J, 5);
      expectClose("grad", res.grad, [...gW.flat(), ...gb], () => 1e-5);
      expectClose("output", res.output, a.flat(), () => 1e-5);
    }
  });

  it("layer without bias: parameters are only the weights", () => {
    const spec: LayerNetSpec = { name: "nb", input: 2, layers: [{ type: "dense", units: 1, activation: "tanh", bias: false }], loss: "mse" };
    const res = tfLayerNet(spec, Float64Array.of(0.3, -0.7), Float64Array.of(1, 2), Float64Array.of(0.5), 1);
    const a = Math.tanh(0.3 - 1.4);
    expect(res.loss).toBeCloseTo(0.5 * (a - 0.5) ** 2, 6);
    const d = (a - 0.5) * (1 - a * a);
    expectClose("grad", res.grad, [d * 1, d * 2], () => 1e-6);
  });

  it("chain3 (the example of docs/net-json.md) matches a hand computation", () => {
    const spec: EquationNetSpec = {
      name: "chain3",
      params: { w1: { shape: [], init: 0.2333 }, w2: { shape: [], init: -0.233 }, w3: { shape: [], init: -0.52133 } },
      inputs: { x: [] },
      targets: { t: [] },
      equations: ["y = w1 * x", "z = w2 * y", "e = w3 * z"],
      output: "e",
      loss: "0.5 * (e - t)^2",
    };
    const [w1, w2, w3] = [0.2333, -0.233, -0.52133];
    const xs = [1.5, -2];
    const ts = [0.3, 0.1];
    const res = tfEquationNet(spec, Float64Array.of(w1, w2, w3), Float64Array.from(xs), Float64Array.from(ts), 2);
    const e = xs.map((x) => w1 * w2 * w3 * x);
    const J = (0.5 * (e[0] - ts[0]) ** 2 + 0.5 * (e[1] - ts[1]) ** 2) / 2;
    const r = e.map((v, s) => (v - ts[s]) * xs[s]);
    const g = [((r[0] + r[1]) / 2) * w2 * w3, ((r[0] + r[1]) / 2) * w1 * w3, ((r[0] + r[1]) / 2) * w1 * w2];
    expect(res.loss).toBeCloseTo(J, 6);
    expectClose("grad", res.grad, g, () => 1e-6);
    expectClose("output", res.output, e, () => 1e-6);
  });
});

// ---- the interpreter ---------------------------------------------------------------------------------

describe("oracle: equation interpreter", () => {
  const A = () => tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const v3 = () => tf.tensor1d([1, -1, 2]);
  const v2 = () => tf.tensor1d([0.5, 2]);
  const val = (t: tf.Tensor) => ({ shape: t.shape, data: Array.from(t.dataSync()) });

  it("`*` follows the matrix-product rules and scales with a scalar", () => {
    tf.tidy(() => {
      expect(val(evalMath("A * v", { A: A(), v: v3() }))).toEqual({ shape: [2], data: [5, 11] });
      expect(val(evalMath("u * A", { A: A(), u: v2() }))).toEqual({ shape: [3], data: [8.5, 11, 13.5] });
      expect(val(evalMath("v * v", { v: v3() }))).toEqual({ shape: [], data: [6] });
      expect(val(evalMath("A * A'", { A: A() }))).toEqual({ shape: [2, 2], data: [14, 32, 32, 77] });
      expect(val(evalMath("transpose(A) * u", { A: A(), u: v2() }))).toEqual({ shape: [3], data: [8.5, 11, 13.5] });
      expect(val(evalMath("2 * v / 4 + 1", { v: v3() }))).toEqual({ shape: [3], data: [1.5, 0.5, 2] });
      expect(val(evalMath("v .* v ./ 2 - v .^ 2", { v: v3() }))).toEqual({ shape: [3], data: [-0.5, -0.5, -2] });
      expect(val(evalMath("dot(v, v) + sum(A) + mean(v)", { v: v3(), A: A() }))).toEqual({ shape: [], data: [6 + 21 + 2 / 3].map(Math.fround) });
      expect(val(evalMath("max(v, 0) + min(v, 1)", { v: v3() }))).toEqual({ shape: [3], data: [2, -1, 3] });
      expectClose("pi", evalMath("-v + pi", { v: v3() }).dataSync(), [Math.PI - 1, Math.PI + 1, Math.PI - 2], () => 1e-6);
    });
  });

  it("softmax, logsumexp and the builtin activations", () => {
    tf.tidy(() => {
      const s = evalMath("softmax(v)", { v: v3() }).dataSync();
      const z = Math.exp(1) + Math.exp(-1) + Math.exp(2);
      expectClose("softmax", s, [Math.exp(1) / z, Math.exp(-1) / z, Math.exp(2) / z], () => 1e-6);
      expect(evalMath("logsumexp(v)", { v: v3() }).dataSync()[0]).toBeCloseTo(Math.log(z), 5);
      const xs = [-2.5, -0.3, 0.7, 3];
      for (const name of ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softsign", "gelu", "swish"]) {
        const got = evalMath(`${name}(v)`, { v: tf.tensor1d(xs) }).dataSync();
        expectClose(name, got, xs.map(ACT64[name]), () => 1e-6);
      }
      expectClose("square", evalMath("square(v)", { v: tf.tensor1d(xs) }).dataSync(), xs.map((x) => x * x), () => 1e-5);
    });
  });

  it("user functions apply per element (`*`, `/`, `^` act elementwise in their body)", () => {
    tf.tidy(() => {
      const functions = { sq: "x * x / 2", f: "sq(x)^2 + abs(x)" };
      expect(val(evalMath("sq(v)", { v: v3() }, { functions }))).toEqual({ shape: [3], data: [0.5, 0.5, 2] });
      expect(val(evalMath("f(v)", { v: v3() }, { functions }))).toEqual({ shape: [3], data: [1.25, 1.25, 6] });
      // a user function takes precedence over a builtin of the same name
      expect(val(evalMath("softsign(v)", { v: v3() }, { functions: { softsign: "2 * x" } })).data).toEqual([2, -2, 4]);
    });
  });

  it("rejects shape errors and unknown names", () => {
    tf.tidy(() => {
      const bad: [string, Record<string, tf.Tensor>][] = [
        ["v / v", { v: v3() }],
        ["v ^ 2", { v: v3() }],
        ["v + u", { v: v3(), u: v2() }],
        ["A * u", { A: A(), u: v2() }],
        ["v'", { v: v3() }],
        ["dot(v, u)", { v: v3(), u: v2() }],
        ["nope + 1", {}],
        ["frob(v)", { v: v3() }],
      ];
      for (const [expr, bindings] of bad) expect(() => evalMath(expr, bindings), expr).toThrow(OracleError);
    });
  });
});

// ---- the layer oracle against an independent float64 reference --------------------------------------

describe("oracle: layer form vs a float64 reference", () => {
  for (let seed = 0; seed < 40; seed++) {
    it(`random layer net #${seed}`, () => {
      const rng = makeRng(5000 + seed);
      const spec = randomLayerNet(rng, `ref_${seed}`);
      const batch = rng.int(1, 5);
      const sizes = netSizes(spec);
      const p = toF32Values(randomParams(sizes.paramCount, rng));
      const { x, y } = randomData(spec, batch, rng);
      const xf = toF32Values(x);
      const yf = toF32Values(y);
      const ctx = `spec: ${JSON.stringify(spec)}\nbatch: ${batch}`;
      const ref = refLayer(spec, p, xf, yf, batch);
      const refGrad = centralDifferences((q) => refLayer(spec, q, xf, yf, batch).loss, p, (v) => 1e-6 * Math.max(1, Math.abs(v)));
      const res = tfLayerNet(spec, p, xf, yf, batch);
      // The same tolerances as test/oracle.test.ts uses against the f64 module.
      expectClose("loss", [res.loss], [ref.loss], valueTol([ref.loss], 1e-4), ctx);
      expectClose("output", res.output, ref.output, valueTol(ref.output, 1e-4), ctx);
      expectClose("gradient", res.grad, refGrad, gradTol(refGrad, 1e-4), ctx);
    });
  }
});

// ---- the two forms agree ------------------------------------------------------------------------------

describe("oracle: an MLP written as equations equals the layer form", () => {
  const cases: { loss: LayerNetSpec["loss"]; eqLoss: string; out: string[] }[] = [
    { loss: "mse", eqLoss: "0.5 * sum((o - t).^2)", out: [] },
    { loss: "softmax_cross_entropy", eqLoss: "logsumexp(o) - sum(t .* o)", out: ["p = softmax(o)"] },
    { loss: "binary_cross_entropy", eqLoss: "sum(softplus(o) - t .* o)", out: ["p = sigmoid(o)"] },
  ];
  for (const c of cases) {
    it(c.loss, () => {
      const rng = makeRng(77);
      const [n, h, m, batch] = [4, 5, 3, 3];
      const layerSpec: LayerNetSpec = {
        name: "mlp",
        input: n,
        layers: [
          { type: "dense", units: h, activation: "tanh" },
          { type: "dense", units: m, activation: c.loss === "binary_cross_entropy" ? "sigmoid" : "linear" },
        ],
        loss: c.loss,
        l2: 0.01,
      };
      const eqSpec: EquationNetSpec = {
        name: "mlp_eq",
        params: { W1: { shape: [h, n] }, b1: { shape: [h] }, W2: { shape: [m, h] }, b2: { shape: [m] } },
        inputs: { x: [n] },
        targets: { t: [m] },
        equations: ["h = tanh(W1 * x + b1)", "o = W2 * h + b2", ...c.out],
        output: c.out.length ? "p" : "o",
        loss: c.eqLoss,
        regularizer: "0.005 * (sum(W1 .* W1) + sum(W2 .* W2))",
      };
      const p = randomParams(netSizes(layerSpec).paramCount, rng);
      const { x, y } = randomData(layerSpec, batch, rng);
      const a = tfLayerNet(layerSpec, p, x, y, batch);
      const b = tfEquationNet(eqSpec, p, x, y, batch);
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expectClose("grad", b.grad, a.grad, () => 1e-5);
      expectClose("output", b.output, a.output, () => 1e-5);
    });
  }
});

// ---- finite differences of the oracle's own (float32) loss -------------------------------------------

/** Central differences of the TF.js loss (float32), relative step 1e-2, compared with a loose tolerance. */
function checkAgainstOwnDifferences(spec: NetSpec, seed: number): void {
  const rng = makeRng(seed);
  const batch = rng.int(1, 4);
  const sizes = netSizes(spec);
  const p = randomParams(sizes.paramCount, rng);
  const { x, y } = randomData(spec, batch, rng);
  const run = (q: Float64Array) => (isLayerSpec(spec) ? tfLayerNet(spec, q, x, y, batch) : tfEquationNet(spec, q, x, y, batch));
  const res = run(p);
  const fd = centralDifferences((q) => run(q).loss, p, (v) => 1e-2 * Math.max(0.1, Math.abs(v)));
  const scale = Math.max(maxAbs(res.grad), 1e-2);
  expectClose("gradient vs central differences", res.grad, fd, () => 2e-2 * scale + 1e-3 * (1 + Math.abs(res.loss)), JSON.stringify(spec));
}

describe("oracle: gradient vs central differences of its own loss", () => {
  const layerNets: LayerNetSpec[] = [
    {
      name: "smooth_mse",
      input: 3,
      layers: [
        { type: "dense", units: 4, activation: "tanh" },
        { type: "dense", units: 2, activation: "softplus" },
      ],
      loss: "mse",
    },
    {
      name: "deep_softmax",
      input: [2, 2],
      layers: [
        { type: "dense", units: 5, activation: "gelu" },
        { type: "dense", units: 4, activation: "x / (1 + abs(x))", bias: false },
        { type: "dense", units: 3, activation: "swish" },
        { type: "dense", units: 3 },
      ],
      loss: "softmax_cross_entropy",
      l2: 0.01,
    },
    {
      name: "bce",
      input: 5,
      layers: [
        { type: "dense", units: 3, activation: "elu" },
        { type: "dense", units: 2, activation: "sigmoid" },
      ],
      loss: "binary_cross_entropy",
    },
  ];
  for (const [i, spec] of layerNets.entries()) it(`layer: ${spec.name}`, () => checkAgainstOwnDifferences(spec, 100 + i));

  // One net per equation template, avoiding kinks (relu, abs, max, min) that a step of 1e-2 could straddle.
  const kinky = /relu|abs|max\(|min\(/;
  for (const template of Object.keys(EQUATION_TEMPLATES)) {
    it(`equation template: ${template}`, () => {
      for (let seed = 0; seed < 500; seed++) {
        const spec = (EQUATION_TEMPLATES as Record<string, (r: ReturnType<typeof makeRng>, n: string) => EquationNetSpec>)[template](
          makeRng(200 + seed),
          template,
        );
        if (kinky.test(JSON.stringify(spec))) continue;
        checkAgainstOwnDifferences(spec, 300 + seed);
        return;
      }
      throw new Error(`no smooth ${template} net found`);
    });
  }
});

// ---- the generators ----------------------------------------------------------------------------------

describe("oracle: random generators", () => {
  const schema = JSON.parse(readFileSync(new URL("../schema/net.schema.json", import.meta.url), "utf8"));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it("are deterministic", () => {
    expect(JSON.stringify(randomLayerNet(makeRng(3)))).toBe(JSON.stringify(randomLayerNet(makeRng(3))));
    expect(JSON.stringify(randomEquationNet(makeRng(3)))).toBe(JSON.stringify(randomEquationNet(makeRng(3))));
    expect(Array.from(randomParams(5, makeRng(9)))).toEqual(Array.from(randomParams(5, makeRng(9))));
  });

  it("give schema-valid nets whose oracle values are finite, and data suited to the loss", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 150; seed++) {
      const rng = makeRng(seed);
      const spec: NetSpec = seed % 2 ? randomLayerNet(rng, `l${seed}`) : randomEquationNet(rng, `e${seed}`);
      if (!validate(spec)) throw new Error(`schema: ${JSON.stringify(validate.errors)}\n${JSON.stringify(spec)}`);
      const batch = rng.int(1, 5);
      const sizes = netSizes(spec);
      const p = randomParams(sizes.paramCount, rng);
      const { x, y } = randomData(spec, batch, rng);
      expect(x.length).toBe(batch * sizes.inputSize);
      expect(y.length).toBe(batch * sizes.targetSize);
      const res = isLayerSpec(spec) ? tfLayerNet(spec, p, x, y, batch) : tfEquationNet(spec, p, x, y, batch);
      const finite = [res.loss, ...res.grad, ...res.output].every(Number.isFinite);
      if (!finite) throw new Error(`non-finite oracle values for ${JSON.stringify(spec)}`);
      expect(res.grad.length).toBe(sizes.paramCount);
      expect(res.output.length).toBe(batch * sizes.outputSize);
      if (isLayerSpec(spec)) {
        seen.add(spec.loss);
        spec.layers.forEach((l) => seen.add(l.activation ?? "linear"));
        if (spec.loss === "binary_cross_entropy") expect(y.every((v) => v === 0 || v === 1)).toBe(true);
        if (spec.loss === "softmax_cross_entropy") {
          for (let s = 0; s < batch; s++) {
            const row = y.subarray(s * sizes.targetSize, (s + 1) * sizes.targetSize);
            expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
          }
        }
      }
    }
    // every builtin activation, a custom one and every loss show up
    for (const a of ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softsign", "gelu", "swish", "linear"]) expect(seen).toContain(a);
    expect(CUSTOM_ACTIVATIONS.some((c) => seen.has(c))).toBe(true);
    for (const l of ["mse", "binary_cross_entropy", "softmax_cross_entropy"]) expect(seen).toContain(l);
  });
});
