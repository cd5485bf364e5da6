/**
 * The part of a generated module that runs its WebAssembly kernels: the binary (base64), the memory map,
 * instantiation on first use (Node, browsers and workers alike: no import, no fetch, synchronous), and
 * growing the memory for a larger batch. Where `WebAssembly` is missing or rejects SIMD, `wasmKernels()`
 * is null and the exported functions run the TypeScript kernels.
 */
import { HOST_FUNCTIONS, type HostFunction } from "./function.ts";
import type { WasmKernels } from "./module.ts";
import type { KernelName } from "../../lower/functions.ts";
import type { ModuleShape } from "../backend.ts";

/** The glue's text, the binaries written as placeholders, and the base64 text each placeholder stands for. */
export interface WasmSection {
  readonly text: string;
  readonly literals: ReadonlyMap<string, string>;
}

/**
 * A placeholder as long as a line, so that the formatter lays out its declaration as it would the binary's
 * (`const wasmBinary =` and the string on the next line); the binary goes in after formatting, which would
 * otherwise spend most of a large module's time reading through one string.
 */
const placeholder = (name: string) => `${name}:${"=".repeat(96)}`;

/** Per-sample operations of each kernel function (lower/stats.ts), for how many threads a batch is worth. */
export type WorkPerSample = Readonly<Partial<Record<KernelName, number>>>;

export function wasmSection(shape: ModuleShape, builds: { plain: WasmKernels; relaxed?: WasmKernels }, functions: readonly KernelName[], work: WorkPerSample = {}): WasmSection {
  if (builds.plain.threaded) return threadedSection(shape, builds, functions, work);
  const { array, paramCount, stateCount } = shape;
  const wasm = builds.plain;
  const modes = functions.includes("trainingForward")
    ? `
  readonly trainingForward: (batch: number, capacity: number) => void;
  readonly trainingLoss: (batch: number, capacity: number) => number;`
    : "";
  const stateView = stateCount > 0 ? `\n  state: ${array};` : "";
  const m = wasm.memory;
  const literals = new Map<string, string>();
  const text = `${binaries(builds, literals)}
/** The parts of the WebAssembly API the kernels use, typed here so that the module needs no DOM or Node types. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

/** The kernels' exports, and views of their memory for \`capacity\` samples. */
interface Kernels {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly forward: (batch: number, capacity: number) => void;
  readonly loss: (batch: number, capacity: number) => number;
  readonly gradient: (batch: number, capacity: number) => number;${modes}
  readonly sgdUpdate: (lr: number) => void;
  capacity: number;
  params: ${array};${stateView}
  grads: ${array};
  inputs: ${array};
  targets: ${array};
  out: ${array};
}

let kernels: Kernels | null | undefined;

/** The WebAssembly kernels, instantiated on first use; null where WebAssembly SIMD is unavailable. */
function wasmKernels(): Kernels | null {
${binaryChoice(builds)}
  if (!api.validate(bytes)) return null;
  const instance = new api.Instance(new api.Module(bytes), { host: { ${hostImports(builds)} } });
  const exports = instance.exports as Omit<Kernels, "capacity" | "params" | ${stateCount > 0 ? '"state" | ' : ""}"grads" | "inputs" | "targets" | "out">;
  const empty = new ${array}(0);
  kernels = { ...exports, capacity: 0, params: empty, ${stateCount > 0 ? "state: empty, " : ""}grads: empty, inputs: empty, targets: empty, out: empty };
  reserveKernels(kernels, 1);
  return kernels;
}

/**
 * Makes the kernels' memory hold \`batch\` samples (growing it when a larger batch arrives) and the views
 * of it current: growing detaches every earlier view, those kernelArrays gave out included.
 */
function reserveKernels(k: Kernels, batch: number): void {
  if (batch <= k.capacity) return;
  const bytes = ${m.io} + batch * ${m.bytesPerSample};
  const pages = Math.ceil((bytes - k.memory.buffer.byteLength) / 65536);
  if (pages > 0) k.memory.grow(pages);
  const buffer = k.memory.buffer;
  k.capacity = batch;
${views(shape, m, "batch")}
}
`;
  return { text, literals };
}

/**
 * The least work (operations of the op table) worth a thread of its own: a job's start and each barrier cost a few
 * microseconds, which a thread with less to do would not win back.
 */
const WORK_PER_THREAD = 400_000;

/**
 * How many times a waiting thread reads the control block before it sleeps (a few hundred microseconds): a kernel's
 * next job or barrier usually comes sooner, and a wake-up from sleep costs tens of microseconds. Measured on
 * mnist_mlp's gradient (batch 64, 2 threads): 1.59× one thread with 20 000, 1.62–1.68× with 200 000.
 */
