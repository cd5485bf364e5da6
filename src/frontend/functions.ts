/**
 * Functions usable in equations and as activations, each written with the graph builder's primitives and
 * composites. Activations are the unary elementwise entries; `linear` is the identity.
 */
import type { Graph } from "../ir/graph.ts";
import type { Node } from "../ir/node.ts";
import { ShapeError } from "../ir/ops.ts";

export interface Builtin {
  arity: number;
  /** True for functions applied to each element (the ones usable as activations). */
  elementwise: boolean;
  build(g: Graph, args: readonly Node[]): Node;
}

const unary = (f: (g: Graph, x: Node) => Node): Builtin => ({ arity: 1, elementwise: true, build: (g, [x]) => f(g, x) });
const reduce = (f: (g: Graph, x: Node) => Node): Builtin => ({ arity: 1, elementwise: false, build: (g, [x]) => f(g, x) });

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ["linear", unary((_g, x) => x)],
  ["exp", unary((g, x) => g.exp(x))],
  ["log", unary((g, x) => g.log(x))],
  ["sqrt", unary((g, x) => g.sqrt(x))],
  ["abs", unary((g, x) => g.abs(x))],
  ["sign", unary((g, x) => g.sign(x))],
  ["square", unary((g, x) => g.square(x))],
  ["tanh", unary((g, x) => g.tanh(x))],
  ["sigmoid", unary((g, x) => g.sigmoid(x))],
  ["relu", unary((g, x) => g.relu(x))],
  ["leaky_relu", unary((g, x) => g.leakyRelu(x))],
  ["elu", unary((g, x) => g.elu(x))],
  ["softplus", unary((g, x) => g.softplus(x))],
  ["softsign", unary((g, x) => g.softsign(x))],
  ["gelu", unary((g, x) => g.gelu(x))],
  ["swish", unary((g, x) => g.swish(x))],
  ["sum", reduce((g, x) => g.sum(x))],
  ["mean", reduce((g, x) => g.mean(x))],
  ["logsumexp", reduce((g, x) => g.logsumexp(x))],
  [
    "softmax",
    reduce((g, x) => {
      if (x.shape.length !== 1) throw new ShapeError("softmax needs a vector");
      return g.softmax(x);
    }),
  ],
  ["transpose", reduce((g, x) => g.transpose(x))],
  ["dot", { arity: 2, elementwise: false, build: (g, [a, b]) => dot(g, a, b) }],
  ["max", { arity: 2, elementwise: true, build: (g, [a, b]) => g.max(a, b) }],
  ["min", { arity: 2, elementwise: true, build: (g, [a, b]) => g.min(a, b) }],
]);

function dot(g: Graph, a: Node, b: Node): Node {
  if (a.shape.length !== 1 || b.shape.length !== 1 || a.shape[0] !== b.shape[0]) {
    throw new ShapeError("dot needs two vectors of the same length");
  }
  return g.matmul(a, b);
}

/** Named constants of expressions. */
export const CONSTANTS: ReadonlyMap<string, number> = new Map([["pi", Math.PI]]);
