/**
 * `bpgen export net.json --to onnx`: the network's inference pass (what the module's `forward` computes) as an
 * ONNX model of opset 17, float32, with a symbolic batch dimension.
 *
 * Layer form: one group of ONNX nodes per layer (Gemm, Conv, MaxPool, BatchNormalization, …). The model's input
 * and output are bpgen's, channels last ([batch, height, width, channels]); ONNX's convolution, pooling and batch
 * norm want the channels in front, so a Transpose moves them there before the first such layer and back before a
 * layer that reads them last (flatten, dense, layernorm) or the output — only where the layout changes.
 * An activation that is one ONNX op with bpgen's constants (Relu, Elu, Selu, …) is written as it; any other,
 * expressions included, is translated from the layer's DAG (dag.ts) as the elementwise ops it is made of. rnn, lstm
 * and gru are ONNX's RNN, LSTM and GRU over the sequence moved steps first (a bidirectional layer is one node of
 * both directions). Batch norm uses its running statistics, dropout is left out, and under softmax_cross_entropy
 * the output is the probabilities, a Softmax over the last axis, as `forward` gives them.
 *
 * Equation form: the DAG of the forward pass, node by node (dag.ts), one graph input per declared input; a
 * recurrence is one Scan whose body graph is its cell.
 */
import { dirname, join } from "node:path";
import { BpgenError } from "../../errors.ts";
import { paddingSides } from "../../frontend/layers/fields.ts";
import { type DirectionalRole, directionalRole } from "../../frontend/layers/layer.ts";
import type { NetLayer, StateLeaf } from "../../ir/net.ts";
import type { Node, Shape } from "../../ir/node.ts";
import { concatenated } from "../../ir/ops.ts";
import type { FloatArray, NetMeta } from "../../module-api.ts";
import { buildNet } from "../../pipeline.ts";
import { isLayerSpec, type EquationEntry, type EquationNetSpec, type LayerNetSpec, type LayerSpec, type NetSpec, type Padding } from "../../spec/types.ts";
import { VERSION } from "../../version.ts";
import type { ExportRequest, Exporter } from "../export-request.ts";
import { type AttributeValue, floatInput, GraphBuilder } from "./builder.ts";
import { type DagContext, translate, UnmappedOp } from "./dag.ts";
import { encodeModel } from "./proto.ts";

/** The network's inference graph as an ONNX model. */
export const exportOnnx: Exporter = async (request) => {
  const { spec } = request.loaded;
  const values = await parameterValues(request);
  const bytes = onnxModel(spec, values, request.file);
  return [{ target: request.out ?? join(dirname(request.file), `${spec.name}.onnx`), data: bytes }];
};

/** Each parameter's and state value's numbers, by name. */
export interface NamedValues {
  readonly params: ReadonlyMap<string, Float64Array>;
  readonly state: ReadonlyMap<string, Float64Array>;
}

/** The model's bytes for `spec` with these parameter values; `file` names net.json in errors. */
export function onnxModel(spec: NetSpec, values: NamedValues, file: string): Uint8Array {
  const net = buildNet(spec);
  const b = new GraphBuilder();
  const leafValue = (leaf: Node): Float64Array => {
    const name = String(leaf.attr);
    const v = (leaf.op === "state" ? values.state : values.params).get(name);
    if (!v) throw new Error(`internal: no value for the ${leaf.op} ${name}`);
    return v;
  };
  const ctx: LayerContext = { b, graph: net.graph, bound: new Map(), leafValue, written: new Map(), state: new Map((net.state ?? []).map((leaf) => [leaf.name, leaf])) };
  const doc = `bpgen ${VERSION}: the inference pass of ${spec.name}`;
  if (isLayerSpec(spec)) {
    const layerSpec = spec as unknown as LayerNetSpec<LayerSpec>;
    const input = b.claim("input");
    const inputShape = typeof layerSpec.input === "number" ? [layerSpec.input] : layerSpec.input;
    let t: Tensor = { name: input, shape: inputShape, first: false };
    const layers = net.layers ?? [];
    t = layersOf(ctx, layerSpec.layers, layers, t, file);
    t = toLast(b, t);
    const output = layerSpec.loss === "softmax_cross_entropy" ? b.op("Softmax", [t.name], { axis: -1 }, "output") : b.op("Identity", [t.name], {}, "output");
    return encodeModel(b.model(spec.name, [floatInput(input, inputShape)], [floatInput(output, t.shape)], `${doc}, channels last as bpgen's module`, VERSION));
  }
  const eq = spec as EquationNetSpec<EquationEntry>;
  const inputs = net.inputs.map((leaf) => {
    ctx.bound.set(leaf.node, b.claim(leaf.name));
    return floatInput(leaf.name, leaf.shape);
  });
  let out: string;
  try {
    out = translate(ctx, net.output);
  } catch (e) {
    if (e instanceof UnmappedOp) throw equationError(eq, e, file);
    throw e;
  }
  const output = b.op("Identity", [out], {}, eq.output);
  return encodeModel(b.model(spec.name, inputs, [floatInput(output, net.output.shape)], doc, VERSION));
}

