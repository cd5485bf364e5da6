/**
 * The WebAssembly kernels on several threads, in Node: the encoder's shared memory and atomics (each
 * instruction's bytes against wabt's assembler, what they compute on one thread), then the thread pool of
 * templates/threads.ts running a kernel built with the encoder (test/helpers/threads-kernel.ts: row sums in fixed
 * shares, a barrier of atomics between two phases) on 1, 2 and 4 threads: the same bits as one thread and as the
 * JavaScript reference, every thread taking part, repeated jobs allocating nothing, errors on any thread reported,
 * the pool stopping; child processes for what only a fresh process shows (one that never stops its pool exits;
 * without SharedArrayBuffer the pool is null; the runtime transpiled and minified still runs its workers).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import wabtInit from "wabt";
import { afterAll, describe, expect, it } from "vitest";
import { templatesUsedBy } from "../src/emit/templates.ts";
import { type AtomicOpName, ATOMIC_OPCODES } from "../src/render/wasm/opcodes.ts";
import { type FunctionBuilder, ModuleBuilder, type ValType, WasmBuildError } from "../src/render/wasm/encoder.ts";
import { CONTROL_WORDS } from "../src/render/wasm/barrier.ts";
import { runOnThreads, startThreadPool, stopThreadPool, threadControlWords, threadsSupported } from "../templates/threads.ts";
import { CONTROL, JOBS, MASK, OWNERS, fillMatrix, layout, rowSumsReference, sharedMemory, threadKernelBytes } from "./helpers/threads-kernel.ts";
import { kernelScript, runtimeJavaScript } from "./helpers/threads-runtime.ts";

const LETTER: Record<string, ValType> = { i: "i32", l: "i64" };
const sigTypes = (sig: string) => {
  const [ins, outs] = sig.split(":");
  return {
    ins: [...ins].map((c) => LETTER[c]),
    outs: [...outs].map((c) => LETTER[c]),
  };
};

/** The payload of section `id` of a module binary. */
function section(bytes: Uint8Array, id: number): Uint8Array {
  let at = 8;
  const u32 = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const kind = bytes[at++];
    const size = u32();
    if (kind === id) return bytes.subarray(at, at + size);
    at += size;
  }
  throw new Error(`no section ${id}`);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

