/**
 * Assembles the generated module: provenance header, `meta`, the workspace (allocated on first use), the
 * exported functions and the TypeScript kernels they run, the WebAssembly kernels when the module has them,
 * the optimizers, and the template functions all of these call; printed as text (printer.ts), formatted by prettier.
 */
import prettier from "prettier";
import type { Net } from "../frontend/net.ts";
import { shapeText, sizeOf } from "../ir/node.ts";
import type { Buffer, Expr, KernelFunction } from "../lower/kernel.ts";
import type { FunctionName, LoweredModule } from "../lower/functions.ts";
import type { IrNames } from "../lower/names.ts";
import { ownExprs, visitExpr, visitStmts } from "../lower/walk.ts";
import type { WasmKernels } from "../render/wasm/module.ts";
import { renderBody } from "../render/ts/statements.ts";
import {
  type EntryContext,
  fn,
  forwardFunction,
  gradientFunction,
  kernelArraysFunction,
  kernelFunctions,
  lossFunction,
  plainArraysFunction,
  sgdStepFunction,
  sgdStepKernel,
} from "./entry-points.ts";
import { commentText, numberLiteral, stringLiteral } from "./literals.ts";
import { apiDeclarations, templatesUsedBy } from "./templates.ts";
import { optimizerSection } from "./optimizers.ts";
import { type FunctionDecl, functionText } from "./printer.ts";
import { wasmSection } from "./wasm-glue.ts";
import type { OptimizerSpec } from "../spec/types.ts";

export type Precision = "f32" | "f64";

export interface EmitOptions {
  precision: Precision;
  sourceFile: string;
  version: string;
  /** net.json's "optimizer": the module's `optimizerDefaults`. */
  optimizer?: OptimizerSpec;
  /** The header's "Regenerate with:" command (default: `npx bpgen <sourceFile>`, plus the precision when f64). */
  regenerate?: string;
  /**
   * The WebAssembly kernels, when the module runs them (the TypeScript kernels are then the fallback);
   * rendered after the TypeScript kernels, whose names they use.
   */
  wasm?: () => { plain: WasmKernels; relaxed?: WasmKernels };
}

interface Context {
  net: Net;
  lowered: LoweredModule;
  names: IrNames;
  array: string;
  paramCount: number;
}

/** One exported function's kernel, rendered, and the workspace it touches. */
interface Rendered {
  body: string[];
  /** Workspace buffers it stores into or reads (the module declares them once). */
  buffers: Set<Buffer>;
}

/** The module's source text, from the kernel IR of its functions after the passes. */
export async function emitModule(net: Net, lowered: LoweredModule, names: IrNames, options: EmitOptions): Promise<string> {
  const ctx: Context = {
    net,
    lowered,
    names,
    array: options.precision === "f64" ? "Float64Array" : "Float32Array",
    paramCount: lowered.layout.paramCount,
  };
  // rendered in module order, so every name is claimed where it first appears
  const rendered: Record<FunctionName, Rendered> = {
    forward: render(lowered.functions.forward, names),
    loss: render(lowered.functions.loss, names),
    gradient: render(lowered.functions.gradient, names),
  };
  const workspace = [...new Set(Object.values(rendered).flatMap((r) => [...r.buffers]))].sort((a, b) => (a.node?.id ?? 0) - (b.node?.id ?? 0));
  const { layout } = lowered;
  const entry: EntryContext = {
    array: ctx.array,
    paramCount: ctx.paramCount,
    inputSize: layout.inputSize,
    targetSize: layout.targetSize,
    outputSize: layout.outputSize,
    outputName: commentText(names.nodes.of(net.output)),
    wasm: options.wasm !== undefined,
  };
  const bodies = {
    forward: withWorkspace(rendered.forward, workspace),
    loss: withWorkspace(rendered.loss, workspace),
    gradient: withWorkspace(rendered.gradient, workspace),
  };

  const functions = (list: readonly FunctionDecl[]) => list.map(functionText).join("\n");
  const parts = [
    header(options),
    metaDeclarations(ctx),
    apiDeclarations(ctx.array).get("KernelArrays") ?? "",
    workspaceDeclarations(ctx, workspace),
    functions([
      initParamsFunction(ctx),
      forwardFunction(entry, bodies.forward),
      lossFunction(entry, bodies.loss),
      gradientFunction(entry, bodies.gradient),
      sgdStepFunction(entry),
      kernelArraysFunction(entry),
      plainArraysFunction(entry),
    ]),
    ...(options.wasm ? [functions([...kernelFunctions(entry, bodies), sgdStepKernel(entry)]), wasmSection(ctx.array, ctx.paramCount, options.wasm())] : []),
    ...optimizerSection({ paramCount: ctx.paramCount, inputSize: layout.inputSize, array: ctx.array, optimizer: options.optimizer }),
  ];
  const code = parts.join("\n");
  const text = `${code}\n${templatesUsedBy(code).join("\n")}`;
  // prettier's defaults, so that a project's `prettier --check` passes on generated files as they are
  return prettier.format(text, { parser: "babel-ts" });
}

