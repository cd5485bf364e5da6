/**
 * The module's exported functions (forward, loss, gradient, sgdStep, kernelArrays): their signatures and
 * documentation, the argument checks, then what the module's backends run (`Run`: the statements of the
 * chain, render/backend.ts).
 */
import { type EntryName, type ModuleShape, kernelArrayNames, perBatch } from "../render/backend.ts";
import { stringLiteral } from "./literals.ts";
import { type FunctionDecl, functionDecl as fn } from "./printer.ts";

type Fn = FunctionDecl;

/** What the exported functions need to know about the module. */
export interface EntryContext extends ModuleShape {
  /** The network's output, named as the module names it (for forward's documentation). */
  readonly outputName: string;
}

/** The statements that run exported function `name` after its checks (the backends' chain). */
export type Run = (name: EntryName) => string[];


type ArrayCheck = { name: string; size: string; exact: boolean };

/** One branch on the fast path; the precise checks (and their messages) run only when it fails. */
function checks(ctx: ModuleShape, arrays: readonly ArrayCheck[]): string[] {
  const state: ArrayCheck[] = ctx.stateCount > 0 ? [{ name: "state", size: String(ctx.stateCount), exact: true }] : [];
  const all: ArrayCheck[] = [{ name: "params", size: String(ctx.paramCount), exact: true }, ...state, ...arrays];
  const bad = [
    "!(batch >= 1)",
    "batch % 1 !== 0",
    ...all.map((a) => `!(${a.name} instanceof ${ctx.array})`),
    ...all.map((a) => `${a.name}.length ${a.exact ? "!==" : "<"} ${a.size}`),
  ].join(" || ");
  return [
    `if (${bad}) {`,
    "checkBatch(batch);",
    ...all.map((a) => `checkArray(${stringLiteral(a.name)}, ${a.name}, ${ctx.array}, ${a.size}, ${a.exact});`),
    "}",
  ];
}

const inputsCheck = (ctx: ModuleShape): ArrayCheck => ({ name: "inputs", size: perBatch(ctx.inputSize), exact: false });
const targetsCheck = (ctx: ModuleShape): ArrayCheck => ({ name: "targets", size: perBatch(ctx.targetSize), exact: false });
const gradsCheck = (ctx: ModuleShape): ArrayCheck => ({ name: "grads", size: String(ctx.paramCount), exact: true });
/** Numbers in one row of stateGradientNorms' output: Σ T over the recurrences. */
export const normsRowSize = (ctx: ModuleShape): number => ctx.recurrences.reduce((n, r) => n + r.steps, 0);

/** The checks of each exported function's arguments (sgdStep's and kernelArrays' for backends that run them directly). */
export function argumentChecks(ctx: ModuleShape, name: EntryName): string[] {
  switch (name) {
    case "forward":
    case "trainingForward":
      return checks(ctx, [inputsCheck(ctx), { name: "out", size: perBatch(ctx.outputSize), exact: false }]);
    case "loss":
    case "trainingLoss":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]);
    case "gradient":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx), gradsCheck(ctx)]);
    case "sgdStep":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]);
    case "stateGradientNorms":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx), { name: "out", size: perBatch(normsRowSize(ctx)), exact: false }]);
    case "kernelArrays":
      return ["checkBatch(batch);"];
  }
}

/**
 * `batch` defaults to the number of samples the inputs hold (1 for a network without inputs). Its type is
 * written out so that declarations can be emitted without type checking (isolated declarations).
 */
function batchDefault(ctx: ModuleShape): [string, string] {
  return ["batch", ctx.inputSize === 0 ? "number = 1" : `number = batchOf(inputs, ${ctx.inputSize}, "inputs")`];
}

/** The parameters of exported function `name`: its arrays (kernelArrayNames), sgdStep's rate, the batch. */
function parameters(ctx: EntryContext, name: Exclude<EntryName, "kernelArrays">): [string, string][] {
  const arrays = kernelArrayNames(name === "sgdStep" ? "loss" : name, ctx).map((a): [string, string] => [a, ctx.array]);
  return [...arrays, ...(name === "sgdStep" ? [["lr", "number"] as [string, string]] : []), batchDefault(ctx)];
}

