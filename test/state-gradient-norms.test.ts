/**
 * stateGradientNorms, the exported function of a network with recurrent layers: for each sample, ‖∂L/∂h_t‖ of
 * every recurrent layer's state after each step t. Held to backpropagation through time written out by hand
 * here (plain float64, no autodiff) for a stack of two Elman layers, in both precisions and with both kernel
 * settings (a module with WebAssembly kernels runs its TypeScript kernel); and absent from a module without
 * recurrent layers.
 */
import { describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import type { NetModule, StatefulNetModule } from "../src/module-api.ts";
import { compile } from "../src/pipeline.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { makeRng, mismatch } from "./helpers/ir-util.ts";

const STEPS = 5;
const FEATURES = 2;
const [H1, H2] = [3, 2];

/** rnn (tanh, every step's state) → rnn (tanh, last state) → dense 1, mse: two recurrences of 5 steps. */
const STACK = {
  name: "rnn_stack_norms",
  input: [STEPS, FEATURES],
  layers: [
    { type: "rnn", units: H1, return_sequences: true },
    { type: "rnn", units: H2 },
    { type: "dense", units: 1 },
  ],
  loss: "mse",
} as unknown as NetSpec;

/** One Elman layer's parameters, PyTorch's layout: W_ih [H, F], W_hh [H, H], b_ih [H], b_hh [H]. */
interface ElmanParams {
  Wih: Float64Array;
  Whh: Float64Array;
  bih: Float64Array;
  bhh: Float64Array;
}

function paramsOf(m: NetModule, p: ArrayLike<number>, label: number): ElmanParams {
  const get = (name: string) => {
    const at = m.meta.params.find((q) => q.name === `${name}${label}`);
    if (!at) throw new Error(`no parameter ${name}${label}`);
    return Float64Array.from({ length: at.size }, (_, i) => p[at.offset + i]);
  };
  return { Wih: get("W_ih"), Whh: get("W_hh"), bih: get("b_ih"), bhh: get("b_hh") };
}

/** h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) from h_{−1} = 0; every step's state. */
function elmanForward(q: ElmanParams, xs: Float64Array[], units: number): Float64Array[] {
  const features = xs[0].length;
  let h = new Float64Array(units);
  return xs.map((x) => {
    h = Float64Array.from({ length: units }, (_, i) => {
      let z = q.bih[i] + q.bhh[i];
      for (let k = 0; k < features; k++) z += q.Wih[i * features + k] * x[k];
      for (let k = 0; k < units; k++) z += q.Whh[i * units + k] * h[k];
      return Math.tanh(z);
    });
    return h;
  });
}

/**
 * Backpropagation through time: given ∂L/∂h_t from above (the output's part at each step), the whole ∂L/∂h_t
 * (that part plus W_hhᵀ of the next step's pre-activation delta), and ∂L/∂x_t for the layer below.
 */
function elmanBackward(q: ElmanParams, hs: Float64Array[], fromAbove: Float64Array[], features: number): { dh: Float64Array[]; dx: Float64Array[] } {
  const units = hs[0].length;
  const dh: Float64Array[] = [];
  const dx: Float64Array[] = [];
  let carried = new Float64Array(units);
  for (let t = hs.length - 1; t >= 0; t--) {
    const total = fromAbove[t].map((v, i) => v + carried[i]);
    dh[t] = total;
    const dz = total.map((d, i) => d * (1 - hs[t][i] * hs[t][i]));
    carried = Float64Array.from({ length: units }, (_, k) => dz.reduce((s, d, i) => s + q.Whh[i * units + k] * d, 0));
    dx[t] = Float64Array.from({ length: features }, (_, k) => dz.reduce((s, d, i) => s + q.Wih[i * features + k] * d, 0));
  }
  return { dh, dx };
}

const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** Per sample: [‖∂L/∂h1_t‖ for t < T, ‖∂L/∂h2_t‖ for t < T], L = ½ (z − y)² of that sample. */
function byHand(m: NetModule, p: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, batch: number): number[][] {
  const [q1, q2] = [paramsOf(m, p, 1), paramsOf(m, p, 2)];
  const W3 = m.meta.params.find((q) => q.name === "W3");
  const b3 = m.meta.params.find((q) => q.name === "b3");
  if (!W3 || !b3) throw new Error("no dense layer");
  return Array.from({ length: batch }, (_, s) => {
    const xs = Array.from({ length: STEPS }, (_, t) => Float64Array.from({ length: FEATURES }, (_, k) => x[s * STEPS * FEATURES + t * FEATURES + k]));
    const h1 = elmanForward(q1, xs, H1);
    const h2 = elmanForward(q2, h1, H2);
    const last = h2[STEPS - 1];
    const z = p[b3.offset] + last.reduce((acc, v, k) => acc + p[W3.offset + k] * v, 0);
    const dz = z - y[s];
    const top = Array.from({ length: STEPS }, (_, t) => (t === STEPS - 1 ? Float64Array.from({ length: H2 }, (_, k) => p[W3.offset + k] * dz) : new Float64Array(H2)));
    const second = elmanBackward(q2, h2, top, H1);
    const first = elmanBackward(q1, h1, second.dx, FEATURES);
    return [...first.dh.map(norm), ...second.dh.map(norm)];
  });
}

async function moduleOf(spec: NetSpec, precision: "f32" | "f64", kernels: "js" | "wasm"): Promise<{ m: NetModule; source: string }> {
  const { source } = await compile(spec, { precision, kernels, format: false });
  return { m: loadModule(source), source };
}

describe("stateGradientNorms: ‖∂L/∂h_t‖ over the steps", () => {
  for (const kernels of ["js", "wasm"] as const) {
    for (const precision of ["f64", "f32"] as const) {
      it(`${kernels} kernels, ${precision}: equals backpropagation through time by hand, per sample, layer and step`, async () => {
        const { m } = await moduleOf(STACK, precision, kernels);
        expect(m.meta.recurrences).toEqual([
          { name: "h1", steps: STEPS, offset: 0 },
          { name: "h2", steps: STEPS, offset: STEPS },
        ]);
        const Arr = precision === "f64" ? Float64Array : Float32Array;
        const rng = makeRng(precision === "f64" ? 11 : 12);
        const batch = 3;
        const random = (n: number) => new Arr(Array.from({ length: n }, () => 2 * rng() - 1));
        const [p, x, y] = [random(m.meta.paramCount), random(batch * m.meta.inputSize), random(batch)];
        const out = new Arr(batch * 2 * STEPS);
        expect(m.stateGradientNorms).toBeTypeOf("function");
        m.stateGradientNorms?.(p, x, y, out, batch);
        const want = byHand(m, p, x, y, batch).flat();
        const tol = precision === "f64" ? 1e-12 : 1e-5;
        expect(mismatch(out, want, tol, 1e-3)).toBeUndefined();
        // the norms must vary over the steps, or the check above could pass on a constant
        expect(new Set(want.map((v) => v.toFixed(6))).size).toBeGreaterThan(STEPS);
      });
    }
  }

  it("checks its out array against the row of Σ T numbers, not the output's size", async () => {
    const { m } = await moduleOf(STACK, "f64", "js");
    const p = m.initParams(3);
    const x = new Float64Array(2 * m.meta.inputSize);
    const y = new Float64Array(2);
    expect(() => m.stateGradientNorms?.(p, x, y, new Float64Array(2 * 2 * STEPS - 1), 2)).toThrow(/out/);
    expect(() => m.stateGradientNorms?.(p, x, y, new Float64Array(2 * 2 * STEPS), 2)).not.toThrow();
  });

  it("is declared in the module, its meta and its types; a module with WebAssembly kernels runs the TypeScript kernel for it", async () => {
    const { source } = await moduleOf(STACK, "f32", "wasm");
    expect(source).toMatch(/export interface RecurrenceLayout \{/);
    expect(source).toMatch(/recurrences: \[\{ name: "h1", steps: 5, offset: 0 \}, \{ name: "h2", steps: 5, offset: 5 \}\]/);
    expect(source).toMatch(/export function stateGradientNorms\(\s*params: Float32Array,\s*inputs: Float32Array,\s*targets: Float32Array,\s*out: Float32Array,/);
    expect(source).toMatch(/return stateGradientNormsKernel\(params, inputs, targets, out, batch\);/);
  });

  it("a network with state (dropout between an lstm and a gru): training mode, the state read and never changed, both kernel settings alike", async () => {
    const spec = {
      name: "lstm_dropout_gru",
      input: [4, 2],
      layers: [{ type: "lstm", units: 3, return_sequences: true }, { type: "dropout", rate: 0.5 }, { type: "gru", units: 2 }, { type: "dense", units: 1 }],
      loss: "mse",
    } as unknown as NetSpec;
    const x = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i));
    const y = Float64Array.of(0.3, -0.2);
    const rows: Float64Array[] = [];
    for (const kernels of ["js", "wasm"] as const) {
      const { m: loaded } = await moduleOf(spec, "f64", kernels);
      const m = loaded as unknown as StatefulNetModule<Float64Array>;
      // the lstm's first carry is h (its c is not reported), the gru is layer 3
      expect(m.meta.recurrences?.map((r) => [r.name, r.offset])).toEqual([["h1", 0], ["h3", 4]]);
      const [p, state] = [m.initParams(1), m.initState(1)];
      const before = Float64Array.from(state);
      const out = new Float64Array(2 * 8);
      m.stateGradientNorms?.(p, state, x, y, out, 2);
      expect(state).toEqual(before);
      rows.push(out);
      // training mode: another dropout step draws another mask, and another gradient
      const stepped = Float64Array.from(state);
      const step = m.meta.state.find((l) => l.name === "rng_step");
      if (!step) throw new Error("no rng_step in the state");
      stepped[step.offset] += 1;
      const other = new Float64Array(2 * 8);
      m.stateGradientNorms?.(p, stepped, x, y, other, 2);
      expect(other).not.toEqual(out);
    }
    expect(rows[1]).toEqual(rows[0]);
  });

  it("a network without recurrent layers has neither the function nor meta.recurrences", async () => {
    const spec = { name: "plain", input: [3], layers: [{ type: "dense", units: 2, activation: "tanh" }, { type: "dense", units: 1 }], loss: "mse" } as unknown as NetSpec;
    const { m, source } = await moduleOf(spec, "f32", "js");
    expect(m.stateGradientNorms).toBeUndefined();
    expect(m.meta.recurrences).toBeUndefined();
    expect(source).not.toMatch(/RecurrenceLayout|stateGradientNorms/);
  });
});
