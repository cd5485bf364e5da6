/**
 * A network of the layer form as PyTorch modules: the torch.nn.Sequential the exporter prints, and the name and
 * layout in its state_dict of every parameter and state value of ours. Both come from one walk over the layers,
 * reading each layer type's record (src/frontend/layers: TorchMapping's module, parameter names, permutations
 * and buffers), so the module printed and the names a safetensors file holds cannot disagree.
 *
 * Our tensors are channels last ([spatial..., channels]) and PyTorch's windowed layers channels first. The module
 * takes our layout (a batch of rows as bpgen reads them, [batch, ...input]) and moves the channels to the front
 * before a convolution, pooling or batch norm, and back before a layer that reads the last axis (flatten, dense,
 * layernorm, a recurrent layer) and at the end: two parameterless modules, ChannelsFirst and ChannelsLast.
 */
import type { InitPlan } from "../../ir/net.ts";
import type { Shape } from "../../ir/node.ts";
import { paddingSides, perAxis, product } from "../../frontend/layers/fields.ts";
import { type LayerKind, PENALISED_ROLES, type ParamRole } from "../../frontend/layers/layer.ts";
import { layerKind } from "../../frontend/layers/registry.ts";
import { DEFAULT_EPS, DEFAULT_MOMENTUM } from "../../frontend/layers/norm.ts";
import { DEFAULT_RATE } from "../../frontend/layers/dropout.ts";
import type { LayerNetSpec, LayerSpec, PoolLayerSpec, RecurrentLayerSpec, ResidualLayerSpec } from "../../spec/types.ts";
import type { PathSegment } from "../../spec/paths.ts";
import { type ExportProblem, activationModule } from "./activations.ts";
import { num, py, tuple } from "./literals.ts";

/** The Python helper classes a module may use (printed by python.ts, only those used). */
export type Helper = "ChannelsFirst" | "ChannelsLast" | "Residual" | "RNNLayer" | "LSTMLayer" | "GRULayer" | "Activation";

/** One entry of a Sequential: a module's Python expression, or a residual block (a Sequential body and an optional projection). */
export type TorchModule =
  | { readonly kind: "module"; readonly code: string; readonly comment?: string }
  | { readonly kind: "residual"; readonly body: readonly TorchModule[]; readonly projection?: string; readonly comment: string };

/** One of our tensors in the state_dict: `torchShape` holds our values permuted by `permute` (then with unit axes appended). */
export interface TorchTensor {
  readonly bpgen: string;
  readonly torch: string;
  readonly kind: "param" | "state";
  readonly shape: Shape;
  readonly torchShape: Shape;
  /** PyTorch's axis i reads our axis permute[i] (TorchMapping's permute). */
  readonly permute: readonly number[];
  /** Counted in the l2 penalty. */
  readonly penalised: boolean;
  /** A parameter's initialisation, as bpgen's initParams draws it. */
  readonly init?: InitPlan;
}

export interface TorchPlan {
  readonly modules: readonly TorchModule[];
  /** Every parameter (in meta.params order) and every state value PyTorch keeps (batch norm's running statistics). */
  readonly tensors: readonly TorchTensor[];
  readonly helpers: ReadonlySet<Helper>;
  /** Python functions the modules call: activations written as torch operations. */
  readonly functions: readonly string[];
  /**
   * How many entries of the top-level Sequential give the last layer's pre-activation, when the loss reads it (a
   * sigmoid output under binary_cross_entropy is computed from its logit, as bpgen does); the rest is its activation.
   */
  readonly logitsEnd: number;
  /** The output's shape per sample (ours, channels last). */
  readonly outputShape: Shape;
  /**
   * What PyTorch's modules cannot express (an activation written as an expression): the exporter refuses the
   * network with these; the names of the tensors stand regardless (such a part is a placeholder nn.Identity).
   */
  readonly problems: readonly ExportProblem[];
}

type Layout = "first" | "last";

/** What the walk knows at one point of the network. */
interface At {
  shape: Shape;
  sequence: boolean;
  /** Where the channels of a tensor of rank ≥ 2 are in the module at this point. */
  layout: Layout;
}

/** The modules of one Sequential being filled, and where its entries' names start ("" or "3.body."). */
class Sequence {
  readonly modules: TorchModule[] = [];
  constructor(
    readonly prefix: string,
    private readonly plan: PlanBuilder,
  ) {}

  add(code: string, comment?: string): string {
    this.modules.push({ kind: "module", code, comment });
    return `${this.prefix}${this.modules.length - 1}.`;
  }

