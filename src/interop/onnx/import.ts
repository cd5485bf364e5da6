/**
 * `bpgen import model.onnx`: an ONNX model whose graph is a chain of layers bpgen has (residual blocks, with or
 * without a projection, and recurrent layers included) becomes a net.json in the layer form and its weights a
 * safetensors file, under bpgen's parameter names and layouts; any other graph (branches, several inputs) the
 * equation form (equations.ts).
 *
 * The walk follows the chain node by node: each node reads the value the chain has reached (or a layout of it) and
 * adds a layer, joins the layer before (an activation, a bias), or changes only the layout. Layouts: ONNX images are
 * channels first ([batch, channels, spatial...]), bpgen's channels last, so an input a convolution reads first is
 * the model's with the channels moved last ([N, C, H, W] → [H, W, C]); filters [out, in, k...] become
 * [k..., in, out]; and a dense layer after a flatten of an image reads the flattened values in bpgen's order
 * ([H, W, C] row-major), so its weight's columns are permuted to match. Sequences are batch first, as bpgen's rows;
 * ONNX's recurrent ops read them steps first. A bidirectional op (direction "bidirectional", PyTorch's
 * bidirectional=True) is a bidirectional layer when the graph joins its two directions as bpgen's layer does: every
 * step's states side by side, forward first, or the two last states concatenated. Nothing from the file runs as
 * code: op types select from a fixed table, every attribute is read with its type and checked, and the names taken
 * from the file become identifiers.
 */
import { basename, extname } from "node:path";
import { BpgenError, internalError, printable } from "../../errors.ts";
import { buildNet } from "../../pipeline.ts";
import { parseSpec } from "../../spec/load.ts";
import type { NamedTensor } from "../safetensors.ts";
import { equationsOf } from "./equations.ts";
import { type DirectionWeights, lastActivation, type Layer, named, shortFloat } from "./layers.ts";
import { blocks, CONV_ATTRIBUTES, channelsFirstPositions, channelsLastFilter, convWindow, permuted, poolAttributes, poolWindow, transposed } from "./layouts.ts";
import type { NodeMessage } from "./proto.ts";
import { Attributes, type Constant, type ModelInput, quoted, readModel, type ReadModel, tensorValues } from "./read.ts";
import { computedSizes, constantSizes, expandedShape, type Size, type Sizes } from "./sizes.ts";

export { netJsonText } from "./layers.ts";

export interface ImportOptions {
  /** The network's name (an identifier); default the model's graph name or the file's. */
  readonly name?: string;
}

export interface ImportResult {
  readonly name: string;
  /** The net.json, as an object ready to write. */
  readonly spec: Record<string, unknown>;
  /** The parameters and the state (batch norm's running statistics), named and shaped as bpgen's. */
  readonly tensors: readonly NamedTensor[];
  /** What the user should know (the loss chosen, the input's layout), one line each. */
  readonly notes: readonly string[];
}

/** The ONNX ops bpgen imports, for messages. */
export const IMPORTED_OPS = [
  "Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "LayerNormalization",
  "Flatten", "Reshape", "Dropout", "Identity", "Softmax", "LogSoftmax", "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu",
  "Celu", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Gelu", "Mul (x · Sigmoid(x), SiLU)", "LSTM", "GRU", "RNN", "Transpose",
] as const;

/**
 * A value of the ONNX graph as bpgen sees it: its per-sample shape channels last, whether ONNX holds it channels
 * first (`spatial`), and for a vector flattened from an image where each of bpgen's elements is in ONNX's.
 */
interface Value {
  readonly shape: readonly number[];
  readonly spatial: boolean;
  /** ONNX's per-sample rank (a global pool's [C, 1, 1] is bpgen's [C]). */
  readonly onnxRank: number;
  /** bpgen's flat position → ONNX's, for a vector flattened from an image. */
  readonly perm?: Int32Array;
  /** How many layers the list held when this value was made (a residual block starts there). */
  readonly at: number;
  /** A sequence [T, F] that ONNX holds steps first ([T, batch, F], as its recurrent ops read and write them). */
  readonly stepsFirst?: boolean;
  /**
   * A recurrent op's outputs before their Squeeze (or, of both directions, before they are joined): every step's state
   * [T, directions, batch, H], or the last [directions, batch, H].
   */
  readonly recurrentOutput?: "every" | "last";
  /**
   * A bidirectional op's output on its way to bpgen's layout (its shape is the joined one, 2H wide): the directions on
   * their own axis as the op writes them (`apart`), or moved next to the units (`beside`: [T, batch, 2, H] or
   * [batch, 2, H]), which a Reshape joins.
   */
  readonly directions?: "apart" | "beside";
  /** A recurrent layer's every-step output (bpgen's sequence: a dense layer maps each step). */
  readonly sequence?: boolean;
  /** The value this one is a layout of (a Transpose or Squeeze made no layer): nodes may still read that one. */
  readonly aliasOf?: string;
}

/**
 * What the nodes that compute from a value's shape give (PyTorch's `x.view(x.size(0), -1)`, a recurrent op's
 * initial state sized by the batch): sizes, zeros of such a shape, or a learned state (a constant of `dims`)
 * expanded to one: the recurrent op checks the shape is its initial state's, [num_directions, batch, hidden_size].
 */
type StateValue =
  | { readonly kind: "shape"; readonly sizes: Sizes }
  | { readonly kind: "zeros"; readonly shape: readonly Size[] }
  | { readonly kind: "learned"; readonly shape: readonly Size[]; readonly dims: readonly number[]; readonly data: Float64Array };

/** What the import follows of sizes computed from the batch size, for messages. */
const SIZES_EXPECTED =
  "sizes of one axis computed with Shape, Gather, Unsqueeze, Cast, Slice, Concat, Reshape, ConstantOfShape, Mul, Equal and Where (the batch only multiplied by 1, compared with a negative number or itself), read as a Reshape's shape, or as the shape of an initial state of zeros (ConstantOfShape) or of a learned one (Expand of a constant) for an RNN, LSTM or GRU";

/** ONNX's gate blocks in bpgen's (PyTorch's) order: LSTM i, o, f, c → i, f, g, o; GRU z, r, h → r, z, n. */
const FROM_ONNX_GATES: Readonly<Record<"rnn" | "lstm" | "gru", readonly number[]>> = { rnn: [0], lstm: [0, 2, 3, 1], gru: [1, 0, 2] };

/** The ops that may read a bidirectional op's output before its directions are joined (each checks how it does). */
const JOINING_OPS = new Set(["Transpose", "Reshape", "Flatten", "Gather", "Squeeze"]);

/** Ops that read an image channels first: an input they read first is an image [batch, channels, spatial...]. */
const CHANNELS_FIRST_OPS = new Set(["Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization"]);

/** Whether an input is an image held channels first: the first node that reads it reads it so (both forms move its channels last). */
function readChannelsFirst(model: ReadModel, input: ModelInput): boolean {
  return input.dims.length >= 2 && CHANNELS_FIRST_OPS.has(model.nodes.find((n) => n.input?.includes(input.name))?.opType ?? "");
}

const ACTIVATIONS: Record<string, string> = { Relu: "relu", Sigmoid: "sigmoid", Tanh: "tanh", Softplus: "softplus", Softsign: "softsign", HardSwish: "hard_swish" };

