/**
 * One probe per simplification rule in src/simplify/rules.ts, looked up by the rule's text: a rule without a
 * probe fails, so a new rule must come with a test. Each probe builds the rule's pattern and checks that
 *  - the rule's own rewrite, and the Graph (which runs all rules), both return the expected node (same object),
 *  - the replacement has the shape of the node it replaces,
 *  - its interpreted value equals the unsimplified expression computed independently in plain JS.
 * Plus the stability rewrites log σ(z) and log(1 − σ(z)) at z = ±1e4.
 */
import { describe, expect, it } from "vitest";
import { reverse } from "../src/autodiff/reverse.ts";
import { Graph } from "../src/ir/graph.ts";
import {
  type Node,
  type OpName,
  type Shape,
  shapeText,
} from "../src/ir/node.ts";
import { OPS, isElementwise } from "../src/ir/ops.ts";
import { RULES } from "../src/simplify/rules.ts";
import {
  type Env,
  evalUnbatched,
  makeRng,
  mismatch,
  randomArray,
  show,
  walk,
} from "./helpers/ir-util.ts";

// ---- fixture ------------------------------------------------------------------------------------------

interface Fx {
  g: Graph;
  /** vectors [3] */
  x: Node;
  y: Node;
  /** a select condition [3] with zero and nonzero entries */
  cond: Node;
  /** scalars */
  s: Node;
  t: Node;
  /** a matrix [2, 3] */
  M: Node;
  /** logits [4] */
  z: Node;
  k: (v: number) => Node;
}

interface Vals {
  x: number[];
  y: number[];
  cond: number[];
  s: number;
  t: number;
  M: number[];
  z: number[];
}

function fixture(seed: number): { fx: Fx; vals: Vals; env: Env } {
  const rng = makeRng(seed);
  const g = new Graph();
  const fx: Fx = {
    g,
    x: g.param("x", [3]),
    y: g.param("y", [3]),
    cond: g.param("cond", [3]),
    s: g.param("s", []),
    t: g.param("t", []),
    M: g.param("M", [2, 3]),
    z: g.param("z", [4]),
    k: (v) => g.constant(v),
  };
  const arrays: Record<string, Float64Array> = {
    x: randomArray(rng, [3], -2, 2),
    y: randomArray(rng, [3], -2, 2),
    cond: Float64Array.of(0, 1, -2),
    s: randomArray(rng, [], -2, 2),
    t: randomArray(rng, [], -2, 2),
    M: randomArray(rng, [2, 3], -2, 2),
    z: randomArray(rng, [4], -3, 3),
  };
  const vals: Vals = {
    x: Array.from(arrays.x),
    y: Array.from(arrays.y),
    cond: Array.from(arrays.cond),
    s: arrays.s[0],
    t: arrays.t[0],
    M: Array.from(arrays.M),
    z: Array.from(arrays.z),
  };
  return { fx, vals, env: { params: new Map(Object.entries(arrays)) } };
}

// ---- probes ----------------------------------------------------------------------------------------------

interface Case {
  /** the op whose construction the rule intercepts */
  op: OpName;
  /** the pattern's operands */
  inputs: (f: Fx) => Node[];
  /** the simplified node; absent when only shape and value are checked */
  want?: (f: Fx) => Node;
  /** the unsimplified expression's value, computed in plain JS */
  ref: (v: Vals) => number[];
}

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const vec = (n: number, f: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => f(i));

