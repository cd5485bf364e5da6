/**
 * Reverse-mode autodiff on the hash-consed DAG (src/autodiff/reverse.ts): hash-consing, shared deltas and
 * linear gradient size, symbolic zero cotangents, the fused-loss deltas p − y and σ(z) − y, fan-out
 * accumulation, and batch averaging.
 */
import { describe, expect, it } from "vitest";
import { reverse } from "../src/autodiff/reverse.ts";
import { Graph } from "../src/ir/graph.ts";
import { type Node, isConst } from "../src/ir/node.ts";
import { type Activation, type MlpSpec, buildMlp, mlpEnv } from "./helpers/ir-mlp.ts";
import { type Env, dependsOn, duplicateKeys, evalMany, evalUnbatched, finiteDifference, makeRng, mismatch, show, walk } from "./helpers/ir-util.ts";

const gradientsOf = (byParam: ReadonlyMap<Node, Node | null>, params: readonly Node[]): Node[] =>
  params.map((p) => {
    const d = byParam.get(p);
    if (!d) throw new Error(`test: no gradient for ${String(p.attr)}`);
    return d;
  });

/** Nodes of the form 0 · x (a multiplication with a constant-zero operand). */
const zeroProducts = (nodes: readonly Node[]) => nodes.filter((n) => n.op === "mul" && n.inputs.some((i) => isConst(i, 0)));

function mlpSpec(depth: number, loss: MlpSpec["loss"] = "softmax_ce"): MlpSpec {
  const hidden = Array.from({ length: depth - 1 }, (_, i): Activation => (i % 2 === 0 ? "sigmoid" : "tanh"));
  const last = loss === "sigmoid_bce" ? "sigmoid" : "linear";
  return { widths: [3, ...hidden.map(() => 4), 3], activations: [...hidden, last], loss };
}

// ---- (a) hash-consing --------------------------------------------------------------------------------

describe("hash-consing", () => {
  it("building the same expression twice returns the same node object", () => {
    const g = new Graph();
    const build = () => {
      const W = g.param("W", [4, 3]);
      const b = g.param("b", [4]);
      const x = g.input("x", [3]);
      return g.sum(g.tanh(g.add(g.matmul(W, x), b)));
    };
    const first = build();
    const size = g.size;
    const second = build();
    expect(second).toBe(first);
    expect(g.size, "no node was created the second time").toBe(size);
  });

  it("leaves and constants are interned by name, shape and value", () => {
    const g = new Graph();
    expect(g.param("W", [2, 3])).toBe(g.param("W", [2, 3]));
    expect(g.param("W", [2, 3])).not.toBe(g.param("W", [3, 2]));
    expect(g.param("v", [3])).not.toBe(g.input("v", [3]));
    expect(g.constant(2.5)).toBe(g.constant(2.5));
    expect(g.constant(-0)).toBe(g.constant(0));
    expect(g.softmax(g.param("z", [3]))).toBe(g.exp(g.sub(g.param("z", [3]), g.logsumexp(g.param("z", [3])))));
  });

  it("ids increase in topological order and nodes are frozen", () => {
    const net = buildMlp(mlpSpec(3));
    const { byParam } = reverse(net.g, net.objective, net.params);
    const nodes = walk([net.objective, ...gradientsOf(byParam, net.params)]);
    for (const n of nodes) {
      for (const i of n.inputs) expect(i.id).toBeLessThan(n.id);
      expect(Object.isFrozen(n)).toBe(true);
    }
  });
});

// ---- (b) shared deltas and linear size ------------------------------------------------------------------