const THREAD_SPIN = 200_000;

/**
 * The glue of kernels that several threads run (module.ts `threads`): the same kernels and views, on a memory the
 * module creates (shared where threads can run), and a thread pool that `startThreads` starts. Each kernel call runs
 * on as many of the pool's threads as its batch has work for (one without a pool).
 */
function threadedSection(shape: ModuleShape, builds: { plain: WasmKernels; relaxed?: WasmKernels }, functions: readonly KernelName[], work: WorkPerSample): WasmSection {
  const { array, paramCount, stateCount } = shape;
  const wasm = builds.plain;
  const threaded = wasm.threaded!;
  const m = wasm.memory;
  const literals = new Map<string, string>();
  // the functions, then the parameters' update (its rate in memory): a job each
  const jobs = [...functions, "sgdUpdate"];
  const jobIndex = (name: string) => jobs.indexOf(name);
  // an update does a multiply and a subtraction per parameter, and moves three numbers
  const updateWork = 3 * paramCount;
  const kernelField = (name: KernelName) =>
    name === "forward" || name === "trainingForward" ? `readonly ${name}: (batch: number, capacity: number) => void;` : `readonly ${name}: (batch: number, capacity: number) => number;`;
  // where the chosen binary's memory import keeps its flags
  const flagsAt = builds.relaxed ? `bytes === relaxed ? ${builds.relaxed.threaded!.memoryFlagsAt} : ${threaded.memoryFlagsAt}` : String(threaded.memoryFlagsAt);
  const text = `${binaries(builds, literals)}
/** The parts of the WebAssembly API the kernels use, typed here so that the module needs no DOM or Node types. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

/** A kernel as exported: thread \`thread\` of \`threads\` computes its share; the first thread's result is the call's. */
type ThreadKernel = (batch: number, capacity: number, thread: number, threads: number) => number;

/** The kernels' functions by job number: the thread pool runs them by it. */
const KERNEL_JOBS = ${JSON.stringify(jobs)};

/**
 * Whether a worker can give the kernels their imports: ${
    workerCanImport(builds)
      ? "they import no function of this module's own"
      : `they import ${hostNames(builds).filter((n) => !HOST_FUNCTIONS[n].startsWith("Math.")).join(", ")}, a function of this module's own, which a worker does not have, so they run on one thread`
  }.
 */
const WORKERS_CAN_IMPORT: boolean = ${workerCanImport(builds)};

/**
 * Per-sample operations of each job (a recurrence's for one step), and the least work worth a thread: a small batch runs
 * on fewer threads.
 */
const JOB_WORK = [${functions.map((name) => Math.round(work[name] ?? 0)).join(", ")}, ${updateWork}];
const WORK_PER_THREAD = ${WORK_PER_THREAD};

/** The kernels, the memory they share, views of it for \`capacity\` samples, and the thread pool (null: one thread). */
interface Kernels {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly module: object;
  readonly exports: object;
  readonly jobs: readonly ThreadKernel[];
  ${functions.map(kernelField).join("\n  ")}
  readonly sgdUpdate: (lr: number) => void;
  /** Where the job sgdUpdate reads its rate. */
  rate: Float64Array;
  pool: ThreadPool | null;
  /** Threads the memory holds scratch for. */
  threads: number;
  capacity: number;
  params: ${array};${stateCount > 0 ? `\n  state: ${array};` : ""}
  grads: ${array};
  inputs: ${array};
  targets: ${array};
  out: ${array};
}

type ThreadPool = NonNullable<Awaited<ReturnType<typeof startThreadPool>>>;

let kernels: Kernels | null | undefined;

/**
 * The WebAssembly kernels, instantiated on first use on a memory of their own (shared where threads can run, so that
 * startThreads may start a pool on it); null where WebAssembly SIMD is unavailable.
 */