const PROBES: Record<string, Case[]> = {
  "f(c1, c2) -> c: fold scalar constants": [
    {
      op: "add",
      inputs: (f) => [f.k(2), f.k(3)],
      want: (f) => f.k(5),
      ref: () => [5],
    },
    {
      op: "pow",
      inputs: (f) => [f.k(2), f.k(3)],
      want: (f) => f.k(8),
      ref: () => [8],
    },
    {
      op: "select",
      inputs: (f) => [f.k(0), f.k(2), f.k(3)],
      want: (f) => f.k(3),
      ref: () => [3],
    },
    {
      op: "sigmoid",
      inputs: (f) => [f.k(0)],
      want: (f) => f.k(0.5),
      ref: () => [0.5],
    },
  ],
  "f(broadcast(s), x) -> f(s, x): a scalar operand broadcasts by itself": [
    {
      op: "mul",
      inputs: (f) => [f.g.broadcast(f.s, [3]), f.x],
      want: (f) => f.g.mul(f.s, f.x),
      ref: (v) => v.x.map((x) => v.s * x),
    },
    {
      op: "sub",
      inputs: (f) => [f.x, f.g.broadcast(f.s, [3])],
      want: (f) => f.g.sub(f.x, f.s),
      ref: (v) => v.x.map((x) => x - v.s),
    },
  ],
  "x + 0 -> x": [
    {
      op: "add",
      inputs: (f) => [f.x, f.k(0)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => x + 0),
    },
  ],
  "0 + x -> x": [
    {
      op: "add",
      inputs: (f) => [f.k(0), f.M],
      want: (f) => f.M,
      ref: (v) => v.M.map((m) => 0 + m),
    },
  ],
  "x + x -> 2 · x": [
    {
      op: "add",
      inputs: (f) => [f.x, f.x],
      want: (f) => f.g.mul(f.k(2), f.x),
      ref: (v) => v.x.map((x) => x + x),
    },
  ],
  "a + (-b) -> a - b": [
    {
      op: "add",
      inputs: (f) => [f.x, f.g.neg(f.y)],
      want: (f) => f.g.sub(f.x, f.y),
      ref: (v) => v.x.map((x, i) => x + -v.y[i]),
    },
  ],
  "(-a) + b -> b - a": [
    {
      op: "add",
      inputs: (f) => [f.g.neg(f.x), f.y],
      want: (f) => f.g.sub(f.y, f.x),
      ref: (v) => v.x.map((x, i) => -x + v.y[i]),
    },
  ],
  "x - 0 -> x": [
    {
      op: "sub",
      inputs: (f) => [f.x, f.k(0)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => x - 0),
    },
  ],
  "0 - x -> -x": [
    {
      op: "sub",
      inputs: (f) => [f.k(0), f.x],
      want: (f) => f.g.neg(f.x),
      ref: (v) => v.x.map((x) => 0 - x),
    },
  ],
  "a - (-b) -> a + b": [
    {
      op: "sub",
      inputs: (f) => [f.x, f.g.neg(f.y)],
      want: (f) => f.g.add(f.x, f.y),
      ref: (v) => v.x.map((x, i) => x - -v.y[i]),
    },
  ],
  "x * 1 -> x": [
    {
      op: "mul",
      inputs: (f) => [f.x, f.k(1)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => x * 1),
    },
  ],
  "1 * x -> x": [
    {
      op: "mul",
      inputs: (f) => [f.k(1), f.s],
      want: (f) => f.s,
      ref: (v) => [1 * v.s],
    },
  ],
  "0 * x -> 0 (scalars)": [
    {
      op: "mul",
      inputs: (f) => [f.k(0), f.s],
      want: (f) => f.k(0),
      ref: (v) => [0 * v.s],
    },
    {
      op: "mul",
      inputs: (f) => [f.t, f.k(0)],
      want: (f) => f.k(0),
      ref: (v) => [v.t * 0],
    },
  ],
  "x * c -> c * x: constants first": [
    {
      op: "mul",
      inputs: (f) => [f.x, f.k(3)],
      want: (f) => f.g.mul(f.k(3), f.x),
      ref: (v) => v.x.map((x) => x * 3),
    },
  ],
  "-1 * x -> -x": [
    {
      op: "mul",
      inputs: (f) => [f.k(-1), f.x],
      want: (f) => f.g.neg(f.x),
      ref: (v) => v.x.map((x) => -1 * x),
    },
  ],
  "c1 * (c2 * x) -> (c1 c2) * x": [
    {
      op: "mul",
      inputs: (f) => [f.k(2), f.g.mul(f.k(3), f.x)],
      want: (f) => f.g.mul(f.k(6), f.x),
      ref: (v) => v.x.map((x) => 2 * (3 * x)),
    },
  ],
  "(-a) * b -> -(a * b)": [
    {
      op: "mul",
      inputs: (f) => [f.g.neg(f.x), f.y],
      want: (f) => f.g.neg(f.g.mul(f.x, f.y)),
      ref: (v) => v.x.map((x, i) => -x * v.y[i]),
    },
  ],
  "a * (-b) -> -(a * b)": [
    {
      op: "mul",
      inputs: (f) => [f.s, f.g.neg(f.y)],
      want: (f) => f.g.neg(f.g.mul(f.s, f.y)),
      ref: (v) => v.y.map((y) => v.s * -y),
    },
  ],
  "x / 1 -> x": [
    {
      op: "div",
      inputs: (f) => [f.x, f.k(1)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => x / 1),
    },
  ],
  "x / c -> (1/c) * x": [
    {
      op: "div",
      inputs: (f) => [f.x, f.k(3)],
      want: (f) => f.g.mul(f.k(1 / 3), f.x),
      ref: (v) => v.x.map((x) => x / 3),
    },
  ],
  "-(-x) -> x": [
    {
      op: "neg",
      inputs: (f) => [f.g.neg(f.x)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => -(-x)),
    },
  ],
  "-(c * x) -> (-c) * x": [
    {
      op: "neg",
      inputs: (f) => [f.g.mul(f.k(3), f.x)],
      want: (f) => f.g.mul(f.k(-3), f.x),
      ref: (v) => v.x.map((x) => -(3 * x)),
    },
  ],
  "-broadcast(s) -> broadcast(-s)": [
    {
      op: "neg",
      inputs: (f) => [f.g.broadcast(f.s, [3])],
      want: (f) => f.g.broadcast(f.g.neg(f.s), [3]),
      ref: (v) => vec(3, () => -v.s),
    },
  ],
  "x ^ 1 -> x": [
    {
      op: "pow",
      inputs: (f) => [f.x, f.k(1)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => x ** 1),
    },
  ],
  "log(exp(x)) -> x": [
    {
      op: "log",
      inputs: (f) => [f.g.exp(f.x)],
      want: (f) => f.x,
      ref: (v) => v.x.map((x) => Math.log(Math.exp(x))),
    },
  ],
  "log(σ(z)) -> -softplus(-z): finite for any logit": [
    {
      op: "log",
      inputs: (f) => [f.g.sigmoid(f.z)],
      want: (f) => f.g.neg(f.g.softplus(f.g.neg(f.z))),
      ref: (v) => v.z.map((z) => Math.log(sig(z))),
    },
  ],
  "log(1 - σ(z)) -> -softplus(z): finite for any logit": [
    {
      op: "log",
      inputs: (f) => [f.g.sub(f.k(1), f.g.sigmoid(f.z))],
      want: (f) => f.g.neg(f.g.softplus(f.z)),
      ref: (v) => v.z.map((z) => Math.log(1 - sig(z))),
    },
  ],
  "select(c, x, x) -> x": [
    {
      op: "select",
      inputs: (f) => [f.cond, f.x, f.x],
      want: (f) => f.x,
      ref: (v) => v.cond.map((c, i) => (c !== 0 ? v.x[i] : v.x[i])),
    },
    // the replacement must keep the broadcast shape: a vector condition with equal scalar branches is a vector
    {
      op: "select",
      inputs: (f) => [f.cond, f.s, f.s],
      ref: (v) => v.cond.map((c) => (c !== 0 ? v.s : v.s)),
    },
  ],
  "(xᵀ)ᵀ -> x": [
    {
      op: "transpose",
      inputs: (f) => [f.g.transpose(f.M)],
      want: (f) => f.M,
      ref: (v) => v.M,
    },
  ],
  "Σ of a scalar -> the scalar": [
    { op: "sum", inputs: (f) => [f.s], want: (f) => f.s, ref: (v) => [v.s] },
  ],
  "Σ broadcast(s) over n elements -> n * s": [
    {
      op: "sum",
      inputs: (f) => [f.g.broadcast(f.s, [2, 3])],
      want: (f) => f.g.mul(f.k(6), f.s),
      ref: (v) => [vec(6, () => v.s).reduce((a, b) => a + b, 0)],
    },
  ],
  "1 / (1 + exp(-x)) -> σ(x)": [
    {
      op: "div",
      inputs: (f) => [f.k(1), f.g.add(f.k(1), f.g.exp(f.g.neg(f.z)))],
      want: (f) => f.g.sigmoid(f.z),
      ref: (v) => v.z.map((z) => 1 / (1 + Math.exp(-z))),
    },
    {
      op: "div",
      inputs: (f) => [f.k(1), f.g.add(f.g.exp(f.g.neg(f.s)), f.k(1))],
      want: (f) => f.g.sigmoid(f.s),
      ref: (v) => [1 / (Math.exp(-v.s) + 1)],
    },
  ],
  "exp(x) / (1 + exp(x)) -> σ(x)": [
    {
      op: "div",
      inputs: (f) => [f.g.exp(f.z), f.g.add(f.k(1), f.g.exp(f.z))],
      want: (f) => f.g.sigmoid(f.z),
      ref: (v) => v.z.map((z) => Math.exp(z) / (1 + Math.exp(z))),
    },
  ],
  "(1 + exp(-x)) ^ -1 -> σ(x)": [
    {
      op: "pow",
      inputs: (f) => [f.g.add(f.k(1), f.g.exp(f.g.neg(f.s))), f.k(-1)],
      want: (f) => f.g.sigmoid(f.s),
      ref: (v) => [(1 + Math.exp(-v.s)) ** -1],
    },
  ],
  "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) -> tanh(x)": [
    {
      op: "div",
      inputs: (f) => [
        f.g.sub(f.g.exp(f.x), f.g.exp(f.g.neg(f.x))),
        f.g.add(f.g.exp(f.x), f.g.exp(f.g.neg(f.x))),
      ],
      want: (f) => f.g.tanh(f.x),
      ref: (v) =>
        v.x.map(
          (x) => (Math.exp(x) - Math.exp(-x)) / (Math.exp(x) + Math.exp(-x)),
        ),
    },
  ],
  "e ^ x -> exp(x)": [
    {
      op: "pow",
      inputs: (f) => [f.k(Math.E), f.x],
      want: (f) => f.g.exp(f.x),
      ref: (v) => v.x.map((x) => Math.E ** x),
    },
  ],
  "log(1 + exp(x)) -> softplus(x)": [
    {
      op: "log",
      inputs: (f) => [f.g.add(f.k(1), f.g.exp(f.z))],
      want: (f) => f.g.softplus(f.z),
      ref: (v) => v.z.map((z) => Math.log(1 + Math.exp(z))),
    },
  ],
  "log1p(exp(x)) -> softplus(x)": [
    {
      op: "log1p",
      inputs: (f) => [f.g.exp(f.z)],
      want: (f) => f.g.softplus(f.z),
      ref: (v) => v.z.map((z) => Math.log1p(Math.exp(z))),
    },
  ],
  "log(Σ exp(x)) -> logsumexp(x)": [
    {
      op: "log",
      inputs: (f) => [f.g.sum(f.g.exp(f.z))],
      want: (f) => f.g.logsumexp(f.z),
      ref: (v) => [Math.log(v.z.reduce((a, z) => a + Math.exp(z), 0))],
    },
  ],
  "log(sum(exp(x), d)) -> logsumexp(x, d)": [
    {
      op: "log",
      inputs: (f) => [f.g.reduce("sum", f.g.exp(f.M), 1)],
      want: (f) => f.g.reduce("lse", f.M, 1),
      ref: (v) =>
        [0, 1].map((i) =>
          Math.log(
            v.M.slice(3 * i, 3 * i + 3).reduce((a, m) => a + Math.exp(m), 0),
          ),
        ),
    },
  ],
  "log(exp(a) / b) -> a - log(b)": [
    {
      op: "log",
      inputs: (f) => [f.g.div(f.g.exp(f.x), f.g.sum(f.g.exp(f.z)))],
      want: (f) => f.g.sub(f.x, f.g.logsumexp(f.z)),
      ref: (v) =>
        v.x.map((x) =>
          Math.log(Math.exp(x) / v.z.reduce((a, z) => a + Math.exp(z), 0)),
        ),
    },
  ],
  "exp(x) / Σ exp(x) -> softmax(x) = exp(x - logsumexp(x))": [
    {
      op: "div",
      inputs: (f) => [f.g.exp(f.z), f.g.sum(f.g.exp(f.z))],
      want: (f) => f.g.softmax(f.z),
      ref: (v) =>
        v.z.map((z) => Math.exp(z) / v.z.reduce((a, y) => a + Math.exp(y), 0)),
    },
  ],
  "exp(x) / sum(exp(x), d) -> softmax(x, d)": [
    {
      op: "div",
      inputs: (f) => [
        f.g.exp(f.M),
        f.g.expand(f.g.reduce("sum", f.g.exp(f.M), 0), [null, 0], [2, 3]),
      ],
      want: (f) => f.g.softmaxAlong(f.M, 0),
      ref: (v) =>
        v.M.map(
          (m, i) =>
            Math.exp(m) / (Math.exp(v.M[i % 3]) + Math.exp(v.M[3 + (i % 3)])),
        ),
    },
  ],
  "f(expand(x)) -> expand(f(x)) for f of one operand": [
    {
      op: "exp",
      inputs: (f) => [f.g.expand(f.x, [null, 0], [2, 3])],
      want: (f) => f.g.expand(f.g.exp(f.x), [null, 0], [2, 3]),
      ref: (v) => [...v.x, ...v.x].map(Math.exp),
    },
  ],
  "mean over the batch of a per-batch value -> the value": [
    {
      op: "batchMean",
      inputs: (f) => [f.g.mul(f.s, f.x)],
      want: (f) => f.g.mul(f.s, f.x),
      ref: (v) => v.x.map((x) => v.s * x),
    },
  ],
};