describe("shared deltas in a 3-layer MLP", () => {
  const spec = mlpSpec(3);
  const net = buildMlp(spec);
  const { g } = net;
  const { byParam, adjoints } = reverse(g, net.objective, net.params);
  const grads = gradientsOf(byParam, net.params);
  const all = walk([net.objective, ...grads]);

  it("has exactly one cotangent per forward node on a parameter-to-objective path", () => {
    const forward = walk([net.objective]);
    const onPath = forward.filter((n) => net.params.some((p) => dependsOn(n, p)));
    expect(new Set(adjoints.keys())).toEqual(new Set(onPath));
    // nothing off the path (inputs, targets, constants, the softmax output) has a cotangent
    for (const n of forward) if (!onPath.includes(n)) expect(adjoints.has(n), show(n, g)).toBe(false);
    expect(adjoints.get(net.objective)).toBe(g.constant(1));
  });

  it("has no duplicate nodes in the gradient DAG", () => {
    expect(duplicateKeys(all)).toEqual([]);
  });

  it("reuses the delta of layer l in dW_l, db_l and the delta of layer l−1", () => {
    for (let l = 0; l < net.W.length; l++) {
      const delta = adjoints.get(net.z[l]) as Node;
      expect(delta, `delta of layer ${l + 1}`).toBeDefined();
      const dW = byParam.get(net.W[l]) as Node;
      const db = byParam.get(net.b[l]) as Node;
      expect(dependsOn(dW, delta), `dW${l + 1} uses δ${l + 1}`).toBe(true);
      expect(dependsOn(db, delta), `db${l + 1} uses δ${l + 1}`).toBe(true);
      // concretely: dW_l = mean_batch(δ_l ⊗ a_{l−1}), db_l = mean_batch(δ_l)
      expect(dW.op).toBe("batchMean");
      expect(dW.inputs[0].op).toBe("outer");
      expect(dW.inputs[0].inputs[0]).toBe(delta);
      expect(dW.inputs[0].inputs[1]).toBe(net.a[l]);
      expect(db.op).toBe("batchMean");
      expect(db.inputs[0]).toBe(delta);
      if (l > 0) {
        const below = adjoints.get(net.z[l - 1]) as Node;
        expect(dependsOn(below, delta), `δ${l} uses δ${l + 1}`).toBe(true);
        // Wᵀ δ_l appears once
        const backprops = all.filter((n) => n.op === "matmul" && n.inputs[1] === delta);
        expect(backprops.map((n) => show(n, g))).toHaveLength(1);
      }
    }
  });

  it("forward values are reused by the gradient (sigmoid/tanh derivatives read a_l)", () => {
    for (let l = 0; l < net.W.length - 1; l++) {
      const delta = adjoints.get(net.z[l]) as Node;
      expect(dependsOn(delta, net.a[l + 1]), `δ${l + 1} reads a${l + 1}`).toBe(true);
      expect(all.filter((n) => n.op === net.a[l + 1].op && n.inputs[0] === net.z[l])).toHaveLength(1);
    }
  });

  it("matches central finite differences", () => {
    const env = mlpEnv(net, spec, makeRng(11), 3);
    const values = evalMany(grads, env, 3);
    net.params.forEach((p, i) => {
      const fd = finiteDifference(net.objective, env, String(p.attr), 3);
      expect(mismatch(values[i], fd, 1e-6), String(p.attr)).toBeUndefined();
    });
  });

  it("grows linearly with depth (constant node count per layer)", () => {
    const count = (depth: number) => {
      const n = buildMlp(mlpSpec(depth));
      const r = reverse(n.g, n.objective, n.params);
      return { dag: walk([n.objective, ...gradientsOf(r.byParam, n.params)]).length, built: n.g.size };
    };
    const [c2, c4, c8] = [count(2), count(4), count(8)];
    const perLayer = (c4.dag - c2.dag) / 2;
    expect(perLayer).toBeGreaterThan(0);
    expect((c8.dag - c4.dag) / 4, `gradient DAG sizes ${c2.dag}, ${c4.dag}, ${c8.dag}`).toBe(perLayer);
    expect((c8.built - c4.built) / 4, `graph sizes ${c2.built}, ${c4.built}, ${c8.built}`).toBe((c4.built - c2.built) / 2);
  });
});