/** What a network with state says of the mode of each function. */
const INFERENCE = " In inference mode (running statistics, no dropout); `state` is read, never changed.";
const TRAINING = " In training mode (batch statistics, dropout); then `state` takes its training update (running statistics, the dropout step).";
const TRAINING_UNCHANGED = " In training mode (batch statistics, the dropout mask the next `gradient` call uses), without changing `state`.";
const mode = (ctx: EntryContext, text: string) => (ctx.stateCount > 0 ? text : "");

export function forwardFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `Writes the network's output for each of \`batch\` samples: out[s] = ${ctx.outputName}(inputs[s]).${mode(ctx, INFERENCE)}`;
  return fn("forward", docs, parameters(ctx, "forward"), "void", [...argumentChecks(ctx, "forward"), ...run("forward")]);
}

export function lossFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `The objective J: the per-sample loss averaged over the batch, plus the regularizer.${mode(ctx, INFERENCE)}`;
  return fn("loss", docs, parameters(ctx, "loss"), "number", [...argumentChecks(ctx, "loss"), ...run("loss")]);
}

export function gradientFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `Overwrites \`grads\` with dJ/dparams (same layout as \`params\`) and returns J, all from one forward and one backward sweep.${mode(ctx, TRAINING)}`;
  return fn("gradient", docs, parameters(ctx, "gradient"), "number", [...argumentChecks(ctx, "gradient"), ...run("gradient")]);
}

/** sgdStep checks nothing itself where it calls gradient (which does); a backend that runs it directly checks first. */
export function sgdStepFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `One step of gradient descent, params ← params − lr · dJ/dparams, in place; returns J before the step.${mode(ctx, TRAINING)}`;
  return fn("sgdStep", docs, parameters(ctx, "sgdStep"), "number", run("sgdStep"));
}

/** forward in training mode, for a network with modes. */
export function trainingForwardFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `Writes the network's training-mode output for each of \`batch\` samples.${TRAINING_UNCHANGED}`;
  return fn("trainingForward", docs, parameters(ctx, "trainingForward"), "void", [...argumentChecks(ctx, "trainingForward"), ...run("trainingForward")]);
}

/** loss in training mode: what gradient differentiates (a gradient check compares the two). */
export function trainingLossFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `The training-mode objective J, the one \`gradient\` differentiates.${TRAINING_UNCHANGED}`;
  return fn("trainingLoss", docs, parameters(ctx, "trainingLoss"), "number", [...argumentChecks(ctx, "trainingLoss"), ...run("trainingLoss")]);
}

/** ‖∂L/∂h_t‖ over the steps, for a network with recurrences. */
export function stateGradientNormsFunction(ctx: EntryContext, run: Run): Fn {
  const rows = ctx.recurrences.map((r) => `${r.name} at ${r.offset}…${r.offset + r.steps - 1}`).join(", ");
  const docs = [
    `Writes, for each of \`batch\` samples, the norm ‖∂L/∂h_t‖ of the gradient of the sample's loss L (J before the mean over the batch) with respect to each recurrent layer's state after step t, for t = 0 … T − 1: a row of ${normsRowSize(ctx)} numbers per sample (meta.recurrences: ${rows}).`,
    `How far back through the steps the gradient reaches: a ratio ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖${ctx.recurrences.some((r) => r.reverse) ? " (‖∂L/∂h_{T−1}‖ / ‖∂L/∂h_0‖ for a recurrence that runs backwards, reverse: true)" : ""} far below 1 is a vanishing gradient, far above 1 an exploding one.`,
    `In training mode, as \`gradient\` differentiates${ctx.stateCount > 0 ? ", without changing `state`" : ""}. It always runs the TypeScript kernels, also in a module with WebAssembly kernels.`,
  ].join(" ");
  return fn("stateGradientNorms", docs, parameters(ctx, "stateGradientNorms"), "void", [...argumentChecks(ctx, "stateGradientNorms"), ...run("stateGradientNorms")]);
}

export function kernelArraysFunction(ctx: EntryContext, run: Run): Fn {
  const docs =
    "Arrays for up to `batch` samples to pass to forward, loss, gradient and sgdStep. With WebAssembly kernels they live in the kernels' memory and calls skip copying them; a call with a larger batch (or kernelArrays with one) moves that memory and leaves older arrays empty, so take them again after it. Without WebAssembly they are ordinary arrays.";
  return fn("kernelArrays", docs, [["batch", "number"]], "KernelArrays", [...argumentChecks(ctx, "kernelArrays"), ...run("kernelArrays")]);
}