// ---- one test per rule -------------------------------------------------------------------------------------

describe("simplification rules", () => {
  it("every probe names an existing rule (no stale probes)", () => {
    const texts = new Set(RULES.map((r) => r.rule));
    expect(Object.keys(PROBES).filter((t) => !texts.has(t))).toEqual([]);
  });

  RULES.forEach((rule, index) => {
    it(`[${index}] ${rule.op}: ${rule.rule}`, () => {
      const cases = PROBES[rule.rule];
      expect(
        cases,
        `no probe for rule "${rule.rule}": add one to test/simplify.test.ts`,
      ).toBeDefined();
      cases.forEach((probe, c) => {
        const where = `case ${c} (${probe.op})`;
        if (rule.op === "elementwise")
          expect(isElementwise(probe.op), where).toBe(true);
        else expect(probe.op, where).toBe(rule.op);

        const { fx, vals, env } = fixture(100 + index * 10 + c);
        const ins = probe.inputs(fx);
        const unsimplifiedShape: Shape = OPS[probe.op].shape(ins, undefined);
        // this rule's own rewrite matches the pattern
        const direct = rule.rewrite(fx.g, ins, probe.op);
        expect(direct, `${where}: the rule matches its pattern`).toBeDefined();
        // and the Graph, running every rule, arrives at the same node
        const built = fx.g.make(probe.op, ins);
        expect(built, `${where}: Graph result equals the rule's rewrite`).toBe(
          direct,
        );
        if (probe.want) {
          const want = probe.want(fx);
          expect(
            built,
            `${where}: got ${show(built, fx.g)}, want ${show(want, fx.g)}`,
          ).toBe(want);
        }
        expect(
          shapeText(built.shape),
          `${where}: the replacement keeps the shape of ${probe.op}(…)`,
        ).toBe(shapeText(unsimplifiedShape));
        const got = evalUnbatched(built, env);
        expect(
          mismatch(got, probe.ref(vals), 1e-14, 1e-12),
          `${where}: value of ${show(built, fx.g)}`,
        ).toBeUndefined();
      });
    });
  });
});