export function importOnnx(bytes: Uint8Array, file: string, options: ImportOptions = {}): ImportResult {
  const model = readModel(bytes, file);
  const notes: string[] = [];
  const name = networkName(options.name, model, file);
  let layers: { list: Layer[]; softmax?: string; input: readonly number[]; trainingMode: boolean };
  try {
    if (model.inputs.length > 1) throw new NotAChain(`the model has ${model.inputs.length} inputs`);
    layers = new Importer(model, file).run();
  } catch (e) {
    if (!(e instanceof NotAChain)) throw e;
    return asEquations(model, file, name, e.reason);
  }
  const input = layers.input.length === 1 ? layers.input[0] : [...layers.input];
  const last = lastActivation(layers.list);
  const loss = layers.softmax ? "softmax_cross_entropy" : last === "sigmoid" ? "binary_cross_entropy" : "mse";
  const why = layers.softmax ? `the model ends in a ${layers.softmax}, which becomes the loss's softmax (forward gives its probabilities)` : last === "sigmoid" ? "the last activation is a sigmoid" : "the model ends in no softmax or sigmoid";
  notes.push(`loss: ${loss} (${why}); name the loss you train with in "loss"`);
  if (layers.trainingMode) notes.push("the model computes batch norm or dropout in training mode: they become bpgen's layers, whose forward is their inference mode (running statistics, no dropout) and whose training functions are their training mode");
  if (Array.isArray(input) && input.join() !== model.input.dims.join()) notes.push(`input: [${input.join(", ")}], channels last: the model's [batch, ${model.input.dims.join(", ")}] with the channels moved after the spatial axes`);
  const { specs, tensors: params, state } = named(layers.list);
  const tensors = [...params, ...state];
  const spec = {
    name,
    description: `Imported from ${basename(file)} by bpgen import.${Array.isArray(input) && input.join() !== model.input.dims.join() ? " The input is channels last." : ""} The loss was chosen by bpgen import (${why}): set "loss" to what you train with (mse, binary_cross_entropy or softmax_cross_entropy).`,
    input,
    layers: specs,
    loss,
  };
  checkImported(spec, tensors, file);
  return { name, spec, tensors, notes };
}

/** A graph that is not a chain of layers, as the equation form. */
function asEquations(model: ReadModel, file: string, name: string, reason: string): ImportResult {
  const images = new Set(model.inputs.filter((i) => readChannelsFirst(model, i)).map((i) => i.name));
  const { spec, tensors, softmax, notes, channelsLast } = equationsOf(model, file, name, reason, images);
  const loss = softmax ? "the cross-entropy of the softmax output" : "half the squared error";
  const full = {
    name,
    description: `Imported from ${basename(file)} by bpgen import, as equations (${reason}).${channelsLast ? " Images are channels last." : ""} The loss (${loss}, against the target t) was chosen by bpgen import: write the one you train with in "loss".`,
    ...spec,
  };
  checkImported(full, tensors, file);
  return { name, spec: full, tensors, notes: [`the graph is not a chain of layers (${reason}): written as equations`, `loss: ${String(spec.loss)} (${loss}); write the loss you train with in "loss"`, ...notes] };
}

/**
 * The net.json must load and build, and its parameters and state be the tensors' names and shapes in order: a
 * failure is bpgen's mistake, never the model's.
 */
function checkImported(spec: Record<string, unknown>, tensors: readonly NamedTensor[], file: string): void {
  try {
    const net = buildNet(parseSpec(`${String(spec.name)}.json`, JSON.stringify(spec)).spec);
    // the dropout generator's seed and step are the module's own (initState)
    const kept = (net.state ?? []).filter((s) => s.init.kind !== "seed" && !s.name.startsWith("rng_"));
    const expected = [...net.params, ...kept].map((p) => `${p.name} [${p.shape.join(", ")}]`);
    const found = tensors.map((t) => `${t.name} [${t.shape.join(", ")}]`);
    if (expected.join("; ") !== found.join("; ")) throw new Error(`the tensors ${found.join(", ")} are not the network's ${expected.join(", ")}`);
  } catch (e) {
    // a model past bpgen's limits (a dimension, the parameter count) is the model's problem; anything else is bpgen's
    if (e instanceof BpgenError && e.kind === "input") throw new BpgenError(e.details.map((d) => ({ ...d, file, message: `the network made from the model: ${d.message}` })));
    const reason = e instanceof Error ? e.message : String(e);
    throw internalError(new Error(`the net.json made from the model does not build: ${reason}`, { cause: e }), file);
  }
}

/** The graph is not a chain of layers: the equation form is tried instead; `reason` says where the chain broke. */
class NotAChain extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

class Importer {
  private readonly list: Layer[] = [];
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, number>();
  private readonly skip = new Set<NodeMessage>();
  private current: string;
  private softmax: string | undefined;
  /** bpgen's input: the model's, with the channels moved last when the first op reads it channels first. */
  readonly inputShape: readonly number[];

  constructor(
    private readonly model: ReadModel,
    private readonly file: string,
  ) {
    const dims = model.input.dims;
    const spatial = readChannelsFirst(model, model.input);
    this.inputShape = spatial ? [...dims.slice(1), dims[0]] : [...dims];
    this.values.set(model.input.name, { shape: this.inputShape, spatial, onnxRank: dims.length, at: 0 });
    this.current = model.input.name;
    for (const node of model.nodes) for (const i of node.input ?? []) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    this.consumers.set(model.output, (this.consumers.get(model.output) ?? 0) + 1);
  }

  run(): { list: Layer[]; softmax?: string; input: readonly number[]; trainingMode: boolean } {
    for (const node of this.model.nodes) if (!this.skip.has(node)) this.node(node);
    if (this.current !== this.model.output) throw new NotAChain(`the model's output ${quoted(this.model.output)} is not the end of its chain of layers`);
    return { list: this.list, softmax: this.softmax, input: this.inputShape, trainingMode: this.trainingMode };
  }

  /** Whether a batch norm or dropout node computes its training mode (PyTorch's export with TrainingMode.TRAINING). */
  private trainingMode = false;

  // ---- reading a node ----

  private fail(node: NodeMessage, message: string, expected?: string, found?: string): never {
    throw new BpgenError({ file: this.file, message: `node ${quoted(node.name || node.output?.[0])} (${printable(node.opType ?? "")}): ${message}`, expected, found });
  }

  private constant(node: NodeMessage, index: number, what: string): Constant {
    const name = node.input?.[index] ?? "";
    const c = this.model.constants.get(name);
    if (!c) this.fail(node, `its ${what} (input ${index + 1}, ${quoted(name)}) is not a constant of the model`, "a weight stored in the model (an initializer)");
    return c as Constant;
  }

  private optionalConstant(node: NodeMessage, index: number, what: string): Constant | undefined {
    const name = node.input?.[index] ?? "";
    return name === "" ? undefined : this.constant(node, index, what);
  }

  /** The value a node reads first: it must be the end of the chain so far. */
  private chainInput(node: NodeMessage): Value {
    const name = node.input?.[0] ?? "";
    const v = this.values.get(name);
    // sizes or a state computed from the batch size are read only as a reshape's shape and a recurrent op's initial state
    if (!v && this.states.has(name)) this.fail(node, `it reads ${quoted(name)}, computed from the batch size, as a value of the network`, "sizes read as a Reshape's shape, or an initial state read by an RNN, LSTM or GRU");
    if (!v) this.fail(node, `it reads ${quoted(name)}, which no node before it computed`, "a graph whose nodes are in order, reading the input or the node before");
    if (name !== this.current && !this.isLayoutOf(this.current, name)) throw new NotAChain(`node ${quoted(node.name || node.output?.[0])} reads ${quoted(name)}, not the value the chain of layers has reached, ${quoted(this.current)}`);
    if (v?.directions && !JOINING_OPS.has(node.opType ?? "")) this.notJoined(node);
    return v as Value;
  }