function wasmKernels(): Kernels | null {
${binaryChoice(builds)}
  const flagsAt = ${flagsAt};
  // where threads cannot run, the memory is an ordinary one (a shared one may need a cross-origin isolated page)
  const shared = threadsSupported();
  if (!shared) bytes[flagsAt] = 1;
  if (!api.validate(bytes)) return null;
  const memory = new api.Memory({ initial: ${threaded.minPages}, maximum: ${threaded.maxPages}, shared });
  const module = new api.Module(bytes);
  const instance = new api.Instance(module, { env: { memory }, host: { ${hostImports(builds)} } });
  const exports = instance.exports as Record<string, unknown>;
  const jobs = KERNEL_JOBS.map((name) => exports[name] as ThreadKernel);
  const empty = new ${array}(0);
  const k: Kernels = {
    memory,
    module,
    exports,
    jobs,
    ${functions.map((name) => `${name}: (batch, capacity) => runKernel(k, ${jobIndex(name)}, batch, capacity),`).join("\n    ")}
    sgdUpdate: (lr) => {
      k.rate[0] = lr;
      runKernel(k, ${jobIndex("sgdUpdate")}, 1, k.capacity);
    },
    rate: new Float64Array(0),
    pool: null,
    threads: 1,
    capacity: 0,
    params: empty,${stateCount > 0 ? "\n    state: empty," : ""}
    grads: empty,
    inputs: empty,
    targets: empty,
    out: empty,
  };
  kernels = k;
  reserveKernels(k, 1);
  return k;
}

/** Runs job \`job\` for \`batch\` samples on as many of the pool's threads as the batch has work for. */
function runKernel(k: Kernels, job: number, batch: number, capacity: number): number {
  const pool = k.pool;
  if (pool !== null) {
    const threads = Math.min(pool.threads, Math.floor((batch * (JOB_WORK[job] ?? 0)) / WORK_PER_THREAD));
    if (threads > 1) return runOnThreads(pool, job, batch, capacity, threads);
  }
  return (k.jobs[job] as ThreadKernel)(batch, capacity, 0, 1);
}

/**
 * Makes the kernels' memory hold \`batch\` samples and each thread's scratch (growing it when a larger batch or more
 * threads arrive) and the views of it current: growing replaces the buffer, so every earlier view, those
 * kernelArrays gave out included, is left behind.
 */
function reserveKernels(k: Kernels, batch: number, threads: number = k.threads): void {
  if (batch <= k.capacity && threads <= k.threads) return;
  const capacity = Math.max(batch, k.capacity);
  const bytes = ${m.io} + capacity * ${m.bytesPerSample} + (threads - 1) * ${threaded.scratchBytes};
  const pages = Math.ceil((bytes - k.memory.buffer.byteLength) / 65536);
  if (pages > 0) k.memory.grow(pages);
  const buffer = k.memory.buffer;
  k.capacity = capacity;
  k.threads = Math.max(threads, k.threads);
${views(shape, m, "capacity")}
  k.rate = new Float64Array(buffer, ${threaded.rateAt}, 1);
}

/** The number of threads the platform reports (logical cores), or 1 where it reports none. */
function availableThreads(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (name: string) => { availableParallelism?: () => number } | undefined };
  };
  const reported = g.navigator?.hardwareConcurrency ?? g.process?.getBuiltinModule?.("node:os")?.availableParallelism?.();
  return typeof reported === "number" && reported >= 1 ? Math.floor(reported) : 1;
}

/**
 * Starts a pool of \`threads − 1\` workers (by default one thread per core the platform reports, at most 8) that run
 * the WebAssembly kernels with the calling thread, and resolves with the number of threads the kernels then run on:
 * 1 where threads cannot run (no WebAssembly SIMD, no shared memory or workers, or a page that is not cross-origin
 * isolated), the functions then running on the calling thread as before. Each call runs on as many threads as its
 * batch has work for, with results that do not depend on the number. The calls stay synchronous: on a browser's main
 * thread, which may not block, the calling thread waits for the workers by spinning. A pool already running is stopped
 * first. The workers do not keep a Node process alive; stopThreads ends them.
 */
