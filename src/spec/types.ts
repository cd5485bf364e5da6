/** The two forms of net.json (docs/net-json.md), after validation. */
export type NetSpec = LayerNetSpec | EquationNetSpec;


export const LAYER_LOSSES = ["mse", "binary_cross_entropy", "softmax_cross_entropy"] as const;
export type LayerLoss = (typeof LAYER_LOSSES)[number];

export const INIT_NAMES = ["zeros", "xavier", "he"] as const;
export type InitName = (typeof INIT_NAMES)[number];
/** A constant, or a named scheme. */
export type InitSpec = number | InitName;

export const OPTIMIZER_TYPES = ["sgd", "momentum", "adam", "adamw"] as const;
export type OptimizerType = (typeof OPTIMIZER_TYPES)[number];

/** Default optimizer settings (`"optimizer"` in net.json), used by the generated createOptimizer and by `bpgen train`. */
export interface OptimizerSpec {
  type: OptimizerType;
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
}

/**
 * The layers of the layer form (docs/net-json.md; src/frontend/layers/ holds one record per type with its fields,
 * shape rule, parameters and build). `kernel`, `size`, `stride`, `padding` and `dilation` take a number or one per
 * spatial axis.
 */
export type Spatial = number | number[];
/** "valid" (none), "same" (as many outputs as inputs over the stride), cells on both sides, or one entry per axis. */
export type Padding = "valid" | "same" | number | (number | [number, number])[];

export interface DenseLayerSpec {
  type: "dense";
  units: number;
  /** A builtin name or a mathjs expression in `x`. Default "linear". */
  activation?: string;
  /** Default true. */
  bias?: boolean;
  init?: InitSpec;
}

export interface ConvLayerSpec {
  type: "conv1d" | "conv2d" | "conv3d";
  filters: number;
  kernel: Spatial;
  stride?: Spatial;
  padding?: Padding;
  dilation?: Spatial;
  activation?: string;
  bias?: boolean;
  init?: InitSpec;
}

export interface PoolLayerSpec {
  type: "max_pool1d" | "max_pool2d" | "max_pool3d" | "avg_pool1d" | "avg_pool2d" | "avg_pool3d";
  size: Spatial;
  /** Default: the window size. */
  stride?: Spatial;
  padding?: Padding;
}

export interface GlobalAvgPoolLayerSpec {
  type: "global_avg_pool";
}

export interface FlattenLayerSpec {
  type: "flatten";
}

export interface ActivationLayerSpec {
  type: "activation";
  activation: string;
}

export interface LayerNormLayerSpec {
  type: "layernorm";
  /** Default 1e-5. */
  eps?: number;
}

export interface BatchNormLayerSpec {
  type: "batchnorm";
  /** PyTorch's sense: running ← (1 − momentum)·running + momentum·batch value. Default 0.1. */
  momentum?: number;
  /** Default 1e-5. */
  eps?: number;
}

export interface DropoutLayerSpec {
  type: "dropout";
  /** The probability of dropping each value while training, in [0, 1). Default 0.5. */
  rate?: number;
}

export interface ResidualLayerSpec {
  type: "residual";
  layers: LayerSpec[];
  /** A learned projection of the input on its channels, when the block changes their number. Default false. */
  projection?: boolean;
}

/** rnn, lstm and gru: PyTorch's cells over an input of one row per step, [T, features]. */
export interface RecurrentLayerSpec {
  type: "rnn" | "lstm" | "gru";
  units: number;
  /** The output: every step's state [T, units], or the last one [units]. Default false. */
  return_sequences?: boolean;
  /** rnn only: "tanh" (default) or "relu", as PyTorch's nonlinearity. */
  activation?: "tanh" | "relu";
  /** The state before the first step: zeros, or learned parameters. Default "zeros". */
  initial_state?: "zeros" | "learned";
  /**
   * A second direction over the steps in reverse order, with its own parameters (PyTorch's bidirectional=True); the
   * output joins both directions' states, [T, 2·units] or [2·units]. Default false.
   */
  bidirectional?: boolean;
}

export type LayerSpec =
  | DenseLayerSpec
  | RecurrentLayerSpec
  | ConvLayerSpec
  | PoolLayerSpec
  | GlobalAvgPoolLayerSpec
  | FlattenLayerSpec
  | ActivationLayerSpec
  | LayerNormLayerSpec
  | BatchNormLayerSpec
  | DropoutLayerSpec
  | ResidualLayerSpec;

export type LayerType = LayerSpec["type"];

/**
 * A net in the layer form with layers of type `L`. The default is dense layers, the type's meaning before the
 * other layer types existed, so TypeScript code that reads `units` keeps compiling; the builder and the
 * validator take any layers (LayerNetSpec<LayerSpec>).
 */
export interface LayerNetSpec<L extends LayerSpec = DenseLayerSpec> {
  name: string;
  input: number | number[];
  layers: L[];
  loss: LayerLoss;
  l2?: number;
  optimizer?: OptimizerSpec;
}

export interface ParamSpec {
  shape: number[];
  init?: InitSpec;
}

/**
 * A recurrence written in equations (docs/net-json.md#recurrences): a cell run once per step over the rows of
 * the sequences in `over`, passing the carried names from step to step.
 */
export interface RecurrenceBlock {
  /** The name of each sequence's row at the current step : the sequence, an expression of shape [T, …]. */
  over?: Record<string, string>;
  /** The number of steps T, when no sequence gives it (or to state it). */
  steps?: number;
  /** The steps run from the last row to the first; `outputs` keeps row t for the step that read row t. Default false. */
  reverse?: boolean;
  /** Each carried name : its value before the first step, an expression. */
  carry: Record<string, string>;
  /** The equations of one step; assigning a carried name gives its next value. */
  equations: string[];
  /** A new name : an expression of the step's names at the end of a step, collected over all steps as [T, …]. */
  outputs?: Record<string, string>;
  /** A new name : an expression of the carried names after the last step (and names defined above the block). */
  final?: Record<string, string>;
}

/** An entry of `equations`: `name = expression`, or a recurrence. */
export type EquationEntry = string | { recurrence: RecurrenceBlock };

/**
 * A net in the equation form with equations of type `E`. The default is strings only, the type's meaning before
 * recurrences existed, so TypeScript code that reads equations as text keeps compiling; the builder takes any
 * entries (EquationNetSpec<EquationEntry>).
 */
export interface EquationNetSpec<E extends EquationEntry = string> {
  name: string;
  params: Record<string, ParamSpec>;
  inputs: Record<string, number[]>;
  targets: Record<string, number[]>;
  equations: E[];
  output: string;
  loss: string;
  regularizer?: string;
  functions?: Record<string, string>;
  optimizer?: OptimizerSpec;
}

export function isLayerSpec(spec: NetSpec): spec is LayerNetSpec {
  return "layers" in spec;
}

/**
 * Where a JSON path (as segments) sits in the source text: 1-based line and column. With `index`, the
 * position of that character (0-based, in the decoded string) inside the string value at `path`.
 */
export type Locate = (path: readonly (string | number)[], index?: number) => { line: number; column: number } | undefined;

/** A validated spec together with what is needed to point at its parts in error messages. */
export interface LoadedSpec {
  file: string;
  spec: NetSpec;
  locate: Locate;
}