function render(fn: KernelFunction, names: IrNames): Rendered {
  const buffers = new Set<Buffer>();
  visitStmts(fn.body, (s) => {
    if (s.k === "store" || s.k === "fill") buffers.add(s.buf);
    if (s.k === "contract") [s.c.out.buf, s.c.a.buf, s.c.b.buf].forEach((b) => buffers.add(b));
    for (const e of ownExprs(s)) visitExpr(e, (x: Expr) => x.k === "load" && buffers.add(x.buf));
  });
  return { body: renderBody(fn.body, names), buffers: new Set([...buffers].filter((b) => b.role === "work")) };
}

/** A kernel's statements, after making the workspace it uses (allocated on the first call, grown with the batch). */
function withWorkspace(r: Rendered, workspace: readonly Buffer[]): string[] {
  return [...(r.buffers.size > 0 && workspace.length > 0 ? ["reserveBatch(batch);"] : []), ...r.body];
}

function header(options: EmitOptions): string {
  return [
    `// @generated by bpgen ${options.version} from ${commentText(options.sourceFile)} (--precision ${options.precision}). DO NOT EDIT.`,
    `// Regenerate with: ${commentText(options.regenerate ?? `npx bpgen ${options.sourceFile}${options.precision === "f64" ? " --precision f64" : ""}`)}`,
    // linters skip generated code by this convention (formatters need nothing: it is formatted with prettier's defaults)
    "/* eslint-disable */",
    "",
  ].join("\n");
}

function metaDeclarations(ctx: Context): string {
  const { net } = ctx;
  const api = apiDeclarations(ctx.array);
  const layout = ctx.lowered.layout;
  const params = net.params.map(
    (p) => `{ name: ${stringLiteral(p.name)}, shape: [${p.shape.join(", ")}], offset: ${layout.offsets.get(p.node)}, size: ${sizeOf(p.shape)} }`,
  );
  return `
${api.get("ParamLayout")}

${api.get("NetMeta")}

/** The network ${commentText(net.name)}: ${net.params.map((p) => `${commentText(p.name)} ${shapeText(p.shape)}`).join(", ")}. */
export const meta: NetMeta = {
  name: ${stringLiteral(net.name)},
  inputSize: ${layout.inputSize},
  outputSize: ${layout.outputSize},
  targetSize: ${layout.targetSize},
  paramCount: ${ctx.paramCount},
  params: [${params.join(", ")}],
};
`;
}

// ---- the exported functions ----------------------------------------------------------------------

type Fn = ReturnType<typeof fn>;

function initParamsFunction(ctx: Context): Fn {
  const random = ctx.net.params.some((p) => p.init.kind !== "constant");
  const lines = ctx.net.params.flatMap((p) => {
    const offset = ctx.lowered.layout.offsets.get(p.node) ?? 0;
    const size = sizeOf(p.shape);
    const what = `// ${commentText(p.name)} ${shapeText(p.shape)}: `;
    switch (p.init.kind) {
      case "constant":
        return p.init.value === 0 ? [`${what}zeros`] : [`${what}constant`, `initConstant(params, ${offset}, ${size}, ${numberLiteral(p.init.value)});`];
      case "xavier":
        return [`${what}Xavier/Glorot uniform`, `initXavierUniform(params, ${offset}, ${size}, ${p.init.fanIn}, ${p.init.fanOut}, state);`];
      case "he":
        return [`${what}He normal`, `initHeNormal(params, ${offset}, ${size}, ${p.init.fanIn}, state);`];
    }
  });
  const statements = [`const params = new ${ctx.array}(${ctx.paramCount});`, ...(random ? ["const state = rngSeed(seed);"] : []), ...lines, "return params;"];
  const docs = "A fresh parameter vector, initialised as net.json says; the same seed always gives the same numbers.";
  // a network initialised with constants only does not read the seed
  return fn("initParams", docs, [[random ? "seed" : "_seed", "= 1"]], ctx.array, statements);
}

// ---- the workspace, allocated on first use --------------------------------------------------------

/**
 * One buffer per stored intermediate, made by the first call (so an app that imports the module and calls
 * nothing allocates nothing, and a bundler can drop what it does not call), the per-sample rows grown when a
 * larger batch arrives: the only allocations after the first call.
 */
function workspaceDeclarations(ctx: Context, workspace: readonly Buffer[]): string {
  const empty = `/* @__PURE__ */ new ${ctx.array}(0)`;
  const lines = [
    "// Workspace: one buffer per stored intermediate, allocated by the first call and reused by every later one.",
    `let sgdGrads: ${ctx.array} | undefined;`,
  ];
  if (workspace.length === 0) return `${lines.join("\n")}\n`;
  const fixed = workspace.filter((b) => !b.perSample);
  const rows = workspace.filter((b) => b.perSample);
  const grow = (b: Buffer) => `  ${ctx.names.buffer(b)} = new ${ctx.array}(${b.perSample ? `batch * ${b.size}` : b.size});`;
  return [
    ...lines,
    "let capacity = 0;",
    ...workspace.map((b) => `let ${ctx.names.buffer(b)} = ${empty};`),
    "",
    "/** Makes the workspace hold `batch` samples: allocated by the first call, rows grown for a larger batch. */",
    "function reserveBatch(batch: number): void {",
    "  if (batch <= capacity) return;",
    ...(fixed.length > 0 ? ["  if (capacity === 0) {", ...fixed.map((b) => `  ${grow(b)}`), "  }"] : []),
    "  capacity = batch;",
    ...rows.map(grow),
    "}",
    "",
  ].join("\n");
}
