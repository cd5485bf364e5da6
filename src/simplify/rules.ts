/**
 * Algebraic simplification, applied as each node is built. Rules are data: an op, a comment saying what it
 * rewrites, and a function returning the replacement (or undefined when the pattern does not match).
 * Replacements must have the shape of the node they replace.
 */
import type { Graph } from "../ir/graph.ts";
import { type Node, type OpName, constValue, isConst, sameShape, sizeOf } from "../ir/node.ts";
import { OPS, isElementwise } from "../ir/ops.ts";
import { axisMapAttr, parseAxisMap, parseReduce, reinsertAxis } from "../ir/axes.ts";

interface Rule {
  op: OpName | "elementwise";
  rule: string;
  rewrite(g: Graph, ins: readonly Node[], op: OpName): Node | undefined;
}

const c = isConst;
const scalar = (n: Node) => n.shape.length === 0;
/** The shape the elementwise result would have: the first non-scalar operand's. */
const resultShape = (ins: readonly Node[]) => ins.find((n) => !scalar(n))?.shape ?? [];
/** `x` standing for a result of shape `ins`: only when that does not lose a broadcast. */
const keep = (x: Node, ins: readonly Node[]) => (sameShape(x.shape, resultShape(ins)) ? x : undefined);


/** x when n is 1 + exp(-x) (in either order), for the logistic function. */
function sigmoidOf(n: Node): Node | undefined {
  const e = onePlus(n);
  return e?.op === "exp" && e.inputs[0].op === "neg" ? e.inputs[0].inputs[0] : undefined;
}

/** t when n is 1 + t or t + 1. */
function onePlus(n: Node): Node | undefined {
  if (n.op !== "add") return undefined;
  const [a, b] = n.inputs;
  return c(a, 1) ? b : c(b, 1) ? a : undefined;
}

