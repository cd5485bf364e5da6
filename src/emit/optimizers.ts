/**
 * The training section of a generated module, appended after sgdStep: the optimizer settings and state
 * types, `optimizerDefaults` (net.json's "optimizer"), `createOptimizer`, `applyGradients` (clip and update
 * from a given gradient, one fused pass) and `trainStep` (gradient, then applyGradients). The update loops
 * are template functions from templates/optim.ts.
 */
import type { OptimizerSpec } from "../spec/types.ts";
import { numberLiteral, stringLiteral } from "./literals.ts";
import { apiDeclarations } from "./templates.ts";

export interface OptimizerContext {
  paramCount: number;
  /** Numbers in the network's state: trainStep then takes the state array after the parameters. */
  stateCount?: number;
  /** Numbers per sample in the inputs (trainStep's batch is their count when not given). */
  inputSize: number;
  /** "Float32Array" or "Float64Array" */
  array: string;
  /** net.json's "optimizer", when it has one: becomes `optimizerDefaults`. */
  optimizer?: OptimizerSpec;
}

/** What createOptimizer uses when neither its argument nor net.json says otherwise. */
export const BUILTIN_OPTIMIZER: OptimizerSpec = { type: "adam", lr: 0.001 };

/** Statements (declarations, exported functions) appended to the module after sgdStep. */
export function optimizerSection(ctx: OptimizerContext): string[] {
  return [types(ctx.array), defaults(ctx.optimizer ?? BUILTIN_OPTIMIZER), create(ctx), apply(ctx), trainStep(ctx)];
}

function defaults(spec: OptimizerSpec): string {
  const fields = Object.entries(spec)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === "number" ? numberLiteral(v) : typeof v === "string" ? stringLiteral(v) : String(v)}`);
  return `
/** The optimizer net.json asks for (its "optimizer" key), or Adam with lr 0.001 when it names none. */
export const optimizerDefaults: OptimizerConfig = { ${fields.join(", ")} };
`;
}

/** The optimizer types, from the module API's description (api-types.ts). */
function types(array: string): string {
  const api = apiDeclarations(array);
  return ["OptimizerType", "OptimizerConfig", "OptimizerState"].map((name) => api.get(name) ?? "").join("\n\n");
}

function create(ctx: OptimizerContext): string {
  const n = ctx.paramCount;
  return `
/**
 * A fresh optimizer for this network: \`config\` over optimizerDefaults over the built-in defaults.
 * Throws a RangeError for an unknown setting (naming the nearest known one), an unknown type or a setting
 * out of range.
 */
export function createOptimizer(config: Partial<OptimizerConfig> = {}): OptimizerState {
  optKeys(config, ["type", "lr", "momentum", "nesterov", "beta1", "beta2", "epsilon", "weightDecay", "clipNorm", "clipValue"]);
  const type = config.type ?? optimizerDefaults.type;
  const base: Partial<OptimizerConfig> = type === optimizerDefaults.type ? optimizerDefaults : {};
  const adaptive = type === "adam" || type === "adamw";
  const c: Required<OptimizerConfig> = {
    type,
    lr: config.lr ?? base.lr ?? (adaptive ? 0.001 : 0.01),
    momentum: config.momentum ?? base.momentum ?? 0.9,
    nesterov: config.nesterov ?? base.nesterov ?? false,
    beta1: config.beta1 ?? base.beta1 ?? 0.9,
    beta2: config.beta2 ?? base.beta2 ?? 0.999,
    epsilon: config.epsilon ?? base.epsilon ?? 1e-8,
    weightDecay: config.weightDecay ?? base.weightDecay ?? (type === "adamw" ? 0.01 : 0),
    clipNorm: config.clipNorm ?? base.clipNorm ?? Infinity,
    clipValue: config.clipValue ?? base.clipValue ?? Infinity,
  };
  optCheck("type", adaptive || type === "sgd" || type === "momentum", type, '"sgd", "momentum", "adam" or "adamw"');
  optCheck("lr", c.lr > 0 && c.lr < Infinity, c.lr, "a positive finite number");
  optCheck("momentum", c.momentum >= 0 && c.momentum < 1, c.momentum, "a number in [0, 1)");
  optCheck("beta1", c.beta1 >= 0 && c.beta1 < 1, c.beta1, "a number in [0, 1)");
  optCheck("beta2", c.beta2 >= 0 && c.beta2 < 1, c.beta2, "a number in [0, 1)");
  optCheck("epsilon", c.epsilon > 0 && c.epsilon < Infinity, c.epsilon, "a positive finite number");
  optCheck("weightDecay", c.weightDecay === 0 || (type === "adamw" && c.weightDecay > 0 && c.weightDecay < Infinity), c.weightDecay, "0, or a positive number with adamw (use l2 in net.json otherwise)");
  optCheck("clipNorm", c.clipNorm > 0, c.clipNorm, "a positive number (Infinity for no clipping)");
  optCheck("clipValue", c.clipValue > 0, c.clipValue, "a positive number (Infinity for no clipping)");
  const moments = type === "sgd" ? 0 : ${n};
  return {
    config: c,
    step: 0,
    m: new ${ctx.array}(moments),
    v: new ${ctx.array}(adaptive ? ${n} : 0),
    grads: new ${ctx.array}(${n}),
    gradNorm: 0,
    lastStepApplied: false,
    skippedSteps: 0,
    network: meta.name,
  };
}
`;
}

function apply(ctx: OptimizerContext): string {
  const n = ctx.paramCount;
  return `
