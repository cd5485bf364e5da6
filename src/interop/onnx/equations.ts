/**
 * An ONNX graph that is not a chain of layers (branches joined by Add, Mul or Concat) as the equation form: one
 * equation per node, over vectors (and rows of matrices) per sample. Each weight becomes a parameter, each node's
 * output a value; their names are made from the ONNX names with a prefix (`w_` parameters, `v_` values), so they
 * are identifiers that no function or reserved word of net.json can be, and unique. Images (convolution, pooling)
 * are the layer form's: here they are one error naming the node.
 */
import { BpgenError, printable } from "../../errors.ts";
import type { NamedTensor } from "../safetensors.ts";
import { Attributes, type Constant, quoted, type ReadModel } from "./read.ts";
import type { NodeMessage } from "./proto.ts";

/** The ONNX ops the equation form imports, for messages. */
export const EQUATION_OPS = [
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Erf", "Relu", "Sigmoid", "Tanh", "Softplus",
  "Softsign", "LeakyRelu", "Elu", "Gelu", "Softmax", "LogSoftmax", "LayerNormalization", "Concat", "Flatten", "Reshape", "Dropout", "Identity",
] as const;

interface Expr {
  /** A name of net.json, or an expression in parentheses, or a number. */
  readonly text: string;
  /** Per sample. */
  readonly shape: readonly number[];
}

export interface EquationImport {
  readonly spec: Record<string, unknown>;
  readonly tensors: NamedTensor[];
  readonly softmax: boolean;
}

const UNARY: Record<string, string> = {
  Neg: "-", Exp: "exp", Log: "log", Sqrt: "sqrt", Abs: "abs", Erf: "erf", Relu: "relu", Sigmoid: "sigmoid", Tanh: "tanh", Softplus: "softplus", Softsign: "softsign",
};
const BINARY: Record<string, string> = { Add: "+", Sub: "-", Mul: ".*", Div: "./", Pow: ".^" };

