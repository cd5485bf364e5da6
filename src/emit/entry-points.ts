/**
 * The module's exported functions (forward, loss, gradient, sgdStep, kernelArrays): the argument checks,
 * then the kernels. With WebAssembly kernels they copy the caller's arrays into the kernels' memory (unless
 * the caller passes the arrays kernelArrays gave out) and fall back to the TypeScript kernels where
 * WebAssembly SIMD is unavailable; with TypeScript kernels only, the kernel's statements are the body.
 */
import { stringLiteral } from "./literals.ts";
import type { FunctionDecl } from "./printer.ts";

type Fn = FunctionDecl;

/** What the exported functions need to know about the module. */
export interface EntryContext {
  /** "Float32Array" or "Float64Array". */
  readonly array: string;
  readonly paramCount: number;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
  /** The network's output, named as the module names it (for forward's documentation). */
  readonly outputName: string;
  /** Whether the module carries WebAssembly kernels (the TypeScript ones are then named `<fn>Kernel`). */
  readonly wasm: boolean;
}

/** The TypeScript kernels' bodies, rendered. */
export interface KernelBodies {
  readonly forward: string[];
  readonly loss: string[];
  readonly gradient: string[];
}

export function fn(name: string, docs: string | undefined, parameters: [string, string][], returnType: string, statements: string[], exported = true): Fn {
  return { name, ...(docs ? { docs } : {}), parameters, returnType, statements, exported };
}

const perBatch = (size: number) => (size === 1 ? "batch" : `batch * ${size}`);

type ArrayCheck = { name: string; size: string; exact: boolean };

/** One branch on the fast path; the precise checks (and their messages) run only when it fails. */
function checks(ctx: EntryContext, arrays: readonly ArrayCheck[]): string[] {
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

const inputsCheck = (ctx: EntryContext): ArrayCheck => ({ name: "inputs", size: perBatch(ctx.inputSize), exact: false });
const targetsCheck = (ctx: EntryContext): ArrayCheck => ({ name: "targets", size: perBatch(ctx.targetSize), exact: false });
const gradsCheck = (ctx: EntryContext): ArrayCheck => ({ name: "grads", size: String(ctx.paramCount), exact: true });

/**
 * `batch` defaults to the number of samples the inputs hold (1 for a network without inputs). Its type is
 * written out so that declarations can be emitted without type checking (isolated declarations).
 */
function batchDefault(ctx: EntryContext): [string, string] {
  return ["batch", ctx.inputSize === 0 ? "number = 1" : `number = batchOf(inputs, ${ctx.inputSize}, "inputs")`];
}

/** Statements that run the WebAssembly kernel `call`, copying what the caller did not place in the kernels' memory. */
function viaWasm(ctx: EntryContext, ins: string[], call: string, outs: string[], fallback: string): string[] {
  const copyIn: Record<string, string> = {
    params: "if (params !== k.params) k.params.set(params);",
    inputs: `if (inputs !== k.inputs) copyElements(k.inputs, inputs, ${perBatch(ctx.inputSize)});`,
    targets: `if (targets !== k.targets) copyElements(k.targets, targets, ${perBatch(ctx.targetSize)});`,
  };
  const copyOut: Record<string, string> = {
    out: `if (out !== k.out) copyElements(out, k.out, ${perBatch(ctx.outputSize)});`,
    grads: "if (grads !== k.grads) grads.set(k.grads);",
    params: "if (params !== k.params) params.set(k.params);",
  };
  return [
    "const k = wasmKernels();",
    `if (k === null) ${fallback}`,
    "reserveKernels(k, batch);",
    ...ins.map((a) => copyIn[a] as string),
    ...call.split("\n"),
    ...outs.map((a) => copyOut[a] as string),
  ];
}

export function forwardFunction(ctx: EntryContext, body: string[]): Fn {
  const docs = `Writes the network's output for each of \`batch\` samples: out[s] = ${ctx.outputName}(inputs[s]).`;
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["out", ctx.array], batchDefault(ctx)];
  const check = checks(ctx, [inputsCheck(ctx), { name: "out", size: perBatch(ctx.outputSize), exact: false }]);
  const rest = ctx.wasm ? viaWasm(ctx, ["params", "inputs"], "k.forward(batch, k.capacity);", ["out"], "return forwardKernel(params, inputs, out, batch);") : body;
  return fn("forward", docs, params, "void", [...check, ...rest]);
}

export function lossFunction(ctx: EntryContext, body: string[]): Fn {
  const docs = "The objective J: the per-sample loss averaged over the batch, plus the regularizer.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], batchDefault(ctx)];
  const check = checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]);
  const rest = ctx.wasm
    ? viaWasm(ctx, ["params", "inputs", "targets"], "return k.loss(batch, k.capacity);", [], "return lossKernel(params, inputs, targets, batch);")
    : body;
  return fn("loss", docs, params, "number", [...check, ...rest]);
}

