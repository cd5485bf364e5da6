/**
 * Independent oracle for the equation form (docs/net-json.md): an interpreter from mathjs parse trees to
 * TensorFlow.js ops, differentiated by TF.js autodiff. Nothing here is shared with the compiler; mathjs is
 * used only as a parser (never `evaluate`).
 *
 * Semantics (per sample):
 * - shapes: `[]` a rank-0 tensor, `[n]` rank 1, `[m, n]` rank 2;
 * - `+ -` elementwise, operands of equal shape or one of them scalar (broadcast); unary `-` / `+`;
 * - `*`: scaling when either operand is a scalar, else the matrix product
 *   ([m,k]·[k,n]→[m,n], [m,k]·[k]→[m], [k]·[k,n]→[n], [k]·[k]→scalar dot);
 * - `/`: the divisor must be a scalar; `^`: both operands scalars;
 * - `.*` `./` `.^`: elementwise (equal shapes or a scalar operand);
 * - postfix `'` and `transpose()`: transpose of a matrix;
 * - elementwise functions exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu (0.01), elu (α = 1), softplus,
 *   softsign, gelu (tanh form), swish, square; reductions sum, mean, logsumexp (all elements → scalar);
 *   softmax (over all elements); max(a, b), min(a, b) elementwise; dot(a, b) = Σ a ⊙ b (equal shapes);
 * - user `functions` are scalar elementwise functions of `x`: their body is evaluated with `x` bound to the
 *   argument tensor in *elementwise mode*, where `*`, `/`, `^` act per element (exactly the result of applying
 *   the scalar function to every element), reductions are the identity and transposes are no-ops;
 *   user functions take precedence over builtins of the same name; a body sees only `x`, `pi` and functions;
 * - the constant `pi` (a declared name shadows it);
 * - tensors of rank 3 ([height, width, channels]) for conv2d(x, w, stride, padding), max_pool2d and avg_pool2d
 *   (x, size, stride = size, padding), with literal options as TF.js takes them, reshape(x, sizes), and `+` of a
 *   vector along the last axis (a per-channel bias).
 */
import * as tf from "@tensorflow/tfjs";
import { parse, type MathNode } from "mathjs";
import type { EquationNetSpec } from "../../src/spec/types.ts";

export class OracleError extends Error {}

// ---- activations shared with the layer oracle --------------------------------------------------------

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** The builtin elementwise functions of one argument. */
export const ELEMENTWISE: Record<string, (t: tf.Tensor) => tf.Tensor> = {
  linear: (t) => t,
  identity: (t) => t,
  exp: (t) => tf.exp(t),
  log: (t) => tf.log(t),
  sqrt: (t) => tf.sqrt(t),
  abs: (t) => tf.abs(t),
  square: (t) => tf.mul(t, t),
  tanh: (t) => tf.tanh(t),
  sigmoid: (t) => tf.sigmoid(t),
  relu: (t) => tf.relu(t),
  leaky_relu: (t) => tf.leakyRelu(t, 0.01),
  elu: (t) => tf.elu(t),
  softplus: (t) => tf.softplus(t),
  softsign: (t) => tf.div(t, tf.add(1, tf.abs(t))),
  gelu: (t) =>
    tf.mul(tf.mul(0.5, t), tf.add(1, tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(t, tf.mul(0.044715, tf.mul(t, tf.mul(t, t)))))))),
  swish: (t) => tf.mul(t, tf.sigmoid(t)),
  silu: (t) => tf.mul(t, tf.sigmoid(t)),
  gelu_tanh: (t) =>
    tf.mul(tf.mul(0.5, t), tf.add(1, tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(t, tf.mul(0.044715, tf.mul(t, tf.mul(t, t)))))))),
  gelu_exact: (t) => tf.mul(tf.mul(0.5, t), tf.add(1, tf.erf(tf.mul(Math.SQRT1_2, t)))),
  selu: (t) => tf.selu(t),
  // celu with α = 1 is elu
  celu: (t) => tf.elu(t),
  relu6: (t) => tf.relu6(t),
  mish: (t) => tf.mul(t, tf.tanh(tf.softplus(t))),
  hard_sigmoid: (t) => tf.div(tf.relu6(tf.add(t, 3)), 6),
  hard_swish: (t) => tf.mul(t, tf.div(tf.relu6(tf.add(t, 3)), 6)),
  log_sigmoid: (t) => tf.neg(tf.softplus(tf.neg(t))),
  expm1: (t) => tf.expm1(t),
  log1p: (t) => tf.log1p(t),
  rsqrt: (t) => tf.rsqrt(t),
  reciprocal: (t) => tf.reciprocal(t),
  sign: (t) => tf.sign(t),
  sin: (t) => tf.sin(t),
  cos: (t) => tf.cos(t),
  tan: (t) => tf.tan(t),
  asin: (t) => tf.asin(t),
  acos: (t) => tf.acos(t),
  atan: (t) => tf.atan(t),
  sinh: (t) => tf.sinh(t),
  cosh: (t) => tf.cosh(t),
  asinh: (t) => tf.asinh(t),
  acosh: (t) => tf.acosh(t),
  atanh: (t) => tf.atanh(t),
  erf: (t) => tf.erf(t),
  floor: (t) => tf.floor(t),
  ceil: (t) => tf.ceil(t),
};

