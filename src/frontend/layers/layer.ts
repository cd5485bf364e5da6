/**
 * What one layer type of the layer form is, as data: its JSON fields (the schema fragment and the words of its
 * error messages), its shape rule, its parameters, how it builds into the DAG, how explain and graph name it,
 * and the PyTorch module it corresponds to. One record per type (registry.ts lists them); nothing elsewhere
 * recognises a layer by the name of a value.
 */
import type { Graph } from "../../ir/graph.ts";
import type { Node, Shape } from "../../ir/node.ts";
import type { InitPlan } from "../../ir/net.ts";
import type { RandomState } from "../../ir/random.ts";
import type { PathSegment } from "../../spec/paths.ts";
import type { LayerSpec } from "../../spec/types.ts";

/** A JSON schema fragment (draft-07), as plain data. */
export type JsonSchema = { readonly [key: string]: unknown };

/** One JSON field of a layer: its schema, and the words the validator's messages use for it. */
export interface Field {
  readonly schema: JsonSchema;
  /** What the value is, for messages: "layer units". */
  readonly what: string;
  /** The rule, completing "<what> <rule>": "must be a positive integer". */
  readonly rule: string;
  readonly expected: string;
  /** Allowed names, for "unknown <what>" messages and did-you-mean suggestions. */
  readonly choices?: readonly string[];
  /** The default, as docs/net-json.md shows it; absent for a required field. */
  readonly default?: string;
}

/**
 * What a parameter is to its layer: L2 regularisation reads the weights, recurrent weights and projections, never
 * a bias, a gain or an initial state.
 */
export type ParamRole = DirectionalRole | `${DirectionalRole}Reverse` | "gain" | "projection";

/** The roles a bidirectional recurrent layer has twice: once per direction, the reverse one's named `<role>Reverse`. */
export type DirectionalRole = "weight" | "bias" | "recurrent" | "recurrentBias" | "initial" | "initialCell";

/** A parameter's role in one direction of a recurrent layer: `weight` forward, `weightReverse` reverse. */
export const directionalRole = (base: DirectionalRole, reverse: boolean): ParamRole => (reverse ? `${base}Reverse` : base);

/** The suffix of a recurrent layer's reverse direction's parameters and values: W_ih1_reverse (PyTorch's weight_ih_l0_reverse). */
export const REVERSE_SUFFIX = "_reverse";

/** The roles L2 regularisation penalises. */
export const PENALISED_ROLES: ReadonlySet<ParamRole> = new Set<ParamRole>(["weight", "projection", "recurrent", "weightReverse", "recurrentReverse"]);

/** A parameter a layer declares, before it becomes a leaf of the DAG. */
export interface ParamDecl {
  readonly role: ParamRole;
  /** The parameter's name in the module: `W3`, `b3_1`, `g4`. */
  readonly name: string;
  readonly shape: Shape;
  readonly init: InitPlan;
}

/** A layer's input does not fit it: what it expected and what it found (the builder adds the JSON path). */
export class LayerShapeError extends Error {
  constructor(
    message: string,
    readonly expected: string,
    readonly found: string,
    /** The JSON path of the layer inside a block that does not fit, when it is not the layer being checked. */
    readonly path?: readonly PathSegment[],
  ) {
    super(message);
  }
}

/** Which function of the module a build is for: training (batch statistics, dropout on) or inference. */
export type Mode = "training" | "inference";

/**
 * The network's state, for the layers that keep some: running statistics, and the one dropout generator. A
 * stack with such layers is built twice, once per mode; the graph interns leaves, so both builds read the same ones.
 */
export interface StateSlots {
  /** A value kept in the module's state, named like a parameter, `initial` everywhere at first. */
  declare(name: string, shape: Shape, initial: number): Node;
  /** Training mode only: the value `leaf` (declared) takes after a training step. */
  update(leaf: Node, next: Node): void;
  /** The network's dropout generator (its seed and step, declared at the first call) and a stream of the caller's own. */
  random(): { readonly rng: RandomState; readonly stream: number };
}

