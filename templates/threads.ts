// Running WebAssembly kernels on several threads: a small pool of workers that instantiate the same kernels on
// the same shared memory and take jobs through a control block in it (Atomics), the calling thread taking a share.

/**
 * The control block's i32 words, as indices from its start. It takes 16 words (64 bytes) at a byte offset of
 * the shared memory that is a multiple of 16 and that nothing else uses:
 * - generation: bumped once per job; the workers sleep on it between jobs;
 * - job, batch, capacity: the job's index in the job table and its two arguments;
 * - threads: how many threads run each job (the caller is thread 0, worker k is thread k);
 * - finished: how many workers finished the current job (the last one to finish wakes the caller);
 * - failed: 0, or 1 + the index of the first worker whose kernel threw in the current job;
 * - stop: 1 tells the workers to leave their loop;
 * - callerSleeps: 1 where the calling thread may block (Node, any worker), 0 on a browser's main thread, where
 *   `Atomics.wait` (and the kernels' `memory.atomic.wait32`) throws, so that thread 0 must spin;
 * - barrierCount, barrierGeneration: the kernels' own barrier between the phases of a job (threads arrived,
 *   and bumped by the last to arrive), reset by nothing else;
 * - spin: how many times a waiting thread reads the control block before it sleeps (the pool's `spin`).
 */
export function threadControlWords() {
  return { generation: 0, job: 1, batch: 2, capacity: 3, threads: 4, finished: 5, failed: 6, stop: 7, callerSleeps: 8, barrierCount: 9, barrierGeneration: 10, spin: 11, size: 16 };
}

/**
 * Whether this platform can run kernels on several threads: SharedArrayBuffer and Atomics exist, and workers do
 * (Node's worker_threads, or a browser's Worker on a cross-origin isolated page: one served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`). Where it is
 * false, the kernels' memory should not be shared and they run on one thread.
 */
export function threadsSupported(): boolean {
  const g = globalThis as {
    SharedArrayBuffer?: unknown;
    Atomics?: unknown;
    Worker?: unknown;
    crossOriginIsolated?: boolean;
    process?: { versions?: { node?: unknown } };
  };
  if (typeof g.SharedArrayBuffer !== "function" || typeof g.Atomics !== "object") return false;
  if (typeof g.process?.versions?.node === "string") return true;
  return typeof g.Worker === "function" && g.crossOriginIsolated === true;
}

/**
 * Starts `threads − 1` workers, each instantiating `module` with `memory` as its `env.memory` (and `imports`, the
 * source text of the kernels' other imports, evaluated in the worker: `"{}"`, or `"{ host: { pow: Math.pow } }"`),
 * and resolves when all wait for jobs. Job J of `runOnThreads` calls the export named `jobs[J]`, on the calling
 * thread through `exports` (its own instance's exports, on the same memory) and in every worker. The control
 * block (threadControlWords) sits at byte `control` of the memory. Resolves null where threads cannot run
 * (threadsSupported is false, `threads` is below 2, or the memory is not shared); rejects when a worker fails to
 * start. In Node the workers come from `process.getBuiltinModule("node:worker_threads")`, or else
 * `import("node:worker_threads")` (a specifier in a variable, so that bundlers for the browser leave it alone) and are unref'd: a process that never stops its pool still exits.
 * In a browser they run from a Blob URL. `spin` is how many times a waiting thread reads the control block before
 * it sleeps (a job that follows soon after the last one then starts without a wake-up); none by default, since on
 * a machine with more threads than free cores a spinning thread only takes time from the one it waits for.
 * One pool per control block: a second would take the first one's jobs. Growing the memory later is fine: a
 * shared memory's old buffer is never detached, so the views of the control block stay valid.
 */
