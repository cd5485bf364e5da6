/**
 * Assembles the generated module: provenance header, `meta`, the workspace (allocated on first use), the
 * exported functions and the TypeScript kernels they run, the WebAssembly kernels when the module has them,
 * the optimizers, and the template functions all of these call; printed as text (printer.ts), formatted by prettier
 * but for the code the backends lay out themselves (format.ts).
 */
import type { Net } from "../ir/net.ts";
import { type Node, shapeText, sizeOf } from "../ir/node.ts";
import { STEP_PERIOD } from "../ir/random.ts";
import type { Layout } from "../lower/build.ts";
import type { IrNames } from "../lower/names.ts";
import { DEFAULT_PRECISION, type EntryName, type ModulePart, type ModuleShape, type Precision } from "../render/backend.ts";
import {
  type EntryContext,
  type Run,
  forwardFunction,
  gradientFunction,
  kernelArraysFunction,
  lossFunction,
  sgdStepFunction,
  stateGradientNormsFunction,
  trainingForwardFunction,
  trainingLossFunction,
} from "./entry-points.ts";
import { commentText, numberLiteral, stringLiteral } from "./literals.ts";
import { apiDeclarations, templatesUsedBy } from "./templates.ts";
import { optimizerSection } from "./optimizers.ts";
import { format, laidOutCode, placeCode } from "./format.ts";
import { type FunctionDecl, functionDecl, functionText } from "./printer.ts";
import type { OptimizerSpec } from "../spec/types.ts";

export { DEFAULT_PRECISION, type Precision };

export const arrayType = (precision: Precision) => (precision === "f64" ? "Float64Array" : "Float32Array");

export interface EmitOptions {
  precision: Precision;
  sourceFile: string;
  version: string;
  /** net.json's "optimizer": the module's `optimizerDefaults`. */
  optimizer?: OptimizerSpec;
  /** The header's "Regenerate with:" command (default: `npx bpgen <sourceFile>`, plus the precision when f64). */
  regenerate?: string;
  /** false: the module as printed, not formatted by prettier (the same code, for a caller that only runs it). */
  format?: boolean;
}

interface Context {
  net: Net;
  layout: Layout;
  array: string;
  paramCount: number;
}

/**
 * The module's source text around its backends' parts (`chain`, in order of preference: each part's
 * statements fall back to the next's).
 */
export async function emitModule(net: Net, layout: Layout, names: IrNames, chain: readonly ModulePart[], options: EmitOptions): Promise<string> {
  const ctx: Context = { net, layout, array: arrayType(options.precision), paramCount: layout.paramCount };
  const stateful = (layout.stateCount ?? 0) > 0;
  const entry: EntryContext = { ...moduleShape(layout, options.precision), outputName: commentText(names.nodes.of(net.output)) };
  const run: Run = (name: EntryName) => chain.reduceRight<string[] | undefined>((next, part) => part.entry(name, next), undefined) ?? [];
  // the parts that run everywhere first: every other backend renders the same kernel IR faster
  const fallbackFirst = [...chain].reverse();

  const functions = (list: readonly FunctionDecl[]) => list.map(functionText).join("\n");
  const parts = [
    header(options),
    metaDeclarations(ctx),
    apiDeclarations(ctx.array, stateful, recurrent(layout)).get("KernelArrays") ?? "",
    ...fallbackFirst.flatMap((p) => p.before),
    functions([
      initParamsFunction(ctx),
      ...(stateful ? [initStateFunction(ctx)] : []),
      forwardFunction(entry, run),
      lossFunction(entry, run),
      gradientFunction(entry, run),
      sgdStepFunction(entry, run),
      ...(net.training ? [trainingForwardFunction(entry, run), trainingLossFunction(entry, run)] : []),
      ...(entry.recurrences.length > 0 ? [stateGradientNormsFunction(entry, run)] : []),
      kernelArraysFunction(entry, run),
    ]),
    ...fallbackFirst.flatMap((p) => p.after),
    ...optimizerSection({ paramCount: ctx.paramCount, stateCount: layout.stateCount ?? 0, inputSize: layout.inputSize, array: ctx.array, optimizer: options.optimizer }),
  ];
  const code = parts.join("\n");
  // the code the backends lay out themselves goes in after formatting; the templates it calls before
  const laidOut = chain.flatMap((p) => (p.laidOut ? [p.laidOut] : []));
  const unformatted = await laidOutCode(laidOut, false);
  const text = `${code}\n${templatesUsedBy([code, ...unformatted.values()].join("\n")).join("\n")}`;
  const module = options.format === false ? placeCode(text, unformatted) : placeCode(await format(text), await laidOutCode(laidOut, true));
  return chain.reduce((m, part) => [...(part.literals ?? [])].reduce((n, [key, literal]) => n.split(key).join(literal), m), module);
}

