/**
 * An ONNX graph that is not a chain of layers (branches joined by Add, Mul or Concat) as the equation form: one
 * equation per node, over vectors (and rows of matrices) per sample. Each weight becomes a parameter, each node's
 * output a value; their names are made from the ONNX names with a prefix (`w_` parameters, `v_` values), so they
 * are identifiers that no function or reserved word of net.json can be, and unique. Images are bpgen's, channels
 * last: an input that a convolution, a pooling or a batch norm reads first has its channels moved last (as the layer
 * form's), filters [out, in, k...] become [k..., in, out], a constant per channel ([C, 1, …]) a vector [C], and a
 * flattened image keeps, in `perm`, where each of its values is in ONNX's flattening, so that a Gemm after it has its
 * weight's columns permuted and computes what ONNX computes.
 */
import { BpgenError, printable } from "../../errors.ts";
import type { NamedTensor } from "../safetensors.ts";
import { CONV_ATTRIBUTES, channelsFirstPositions, channelsLastFilter, convWindow, poolAttributes, poolWindow, type Window } from "./layouts.ts";
import { Attributes, type Constant, quoted, type ReadModel } from "./read.ts";
import { computedSizes, constantSizes, type Size, type Sizes } from "./sizes.ts";
import type { NodeMessage } from "./proto.ts";

/** The ONNX ops the equation form imports, for messages. */
export const EQUATION_OPS = [
  "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Erf", "Relu", "Sigmoid", "Tanh", "Softplus",
  "Softsign", "LeakyRelu", "Elu", "Gelu", "Softmax", "LogSoftmax", "LayerNormalization", "Concat", "Flatten", "Reshape", "Dropout", "Identity",
  "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization (inference)",
] as const;

/** How bpgen holds a value that ONNX holds otherwise. */
interface Layout {
  /** An image ONNX holds channels first ([C, spatial...]) and bpgen channels last ([spatial..., C], its shape). */
  readonly image?: boolean;
  /** A vector flattened from an image: bpgen's position → ONNX's. */
  readonly perm?: Int32Array;
}

interface Expr extends Layout {
  /** A name of net.json, or an expression in parentheses, or a number. */
  readonly text: string;
  /** Per sample (bpgen's). */
  readonly shape: readonly number[];
}

export interface EquationImport {
  readonly spec: Record<string, unknown>;
  readonly tensors: NamedTensor[];
  readonly softmax: boolean;
  /** What the user should know (an input or the output channels last, batch norm's form), one line each. */
  readonly notes: string[];
  /** Whether an input or the output is an image, held channels last. */
  readonly channelsLast: boolean;
}

const UNARY: Record<string, string> = {
  Neg: "-", Exp: "exp", Log: "log", Sqrt: "sqrt", Abs: "abs", Erf: "erf", Relu: "relu", Sigmoid: "sigmoid", Tanh: "tanh", Softplus: "softplus", Softsign: "softsign",
};
const BINARY: Record<string, string> = { Add: "+", Sub: "-", Mul: ".*", Div: "./", Pow: ".^" };

/**
 * The model as equations; `why` says why it is not the layer form (put in errors about ops this form lacks too);
 * `images` names the inputs read channels first.
 */
