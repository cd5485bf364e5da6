/**
 * Which loops the WebAssembly kernels run in SIMD lanes (src/render/wasm/function.ts runsInLanes), and in which
 * lanes: an f32 module's element loop whose values f32 computes exactly as f64 does and then rounds (copies,
 * maxima, comparisons, one add under ops that commute with rounding, such as a relu of a sum) runs four f32 lanes
 * at a time, with results bit-equal to the TypeScript kernels'; a loop whose values round more than once keeps
 * f64 lanes.
 */
import { describe, expect, it } from "vitest";
import { loadModule } from "./helpers/load-module.ts";
import type { Buffer, Expr, Stmt, Var } from "../src/lower/kernel.ts";
import { compile } from "../src/pipeline.ts";
import { runsInLanes } from "../src/render/wasm/function.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";
import { kernelBytes, wasmToText } from "./helpers/wat.ts";

const work = (size: number): Buffer => ({ role: "work", size, perSample: false });
const v: Var = { name: "l", extent: 8 };
const at = (c: number) => ({ c, terms: [{ v, k: 1 }] });
const load = (buf: Buffer, c: number): Expr => ({ k: "load", buf, index: at(c) });
const store = (buf: Buffer, c: number, value: Expr, mode: "=" | "+=" = "+="): Stmt => ({ k: "store", buf, index: at(c), value, mode });
const loop = (kind: "elements" | "structure", body: Stmt[]): Extract<Stmt, { k: "loop" }> => ({ k: "loop", v, kind, body });
const short: Var = { name: "l", extent: 3 };

describe("loops in SIMD lanes", () => {
  const [a, b] = [work(64), work(64)];

  it("runs an element loop of four or more elements in lanes, a shorter one not", () => {
    expect(runsInLanes(loop("elements", [store(a, 0, load(b, 0), "=")]))).toBe(true);
    const index = { c: 0, terms: [{ v: short, k: 1 }] };
    expect(runsInLanes({ k: "loop", v: short, kind: "elements", body: [{ k: "store", buf: a, index, value: { k: "load", buf: b, index }, mode: "=" }] })).toBe(false);
  });

  it("runs a scatter (a view's adjoint) in lanes when no lane can see another's write", () => {
    // stores 8 apart over 8 elements: disjoint ranges
    expect(runsInLanes(loop("structure", [store(a, 0, load(b, 0)), store(a, 8, load(b, 8))]))).toBe(true);
    // stores 2 apart: element 2 gets the second store's update (l = 0) before the first's (l = 2), which lanes would reverse
    expect(runsInLanes(loop("structure", [store(a, 0, load(b, 0)), store(a, 2, load(b, 8))]))).toBe(false);
    // a read of what the loop writes
    expect(runsInLanes(loop("structure", [store(a, 0, load(a, 9))]))).toBe(false);
  });
});

const NET: EquationNetSpec = {
  name: "lanes",
  params: { w: { shape: [64] }, u: { shape: [64] } },
  inputs: { x: [64] },
  targets: { t: [64] },
  // forward's h: one add under maxima (which commute with rounding): f32 lanes give f64's rounded result; the
  // loss's sigmoid of a difference squared rounds more than once: f64 lanes
  equations: ["h = maximum(relu(x + w), u)"],
  output: "h",
  loss: "sum((sigmoid(h) - t) .^ 2)",
};

describe("f32 lanes", () => {
  it("computes exact loops of an f32 module in f32x4, the rest in f64x2, bit-equal to the TypeScript kernels", async () => {
    const wasm = (await compile(NET, { kernels: "wasm", precision: "f32" })).source;
    const text = await wasmToText(kernelBytes(wasm));
    expect(text).toContain("f32x4.max");
    expect(text).toContain("f32x4.add");
    expect(text).toContain("f64x2.");
    const js = (await compile(NET, { kernels: "js", precision: "f32" })).source;
    const [mw, mj] = [loadModule<Float32Array>(wasm), loadModule<Float32Array>(js)];
    const batch = 5;
    const x = Float32Array.from({ length: batch * 64 }, (_, i) => Math.sin(i * 0.7) * 3);
    const t = Float32Array.from({ length: batch * 64 }, (_, i) => Math.cos(i));
    const params = mj.initParams(3);
    const [ow, oj] = [new Float32Array(batch * 64), new Float32Array(batch * 64)];
    mw.forward(params, x, ow, batch);
    mj.forward(params, x, oj, batch);
    // forward computes h alone, in f32 lanes: bit for bit the TypeScript kernels' values
    expect(Array.from(ow)).toEqual(Array.from(oj));
    // the gradient's sigmoid may differ in the last bits (WebAssembly's own exp)
    const [gw, gj] = [new Float32Array(128), new Float32Array(128)];
    expect(Math.abs(mw.gradient(params, x, t, gw, batch) - mj.gradient(params, x, t, gj, batch))).toBeLessThan(1e-5);
    expect(Math.max(...gw.map((g, i) => Math.abs(g - (gj[i] as number))))).toBeLessThan(1e-5);
  });
});

