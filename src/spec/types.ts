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

export interface DenseLayerSpec {
  type: "dense";
  units: number;
  /** A builtin name or a mathjs expression in `x`. Default "linear". */
  activation?: string;
  /** Default true. */
  bias?: boolean;
  init?: InitSpec;
}

export interface LayerNetSpec {
  name: string;
  input: number | number[];
  layers: DenseLayerSpec[];
  loss: LayerLoss;
  l2?: number;
  optimizer?: OptimizerSpec;
}

export interface ParamSpec {
  shape: number[];
  init?: InitSpec;
}

export interface EquationNetSpec {
  name: string;
  params: Record<string, ParamSpec>;
  inputs: Record<string, number[]>;
  targets: Record<string, number[]>;
  equations: string[];
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
