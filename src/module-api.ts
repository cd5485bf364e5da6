/**
 * The types of every generated module's API, for bpgen's own tools (the gradient checker, the trainer, the
 * tests) to call the modules they load. Modules declare the same types, printed from their description in
 * src/emit/api-types.ts with `FloatArray` as the module's array type (Float32Array, or Float64Array under
 * --precision f64); test/templates.test.ts checks with the TypeScript compiler that the two agree.
 * `FloatArray` and the module types (`NetModule`, `StatefulNetModule`, `AnyNetModule`) are for the tools only;
 * modules do not carry them. A module with state prints NetMeta and KernelArrays with its state members; a module
 * of a network with recurrent layers prints RecurrenceLayout and NetMeta with `recurrences`, and has
 * stateGradientNorms (optional members of the module types here).
 */

/** The array type of a module: Float32Array, or Float64Array for a module built with --precision f64. */
export type FloatArray = Float32Array | Float64Array;

/** Where one parameter lives in the flat parameter (and gradient) vector; row-major. */
export interface ParamLayout {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Where one recurrent layer's numbers lie in a row of stateGradientNorms' output (a module of a network with recurrent layers prints it). */
export interface RecurrenceLayout {
  /** The layer's state h, named as the network names it ("h1"). */
  readonly name: string;
  /** Its steps T: the row holds ‖∂L/∂h_t‖ for t = 0 … T − 1. */
  readonly steps: number;
  /** Where its T numbers start in a row. */
  readonly offset: number;
}

/**
 * A recurrence's layout as a module with a recurrence that runs backwards prints it (src/emit/api-types.ts adds the
 * member to such modules only): `reverse` is true for a bidirectional layer's second direction.
 */
export type DirectedRecurrenceLayout = RecurrenceLayout & { readonly reverse?: boolean };

/** Sizes of one sample's input, output and target rows, and the parameter layout. */
export interface NetMeta {
  readonly name: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly targetSize: number;
  readonly paramCount: number;
  readonly params: readonly ParamLayout[];
}

/** Arrays for a number of samples, made by kernelArrays: parameters, gradients, and one row per sample of inputs, targets and outputs. */
export interface KernelArrays {
  readonly params: FloatArray;
  readonly grads: FloatArray;
  readonly inputs: FloatArray;
  readonly targets: FloatArray;
  readonly out: FloatArray;
}

/** The optimizers createOptimizer makes. */
export type OptimizerType = "sgd" | "momentum" | "adam" | "adamw";

/** Optimizer settings. Fields left out come from optimizerDefaults (when `type` matches it), then the built-in defaults. */
export interface OptimizerConfig {
  /** "sgd"; "momentum" (optionally Nesterov); "adam"; "adamw" (Adam with decoupled weight decay). */
  readonly type: OptimizerType;
  /** Learning rate: default 0.01 for sgd and momentum, 0.001 for adam and adamw. */
  readonly lr?: number;
  /** μ for momentum: v ← μ·v + g. Default 0.9. */
  readonly momentum?: number;
  /** Nesterov momentum: p ← p − lr·(g + μ·v) instead of p ← p − lr·v. Default false. */
  readonly nesterov?: boolean;
  /** Adam's decay of the first moment. Default 0.9. */
  readonly beta1?: number;
  /** Adam's decay of the second moment. Default 0.999. */
  readonly beta2?: number;
  /** Adam's ε, added to √v̂. Default 1e-8. */
  readonly epsilon?: number;
  /** AdamW only: p ← p·(1 − lr·weightDecay) before the Adam update, on every parameter. Default 0.01. */
  readonly weightDecay?: number;
  /** Scale the gradient by min(1, clipNorm / ‖g‖) (global norm over all parameters). Default off. */
  readonly clipNorm?: number;
  /** Then clamp every gradient entry to [−clipValue, clipValue]. Default off. */
  readonly clipValue?: number;
}

/** An optimizer's settings and state, sized to meta.paramCount; made by createOptimizer, advanced by trainStep. */
export interface OptimizerState {
  /** The settings in force, all filled in (no clipping is Infinity). */
  readonly config: Readonly<Required<OptimizerConfig>>;
  /** Steps taken (Adam's t). */
  step: number;
  /** Momentum's velocity, or Adam's first moment (empty for sgd). */
  readonly m: FloatArray;
  /** Adam's second moment (empty unless adam or adamw). */
  readonly v: FloatArray;
  /** trainStep's gradient dJ/dparams of the last step, as computed (before clipping). */
  readonly grads: FloatArray;
  /** ‖g‖ of the last step before clipping; NaN or Infinity once training has diverged. */
  gradNorm: number;
  /** Whether the last step changed the parameters: false when its loss or gradient was not finite. */
  lastStepApplied: boolean;
  /** Steps left out because their loss or gradient was not finite (the parameters kept their values). */
  skippedSteps: number;
  /** The network this state belongs to (meta.name): trainStep refuses another network's state. */
  readonly network: string;
}

/** A generated module's exports, for tools that load one at run time (T: its array type). */
export interface NetModule<T extends FloatArray = FloatArray> {
  /** With the recurrences' layout for a network with recurrent layers. */
  readonly meta: NetMeta & { readonly recurrences?: readonly DirectedRecurrenceLayout[] };
  readonly optimizerDefaults: OptimizerConfig;
  initParams(seed?: number): T;
  forward(params: T, inputs: T, out: T, batch?: number): void;
  loss(params: T, inputs: T, targets: T, batch?: number): number;
  gradient(params: T, inputs: T, targets: T, grads: T, batch?: number): number;
  sgdStep(params: T, inputs: T, targets: T, lr: number, batch?: number): number;
  kernelArrays(batch: number): KernelArrays;
  createOptimizer(config?: Partial<OptimizerConfig>): OptimizerState;
  applyGradients(params: T, state: OptimizerState, grads: T): number;
  trainStep(params: T, state: OptimizerState, inputs: T, targets: T, batch?: number): number;
  /** A network with recurrent layers: ‖∂L/∂h_t‖ per sample, recurrence and step, into rows of Σ T numbers (meta.recurrences). */
  stateGradientNorms?(params: T, inputs: T, targets: T, out: T, batch?: number): void;
  /** A module built for threads (`--threads`): starts its pool of workers; resolves with the threads its kernels run on. */
  startThreads?(threads?: number): Promise<number>;
  /** Stops the pool startThreads started. */
  stopThreads?(): Promise<void>;
}

/**
 * The exports of a module of a network with state (meta.stateCount is set): every function that computes takes
 * the state array after the parameters; forward and loss compute in inference mode and never change it,
 * gradient, sgdStep and trainStep compute in training mode and update it, trainingForward and trainingLoss
 * compute in training mode without changing it.
 */
export interface StatefulNetModule<T extends FloatArray = FloatArray> {
  /** With the state's size and layout (as the parameters'). */
  readonly meta: NetMeta & { readonly stateCount: number; readonly state: readonly ParamLayout[]; readonly recurrences?: readonly DirectedRecurrenceLayout[] };
  readonly optimizerDefaults: OptimizerConfig;
  initParams(seed?: number): T;
  initState(seed?: number): T;
  forward(params: T, state: T, inputs: T, out: T, batch?: number): void;
  loss(params: T, state: T, inputs: T, targets: T, batch?: number): number;
  gradient(params: T, state: T, inputs: T, targets: T, grads: T, batch?: number): number;
  sgdStep(params: T, state: T, inputs: T, targets: T, lr: number, batch?: number): number;
  trainingForward(params: T, state: T, inputs: T, out: T, batch?: number): void;
  trainingLoss(params: T, state: T, inputs: T, targets: T, batch?: number): number;
  kernelArrays(batch: number): { readonly [K in keyof KernelArrays | "state"]: T };
  createOptimizer(config?: Partial<OptimizerConfig>): OptimizerState;
  applyGradients(params: T, state: OptimizerState, grads: T): number;
  trainStep(params: T, state: T, optimizer: OptimizerState, inputs: T, targets: T, batch?: number): number;
  /** As NetModule's, in training mode without changing `state`. */
  stateGradientNorms?(params: T, state: T, inputs: T, targets: T, out: T, batch?: number): void;
  startThreads?(threads?: number): Promise<number>;
  stopThreads?(): Promise<void>;
}

/** Either kind of module, as a tool loads it. */
export type AnyNetModule<T extends FloatArray = FloatArray> = NetModule<T> | StatefulNetModule<T>;

/** Whether a loaded module takes a state array. */
export function isStatefulModule<T extends FloatArray>(m: AnyNetModule<T>): m is StatefulNetModule<T> {
  return "stateCount" in m.meta;
}