// ---- (c) symbolic zeros ------------------------------------------------------------------------------------

describe("zero cotangents are symbolic", () => {
  it("a parameter off every path to the objective gets null, and no 0 · x is built", () => {
    const spec = mlpSpec(3);
    const net = buildMlp(spec);
    const { g } = net;
    const unused = g.param("unused", [4]);
    g.sum(g.mul(unused, net.a[1])); // a side computation that does not reach the objective
    const { byParam, adjoints } = reverse(g, net.objective, [...net.params, unused]);
    expect(byParam.get(unused)).toBeNull();
    expect(adjoints.has(unused)).toBe(false);
    const all = walk([net.objective, ...gradientsOf(byParam, net.params)]);
    expect(zeroProducts(all).map((n) => show(n, g))).toEqual([]);
  });

  it("a parameter reached only through sign/gt gets null", () => {
    const g = new Graph();
    const w = g.param("w", [3]);
    const v = g.param("v", [3]);
    const f = g.sum(g.add(g.mul(g.sign(v), w), g.select(g.gt(v, g.constant(0)), w, g.constant(0))));
    const { byParam } = reverse(g, f, [w, v]);
    expect(byParam.get(v)).toBeNull();
    const dw = byParam.get(w) as Node;
    expect(zeroProducts(walk([dw])).map((n) => show(n, g))).toEqual([]);
    const env: Env = { params: new Map([["w", Float64Array.of(0.5, -1, 2)], ["v", Float64Array.of(-2, 0.5, 3)]]) };
    expect(Array.from(evalUnbatched(dw, env))).toEqual([-1, 2, 2]);
  });

  for (const [name, spec] of [
    ["relu/leaky relu/elu with MSE and L2", { widths: [3, 5, 4, 2], activations: ["relu", "leakyRelu", "elu"], loss: "mse", l2: 0.01 }],
    ["tanh/sigmoid with sigmoid BCE", { widths: [3, 4, 2], activations: ["tanh", "sigmoid"], loss: "sigmoid_bce" }],
  ] as [string, MlpSpec][]) {
    it(`no 0 · x in the gradient of ${name}, and gradients match finite differences`, () => {
      const net = buildMlp(spec);
      const { byParam } = reverse(net.g, net.objective, net.params);
      const grads = gradientsOf(byParam, net.params);
      expect(zeroProducts(walk(grads)).map((n) => show(n, net.g))).toEqual([]);
      expect(duplicateKeys(walk([net.objective, ...grads]))).toEqual([]);
      const env = mlpEnv(net, spec, makeRng(5), 3);
      const values = evalMany(grads, env, 3);
      net.params.forEach((p, i) => {
        const fd = finiteDifference(net.objective, env, String(p.attr), 3);
        expect(mismatch(values[i], fd, 1e-6), String(p.attr)).toBeUndefined();
      });
    });
  }
});

// ---- (d) fused-loss deltas -------------------------------------------------------------------------------

describe("fused losses give the textbook deltas", () => {
  it("softmax cross-entropy: δ_L = sub(softmax(z), y) with the output's softmax node", () => {
    const net = buildMlp(mlpSpec(3, "softmax_ce"));
    const { adjoints } = reverse(net.g, net.objective, net.params);
    const zL = net.z[net.z.length - 1];
    const delta = adjoints.get(zL) as Node;
    expect(show(delta, net.g)).toBe(show(net.g.sub(net.output, net.y), net.g));
    expect(delta.op).toBe("sub");
    expect(delta.inputs[0]).toBe(net.output);
    expect(delta.inputs[0]).toBe(net.g.softmax(zL));
    expect(delta.inputs[1]).toBe(net.y);
  });

  it("sigmoid + binary cross-entropy from the logits: δ_L = sub(σ(z), y) with the output's σ node", () => {
    const net = buildMlp(mlpSpec(3, "sigmoid_bce"));
    const { adjoints } = reverse(net.g, net.objective, net.params);
    const zL = net.z[net.z.length - 1];
    const delta = adjoints.get(zL) as Node;
    expect(show(delta, net.g)).toBe(show(net.g.sub(net.output, net.y), net.g));
    expect(delta.op).toBe("sub");
    expect(delta.inputs[0]).toBe(net.output);
    expect(delta.inputs[0]).toBe(net.g.sigmoid(zL));
    expect(delta.inputs[1]).toBe(net.y);
  });
});