  /** Moves the channels where `layout` says (a no-op for a vector per sample). */
  move(at: At, layout: Layout): void {
    if (at.shape.length < 2 || at.layout === layout) return;
    const helper = layout === "first" ? "ChannelsFirst" : "ChannelsLast";
    this.plan.helpers.add(helper);
    this.add(`${helper}()`);
    at.layout = layout;
  }
}

class PlanBuilder {
  readonly helpers = new Set<Helper>();
  readonly tensors: TorchTensor[] = [];
  readonly problems: ExportProblem[] = [];
  readonly functions: string[] = [];

  /** The module of an activation (undefined for the identity); one that cannot be written is a problem, and a placeholder. */
  activation(activation: string | undefined, where: readonly PathSegment[], label: string): string | undefined {
    const found = activationModule(activation, where, `activation_${label}`);
    if (found === undefined) return undefined;
    if ("problem" in found) {
      this.problems.push(found.problem);
      return "nn.Identity()";
    }
    if (found.function !== undefined) {
      this.functions.push(found.function);
      this.helpers.add("Activation");
    }
    return found.code;
  }
}

/** The plan of a layer-form network; what PyTorch's modules cannot express is listed in its `problems`. */
export function torchPlan(spec: LayerNetSpec<LayerSpec>): TorchPlan {
  const plan = new PlanBuilder();
  const top = new Sequence("", plan);
  const input = typeof spec.input === "number" ? [spec.input] : spec.input;
  const at: At = { shape: input, sequence: false, layout: "last" };
  let logitsEnd = -1;
  spec.layers.forEach((layer, i) => {
    const last = i === spec.layers.length - 1;
    const activationAt = addLayer(top, plan, layer, at, String(i + 1), ["layers", i], last);
    if (last) logitsEnd = activationAt ?? -1;
  });
  if (logitsEnd < 0) {
    top.move(at, "last");
    logitsEnd = top.modules.length;
  }
  // the loss reads the logit only for a sigmoid output under binary cross-entropy (frontend/layers/build.ts buildLoss)
  const lastLayer = spec.layers[spec.layers.length - 1];
  const sigmoidHead = spec.loss === "binary_cross_entropy" && "activation" in lastLayer && (lastLayer.type === "dense" || lastLayer.type.startsWith("conv")) && lastLayer.activation?.trim() === "sigmoid";
  return { modules: top.modules, tensors: plan.tensors, helpers: plan.helpers, logitsEnd: sigmoidHead ? logitsEnd : top.modules.length, outputShape: at.shape, problems: plan.problems, functions: plan.functions };
}

/**
 * Adds one layer's modules to `seq` and its tensors to the plan; `at` moves past it. For the network's last layer
 * (`last`) the channels are moved last before its activation, and the index of the activation's entry is returned.
 */