export const RULES: readonly Rule[] = [
  { op: "elementwise", rule: "f(c1, c2) -> c: fold scalar constants", rewrite: (g, ins, op) => foldConstants(g, op, ins) },
  {
    op: "elementwise",
    rule: "f(broadcast(s), x) -> f(s, x): a scalar operand broadcasts by itself",
    rewrite: (g, ins, op) => dropBroadcasts(g, op, ins),
  },
  { op: "add", rule: "x + 0 -> x", rewrite: (_g, [a, b]) => (c(b, 0) ? keep(a, [a, b]) : undefined) },
  { op: "add", rule: "0 + x -> x", rewrite: (_g, [a, b]) => (c(a, 0) ? keep(b, [a, b]) : undefined) },
  { op: "add", rule: "x + x -> 2 · x", rewrite: (g, [a, b]) => (a === b ? g.mul(g.constant(2), a) : undefined) },
  { op: "add", rule: "a + (-b) -> a - b", rewrite: (g, [a, b]) => (b.op === "neg" ? g.sub(a, b.inputs[0]) : undefined) },
  { op: "add", rule: "(-a) + b -> b - a", rewrite: (g, [a, b]) => (a.op === "neg" ? g.sub(b, a.inputs[0]) : undefined) },
  { op: "sub", rule: "x - 0 -> x", rewrite: (_g, [a, b]) => (c(b, 0) ? keep(a, [a, b]) : undefined) },
  { op: "sub", rule: "0 - x -> -x", rewrite: (g, [a, b]) => (c(a, 0) ? g.neg(b) : undefined) },
  { op: "sub", rule: "a - (-b) -> a + b", rewrite: (g, [a, b]) => (b.op === "neg" ? g.add(a, b.inputs[0]) : undefined) },
  { op: "mul", rule: "x * 1 -> x", rewrite: (_g, [a, b]) => (c(b, 1) ? keep(a, [a, b]) : undefined) },
  { op: "mul", rule: "1 * x -> x", rewrite: (_g, [a, b]) => (c(a, 1) ? keep(b, [a, b]) : undefined) },
  { op: "mul", rule: "0 * x -> 0 (scalars)", rewrite: (g, [a, b]) => (scalar(a) && scalar(b) && (c(a, 0) || c(b, 0)) ? g.constant(0) : undefined) },
  { op: "mul", rule: "x * c -> c * x: constants first", rewrite: (g, [a, b]) => (c(b) && !c(a) ? g.mul(b, a) : undefined) },
  { op: "mul", rule: "-1 * x -> -x", rewrite: (g, [a, b]) => (c(a, -1) ? g.neg(b) : undefined) },
  {
    op: "mul",
    rule: "c1 * (c2 * x) -> (c1 c2) * x",
    rewrite: (g, [a, b]) =>
      c(a) && b.op === "mul" && c(b.inputs[0]) && Number.isFinite(constValue(a) * constValue(b.inputs[0]))
        ? g.mul(g.constant(constValue(a) * constValue(b.inputs[0])), b.inputs[1])
        : undefined,
  },
  { op: "mul", rule: "(-a) * b -> -(a * b)", rewrite: (g, [a, b]) => (a.op === "neg" ? g.neg(g.mul(a.inputs[0], b)) : undefined) },
  { op: "mul", rule: "a * (-b) -> -(a * b)", rewrite: (g, [a, b]) => (b.op === "neg" ? g.neg(g.mul(a, b.inputs[0])) : undefined) },
  { op: "div", rule: "x / 1 -> x", rewrite: (_g, [a, b]) => (c(b, 1) ? keep(a, [a, b]) : undefined) },
  {
    op: "div",
    rule: "x / c -> (1/c) * x",
    rewrite: (g, [a, b]) => (c(b) && Number.isFinite(1 / constValue(b)) && !c(a) ? g.mul(g.constant(1 / constValue(b)), a) : undefined),
  },
  { op: "neg", rule: "-(-x) -> x", rewrite: (_g, [a]) => (a.op === "neg" ? a.inputs[0] : undefined) },
  { op: "neg", rule: "-(c * x) -> (-c) * x", rewrite: (g, [a]) => (a.op === "mul" && c(a.inputs[0]) ? g.mul(g.constant(-constValue(a.inputs[0])), a.inputs[1]) : undefined) },
  { op: "neg", rule: "-broadcast(s) -> broadcast(-s)", rewrite: (g, [a]) => (a.op === "broadcast" ? g.broadcast(g.neg(a.inputs[0]), a.shape) : undefined) },
  { op: "pow", rule: "x ^ 1 -> x", rewrite: (_g, [a, b]) => (c(b, 1) ? a : undefined) },
  { op: "log", rule: "log(exp(x)) -> x", rewrite: (_g, [a]) => (a.op === "exp" ? a.inputs[0] : undefined) },
  {
    op: "log",
    rule: "log(σ(z)) -> -softplus(-z): finite for any logit",
    rewrite: (g, [a]) => (a.op === "sigmoid" ? g.neg(g.softplus(g.neg(a.inputs[0]))) : undefined),
  },
  {
    op: "log",
    rule: "log(1 - σ(z)) -> -softplus(z): finite for any logit",
    rewrite: (g, [a]) =>
      a.op === "sub" && c(a.inputs[0], 1) && a.inputs[1].op === "sigmoid" ? g.neg(g.softplus(a.inputs[1].inputs[0])) : undefined,
  },
  // ---- the stable forms of what users write out: exp never overflows, log never sees 0
  { op: "div", rule: "1 / (1 + exp(-x)) -> σ(x)", rewrite: (g, [a, b]) => (c(a, 1) ? sigmoidOf(b) && g.sigmoid(sigmoidOf(b) as Node) : undefined) },
  {
    op: "div",
    rule: "exp(x) / (1 + exp(x)) -> σ(x)",
    rewrite: (g, [a, b]) => (a.op === "exp" && onePlus(b)?.op === "exp" && onePlus(b)?.inputs[0] === a.inputs[0] ? g.sigmoid(a.inputs[0]) : undefined),
  },
  {
    op: "pow",
    rule: "(1 + exp(-x)) ^ -1 -> σ(x)",
    rewrite: (g, [a, b]) => (c(b, -1) && sigmoidOf(a) ? g.sigmoid(sigmoidOf(a) as Node) : undefined),
  },
  {
    op: "div",
    rule: "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) -> tanh(x)",
    rewrite: (g, [a, b]) => {
      const x = a.op === "sub" && a.inputs[0].op === "exp" ? a.inputs[0].inputs[0] : undefined;
      const e = x && a.inputs[1].op === "exp" && a.inputs[1].inputs[0] === g.neg(x) ? [a.inputs[0], a.inputs[1]] : undefined;
      return e && b.op === "add" && ((b.inputs[0] === e[0] && b.inputs[1] === e[1]) || (b.inputs[0] === e[1] && b.inputs[1] === e[0])) ? g.tanh(x as Node) : undefined;
    },
  },
  { op: "pow", rule: "e ^ x -> exp(x)", rewrite: (g, [a, b]) => (c(a, Math.E) ? g.exp(b) : undefined) },
  { op: "log", rule: "log(1 + exp(x)) -> softplus(x)", rewrite: (g, [a]) => (onePlus(a)?.op === "exp" ? g.softplus((onePlus(a) as Node).inputs[0]) : undefined) },
  { op: "log1p", rule: "log1p(exp(x)) -> softplus(x)", rewrite: (g, [a]) => (a.op === "exp" ? g.softplus(a.inputs[0]) : undefined) },
  { op: "log", rule: "log(Σ exp(x)) -> logsumexp(x)", rewrite: (g, [a]) => (a.op === "sum" && a.inputs[0].op === "exp" ? g.logsumexp(a.inputs[0].inputs[0]) : undefined) },
  {
    op: "log",
    rule: "log(sum(exp(x), d)) -> logsumexp(x, d)",
    rewrite: (g, [a]) => (a.op === "reduce" && parseReduce(a.attr).kind === "sum" && a.inputs[0].op === "exp" ? g.reduce("lse", a.inputs[0].inputs[0], parseReduce(a.attr).axis) : undefined),
  },
  // exp(a) > 0, so wherever log(exp(a) / b) is defined, b > 0 and it equals a − log(b)
  { op: "log", rule: "log(exp(a) / b) -> a - log(b)", rewrite: (g, [a]) => (a.op === "div" && a.inputs[0].op === "exp" ? g.sub(a.inputs[0].inputs[0], g.log(a.inputs[1])) : undefined) },
  {
    op: "div",
    rule: "exp(x) / Σ exp(x) -> softmax(x) = exp(x - logsumexp(x))",
    rewrite: (g, [a, b]) => (a.op === "exp" && b.op === "sum" && b.inputs[0] === a ? g.softmax(a.inputs[0]) : undefined),
  },
  {
    op: "div",
    rule: "exp(x) / sum(exp(x), d) -> softmax(x, d)",
    rewrite: (g, [a, b]) => {
      const r = b.op === "expand" ? b.inputs[0] : undefined;
      if (!r || r.op !== "reduce" || r.inputs[0] !== a || a.op !== "exp" || parseReduce(r.attr).kind !== "sum") return undefined;
      const { axis } = parseReduce(r.attr);
      // the sums must be read back along the axis they were taken over (a square matrix could broadcast them across it)
      if (b.attr !== axisMapAttr(reinsertAxis(a.shape.length, axis))) return undefined;
      return g.softmaxAlong(a.inputs[0], axis);
    },
  },
  // a function of a broadcast value is the broadcast of the function: computed once per element of the operand
  {
    op: "elementwise",
    rule: "f(expand(x)) -> expand(f(x)) for f of one operand",
    rewrite: (g, ins, op) => (ins.length === 1 && ins[0].op === "expand" ? g.expand(g.make(op, [ins[0].inputs[0]]), parseAxisMap(ins[0].attr), ins[0].shape) : undefined),
  },
  {
    op: "select",
    rule: "select(c, x, x) -> x",
    rewrite: (g, ins) => (ins[1] === ins[2] ? (keep(ins[1], ins) ?? g.broadcast(ins[1], resultShape(ins))) : undefined),
  },
  { op: "transpose", rule: "(xᵀ)ᵀ -> x", rewrite: (_g, [a]) => (a.op === "transpose" ? a.inputs[0] : undefined) },
  { op: "sum", rule: "Σ of a scalar -> the scalar", rewrite: (_g, [a]) => (scalar(a) ? a : undefined) },
  {
    op: "sum",
    rule: "Σ broadcast(s) over n elements -> n * s",
    rewrite: (g, [a]) => (a.op === "broadcast" ? g.mul(g.constant(sizeOf(a.shape)), a.inputs[0]) : undefined),
  },
  // exact wherever the mean stands, mid-network too: a value of the batch as a whole is the same for every sample
  { op: "batchMean", rule: "mean over the batch of a per-batch value -> the value", rewrite: (_g, [a]) => (a.batched ? undefined : a) },
];

