/**
 * The expression DAG. Every node is built here: rules from simplify/ run first, then the node is
 * hash-consed, so a subexpression built twice (a forward value reused by a gradient, a delta reused by two
 * parameters) is one node.
 */
import { type Attr, type Node, type OpName, type Shape, sameShape, shapeText } from "./node.ts";
import { OPS, ShapeError } from "./ops.ts";
import { simplify } from "../simplify/rules.ts";

export class Graph {
  private readonly interned = new Map<string, Node>();
  private readonly hints = new Map<Node, string>();
  private nextId = 0;

  /** The node for (op, inputs, attr), built once. `shape` is given only by leaves and broadcast. */
  make(op: OpName, inputs: readonly Node[], attr?: Attr, shape?: Shape): Node {
    const rule = OPS[op] as (typeof OPS)[OpName] | undefined;
    if (!rule) throw new Error(`internal: no rule for op "${op}" in the op table`);
    if (inputs.length !== rule.arity) throw new Error(`internal: ${op} takes ${rule.arity} inputs`);
    if (shape === undefined) {
      const rewritten = simplify(this, op, inputs);
      if (rewritten) return rewritten;
    }
    const outShape = shape ?? rule.shape(inputs, attr);
    const key = `${op}|${attr ?? ""}|${outShape.join("x")}|${inputs.map((n) => n.id).join(",")}`;
    const found = this.interned.get(key);
    if (found) return found;
    const batched = op === "input" || op === "target" || (op !== "batchMean" && inputs.some((n) => n.batched));
    const node: Node = Object.freeze({ id: this.nextId++, op, inputs: Object.freeze([...inputs]), attr, shape: Object.freeze([...outShape]), batched });
    this.interned.set(key, node);
    return node;
  }

  /** Suggests a readable name for a node (the first suggestion wins). */
  name(node: Node, hint: string): Node {
    if (!this.hints.has(node) && node.op !== "const") this.hints.set(node, hint);
    return node;
  }

  hint(node: Node): string | undefined {
    return this.hints.get(node);
  }

  get size(): number {
    return this.nextId;
  }

  // ---- leaves
  param(name: string, shape: Shape): Node {
    return this.name(this.make("param", [], name, shape), name);
  }
  input(name: string, shape: Shape): Node {
    return this.name(this.make("input", [], name, shape), name);
  }
  target(name: string, shape: Shape): Node {
    return this.name(this.make("target", [], name, shape), name);
  }
  constant(value: number): Node {
    return this.make("const", [], Object.is(value, -0) ? 0 : value, []);
  }

  // ---- primitives
  neg = (a: Node) => this.make("neg", [a]);
  exp = (a: Node) => this.make("exp", [a]);
  log = (a: Node) => this.make("log", [a]);
  sqrt = (a: Node) => this.make("sqrt", [a]);
  abs = (a: Node) => this.make("abs", [a]);
  sign = (a: Node) => this.make("sign", [a]);
  tanh = (a: Node) => this.make("tanh", [a]);
  sigmoid = (a: Node) => this.make("sigmoid", [a]);
  softplus = (a: Node) => this.make("softplus", [a]);
  add = (a: Node, b: Node) => this.make("add", [a, b]);
  sub = (a: Node, b: Node) => this.make("sub", [a, b]);
  mul = (a: Node, b: Node) => this.make("mul", [a, b]);
  div = (a: Node, b: Node) => this.make("div", [a, b]);
  pow = (a: Node, b: Node) => this.make("pow", [a, b]);
  max = (a: Node, b: Node) => this.make("max", [a, b]);
  min = (a: Node, b: Node) => this.make("min", [a, b]);
  gt = (a: Node, b: Node) => this.make("gt", [a, b]);
  select = (c: Node, a: Node, b: Node) => this.make("select", [c, a, b]);
  matmul = (a: Node, b: Node) => this.make("matmul", [a, b]);
  outer = (a: Node, b: Node) => this.make("outer", [a, b]);
  sum = (a: Node) => this.make("sum", [a]);
  logsumexp = (a: Node) => this.make("logsumexp", [a]);
  batchMean = (a: Node) => this.make("batchMean", [a]);

  /** Matrix transpose; a vector is its own transpose (as in mathjs). */
  transpose = (a: Node): Node => (a.shape.length === 1 ? a : this.make("transpose", [a]));

  /** A scalar repeated over `shape`. */
  broadcast = (a: Node, shape: Shape): Node => {
    if (a.shape.length !== 0) {
      if (sameShape(a.shape, shape)) return a;
      throw new ShapeError(`cannot broadcast ${shapeText(a.shape)} to ${shapeText(shape)}`);
    }
    if (shape.length === 0) return a;
    return this.make("broadcast", [a], undefined, shape);
  };

  // ---- composites, written in primitives
  scale = (c: number, a: Node) => this.mul(this.constant(c), a);
  square = (a: Node) => this.pow(a, this.constant(2));
  mean = (a: Node) => this.mul(this.constant(1 / a.shape.reduce((x, y) => x * y, 1)), this.sum(a));
  dot = (a: Node, b: Node) => this.sum(this.mul(a, b));
  /** softmax(x) = exp(x − lse(x)): shares lse with a cross-entropy built on the same logits. */
  softmax = (a: Node) => this.exp(this.sub(a, this.logsumexp(a)));
  relu = (a: Node) => this.max(a, this.constant(0));
  /** slope 0.01 below zero */
  leakyRelu = (a: Node) => this.add(this.max(a, this.constant(0)), this.scale(0.01, this.min(a, this.constant(0))));
  /** α = 1; exp only ever sees min(x, 0), so the unused branch cannot overflow */
  elu = (a: Node) => this.add(this.max(a, this.constant(0)), this.sub(this.exp(this.min(a, this.constant(0))), this.constant(1)));
  softsign = (a: Node) => this.div(a, this.add(this.constant(1), this.abs(a)));
  swish = (a: Node) => this.mul(a, this.sigmoid(a));
  /** tanh form: 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) */
  gelu = (a: Node) => {
    const inner = this.scale(Math.sqrt(2 / Math.PI), this.add(a, this.scale(0.044715, this.pow(a, this.constant(3)))));
    return this.mul(this.scale(0.5, a), this.add(this.constant(1), this.tanh(inner)));
  };
}
