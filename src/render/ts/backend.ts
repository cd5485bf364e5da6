/**
 * The TypeScript backend: kernels as TypeScript functions over the caller's typed arrays and a workspace of
 * typed arrays, contractions as calls of the library kernels of templates/dense.ts. It runs wherever the
 * module runs, so it ends every chain: alone, its statements are the exported functions' bodies; behind
 * another backend, they are functions of their own (`forwardKernel`, …) that the exported functions fall back to.
 */
import type { Buffer, Expr, KernelFunction } from "../../lower/kernel.ts";
import type { IrNames } from "../../lower/names.ts";
import { ownExprs, visitExpr, visitStmts } from "../../lower/walk.ts";
import { type FunctionDecl, functionDecl, functionText } from "../../emit/printer.ts";
import type { KernelName } from "../../lower/functions.ts";
import { type Backend, type BackendInput, type EntryName, type ModulePart, type ModuleShape, functionsInOrder, kernelArrayNames, perBatch } from "../backend.ts";
import { JS_CODE_BUDGET } from "../policy.ts";
import { KernelLayout, type Printed } from "./layout.ts";
import { printBody } from "./statements.ts";
import { libraryTiles } from "./tiles.ts";

export const typescriptBackend: Backend = {
  name: "js",
  tiles: libraryTiles,
  codeBudget: JS_CODE_BUDGET,
  runsEverywhere: true,
  module: typescriptPart,
};

/** One function's kernel, printed, and the workspace it touches. */
interface Rendered {
  readonly body: Printed[];
  /** Workspace buffers it stores into or reads (the module declares them once). */
  readonly buffers: ReadonlySet<Buffer>;
  /** Whether it reads or writes the state array (an inference kernel may not: its parameter is then `_state`). */
  readonly usesState: boolean;
}

type Bodies = ReadonlyMap<KernelName, string[]>;

function typescriptPart(input: BackendInput): ModulePart {
  const { shape, names } = input;
  const rendered = new Map(functionsInOrder(input.lowered).map(([name, f]) => [name, render(f, names)]));
  const workspace = [...new Set([...rendered.values()].flatMap((r) => [...r.buffers]))].sort((a, b) => (a.node?.id ?? 0) - (b.node?.id ?? 0));
  const unusedState = new Set([...rendered].filter(([, r]) => !r.usesState).map(([name]) => name));
  const layout = new KernelLayout();
  const workspaceCode = "$bpgen$workspace;";
  const laidOutBodies = new Map<string, (string | number)[]>([[workspaceCode, layout.lines(workspaceDeclarations(shape, names, workspace), 0)]]);
  // each body is laid out here, as prettier would print it, and stands for its lines in the text prettier formats
  const placeholders = (functionName: string, r: Rendered): string[] => {
    const placeholder = `$bpgen$${functionName};`;
    const lines = layout.lines(withWorkspace(r, workspace));
    laidOutBodies.set(placeholder, lines);
    return lines.length > 0 ? [placeholder] : [];
  };
  const bodies = (suffix: string): Bodies => new Map([...rendered].map(([name, r]) => [name, placeholders(`${name}${suffix}`, r)]));
  const kernels = input.fallback ? [...kernelFunctions(shape, bodies("Kernel"), unusedState), sgdStepKernel(shape)] : [];
  const entries = input.fallback ? undefined : bodies("");
  return {
    before: [`${workspaceCode}\n`],
    after: [functionText(plainArraysFunction(shape)), ...(kernels.length > 0 ? [kernels.map(functionText).join("\n")] : [])],
    entry: (name) => (entries ? inlineEntry(name, shape, entries) : [fallbackCall(name, shape)]),
    laidOut: layout.laidOut(laidOutBodies),
  };
}

function render(f: KernelFunction, names: IrNames): Rendered {
  const buffers = new Set<Buffer>();
  visitStmts(f.body, (s) => {
    if (s.k === "store" || s.k === "fill") buffers.add(s.buf);
    if (s.k === "contract") [s.c.out.buf, s.c.a.buf, s.c.b.buf].forEach((b) => buffers.add(b));
    for (const e of ownExprs(s)) visitExpr(e, (x: Expr) => x.k === "load" && buffers.add(x.buf));
  });
  return { body: printBody(f.body, names), buffers: new Set([...buffers].filter((b) => b.role === "work")), usesState: [...buffers].some((b) => b.role === "state") };
}

/** A kernel's statements, after making the workspace it uses (allocated on the first call, grown with the batch). */
function withWorkspace(r: Rendered, workspace: readonly Buffer[]): Printed[] {
  return [...(r.buffers.size > 0 && workspace.length > 0 ? ["reserveBatch(batch);"] : []), ...r.body];
}

const SGD_UPDATE = (paramCount: number) => `for (let i = 0; i < ${paramCount}; i++) params[i]! -= lr * grads[i]!;`;