export function gradientFunction(ctx: EntryContext, body: string[]): Fn {
  const docs = "Overwrites `grads` with dJ/dparams (same layout as `params`) and returns J, all from one forward and one backward sweep.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], ["grads", ctx.array], batchDefault(ctx)];
  const check = checks(ctx, [inputsCheck(ctx), targetsCheck(ctx), gradsCheck(ctx)]);
  const rest = ctx.wasm
    ? [
        ...viaWasm(ctx, ["params", "inputs", "targets"], "const J = k.gradient(batch, k.capacity);", ["grads"], "return gradientKernel(params, inputs, targets, grads, batch);"),
        "return J;",
      ]
    : body;
  return fn("gradient", docs, params, "number", [...check, ...rest]);
}

/** The TypeScript kernels of a module with WebAssembly kernels: no checks (the exported functions made them). */
export function kernelFunctions(ctx: EntryContext, bodies: KernelBodies): Fn[] {
  const a = ctx.array;
  return [
    fn("forwardKernel", undefined, [["params", a], ["inputs", a], ["out", a], ["batch", "number"]], "void", bodies.forward, false),
    fn("lossKernel", undefined, [["params", a], ["inputs", a], ["targets", a], ["batch", "number"]], "number", bodies.loss, false),
    fn("gradientKernel", undefined, [["params", a], ["inputs", a], ["targets", a], ["grads", a], ["batch", "number"]], "number", bodies.gradient, false),
  ];
}

export function sgdStepFunction(ctx: EntryContext): Fn {
  const update = [
    "// params ← params − lr · dJ/dparams, after the whole gradient is known",
    `for (let i = 0; i < ${ctx.paramCount}; i++) params[i]! -= lr * grads[i]!;`,
  ];
  const jsStep = ["const grads = (sgdGrads ??= new " + ctx.array + `(${ctx.paramCount}));`, "const J = gradient(params, inputs, targets, grads, batch);", ...update, "return J;"];
  const statements = ctx.wasm
    ? [
        ...checks(ctx, [inputsCheck(ctx), targetsCheck(ctx)]),
        ...viaWasm(
          ctx,
          ["params", "inputs", "targets"],
          "const J = k.gradient(batch, k.capacity);\n// params ← params − lr · dJ/dparams, in the kernels' memory\nk.sgdUpdate(lr);",
          ["params"],
          "return sgdStepKernel(params, inputs, targets, lr, batch);",
        ),
        "return J;",
      ]
    : jsStep;
  const docs = "One step of gradient descent, params ← params − lr · dJ/dparams, in place; returns J before the step.";
  const params: [string, string][] = [["params", ctx.array], ["inputs", ctx.array], ["targets", ctx.array], ["lr", "number"], batchDefault(ctx)];
  const exported = fn("sgdStep", docs, params, "number", statements);
  return exported;
}

/** The TypeScript sgd step of a module with WebAssembly kernels (its fallback). */
export function sgdStepKernel(ctx: EntryContext): Fn {
  const a = ctx.array;
  return fn(
    "sgdStepKernel",
    undefined,
    [["params", a], ["inputs", a], ["targets", a], ["lr", "number"], ["batch", "number"]],
    "number",
    [
      `const grads = (sgdGrads ??= new ${a}(${ctx.paramCount}));`,
      "const J = gradientKernel(params, inputs, targets, grads, batch);",
      `for (let i = 0; i < ${ctx.paramCount}; i++) params[i]! -= lr * grads[i]!;`,
      "return J;",
    ],
    false,
  );
}

export function kernelArraysFunction(ctx: EntryContext): Fn {
  const statements = ctx.wasm
    ? [
        "checkBatch(batch);",
        "const k = wasmKernels();",
        "if (k === null) return plainArrays(batch);",
        "reserveKernels(k, batch);",
        "return { params: k.params, grads: k.grads, inputs: k.inputs, targets: k.targets, out: k.out };",
      ]
    : ["checkBatch(batch);", "return plainArrays(batch);"];
  const docs =
    "Arrays for up to `batch` samples to pass to forward, loss, gradient and sgdStep. With WebAssembly kernels they live in the kernels' memory and calls skip copying them; a call with a larger batch (or kernelArrays with one) moves that memory and leaves older arrays empty, so take them again after it. Without WebAssembly they are ordinary arrays.";
  return fn("kernelArrays", docs, [["batch", "number"]], "KernelArrays", statements);
}

/** Ordinary arrays for `batch` samples (the JS kernels' kernelArrays). */
export function plainArraysFunction(ctx: EntryContext): Fn {
  const a = ctx.array;
  return fn(
    "plainArrays",
    undefined,
    [["batch", "number"]],
    "KernelArrays",
    [
      `return { params: new ${a}(${ctx.paramCount}), grads: new ${a}(${ctx.paramCount}), inputs: new ${a}(${perBatch(ctx.inputSize)}), targets: new ${a}(${perBatch(ctx.targetSize)}), out: new ${a}(${perBatch(ctx.outputSize)}) };`,
    ],
    false,
  );
}