function addLayer(seq: Sequence, plan: PlanBuilder, layer: LayerSpec, at: At, label: string, path: readonly PathSegment[], last = false): number | undefined {
  const kind = layerKind(layer);
  const input = at.shape;
  const decls = kind.paramsOf(layer, input, label, at.sequence);
  const output = kind.outputShape(layer, input, at.sequence);
  /** Records the layer's parameters (and buffers) as tensors of the module whose names start with `prefix`. */
  const tensorsAt = (prefix: string, extraAxes = 0) => {
    for (const d of decls) {
      const mapping = kind.torch.params.find((p) => p.role === d.role);
      if (mapping === undefined) throw new Error(`internal: no PyTorch name for the ${d.role} of a ${layer.type} layer`);
      const { torch: name, permute } = mapping;
      const torchShape = [...permute.map((k) => d.shape[k]), ...Array<number>(extraAxes).fill(1)];
      plan.tensors.push({ bpgen: d.name, torch: `${prefix}${name}`, kind: "param", shape: d.shape, torchShape, permute, penalised: PENALISED_ROLES.has(d.role as ParamRole), init: d.init });
    }
    for (const b of kind.torch.buffers ?? []) {
      const channels = [input[input.length - 1]];
      plan.tensors.push({ bpgen: `${b.state}${label}`, torch: `${prefix}${b.torch}`, kind: "state", shape: channels, torchShape: channels, permute: [0], penalised: false });
    }
  };
  const finish = (activation: string | undefined, field: string): number | undefined => {
    at.shape = output;
    at.sequence = kind.sequenceOut?.(layer, at.sequence) ?? false;
    if (last) seq.move(at, "last");
    const module = plan.activation(activation, [...path, field], label);
    if (module === undefined) return undefined;
    seq.add(module);
    return seq.modules.length - 1;
  };

  switch (layer.type) {
    case "dense": {
      seq.move(at, "last");
      if (input.length > 1 && !at.sequence) seq.add("nn.Flatten()", "our channels-last order, as bpgen flattens");
      const width = at.sequence ? input[input.length - 1] : product(input);
      tensorsAt(seq.add(`${moduleOf(kind)}(${width}, ${layer.units}, bias=${py(layer.bias ?? true)})`, `layer ${label}: ${kind.describe(layer)}`));
      return finish(layer.activation, "activation");
    }
    case "conv1d":
    case "conv2d":
    case "conv3d": {
      seq.move(at, "first");
      const n = input.length - 1;
      const taps = perAxis(layer.kernel, n, []);
      const stride = perAxis(layer.stride, n, Array(n).fill(1));
      const dilation = perAxis(layer.dilation, n, Array(n).fill(1));
      const padding = padModule(seq, n, paddingSides(layer.padding, input.slice(0, n), taps, stride, dilation), "0.0");
      const args = [input[n], layer.filters, tuple(taps), `stride=${tuple(stride)}`, `padding=${tuple(padding)}`, `dilation=${tuple(dilation)}`, `bias=${py(layer.bias ?? true)}`];
      tensorsAt(seq.add(`${moduleOf(kind)}(${args.join(", ")})`, `layer ${label}: ${kind.describe(layer)}`));
      return finish(layer.activation, "activation");
    }
    case "max_pool1d":
    case "max_pool2d":
    case "max_pool3d":
    case "avg_pool1d":
    case "avg_pool2d":
    case "avg_pool3d":
      pool(seq, layer, at, kind, label);
      return finish(undefined, "");
    case "global_avg_pool": {
      seq.move(at, "first");
      const n = input.length - 1;
      if (n > 3) plan.problems.push({ path, message: "PyTorch's adaptive average pooling has at most 3 spatial axes", expected: "an input of rank 2 to 4", found: `rank ${input.length}` });
      seq.add(`nn.AdaptiveAvgPool${n}d(1)`, `layer ${label}: global_avg_pool`);
      seq.add("nn.Flatten()");
      at.layout = "last";
      return finish(undefined, "");
    }
    case "flatten":
      seq.move(at, "last");
      seq.add(`${moduleOf(kind)}()`, `layer ${label}: flatten (channels last)`);
      return finish(undefined, "");
    case "activation":
      at.shape = output;
      if (last) seq.move(at, "last");
      seq.add(plan.activation(layer.activation, [...path, "activation"], label) ?? "nn.Identity()", `layer ${label}: ${kind.describe(layer)}`);
      return undefined;
    case "dropout":
      seq.add(`${moduleOf(kind)}(p=${num(layer.rate ?? DEFAULT_RATE)})`, `layer ${label}: ${kind.describe(layer)} (identity in eval mode; other masks than bpgen's)`);
      return finish(undefined, "");
    case "layernorm":
      seq.move(at, "last");
      tensorsAt(seq.add(`${moduleOf(kind)}(${input[input.length - 1]}, eps=${num(layer.eps ?? DEFAULT_EPS)})`, `layer ${label}: ${kind.describe(layer)}`));
      return finish(undefined, "");
    case "batchnorm": {
      const n = input.length - 1;
      if (n > 3) plan.problems.push({ path, message: "PyTorch's batch norm takes at most 3 spatial axes", expected: "an input of rank 1 to 4", found: `rank ${input.length}` });
      seq.move(at, "first");
      const args = `${input[n]}, eps=${num(layer.eps ?? DEFAULT_EPS)}, momentum=${num(layer.momentum ?? DEFAULT_MOMENTUM)}`;
      tensorsAt(seq.add(`nn.BatchNorm${Math.max(1, n)}d(${args})`, `layer ${label}: ${kind.describe(layer)}`));
      return finish(undefined, "");
    }
    case "rnn":
    case "lstm":
    case "gru":
      seq.move(at, "last");
      tensorsAt(seq.add(recurrent(plan, layer, input[1]), `layer ${label}: ${kind.describe(layer)}`));
      return finish(undefined, "");
    case "residual":
      residual(seq, plan, layer, at, label, path, decls.length > 0);
      return finish(undefined, "");
  }
}

/** Padding PyTorch's layer cannot take (different before and after) as a ConstantPad module first; else the layer's own padding per axis. */
function padModule(seq: Sequence, n: number, sides: readonly [number, number][], value: string): number[] {
  if (sides.every(([before, after]) => before === after)) return sides.map(([before]) => before);
  // F.pad's order: the last axis first, (before, after) each
  const pads = [...sides].reverse().flat();
  seq.add(`nn.ConstantPad${n}d(${tuple(pads)}, ${value})`, "padding different before and after");
  return sides.map(() => 0);
}