export async function startThreads(threads: number = Math.min(8, availableThreads())): Promise<number> {
  if (!(threads >= 1 && threads % 1 === 0)) throw new RangeError(\`startThreads: threads must be a positive integer, got \${threads}\`);
  const k = wasmKernels();
  if (k === null) return 1;
  await stopThreads();
  if (threads < 2 || !WORKERS_CAN_IMPORT || !threadsSupported()) return 1;
  reserveKernels(k, 1, threads);
  k.pool = await startThreadPool({
    module: k.module,
    memory: k.memory,
    exports: k.exports,
    imports: ${JSON.stringify(`{ host: { ${workerHostImports(builds)} } }`)},
    jobs: KERNEL_JOBS,
    control: ${threaded.control},
    threads,
    spin: ${THREAD_SPIN},
  });
  return k.pool === null ? 1 : threads;
}

/** Stops the thread pool startThreads started (if any): the kernels run on the calling thread again. */
export async function stopThreads(): Promise<void> {
  const k = kernels;
  if (k === undefined || k === null || k.pool === null) return;
  const pool = k.pool;
  k.pool = null;
  await stopThreadPool(pool);
}
`;
  return { text, literals };
}

/** The host functions the kernels import, by name. */
function hostNames(builds: { plain: WasmKernels; relaxed?: WasmKernels }): HostFunction[] {
  return [...new Set([...builds.plain.hosts, ...(builds.relaxed?.hosts ?? [])])].sort();
}

/** Whether a worker can give the kernels their imports: Math's functions, which every worker has. */
function workerCanImport(builds: { plain: WasmKernels; relaxed?: WasmKernels }): boolean {
  return hostNames(builds).every((name) => HOST_FUNCTIONS[name].startsWith("Math."));
}

/** The host functions as a worker imports them (where workerCanImport). */
function workerHostImports(builds: { plain: WasmKernels; relaxed?: WasmKernels }): string {
  const names = [...new Set([...builds.plain.hosts, ...(builds.relaxed?.hosts ?? [])])].sort();
  return names.map((name) => `${name}: ${HOST_FUNCTIONS[name]}`).join(", ");
}

/** wasmKernels' statements that set \`bytes\` to the binary to run: the relaxed build where the engine validates it. */
/**
 * The start of wasmKernels (both forms): the kernels made once (null where WebAssembly is missing), and the binary's
 * bytes, the relaxed build where the engine validates it.
 */
function binaryChoice(builds: { plain: WasmKernels; relaxed?: WasmKernels }): string {
  const choice = builds.relaxed
    ? `  const relaxed = base64Bytes(wasmBinaryRelaxed);
  const bytes = api.validate(relaxed) ? relaxed : base64Bytes(wasmBinary);`
    : "  const bytes = base64Bytes(wasmBinary);";
  return `  if (kernels !== undefined) return kernels;
  kernels = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
${choice}`;
}

/** The binaries' declarations (base64 placeholders, their text put in `literals`). */
function binaries(builds: { plain: WasmKernels; relaxed?: WasmKernels }, literals: Map<string, string>): string {
  const base64 = (k: WasmKernels, name: string) => {
    const key = placeholder(name);
    literals.set(key, Buffer.from(k.bytes).toString("base64"));
    return key;
  };
  const relaxed = builds.relaxed
    ? `
/**
 * The same kernels with relaxed SIMD's fused multiply-add in the dense products (${builds.relaxed.bytes.length} bytes), used
 * where the engine validates it: faster, with results that may differ in the last bits from machine to machine.
 */
const wasmBinaryRelaxed =
  "${base64(builds.relaxed, "wasmBinaryRelaxed")}";
`
    : "";
  return `
// ---- kernels in WebAssembly (SIMD128), written by bpgen from the same kernel IR as the TypeScript kernels ----

/** The kernels' binary (${builds.plain.bytes.length} bytes), base64. */
const wasmBinary =
  "${base64(builds.plain, "wasmBinary")}";
${relaxed}`;
}

/** reserveKernels' statements that make the views of the memory (\`buffer\`) for \`rows\` samples. */
function views(shape: ModuleShape, m: WasmKernels["memory"], rows: string): string {
  const { array, paramCount, stateCount } = shape;
  return `  k.params = new ${array}(buffer, ${m.params}, ${paramCount});
  k.grads = new ${array}(buffer, ${m.grads}, ${paramCount});${stateCount > 0 ? `\n  k.state = new ${array}(buffer, ${m.state}, ${stateCount});` : ""}
  k.inputs = new ${array}(buffer, ${m.io}, ${rows} * ${m.inputsPerSample / bytesPer(array)});
  k.targets = new ${array}(buffer, ${m.io} + ${rows} * ${m.inputsPerSample}, ${rows} * ${m.targetsPerSample / bytesPer(array)});
  k.out = new ${array}(buffer, ${m.io} + ${rows} * ${m.inputsPerSample + m.targetsPerSample}, ${rows} * ${m.outPerSample / bytesPer(array)});`;
}

/** The host functions the kernels import: Math's, or the module's own (template) functions. */
function hostImports(builds: { plain: WasmKernels; relaxed?: WasmKernels }): string {
  const names = [...new Set([...builds.plain.hosts, ...(builds.relaxed?.hosts ?? [])])].sort();
  return names
    .map((name) => {
      const fn = HOST_FUNCTIONS[name];
      // the module's own functions are named by a call, so that the template splicer brings them in
      return fn.startsWith("Math.") ? `${name}: ${fn}` : `${name}: (x: number) => ${fn}(x)`;
    })
    .join(", ");
}

const bytesPer = (array: string) => (array === "Float64Array" ? 8 : 4);
