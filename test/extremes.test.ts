/**
 * Numerical extremes (the cases of test/helpers/extreme-cases.ts): logits of ±1e4 (and ±1e30), inputs of 0 and
 * ±1e30, saturated sigmoids and tanh, logs of probabilities that underflow, run by the kernel-IR interpreter.
 * Wherever the mathematics is finite, bpgen's loss, gradient and output must be finite and equal to a hand
 * derivation, and agree with the TF.js oracle whenever the oracle itself stays finite (it has no stable rewrite
 * of log(σ(z)), so it overflows where bpgen must not). test/renderers.test.ts holds both kernel back ends'
 * modules (the WebAssembly math library included) to the interpreter at the same points.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { FloatArray } from "../src/check/module.ts";
import type { Precision } from "../src/pipeline.ts";
import { isLayerSpec, type NetSpec } from "../src/spec/types.ts";
import { BOTH, CASES, DERIVATIVES, FAR, type Result, derivativeNet } from "./helpers/extreme-cases.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";
import { tfEquationNet } from "./oracle/tf-equations.ts";
import { tfLayerNet } from "./oracle/tf-layers.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** Each network lowered once, for both precisions and every point. */
const lowered = new Map<NetSpec, InterpretedNet>();
const netOf = (spec: NetSpec) => lowered.get(spec) ?? lowered.set(spec, new InterpretedNet(spec)).get(spec)!;

function evaluate(spec: NetSpec, precision: Precision, p: number[], x: number[], y: number[], batch: number): Result {
  const m = netOf(spec).module(precision);
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

describe("numerical extremes", () => {
  for (const c of CASES) {
    for (const precision of c.precisions) {
      it(`${c.label} (${precision})`, () => {
        const got = evaluate(c.spec, precision, c.p, c.x, c.y, c.batch);
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
  const nets = new Map(DERIVATIVES.map(([f]) => [f, derivativeNet(f)]));
  /** dJ/dw of `loss = f(w * x)` at (w, x): f′(w·x)·x. */
  const derivative = (f: string, precision: Precision, w: number, x: number): number => evaluate(nets.get(f)!, precision, [w], [x], [], 1).g[0];

  for (const [f, atZero, far] of DERIVATIVES) {
    for (const precision of BOTH) {
      it(`${f} (${precision})`, () => {
        expectClose(`${f}′(0)`, [derivative(f, precision, 0, 1)], [atZero], 1e-12);
        const got = FAR.map((x) => derivative(f, precision, 1, x));
        const want = precision === "f32" ? far.map((v, i) => (v === 0 ? 0 : v * (Math.fround(FAR[i]) / FAR[i]))) : far;
        expectClose(`${f}′(x)·x at ±1e4, ±1e30`, got, want, 1e-6);
      });
    }
  }
});