function pool(seq: Sequence, layer: PoolLayerSpec, at: At, kind: LayerKind, label: string): void {
  seq.move(at, "first");
  const n = at.shape.length - 1;
  const taps = perAxis(layer.size, n, []);
  const stride = perAxis(layer.stride, n, taps);
  const sides = paddingSides(layer.padding, at.shape.slice(0, n), taps, stride, Array(n).fill(1));
  const max = layer.type.startsWith("max");
  // any padding as its own module: −∞ never wins a max (PyTorch's own padding is at most half the window), and
  // zeros counted by an average are PyTorch's count_include_pad
  if (sides.some(([before, after]) => before > 0 || after > 0)) seq.add(`nn.ConstantPad${n}d(${tuple([...sides].reverse().flat())}, ${max ? 'float("-inf")' : "0.0"})`);
  seq.add(`${moduleOf(kind)}(${tuple(taps)}, stride=${tuple(stride)})`, `layer ${label}: ${kind.describe(layer)}`);
}

/** The torch.nn module a layer record names (`torch.nn.Conv2d` is printed `nn.Conv2d`: the module file imports nn). */
function moduleOf(kind: LayerKind): string {
  const module = kind.torch.module;
  if (module === undefined || !/^torch\.nn\.[A-Za-z0-9]+$/.test(module)) throw new Error(`internal: the ${kind.type} record names no torch.nn module`);
  return module.slice("torch.".length);
}

const CELLS = { rnn: "RNNLayer", lstm: "LSTMLayer", gru: "GRULayer" } as const;

/**
 * A recurrent layer's helper module (python.ts). `features` is the input's last axis: a bidirectional layer before
 * it gives 2·units (outputShape). bidirectional is written only when true (the helpers' default is False), so
 * that a one-way layer's line is unchanged.
 */
function recurrent(plan: PlanBuilder, layer: RecurrentLayerSpec, features: number): string {
  const helper = CELLS[layer.type];
  plan.helpers.add(helper);
  const args = [String(features), String(layer.units), `return_sequences=${py(layer.return_sequences ?? false)}`, `learned_initial=${py(layer.initial_state === "learned")}`];
  if (layer.type === "rnn") args.push(`nonlinearity=${layer.activation === "relu" ? '"relu"' : '"tanh"'}`);
  if (layer.bidirectional) args.push("bidirectional=True");
  return `${helper}(${args.join(", ")})`;
}

/** A residual block: its body a Sequential that ends in the layout it started in; the projection a 1×1 convolution or a Linear. */
function residual(seq: Sequence, plan: PlanBuilder, layer: ResidualLayerSpec, at: At, label: string, path: readonly PathSegment[], projected: boolean): void {
  plan.helpers.add("Residual");
  const spatial = at.shape.length >= 2;
  // a projection of an image is a convolution, channels first
  if (projected && spatial) seq.move(at, "first");
  const index = seq.modules.length;
  const body = new Sequence(`${seq.prefix}${index}.body.`, plan);
  const inner: At = { ...at };
  layer.layers.forEach((l, j) => addLayer(body, plan, l, inner, `${label}_${j + 1}`, [...path, "layers", j]));
  body.move(inner, at.layout);
  let projection: string | undefined;
  if (projected) {
    const kind = layerKind(layer);
    const [from, to] = [at.shape[at.shape.length - 1], inner.shape[inner.shape.length - 1]];
    const n = at.shape.length - 1;
    const stride = at.shape.slice(0, n).map((size, k) => projectionStride(size, inner.shape[k]));
    projection = spatial ? `nn.Conv${n}d(${from}, ${to}, 1, stride=${tuple(stride)}, bias=False)` : `nn.Linear(${from}, ${to}, bias=False)`;
    const decl = kind.paramsOf(layer, at.shape, label, at.sequence)[0];
    const mapping = kind.torch.params[0];
    plan.tensors.push({
      bpgen: decl.name,
      torch: `${seq.prefix}${index}.${mapping.torch}`,
      kind: "param",
      shape: decl.shape,
      torchShape: [...mapping.permute.map((k) => decl.shape[k]), ...Array<number>(spatial ? n : 0).fill(1)],
      permute: mapping.permute,
      penalised: true,
      init: decl.init,
    });
  }
  seq.modules.push({ kind: "residual", body: body.modules, projection, comment: `layer ${label}: ${layerKind(layer).describe(layer)}` });
}

/** The smallest stride s with ⌊(size − 1) / s⌋ + 1 = out (the residual record's rule). */
function projectionStride(size: number, out: number): number {
  for (let s = 1; s <= size; s++) if (Math.floor((size - 1) / s) + 1 === out) return s;
  throw new Error(`internal: no stride maps ${size} cells onto ${out}`);
}