// uses: callerMaySleep, threadControlWords, threadsSupported, threadWorker
export function startThreadPool(options: {
  readonly module: object;
  readonly memory: { readonly buffer: ArrayBufferLike };
  readonly exports: object;
  readonly imports: string;
  readonly jobs: readonly string[];
  readonly control: number;
  readonly threads: number;
  readonly spin?: number;
}) {
  interface PoolWorker {
    terminate(): unknown;
  }
  interface NodeWorker extends PoolWorker {
    on(event: "message" | "error", listener: (value: unknown) => void): unknown;
    unref(): void;
  }
  interface BrowserWorker extends PoolWorker {
    onmessage: ((event: { readonly data: unknown }) => void) | null;
    onerror: ((event: { readonly message?: string }) => void) | null;
    postMessage(message: unknown): void;
  }
  interface Browser {
    Worker: new (url: string) => BrowserWorker;
    Blob: new (parts: string[], options: { type: string }) => object;
    URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
  }
  type Kernel = (batch: number, capacity: number, thread: number, threads: number) => number;
  const { memory, jobs, threads } = options;
  const words = threadControlWords();
  const spin = options.spin ?? 0;
  const exports = options.exports as Record<string, unknown>;
  const missing = jobs.find((name) => typeof exports[name] !== "function");
  if (missing !== undefined) return Promise.reject(new Error(`startThreadPool: the kernels export no function "${missing}"`));
  if (!Number.isInteger(threads) || threads < 1) return Promise.reject(new Error(`startThreadPool: ${threads} threads is not a positive integer`));
  const kernels = jobs.map((name) => exports[name] as Kernel);
  if (threads < 2 || !threadsSupported() || !(memory.buffer instanceof SharedArrayBuffer)) return Promise.resolve(null);
  const control = new Int32Array(memory.buffer, options.control, words.size);
  control.fill(0);
  control[words.threads] = threads;
  control[words.spin] = spin;
  control[words.callerSleeps] = callerMaySleep(control) ? 1 : 0;
  const pool = {
    control,
    kernels,
    threads,
    spin,
    callerSleeps: control[words.callerSleeps] === 1,
    words,
    workers: [] as PoolWorker[],
    stopped: false,
  };
  // what each worker is handed: the same module and memory, its thread index, the job table
  const init = (thread: number) => ({ module: options.module, memory, jobs, control: options.control, words, thread, threads, spin });
  // The worker runs threadWorker(init, imports, post) from its source text: it uses nothing but its arguments and
  // the globals every worker has, so the text of the function as this module was compiled (or minified) runs there.
  const worker = `(${String(threadWorker)})`;
  const isNode = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";

  /** Resolves when every worker said it is ready; rejects with the first error (and stops those started). */
  const whenReady = (start: (thread: number, ready: () => void, fail: (message: string) => void) => PoolWorker) =>
    new Promise<typeof pool | null>((resolve, reject) => {
      let waiting = threads - 1;
      const fail = (message: string) => {
        for (const w of pool.workers) w.terminate();
        reject(new Error(`startThreadPool: a worker failed to start: ${message}`));
      };
      const ready = () => {
        if (--waiting === 0) resolve(pool);
      };
      for (let thread = 1; thread < threads; thread++) pool.workers.push(start(thread, ready, fail));
    });

  if (isNode) {
    const specifier = "node:worker_threads";
    const source = `"use strict";
const threads = require("node:worker_threads");
${worker}(threads.workerData, (${options.imports}), function (message) { threads.parentPort.postMessage(message); });`;
    type NodeWorkers = { Worker: new (source: string, options: { eval: true; workerData: unknown }) => NodeWorker };
    // process.getBuiltinModule where Node has it (20.16 on): a module run as a script (CommonJS without require,
    // code built with new Function) has no import(); a runtime that looks like Node but has no worker_threads runs
    // on one thread
    const host = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
    const workers = typeof host?.getBuiltinModule === "function" ? Promise.resolve(host.getBuiltinModule(specifier) as NodeWorkers) : import(specifier);
    return workers.then(
      (loaded: NodeWorkers) =>
        whenReady((thread, ready, fail) => {
          const w = new loaded.Worker(source, { eval: true, workerData: init(thread) });
          w.on("message", () => {
            w.unref();
            ready();
          });
          w.on("error", (error) => fail(String(error)));
          return w;
        }),
      () => null,
    );
  }
  const browser = globalThis as unknown as Browser;
  const source = `"use strict";
self.onmessage = function (event) {
  self.onmessage = null;
  ${worker}(event.data, (${options.imports}), function (message) { self.postMessage(message); });
};`;
  const url = browser.URL.createObjectURL(new browser.Blob([source], { type: "text/javascript" }));
  const started = whenReady((thread, ready, fail) => {
    const w = new browser.Worker(url);
    w.onmessage = () => ready();
    w.onerror = (event) => fail(event.message ?? "error");
    w.postMessage(init(thread));
    return w;
  });
  const revoke = () => browser.URL.revokeObjectURL(url);
  started.then(revoke, revoke);
  return started;
}