// ---- the layer form ----------------------------------------------------------------------------------------

interface LayerContext extends DagContext {
  /** The state leaves (batch norm's running statistics) by name. */
  readonly state: ReadonlyMap<string, StateLeaf>;
}

/** A value of the graph: its ONNX name, bpgen's per-sample shape (channels last), and whether ONNX holds it channels first. */
interface Tensor {
  readonly name: string;
  readonly shape: Shape;
  readonly first: boolean;
}

function toFirst(b: GraphBuilder, t: Tensor): Tensor {
  const r = t.shape.length;
  if (t.first || r < 2) return t;
  const name = b.cached(`first|${t.name}`, () => b.op("Transpose", [t.name], { perm: [0, r, ...Array.from({ length: r - 1 }, (_, k) => k + 1)] }, "channels_first"));
  return { name, shape: t.shape, first: true };
}

function toLast(b: GraphBuilder, t: Tensor): Tensor {
  const r = t.shape.length;
  if (!t.first || r < 2) return { ...t, first: false };
  const name = b.cached(`last|${t.name}`, () => b.op("Transpose", [t.name], { perm: [0, ...Array.from({ length: r - 1 }, (_, k) => k + 2), 1] }, "channels_last"));
  return { name, shape: t.shape, first: false };
}

function layersOf(ctx: LayerContext, specs: readonly LayerSpec[], records: readonly NetLayer[], x: Tensor, file: string): Tensor {
  let t = x;
  specs.forEach((spec, k) => {
    const record = records[k];
    if (!record) throw new Error(`internal: no built layer for ${spec.type} ${k}`);
    t = layer(ctx, spec, record, t, file);
  });
  return t;
}

