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
import { type FuncRef, type FunctionBuilder, type Local, ModuleBuilder } from "./encoder.ts";
import { BINARY_HOST, type HostFunction, type MemoryMap, renderFunction } from "./function.ts";
import { CONTROL_BYTES, writeBarrier } from "./barrier.ts";
import { Numeric, type Precision } from "./numeric.ts";

export interface WasmOptions {
  readonly precision: Precision;
  /** Fused multiply-add (relaxed SIMD) in the contractions. */
  readonly relaxed: boolean;
  /** Kernels that several threads run at once on a shared memory (passes/threads.ts has shared their work). */
  readonly threads?: boolean;
}

/**
 * The most pages a threaded module's memory may grow to (1 GiB): a shared memory reserves its address space up
 * front, and cannot move.
 */
export const SHARED_MAX_PAGES = 16384;

/** What a threaded module's glue needs beyond the memory map. */
export interface ThreadedLayout {
  /** Byte address of the thread pool's control block (templates/threads.ts threadControlWords). */
  readonly control: number;
  /** Byte address of sgdUpdate's rate (an f64): the job `sgdUpdate` reads it there. */
  readonly rateAt: number;
  /**
   * Bytes of each thread's own copy of the scratch (after the first thread's: `(thread − 1) ·` this past the
   * per-sample regions of `capacity` samples).
   */
  readonly scratchBytes: number;
  /** Where in the binary the memory import's flags byte is (3: shared; the glue writes 1 where threads cannot run). */
  readonly memoryFlagsAt: number;
  readonly minPages: number;
  readonly maxPages: number;
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
  /** For kernels built for threads: the memory they import. */
  readonly threaded?: ThreadedLayout;
}

