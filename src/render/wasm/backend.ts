/**
 * The WebAssembly backend: one binary of SIMD128 kernels over one memory (module.ts), embedded in the module
 * with the glue that instantiates it on first use (glue.ts). Where WebAssembly SIMD is missing, its
 * statements run the next backend of the chain instead.
 */
import type { KernelName, LoweredModule } from "../../lower/functions.ts";
import type { KernelFunction } from "../../lower/kernel.ts";
import { type WorkspaceLayout, reuse } from "../../lower/passes/reuse.ts";
import { type Backend, type BackendInput, type EntryName, type ModulePart, type ModuleShape, functionsInOrder, perBatch } from "../backend.ts";
import { wasmSection } from "./glue.ts";
import { renderWasm } from "./module.ts";
import type { Precision } from "./numeric.ts";
import { wasmTiles } from "./tiles.ts";
import { runsInLanes } from "./function.ts";
import { shareAcrossThreads } from "../../lower/passes/threads.ts";
import { countOps } from "../../lower/stats.ts";
import type { FunctionPlan } from "../../lower/plan.ts";

export const webAssemblyBackend: Backend = {
  name: "wasm",
  tiles: wasmTiles,
  // loops run as tight in WebAssembly written out or not; no engine limit on a function's size bites first
  codeBudget: Infinity,
  // an element loop of four or more lanes' worth runs in SIMD lanes: written out, it would run one element at a time
  keepsLoop: runsInLanes,
  runsEverywhere: false,
  module: webAssemblyPart,
};

/**
 * The layout pass, after the others: each function's workspace laid out in the kernels' memory, buffers whose
 * lifetimes do not overlap sharing bytes (16-byte aligned).
 */
function workspaceLayouts(lowered: LoweredModule, precision: Precision): Partial<Record<KernelName, WorkspaceLayout>> {
  const bytes = precision === "f64" ? 2 : 4;
  return Object.fromEntries(functionsInOrder(lowered).map(([name, f]: [KernelName, KernelFunction]) => [name, reuse(f, bytes)]));
}

function shareFunctions(lowered: LoweredModule): LoweredModule {
  const functions = Object.fromEntries(Object.entries(lowered.functions).map(([name, fn]) => [name, fn && shareAcrossThreads(fn)]));
  return { ...lowered, functions: functions as LoweredModule["functions"] };
}

/** The functions the WebAssembly kernels run: all but stateGradientNorms, whose exported function runs the TypeScript kernel. */
function withoutTypeScriptOnly(lowered: LoweredModule): LoweredModule {
  const { stateGradientNorms: _typeScriptOnly, ...functions } = lowered.functions;
  return { ...lowered, functions };
}

function webAssemblyPart(input: BackendInput): ModulePart {
  const { names, shape } = input;
  const single = withoutTypeScriptOnly(input.lowered);
  // threads take their shares of each function (the pass after the others, before the workspace's layout)
  const lowered = input.threads ? shareFunctions(single) : single;
  const render = (relaxed: boolean) => renderWasm(lowered, (p) => workspaceLayouts(lowered, p), names, { precision: shape.precision, relaxed, threads: input.threads });
  // the relaxed build (opt-in) beside the deterministic one, which engines without relaxed SIMD run
  const builds = { plain: render(false), ...(input.relaxedSimd ? { relaxed: render(true) } : {}) };
  // a recurrence's cell counts for one step: on two threads each step of the small LSTM cost about 10 µs more than on
  // one (the steps' memory-heavy loops slow down when both cores run; BENCHMARKS.md, LSTM), so a step's work is what a
  // thread must be worth; a job of the small LSTM's forward pass at batch 4 ran 20% slower on two threads than on one
  const work = Object.fromEntries(functionsInOrder(single).map(([name]) => [name, countOps(single.plans[name] as FunctionPlan, { oneStep: true }).perSample]));
  const glue = wasmSection(shape, builds, functionsInOrder(lowered).map(([name]) => name), work);
  return {
    before: [],
    after: [glue.text],
    literals: glue.literals,
    entry: (name, next) => entry(name, shape, input.checks, next),
  };
}


/** What each exported function copies in, calls and copies out. */
function entry(name: EntryName, shape: ModuleShape, checks: BackendInput["checks"], next: readonly string[] | undefined): string[] {
  if (next === undefined) throw new Error("internal: WebAssembly kernels need a backend to fall back to");
  const fallback = next.length === 1 ? (next[0] as string) : `{\n${next.join("\n")}\n}`;
  // the state goes in with the parameters; a training step (gradient, sgdStep) brings its update back
  const stateIn = shape.stateCount > 0 ? ["params", "state"] : ["params"];
  const stateOut = shape.stateCount > 0 ? ["state"] : [];
  switch (name) {
    case "forward":
    case "trainingForward":
      return viaWasm(shape, [...stateIn, "inputs"], `k.${name}(batch, k.capacity);`, ["out"], fallback);
    case "loss":
    case "trainingLoss":
      return viaWasm(shape, [...stateIn, "inputs", "targets"], `return k.${name}(batch, k.capacity);`, [], fallback);
    case "gradient":
      return [...viaWasm(shape, [...stateIn, "inputs", "targets"], "const J = k.gradient(batch, k.capacity);", ["grads", ...stateOut], fallback), "return J;"];
    case "sgdStep":
      // the whole step runs in the kernels' memory, without calling gradient (which would check the arguments)
      return [
        ...checks("sgdStep"),
        ...viaWasm(
          shape,
          [...stateIn, "inputs", "targets"],
          "const J = k.gradient(batch, k.capacity);\n// params ← params − lr · dJ/dparams, in the kernels' memory\nk.sgdUpdate(lr);",
          ["params", ...stateOut],
          fallback,
        ),
        "return J;",
      ];
    case "stateGradientNorms":
      // the TypeScript kernel (the WebAssembly binary does not have it)
      return [...next];
    case "kernelArrays":
      return [
        "const k = wasmKernels();",
        `if (k === null) ${fallback}`,
        "reserveKernels(k, batch);",
        `return { params: k.params, ${shape.stateCount > 0 ? "state: k.state, " : ""}grads: k.grads, inputs: k.inputs, targets: k.targets, out: k.out };`,
      ];
  }
}

/** Statements that run the WebAssembly kernel `call`, copying what the caller did not place in the kernels' memory. */
function viaWasm(shape: ModuleShape, ins: string[], call: string, outs: string[], fallback: string): string[] {
  const copyIn: Record<string, string> = {
    params: "if (params !== k.params) k.params.set(params);",
    state: "if (state !== k.state) k.state.set(state);",
    inputs: `if (inputs !== k.inputs) copyElements(k.inputs, inputs, ${perBatch(shape.inputSize)});`,
    targets: `if (targets !== k.targets) copyElements(k.targets, targets, ${perBatch(shape.targetSize)});`,
  };
  const copyOut: Record<string, string> = {
    out: `if (out !== k.out) copyElements(out, k.out, ${perBatch(shape.outputSize)});`,
    grads: "if (grads !== k.grads) grads.set(k.grads);",
    params: "if (params !== k.params) params.set(k.params);",
    state: "if (state !== k.state) state.set(k.state);",
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