function layer(ctx: LayerContext, spec: LayerSpec, record: NetLayer, x: Tensor, file: string): Tensor {
  const { b } = ctx;
  const param = (role: string): string | undefined => {
    const p = record.params.find((q) => q.role === role);
    return p ? ctx.b.floats(p.name, p.shape, ctx.leafValue(p.node)) : undefined;
  };
  const paramValues = (role: string) => {
    const p = record.params.find((q) => q.role === role);
    if (!p) throw new Error(`internal: the ${spec.type} layer ${record.label} has no ${role}`);
    return { name: p.name, shape: p.shape, values: ctx.leafValue(p.node) };
  };
  const out = (name: string, first: boolean): Tensor => ({ name, shape: record.output.shape, first });
  const activated = (z: Tensor): Tensor => activation(ctx, record, z, file, undefined, "activation" in spec ? spec.activation : undefined);
  switch (spec.type) {
    case "dense": {
      const W = paramValues("weight");
      const bias = param("bias");
      const t = toLast(b, x);
      const onSequence = t.shape.length === 2 && W.shape[1] === t.shape[1] && record.output.shape.length === 2;
      if (onSequence) {
        const Wt = b.floats(`${W.name}_T`, [W.shape[1], W.shape[0]], transpose2(W.values, W.shape[0], W.shape[1]));
        const z = b.op("MatMul", [t.name, Wt]);
        return activated({ name: bias ? b.op("Add", [z, bias]) : z, shape: record.output.shape, first: false });
      }
      const flat = t.shape.length === 1 ? t.name : b.op("Flatten", [t.name], { axis: 1 });
      const w = b.floats(W.name, W.shape, W.values);
      return activated({ name: b.op("Gemm", bias ? [flat, w, bias] : [flat, w], { transB: 1 }), shape: record.output.shape, first: false });
    }
    case "conv1d":
    case "conv2d":
    case "conv3d": {
      const n = Number(spec.type[4]);
      const t = toFirst(b, x);
      const W = paramValues("weight");
      const w = b.floats(W.name, channelsFirstFilterShape(W.shape), channelsFirstFilter(W.values, W.shape));
      const bias = param("bias");
      const window = windowOf(n, spec.kernel, spec.stride ?? 1, spec.dilation ?? 1, spec.padding, x.shape);
      const z = b.op("Conv", bias ? [t.name, w, bias] : [t.name, w], { kernel_shape: window.taps, strides: window.stride, dilations: window.dilation, pads: window.pads });
      return activated(out(z, true));
    }
    case "max_pool1d":
    case "max_pool2d":
    case "max_pool3d":
    case "avg_pool1d":
    case "avg_pool2d":
    case "avg_pool3d": {
      const n = Number(spec.type[spec.type.length - 2]);
      const t = toFirst(b, x);
      const taps = perAxis(spec.size, n);
      const window = windowOf(n, taps, spec.stride ?? taps, 1, spec.padding, x.shape);
      const attributes = { kernel_shape: window.taps, strides: window.stride, pads: window.pads };
      const y = spec.type.startsWith("max") ? b.op("MaxPool", [t.name], attributes) : b.op("AveragePool", [t.name], { ...attributes, count_include_pad: 1 });
      return out(y, true);
    }
    case "global_avg_pool": {
      const t = toFirst(b, x);
      return out(b.op("Flatten", [b.op("GlobalAveragePool", [t.name])], { axis: 1 }), false);
    }
    case "flatten": {
      const t = toLast(b, x);
      return out(t.shape.length === 1 ? t.name : b.op("Flatten", [t.name], { axis: 1 }), false);
    }
    case "activation":
      return activation(ctx, record, x, file, record.input, spec.activation);
    case "layernorm": {
      const t = toLast(b, x);
      return out(b.op("LayerNormalization", [t.name, param("gain") ?? "", param("bias") ?? ""], { axis: -1, epsilon: { float: spec.eps ?? 1e-5 } }), false);
    }
    case "batchnorm": {
      const t = toFirst(b, x);
      const state = (prefix: string) => {
        const leaf = ctx.state.get(`${prefix}${record.label}`);
        if (!leaf) throw new Error(`internal: the batchnorm layer ${record.label} keeps no ${prefix}${record.label}`);
        return b.floats(leaf.name, leaf.shape, ctx.leafValue(leaf.node));
      };
      const y = b.op("BatchNormalization", [t.name, param("gain") ?? "", param("bias") ?? "", state("m"), state("v")], { epsilon: { float: spec.eps ?? 1e-5 } });
      return out(y, t.first);
    }
    case "dropout":
      return x;
    case "residual": {
      const y = layersOf(ctx, spec.layers, record.inner, x, file);
      const P = record.params.find((q) => q.role === "projection");
      const shortcut = P ? project(ctx, P.name, P.shape, ctx.leafValue(P.node), x, y) : x;
      const s = y.first ? toFirst(b, shortcut) : toLast(b, shortcut);
      return out(b.op("Add", [y.name, s.name]), y.first);
    }
    case "rnn":
    case "lstm":
    case "gru":
      return recurrent(ctx, spec, record, toLast(b, x));
  }
}