const byOp = new Map<string, Rule[]>();
for (const r of RULES) byOp.set(r.op, [...(byOp.get(r.op) ?? []), r]);

/** The simplified replacement for op(inputs), or undefined to build the node as it is. */
export function simplify(g: Graph, op: OpName, inputs: readonly Node[]): Node | undefined {
  const rules = [...(isElementwise(op) ? (byOp.get("elementwise") ?? []) : []), ...(byOp.get(op) ?? [])];
  for (const r of rules) {
    const out = r.rewrite(g, inputs, op);
    if (out) return out;
  }
  return undefined;
}

/** f(c1, c2) -> c: every operand a scalar constant. */
function foldConstants(g: Graph, op: OpName, inputs: readonly Node[]): Node | undefined {
  if (!inputs.every((n) => c(n))) return undefined;
  const probe = { id: -1, op, inputs, attr: undefined, shape: [], batched: false } satisfies Node;
  const value = OPS[op].evaluate(inputs.map((n) => Float64Array.of(constValue(n))), probe)[0];
  return Number.isFinite(value) ? g.constant(value) : undefined;
}

/** f(broadcast(s), x) -> f(s, x): a scalar operand broadcasts by itself, when another operand has the full shape. */
function dropBroadcasts(g: Graph, op: OpName, inputs: readonly Node[]): Node | undefined {
  if (!inputs.some((n) => n.op === "broadcast")) return undefined;
  const full = inputs.find((n) => n.op !== "broadcast" && !scalar(n));
  if (!full) return undefined;
  const replaced = inputs.map((n) => (n.op === "broadcast" && sameShape(n.shape, full.shape) ? n.inputs[0] : n));
  return replaced.some((n, i) => n !== inputs[i]) ? g.make(op, replaced) : undefined;
}
