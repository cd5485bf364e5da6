/**
 * The module's exported functions (forward, loss, gradient, sgdStep, kernelArrays): their signatures and
 * documentation, the argument checks, then what the module's backends run (`Run`: the statements of the
 * chain, render/backend.ts).
 */
import { type EntryName, type ModuleShape, perBatch } from "../render/backend.ts";
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
  const all: ArrayCheck[] = [{ name: "params", size: String(ctx.paramCount), exact: true }, ...arrays];
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

/** The checks of each exported function's arguments (sgdStep's and kernelArrays' for backends that run them directly). */
export function argumentChecks(ctx: ModuleShape, name: EntryName): string[] {
  switch (name) {
    case "forward":
      return checks(ctx, [inputsCheck(ctx), { name: "out", size: perBatch(ctx.outputSize), exact: false }]);
    case "loss":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]);
    case "gradient":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx), gradsCheck(ctx)]);
    case "sgdStep":
      return checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]);
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

export function forwardFunction(ctx: EntryContext, run: Run): Fn {
  const docs = `Writes the network's output for each of \`batch\` samples: out[s] = ${ctx.outputName}(inputs[s]).`;
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["out", ctx.array], batchDefault(ctx)];
  return fn("forward", docs, params, "void", [...argumentChecks(ctx, "forward"), ...run("forward")]);
}

export function lossFunction(ctx: EntryContext, run: Run): Fn {
  const docs = "The objective J: the per-sample loss averaged over the batch, plus the regularizer.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], batchDefault(ctx)];
  return fn("loss", docs, params, "number", [...argumentChecks(ctx, "loss"), ...run("loss")]);
}

export function gradientFunction(ctx: EntryContext, run: Run): Fn {
  const docs = "Overwrites `grads` with dJ/dparams (same layout as `params`) and returns J, all from one forward and one backward sweep.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], ["grads", ctx.array], batchDefault(ctx)];
  return fn("gradient", docs, params, "number", [...argumentChecks(ctx, "gradient"), ...run("gradient")]);
}

/** sgdStep checks nothing itself where it calls gradient (which does); a backend that runs it directly checks first. */
export function sgdStepFunction(ctx: EntryContext, run: Run): Fn {
  const docs = "One step of gradient descent, params ← params − lr · dJ/dparams, in place; returns J before the step.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], ["lr", "number"], batchDefault(ctx)];
  return fn("sgdStep", docs, params, "number", run("sgdStep"));
}

export function kernelArraysFunction(ctx: EntryContext, run: Run): Fn {
  const docs =
    "Arrays for up to `batch` samples to pass to forward, loss, gradient and sgdStep. With WebAssembly kernels they live in the kernels' memory and calls skip copying them; a call with a larger batch (or kernelArrays with one) moves that memory and leaves older arrays empty, so take them again after it. Without WebAssembly they are ordinary arrays.";
  return fn("kernelArrays", docs, [["batch", "number"]], "KernelArrays", [...argumentChecks(ctx, "kernelArrays"), ...run("kernelArrays")]);
}