async function wabtAssemble(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("atomics.wat", wat, { threads: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

describe("the encoder's shared memory and atomics", () => {
  const ops = Object.keys(ATOMIC_OPCODES) as AtomicOpName[];
  const method = (f: FunctionBuilder, op: AtomicOpName) =>
    (f as unknown as Record<string, () => FunctionBuilder>)[op.replace(/[._](\w)/g, (_, c: string) => c.toUpperCase())].call(f);

  /** One function per atomic instruction, its operands from its params, on an imported shared memory. */
  function everyAtomicModule(): Uint8Array<ArrayBuffer> {
    const mod = new ModuleBuilder();
    mod.importMemory("env", "memory", { min: 1, max: 4, shared: true });
    ops.forEach((op, i) => {
      const { ins, outs } = sigTypes(ATOMIC_OPCODES[op].sig);
      mod.function(
        `op${i}`,
        {
          params: Object.fromEntries(ins.map((t, k) => [`a${k}`, t])),
          results: outs,
        },
        (f) => {
          for (const p of f.params) f.localGet(p);
          method(f, op);
        },
      );
    });
    return mod.toBytes();
  }

  it("encodes the shared memory import and every atomic instruction to the bytes wabt assembles from the same text", async () => {
    const ours = everyAtomicModule();
    expect(WebAssembly.validate(ours)).toBe(true);
    const funcs = ops.map((op) => {
      const { ins, outs } = sigTypes(ATOMIC_OPCODES[op].sig);
      const params = ins.length > 0 ? ` (param ${ins.join(" ")})` : "";
      const results = outs.length > 0 ? ` (result ${outs.join(" ")})` : "";
      return `  (func${params}${results} ${ins.map((_, k) => `local.get ${k} `).join("")}${op})`;
    });
    const theirs = await wabtAssemble(`(module\n  (import "env" "memory" (memory 1 4 shared))\n${funcs.join("\n")}\n)`);
    const IMPORT = 2;
    const CODE = 10;
    expect(hex(section(ours, IMPORT))).toBe(hex(section(theirs, IMPORT)));
    expect(hex(section(ours, IMPORT)).endsWith("02030104")).toBe(true); // memory, flags 0x03 (max, shared), min 1, max 4
    expect(hex(section(ours, CODE))).toBe(hex(section(theirs, CODE)));
  });

  it("encodes a few to the bytes the threads proposal lists (0xfe, the sub-opcode, the natural alignment)", () => {
    const expected: [AtomicOpName, string][] = [
      ["memory.atomic.notify", "fe000200"],
      ["memory.atomic.wait32", "fe010200"],
      ["atomic.fence", "fe0300"],
      ["i32.atomic.load", "fe100200"],
      ["i32.atomic.store", "fe170200"],
      ["i32.atomic.rmw.add", "fe1e0200"],
      ["i32.atomic.rmw.cmpxchg", "fe480200"],
    ];
    for (const [op, bytes] of expected) expect(hex(section(everyAtomicModule(), 10)), op).toContain(bytes);
  });

  it("computes what the proposal says on one thread: load, store, add and compare-exchange return the old value; wait and notify", () => {
    const mod = new ModuleBuilder();
    mod.importMemory("env", "memory", { min: 1, max: 1, shared: true });
    const i32 = { a: "i32", b: "i32" } as const;
    mod.exportFunction(
      "add",
      mod.function("add", { params: i32, results: ["i32"] }, (f, { a, b }) => f.localGet(a).localGet(b).i32AtomicRmwAdd({ offset: 16 })),
    );
    mod.exportFunction(
      "load",
      mod.function("load", { params: { a: "i32" }, results: ["i32"] }, (f, { a }) => f.localGet(a).i32AtomicLoad({ offset: 16 })),
    );
    mod.exportFunction(
      "store",
      mod.function("store", { params: i32 }, (f, { a, b }) => f.localGet(a).localGet(b).i32AtomicStore({ offset: 16 }).atomicFence()),
    );
    mod.exportFunction(
      "cmpxchg",
      mod.function(
        "cmpxchg",
        {
          params: { a: "i32", expected: "i32", replacement: "i32" },
          results: ["i32"],
        },
        (f, { a, expected, replacement }) => f.localGet(a).localGet(expected).localGet(replacement).i32AtomicRmwCmpxchg({ offset: 16 }),
      ),
    );
    mod.exportFunction(
      "wait",
      mod.function(
        "wait",
        {
          params: { a: "i32", expected: "i32", timeout: "i64" },
          results: ["i32"],
        },
        (f, { a, expected, timeout }) => f.localGet(a).localGet(expected).localGet(timeout).memoryAtomicWait32({ offset: 16 }),
      ),
    );
    mod.exportFunction(
      "notify",
      mod.function("notify", { params: i32, results: ["i32"] }, (f, { a, b }) => f.localGet(a).localGet(b).memoryAtomicNotify({ offset: 16 })),
    );
    const memory = new WebAssembly.Memory({
      initial: 1,
      maximum: 1,
      shared: true,
    });
    const k = new WebAssembly.Instance(new WebAssembly.Module(mod.toBytes()), {
      env: { memory },
    }).exports as Record<string, (...args: (number | bigint)[]) => number>;
    const words = new Int32Array(memory.buffer);
    k.store(4, 41);
    expect(words[5]).toBe(41); // offset 16 + address 4
    expect(k.add(4, 1)).toBe(41);
    expect(k.load(4)).toBe(42);
    expect(k.cmpxchg(4, 7, 9)).toBe(42); // not 7: unchanged
    expect(k.load(4)).toBe(42);
    expect(k.cmpxchg(4, 42, -3)).toBe(42); // 42: replaced
    expect(words[5]).toBe(-3);
    expect(k.wait(4, 0, -1n)).toBe(1); // not equal: returns at once
    expect(k.wait(4, -3, 1000n)).toBe(2); // equal, 1 µs: timed out
    expect(k.notify(4, 1)).toBe(0); // nobody waits
    expect(() => k.load(1)).toThrow(/unaligned|misaligned/i); // an atomic access traps off its alignment
  });

  it("rejects a shared memory without a max, and an atomic access off its natural alignment", () => {
    expect(() =>
      new ModuleBuilder().importMemory("env", "memory", {
        min: 1,
        shared: true,
      }),
    ).toThrow(/shared memory needs a max/);
    const mod = new ModuleBuilder();
    mod.importMemory("env", "memory", { min: 1, max: 1, shared: true });
    expect(() => mod.function("f", { results: ["i32"] }, (f) => f.i32Const(0).i32AtomicLoad({ align: 2 }))).toThrow(WasmBuildError);
    expect(() => mod.function("g", { results: ["i32"] }, (f) => f.i32Const(0).i32AtomicLoad({ align: 2 }))).toThrow(/atomic access's align must be its width 4/);
  });

  it("keeps the existing memory encodings (a plain import's limits flag is still 0x01)", () => {
    const mod = new ModuleBuilder();
    mod.importMemory("env", "memory", { min: 1, max: 4 });
    expect(hex(section(mod.toBytes(), 2)).endsWith("02010104")).toBe(true);
  });
});

describe("the thread pool in Node", () => {
  const ROWS = 96;
  const COLUMNS = 700;
  const reference = rowSumsReference(ROWS, COLUMNS);
  const bytes = threadKernelBytes();
  const module = new WebAssembly.Module(bytes);
  const memory = sharedMemory(ROWS, COLUMNS);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = instance.exports as Record<(typeof JOBS)[number], (batch: number, capacity: number, thread: number, threads: number) => number>;
  const start = (threads: number, spin?: number) =>
    startThreadPool({
      module,
      memory,
      exports: instance.exports,
      imports: "{}",
      jobs: JOBS,
      control: CONTROL,
      threads,
      ...(spin === undefined ? {} : { spin }),
    });
  const results = () => {
    const { sums, mixed } = layout(ROWS, COLUMNS);
    return {
      sums: new Float64Array(memory.buffer, sums, ROWS).slice(),
      mixed: new Float64Array(memory.buffer, mixed, ROWS).slice(),
      owners: Array.from(new Int32Array(memory.buffer, OWNERS, ROWS)),
      mask: new Int32Array(memory.buffer, MASK, 1)[0],
    };
  };
  const bits = (a: Float64Array) => hex(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  type Pool = NonNullable<Awaited<ReturnType<typeof start>>>;
  /** A pool of `threads` for the length of `use`: one pool at a time, since they would share the control block. */
  const withPool = async (threads: number, use: (pool: Pool) => void, spin?: number) => {
    const pool = await start(threads, spin);
    expect(pool, `a pool of ${threads}`).not.toBeNull();
    try {
      use(pool!);
    } finally {
      await stopThreadPool(pool!);
    }
  };

  it("validates the kernel module, whose memory import is shared", () => {
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(threadsSupported()).toBe(true);
  });

  it("gives on 2 and 4 threads the bits one thread gives, and the JavaScript reference's; every thread does its share", async () => {
    fillMatrix(memory.buffer, ROWS, COLUMNS);
    const total = kernels.rowSums(ROWS, COLUMNS, 0, 1);
    const one = results();
    expect(bits(one.sums)).toBe(bits(reference.sums));
    expect(bits(one.mixed)).toBe(bits(reference.mixed));
    expect(Object.is(total, reference.total)).toBe(true);
    expect(one.mask).toBe(1);
    for (const threads of [2, 4]) {
      await withPool(threads, (pool) => {
        expect(pool.workers.length).toBe(threads - 1);
        expect(pool.callerSleeps).toBe(true); // Node's main thread may block
        fillMatrix(memory.buffer, ROWS, COLUMNS);
        const got = runOnThreads(pool, 0, ROWS, COLUMNS);
        const r = results();
        expect(Object.is(got, total), `${threads} threads: total ${got} vs ${total}`).toBe(true);
        expect(bits(r.sums), `${threads} threads: row sums`).toBe(bits(one.sums));
        expect(bits(r.mixed), `${threads} threads: mixed (read across shares past the barrier)`).toBe(bits(one.mixed));
        expect(r.mask, `${threads} threads: participation`).toBe(2 ** threads - 1);
        const shares = Array.from({ length: ROWS }, (_, row) =>
          Array.from({ length: threads }, (_, t) => t).find((t) => row >= Math.floor((t * ROWS) / threads) && row < Math.floor(((t + 1) * ROWS) / threads)),
        );
        expect(r.owners, `${threads} threads: each row done by its share's thread`).toEqual(shares);
      });
    }
  });

  it("runs a job many times over with the same result, allocating nothing per call", async () => {
    await withPool(2, (pool) => {
      fillMatrix(memory.buffer, ROWS, COLUMNS);
      for (let i = 0; i < 50; i++) expect(Object.is(runOnThreads(pool, 0, ROWS, COLUMNS), reference.total)).toBe(true);
      expect(results().mask).toBe(3);
      v8.setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      // The young generation's growth over few calls and over many: where anything allocated per call would go
      // (code and feedback the optimiser adds go to other spaces). A collection in the window would mean
      // allocation too, so there must be none for the count to mean anything.
      const young = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space")!.space_used_size;
      const growth = (calls: number) => {
        gc();
        const profiler = new v8.GCProfiler();
        const before = young();
        profiler.start();
        for (let i = 0; i < calls; i++) runOnThreads(pool, 1, 0, 0);
        const collections = profiler.stop().statistics.length;
        return { bytes: young() - before, collections };
      };
      growth(2000); // warm: the runtime optimised
      const few = growth(1000);
      const many = growth(21_000);
      expect(many.collections).toBe(0);
      // 20,000 more calls, not 1,000 more bytes: the smallest heap object (16 bytes) per call would be 320,000
      expect(many.bytes - few.bytes).toBeLessThan(1000);
    });
  });

  it("measures a job's round trip on 2 threads with an empty kernel (printed, not asserted)", async () => {
    for (const spin of [0, 2000]) {
      await withPool(
        2,
        (pool) => {
          for (let i = 0; i < 500; i++) runOnThreads(pool, 1, 0, 0);
          const rounds = 5000;
          const t0 = performance.now();
          for (let i = 0; i < rounds; i++) runOnThreads(pool, 1, 0, 0);
          const microseconds = ((performance.now() - t0) * 1000) / rounds;
          console.log(`threads: Node, 2 threads, spin ${spin}: ${microseconds.toFixed(1)} µs per empty job`);
          expect(microseconds).toBeGreaterThan(0);
        },
        spin,
      );
    }
  });

  it("reports a kernel that throws, on a worker or on the calling thread, once every thread stopped, and goes on working", async () => {
    await withPool(3, (pool) => {
      expect(() => runOnThreads(pool, 2, 2, 0)).toThrow("runOnThreads: job 2 threw on thread 2");
      expect(() => runOnThreads(pool, 2, 1, 0)).toThrow("runOnThreads: job 2 threw on thread "); // 1 or 2, whichever came first
      // every thread throws: thread 0's own error, and no worker's failure left over for the next job
      expect(() => runOnThreads(pool, 2, 0, 0)).toThrow(WebAssembly.RuntimeError);
      expect(runOnThreads(pool, 1, 0, 0)).toBe(0);
      expect(() => runOnThreads(pool, 3, 0, 0)).toThrow("runOnThreads: no job 3 (the pool has 3)");
      fillMatrix(memory.buffer, ROWS, COLUMNS);
      expect(Object.is(runOnThreads(pool, 0, ROWS, COLUMNS), reference.total)).toBe(true);
      expect(results().mask).toBe(7);
    });
  });

  it("keeps working after the memory grows: every thread sees the new pages, the control block stays in place", async () => {
    await withPool(2, (pool) => {
      const rows = 4 * ROWS;
      const pages = Math.ceil(layout(rows, COLUMNS).bytes / 65536) - memory.buffer.byteLength / 65536;
      expect(pages).toBeGreaterThan(0);
      memory.grow(pages);
      fillMatrix(memory.buffer, rows, COLUMNS);
      expect(Object.is(runOnThreads(pool, 0, rows, COLUMNS), rowSumsReference(rows, COLUMNS).total)).toBe(true);
      expect(results().mask).toBe(3);
    });
  });

  it("rejects when a worker fails to start (kernels' imports that do not evaluate)", async () => {
    const started = startThreadPool({ module, memory, exports: instance.exports, imports: "{ host: ", jobs: JOBS, control: CONTROL, threads: 3 });
    await expect(started).rejects.toThrow("startThreadPool: a worker failed to start: SyntaxError");
  });

  it("stops: the workers exit and the pool takes no more jobs", async () => {
    const pool = await start(2);
    expect(pool).not.toBeNull();
    const worker = pool!.workers[0] as unknown as {
      threadId: number;
      once(event: "exit", listener: (code: number) => void): void;
    };
    expect(worker.threadId).toBeGreaterThan(0);
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    await stopThreadPool(pool!);
    await exited;
    expect(worker.threadId).toBe(-1);
    expect(() => runOnThreads(pool!, 1, 0, 0)).toThrow("the thread pool was stopped");
    await stopThreadPool(pool!); // twice is harmless
  });

  it("resolves null where threads cannot run: one thread, a memory not shared, no SharedArrayBuffer; rejects a bad thread count or job", async () => {
    expect(await start(1)).toBeNull();
    const plain = new WebAssembly.Memory({ initial: 1 });
    expect(
      await startThreadPool({
        module,
        memory: plain,
        exports: instance.exports,
        imports: "{}",
        jobs: JOBS,
        control: 0,
        threads: 2,
      }),
    ).toBeNull();
    const saved = globalThis.SharedArrayBuffer;
    try {
      delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer;
      expect(threadsSupported()).toBe(false);
      expect(await start(2)).toBeNull();
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    const options = { module, memory, exports: instance.exports, imports: "{}", jobs: JOBS, control: CONTROL };
    await expect(startThreadPool({ ...options, threads: 2.5 })).rejects.toThrow("2.5 threads is not a positive integer");
    await expect(startThreadPool({ ...options, jobs: ["nothing"], threads: 2 })).rejects.toThrow('the kernels export no function "nothing"');
  });

  it("lists what the pool needs for the template splicer (the worker's function, reached through its source text)", () => {
    const names = (code: string) => templatesUsedBy(code).map((t) => /^function (\w+)/m.exec(t)?.[1]);
    expect(names("startThreadPool(")).toEqual(["threadControlWords", "threadsSupported", "startThreadPool", "callerMaySleep", "threadWorker"]);
    expect(names("runOnThreads(")).toEqual(["runOnThreads"]);
    const { size, ...words } = threadControlWords();
    const indices = Object.values(words);
    expect(new Set(indices).size, "one word each").toBe(indices.length);
    expect(Math.max(...indices)).toBeLessThan(size);
    // the kernels' barrier (src/render/wasm/barrier.ts) reads the block where the pool writes it
    for (const [name, index] of Object.entries(CONTROL_WORDS)) expect(threadControlWords()[name as keyof typeof CONTROL_WORDS], name).toBe(index);
  });
});

describe("the thread pool in fresh Node processes", () => {
  const ROWS = 64;
  const COLUMNS = 300;
  const reference = rowSumsReference(ROWS, COLUMNS);
  const dir = mkdtempSync(join(tmpdir(), "bpgen-threads-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the kernel script on `threads` threads in `node flags… script`, with the runtime transpiled (and minified). */
  function child(flags: string[], threads: number, minify: boolean) {
    const runtime = minify ? "threads.min.mjs" : "threads.mjs";
    writeFileSync(join(dir, runtime), runtimeJavaScript(minify));
    const script = join(dir, `run-${minify ? "min" : "plain"}-${threads}.mjs`);
    writeFileSync(script, `${kernelScript(`./${runtime}`, threads, ROWS, COLUMNS, 0)}console.log(JSON.stringify(result));\n`);
    const r = spawnSync(process.execPath, [...flags, script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.error, "the child did not exit by itself within 30 s").toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as {
      supported: boolean;
      pool: boolean;
      total: number;
      mask: number;
    };
  }

  it("exits by itself after using a pool it never stopped (the workers are unref'd), with the runtime transpiled and minified", () => {
    for (const minify of [false, true]) {
      const out = child([], 2, minify);
      expect(out.pool, minify ? "minified" : "transpiled").toBe(true);
      expect(out.mask).toBe(3);
      expect(Object.is(out.total, reference.total)).toBe(true);
    }
  });

  it("falls back to one thread without SharedArrayBuffer (node --no-harmony-sharedarraybuffer): the pool is null", () => {
    const out = child(["--no-harmony-sharedarraybuffer"], 2, false);
    expect(out.supported).toBe(false);
    expect(out.pool).toBe(false);
    expect(out.mask).toBe(1);
    expect(Object.is(out.total, reference.total)).toBe(true);
  });
});