  /** A bidirectional op's output read otherwise than bpgen's layer joins its directions: one error, naming the node. */
  private notJoined(node: NodeMessage, what = "it reads a bidirectional recurrent op's output before its two directions are joined"): never {
    return this.fail(
      node,
      `${what}; bpgen's bidirectional layer outputs each step's states of both directions side by side, or the two last states concatenated, forward first`,
      "the output Y [steps, 2, batch, H] transposed to [steps, batch, 2, H] and reshaped to [steps, batch, 2·H] (PyTorch's output), or torch.cat((h_n[0], h_n[1]), 1) (Concat of Gather(Y_h, 0) and Gather(Y_h, 1) along the units, or Y_h transposed to [batch, 2, H] and reshaped or flattened to [batch, 2·H])",
    );
  }

  /** Whether `view` is `of` seen through layout changes only (so a node may read either). */
  private isLayoutOf(view: string, of: string): boolean {
    for (let v = this.values.get(view); v?.aliasOf !== undefined; v = this.values.get(v.aliasOf)) if (v.aliasOf === of) return true;
    return false;
  }

  private produce(node: NodeMessage, value: Omit<Value, "at">): void {
    const name = node.output?.[0] ?? "";
    for (const extra of (node.output ?? []).slice(1)) if (extra !== "" && this.consumers.has(extra)) this.fail(node, `its output ${quoted(extra)} is read, and bpgen computes only the first output`);
    this.values.set(name, { ...value, at: this.list.length });
    this.current = name;
  }

  private push(layer: Layer): void {
    this.list.push(layer);
  }

  /** The layer that made the current value, when nothing else reads that value (so the node can join it). */
  private soleProducer(): Layer | undefined {
    const v = this.values.get(this.current);
    if (!v || v.at !== this.list.length || (this.consumers.get(this.current) ?? 0) !== 1) return undefined;
    return this.list[this.list.length - 1];
  }

  private node(node: NodeMessage): void {
    const op = node.opType ?? "";
    if ((node.domain ?? "") !== "" && node.domain !== "ai.onnx") this.unsupported(node);
    switch (op) {
      case "Gemm":
      case "MatMul":
      case "Conv":
        if (this.isProjection(node)) return this.projection(node);
        return node.opType === "Gemm" ? this.gemm(node) : node.opType === "MatMul" ? this.matmul(node) : this.conv(node);
      case "Add":
        return this.add(node);
      case "MaxPool":
      case "AveragePool":
        return this.pool(node);
      case "GlobalAveragePool": {
        new Attributes(node, this.file, []);
        const x = this.chainInput(node);
        if (!x.spatial) this.fail(node, "it pools a value without spatial axes", "an image [batch, channels, spatial...]");
        this.push({ kind: "global_avg_pool" });
        return this.produce(node, { shape: [x.shape[x.shape.length - 1]], spatial: false, onnxRank: x.onnxRank });
      }
      case "Flatten":
        return this.flatten(node, new Attributes(node, this.file, ["axis"]).int("axis", 1));
      case "Reshape":
        // a Reshape of sizes (PyTorch's expand to a computed shape) computes sizes; of the chain, it flattens
        return this.states.has(node.input?.[0] ?? "") ? this.stateNode(node) : this.reshape(node);
      case "BatchNormalization":
        return this.batchnorm(node);
      case "LayerNormalization":
        return this.layernorm(node);
      case "Dropout":
        return this.dropout(node);
      case "Identity":
        new Attributes(node, this.file, []);
        return this.produce(node, this.chainInput(node));
      case "Softmax":
      case "LogSoftmax":
        return this.softmaxAtEnd(node);
      case "Transpose":
        return this.transpose(node);
      case "LSTM":
      case "GRU":
      case "RNN":
        return this.recurrent(node);
      case "Squeeze":
        return this.squeeze(node);
      case "Gather":
        if (this.states.has(node.input?.[0] ?? "")) return this.stateNode(node);
        return this.values.get(node.input?.[0] ?? "")?.directions ? this.lastStates(node) : this.lastStep(node);
      case "Mul":
      case "Equal":
      case "Where":
        // PyTorch's expand(…, -1) computes its shape with them (the -1 made 1); any other is no layer of bpgen's
        return (node.input ?? []).some((i) => this.states.has(i)) ? this.stateNode(node) : this.activation(node);
      case "Shape":
      case "ConstantOfShape":
      case "Unsqueeze":
      case "Concat":
      case "Slice":
      case "Expand":
      case "Cast":
        return this.stateNode(node);
      default:
        return this.activation(node);
    }
  }

  private unsupported(node: NodeMessage): never {
    return this.fail(node, `bpgen has no layer for the ONNX op ${printable(node.opType ?? "")}${node.domain ? ` of the domain ${printable(node.domain)}` : ""}`, `one of the ops bpgen imports: ${IMPORTED_OPS.join(", ")}`, printable(node.opType ?? ""));
  }

  // ---- the ops ----

