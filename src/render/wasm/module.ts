/**
 * The kernels of a module as one WebAssembly binary: `forward`, `loss`, `gradient` (each `(batch, capacity)`)
 * and `sgdUpdate(lr)`, over one memory that holds every array the kernels touch:
 *
 *   params | grads | state | workspace (fixed) | inputs ×capacity | targets ×capacity | outputs ×capacity | workspace rows ×batch
 *
 * (`state` is empty for a network without state, and a network with modes has `trainingForward` and
 * `trainingLoss` too.)
 * Regions start on 16-byte boundaries. The caller (the generated module's glue) grows the memory and tells
 * each call the capacity; everything after the outputs is scratch for the length of one call.
 */
import type { KernelName, LoweredModule } from "../../lower/functions.ts";
import { functionsInOrder } from "../backend.ts";
import type { IrNames } from "../../lower/names.ts";
import type { WorkspaceLayout } from "../../lower/passes/reuse.ts";
import { type FuncRef, ModuleBuilder } from "./encoder.ts";
import { BINARY_HOST, type HostFunction, type MemoryMap, renderFunction } from "./function.ts";
import { Numeric, type Precision } from "./numeric.ts";

export interface WasmOptions {
  readonly precision: Precision;
  /** Fused multiply-add (relaxed SIMD) in the contractions. */
  readonly relaxed: boolean;
}

export interface WasmKernels {
  readonly bytes: Uint8Array;
  /** Byte addresses of the fixed regions, and bytes per sample of the regions that grow with the batch. */
  readonly memory: {
    readonly params: number;
    readonly grads: number;
    readonly state: number;
    readonly io: number;
    readonly inputsPerSample: number;
    readonly targetsPerSample: number;
    readonly outPerSample: number;
    /** All per-sample regions together: inputs, targets, outputs and workspace rows. */
    readonly bytesPerSample: number;
  };
  /** The host functions the kernels import (`{ host: { … } }` at instantiation). */
  readonly hosts: readonly HostFunction[];
}

const PAGE = 65536;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** `layouts`: each function's workspace in memory (the reuse pass), for the module's precision. */
export function renderWasm(
  lowered: LoweredModule,
  layoutsFor: (precision: Precision) => Readonly<Partial<Record<KernelName, WorkspaceLayout>>>,
  names: IrNames,
  options: WasmOptions,
): WasmKernels {
  // elementwise code computes in f64 like the TypeScript kernels; the contractions in the storage type
  const num = new Numeric(options.precision, "f64");
  const kernelNum = new Numeric(options.precision);
  const { layout } = lowered;
  const functions = functionsInOrder(lowered);
  const layouts = new Map<KernelName, WorkspaceLayout>(Object.entries(layoutsFor(options.precision)) as [KernelName, WorkspaceLayout][]);
  const fixedWork = Math.max(0, ...[...layouts.values()].map((l) => l.fixedSize));
  const rowsWork = Math.max(0, ...[...layouts.values()].map((l) => l.rowsSize));
  const bytesOf = (elements: number) => elements * num.bytes;
  const params = 0;
  const grads = align16(bytesOf(layout.paramCount));
  const state = grads + align16(bytesOf(layout.paramCount));
  const work = state + align16(bytesOf(layout.stateCount ?? 0));
  const io = work + align16(bytesOf(fixedWork));
  const mem: MemoryMap = { params, grads, state, work, io, inputSize: layout.inputSize, targetSize: layout.targetSize, outputSize: layout.outputSize };

  const mod = new ModuleBuilder("bpgen");
  const bytesPerSample = bytesOf(layout.inputSize + layout.targetSize + layout.outputSize + rowsWork);
  mod.defineMemory({ min: Math.max(1, Math.ceil((io + bytesPerSample) / PAGE)) }, "memory");
  const hosts = new Map<HostFunction, FuncRef>();
  const host = (name: HostFunction): FuncRef => {
    let ref = hosts.get(name);
    if (!ref) {
      const params: Record<string, "f64"> = BINARY_HOST.has(name) ? { x: "f64", y: "f64" } : { x: "f64" };
      ref = mod.importFunction("host", name, { name, params, results: ["f64"] });
      hosts.set(name, ref);
    }
    return ref;
  };
  for (const [name, fn] of functions) {
    const ctx = { mod, num, kernelNum, mem, layout: layouts.get(name) as WorkspaceLayout, names, relaxed: options.relaxed, host };
    mod.exportFunction(name, renderFunction(ctx, fn, name !== "forward" && name !== "trainingForward"));
  }
  mod.exportFunction("sgdUpdate", sgdUpdate(mod, kernelNum, mem, layout.paramCount));
  return {
    bytes: mod.toBytes(),
    memory: {
      params,
      grads,
      state,
      io,
      inputsPerSample: bytesOf(layout.inputSize),
      targetsPerSample: bytesOf(layout.targetSize),
      outPerSample: bytesOf(layout.outputSize),
      bytesPerSample,
    },
    hosts: [...hosts.keys()].sort(),
  };
}

/** params ← params − lr · grads, a vector at a time. */
function sgdUpdate(mod: ModuleBuilder, num: Numeric, mem: MemoryMap, count: number): FuncRef {
  return mod.function("sgdUpdate", { params: { lr: "f64" } }, (f, { lr }) => {
    const rate = f.local(num.scalar, "rate");
    const rates = f.local("v128", "rates");
    num.fromF64(f.localGet(lr)).localTee(rate);
    num.splat(f).localSet(rates);
    const at = f.local("i32", "at");
    const whole = count - (count % num.lanes);
    const step = (vector: boolean) => {
      f.localGet(at);
      vector ? num.loadV(f.localGet(at), mem.params) : num.load(f.localGet(at), mem.params);
      vector ? num.loadV(f.localGet(at), mem.grads) : num.load(f.localGet(at), mem.grads);
      f.localGet(vector ? rates : rate);
      vector ? num.v(f, "mul") : num.s(f, "mul");
      vector ? num.v(f, "sub") : num.s(f, "sub");
      vector ? num.storeV(f, mem.params) : num.store(f, mem.params);
    };
    f.i32Const(0).localSet(at);
    if (whole > 0) {
      f.loop((next) => {
        step(true);
        f.localGet(at).i32Const(16).i32Add().localTee(at).i32Const(whole * num.bytes).i32LtS().brIf(next);
      });
    }
    for (let k = whole; k < count; k++) {
      f.i32Const(k * num.bytes).localSet(at);
      step(false);
    }
  });
}
