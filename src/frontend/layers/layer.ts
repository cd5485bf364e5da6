/**
 * What one layer type of the layer form is, as data: its JSON fields (the schema fragment and the words of its
 * error messages), its shape rule, its parameters, how it builds into the DAG, how explain and graph name it,
 * and the PyTorch module it corresponds to. One record per type (registry.ts lists them); nothing elsewhere
 * recognises a layer by the name of a value.
 */
import type { Graph } from "../../ir/graph.ts";
import type { Node, Shape } from "../../ir/node.ts";
import type { InitPlan } from "../../ir/net.ts";
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

/** What a parameter is to its layer: L2 regularisation reads the weights and projections, never a bias or a gain. */
export type ParamRole = "weight" | "bias" | "gain" | "projection";

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

/** Reserved for the running statistics of a layer kept between calls (batchnorm); no layer uses it yet. */
export interface StateSlots {
  /** A value kept in the module's state, named like a parameter, read by the forward pass. */
  declare(name: string, shape: Shape, initial: number): Node;
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
  /** Reserved: running statistics, once modules hold state. Undefined until then. */
  readonly state?: StateSlots;
  /** Reserved: training or inference, once modules have modes (dropout, batchnorm). Undefined until then. */
  readonly mode?: "training" | "inference";
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
  /** The output shape for an input shape; throws LayerShapeError when the input does not fit. */
  outputShape(spec: S, input: Shape): Shape;
  /** Its parameters for an input shape (already checked by outputShape), named after `label`. */
  paramsOf(spec: S, input: Shape, label: string): ParamDecl[];
  build(ctx: BuildContext, spec: S, input: Node): Built;
  /** How explain and graph name a layer: "conv2d 3×3, 8 filters". */
  describe(spec: S): string;
  readonly torch: TorchMapping;
}

/** A record of one type stored among the others: the registry dispatches on `type`, which the schema has checked. */
export function erase<S extends LayerSpec>(kind: LayerKind<S>): LayerKind {
  return kind as unknown as LayerKind;
}