  private gemm(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["alpha", "beta", "transA", "transB"]);
    if (a.float("alpha", 1) !== 1) a.refuse("alpha", String(a.float("alpha", 1)), "alpha = 1 (a dense layer)");
    if (a.float("beta", 1) !== 1) a.refuse("beta", String(a.float("beta", 1)), "beta = 1 (a dense layer)");
    if (a.int("transA", 0) !== 0) a.refuse("transA", String(a.int("transA", 0)), "transA = 0");
    const x = this.flatInput(node);
    const B = this.constant(node, 1, "weight");
    const transB = a.int("transB", 0) === 1;
    const C = this.optionalConstant(node, 2, "bias");
    this.dense(node, x, B, transB, C);
  }

  private matmul(node: NodeMessage): void {
    new Attributes(node, this.file, []);
    const x = this.flatInput(node);
    this.dense(node, x, this.constant(node, 1, "weight"), false, undefined);
  }

  /** A dense layer's input: a vector per sample, or a recurrent layer's every step (batch first). */
  private flatInput(node: NodeMessage): Value {
    const x = this.chainInput(node);
    if (x.sequence && !x.stepsFirst && x.shape.length === 2) return x;
    if (x.shape.length !== 1 || x.onnxRank !== 1) this.fail(node, "bpgen reads a dense layer's input as a vector per sample; flatten the input first", "an input [batch, features]", `a value of ${x.onnxRank + 1} axes`);
    return x;
  }

  /** A dense layer from a weight [in, out] (or [out, in] with transB) and an optional bias. */
  private dense(node: NodeMessage, x: Value, B: Constant, transB: boolean, C: Constant | undefined): void {
    const inputs = x.shape[x.shape.length - 1];
    if (B.dims.length !== 2) this.fail(node, "its weight is not a matrix", "[in, out] (or [out, in] with transB)", `[${B.dims.join(", ")}]`);
    const [rows, cols] = B.dims;
    const units = transB ? rows : cols;
    if ((transB ? cols : rows) !== inputs) this.fail(node, `its weight does not fit its input of ${inputs} values`, transB ? `[out, ${inputs}]` : `[${inputs}, out]`, `[${B.dims.join(", ")}]`);
    const W = new Float64Array(units * inputs);
    for (let u = 0; u < units; u++) {
      for (let j = 0; j < inputs; j++) {
        const k = x.perm ? x.perm[j] : j;
        W[u * inputs + j] = transB ? B.data[u * inputs + k] : B.data[k * units + u];
      }
    }
    const bias = C ? this.vectorOf(node, C, units, "bias") : undefined;
    this.push({ kind: "dense", units, W, inputs, bias });
    if (x.sequence) return this.produce(node, { shape: [x.shape[0], units], spatial: false, onnxRank: 2, sequence: true });
    this.produce(node, { shape: [units], spatial: false, onnxRank: 1 });
  }

  /** A per-unit constant (a bias, a gain) of `size` values: [size], [1, size], [size, 1, …] or one value repeated. */
  private vectorOf(node: NodeMessage, c: Constant, size: number, what: string): Float64Array {
    if (c.data.length === size && c.dims.filter((d) => d !== 1).length <= 1) return Float64Array.from(c.data);
    if (c.data.length === 1) return new Float64Array(size).fill(c.data[0]);
    return this.fail(node, `its ${what} does not have one value per unit`, `${size} values`, `[${c.dims.join(", ")}]`);
  }

  private add(node: NodeMessage): void {
    new Attributes(node, this.file, []);
    const [p, q] = node.input ?? [];
    const constant = this.model.constants.has(q) ? q : this.model.constants.has(p) ? p : undefined;
    if (constant !== undefined) return this.addBias(node, constant === q ? p : q, constant);
    const projected = this.projections.get(p === this.current ? q : p);
    const end = this.values.get(this.current);
    if (projected && end && (p === this.current || q === this.current)) return this.projectedResidual(node, end, projected);
    const a = this.values.get(p);
    const b = this.values.get(q);
    if (!a || !b) this.fail(node, "it adds values no node before it computed");
    const [block, shortcut] = p === this.current ? [a as Value, b as Value] : q === this.current ? [b as Value, a as Value] : [undefined, undefined];
    if (!block || !shortcut || shortcut.at >= this.list.length || block.shape.join() !== shortcut.shape.join() || block.perm !== shortcut.perm) {
      throw new NotAChain(`node ${quoted(node.name || node.output?.[0])} adds two values that are not x and f(x), f the layers since x`);
    }
    const inner = this.list.splice(shortcut.at);
    this.push({ kind: "residual", layers: inner });
    this.produce(node, { shape: block.shape, spatial: block.spatial, onnxRank: block.onnxRank, perm: block.perm });
  }

  // ---- a residual block's projection: block(x) + P x ----

  /** The projections P x read (by the Add after the block) by the name of their output. */
  private readonly projections = new Map<string, { x: Value; to: number; from: number; P: Float64Array; stride: number[] }>();

  /**
   * A Gemm, MatMul or Conv that reads an earlier value x, not the chain's end, and whose only reader is an Add of
   * the chain's end: the projection of a residual block.
   */
  private isProjection(node: NodeMessage): boolean {
    const input = node.input?.[0] ?? "";
    const output = node.output?.[0] ?? "";
    if (input === this.current || this.isLayoutOf(this.current, input) || !this.values.has(input)) return false;
    const readers = this.model.nodes.filter((n) => n.input?.includes(output));
    return readers.length === 1 && readers[0].opType === "Add" && (readers[0].input ?? []).includes(this.current) && (this.consumers.get(output) ?? 0) === 1;
  }

  private projection(node: NodeMessage): void {
    const x = this.values.get(node.input?.[0] ?? "") as Value;
    const W = this.constant(node, 1, "projection");
    // a projection with a bias (PyTorch's downsampling shortcut with its batch norm folded in), or one not 1×1 or
    // padded, is not bpgen's residual block: the graph is then the equation form's
    const notBpgens = (what: string) => new NotAChain(`node ${quoted(node.name || node.output?.[0])} is a residual block's projection ${what}, which bpgen's residual blocks do not have`);
    if ((node.input?.[2] ?? "") !== "") throw notBpgens("with a bias");
    const from = x.shape[x.shape.length - 1];
    let to: number;
    let P: Float64Array;
    let stride: number[] = [];
    if (node.opType === "Conv") {
      const a = new Attributes(node, this.file, ["dilations", "group", "kernel_shape", "pads", "strides"]);
      if (!x.spatial || W.dims.length !== x.shape.length + 1 || W.dims[1] !== from) this.fail(node, "a residual block's projection is a convolution of its input", `a filter [out, ${from}, 1, …]`, `[${W.dims.join(", ")}]`);
      if (a.int("group", 1) !== 1) a.refuse("group", String(a.int("group", 1)), "1");
      if (W.dims.slice(2).some((k) => k !== 1)) throw notBpgens(`of a ${W.dims.slice(2).join("×")} filter`);
      if ((a.ints("pads") ?? []).some((v) => v !== 0)) throw notBpgens("with padding");
      stride = a.ints("strides") ?? W.dims.slice(2).map(() => 1);
      to = W.dims[0];
      P = Float64Array.from(W.data);
    } else {
      const a = node.opType === "Gemm" ? new Attributes(node, this.file, ["alpha", "beta", "transA", "transB"]) : new Attributes(node, this.file, []);
      if (a.float("alpha", 1) !== 1 || a.int("transA", 0) !== 0) a.refuse("alpha", String(a.float("alpha", 1)), "1, with transA 0");
      if (x.shape.length !== 1 || W.dims.length !== 2) this.fail(node, "a residual block's projection of a vector is a matrix", `[${from}, out] or [out, ${from}] with transB`);
      const transB = a.int("transB", 0) === 1;
      to = transB ? W.dims[0] : W.dims[1];
      P = transB ? Float64Array.from(W.data) : transposed(W.data, W.dims[0], W.dims[1]);
    }
    this.projections.set(node.output?.[0] ?? "", { x, to, from, P, stride });
  }

  /** block(x) + P x: the layers since x become a residual block with a projection. */
  private projectedResidual(node: NodeMessage, block: Value, p: { x: Value; to: number; from: number; P: Float64Array; stride: number[] }): void {
    const spatial = p.x.shape.slice(0, -1);
    const expected = spatial.map((size, k) => Math.floor((size - 1) / p.stride[k]) + 1);
    const bpgenStride = spatial.map((size, k) => {
      for (let s = 1; s <= size; s++) if (Math.floor((size - 1) / s) + 1 === block.shape[k]) return s;
      return 0;
    });
    const fits = block.shape[block.shape.length - 1] === p.to && expected.every((n, k) => n === block.shape[k]) && bpgenStride.every((s, k) => s === p.stride[k]);
    if (!fits || p.x.at >= this.list.length || block.spatial !== p.x.spatial) {
      throw new NotAChain(`node ${quoted(node.name || node.output?.[0])} adds a projection that is not bpgen's (a 1×1 convolution of the smallest stride that maps the input onto the block's output)`);
    }
    const inner = this.list.splice(p.x.at);
    this.push({ kind: "residual", layers: inner, projection: { to: p.to, from: p.from, P: p.P } });
    this.produce(node, { shape: block.shape, spatial: block.spatial, onnxRank: block.onnxRank });
  }

  /** x + constant right after a dense or convolution layer without a bias: its bias. */
  private addBias(node: NodeMessage, from: string, constant: string): void {
    if (from !== this.current) this.chainInput({ ...node, input: [from] });
    const x = this.values.get(from) as Value;
    const layer = this.soleProducer();
    if (!layer || (layer.kind !== "dense" && layer.kind !== "conv") || layer.bias || layer.activation) {
      this.fail(node, "bpgen adds a constant only as the bias of a dense or convolution layer right before", "Add(MatMul(x, W), b) or Add(Conv(x, W), b)");
    }
    const units = layer.kind === "dense" ? layer.units : layer.filters;
    layer.bias = this.vectorOf(node, this.model.constants.get(constant) as Constant, units, "bias");
    this.produce(node, x);
  }

  private conv(node: NodeMessage): void {
    const a = new Attributes(node, this.file, CONV_ATTRIBUTES);
    if (a.int("group", 1) !== 1) a.refuse("group", String(a.int("group", 1)), "group = 1 (bpgen's convolutions connect every input channel to every filter)");
    const x = this.spatialInput(node);
    const W = this.constant(node, 1, "filter");
    const n = x.shape.length - 1;
    const channels = x.shape[n];
    if (W.dims.length !== n + 2 || W.dims[1] !== channels) this.fail(node, "its filter does not fit its input", `[filters, ${channels}, ${n} kernel sizes]`, `[${W.dims.join(", ")}]`);
    const filters = W.dims[0];
    const kernel = W.dims.slice(2);
    const { stride, dilation, padding, out } = convWindow(a, kernel, x.shape.slice(0, n), (message) => this.fail(node, message));
    const bias = this.optionalConstant(node, 2, "bias");
    this.push({ kind: "conv", n, filters, kernel, stride: [...stride], dilation: [...dilation], padding: padding.spec, W: channelsLastFilter(W.data, W.dims), wShape: [...kernel, channels, filters], bias: bias ? this.vectorOf(node, bias, filters, "bias") : undefined });
    this.produce(node, { shape: [...out, filters], spatial: true, onnxRank: x.onnxRank });
  }

  private pool(node: NodeMessage): void {
    const max = node.opType === "MaxPool";
    const a = new Attributes(node, this.file, poolAttributes(max));
    const x = this.spatialInput(node);
    const n = x.shape.length - 1;
    const { kernel: size, stride, padding, out } = poolWindow(a, max, x.shape.slice(0, n), (message) => this.fail(node, message));
    this.push({ kind: "pool", op: max ? "max" : "avg", n, size: [...size], stride: [...stride], padding: padding.spec });
    this.produce(node, { shape: [...out, x.shape[n]], spatial: true, onnxRank: x.onnxRank });
  }

  private spatialInput(node: NodeMessage): Value {
    const x = this.chainInput(node);
    if (!x.spatial || x.shape.length < 2 || x.shape.length > 4) this.fail(node, "it needs an image, a sequence or a volume with its channels", "[batch, channels, 1 to 3 spatial axes]", `a value of ${x.onnxRank + 1} axes`);
    return x;
  }

  private flatten(node: NodeMessage, axis: number): void {
    const x = this.chainInput(node);
    if (x.directions) {
      // h_n.permute(1, 0, 2).flatten(1): the last states moved batch first, [batch, 2, H], joined
      if (x.recurrentOutput !== "last" || x.directions !== "beside" || axis !== 1) this.notJoined(node, `it flattens a bidirectional recurrent op's output from axis ${axis}${x.directions === "beside" ? "" : " before its directions are next to the units"}`);
      return this.joinDirections(node, x, ["batch", -1]);
    }
    if (axis !== 1) this.fail(node, `it flattens from axis ${axis}; bpgen flattens each sample (axis 1)`, "axis = 1");
    this.flattened(node, x);
  }

  private flattened(node: NodeMessage, x: Value): void {
    if (x.shape.length === 1) return this.produce(node, { ...x, onnxRank: 1 });
    const size = x.shape.reduce((p, d) => p * d, 1);
    this.push({ kind: "flatten" });
    this.produce(node, { shape: [size], spatial: false, onnxRank: 1, perm: x.spatial ? channelsFirstPositions(x.shape) : undefined });
  }

  private reshape(node: NodeMessage): void {
    new Attributes(node, this.file, ["allowzero"]);
    const x = this.chainInput(node);
    const computed = this.states.get(node.input?.[1] ?? "");
    const target: readonly Size[] = computed?.kind === "shape" ? computed.sizes.values : Array.from(this.constant(node, 1, "shape").data);
    if (x.directions) return this.joinDirections(node, x, target);
    // a reshape to the value's own shape changes nothing: bpgen's PyTorch export begins x.reshape(x.shape[0], *INPUT_SHAPE)
    if (reshapesTo(target, onnxSizes(x), onnxSizes(x))) return this.produce(node, x);
    const size = x.shape.reduce((p, d) => p * d, 1);
    const flat = target.length === 2 && (target[0] === -1 || target[0] === 0 || target[0] === "batch") && (target[1] === size || target[1] === -1);
    const batchFirst = target.length === 2 && target[1] === size && typeof target[0] === "number" && target[0] > 0;
    if (!flat && !batchFirst) this.fail(node, "bpgen imports a reshape only as a flatten of each sample", `a shape [batch, ${size}] or [-1, ${size}]`, `[${target.join(", ")}]`);
    this.flattened(node, x);
  }

  /** A move of the channels between first and last (how bpgen's own exports wrap convolutions): no layer. */
  private transpose(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["perm"]);
    const x = this.chainInput(node);
    const perm = a.ints("perm") ?? [];
    if (x.directions) return this.directionsBeside(node, x, perm);
    const r = x.onnxRank;
    const toFirst = [0, r, ...Array.from({ length: r - 1 }, (_, k) => k + 1)];
    const toLast = [0, ...Array.from({ length: r - 1 }, (_, k) => k + 2), 1];
    if (r >= 2 && !x.spatial && !x.perm && perm.join() === toFirst.join()) return this.produce(node, { ...x, spatial: true });
    if (r >= 2 && x.spatial && perm.join() === toLast.join()) return this.produce(node, { ...x, spatial: false });
    if (r === 2 && !x.spatial && perm.join() === "1,0,2") return this.produce(node, { ...x, stepsFirst: !x.stepsFirst, aliasOf: node.input?.[0] });
    return a.refuse("perm", `[${perm.join(", ")}]`, "a move of the channels of an image between first and last (bpgen keeps its values channels last)");
  }

  // ---- recurrent ops ----

  /** Nodes that compute a recurrent op's initial state from the batch size (PyTorch's zeros, bpgen's learned state repeated). */
  private readonly states = new Map<string, StateValue>();

  private stateNode(node: NodeMessage): void {
    const op = node.opType ?? "";
    const inputs = node.input ?? [];
    const set = (value: StateValue) => this.states.set(node.output?.[0] ?? "", value);
    const refuse = (): never => {
      // a node of sizes bpgen cannot fold (the batch times 2, a shape of two axes) says what bpgen follows
      if (op !== "Shape" && inputs.some((i) => this.states.has(i))) {
        this.fail(node, "it computes from the batch size what bpgen does not follow", SIZES_EXPECTED);
      }
      return this.fail(node, `bpgen reads ${printable(op)} only where it computes from the batch size (a flatten's shape, a recurrent layer's initial state)`, `one of the ops bpgen imports: ${IMPORTED_OPS.join(", ")}`, printable(op));
    };
    const sizes = computedSizes(node, this.file, {
      shapeOf: (name) => {
        const v = this.values.get(name);
        return v && onnxSizes(v);
      },
      sizesOf: (name) => {
        const state = this.states.get(name);
        if (state?.kind === "shape") return state.sizes;
        const c = this.model.constants.get(name);
        return c && constantSizes(c);
      },
    });
    if (sizes) return void set({ kind: "shape", sizes });
    const shape = (k: number) => {
      const state = this.states.get(inputs[k] ?? "");
      return state?.kind === "shape" && !state.sizes.scalar ? state.sizes.values : undefined;
    };
    const target = shape(op === "Expand" ? 1 : 0);
    if (op === "ConstantOfShape" && target) {
      const value = (node.attribute ?? []).find((a) => a.name === "value")?.t;
      // ONNX's default value is a float 0
      if (!value || tensorValues(value, this.file, `node ${quoted(node.name || node.output?.[0])}: its value`).data.every((v) => v === 0)) return void set({ kind: "zeros", shape: target });
    }
    const learned = op === "Expand" ? this.model.constants.get(inputs[0] ?? "") : undefined;
    if (learned && target) {
      const expanded = expandedShape(learned.dims, target);
      if (!expanded) this.fail(node, `it expands a constant [${learned.dims.join(", ")}] to [${target.join(", ")}], shapes that do not broadcast`, "a learned initial state [num_directions, 1, hidden_size] expanded over the batch");
      return void set({ kind: "learned", shape: expanded as Size[], dims: learned.dims, data: Float64Array.from(learned.data) });
    }
    return refuse();
  }

  private recurrent(node: NodeMessage): void {
    const cell = (node.opType ?? "").toLowerCase() as "rnn" | "lstm" | "gru";
    const a = new Attributes(node, this.file, ["hidden_size", "direction", "activations", "linear_before_reset", "layout", "input_forget", "clip", "activation_alpha", "activation_beta"]);
    const x = this.chainInput(node);
    if (!x.stepsFirst || x.shape.length !== 2) this.fail(node, "it reads a sequence bpgen does not have", "a sequence [steps, batch, features] (a Transpose of the batch-first [batch, steps, features])");
    const direction = a.string("direction", "forward");
    if (direction !== "forward" && direction !== "bidirectional") a.refuse("direction", direction, "forward or bidirectional (bpgen has no layer that reads the steps only from the last to the first)");
    const directions = direction === "bidirectional" ? 2 : 1;
    if (a.int("layout", 0) !== 0) a.refuse("layout", String(a.int("layout", 0)), "0");
    if (a.int("input_forget", 0) !== 0) a.refuse("input_forget", String(a.int("input_forget", 0)), "0");
    if (cell === "gru" && a.int("linear_before_reset", 0) !== 1) a.refuse("linear_before_reset", String(a.int("linear_before_reset", 0)), "1 (PyTorch's GRU, bpgen's)");
    const activations = (node.attribute ?? []).find((n) => n.name === "activations")?.strings?.map((b) => new TextDecoder().decode(b));
    // the same functions in each direction (ONNX lists them once per direction)
    const plain = (cell === "rnn" ? [["Tanh"], ["Relu"]] : cell === "lstm" ? [["Sigmoid", "Tanh", "Tanh"]] : [["Sigmoid", "Tanh"]]).map((p) => Array.from({ length: directions }, () => p).flat());
    if (activations && !plain.some((p) => p.join() === activations.join())) a.refuse("activations", JSON.stringify(activations), plain.map((p) => JSON.stringify(p)).join(" or "));
    for (const unused of ["clip", "activation_alpha", "activation_beta"]) if ((node.attribute ?? []).some((n) => n.name === unused)) a.refuse(unused, "given", "not given");
    const units = a.int("hidden_size", 0);
    const features = x.shape[1];
    const [forward, reverse] = this.directionWeights(node, cell, directions, units, features);
    const [Y, Yh, Yc] = node.output ?? [];
    const every = this.consumers.has(Y ?? "");
    if (every && this.consumers.has(Yh ?? "")) this.fail(node, "both its every-step output and its last state are read", "one of them");
    if (Yc && this.consumers.has(Yc)) this.fail(node, "its last cell state Y_c is read; bpgen's LSTM layer outputs the state h");
    const activation = cell === "rnn" && activations?.[0] === "Relu" ? { activation: "relu" as const } : {};
    this.push({ kind: "recurrent", cell, units, inputs: features, everyStep: every, ...activation, ...forward, ...(reverse ? { reverse } : {}) });
    // a bidirectional op's outputs are bpgen's once their directions are joined (directionsBeside, joinDirections, lastStates)
    const both = reverse ? { directions: "apart" as const } : {};
    const width = directions * units;
    if (every) return this.produce(node, { shape: [x.shape[0], width], spatial: false, onnxRank: 3, recurrentOutput: "every", ...(reverse ? both : { stepsFirst: true, sequence: true }) });
    this.values.set(Yh ?? "", { shape: [width], spatial: false, onnxRank: 2, recurrentOutput: "last", ...both, at: this.list.length });
    this.current = Yh ?? "";
  }

  /**
   * A recurrent op's weights and learned initial states, each direction's in bpgen's layouts: ONNX's [num_directions,
   * …] tensors hold the forward direction's, then (bidirectional) the reverse one's.
   */
  private directionWeights(node: NodeMessage, cell: "rnn" | "lstm" | "gru", directions: number, units: number, features: number): DirectionWeights[] {
    const gates = FROM_ONNX_GATES[cell];
    const G = gates.length;
    const each = <T>(of: (d: number) => T): T[] => Array.from({ length: directions }, (_, d) => of(d));
    /** A [num_directions, rows, width] weight: each direction's, its gate blocks in bpgen's order. */
    const matrix = (k: number, width: number, what: string) => {
      const c = this.constant(node, k, what);
      const size = G * units * width;
      if (c.data.length !== directions * size) this.fail(node, `its ${what} does not fit ${units} units`, `[${directions}, ${G * units}, ${width}]`, `[${c.dims.join(", ")}]`);
      return each((d) => blocks(c.data.subarray(d * size, (d + 1) * size), gates, units * width));
    };
    const W = matrix(1, features, "input weight");
    const R = matrix(2, units, "recurrent weight");
    const B = this.optionalConstant(node, 3, "bias");
    if (B && B.data.length !== directions * 2 * G * units) this.fail(node, "its bias does not fit", `[${directions}, ${2 * G * units}]`, `[${B.dims.join(", ")}]`);
    // B's row of a direction: its input biases, then its recurrent ones
    const bias = (d: number, recurrent: number) => {
      const at = (2 * d + recurrent) * G * units;
      return B ? blocks(B.data.subarray(at, at + G * units), gates, units) : new Float64Array(G * units);
    };
    if ((node.input?.[4] ?? "") !== "") this.fail(node, "it reads sequence_lens; bpgen's sequences all have their full length");
    const initial = (k: number): Float64Array[] | undefined => {
      const name = node.input?.[k] ?? "";
      if (name === "") return undefined;
      const state = this.states.get(name);
      if (state?.kind !== "zeros" && state?.kind !== "learned") {
        return this.fail(node, `its initial state ${quoted(name)} is neither zeros nor one learned state for every sample`, "zeros (PyTorch's default) or a learned state expanded over the batch");
      }
      const shape: readonly Size[] = [directions, "batch", units];
      if (state.shape.join() !== shape.join()) this.fail(node, `its initial state ${quoted(name)} is [${state.shape.join(", ")}]`, `[${shape.join(", ")}]: [num_directions, batch, hidden_size]`);
      return state.kind === "zeros" ? undefined : each((d) => learnedState(state.dims, state.data, d, units));
    };
    const h0 = initial(5);
    const c0 = cell === "lstm" ? initial(6) : undefined;
    if ((h0 === undefined) !== (c0 === undefined) && cell === "lstm") this.fail(node, "one of its initial states is learned and the other zeros", "both learned, or both zeros");
    return each((d) => ({ W: W[d], R: R[d], bW: bias(d, 0), bR: bias(d, 1), h0: h0?.[d], c0: c0?.[d] }));
  }

  /** The Squeeze of a recurrent op's direction axis. */
  private squeeze(node: NodeMessage): void {
    new Attributes(node, this.file, ["axes"]);
    const x = this.chainInput(node);
    if (x.directions) this.notJoined(node, "it squeezes the direction axis of a bidirectional recurrent op's output, which holds both directions");
    const axes = node.input?.[1] ? Array.from(this.constant(node, 1, "axes").data) : ((node.attribute ?? []).find((n) => n.name === "axes")?.ints ?? []).map(Number);
    const axis = x.recurrentOutput === "every" ? 1 : x.recurrentOutput === "last" ? 0 : undefined;
    if (axis === undefined || axes.length !== 1 || axes[0] !== axis) this.fail(node, "bpgen reads a Squeeze only of a recurrent op's direction axis", "the axis of num_directions", `axes [${axes.join(", ")}]`);
    this.produce(node, { shape: x.shape, spatial: false, onnxRank: x.shape.length, stepsFirst: x.stepsFirst, sequence: x.sequence });
  }

  // ---- a bidirectional op's directions joined ----

  /**
   * The Transpose that moves a bidirectional op's directions next to the units: every step's Y [T, 2, batch, H] to
   * [T, batch, 2, H] (PyTorch's export of output), the last states Y_h [2, batch, H] to [batch, 2, H] (bpgen's export,
   * and PyTorch's of h_n.permute(1, 0, 2)).
   */
  private directionsBeside(node: NodeMessage, x: Value, perm: readonly number[]): void {
    const beside = x.recurrentOutput === "every" ? "0,2,1,3" : "1,0,2";
    if (x.directions !== "apart" || perm.join() !== beside) this.notJoined(node, `it moves the axes of a bidirectional recurrent op's output by [${perm.join(", ")}]`);
    this.produce(node, { ...x, directions: "beside" });
  }

  /** The Reshape that joins the two directions moved next to the units: bpgen's layer output, [T, batch, 2H] or [batch, 2H]. */
  private joinDirections(node: NodeMessage, x: Value, target: readonly Size[]): void {
    const every = x.recurrentOutput === "every";
    const joined: readonly Size[] = every ? [x.shape[0], "batch", x.shape[1]] : ["batch", x.shape[0]];
    if (x.directions !== "beside" || !reshapesTo(target, onnxSizes(x), joined)) {
      this.notJoined(node, `it reshapes a bidirectional recurrent op's output to [${target.join(", ")}]${x.directions === "beside" ? "" : " before its directions are next to the units"}`);
    }
    if (every) return this.produce(node, { shape: x.shape, spatial: false, onnxRank: 2, stepsFirst: true, sequence: true });
    this.produce(node, { shape: x.shape, spatial: false, onnxRank: 1 });
  }

  /**
   * torch.cat((h_n[0], h_n[1]), 1) of a bidirectional op's last states Y_h [2, batch, H], as PyTorch's export writes
   * it: a Gather of each direction, then a Concat of the two along the units, forward first. The chain continues at the
   * Concat's output, the other Gather and the Concat marked to be skipped.
   */
  private lastStates(first: NodeMessage): void {
    const x = this.chainInput(first);
    if (x.recurrentOutput !== "last" || x.directions !== "apart") return this.notJoined(first);
    const last = first.input?.[0] ?? "";
    const concat = this.model.nodes.find((n) => n.opType === "Concat" && (n.input ?? []).includes(first.output?.[0] ?? ""));
    const parts = (concat?.input ?? []).map((name) => this.model.nodes.find((n) => n.output?.[0] === name));
    /** The direction a Gather of the last states picks (h_n[0] or h_n[-2], h_n[1] or h_n[-1]), or undefined. */
    const picked = (n: NodeMessage | undefined): number | undefined => {
      if (n?.opType !== "Gather" || n.input?.[0] !== last || (this.consumers.get(n.output?.[0] ?? "") ?? 0) !== 1) return undefined;
      const index = this.model.constants.get(n.input?.[1] ?? "");
      if (new Attributes(n, this.file, ["axis"]).int("axis", 0) !== 0 || !index || index.dims.length !== 0) return undefined;
      return [0, 1].find((d) => index.data[0] === d || index.data[0] === d - 2);
    };
    const axis = concat ? new Attributes(concat, this.file, ["axis"]).int("axis", 0) : undefined;
    if (!concat || parts.map(picked).join() !== "0,1" || (axis !== 1 && axis !== -1) || (this.consumers.get(last) ?? 0) !== 2) {
      this.notJoined(first, "it reads a bidirectional recurrent op's last states otherwise than as both directions' concatenated");
    }
    for (const n of parts) if (n && n !== first) this.skip.add(n);
    this.skip.add(concat);
    this.produce(concat, { shape: x.shape, spatial: false, onnxRank: 1 });
  }

  /** The last step of a recurrent layer's every-step output (PyTorch's output[:, -1]): that layer's last state instead. */
  private lastStep(node: NodeMessage): void {
    const axis = new Attributes(node, this.file, ["axis"]).int("axis", 0);
    const x = this.chainInput(node);
    const index = this.constant(node, 1, "index");
    const steps = x.shape[0];
    const stepAxis = x.stepsFirst ? 0 : 1;
    const last = index.data.length === 1 && index.dims.length === 0 && (index.data[0] === -1 || index.data[0] === steps - 1);
    const layer = this.list[this.list.length - 1];
    if (layer?.kind === "recurrent" && layer.reverse && x.at === this.list.length) {
      this.fail(
        node,
        "it reads the last step of a bidirectional layer's output, whose reverse half is the reverse direction's state after reading the last step alone; bpgen's bidirectional layer outputs each direction's last state (the reverse one's after reading the first step)",
        "torch.cat((h_n[0], h_n[1]), 1): a Concat of Gather(Y_h, 0) and Gather(Y_h, 1) along the units",
      );
    }
    if (x.shape.length !== 2 || axis !== stepAxis || !last || layer?.kind !== "recurrent" || !layer.everyStep || x.at !== this.list.length) {
      this.fail(node, "bpgen reads a Gather only as the last step of a recurrent layer's output", "output[:, -1] of an RNN, LSTM or GRU");
    }
    (layer as Extract<Layer, { kind: "recurrent" }>).everyStep = false;
    this.produce(node, { shape: [x.shape[1]], spatial: false, onnxRank: 1 });
  }

  private batchnorm(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["epsilon", "momentum", "training_mode", "spatial"]);
    const mode = a.int("training_mode", 0);
    if (mode !== 0 && mode !== 1) a.refuse("training_mode", String(mode), "0 or 1");
    if (mode === 1) this.trainingMode = true;
    if (a.int("spatial", 1) !== 1) a.refuse("spatial", String(a.int("spatial", 1)), "1");
    const x = this.chainInput(node);
    if (x.shape.length > 1 && !x.spatial) this.fail(node, "it normalises axis 1 of a value whose channels are last", "a batch norm of [batch, features] or of an image channels first");
    const channels = x.shape[x.shape.length - 1];
    const per = (index: number, what: string) => permuted(this.vectorOf(node, this.constant(node, index, what), channels, what), x.perm);
    const [g, b, m, v] = [per(1, "scale"), per(2, "bias"), per(3, "running mean"), per(4, "running variance")];
    this.push({ kind: "batchnorm", eps: a.float("epsilon", 1e-5), momentum: shortFloat(1 - shortFloat(a.float("momentum", 0.9))), g, b, m, v });
    this.produce(node, x);
  }

  private layernorm(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["axis", "epsilon", "stash_type"]);
    const x = this.chainInput(node);
    const axis = a.int("axis", -1);
    if (x.spatial) this.fail(node, "it normalises the last axis of a channels-first image, which bpgen's layernorm (over the channels) is not", "a layer norm of a vector [batch, features], or of an image channels last");
    if (axis !== -1 && axis !== x.onnxRank) a.refuse("axis", String(axis), "-1 (the last axis)");
    const size = x.shape[x.shape.length - 1];
    const g = permuted(this.vectorOf(node, this.constant(node, 1, "scale"), size, "scale"), x.perm);
    const bias = this.optionalConstant(node, 2, "bias");
    const b = bias ? permuted(this.vectorOf(node, bias, size, "bias"), x.perm) : new Float64Array(size);
    this.push({ kind: "layernorm", eps: a.float("epsilon", 1e-5), g, b });
    this.produce(node, x);
  }

  private dropout(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["ratio", "seed"]);
    const x = this.chainInput(node);
    const ratio = this.optionalConstant(node, 1, "ratio");
    const training = this.optionalConstant(node, 2, "training mode");
    if (training && training.data[0] !== 0) this.trainingMode = true;
    const rate = ratio ? ratio.data[0] : a.float("ratio", 0.5);
    if (!(rate >= 0 && rate < 1)) this.fail(node, "its ratio is not in [0, 1)", "a rate from 0 up to 1", String(rate));
    this.push({ kind: "dropout", rate: Math.fround(rate) === rate ? Number(rate.toPrecision(7)) : rate });
    this.produce(node, x);
  }

  private softmaxAtEnd(node: NodeMessage): void {
    const a = new Attributes(node, this.file, ["axis"]);
    const x = this.chainInput(node);
    const axis = a.int("axis", -1);
    const last = node.output?.[0] === this.model.output;
    const classes = x.shape.length === 1 || (x.sequence === true && !x.stepsFirst && x.shape.length === 2);
    if (!last || !classes || (axis !== -1 && axis !== x.onnxRank)) {
      this.fail(node, `bpgen has ${node.opType} only at the end of a classifier, as the softmax of the softmax_cross_entropy loss`, "a Softmax over the classes, the model's output");
    }
    this.softmax = node.opType;
    this.produce(node, x);
  }

  private activation(node: NodeMessage): void {
    const name = this.activationName(node);
    const x = this.chainInput(node);
    const layer = this.soleProducer();
    if (layer && (layer.kind === "dense" || layer.kind === "conv") && !layer.activation) layer.activation = name;
    else this.push({ kind: "activation", activation: name });
    this.produce(node, x);
  }

  /** The net.json activation of an activation node (a Sigmoid followed by Mul(x, ·) is SiLU, the Mul skipped). */
  private activationName(node: NodeMessage): string {
    const op = node.opType ?? "";
    const plain = ACTIVATIONS[op];
    if (plain) {
      new Attributes(node, this.file, []);
      if (op === "Sigmoid") {
        const silu = this.siluMul(node);
        if (silu) return "silu";
      }
      return plain;
    }
    switch (op) {
      case "LeakyRelu": {
        const alpha = Math.fround(new Attributes(node, this.file, ["alpha"]).float("alpha", 0.01));
        return alpha === Math.fround(0.01) ? "leaky_relu" : `leaky_relu(x, ${shortFloat(alpha)})`;
      }
      case "Elu": {
        const alpha = new Attributes(node, this.file, ["alpha"]).float("alpha", 1);
        return alpha === 1 ? "elu" : `elu(x, ${shortFloat(alpha)})`;
      }
      case "Celu": {
        const alpha = new Attributes(node, this.file, ["alpha"]).float("alpha", 1);
        return alpha === 1 ? "celu" : `celu(x, ${shortFloat(alpha)})`;
      }
      case "Selu": {
        const a = new Attributes(node, this.file, ["alpha", "gamma"]);
        if (Math.abs(a.float("alpha", 1.67326) - 1.67326) > 1e-4) a.refuse("alpha", String(a.float("alpha", 0)), "the default 1.67326 (bpgen's selu)");
        if (Math.abs(a.float("gamma", 1.0507) - 1.0507) > 1e-4) a.refuse("gamma", String(a.float("gamma", 0)), "the default 1.0507 (bpgen's selu)");
        return "selu";
      }
      case "HardSigmoid": {
        const a = new Attributes(node, this.file, ["alpha", "beta"]);
        if (Math.fround(a.float("alpha", 0.2)) !== Math.fround(1 / 6)) a.refuse("alpha", String(a.float("alpha", 0.2)), "1/6 (PyTorch's hard sigmoid, bpgen's hard_sigmoid)");
        if (a.float("beta", 0.5) !== 0.5) a.refuse("beta", String(a.float("beta", 0.5)), "0.5");
        return "hard_sigmoid";
      }
      case "Gelu": {
        const approximate = new Attributes(node, this.file, ["approximate"]).string("approximate", "none");
        if (approximate !== "none" && approximate !== "tanh") this.fail(node, `unknown approximation ${JSON.stringify(approximate)}`);
        return approximate === "tanh" ? "gelu" : "gelu_exact";
      }
      default:
        return this.unsupported(node);
    }
  }

  /** The Mul of x · Sigmoid(x) after `sigmoid`, marked to be skipped, when that is what follows. */
  private siluMul(sigmoid: NodeMessage): boolean {
    const x = sigmoid.input?.[0] ?? "";
    const s = sigmoid.output?.[0] ?? "";
    const mul = this.model.nodes.find((n) => n.opType === "Mul" && (n.input ?? []).length === 2 && n.input?.includes(x) && n.input?.includes(s));
    if (!mul || (this.consumers.get(s) ?? 0) !== 1 || (this.consumers.get(x) ?? 0) !== 2 || (mul.attribute ?? []).length > 0) return false;
    this.skip.add(mul);
    // the Mul's output is where the chain continues
    sigmoid.output = [mul.output?.[0] ?? "", ...(sigmoid.output ?? []).slice(1)];
    this.consumers.set(x, 1);
    return true;
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The network's name: --name as given (an identifier), else the graph's or the file's made one. */
function networkName(given: string | undefined, model: ReadModel, file: string): string {
  if (given !== undefined) {
    if (!IDENTIFIER.test(given) || !acceptedName(given)) throw new BpgenError({ message: `--name ${JSON.stringify(printable(given))} cannot name a network`, expected: "an identifier (letters, digits and _, not starting with a digit) that is not a reserved word", found: printable(given) });
    return given;
  }
  const base = model.graph.name && model.graph.name !== "main_graph" && model.graph.name !== "torch_jit" ? model.graph.name : basename(file, extname(file));
  const cleaned = base.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 64);
  const name = /^[A-Za-z_]/.test(cleaned) ? cleaned : `net_${cleaned}`;
  return acceptedName(name) ? name : `${name}_net`;
}