/** What every backend needs to know about the module's arrays. */
export function moduleShape(layout: Layout, precision: Precision): ModuleShape {
  return {
    array: arrayType(precision),
    precision,
    paramCount: layout.paramCount,
    inputSize: layout.inputSize,
    targetSize: layout.targetSize,
    outputSize: layout.outputSize,
    stateCount: layout.stateCount ?? 0,
    recurrences: layout.recurrences ?? [],
  };
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

/** Whether the module has stateGradientNorms (and meta.recurrences). */
const recurrent = (layout: Layout): boolean => (layout.recurrences ?? []).length > 0;
/** Whether one of them runs its steps backwards (meta.recurrences then says which). */
const reversed = (layout: Layout): boolean => (layout.recurrences ?? []).some((r) => r.reverse);

function metaDeclarations(ctx: Context): string {
  const { net } = ctx;
  const layout = ctx.layout;
  const stateful = (layout.stateCount ?? 0) > 0;
  const api = apiDeclarations(ctx.array, stateful, recurrent(layout), reversed(layout));
  const entries = (leaves: readonly { name: string; node: Node; shape: readonly number[] }[]) =>
    leaves.map((p) => `{ name: ${stringLiteral(p.name)}, shape: [${p.shape.join(", ")}], offset: ${layout.offsets.get(p.node)}, size: ${sizeOf(p.shape)} }`);
  const params = entries(net.params);
  const state = stateful ? `\n  stateCount: ${layout.stateCount},\n  state: [${entries(net.state ?? []).join(", ")}],` : "";
  const rows = (layout.recurrences ?? []).map((r) => `{ name: ${stringLiteral(r.name)}, steps: ${r.steps}, offset: ${r.offset}${r.reverse ? ", reverse: true" : ""} }`);
  const recurrences = rows.length > 0 ? `\n  recurrences: [${rows.join(", ")}],` : "";
  return `
${api.get("ParamLayout")}
${rows.length > 0 ? `\n${api.get("RecurrenceLayout")}\n` : ""}
${api.get("NetMeta")}

/** The network ${commentText(net.name)}: ${net.params.map((p) => `${commentText(p.name)} ${shapeText(p.shape)}`).join(", ")}. */
export const meta: NetMeta = {
  name: ${stringLiteral(net.name)},
  inputSize: ${layout.inputSize},
  outputSize: ${layout.outputSize},
  targetSize: ${layout.targetSize},
  paramCount: ${ctx.paramCount},
  params: [${params.join(", ")}],${state}${recurrences}
};
`;
}

// ---- the exported functions ----------------------------------------------------------------------

type Fn = FunctionDecl;

function initParamsFunction(ctx: Context): Fn {
  const random = ctx.net.params.some((p) => p.init.kind !== "constant");
  const lines = ctx.net.params.flatMap((p) => {
    const offset = ctx.layout.offsets.get(p.node) ?? 0;
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
  return functionDecl("initParams", docs, [[random ? "seed" : "_seed", "= 1"]], ctx.array, statements);
}

/**
 * A fresh state: each value as the network says (running means 0, variances 1, a dropout generator's step 0),
 * and the generator's seed from `seed`, as a whole number below 2^24 (exact in a Float32Array).
 */
function initStateFunction(ctx: Context): Fn {
  const leaves = ctx.net.state ?? [];
  const seeded = leaves.some((s) => s.init.kind === "seed");
  const lines = leaves.flatMap((s) => {
    const offset = ctx.layout.offsets.get(s.node) ?? 0;
    const what = `// ${commentText(s.name)} ${shapeText(s.shape)}: `;
    if (s.init.kind === "seed") return [`${what}the seed`, `state[${offset}] = seedValue;`];
    if (s.init.value === 0) return [`${what}zeros`];
    return [`${what}constant`, `state.fill(${numberLiteral(s.init.value)}, ${offset}, ${offset + sizeOf(s.shape)});`];
  });
  const statements = [
    `const state = new ${ctx.array}(${ctx.layout.stateCount ?? 0});`,
    ...(seeded ? [`const seedValue = ((Math.floor(Number.isFinite(seed) ? seed : 0) % ${STEP_PERIOD}) + ${STEP_PERIOD}) % ${STEP_PERIOD};`] : []),
    ...lines,
    "return state;",
  ];
  const docs = "A fresh state (values kept between calls that are not parameters): running statistics at their start, the dropout generator's seed (a whole number below 2^24, from `seed`) and step 0.";
  return functionDecl("initState", docs, [[seeded ? "seed" : "_seed", "= 1"]], ctx.array, statements);
}