/** ONNX's gate blocks, from bpgen's (PyTorch's) order: LSTM i, f, g, o → i, o, f, c; GRU r, z, n → z, r, h. */
const GATE_ORDER: Readonly<Record<"rnn" | "lstm" | "gru", readonly number[]>> = { rnn: [0], lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

/**
 * rnn, lstm and gru as ONNX's RNN, LSTM and GRU (linear_before_reset for PyTorch's GRU), over the sequence moved to
 * [steps, batch, features] and back; the output is every step's state or the last one. A bidirectional layer is one
 * node of direction "bidirectional": ONNX's [num_directions, …] weights hold the forward direction's, then the
 * reverse one's, and its outputs are moved to bpgen's joined layout (bidirectionalOutput).
 */
function recurrent(ctx: LayerContext, spec: Extract<LayerSpec, { type: "rnn" | "lstm" | "gru" }>, record: NetLayer, x: Tensor): Tensor {
  const { b } = ctx;
  const cell = spec.type;
  const units = spec.units;
  const order = GATE_ORDER[cell];
  const reverses = spec.bidirectional ? [false, true] : [false];
  const directions = reverses.length;
  const find = (role: DirectionalRole, reverse: boolean) => record.params.find((q) => q.role === directionalRole(role, reverse));
  const value = (role: DirectionalRole, reverse = false) => {
    const p = find(role, reverse);
    if (!p) throw new Error(`internal: the ${cell} layer ${record.label} has no ${role}${reverse ? " (reverse)" : ""}`);
    return { name: p.name, shape: p.shape, values: ctx.leafValue(p.node) };
  };
  /** Rows of a [gates·units, …] tensor in ONNX's gate order. */
  const reordered = (values: Float64Array, width: number) => {
    const out = new Float64Array(values.length);
    order.forEach((from, to) => out.set(values.subarray(from * units * width, (from + 1) * units * width), to * units * width));
    return out;
  };
  /** Each direction's values in turn: ONNX's [num_directions, …] (one direction's alone is as it is). */
  const perDirection = (of: (reverse: boolean) => Float64Array) => concatenated(reverses.map(of));
  const Wih = value("weight");
  const Whh = value("recurrent");
  const W = b.floats(Wih.name, [directions, ...Wih.shape], perDirection((r) => reordered(value("weight", r).values, Wih.shape[1])));
  const R = b.floats(Whh.name, [directions, ...Whh.shape], perDirection((r) => reordered(value("recurrent", r).values, units)));
  // each direction's row of B: its input biases, then its recurrent ones
  const biases = (r: boolean) => Float64Array.from([...reordered(value("bias", r).values, 1), ...reordered(value("recurrentBias", r).values, 1)]);
  const B = b.floats(`b${record.label}`, [directions, 2 * order.length * units], perDirection(biases));
  const steps = b.op("Transpose", [x.name], { perm: [1, 0, 2] }, "steps_first");
  const initial = (role: DirectionalRole) => {
    const p = find(role, false);
    if (!p) return "";
    // [num_directions, batch, units]: each direction's learned state repeated over the batch
    const batch = b.batchSize(x.name);
    const values = perDirection((r) => value(role, r).values);
    return b.op("Expand", [b.floats(p.name, [directions, 1, units], values), b.op("Concat", [b.int64s([1], [directions]), batch, b.int64s([1], [units])], { axis: 0 })]);
  };
  const inputs = [steps, W, R, B, "", initial("initial"), ...(cell === "lstm" ? [initial("initialCell")] : [])];
  while (inputs[inputs.length - 1] === "") inputs.pop();
  // an RNN's activation once per direction
  const activation = spec.activation === "relu" ? "Relu" : "Tanh";
  const attributes = {
    hidden_size: units,
    ...(spec.bidirectional ? { direction: "bidirectional" } : {}),
    ...(cell === "rnn" ? { activations: { strings: reverses.map(() => activation) } } : {}),
    ...(cell === "gru" ? { linear_before_reset: 1 } : {}),
  };
  const [Y, Yh] = b.opMany(cell.toUpperCase(), inputs, 2, attributes, cell);
  if (spec.bidirectional) return { name: bidirectionalOutput(b, spec.return_sequences ? Y : Yh, spec.return_sequences ?? false, units), shape: record.output.shape, first: false };
  if (spec.return_sequences) {
    const every = b.op("Squeeze", [Y, b.int64s([1], [1])]);
    return { name: b.op("Transpose", [every], { perm: [1, 0, 2] }), shape: record.output.shape, first: false };
  }
  return { name: b.op("Squeeze", [Yh, b.int64s([1], [0])]), shape: record.output.shape, first: false };
}

/**
 * A bidirectional op's output in bpgen's layout, the directions joined along the units, forward first. Every step's,
 * Y [T, 2, batch, H], as PyTorch's export writes its output (so that one import reads both): the directions moved
 * after the batch, [T, batch, 2, H], joined, [T, batch, 2H], then batch first. The last states, Y_h [2, batch, H]:
 * batch first, [batch, 2, H], joined, [batch, 2H] (PyTorch's torch.cat((h_n[0], h_n[1]), 1)).
 */
function bidirectionalOutput(b: GraphBuilder, y: string, everyStep: boolean, units: number): string {
  if (everyStep) {
    const joined = b.op("Reshape", [b.op("Transpose", [y], { perm: [0, 2, 1, 3] }), b.int64s([3], [0, 0, 2 * units])]);
    return b.op("Transpose", [joined], { perm: [1, 0, 2] });
  }
  return b.op("Reshape", [b.op("Transpose", [y], { perm: [1, 0, 2] }), b.int64s([2], [0, 2 * units])]);
}

/**
 * Activations that are one ONNX op with bpgen's meaning (the same constants): written as that op, which reads
 * better and imports back as the activation; any other is translated from the DAG.
 */
const ONNX_ACTIVATIONS: Readonly<Record<string, { op: string; attributes?: Readonly<Record<string, AttributeValue>> }>> = {
  relu: { op: "Relu" },
  sigmoid: { op: "Sigmoid" },
  tanh: { op: "Tanh" },
  softplus: { op: "Softplus" },
  softsign: { op: "Softsign" },
  elu: { op: "Elu", attributes: { alpha: { float: 1 } } },
  selu: { op: "Selu" },
  leaky_relu: { op: "LeakyRelu", attributes: { alpha: { float: 0.01 } } },
  hard_sigmoid: { op: "HardSigmoid", attributes: { alpha: { float: 1 / 6 }, beta: { float: 0.5 } } },
  hard_swish: { op: "HardSwish" },
};

/** The layer's activation on `z` (its pre-activation value, or `from` for an activation layer). */
function activation(ctx: DagContext, record: NetLayer, z: Tensor, file: string, from?: Node, name?: string): Tensor {
  const source = from ?? record.preActivation;
  if (!source || source === record.output) return { ...z, shape: record.output.shape };
  const direct = name === undefined ? undefined : ONNX_ACTIVATIONS[name.trim()];
  if (direct) return { name: ctx.b.op(direct.op, [z.name], direct.attributes ?? {}), shape: record.output.shape, first: z.first };
  ctx.bound.set(source, z.name);
  try {
    return { name: translate(ctx, record.output), shape: record.output.shape, first: z.first };
  } catch (e) {
    if (e instanceof UnmappedOp) throw new BpgenError({ file, path: record.path, message: `the activation of layer ${record.label} uses ${e.op}, which has no ONNX form here: ${e.reason}` });
    throw e;
  } finally {
    ctx.bound.delete(source);
  }
}

/** A residual block's projection P x: a 1×1 convolution (strided when the block downsamples) or a product. */
function project(ctx: DagContext, name: string, shape: Shape, values: Float64Array, x: Tensor, y: Tensor): Tensor {
  const { b } = ctx;
  const [to, from] = shape;
  if (x.shape.length === 1) return { name: b.op("Gemm", [x.name, b.floats(name, shape, values)], { transB: 1 }), shape: y.shape, first: false };
  const spatial = x.shape.slice(0, -1);
  const stride = spatial.map((size, k) => {
    for (let s = 1; s <= size; s++) if (Math.floor((size - 1) / s) + 1 === y.shape[k]) return s;
    throw new Error(`internal: no stride maps ${size} cells onto ${y.shape[k]}`);
  });
  const t = toFirst(b, x);
  const w = b.floats(name, [to, from, ...spatial.map(() => 1)], values);
  return { name: b.op("Conv", [t.name, w], { kernel_shape: spatial.map(() => 1), strides: stride }), shape: y.shape, first: true };
}

// ---- windows and filters ----------------------------------------------------------------------------------

function perAxis(v: number | number[] | undefined, n: number, fallback = 1): number[] {
  if (v === undefined) return Array<number>(n).fill(fallback);
  return typeof v === "number" ? Array<number>(n).fill(v) : [...v];
}

/** ONNX's attributes for a window over the spatial axes of `input` (channels last): pads as [begins..., ends...]. */
function windowOf(n: number, kernel: number | number[], stride: number | number[], dilation: number | number[], padding: Padding | undefined, input: Shape) {
  const taps = perAxis(kernel, n);
  const strides = perAxis(stride, n);
  const dilations = perAxis(dilation, n);
  const spatial = input.slice(0, n);
  const sides = paddingSides(padding, spatial, taps, strides, dilations);
  return { taps, stride: strides, dilation: dilations, pads: [...sides.map((s) => s[0]), ...sides.map((s) => s[1])] };
}

/** bpgen's filter [taps..., in, out] as ONNX's [out, in, taps...]. */
function channelsFirstFilterShape(shape: Shape): number[] {
  const n = shape.length - 2;
  return [shape[n + 1], shape[n], ...shape.slice(0, n)];
}

function channelsFirstFilter(values: Float64Array, shape: Shape): Float64Array {
  const n = shape.length - 2;
  const taps = shape.slice(0, n).reduce((a, c) => a * c, 1);
  const [inC, outC] = [shape[n], shape[n + 1]];
  const out = new Float64Array(values.length);
  for (let tap = 0; tap < taps; tap++) for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) out[(o * inC + i) * taps + tap] = values[(tap * inC + i) * outC + o];
  return out;
}