const PAGE = 65536;
/** Where kernels that several threads run find sgdUpdate's rate (an f64), after the thread pool's control block. */
const RATE_AT = CONTROL_BYTES;
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
  // the thread pool's control block first, where threads run
  const control = 0;
  // then, where threads run, the update's rate (sharedSgdUpdate)
  const params = options.threads ? RATE_AT + 16 : 0;
  const grads = params + align16(bytesOf(layout.paramCount));
  const state = grads + align16(bytesOf(layout.paramCount));
  const work = state + align16(bytesOf(layout.stateCount ?? 0));
  const io = work + align16(bytesOf(fixedWork));
  const bytesPerSample = bytesOf(layout.inputSize + layout.targetSize + layout.outputSize + rowsWork);
  const scratchBytes = align16(bytesOf(fixedWork));
  const mem: MemoryMap = {
    params,
    grads,
    state,
    work,
    io,
    inputSize: layout.inputSize,
    targetSize: layout.targetSize,
    outputSize: layout.outputSize,
    ...(options.threads ? { threads: { bytesPerSample, scratchBytes } } : {}),
  };

  const mod = new ModuleBuilder("bpgen");
  const minPages = Math.max(1, Math.ceil((io + bytesPerSample) / PAGE));
  if (options.threads) mod.importMemory("env", "memory", { min: minPages, max: SHARED_MAX_PAGES, shared: true });
  else mod.defineMemory({ min: minPages }, "memory");
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
  const barrier = options.threads ? writeBarrier(mod, control) : undefined;
  for (const [name, fn] of functions) {
    const ctx = { mod, num, kernelNum, mem, layout: layouts.get(name) as WorkspaceLayout, names, relaxed: options.relaxed, host, barrier };
    mod.exportFunction(name, renderFunction(ctx, fn, name !== "forward" && name !== "trainingForward"));
  }
  mod.exportFunction("sgdUpdate", options.threads ? sharedSgdUpdate(mod, kernelNum, mem, layout.paramCount, RATE_AT) : sgdUpdate(mod, kernelNum, mem, layout.paramCount));
  const bytes = mod.toBytes();
  return {
    bytes,
    ...(options.threads ? { threaded: { control, rateAt: RATE_AT, scratchBytes, memoryFlagsAt: memoryFlagsAt(bytes), minPages, maxPages: SHARED_MAX_PAGES } } : {}),
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

/** Where the import of `env.memory` writes its limits' flags: the first `"env" "memory"` memory import in the binary. */
function memoryFlagsAt(bytes: Uint8Array): number {
  const text = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  const entry = [...text("env"), ...text("memory"), 0x02];
  // the type section before the imports holds type codes only (0x60, 0x7b–0x7f, counts), never these letters
  for (let at = 0; at + entry.length < bytes.length; at++) {
    if (entry.every((b, k) => bytes[at + k] === b)) {
      const flags = at + entry.length;
      if (bytes[flags] !== 0x03) break;
      return flags;
    }
  }
  throw new Error("internal: no shared memory import in the kernels' binary");
}

/** params ← params − lr · grads, a vector at a time: `sgdUpdate(lr)`. */
function sgdUpdate(mod: ModuleBuilder, num: Numeric, mem: MemoryMap, count: number): FuncRef {
  return mod.function("sgdUpdate", { params: { lr: "f64" } }, (f, { lr }) => updateParams(f, num, mem, count, () => f.localGet(lr)));
}

/**
 * The same for kernels that several threads run, as a job of theirs: `sgdUpdate(batch, capacity, thread, threads)`
 * with the rate (f64) at byte `rateAt`, each thread taking its share of the vectors and the first thread the last
 * few elements (the batch and the capacity are not read).
 */
function sharedSgdUpdate(mod: ModuleBuilder, num: Numeric, mem: MemoryMap, count: number, rateAt: number): FuncRef {
  const params = { batch: "i32", capacity: "i32", thread: "i32", threads: "i32" } as const;
  return mod.function("sgdUpdate", { params, results: ["f64"] }, (f, { thread, threads }) => {
    updateParams(f, num, mem, count, () => f.i32Const(0).f64Load({ offset: rateAt }), { thread, threads });
    f.f64Const(0);
  });
}

/** The update's body: `rate` pushes lr (f64); `share`, where given, is a thread's part of the vectors. */
function updateParams(f: FunctionBuilder, num: Numeric, mem: MemoryMap, count: number, rate: () => void, share?: { thread: Local; threads: Local }): void {
  const scalar = f.local(num.scalar, "rate");
  const rates = f.local("v128", "rates");
  rate();
  num.fromF64(f).localTee(scalar);
  num.splat(f).localSet(rates);
  const at = f.local("i32", "at");
  const whole = count - (count % num.lanes);
  const step = (vector: boolean) => {
    f.localGet(at);
    vector ? num.loadV(f.localGet(at), mem.params) : num.load(f.localGet(at), mem.params);
    vector ? num.loadV(f.localGet(at), mem.grads) : num.load(f.localGet(at), mem.grads);
    f.localGet(vector ? rates : scalar);
    vector ? num.v(f, "mul") : num.s(f, "mul");
    vector ? num.v(f, "sub") : num.s(f, "sub");
    vector ? num.storeV(f, mem.params) : num.store(f, mem.params);
  };
  const tail = () => {
    for (let k = whole; k < count; k++) {
      f.i32Const(k * num.bytes).localSet(at);
      step(false);
    }
  };
  if (!share) {
    f.i32Const(0).localSet(at);
    if (whole > 0) {
      f.loop((next) => {
        step(true);
        f.localGet(at).i32Const(16).i32Add().localTee(at).i32Const(whole * num.bytes).i32LtS().brIf(next);
      });
    }
    tail();
    return;
  }
  // a thread's share: vectors ⌊V·t/n⌋ to ⌊V·(t+1)/n⌋ − 1 of V, as byte addresses; the first thread also the tail
  const end = f.local("i32", "end");
  const bound = (next: boolean) => {
    f.i32Const(whole / num.lanes).localGet(share.thread);
    if (next) f.i32Const(1).i32Add();
    f.i32Mul().localGet(share.threads).i32DivU().i32Const(16).i32Mul();
  };
  bound(false);
  f.localSet(at);
  bound(true);
  f.localSet(end);
  f.block((done) =>
    f.loop((next) => {
      f.localGet(at).localGet(end).i32GeS().brIf(done);
      step(true);
      f.localGet(at).i32Const(16).i32Add().localSet(at).br(next);
    }),
  );
  if (whole < count) f.localGet(share.thread).i32Eqz().if(tail);
}