/** Whether net.json's checks take `name` as a network's name (an identifier, not a reserved word). */
function acceptedName(name: string): boolean {
  try {
    parseSpec("name.json", JSON.stringify({ name, input: 1, layers: [{ type: "dense", units: 1 }], loss: "mse" }));
    return true;
  } catch {
    return false;
  }
}

/**
 * One direction's learned initial state: the values of a constant of `dims` that Expand broadcast to
 * [num_directions, batch, units] (so dims are, padded with 1 on the left, [1 or num_directions, 1, 1 or units]).
 */
function learnedState(dims: readonly number[], data: Float64Array, direction: number, units: number): Float64Array {
  const [each, , width] = [...Array<number>(Math.max(0, 3 - dims.length)).fill(1), ...dims];
  const at = (each === 1 ? 0 : direction) * width;
  return Float64Array.from({ length: units }, (_, u) => data[at + (width === 1 ? 0 : u)]);
}

/** A value's ONNX shape, the batch symbolic (what a Shape node of it gives). */
function onnxSizes(v: Value): Size[] {
  const [first, ...rest] = v.shape;
  if (v.directions) {
    // a bidirectional op's output, its shape the joined one: each direction's states are half as wide
    const units = v.shape[v.shape.length - 1] / 2;
    if (v.recurrentOutput === "every") return v.directions === "apart" ? [first, 2, "batch", units] : [first, "batch", 2, units];
    return v.directions === "apart" ? [2, "batch", units] : ["batch", 2, units];
  }
  if (v.recurrentOutput === "every") return [first, 1, "batch", ...rest];
  if (v.recurrentOutput === "last") return [1, "batch", ...v.shape];
  if (v.stepsFirst) return [first, "batch", ...rest];
  if (v.spatial) return ["batch", v.shape[v.shape.length - 1], ...v.shape.slice(0, -1)];
  return ["batch", ...v.shape, ...Array<number>(Math.max(0, v.onnxRank - v.shape.length)).fill(1)];
}

/** Whether a Reshape to `target` (0 keeping the input's size on its axis, one -1 the rest) turns sizes `from` into `to`. */
function reshapesTo(target: readonly Size[], from: readonly Size[], to: readonly Size[]): boolean {
  if (target.length !== to.length || target.filter((t) => t === -1).length > 1) return false;
  return target.every((t, k) => t === to[k] || t === -1 || (t === 0 && from[k] === to[k]));
}