/**
 * A gated update, as in an LSTM's cell: `sigmoid(a) .* b + sigmoid(b) .* tanh(a)` rounds more than once, so it runs
 * in f64 lanes, two elements at a time; its bounded functions run in f32 (an f32 module's), four lanes at a time:
 * a loop of four or more elements computes each call once for four elements and the statement's two halves read its
 * lanes. A loop of three elements makes the two-lane calls; the same inputs must give the same bits either way.
 */
const GATES: EquationNetSpec = {
  name: "gates",
  params: { w: { shape: [1] } },
  inputs: { a: [8], b: [8], p: [3], q: [3] },
  targets: { t: [11] },
  equations: ["c = sigmoid(a) .* b + sigmoid(b) .* tanh(a)", "e = sigmoid(p) .* q + sigmoid(q) .* tanh(p)", "o = concat(c, e) .* w"],
  output: "o",
  loss: "sum((o - t) .^ 2)",
};

describe("bounded functions in an f32 module's f64 lanes", () => {
  it("calls them once for four elements, with the bits of the two-lane calls", async () => {
    const wasm = (await compile(GATES, { kernels: "wasm", precision: "f32" })).source;
    const text = await wasmToText(kernelBytes(wasm));
    // the high half of the four lanes, moved low for f64x2.promote_low
    expect(text).toContain("i8x16.shuffle");
    const m = loadModule<Float32Array>(wasm);
    const batch = 3;
    // a sample's a and b, then p and q: p and q repeat a's and b's first three values
    const x = new Float32Array(batch * 22);
    for (let s = 0; s < batch; s++) {
      const a = Array.from({ length: 8 }, (_, i) => Math.fround(Math.sin(s * 8 + i) * 4));
      const b = Array.from({ length: 8 }, (_, i) => Math.fround(Math.cos(s * 5 + i * 1.3) * 3));
      x.set([...a, ...b, ...a.slice(0, 3), ...b.slice(0, 3)], s * 22);
    }
    const params = Float32Array.of(1);
    const out = new Float32Array(batch * 11);
    m.forward(params, x, out, batch);
    for (let s = 0; s < batch; s++) {
      const row = out.subarray(s * 11, (s + 1) * 11);
      expect(Array.from(row.subarray(0, 3)), `sample ${s}`).toEqual(Array.from(row.subarray(8, 11)));
    }
    // and the values themselves, against the TypeScript kernels' (f64 functions: to the f32 functions' 2 ulp)
    const js = loadModule<Float32Array>((await compile(GATES, { kernels: "js", precision: "f32" })).source);
    const reference = new Float32Array(batch * 11);
    js.forward(params, x, reference, batch);
    expect(Math.max(...out.map((v, i) => Math.abs(v - (reference[i] as number)) / (1e-6 + Math.abs(reference[i] as number))))).toBeLessThan(1e-6);
  });
});

/** Two gates' values in one loop of 66 elements: c rounds more than once (f64 lanes), u = tanh(c) is one bounded call. */
const GATES_EXACT: EquationNetSpec = {
  name: "gates_exact",
  params: { w: { shape: [1] } },
  inputs: { a: [66], b: [66] },
  targets: { t: [132] },
  equations: ["c = sigmoid(a) .* b + sigmoid(b) .* tanh(a)", "u = tanh(c)", "o = concat(u, c) .* w"],
  output: "o",
  loss: "sum((o - t) .^ 2)",
};