describe("consequences of a shape-changing rewrite", () => {
  it("Σ select(v > 0, s, s) over a vector [3] is 3s", () => {
    const { fx, vals, env } = fixture(9);
    const { g } = fx;
    const total = g.sum(g.select(g.gt(fx.x, g.constant(0)), fx.s, fx.s));
    expect(evalUnbatched(total, env)[0]).toBeCloseTo(3 * vals.s, 12);
  });
});

describe("rules do not fire outside their pattern", () => {
  const { fx } = fixture(7);
  const { g } = fx;

  it("constants are not folded to a non-finite value", () => {
    expect(g.log(g.constant(0)).op).toBe("log");
    expect(g.div(g.constant(1), g.constant(0)).op).toBe("div");
  });

  it("0 ⊙ vector is kept (the zero rule is for scalars)", () => {
    expect(g.mul(g.constant(0), fx.x).op).toBe("mul");
  });

  it("batchMean of a per-sample value is kept", () => {
    const xin = g.input("xin", [3]);
    const m = g.batchMean(g.mul(fx.s, xin));
    expect(m.op).toBe("batchMean");
    expect(m.batched).toBe(false);
  });

  it("x / 0 is not rewritten to a multiplication", () => {
    expect(g.div(fx.x, g.constant(0)).op).toBe("div");
  });

  it("log(c − σ(z)) for c ≠ 1 is not a stability rewrite", () => {
    expect(g.log(g.sub(g.constant(2), g.sigmoid(fx.z))).op).toBe("log");
  });
});