function transpose2(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

// ---- errors ---------------------------------------------------------------------------------------------

function equationError(spec: EquationNetSpec<EquationEntry>, e: UnmappedOp, file: string): BpgenError {
  const at = e.value === undefined ? undefined : definitionOf(spec, e.value);
  return new BpgenError({
    file,
    ...(at ? { path: at.path, ...(at.equation === undefined ? {} : { equation: at.equation }) } : {}),
    message: at ? `${at.what} ${e.value} uses ${e.op}, which the ONNX export cannot write: ${e.reason}` : `the forward pass uses ${e.op}, which the ONNX export cannot write: ${e.reason}`,
    expected: "elementwise functions (except random numbers), products, sums and reductions, slices, reshapes, transposes, convolutions, pooling and recurrences",
    found: e.op,
  });
}

/** Where `name` is defined: by an equation, or handed out by a recurrence. */
function definitionOf(spec: EquationNetSpec<EquationEntry>, name: string): { path: string; what: string; equation?: string } | undefined {
  for (const [i, entry] of spec.equations.entries()) {
    if (typeof entry === "string") {
      if (entry.split("=")[0].trim() === name) return { path: `equations[${i}]`, what: "the equation defining", equation: entry };
    } else if (Object.hasOwn(entry.recurrence.outputs ?? {}, name) || Object.hasOwn(entry.recurrence.final ?? {}, name)) {
      return { path: `equations[${i}].recurrence`, what: "the recurrence handing out" };
    }
  }
  return undefined;
}

// ---- the parameters -----------------------------------------------------------------------------------------

/** The parameters (and state) of `--params`, or initParams' (and initState's) for a freshly initialised network. */
async function parameterValues(request: ExportRequest): Promise<NamedValues> {
  const [{ compileLoaded }, { loadModule }, { loadParams, stateLayout }, { torchNames }] = await Promise.all([
    import("../../pipeline.ts"),
    import("../../check/module.ts"),
    import("../../train/params.ts"),
    import("../torch-names.ts"),
  ]);
  const compiled = await compileLoaded(request.loaded, { precision: "f64", kernels: "js", format: false, sourceFile: request.file });
  const m = loadModule<Float64Array>(compiled.source) as unknown as ModuleLike;
  const layout = stateLayout(m.meta);
  const params = m.initParams();
  const state = layout ? (m.initState?.() ?? new Float64Array(layout.stateCount)) : undefined;
  // a layer-form network's safetensors file may have the names of its PyTorch module (as bpgen train writes it)
  if (request.params !== undefined) loadParams(request.params, m.meta, params, state, torchNames(request.loaded.spec));
  const byName = (list: readonly { name: string; offset: number; size: number }[], v: FloatArray) => new Map(list.map((p) => [p.name, Float64Array.from(v.subarray(p.offset, p.offset + p.size))]));
  return { params: byName(m.meta.params, params), state: layout && state ? byName(layout.state, state) : new Map() };
}

interface ModuleLike {
  readonly meta: NetMeta;
  initParams(seed?: number): Float64Array;
  initState?(seed?: number): Float64Array;
}
