/**
 * The benchmark's hand-written baseline (bench/peers/handwritten.ts) is a correct implementation of every
 * reference network: its f64 build matches bpgen's f64 module (loss, full gradient, forward, SGD step) and
 * central finite differences of its own loss; its f32 build (the one the benchmark times) matches the f64
 * gradient to float32 accuracy. Batches of 5 and 2 exercise both the register tiles and their edges.
 */
import { describe, expect, it } from "vitest";
import { loadModule, type NetModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import { makeBatch, referenceNets, seeded, type RefNet } from "../bench/nets.ts";
import { createHandwritten, f32, f64, type HandNet } from "../bench/peers/handwritten.ts";

const NETS = referenceNets();

interface Setup {
  bp: NetModule<Float64Array>;
  hand64: HandNet<Float64Array>;
  hand32: HandNet<Float32Array>;
  p: Float64Array;
}

const setups = new Map<string, Promise<Setup>>();
function setup(net: RefNet): Promise<Setup> {
  let s = setups.get(net.id);
  if (!s) {
    s = (async () => {
      const bp = loadModule<Float64Array>((await compile(net.spec, { precision: "f64", format: false })).source);
      const p = bp.initParams(1);
      // move off constant initialisations (softmax_10_20_2), so every unit differs
      const rand = seeded(5);
      for (let i = 0; i < p.length; i++) p[i] += 0.05 * (rand() - 0.5);
      return { bp, hand64: createHandwritten(net.spec, 8, f64), hand32: createHandwritten(net.spec, 8, f32), p };
    })();
    setups.set(net.id, s);
  }
  return s;
}

function data(net: RefNet, batch: number): { x: Float64Array; y: Float64Array } {
  const b = makeBatch(net.spec, batch, 17 + batch);
  return { x: Float64Array.from(b.x), y: Float64Array.from(b.y) };
}

const maxAbs = (v: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
};

/** max_i |a_i − b_i| / max(max_i |b_i|, floor). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), floor);
}

/** Indices to check by finite differences: all of a small vector, a seeded sample (with both ends) of a large one. */
function sampleIndices(n: number, count: number, seed: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const rand = seeded(seed);
  const set = new Set<number>([0, n - 1]);
  while (set.size < count) set.add(Math.floor(rand() * n));
  return [...set].sort((a, b) => a - b);
}

describe.each(NETS.map((n) => [n.id, n] as const))("hand-written baseline: %s", (_id, net) => {
  it.each([5, 2])("f64: loss, gradient, forward and step equal bpgen's f64 module (batch %i)", async (batch) => {
    const { bp, hand64, p } = await setup(net);
    const { x, y } = data(net, batch);
    expect(hand64.paramCount).toBe(bp.meta.paramCount);
    const gBp = new Float64Array(bp.meta.paramCount);
    const gHand = new Float64Array(bp.meta.paramCount);
    const JBp = bp.gradient(p, x, y, gBp, batch);
    const JHand = hand64.gradient(p, x, y, gHand, batch);
    expect(Math.abs(JHand - JBp) / Math.abs(JBp)).toBeLessThan(1e-12);
    expect(Math.abs(hand64.loss(p, x, y, batch) - JBp) / Math.abs(JBp)).toBeLessThan(1e-12);
    expect(maxAbs(gBp)).toBeGreaterThan(0);
    expect(relDiff(gHand, gBp)).toBeLessThan(1e-10);

    const outBp = new Float64Array(batch * bp.meta.outputSize);
    const outHand = new Float64Array(batch * bp.meta.outputSize);
    bp.forward(p, x, outBp, batch);
    hand64.forward(p, x, outHand, batch);
    expect(relDiff(outHand, outBp)).toBeLessThan(1e-12);

    const pBp = Float64Array.from(p);
    const pHand = Float64Array.from(p);
    const lr = 0.1;
    expect(hand64.step(pHand, x, y, lr, batch)).toBeCloseTo(bp.sgdStep(pBp, x, y, lr, batch), 12);
    const moved = pBp.map((v, i) => v - p[i]);
    expect(relDiff(pHand.map((v, i) => v - p[i]), moved)).toBeLessThan(1e-9);
  });

  it("f64: gradient matches central finite differences of its own loss (batch 5)", async () => {
    const { hand64, p } = await setup(net);
    const batch = 5;
    const { x, y } = data(net, batch);
    const g = new Float64Array(hand64.paramCount);
    hand64.gradient(p, x, y, g, batch);
    const h = 1e-6;
    const q = Float64Array.from(p);
    const scale = Math.max(maxAbs(g), 1e-8);
    for (const i of sampleIndices(p.length, 60, 3)) {
      q[i] = p[i] + h;
      const up = hand64.loss(q, x, y, batch);
      q[i] = p[i] - h;
      const down = hand64.loss(q, x, y, batch);
      q[i] = p[i];
      const fd = (up - down) / (2 * h);
      expect(Math.abs(fd - g[i]), `∂J/∂p[${i}]: finite difference ${fd}, gradient ${g[i]}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(g[i]) + 1e-6 * scale);
    }
    // and one random direction through every parameter: (J(p + εt) − J(p − εt)) / 2ε = ⟨∇J, t⟩
    const rand = seeded(9);
    const t = Float64Array.from({ length: p.length }, () => rand() - 0.5);
    const eps = 1e-6;
    const plus = p.map((v, i) => v + eps * t[i]);
    const minus = p.map((v, i) => v - eps * t[i]);
    const fd = (hand64.loss(plus, x, y, batch) - hand64.loss(minus, x, y, batch)) / (2 * eps);
    const exact = g.reduce((acc, gi, i) => acc + gi * t[i], 0);
    expect(Math.abs(fd - exact)).toBeLessThan(1e-6 * Math.max(1, Math.abs(exact)));
  });

  it("f32 (the timed build): loss and gradient agree with the f64 gradient to float32 accuracy", async () => {
    const { bp, hand32, p } = await setup(net);
    const batch = 5;
    const { x, y } = data(net, batch);
    const g64 = new Float64Array(bp.meta.paramCount);
    const J64 = bp.gradient(p, x, y, g64, batch);
    const p32 = Float32Array.from(p);
    const g32 = new Float32Array(hand32.paramCount);
    const J32 = hand32.gradient(p32, Float32Array.from(x), Float32Array.from(y), g32, batch);
    expect(Math.abs(J32 - J64) / Math.abs(J64)).toBeLessThan(1e-5);
    expect(relDiff(g32, g64)).toBeLessThan(1e-4);
    // the step applies exactly lr · gradient
    const before = Float32Array.from(p32);
    hand32.step(p32, Float32Array.from(x), Float32Array.from(y), 0.5, batch);
    for (let i = 0; i < p32.length; i += Math.max(1, Math.floor(p32.length / 500))) {
      expect(p32[i]).toBeCloseTo(Math.fround(before[i] - Math.fround(0.5 * g32[i])), 5);
    }
  });
});

describe("hand-written baseline: the timed batch sizes", () => {
  it.each(NETS.filter((n) => n.batch > 5).map((n) => [n.id, n] as const))("%s at its benchmark batch matches bpgen f64", async (_id, net) => {
    const { bp, p } = await setup(net);
    const hand = createHandwritten(net.spec, net.batch, f64);
    const { x, y } = data(net, net.batch);
    const gBp = new Float64Array(bp.meta.paramCount);
    const gHand = new Float64Array(bp.meta.paramCount);
    const JBp = bp.gradient(p, x, y, gBp, net.batch);
    expect(Math.abs(hand.gradient(p, x, y, gHand, net.batch) - JBp) / Math.abs(JBp)).toBeLessThan(1e-12);
    expect(relDiff(gHand, gBp)).toBeLessThan(1e-10);
  });
});