/**
 * The builtin activations the random networks draw from: defined for every real, with a derivative that
 * TF.js and bpgen agree on everywhere but at measure-zero kinks.
 */
export const ORACLE_ACTIVATIONS = [
  "linear",
  "sigmoid",
  "tanh",
  "relu",
  "leaky_relu",
  "elu",
  "softplus",
  "softsign",
  "gelu",
  "swish",
  "silu",
  "gelu_exact",
  "selu",
  "celu",
  "relu6",
  "mish",
  "hard_sigmoid",
  "hard_swish",
  "log_sigmoid",
  "sin",
  "cos",
  "atan",
  "asinh",
  "erf",
] as const;

// ---- the interpreter ---------------------------------------------------------------------------------

export interface EvalOptions {
  /** User functions (scalar elementwise, body in `x`). */
  functions?: Record<string, string>;
  /** Evaluate as a scalar function applied per element (see the header). */
  elementwise?: boolean;
}

interface Ctx {
  vars: ReadonlyMap<string, tf.Tensor>;
  functions: Record<string, string>;
  elementwise: boolean;
  /** User functions being expanded (to reject recursion). */
  active: readonly string[];
}

const parsed = new Map<string, MathNode>();
export function parseCached(text: string): MathNode {
  let n = parsed.get(text);
  if (!n) {
    n = parse(text);
    parsed.set(text, n);
  }
  return n;
}

/** Evaluates an expression with TF.js ops; `bindings` maps names to tensors (rank 0, 1 or 2). */
export function evalMath(expr: string | MathNode, bindings: Record<string, tf.Tensor>, options: EvalOptions = {}): tf.Tensor {
  const node = typeof expr === "string" ? parseCached(expr) : expr;
  return evalNode(node, {
    vars: new Map(Object.entries(bindings)),
    functions: options.functions ?? {},
    elementwise: options.elementwise ?? false,
    active: [],
  });
}

// Minimal structural views of the mathjs node classes (discriminated by `type`).
interface AnyNode {
  type: string;
}
interface OperatorNodeView extends AnyNode {
  op: string;
  fn: string;
  args: MathNode[];
}
interface FunctionNodeView extends AnyNode {
  fn: { type: string; name?: string };
  args: MathNode[];
}
interface SymbolNodeView extends AnyNode {
  name: string;
}
interface ConstantNodeView extends AnyNode {
  value: unknown;
}
interface ParenthesisNodeView extends AnyNode {
  content: MathNode;
}

const rank = (t: tf.Tensor) => t.shape.length;
const shapeText = (t: tf.Tensor) => `[${t.shape.join(", ")}]`;