// ---- stability rewrites -------------------------------------------------------------------------------------

describe("stability rewrites of log σ(z) and log(1 − σ(z))", () => {
  const Z = [1e4, -1e4, 800, -800, 30, -30, 2.5, -0.75, 0];
  /** log σ(z) = −log(1 + e^{−z}), evaluated without overflow or cancellation */
  const logSigmoid = (z: number) =>
    z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));

  const run = (build: (g: Graph, z: Node) => Node) => {
    const g = new Graph();
    const z = g.param("z", [Z.length]);
    const out = build(g, z);
    const env: Env = { params: new Map([["z", Float64Array.from(Z)]]) };
    const { byParam } = reverse(g, g.sum(out), [z]);
    return {
      g,
      out,
      value: evalUnbatched(out, env),
      grad: evalUnbatched(byParam.get(z) as Node, env),
    };
  };

  it("log(σ(z)) stays finite at z = ±1e4 and matches the exact value", () => {
    const { g, out, value, grad } = run((g, z) => g.log(g.sigmoid(z)));
    expect(
      walk([out]).map((n) => n.op),
      show(out, g),
    ).not.toContain("log");
    for (const v of value) expect(Number.isFinite(v)).toBe(true);
    expect(mismatch(value, Z.map(logSigmoid), 1e-15, 1e-300)).toBeUndefined();
    expect(value[1]).toBe(-1e4);
    // agrees with the naive formula where that is accurate
    expect(
      mismatch(
        value.subarray(6),
        Z.slice(6).map((z) => Math.log(sig(z))),
        1e-14,
        0,
      ),
    ).toBeUndefined();
    // d/dz log σ(z) = σ(−z), finite as well
    expect(
      mismatch(
        grad,
        Z.map((z) => sig(-z)),
        1e-15,
        1e-300,
      ),
    ).toBeUndefined();
  });

  it("log(1 − σ(z)) stays finite at z = ±1e4 and matches the exact value", () => {
    const { g, out, value, grad } = run((g, z) =>
      g.log(g.sub(g.constant(1), g.sigmoid(z))),
    );
    expect(
      walk([out]).map((n) => n.op),
      show(out, g),
    ).not.toContain("log");
    for (const v of value) expect(Number.isFinite(v)).toBe(true);
    expect(
      mismatch(
        value,
        Z.map((z) => logSigmoid(-z)),
        1e-15,
        1e-300,
      ),
    ).toBeUndefined();
    expect(value[0]).toBe(-1e4);
    expect(
      mismatch(
        value.subarray(6),
        Z.slice(6).map((z) => Math.log(1 - sig(z))),
        1e-14,
        0,
      ),
    ).toBeUndefined();
    // d/dz log(1 − σ(z)) = −σ(z)
    expect(
      mismatch(
        grad,
        Z.map((z) => -sig(z)),
        1e-15,
        1e-300,
      ),
    ).toBeUndefined();
  });

  it("the non-fused binary cross-entropy on a sigmoid output is finite at saturated logits", () => {
    const g = new Graph();
    const z = g.param("z", [2]);
    const y = g.param("y", [2]);
    const a = g.sigmoid(z);
    const bce = g.neg(
      g.sum(
        g.add(
          g.mul(y, g.log(a)),
          g.mul(g.sub(g.constant(1), y), g.log(g.sub(g.constant(1), a))),
        ),
      ),
    );
    const env: Env = {
      params: new Map([
        ["z", Float64Array.of(1e4, -1e4)],
        ["y", Float64Array.of(0.25, 0.75)],
      ]),
    };
    const v = evalUnbatched(bce, env)[0];
    // exact: Σ −y log σ(z) − (1 − y) log σ(−z) = 0.75·1e4 + 0.75·1e4
    expect(v).toBeCloseTo(1.5e4, 9);
  });
});