// ---- (e) fan-out ------------------------------------------------------------------------------------------

describe("fan-out accumulation", () => {
  it("d(x·x·x)/dx = 3x², with no duplicate nodes", () => {
    const g = new Graph();
    const x = g.param("x", []);
    const f = g.mul(g.mul(x, x), x);
    const { byParam } = reverse(g, f, [x]);
    const d = byParam.get(x) as Node;
    expect(d).not.toBeNull();
    for (const v of [1.7, -0.3, 2]) {
      const env: Env = { params: new Map([["x", Float64Array.of(v)]]) };
      expect(evalUnbatched(d, env)[0]).toBeCloseTo(3 * v * v, 12);
    }
    const nodes = walk([f, d]);
    expect(duplicateKeys(nodes)).toEqual([]);
    // x² is built once and shared by the forward value and the gradient
    expect(nodes.filter((n) => n.op === "mul" && n.inputs[0] === x && n.inputs[1] === x)).toHaveLength(1);
  });

  it("a vector used by several consumers sums their contributions", () => {
    const g = new Graph();
    const v = g.param("v", [3]);
    const s = g.param("s", []);
    const f = g.add(g.sum(g.mul(v, v)), g.add(g.dot(v, g.tanh(v)), g.sum(g.mul(s, v))));
    const { byParam } = reverse(g, f, [v, s]);
    const env: Env = { params: new Map([["v", Float64Array.of(0.4, -1.2, 0.9)], ["s", Float64Array.of(0.7)]]) };
    for (const p of [v, s]) {
      const d = byParam.get(p) as Node;
      expect(d.shape).toEqual(p.shape);
      expect(mismatch(evalUnbatched(d, env), finiteDifference(f, env, String(p.attr)), 1e-6)).toBeUndefined();
    }
    expect(duplicateKeys(walk([f, ...gradientsOf(byParam, [v, s])]))).toEqual([]);
  });
});

// ---- (f) batches -------------------------------------------------------------------------------------------

describe("batch averaging", () => {
  it("the gradient of batchMean(L) over 4 samples is the mean of the per-sample gradients", () => {
    const spec = mlpSpec(3);
    const net = buildMlp(spec);
    const { byParam } = reverse(net.g, net.objective, net.params);
    const grads = gradientsOf(byParam, net.params);
    for (const d of grads) expect(d.batched).toBe(false);
    const env = mlpEnv(net, spec, makeRng(23), 4);
    const batched = evalMany([net.objective, ...grads], env, 4);
    const perSample = [0, 1, 2, 3].map((s) => {
      const one: Env = {
        params: env.params,
        samples: new Map([...(env.samples ?? new Map<string, Float64Array[]>())].map(([k, v]) => [k, [v[s]]] as const)),
      };
      return evalMany([net.objective, ...grads], one, 1);
    });
    batched.forEach((value, k) => {
      const mean = value.map((_, i) => perSample.reduce((acc, s) => acc + s[k][i], 0) / 4);
      expect(mismatch(value, mean, 1e-12), k === 0 ? "objective" : String(net.params[k - 1].attr)).toBeUndefined();
    });
    // and the samples really differ, so the check is not vacuous
    expect(perSample[0][1][0]).not.toBeCloseTo(perSample[1][1][0], 6);
  });
});