/** The exported functions' statements when the TypeScript kernels are the module's only ones. */
function inlineEntry(name: EntryName, shape: ModuleShape, bodies: Bodies): string[] {
  switch (name) {
    case "sgdStep":
      // gradient checks the arguments
      return [
        `const grads = (sgdGrads ??= new ${shape.array}(${shape.paramCount}));`,
        `const J = gradient(${kernelArrayNames("gradient", shape).join(", ")}, batch);`,
        "// params ← params − lr · dJ/dparams, after the whole gradient is known",
        SGD_UPDATE(shape.paramCount),
        "return J;",
      ];
    case "kernelArrays":
      return ["return plainArrays(batch);"];
    default:
      return bodies.get(name) ?? [];
  }
}

/** The statement that runs `name` with the TypeScript kernels behind another backend. */
function fallbackCall(name: EntryName, shape: ModuleShape): string {
  switch (name) {
    case "sgdStep":
      return `return sgdStepKernel(${[...kernelArrayNames("loss", shape), "lr"].join(", ")}, batch);`;
    case "kernelArrays":
      return "return plainArrays(batch);";
    default:
      return `return ${name}Kernel(${kernelArrayNames(name, shape).join(", ")}, batch);`;
  }
}

/** The TypeScript kernels behind another backend: no checks (the exported functions made them). */
function kernelFunctions(shape: ModuleShape, bodies: Bodies, unusedState: ReadonlySet<KernelName>): FunctionDecl[] {
  const a = shape.array;
  return [...bodies].map(([name, body]) => {
    const returns = name === "forward" || name === "trainingForward" || name === "stateGradientNorms" ? "void" : "number";
    const arrays = kernelArrayNames(name, shape).map((n): [string, string] => [n === "state" && unusedState.has(name) ? "_state" : n, a]);
    const params: [string, string][] = [...arrays, ["batch", "number"]];
    return functionDecl(`${name}Kernel`, undefined, params, returns, body, false);
  });
}

/** The TypeScript sgd step behind another backend (its fallback). */
function sgdStepKernel(shape: ModuleShape): FunctionDecl {
  const a = shape.array;
  const params: [string, string][] = [...kernelArrayNames("loss", shape).map((n): [string, string] => [n, a]), ["lr", "number"], ["batch", "number"]];
  return functionDecl("sgdStepKernel", undefined, params, "number", [
    `const grads = (sgdGrads ??= new ${a}(${shape.paramCount}));`,
    `const J = gradientKernel(${kernelArrayNames("gradient", shape).join(", ")}, batch);`,
    SGD_UPDATE(shape.paramCount),
    "return J;",
  ], false);
}

/** Ordinary arrays for `batch` samples (kernelArrays of the TypeScript kernels). */
function plainArraysFunction(shape: ModuleShape): FunctionDecl {
  const a = shape.array;
  return functionDecl("plainArrays", undefined, [["batch", "number"]], "KernelArrays", [
    `return { params: new ${a}(${shape.paramCount}), ${shape.stateCount > 0 ? `state: new ${a}(${shape.stateCount}), ` : ""}grads: new ${a}(${shape.paramCount}), inputs: new ${a}(${perBatch(shape.inputSize)}), targets: new ${a}(${perBatch(shape.targetSize)}), out: new ${a}(${perBatch(shape.outputSize)}) };`,
  ], false);
}

/**
 * One buffer per stored intermediate, made by the first call (so an app that imports the module and calls
 * nothing allocates nothing, and a bundler can drop what it does not call), the per-sample rows grown when a
 * larger batch arrives: the only allocations after the first call.
 */
function workspaceDeclarations(shape: ModuleShape, names: IrNames, workspace: readonly Buffer[]): Printed[] {
  const empty = `/* @__PURE__ */ new ${shape.array}(0)`;
  const lines = [
    "// Workspace: one buffer per stored intermediate, allocated by the first call and reused by every later one.",
    `let sgdGrads: ${shape.array} | undefined;`,
  ];
  if (workspace.length === 0) return lines;
  const fixed = workspace.filter((b) => !b.perSample);
  const rows = workspace.filter((b) => b.perSample);
  const grow = (b: Buffer) => `${names.buffer(b)} = new ${shape.array}(${b.perSample ? `batch * ${b.size}` : b.size});`;
  return [
    ...lines,
    "let capacity = 0;",
    ...workspace.map((b) => `let ${names.buffer(b)} = ${empty};`),
    "",
    "/** Makes the workspace hold `batch` samples: allocated by the first call, rows grown for a larger batch. */",
    {
      head: "function reserveBatch(batch: number): void",
      body: ["if (batch <= capacity) return;", ...(fixed.length > 0 ? [{ head: "if (capacity === 0)", body: fixed.map(grow) }] : []), "capacity = batch;", ...rows.map(grow)],
    },
  ];
}
