/**
 * A small kernel module for the thread pool's tests, built with the project's encoder on an imported shared
 * memory, as a generated module's kernels will be: its exports take `(batch, capacity, thread, threads)` and split
 * the work by fixed shares, so that every thread count gives the same bits.
 *
 * `rowSums(rows, columns, t, n)`: thread t sums its rows [⌊t·rows/n⌋, ⌊(t+1)·rows/n⌋) of the matrix (each row in
 * column order), marks each row with its index and sets its bit in the participation mask; then, past a barrier,
 * mixes each of its rows with the next row's sum (the next thread's row, at a share's end: wrong without the
 * barrier); past a second barrier thread 0 returns the sum of the mixed values, in row order.
 * `empty` does nothing (a job's round trip); `trapFrom(first)` traps on the threads from `first` on.
 *
 * Memory (bytes): the control block at 0, the mask at 64, row owners (i32) at 128, the matrix (f64, row-major)
 * at 4096, then the row sums and the mixed values.
 */
import { writeBarrier } from "../../src/render/wasm/barrier.ts";
import { type FunctionBuilder, type Local, ModuleBuilder } from "../../src/render/wasm/encoder.ts";
import { threadControlWords } from "../../templates/threads.ts";

export const CONTROL = 0;
export const MASK = 64;
export const OWNERS = 128;
export const MATRIX = 4096;
export const MAX_PAGES = 256;
export const JOBS = ["rowSums", "empty", "trapFrom"] as const;

const WORDS = threadControlWords();
const word = (name: keyof typeof WORDS) => CONTROL + 4 * WORDS[name];

/** Byte offsets of the results for a matrix of `rows` × `columns`. */
export function layout(rows: number, columns: number): { sums: number; mixed: number; bytes: number } {
  const sums = MATRIX + 8 * rows * columns;
  const mixed = sums + 8 * rows;
  return { sums, mixed, bytes: mixed + 8 * rows };
}

/** The kernels' binary: `(import "env" "memory" (memory 1 MAX_PAGES shared))`. */
export function threadKernelBytes(): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder("threads_test");
  mod.importMemory("env", "memory", { min: 1, max: MAX_PAGES, shared: true });
  const sig = { params: { batch: "i32", capacity: "i32", thread: "i32", threads: "i32" }, results: ["f64"] } as const;
  const barrier = writeBarrier(mod, CONTROL);
  mod.exportFunction(
    "rowSums",
    mod.function("rowSums", sig, (f, { batch, capacity, thread, threads }) => writeRowSums(f, barrier, batch, capacity, thread, threads)),
  );
  mod.exportFunction(
    "empty",
    mod.function("empty", sig, (f) => f.f64Const(0)),
  );
  mod.exportFunction(
    "trapFrom",
    mod.function("trapFrom", sig, (f, { batch, thread }) => {
      f.localGet(thread)
        .localGet(batch)
        .i32GeU()
        .if(() => f.unreachable());
      f.f64Const(0);
    }),
  );
  return mod.toBytes();
}