describe("a statement f32 lanes compute exactly, in a loop of f64 lanes", () => {
  it("is stored from its four f32 lanes at once, with the bits of the loop's last elements, computed one at a time (and the f64 halves of the others, also at once)", async () => {
    const wasm = (await compile(GATES_EXACT, { kernels: "wasm", precision: "f32" })).source;
    const text = await wasmToText(kernelBytes(wasm));
    const forward = text.slice(text.indexOf("(func $forward"), text.indexOf("(func", text.indexOf("(func $forward") + 1));
    // u: four lanes of c loaded, their tanh stored in one store (no f64 halves, no conversions)
    expect(forward).toMatch(/v128\.load offset=\d+ align=4\n\s*call \$math\.tanh\.f32x4\n\s*v128\.store offset=/);
    // c: its two f64 halves rounded and stored as one vector, which the next statement's four-lane load can be
    // forwarded from (two 8-byte stores cannot be)
    expect(forward).toMatch(/f32x4\.demote_f64x2_zero\n\s*i8x16\.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23\n\s*v128\.store offset=/);
    const m = loadModule<Float32Array>(wasm);
    const batch = 2;
    const x = new Float32Array(batch * 132);
    for (let s = 0; s < batch; s++) {
      const a = Array.from({ length: 66 }, (_, i) => Math.fround(Math.sin(s * 66 + (i % 64)) * 4));
      const b = Array.from({ length: 66 }, (_, i) => Math.fround(Math.cos(s * 7 + (i % 64) * 1.3) * 3));
      x.set([...a, ...b], s * 132);
    }
    const out = new Float32Array(batch * 132);
    m.forward(Float32Array.of(1), x, out, batch);
    for (let s = 0; s < batch; s++) {
      const row = out.subarray(s * 132, (s + 1) * 132);
      // elements 64 and 65 repeat 0 and 1: the tail's one-at-a-time values are the four lanes' bits, for u and for c
      expect(Array.from(row.subarray(64, 66)), `sample ${s}: u`).toEqual(Array.from(row.subarray(0, 2)));
      expect(Array.from(row.subarray(130, 132)), `sample ${s}: c`).toEqual(Array.from(row.subarray(66, 68)));
    }
  });
});

describe("a dense layer's forward product in SIMD lanes", () => {
  it("sums each output's four lanes in lane order, four outputs at once, to the bits of the lane-by-lane sums", async () => {
    // 64 inputs × 12 outputs: three tiles of four weight rows, each row's 64 terms in four lanes of 16
    const spec = { name: "dense_sums", input: [64], layers: [{ type: "dense", units: 12, activation: "linear", bias: false }], loss: "mse" };
    const { source } = await compile(spec as never, { precision: "f32", kernels: "wasm", format: false });
    const m = loadModule(source) as unknown as { meta: { params: { name: string; offset: number; shape: number[] }[]; paramCount: number }; forward(p: Float32Array, x: Float32Array, out: Float32Array, batch: number): void };
    const batch = 5;
    const params = Float32Array.from({ length: m.meta.paramCount }, (_, i) => Math.sin(i * 1.37) * 3);
    const x = Float32Array.from({ length: batch * 64 }, (_, i) => Math.cos(i * 0.91) * 7);
    const out = new Float32Array(batch * 12);
    m.forward(params, x, out, batch);
    const [W] = m.meta.params;
    expect(W.shape).toEqual([12, 64]);
    const f = Math.fround;
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < 12; i++) {
        const lanes = [0, 1, 2, 3].map((l) => {
          let acc = 0;
          for (let k = l; k < 64; k += 4) acc = f(f(params[W.offset + i * 64 + k] * x[s * 64 + k]) + acc);
          return acc;
        });
        expect(out[s * 12 + i]).toBe(f(f(f(lanes[0] + lanes[1]) + lanes[2]) + lanes[3]));
      }
    }
    // the tiles' sums come out as vectors: shuffles, where a lane at a time would extract them
    const text = await wasmToText(kernelBytes(source));
    expect(text).toContain("i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23");
  });
});

describe("bounded functions in a recurrence's steps", () => {
  const net = (head: string) => ({ name: "steps_inline", input: [6, 4], layers: [{ type: "rnn", units: 8 }, { type: "dense", units: 8, activation: head }], loss: "mse" });
  const tanhCalls = async (head: string) => {
    const { source } = await compile(net(head) as never, { precision: "f32", kernels: "wasm", format: false });
    return (await wasmToText(kernelBytes(source))).split("\n").filter((line) => line.includes("call $math.tanh")).length;
  };

  it("are written inline in the steps, where V8 would keep no vector register across a call, and called elsewhere", async () => {
    // the cell's tanh runs in every step, inline: a module whose only tanh is the cell's calls none
    expect(await tanhCalls("linear")).toBe(0);
    // a tanh after the loop (the head's) is a call, which keeps the module small
    expect(await tanhCalls("tanh")).toBeGreaterThan(0);
  });
});