function sameShape(a: tf.Tensor, b: tf.Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** Elementwise binary op: equal shapes, one operand scalar, or a vector along the last axis of the other (a per-channel bias). */
function elementwise2(what: string, a: tf.Tensor, b: tf.Tensor, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor {
  const perChannel = (x: tf.Tensor, v: tf.Tensor) => rank(x) > 2 && rank(v) === 1 && x.shape[rank(x) - 1] === v.shape[0];
  if (rank(a) > 0 && rank(b) > 0 && !sameShape(a, b) && !perChannel(a, b) && !perChannel(b, a)) {
    throw new OracleError(`${what}: operands must have equal shapes or be scalars, found ${shapeText(a)} and ${shapeText(b)}`);
  }
  return f(a, b);
}

function matrixProduct(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (rank(a) === 0 || rank(b) === 0) return tf.mul(a, b);
  if (rank(a) > 2 || rank(b) > 2) throw new OracleError(`*: rank > 2 (${shapeText(a)} and ${shapeText(b)})`);
  const ka = a.shape[rank(a) - 1];
  const kb = b.shape[0];
  if (ka !== kb) throw new OracleError(`*: inner dimensions differ (${shapeText(a)} · ${shapeText(b)})`);
  if (rank(a) === 2 && rank(b) === 2) return tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  if (rank(a) === 2 && rank(b) === 1) return tf.reshape(tf.matMul(a as tf.Tensor2D, tf.reshape(b, [kb, 1]) as tf.Tensor2D), [a.shape[0]]);
  if (rank(a) === 1 && rank(b) === 2) return tf.reshape(tf.matMul(tf.reshape(a, [1, ka]) as tf.Tensor2D, b as tf.Tensor2D), [b.shape[1] as number]);
  return tf.sum(tf.mul(a, b)); // [k]·[k]: dot product
}

function transpose(a: tf.Tensor, ctx: Ctx): tf.Tensor {
  if (ctx.elementwise && rank(a) !== 2) return a;
  if (rank(a) !== 2) throw new OracleError(`transpose needs a matrix, found ${shapeText(a)}`);
  return tf.transpose(a);
}

function evalNode(node: MathNode, ctx: Ctx): tf.Tensor {
  const n = node as unknown as AnyNode;
  switch (n.type) {
    case "ParenthesisNode":
      return evalNode((n as ParenthesisNodeView).content, ctx);
    case "ConstantNode": {
      const v = (n as ConstantNodeView).value;
      if (typeof v !== "number") throw new OracleError(`unsupported constant ${String(v)}`);
      return tf.scalar(v);
    }
    case "SymbolNode": {
      const name = (n as SymbolNodeView).name;
      const t = ctx.vars.get(name);
      if (t) return t;
      if (name === "pi") return tf.scalar(Math.PI);
      throw new OracleError(`unknown name ${name}`);
    }
    case "OperatorNode":
      return evalOperator(n as OperatorNodeView, ctx);
    case "FunctionNode":
      return evalFunction(n as FunctionNodeView, ctx);
    default:
      throw new OracleError(`unsupported syntax ${n.type}`);
  }
}

function evalOperator(n: OperatorNodeView, ctx: Ctx): tf.Tensor {
  const args = n.args.map((a) => evalNode(a, ctx));
  const [a, b] = args;
  switch (n.fn) {
    case "unaryMinus":
      return tf.neg(a);
    case "unaryPlus":
      return a;
    case "add":
      return elementwise2("+", a, b, tf.add);
    case "subtract":
      return elementwise2("-", a, b, tf.sub);
    case "multiply":
      return ctx.elementwise ? elementwise2("*", a, b, tf.mul) : matrixProduct(a, b);
    case "divide":
      if (ctx.elementwise) return elementwise2("/", a, b, tf.div);
      if (rank(b) !== 0) throw new OracleError(`/: the divisor must be a scalar, found ${shapeText(b)}`);
      return tf.div(a, b);
    case "pow":
      if (ctx.elementwise) return elementwise2("^", a, b, tf.pow);
      if (rank(a) !== 0 || rank(b) !== 0) throw new OracleError(`^: needs scalars, found ${shapeText(a)} and ${shapeText(b)}`);
      return tf.pow(a, b);
    case "dotMultiply":
      return elementwise2(".*", a, b, tf.mul);
    case "dotDivide":
      return elementwise2("./", a, b, tf.div);
    case "dotPow":
      return elementwise2(".^", a, b, tf.pow);
    case "ctranspose":
    case "transpose":
      return transpose(a, ctx);
    default:
      throw new OracleError(`unsupported operator ${n.op}`);
  }
}

/** A literal argument: a number, a string, or a list of them (`[-1]`, `"same"`). */
type Literal = number | string | Literal[];
function literalOf(node: MathNode): Literal {
  const n = node as unknown as AnyNode;
  if (n.type === "ConstantNode") {
    const v = (n as ConstantNodeView).value;
    if (typeof v === "number" || typeof v === "string") return v;
  }
  if (n.type === "OperatorNode" && (n as OperatorNodeView).fn === "unaryMinus") {
    const v = literalOf((n as OperatorNodeView).args[0]);
    if (typeof v === "number") return -v;
  }
  if (n.type === "ArrayNode") return (n as unknown as { items: MathNode[] }).items.map(literalOf);
  throw new OracleError(`unsupported literal ${n.type}`);
}

const numberOf = (v: Literal | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (typeof v !== "number") throw new OracleError(`expected a number, found ${JSON.stringify(v)}`);
  return v;
};
const paddingOf = (v: Literal | undefined): "valid" | "same" => {
  if (v === undefined || v === "valid" || v === "same") return v ?? "valid";
  throw new OracleError(`unsupported padding ${JSON.stringify(v)}`);
};

/**
 * Functions with literal options (sizes, strides, padding), channels last as TF.js takes them:
 * conv2d(x, w, stride?, padding?), max_pool2d / avg_pool2d(x, size, stride = size, padding?), reshape(x, sizes).
 */
function evalWindowFunction(name: string, n: FunctionNodeView, ctx: Ctx): tf.Tensor | undefined {
  const tensor = (i: number) => evalNode(n.args[i], ctx);
  const literal = (i: number) => (i < n.args.length ? literalOf(n.args[i]) : undefined);
  switch (name) {
    case "reshape": {
      const sizes = literal(1);
      if (!Array.isArray(sizes) || !sizes.every((s) => typeof s === "number")) throw new OracleError("reshape needs a list of sizes");
      return tf.reshape(tensor(0), sizes as number[]);
    }
    case "conv2d":
      return tf.conv2d(tensor(0) as tf.Tensor3D, tensor(1) as tf.Tensor4D, numberOf(literal(2), 1), paddingOf(literal(3)));
    case "max_pool2d":
    case "avg_pool2d": {
      const size = numberOf(literal(1), NaN);
      const pool = name === "max_pool2d" ? tf.maxPool : tf.avgPool;
      return pool(tensor(0) as tf.Tensor3D, size, numberOf(literal(2), size), paddingOf(literal(3)));
    }
    default:
      return undefined;
  }
}

function evalFunction(n: FunctionNodeView, ctx: Ctx): tf.Tensor {
  if (n.fn.type !== "SymbolNode" || !n.fn.name) throw new OracleError("unsupported call");
  const name = n.fn.name;
  const windowed = ctx.elementwise ? undefined : evalWindowFunction(name, n, ctx);
  if (windowed) return windowed;
  const args = n.args.map((a) => evalNode(a, ctx));
  const arity = (k: number) => {
    if (args.length !== k) throw new OracleError(`${name} takes ${k} argument(s), found ${args.length}`);
  };

  const body = Object.prototype.hasOwnProperty.call(ctx.functions, name) ? ctx.functions[name] : undefined;
  if (body !== undefined) {
    arity(1);
    if (ctx.active.includes(name)) throw new OracleError(`recursive function ${name}`);
    return evalNode(parseCached(body), {
      vars: new Map([["x", args[0]]]),
      functions: ctx.functions,
      elementwise: true,
      active: [...ctx.active, name],
    });
  }

  const unary = ELEMENTWISE[name];
  if (unary && name !== "identity" && name !== "linear") {
    arity(1);
    return unary(args[0]);
  }
  switch (name) {
    case "sum":
      arity(1);
      return ctx.elementwise ? args[0] : tf.sum(args[0]);
    case "mean":
      arity(1);
      return ctx.elementwise ? args[0] : tf.mean(args[0]);
    case "logsumexp":
      arity(1);
      return ctx.elementwise ? args[0] : tf.logSumExp(args[0]);
    case "softmax": {
      arity(1);
      const a = args[0];
      if (ctx.elementwise) return tf.onesLike(a);
      if (rank(a) === 0) throw new OracleError("softmax needs a vector, found a scalar");
      return tf.reshape(tf.softmax(tf.reshape(a, [-1])), a.shape);
    }
    case "max":
    case "maximum":
      arity(2);
      return elementwise2(name, args[0], args[1], tf.maximum);
    case "min":
    case "minimum":
      arity(2);
      return elementwise2(name, args[0], args[1], tf.minimum);
    case "dot":
      arity(2);
      if (ctx.elementwise) return tf.mul(args[0], args[1]);
      if (!sameShape(args[0], args[1]) || rank(args[0]) === 0) {
        throw new OracleError(`dot needs two vectors of the same size, found ${shapeText(args[0])} and ${shapeText(args[1])}`);
      }
      return tf.sum(tf.mul(args[0], args[1]));
    case "transpose":
      arity(1);
      return transpose(args[0], ctx);
    default:
      throw new OracleError(`unknown function ${name}`);
  }
}

// ---- the equation-form network -----------------------------------------------------------------------

export interface Slot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface EquationLayout {
  params: Slot[];
  inputs: Slot[];
  targets: Slot[];
  paramCount: number;
  inputSize: number;
  targetSize: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function slots(entries: [string, number[]][]): { slots: Slot[]; total: number } {
  let offset = 0;
  const out: Slot[] = [];
  for (const [name, shape] of entries) {
    const size = sizeOf(shape);
    out.push({ name, shape: [...shape], offset, size });
    offset += size;
  }
  return { slots: out, total: offset };
}

export function equationLayout(spec: EquationNetSpec): EquationLayout {
  const p = slots(Object.entries(spec.params).map(([k, v]) => [k, v.shape]));
  const i = slots(Object.entries(spec.inputs));
  const t = slots(Object.entries(spec.targets));
  return { params: p.slots, inputs: i.slots, targets: t.slots, paramCount: p.total, inputSize: i.total, targetSize: t.total };
}

interface ParsedEquation {
  name: string;
  value: MathNode;
}

function parseEquations(spec: EquationNetSpec): ParsedEquation[] {
  return spec.equations.map((text) => {
    const node = parseCached(text) as unknown as { type: string; object?: { type: string; name?: string }; index?: unknown; value?: MathNode };
    if (node.type !== "AssignmentNode" || node.object?.type !== "SymbolNode" || node.index || !node.value || !node.object.name) {
      throw new OracleError(`equation "${text}" is not of the form name = expression`);
    }
    return { name: node.object.name, value: node.value };
  });
}

function sliceConst(data: Float64Array, start: number, slot: Slot): tf.Tensor {
  const values = Float32Array.from(data.subarray(start + slot.offset, start + slot.offset + slot.size));
  return tf.tensor(values, slot.shape, "float32");
}

/** Evaluates the network for one sample; returns every defined name (params, inputs, targets, equations). */
function runSample(
  spec: EquationNetSpec,
  equations: ParsedEquation[],
  paramTensors: Map<string, tf.Tensor>,
  sampleConsts: Map<string, tf.Tensor>,
): Map<string, tf.Tensor> {
  const vars = new Map<string, tf.Tensor>(paramTensors);
  for (const [k, v] of sampleConsts) {
    if (vars.has(k)) throw new OracleError(`name ${k} declared twice`);
    vars.set(k, v);
  }
  const functions = spec.functions ?? {};
  for (const eq of equations) {
    if (vars.has(eq.name)) throw new OracleError(`name ${eq.name} defined twice`);
    const ctx: Ctx = { vars, functions, elementwise: false, active: [] };
    vars.set(eq.name, evalNode(eq.value, ctx));
  }
  return vars;
}

function bindParams(layout: EquationLayout, p: tf.Tensor): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const s of layout.params) m.set(s.name, tf.reshape(tf.slice(p, [s.offset], [s.size]), s.shape));
  return m;
}

export interface OracleResult {
  /** The batch objective J (mean of the per-sample loss + regularizer, or + λ/2 Σ‖W‖²). */
  loss: number;
  /** dJ/dp in the flat parameter layout. */
  grad: Float64Array;
  /** [batch, outputSize] row-major. */
  output: Float64Array;
}

/** The equation-form network computed with TF.js (float32) and differentiated by TF.js autodiff. */
export function tfEquationNet(
  spec: EquationNetSpec,
  params: Float64Array,
  x: Float64Array,
  y: Float64Array,
  batch: number,
): OracleResult {
  const layout = equationLayout(spec);
  if (params.length !== layout.paramCount) throw new OracleError(`params: expected ${layout.paramCount}, found ${params.length}`);
  if (x.length !== batch * layout.inputSize) throw new OracleError(`x: expected ${batch * layout.inputSize}, found ${x.length}`);
  if (y.length !== batch * layout.targetSize) throw new OracleError(`y: expected ${batch * layout.targetSize}, found ${y.length}`);
  const equations = parseEquations(spec);
  const functions = spec.functions ?? {};

  return scoped(() => {
    const samples: Map<string, tf.Tensor>[] = [];
    for (let s = 0; s < batch; s++) {
      const m = new Map<string, tf.Tensor>();
      for (const slot of layout.inputs) m.set(slot.name, sliceConst(x, s * layout.inputSize, slot));
      for (const slot of layout.targets) {
        if (m.has(slot.name)) throw new OracleError(`name ${slot.name} declared twice`);
        m.set(slot.name, sliceConst(y, s * layout.targetSize, slot));
      }
      samples.push(m);
    }

    const objective = (p: tf.Tensor): tf.Scalar => {
      const ps = bindParams(layout, p);
      const losses = samples.map((consts) => {
        const vars = runSample(spec, equations, ps, consts);
        const l = evalNode(parseCached(spec.loss), { vars, functions, elementwise: false, active: [] });
        if (rank(l) !== 0) throw new OracleError(`loss must be a scalar, found ${shapeText(l)}`);
        return l;
      });
      let j = tf.div(tf.addN(losses), batch);
      if (spec.regularizer !== undefined) {
        const r = evalNode(parseCached(spec.regularizer), { vars: ps, functions, elementwise: false, active: [] });
        if (rank(r) !== 0) throw new OracleError(`regularizer must be a scalar, found ${shapeText(r)}`);
        j = tf.add(j, r);
      }
      return j as tf.Scalar;
    };

    const p = tf.tensor1d(Float32Array.from(params), "float32");
    const { value, grad } = tf.valueAndGrad(objective)(p);

    const ps = bindParams(layout, p);
    const outputs = samples.map((consts) => tf.reshape(runSample(spec, equations, ps, consts).get(spec.output) ?? missing(spec.output), [-1]));

    return {
      loss: value.dataSync()[0],
      grad: Float64Array.from(grad.dataSync()),
      output: Float64Array.from(tf.concat(outputs).dataSync()),
    };
  });
}

/** Runs `f` in a TF.js scope: every tensor it creates is disposed afterwards. */
export function scoped<T>(f: () => T): T {
  tf.engine().startScope();
  try {
    return f();
  } finally {
    tf.engine().endScope();
  }
}

function missing(name: string): never {
  throw new OracleError(`output ${name} is not defined`);
}

/** Per-sample output size of an equation net (evaluates the shapes once with zero data). */
export function equationOutputSize(spec: EquationNetSpec): number {
  const layout = equationLayout(spec);
  return tf.tidy(() => {
    const equations = parseEquations(spec);
    const ps = bindParams(layout, tf.zeros([layout.paramCount]));
    const consts = new Map<string, tf.Tensor>();
    for (const s of [...layout.inputs, ...layout.targets]) consts.set(s.name, tf.zeros(s.shape));
    const out = runSample(spec, equations, ps, consts).get(spec.output) ?? missing(spec.output);
    return sizeOf(out.shape);
  });
}