/** What a layer's build receives. */
export interface BuildContext {
  readonly g: Graph;
  /** The layer's place, from 1, nested layers after an underscore: "3", "3_1". Names its values and parameters. */
  readonly label: string;
  /** Its JSON path, for errors: ["layers", 2, "layers", 0]. */
  readonly path: readonly PathSegment[];
  /** The leaf of a parameter it declared (paramsOf), made when first asked for (so leaves come in the order a build reads them). */
  param(role: ParamRole): Node;
  /** Builds a nested block of layers (residual), in order, from `input`; returns its output. */
  buildBlock(layers: readonly LayerSpec[], input: Node, field: string): Node;
  /** An activation by name or expression in x, applied to `z` (reported at `field` when bad; then z itself). */
  activate(z: Node, activation: string | undefined, field: string): Node;
  /** The network's state (read only by the layers marked `modal`). */
  readonly state: StateSlots;
  /** The mode being built: "inference" for a stack without modal layers, built once. */
  readonly mode: Mode;
  /** The input is a sequence, one row per step (a recurrent layer's every-step output, or a layer applied per step to one). */
  readonly sequence: boolean;
  /**
   * Gives a value its readable name (`z3`), the one the module and the derivation use. A stack built in two modes
   * names the training build's values only, so that each name stands for one value: the one the gradient reads.
   */
  name(node: Node, hint: string): Node;
}

/** What a build returns: the layer's output, and its pre-activation when it has an activation. */
export interface Built {
  readonly output: Node;
  readonly preActivation?: Node;
}

/**
 * How a layer corresponds to a PyTorch module, for export and import: the module class, its constructor
 * arguments (from our fields, or derived from the input shape), and each parameter's name and layout there.
 * `permute[i]` is the axis of our parameter that PyTorch's axis i reads.
 */
export interface TorchMapping {
  /** "torch.nn.Conv2d"; undefined where PyTorch has no module (a residual block is user code there). */
  readonly module?: string;
  /** PyTorch argument → where its value comes from: a field of ours ("filters"), or a derived quantity ("input channels"). */
  readonly args: Readonly<Record<string, string>>;
  readonly params: readonly { readonly role: ParamRole; readonly torch: string; readonly layout: string; readonly permute: readonly number[] }[];
  /** The layer's values kept in the state (named `<state><label>`: `m3`) that are PyTorch buffers of the module, and their names there. */
  readonly buffers?: readonly { readonly state: string; readonly torch: string }[];
  /** What differs, in words. */
  readonly note?: string;
}

/** One layer type. `S` is its spec; the registry keeps records of the union (`erase`). */
export interface LayerKind<S extends LayerSpec = LayerSpec> {
  readonly type: S["type"];
  /** A phrase for docs and schema titles: "2-D convolution". */
  readonly title: string;
  /** One sentence for the schema and docs. */
  readonly description: string;
  /** Its fields besides "type", in the order docs list them. */
  readonly fields: Readonly<Record<string, Field>>;
  readonly required: readonly string[];
  /** Its build reads the mode (or the state): a stack with such a layer is built for training and for inference. */
  readonly modal?: boolean;
  /** The layers inside it (a residual block's), whose own `modal` counts for the stack. */
  inner?(spec: S): readonly LayerSpec[];
  /**
   * The output shape for an input shape (`sequence`: the input is a sequence, one row per step); throws
   * LayerShapeError when the input does not fit.
   */
  outputShape(spec: S, input: Shape, sequence?: boolean): Shape;
  /** Its parameters for an input shape (already checked by outputShape), named after `label`. */
  paramsOf(spec: S, input: Shape, label: string, sequence?: boolean): ParamDecl[];
  /** Whether its output is a sequence, one row per step (a recurrent layer's every-step output, a layer applied per step); false when absent. */
  sequenceOut?(spec: S, sequenceIn: boolean): boolean;
  build(ctx: BuildContext, spec: S, input: Node): Built;
  /** How explain and graph name a layer: "conv2d 3×3, 8 filters". */
  describe(spec: S): string;
  readonly torch: TorchMapping;
}

/** A record of one type stored among the others: the registry dispatches on `type`, which the schema has checked. */
export function erase<S extends LayerSpec>(kind: LayerKind<S>): LayerKind {
  return kind as unknown as LayerKind;
}