/**
 * One optimizer step from a given gradient, in place: clip \`grads\` by global norm, then by value, and apply
 * the update rule, in one pass over the parameters after one pass for the norm. \`grads\` is not modified.
 * A gradient that is not finite changes nothing (state.lastStepApplied says so). Returns ‖grads‖ before clipping.
 */
export function applyGradients(params: ${ctx.array}, state: OptimizerState, grads: ${ctx.array}): number {
  checkArray("params", params, ${ctx.array}, ${n}, true);
  checkArray("grads", grads, ${ctx.array}, ${n}, true);
  checkState(state);
  updateParams(params, state, grads, 0);
  return state.gradNorm;
}

/** Throws unless \`state\` is an optimizer state of this network, as createOptimizer made it. */
function checkState(state: OptimizerState): void {
  const c = state.config;
  if (state.network !== meta.name) throw new TypeError(\`the optimizer state belongs to network "\${state.network}", not "\${meta.name}"\`);
  checkArray("state.grads", state.grads, ${ctx.array}, ${n}, true);
  if (c.type !== "sgd") checkArray("state.m", state.m, ${ctx.array}, ${n}, true);
  if (c.type === "adam" || c.type === "adamw") checkArray("state.v", state.v, ${ctx.array}, ${n}, true);
}

/**
 * applyGradients without the checks and the returned norm (a returned number is boxed: trainStep uses this).
 * Nothing is written when the loss \`J\` or the gradient is not finite: the step is counted as skipped.
 */
function updateParams(params: ${ctx.array}, state: OptimizerState, grads: ${ctx.array}, J: number): void {
  const c = state.config;
  const h = optHyper;
  optSumSquares(grads, ${n}, h);
  const norm = Math.sqrt(h[10]!);
  state.gradNorm = norm;
  if (!Number.isFinite(norm) || !Number.isFinite(J)) {
    state.lastStepApplied = false;
    state.skippedSteps++;
    return;
  }
  state.lastStepApplied = true;
  state.step++;
  h[0] = c.lr;
  h[1] = norm > c.clipNorm ? c.clipNorm / norm : 1;
  h[2] = c.clipValue;
  if (c.type === "sgd") optSgd(params, grads, ${n}, h);
  else if (c.type === "momentum") {
    h[3] = c.momentum;
    optMomentum(params, grads, state.m, ${n}, h, c.nesterov);
  } else {
    h[4] = c.beta1;
    h[5] = c.beta2;
    h[6] = c.epsilon;
    h[7] = 1 - c.beta1 ** state.step;
    h[8] = 1 - c.beta2 ** state.step;
    h[9] = c.type === "adamw" ? c.weightDecay : 0;
    optAdam(params, grads, state.m, state.v, ${n}, h);
  }
}

/** The optimizer's hyperparameters for the update loops (templates/optim.ts), filled in place each step. */
const optHyper = /* @__PURE__ */ new Float64Array(11);
`;
}

function trainStep(ctx: OptimizerContext): string {
  if ((ctx.stateCount ?? 0) > 0) return statefulTrainStep(ctx);
  return `
/**
 * One training step: the gradient of J on this batch into state.grads, then applyGradients. All of the
 * step is computed from the parameters as they were before it. Returns J before the step. When J or the
 * gradient is not finite (NaN or ±Infinity in a batch, a diverging run) the parameters are left as they were,
 * state.lastStepApplied is false and state.skippedSteps counts it.
 */
export function trainStep(params: ${ctx.array}, state: OptimizerState, inputs: ${ctx.array}, targets: ${ctx.array}, batch: number = ${ctx.inputSize === 0 ? "1" : `batchOf(inputs, ${ctx.inputSize}, "inputs")`}): number {
  checkState(state);
  const J = gradient(params, inputs, targets, state.grads, batch);
  updateParams(params, state, state.grads, J);
  return J;
}
`;
}

/** trainStep of a network with state: the optimizer comes after the state array, which the step updates. */
function statefulTrainStep(ctx: OptimizerContext): string {
  const a = ctx.array;
  return `
/**
 * One training step: the gradient of J on this batch, in training mode, into optimizer.grads, then
 * applyGradients; \`state\` takes its training update. All of the step is computed from the parameters and
 * the state as they were before it. Returns J before the step. When J or the gradient is not finite the
 * parameters are left as they were (the state is updated all the same), optimizer.lastStepApplied is false
 * and optimizer.skippedSteps counts it.
 */
export function trainStep(params: ${a}, state: ${a}, optimizer: OptimizerState, inputs: ${a}, targets: ${a}, batch: number = ${ctx.inputSize === 0 ? "1" : `batchOf(inputs, ${ctx.inputSize}, "inputs")`}): number {
  checkState(optimizer);
  const J = gradient(params, state, inputs, targets, optimizer.grads, batch);
  updateParams(params, optimizer, optimizer.grads, J);
  return J;
}
`;
}