/** The model as equations; `why` says why it is not the layer form (put in errors about ops this form lacks too). */
export function equationsOf(model: ReadModel, file: string, name: string, why: string): EquationImport {
  const values = new Map<string, Expr>();
  const names = new Set<string>();
  const params: Record<string, { shape: number[] }> = {};
  const tensors: NamedTensor[] = [];
  const equations: string[] = [];
  const paramOf = new Map<string, Expr>();
  const identifier = (prefix: string, onnx: string) => {
    const base = `${prefix}${onnx.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "").slice(0, 60)}` || prefix;
    let id = base.endsWith("_") ? base.slice(0, -1) || prefix : base;
    for (let k = 2; names.has(id); k++) id = `${base}_${k}`;
    names.add(id);
    return id;
  };
  const fail = (node: NodeMessage, message: string, expected?: string, found?: string): never => {
    throw new BpgenError({ file, message: `node ${quoted(node.name || node.output?.[0])} (${printable(node.opType ?? "")}): ${message}`, expected, found });
  };
  const inputs: Record<string, number[]> = {};
  for (const i of model.inputs) {
    const id = identifier("x_", i.name);
    inputs[id] = [...i.dims];
    values.set(i.name, { text: id, shape: i.dims });
  }
  /** A weight as a parameter [dims without leading 1s] (its values as given), or a literal for one number. */
  const weight = (onnx: string, c: Constant, transform?: { shape: number[]; data: Float64Array }): Expr => {
    if (!transform && c.data.length === 1) return { text: literal(c.data[0]), shape: [] };
    const key = `${onnx}${transform ? "^T" : ""}`;
    const known = paramOf.get(key);
    if (known) return known;
    const shape = transform?.shape ?? stripOnes(c.dims);
    const id = identifier("w_", onnx);
    params[id] = { shape };
    tensors.push({ name: id, dtype: "F32", shape, data: Float32Array.from(transform?.data ?? c.data) });
    const e = { text: id, shape };
    paramOf.set(key, e);
    return e;
  };
  const operand = (node: NodeMessage, k: number): Expr => {
    const onnx = node.input?.[k] ?? "";
    const v = values.get(onnx);
    if (v) return v;
    const c = model.constants.get(onnx);
    if (c) return weight(onnx, c);
    return fail(node, `it reads ${quoted(onnx)}, which no node before it computed`);
  };
  const define = (node: NodeMessage, text: string, shape: readonly number[]) => {
    const onnx = node.output?.[0] ?? "";
    const id = identifier("v_", onnx);
    equations.push(`${id} = ${text}`);
    values.set(onnx, { text: id, shape });
  };
  const alias = (node: NodeMessage, e: Expr) => values.set(node.output?.[0] ?? "", e);
  let softmax = false;

  for (const node of model.nodes) {
    const op = node.opType ?? "";
    if (UNARY[op]) {
      new Attributes(node, file, []);
      const x = operand(node, 0);
      define(node, op === "Neg" ? `-${x.text}` : `${UNARY[op]}(${x.text})`, x.shape);
    } else if (BINARY[op]) {
      new Attributes(node, file, []);
      const [a, b] = [operand(node, 0), operand(node, 1)];
      const shape = broadcast(a.shape, b.shape) ?? fail(node, "its operands do not broadcast per sample", "shapes equal, or one of them a scalar or a row", `[${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
      const symbol = (a.shape.length === 0 || b.shape.length === 0) && (op === "Mul" || op === "Div") ? (op === "Mul" ? "*" : "/") : BINARY[op];
      define(node, `${a.text} ${symbol} ${b.text}`, shape);
    } else if (op === "Gemm" || op === "MatMul") {
      const a = op === "Gemm" ? new Attributes(node, file, ["alpha", "beta", "transA", "transB"]) : new Attributes(node, file, []);
      if (a.float("alpha", 1) !== 1) a.refuse("alpha", String(a.float("alpha", 1)), "1");
      if (a.float("beta", 1) !== 1) a.refuse("beta", String(a.float("beta", 1)), "1");
      if (a.int("transA", 0) !== 0) a.refuse("transA", String(a.int("transA", 0)), "0");
      const x = operand(node, 0);
      const B = model.constants.get(node.input?.[1] ?? "");
      if (!B || B.dims.length !== 2) return fail(node, "bpgen imports a product by a weight matrix stored in the model", "a constant [in, out] (or [out, in] with transB)");
      const transB = a.int("transB", 0) === 1;
      const [rows, cols] = B.dims;
      const [inputs, units] = transB ? [cols, rows] : [rows, cols];
      if (x.shape[x.shape.length - 1] !== inputs || x.shape.length > 2) fail(node, "its weight does not fit its input", `an input [${inputs}] or [rows, ${inputs}]`, `[${x.shape.join(", ")}]`);
      // W [units, inputs], bpgen's dense layout: W * x for a vector, x * W' for rows
      const W = weight(node.input?.[1] ?? "", B, { shape: [units, inputs], data: transB ? B.data : transpose(B.data, rows, cols) });
      let text = x.shape.length === 1 ? `${W.text} * ${x.text}` : `${x.text} * ${W.text}'`;
      const shape = x.shape.length === 1 ? [units] : [x.shape[0], units];
      const C = node.input?.[2] ? operand(node, 2) : undefined;
      if (C) text = `${text} + ${C.text}`;
      define(node, text, shape);
    } else if (op === "Softmax" || op === "LogSoftmax") {
      const axis = new Attributes(node, file, ["axis"]).int("axis", -1);
      const x = operand(node, 0);
      if (axis !== -1 && axis !== x.shape.length) fail(node, "bpgen takes a softmax over the last axis", "axis = -1");
      define(node, `${op === "Softmax" ? "softmax" : "log_softmax"}(${x.text})`, x.shape);
      softmax = node.output?.[0] === model.output && op === "Softmax";
    } else if (op === "LeakyRelu" || op === "Elu") {
      const alpha = new Attributes(node, file, ["alpha"]).float("alpha", op === "Elu" ? 1 : 0.01);
      define(node, `${op === "Elu" ? "elu" : "leaky_relu"}(${operand(node, 0).text}, ${literal(alpha)})`, operand(node, 0).shape);
    } else if (op === "Gelu") {
      const approximate = new Attributes(node, file, ["approximate"]).string("approximate", "none");
      define(node, `${approximate === "tanh" ? "gelu" : "gelu_exact"}(${operand(node, 0).text})`, operand(node, 0).shape);
    } else if (op === "LayerNormalization") {
      const a = new Attributes(node, file, ["axis", "epsilon", "stash_type"]);
      const x = operand(node, 0);
      if (x.shape.length !== 1 || (a.int("axis", -1) !== -1 && a.int("axis", -1) !== 1)) fail(node, "in the equation form bpgen normalises vectors", "a layer norm of [batch, features] over the features");
      const [g, bias] = [operand(node, 1), node.input?.[2] ? operand(node, 2) : undefined];
      const centred = `(${x.text} - mean(${x.text}))`;
      const text = `${centred} ./ sqrt(mean(${centred}.^2) + ${literal(a.float("epsilon", 1e-5))}) .* ${g.text}${bias ? ` + ${bias.text}` : ""}`;
      define(node, text, x.shape);
    } else if (op === "Concat") {
      const axis = new Attributes(node, file, ["axis"]).int("axis", 1);
      const parts = (node.input ?? []).map((_, k) => operand(node, k));
      if (parts.some((p) => p.shape.length !== 1) || (axis !== 1 && axis !== -1)) fail(node, "bpgen imports a concatenation of vectors per sample", "vectors joined along axis 1");
      define(node, `concat(${parts.map((p) => p.text).join(", ")})`, [parts.reduce((s, p) => s + p.shape[0], 0)]);
    } else if (op === "Identity" || op === "Dropout" || op === "Flatten" || op === "Reshape") {
      const x = operand(node, 0);
      if ((op === "Flatten" || op === "Reshape") && x.shape.length !== 1) fail(node, "in the equation form bpgen reshapes only vectors (images are the layer form's)");
      alias(node, x);
    } else {
      fail(node, `the graph is not a chain of layers (${why}), and the equation form bpgen imports it as has no ${printable(op)}`, `in a graph with branches, one of: ${EQUATION_OPS.join(", ")}`, printable(op));
    }
  }
  const output = values.get(model.output);
  if (!output) throw new BpgenError({ file, message: `no node computes the model's output ${quoted(model.output)}` });
  const out = identifier("y", "");
  equations.push(`${out} = ${output.text}`);
  const loss = softmax ? `-sum(t .* log(${out}))` : `0.5 * sum((${out} - t).^2)`;
  const spec = { name, params, inputs, targets: { t: [...output.shape] }, equations, output: out, loss };
  return { spec, tensors, softmax };
}

function stripOnes(dims: readonly number[]): number[] {
  const out = [...dims];
  while (out.length > 1 && out[0] === 1) out.shift();
  return out;
}

/** numpy's broadcast of per-sample shapes, for the shapes equations accept: equal, a scalar, or a row against rows. */
function broadcast(a: readonly number[], b: readonly number[]): readonly number[] | undefined {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a.join() === b.join()) return a;
  const [big, small] = a.length >= b.length ? [a, b] : [b, a];
  return small.length === 1 && big[big.length - 1] === small[0] ? big : undefined;
}

function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** A number as net.json's expressions read it, parenthesised when negative. */
function literal(v: number): string {
  let text = String(v);
  for (let digits = 1; digits < 18; digits++) {
    const n = Number(v.toPrecision(digits));
    if (Math.fround(n) === Math.fround(v)) {
      text = String(n);
      break;
    }
  }
  if (!Number.isFinite(v)) throw new Error(`internal: the constant ${v} is not a number`);
  return v < 0 ? `(${text})` : text.includes("e") ? `(${text})` : text;
}