export function equationsOf(model: ReadModel, file: string, name: string, why: string, images: ReadonlySet<string>): EquationImport {
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
  const notes: string[] = [];
  for (const i of model.inputs) {
    const id = identifier("x_", i.name);
    const image = images.has(i.name);
    inputs[id] = image ? [...i.dims.slice(1), i.dims[0]] : [...i.dims];
    if (image) notes.push(`input ${id}: [${inputs[id].join(", ")}], channels last: the model's [batch, ${i.dims.join(", ")}] with the channels moved after the spatial axes`);
    values.set(i.name, { text: id, shape: inputs[id], image: image || undefined });
  }
  /** A weight as a parameter [dims without leading 1s] (its values as given), or a literal for one number. */
  /** `transform.layout` tells apart two layouts of one weight (a product's columns in ONNX's order, or permuted for a flattened image). */
  const weight = (onnx: string, c: Constant, transform?: { shape: number[]; data: Float64Array; layout?: string }): Expr => {
    if (!transform && c.data.length === 1) return { text: literal(c.data[0]), shape: [] };
    const key = `${onnx}${transform ? `^T${transform.layout ?? ""}` : ""}`;
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
  const define = (node: NodeMessage, text: string, shape: readonly number[], layout: Layout = {}) => {
    const onnx = node.output?.[0] ?? "";
    const id = identifier("v_", onnx);
    equations.push(`${id} = ${text}`);
    values.set(onnx, { text: id, shape, ...layoutOf(layout) });
  };
  const alias = (node: NodeMessage, e: Expr) => values.set(node.output?.[0] ?? "", e);
  /** Ops that read a value in ONNX's order along an axis (a softmax, a layer norm, a concatenation of vectors) need it as ONNX holds it. */
  const onnxOrdered = (node: NodeMessage, x: Expr): Expr => {
    if (x.image || x.perm) fail(node, `it reads ${x.image ? "an image" : "a flattened image"}, whose values bpgen holds channels last`, "a vector [batch, features] (or, for Concat, images joined along the channels)");
    return x;
  };
  /** A Conv's or pooling's input: an image (the input of an op that needs one but reads something else is this form's limit). */
  const imageOperand = (node: NodeMessage): Expr => {
    const x = operand(node, 0);
    if (!x.image || x.shape.length < 2 || x.shape.length > 4) {
      fail(node, `the graph is not a chain of layers (${why}), and the equation form bpgen imports it as reads ${printable(node.opType ?? "")} only of an image held channels first (an input the first node reading it reads so, or what a convolution or pooling made)`, `in a graph with branches, one of: ${EQUATION_OPS.join(", ")}`, `a value [batch, ${x.shape.join(", ")}]`);
    }
    return x;
  };
  /** An operand of an op with an image: a constant per channel ([C, 1, …], the only constant ONNX broadcasts over an image's channels) is read as [C]. */
  const channelOperand = (node: NodeMessage, k: number, channels: number): Expr => {
    const onnx = node.input?.[k] ?? "";
    const c = values.has(onnx) ? undefined : model.constants.get(onnx);
    if (!c || c.data.length === 1) return operand(node, k);
    const dims = stripOnes(c.dims);
    if (dims[0] !== channels || dims.slice(1).some((d) => d !== 1)) fail(node, `its constant ${quoted(onnx)} does not broadcast over an image's channels`, `one value per channel, [${channels}, 1, …]`, `[${c.dims.join(", ")}]`);
    return weight(onnx, c, { shape: [channels], data: c.data });
  };
  /** The layout two operands of an elementwise op share, or an error: an image with an image or what broadcasts over its channels, the same flattening. */
  const shared = (node: NodeMessage, a: Expr, b: Expr): Layout => {
    const scalar = (e: Expr) => e.shape.length === 0;
    if (a.image || b.image) {
      const fits = (e: Expr) => e.image || scalar(e) || (e.shape.length === 1 && !e.perm && model.constants.has(node.input?.[a === e ? 0 : 1] ?? ""));
      if (!fits(a) || !fits(b)) fail(node, "it joins an image with a value that is not one", "two images, or an image and a scalar or one constant per channel", `[${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
      return { image: true };
    }
    if (a.perm || b.perm) {
      const same = (e: Expr) => scalar(e) || (e.perm !== undefined && e.perm.join() === (a.perm ?? b.perm)?.join());
      if (!same(a) || !same(b)) fail(node, "it joins a flattened image with a value not flattened the same way", "two values flattened from images of one shape, or a scalar");
      return { perm: a.perm ?? b.perm };
    }
    return {};
  };
  /** Flatten (axis 1) or Reshape to [batch, size] of an image: bpgen's flattening, channels last, with where ONNX has each value. */
  const flattenImage = (node: NodeMessage, x: Expr): void => {
    const size = x.shape.reduce((p, d) => p * d, 1);
    if (node.opType === "Flatten") {
      const axis = new Attributes(node, file, ["axis"]).int("axis", 1);
      if (axis !== 1) fail(node, `it flattens from axis ${axis}; bpgen flattens each sample (axis 1)`, "axis = 1");
    } else {
      new Attributes(node, file, ["allowzero"]);
      const target = sizesOf(node.input?.[1] ?? "")?.values;
      const flat = target !== undefined && target.length === 2 && (target[1] === size || target[1] === -1) && (target[0] === "batch" || target[0] === -1 || target[0] === 0);
      if (!flat) fail(node, "bpgen imports a reshape of an image only as a flatten of each sample", `a shape [batch, ${size}] or [-1, ${size}] (a constant, or computed from the batch size as x.view(x.size(0), -1))`, target ? `[${target.join(", ")}]` : undefined);
    }
    // an image of one position ([1, …, C], a global pooling's) flattens in the same order both ways
    const positions = size / x.shape[x.shape.length - 1];
    define(node, `reshape(${x.text}, [${size}])`, [size], positions === 1 ? {} : { perm: channelsFirstPositions(x.shape) });
  };

  /**
   * BatchNormalization in its inference form, (x - mean) ./ sqrt(var + eps) .* scale + bias over the channels of an
   * image or the features of a vector: scale and bias parameters, the running statistics constants.
   */
  const defineBatchNorm = (node: NodeMessage): void => {
    const a = new Attributes(node, file, ["epsilon", "momentum", "training_mode", "spatial"]);
    if (a.int("spatial", 1) !== 1) a.refuse("spatial", String(a.int("spatial", 1)), "1");
    for (const extra of (node.output ?? []).slice(1)) if (extra !== "" && model.nodes.some((n) => n.input?.includes(extra))) fail(node, `its output ${quoted(extra)} (a running statistic) is read, and bpgen computes only the first output`);
    const x = operand(node, 0);
    if (x.perm || !(x.image || x.shape.length === 1)) fail(node, "in the equation form bpgen normalises an image's channels or a vector's features", "a batch norm of [batch, features] or of an image channels first");
    const channels = x.shape[x.shape.length - 1];
    const statistic = (k: number, what: string): string => {
      const c = model.constants.get(node.input?.[k] ?? "");
      if (!c || c.data.length !== channels) return fail(node, `its ${what} is not a constant of one value per channel`, `${channels} values`);
      return `[${Array.from(c.data, (v) => literal(v)).join(", ")}]`;
    };
    const [g, b] = [channelOperand(node, 1, channels), channelOperand(node, 2, channels)];
    const text = `(${x.text} - ${statistic(3, "running mean")}) ./ sqrt(${statistic(4, "running variance")} + ${literal(a.float("epsilon", 1e-5))}) .* ${g.text} + ${b.text}`;
    define(node, text, x.shape, x);
  };
  /** Sizes computed from a value's shape (PyTorch's x.view(x.size(0), -1)), ONNX's, the batch symbolic. */
  const sizes = new Map<string, Sizes>();
  const sizesOf = (onnx: string): Sizes | undefined => {
    const c = values.has(onnx) ? undefined : model.constants.get(onnx);
    return sizes.get(onnx) ?? (c && constantSizes(c));
  };
  const shapeOf = (onnx: string): readonly Size[] | undefined => {
    const v = values.get(onnx);
    return v && ["batch", ...(v.image ? [v.shape[v.shape.length - 1], ...v.shape.slice(0, -1)] : v.shape)];
  };
  /**
   * A node that computes sizes, recorded (no equation); false for any other node: sizes start at a Shape of a value
   * (a Shape of sizes is their count), and a node reading none of them (a Concat of values) is not one.
   */
  const sizeNode = (node: NodeMessage): boolean => {
    const inputs = node.input ?? [];
    if (node.opType === "Shape" ? !values.has(inputs[0] ?? "") && !sizes.has(inputs[0] ?? "") : !inputs.some((i) => sizes.has(i))) return false;
    const computed = computedSizes(node, file, { shapeOf, sizesOf });
    if (computed) sizes.set(node.output?.[0] ?? "", computed);
    return computed !== undefined;
  };
  let softmax = false;
  let batchNorm = false;

  for (const node of model.nodes) {
    const op = node.opType ?? "";
    if (sizeNode(node)) continue;
    if (UNARY[op]) {
      new Attributes(node, file, []);
      const x = operand(node, 0);
      define(node, op === "Neg" ? `-${x.text}` : `${UNARY[op]}(${x.text})`, x.shape, x);
    } else if (BINARY[op]) {
      new Attributes(node, file, []);
      const image = [0, 1].map((k) => values.get(node.input?.[k] ?? "")).find((v) => v?.image);
      const [a, b] = image ? [channelOperand(node, 0, image.shape[image.shape.length - 1]), channelOperand(node, 1, image.shape[image.shape.length - 1])] : [operand(node, 0), operand(node, 1)];
      const layout = shared(node, a, b);
      const shape = broadcast(a.shape, b.shape) ?? fail(node, "its operands do not broadcast per sample", "shapes equal, or one of them a scalar or a row", `[${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
      const symbol = (a.shape.length === 0 || b.shape.length === 0) && (op === "Mul" || op === "Div") ? (op === "Mul" ? "*" : "/") : BINARY[op];
      define(node, `${a.text} ${symbol} ${b.text}`, shape, layout);
    } else if (op === "Gemm" || op === "MatMul") {
      const a = op === "Gemm" ? new Attributes(node, file, ["alpha", "beta", "transA", "transB"]) : new Attributes(node, file, []);
      if (a.float("alpha", 1) !== 1) a.refuse("alpha", String(a.float("alpha", 1)), "1");
      if (a.float("beta", 1) !== 1) a.refuse("beta", String(a.float("beta", 1)), "1");
      if (a.int("transA", 0) !== 0) a.refuse("transA", String(a.int("transA", 0)), "0");
      const x = operand(node, 0);
      const B = model.constants.get(node.input?.[1] ?? "");
      if (!B || B.dims.length !== 2) return fail(node, "bpgen imports a product by a weight matrix stored in the model", "a constant [in, out] (or [out, in] with transB)");
      if (x.image) fail(node, "it multiplies an image; flatten it first", "a Flatten or Reshape to [batch, size] before the product");
      const transB = a.int("transB", 0) === 1;
      const [rows, cols] = B.dims;
      const [inputs, units] = transB ? [cols, rows] : [rows, cols];
      if (x.shape[x.shape.length - 1] !== inputs || x.shape.length > 2) fail(node, "its weight does not fit its input", `an input [${inputs}] or [rows, ${inputs}]`, `[${x.shape.join(", ")}]`);
      // W [units, inputs], bpgen's dense layout: W * x for a vector, x * W' for rows; after a flatten of an image,
      // column j reads bpgen's value j, which is ONNX's value perm[j]
      const dense = transB ? B.data : transpose(B.data, rows, cols);
      const W = weight(node.input?.[1] ?? "", B, { shape: [units, inputs], data: x.perm ? permutedColumns(dense, units, x.perm) : dense, layout: x.perm?.join() });
      let text = x.shape.length === 1 ? `${W.text} * ${x.text}` : `${x.text} * ${W.text}'`;
      const shape = x.shape.length === 1 ? [units] : [x.shape[0], units];
      const C = node.input?.[2] ? operand(node, 2) : undefined;
      if (C) text = `${text} + ${C.text}`;
      define(node, text, shape);
    } else if (op === "Softmax" || op === "LogSoftmax") {
      const axis = new Attributes(node, file, ["axis"]).int("axis", -1);
      const x = onnxOrdered(node, operand(node, 0));
      if (axis !== -1 && axis !== x.shape.length) fail(node, "bpgen takes a softmax over the last axis", "axis = -1");
      define(node, `${op === "Softmax" ? "softmax" : "log_softmax"}(${x.text})`, x.shape);
      softmax = node.output?.[0] === model.output && op === "Softmax";
    } else if (op === "LeakyRelu" || op === "Elu") {
      const alpha = new Attributes(node, file, ["alpha"]).float("alpha", op === "Elu" ? 1 : 0.01);
      define(node, `${op === "Elu" ? "elu" : "leaky_relu"}(${operand(node, 0).text}, ${literal(alpha)})`, operand(node, 0).shape, operand(node, 0));
    } else if (op === "Gelu") {
      const approximate = new Attributes(node, file, ["approximate"]).string("approximate", "none");
      define(node, `${approximate === "tanh" ? "gelu" : "gelu_exact"}(${operand(node, 0).text})`, operand(node, 0).shape, operand(node, 0));
    } else if (op === "LayerNormalization") {
      const a = new Attributes(node, file, ["axis", "epsilon", "stash_type"]);
      const x = onnxOrdered(node, operand(node, 0));
      if (x.shape.length !== 1 || (a.int("axis", -1) !== -1 && a.int("axis", -1) !== 1)) fail(node, "in the equation form bpgen normalises vectors", "a layer norm of [batch, features] over the features");
      const [g, bias] = [operand(node, 1), node.input?.[2] ? operand(node, 2) : undefined];
      const centred = `(${x.text} - mean(${x.text}))`;
      const text = `${centred} ./ sqrt(mean(${centred}.^2) + ${literal(a.float("epsilon", 1e-5))}) .* ${g.text}${bias ? ` + ${bias.text}` : ""}`;
      define(node, text, x.shape);
    } else if (op === "Concat") {
      const axis = new Attributes(node, file, ["axis"]).int("axis", 1);
      const parts = (node.input ?? []).map((_, k) => operand(node, k));
      if (parts.some((p) => p.image)) {
        // images joined along ONNX's axis 1, the channels: bpgen's last axis, concat's default
        const spatial = parts[0].shape.slice(0, -1).join();
        if (axis !== 1 || parts.some((p) => !p.image || p.shape.slice(0, -1).join() !== spatial)) fail(node, "bpgen imports a concatenation of images along their channels", "images of one spatial shape joined along axis 1");
        define(node, `concat(${parts.map((p) => p.text).join(", ")})`, [...parts[0].shape.slice(0, -1), parts.reduce((s, p) => s + p.shape[p.shape.length - 1], 0)], { image: true });
        continue;
      }
      parts.forEach((p) => onnxOrdered(node, p));
      if (parts.some((p) => p.shape.length !== 1) || (axis !== 1 && axis !== -1)) fail(node, "bpgen imports a concatenation of vectors per sample", "vectors joined along axis 1");
      define(node, `concat(${parts.map((p) => p.text).join(", ")})`, [parts.reduce((s, p) => s + p.shape[0], 0)]);
    } else if (op === "Conv") {
      const a = new Attributes(node, file, CONV_ATTRIBUTES);
      if (a.int("group", 1) !== 1) a.refuse("group", String(a.int("group", 1)), "group = 1 (bpgen's convolutions connect every input channel to every filter)");
      const x = imageOperand(node);
      const n = x.shape.length - 1;
      const channels = x.shape[n];
      const W = model.constants.get(node.input?.[1] ?? "");
      if (!W || W.dims.length !== n + 2 || W.dims[1] !== channels) return fail(node, "its filter is not a constant that fits its input", `a constant [filters, ${channels}, ${n} kernel sizes]`, W ? `[${W.dims.join(", ")}]` : "a computed value");
      const [filters, kernel] = [W.dims[0], W.dims.slice(2)];
      const window = convWindow(a, kernel, x.shape.slice(0, n), (message) => fail(node, message));
      const w = weight(node.input?.[1] ?? "", W, { shape: [...kernel, channels, filters], data: channelsLastFilter(W.data, W.dims) });
      const B = node.input?.[2] ? model.constants.get(node.input[2]) : undefined;
      if (node.input?.[2] && (!B || B.data.length !== filters)) fail(node, "its bias is not a constant of one value per filter", `[${filters}]`, B ? `[${B.dims.join(", ")}]` : "a computed value");
      const bias = B ? weight(node.input?.[2] ?? "", B, { shape: [filters], data: B.data }) : undefined;
      define(node, `conv${n}d(${x.text}, ${w.text}, ${windowOptions(window, true)})${bias ? ` + ${bias.text}` : ""}`, [...window.out, filters], { image: true });
    } else if (op === "MaxPool" || op === "AveragePool") {
      const max = op === "MaxPool";
      const a = new Attributes(node, file, poolAttributes(max));
      const x = imageOperand(node);
      const n = x.shape.length - 1;
      const window = poolWindow(a, max, x.shape.slice(0, n), (message) => fail(node, message));
      define(node, `${max ? "max" : "avg"}_pool${n}d(${x.text}, ${listText(window.kernel)}, ${windowOptions(window, false)})`, [...window.out, x.shape[n]], { image: true });
    } else if (op === "GlobalAveragePool") {
      new Attributes(node, file, []);
      const x = imageOperand(node);
      const n = x.shape.length - 1;
      // one window over the whole image: [1, …, C], as ONNX's [C, 1, …]
      define(node, `avg_pool${n}d(${x.text}, ${listText(x.shape.slice(0, n))})`, [...x.shape.slice(0, n).map(() => 1), x.shape[n]], { image: true });
    } else if (op === "BatchNormalization") {
      batchNorm = true;
      defineBatchNorm(node);
    } else if (op === "Identity" || op === "Dropout" || op === "Flatten" || op === "Reshape") {
      const x = operand(node, 0);
      if ((op === "Flatten" || op === "Reshape") && x.image) {
        flattenImage(node, x);
        continue;
      }
      if ((op === "Flatten" || op === "Reshape") && x.shape.length !== 1) fail(node, "in the equation form bpgen reshapes only vectors, and images to vectors");
      alias(node, x);
    } else {
      fail(node, `the graph is not a chain of layers (${why}), and the equation form bpgen imports it as has no ${printable(op)}`, `in a graph with branches, one of: ${EQUATION_OPS.join(", ")}`, printable(op));
    }
  }
  const output = values.get(model.output);
  if (!output) throw new BpgenError({ file, message: `no node computes the model's output ${quoted(model.output)}` });
  if (output.perm) throw new BpgenError({ file, message: `the model's output ${quoted(model.output)} is a flattened image, whose values bpgen holds channels last`, expected: "an output that is a vector computed from it, or the image itself" });
  if (output.image) notes.push(`output y: [${output.shape.join(", ")}], channels last, as the target t`);
  if (batchNorm) notes.push("batch norm is written in its inference form, its running statistics as constants: forward and training both normalise with them");
  const out = identifier("y", "");
  equations.push(`${out} = ${output.text}`);
  const loss = softmax ? `-sum(t .* log(${out}))` : `0.5 * sum((${out} - t).^2)`;
  const spec = { name, params, inputs, targets: { t: [...output.shape] }, equations, output: out, loss };
  return { spec, tensors, softmax, notes, channelsLast: model.inputs.some((i) => images.has(i.name)) || output.image === true };

}

/** A window's stride, padding and (when not 1) dilation as a convolution's or pooling's arguments in an equation. */
function windowOptions(w: Window, dilation: boolean): string {
  const spec = w.padding.spec;
  const padding = typeof spec === "string" ? JSON.stringify(spec) : typeof spec === "number" ? String(spec) : JSON.stringify(spec).replace(/,/g, ", ");
  const dilated = dilation && w.dilation.some((d) => d !== 1);
  return `${listText(w.stride)}, ${padding}${dilated ? `, ${listText(w.dilation)}` : ""}`;
}

/** One size per spatial axis: a number when they are all equal. */
function listText(sizes: readonly number[]): string {
  return sizes.every((s) => s === sizes[0]) ? String(sizes[0]) : `[${sizes.join(", ")}]`;
}

/** A weight [rows, cols] whose column j is the given one's column perm[j]. */
function permutedColumns(values: Float64Array, rows: number, perm: Int32Array): Float64Array {
  const cols = perm.length;
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = values[r * cols + perm[j]];
  return out;
}

/** The layout fields a value keeps (none when it is held as ONNX holds it). */
function layoutOf(l: Layout): Layout {
  return { ...(l.image ? { image: true } : {}), ...(l.perm ? { perm: l.perm } : {}) };
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
  if (small.length === 1 && big[big.length - 1] === small[0]) return big;
  // an image and one of a single position ([1, …, C], a global pooling's) of as many axes
  const ones = small.length === big.length && small.slice(0, -1).every((d) => d === 1) && small[small.length - 1] === big[big.length - 1];
  return ones ? big : undefined;
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