/**
 * Whether the calling thread may block in `Atomics.wait`: a wait for a value the word does not hold returns
 * "not-equal" at once where waiting is allowed, and throws on a browser's main thread.
 */
export function callerMaySleep(control: Int32Array): boolean {
  try {
    Atomics.wait(control, 0, Atomics.load(control, 0) + 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs job `job` of the pool's table on `active` threads (all of the pool's by default; the workers past them skip
 * the job): publishes it in the control block, wakes the workers, runs thread 0's share here
 * (`kernel(batch, capacity, 0, active)`), and waits until every worker has finished its share, so that the job's results are all in memory when it returns. Returns thread 0's result. Where the calling
 * thread may not block (a browser's main thread) it waits by spinning on `Atomics.load`, as Emscripten's pthreads
 * do there: the wait lasts one job's share of work, and the alternative (returning a promise) would make the
 * synchronous API asynchronous. Allocates nothing (but the error when a thread's kernel threw, which is rethrown
 * here once every thread has stopped). A kernel that throws before a barrier of its own would leave the other
 * threads waiting there for good: the kernels must not trap (bpgen's know their bounds).
 */
export function runOnThreads(
  pool: {
    readonly control: Int32Array;
    readonly kernels: readonly ((batch: number, capacity: number, thread: number, threads: number) => number)[];
    readonly threads: number;
    readonly spin: number;
    readonly callerSleeps: boolean;
    readonly words: { readonly generation: number; readonly job: number; readonly batch: number; readonly capacity: number; readonly threads: number; readonly finished: number; readonly failed: number };
    readonly stopped: boolean;
  },
  job: number,
  batch: number,
  capacity: number,
  active: number = pool.threads,
): number {
  const { control, words, threads } = pool;
  const kernel = pool.kernels[job];
  if (pool.stopped) throw new Error("runOnThreads: the thread pool was stopped");
  if (kernel === undefined) throw new Error(`runOnThreads: no job ${job} (the pool has ${pool.kernels.length})`);
  if (!(active >= 1 && active <= threads && active % 1 === 0)) throw new Error(`runOnThreads: ${active} threads, in a pool of ${threads}`);
  Atomics.store(control, words.threads, active);
  Atomics.store(control, words.job, job);
  Atomics.store(control, words.batch, batch);
  Atomics.store(control, words.capacity, capacity);
  Atomics.store(control, words.finished, 0);
  Atomics.add(control, words.generation, 1);
  Atomics.notify(control, words.generation);
  let result = 0;
  let failed = 0;
  try {
    result = kernel(batch, capacity, 0, active);
  } finally {
    // every worker done before returning (or rethrowing): the next job must not start under a worker still at this one
    let spins = pool.spin;
    for (let done = Atomics.load(control, words.finished); done !== threads - 1; done = Atomics.load(control, words.finished)) {
      if (pool.callerSleeps && --spins < 0) Atomics.wait(control, words.finished, done);
    }
    // cleared whether or not thread 0 threw too, so that the next job does not report this one's failure
    failed = Atomics.exchange(control, words.failed, 0);
  }
  if (failed !== 0) throw new Error(`runOnThreads: job ${job} threw on thread ${failed - 1}`);
  return result;
}

/**
 * Stops the pool's workers: tells them to leave their loop, then terminates them. Resolves when they are gone;
 * the pool takes no job after it.
 */
export function stopThreadPool(pool: {
  readonly control: Int32Array;
  readonly words: { readonly generation: number; readonly stop: number };
  readonly workers: readonly { terminate(): unknown }[];
  stopped: boolean;
}): Promise<void> {
  if (pool.stopped) return Promise.resolve();
  pool.stopped = true;
  Atomics.store(pool.control, pool.words.stop, 1);
  Atomics.add(pool.control, pool.words.generation, 1);
  Atomics.notify(pool.control, pool.words.generation);
  return Promise.all(pool.workers.map((w) => w.terminate())).then(() => undefined);
}

/**
 * A pool worker's whole life: instantiates the kernels, says it is ready, then runs each job's share for thread
 * `init.thread` until told to stop. Its source text is what the worker evaluates (`String(threadWorker)`), so it
 * refers to nothing outside itself but its arguments and the globals every worker has (WebAssembly, Atomics),
 * and is written in the plain JavaScript that transpilers and minifiers leave self-contained: no helper a
 * downlevel transpile would add (no spread, destructuring, for-of, async), no other function of the module.
 * (A coverage tool that instruments function bodies with counters of its own would break it; V8's coverage does not.)
 */
export function threadWorker(
  init: {
    readonly module: object;
    readonly memory: { readonly buffer: ArrayBufferLike };
    readonly jobs: readonly string[];
    readonly control: number;
    readonly thread: number;
    /** The pool's size: every worker reports each job finished, also one it skips. */
    readonly threads: number;
    readonly spin: number;
    readonly words: {
      readonly generation: number;
      readonly job: number;
      readonly batch: number;
      readonly capacity: number;
      readonly threads: number;
      readonly finished: number;
      readonly failed: number;
      readonly stop: number;
      readonly size: number;
    };
  },
  imports: { env?: Record<string, unknown> } & Record<string, unknown>,
  post: (message: string) => void,
): void {
  const wasm = (globalThis as unknown as { WebAssembly: { Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> } } }).WebAssembly;
  const env = imports.env || {};
  env["memory"] = init.memory;
  imports.env = env;
  const exports = new wasm.Instance(init.module, imports).exports;
  const kernels: ((batch: number, capacity: number, thread: number, threads: number) => number)[] = [];
  for (let j = 0; j < init.jobs.length; j++) kernels.push(exports[init.jobs[j] as string] as (typeof kernels)[number]);
  const w = init.words;
  const control = new Int32Array(init.memory.buffer, init.control, w.size);
  // read before saying ready: a job published right after the pool starts must find this thread past this line
  let seen = Atomics.load(control, w.generation);
  post("ready");
  for (;;) {
    let spins = init.spin;
    while (Atomics.load(control, w.generation) === seen && --spins >= 0);
    while (Atomics.load(control, w.generation) === seen) Atomics.wait(control, w.generation, seen);
    seen = Atomics.load(control, w.generation);
    if (Atomics.load(control, w.stop) !== 0) return;
    const active = Atomics.load(control, w.threads);
    const kernel = kernels[Atomics.load(control, w.job)];
    if (init.thread < active && kernel !== undefined) {
      try {
        kernel(Atomics.load(control, w.batch), Atomics.load(control, w.capacity), init.thread, active);
      } catch (error) {
        Atomics.compareExchange(control, w.failed, 0, init.thread + 1);
      }
    }
    if (Atomics.add(control, w.finished, 1) === init.threads - 2) Atomics.notify(control, w.finished);
  }
}