function writeRowSums(f: FunctionBuilder, barrier: ReturnType<ModuleBuilder["function"]>, rows: Local, columns: Local, thread: Local, threads: Local): void {
  const [from, to, row, column, at, old, seen] = ["from", "to", "row", "column", "at", "old", "seen"].map((n) => f.local("i32", n));
  const [sums, mixed] = [f.local("i32", "sums"), f.local("i32", "mixed")];
  const sum = f.local("f64", "sum");
  // the share: rows [⌊t·rows/n⌋, ⌊(t+1)·rows/n⌋)
  f.localGet(thread).localGet(rows).i32Mul().localGet(threads).i32DivU().localSet(from);
  f.localGet(thread).i32Const(1).i32Add().localGet(rows).i32Mul().localGet(threads).i32DivU().localSet(to);
  // sums at MATRIX + 8·rows·columns, mixed after them
  f.localGet(rows).localGet(columns).i32Mul().i32Const(8).i32Mul().i32Const(MATRIX).i32Add().localSet(sums);
  f.localGet(rows).i32Const(8).i32Mul().localGet(sums).i32Add().localSet(mixed);
  // mask |= 1 << thread, by compare-and-exchange until no other thread came in between
  f.i32Const(0).i32AtomicLoad({ offset: MASK }).localSet(old);
  f.loop((retry) => {
    f.i32Const(0).localGet(old).localGet(old).i32Const(1).localGet(thread).i32Shl().i32Or().i32AtomicRmwCmpxchg({ offset: MASK }).localTee(seen);
    f.localGet(old)
      .i32Ne()
      .if(() => {
        f.localGet(seen).localSet(old).br(retry);
      });
  });
  const eachRow = (body: () => void) => {
    f.localGet(from).localSet(row);
    f.block((done) => {
      f.loop((next) => {
        f.localGet(row).localGet(to).i32GeU().brIf(done);
        body();
        f.localGet(row).i32Const(1).i32Add().localSet(row).br(next);
      });
    });
  };
  // phase 1: each row's sum, in column order; the row's owner
  eachRow(() => {
    f.f64Const(0).localSet(sum);
    f.localGet(row).localGet(columns).i32Mul().i32Const(8).i32Mul().i32Const(MATRIX).i32Add().localSet(at);
    f.i32Const(0).localSet(column);
    f.block((done) => {
      f.loop((next) => {
        f.localGet(column).localGet(columns).i32GeU().brIf(done);
        f.localGet(sum).localGet(at).f64Load().f64Add().localSet(sum);
        f.localGet(at).i32Const(8).i32Add().localSet(at);
        f.localGet(column).i32Const(1).i32Add().localSet(column).br(next);
      });
    });
    f.localGet(row).i32Const(8).i32Mul().localGet(sums).i32Add().localGet(sum).f64Store();
    f.localGet(row).i32Const(4).i32Mul().localGet(thread).i32Store({ offset: OWNERS });
  });
  f.localGet(thread).localGet(threads).call(barrier);
  // phase 2: mixed[r] = sums[r] + sums[(r + 1) mod rows] / 2
  eachRow(() => {
    f.localGet(row).i32Const(8).i32Mul().localGet(mixed).i32Add();
    f.localGet(row).i32Const(8).i32Mul().localGet(sums).i32Add().f64Load();
    f.localGet(row).i32Const(1).i32Add().localGet(rows).i32RemU().i32Const(8).i32Mul().localGet(sums).i32Add().f64Load();
    f.f64Const(0.5).f64Mul().f64Add().f64Store();
  });
  f.localGet(thread).localGet(threads).call(barrier);
  f.atomicFence();
  // thread 0: the total of the mixed values, in row order
  f.f64Const(0).localSet(sum);
  f.localGet(thread)
    .i32Eqz()
    .if(() => {
      f.i32Const(0).localSet(row);
      f.block((done) => {
        f.loop((next) => {
          f.localGet(row).localGet(rows).i32GeU().brIf(done);
          f.localGet(sum).localGet(row).i32Const(8).i32Mul().localGet(mixed).i32Add().f64Load().f64Add().localSet(sum);
          f.localGet(row).i32Const(1).i32Add().localSet(row).br(next);
        });
      });
    });
  f.localGet(sum);
}

/**
 * The matrix's entries, the same on every run and every engine: integer arithmetic and one division, which IEEE
 * rounds alike everywhere (Math.sin, say, differs in the last bit between V8 versions).
 */
export function matrixEntry(row: number, column: number): number {
  return (((row * 7919 + column * 104729) % 2003) - 1001) / 1013;
}

/** What rowSums computes, in JavaScript: the same additions in the same order, so the same bits. */
export function rowSumsReference(rows: number, columns: number): { sums: Float64Array; mixed: Float64Array; total: number } {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < columns; c++) s += matrixEntry(r, c);
    sums[r] = s;
  }
  const mixed = sums.map((s, r) => s + sums[(r + 1) % rows] * 0.5);
  let total = 0;
  for (const m of mixed) total += m;
  return { sums, mixed, total };
}

/** Writes the matrix into the memory and clears the results, the mask and the owners. */
export function fillMatrix(buffer: ArrayBufferLike, rows: number, columns: number): void {
  const { bytes } = layout(rows, columns);
  const m = new Float64Array(buffer, MATRIX, rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) m[r * columns + c] = matrixEntry(r, c);
  new Uint8Array(buffer, MASK, MATRIX - MASK).fill(0);
  new Uint8Array(buffer, MATRIX + 8 * rows * columns, bytes - MATRIX - 8 * rows * columns).fill(0);
}

/** The memory a matrix of `rows` × `columns` needs, shared. */
export function sharedMemory(rows: number, columns: number): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.ceil(layout(rows, columns).bytes / 65536), maximum: MAX_PAGES, shared: true });
}
