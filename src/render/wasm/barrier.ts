/**
 * The kernels' barrier between the phases of a job that several threads run (passes/threads.ts places them), on the
 * thread pool's control block (templates/threads.ts): the last thread to arrive resets the count, moves the
 * generation on and wakes the others; the others wait for the generation to move: reading it `spin` times (a word of
 * the control block), then asleep in `memory.atomic.wait32`, but for the first thread where the caller may not sleep
 * (a browser's main thread), which spins. With one thread it returns at once.
 */
import type { FuncRef, ModuleBuilder } from "./encoder.ts";

/**
 * The words of the control block the barrier uses, as the thread pool lays it out (templates/threads.ts
 * threadControlWords, which the module's glue carries; test/threads-runtime.test.ts holds the two equal).
 */
export const CONTROL_WORDS = { callerSleeps: 8, barrierCount: 9, barrierGeneration: 10, spin: 11, size: 16 } as const;
const WORDS = CONTROL_WORDS;

/** Bytes of the control block. */
export const CONTROL_BYTES = 4 * WORDS.size;

/** The function `barrier(thread, threads)` for a control block at byte `control`. */
export function writeBarrier(mod: ModuleBuilder, control: number): FuncRef {
  const word = (name: keyof typeof WORDS) => control + 4 * WORDS[name];
  return mod.function("barrier", { params: { thread: "i32", threads: "i32" } }, (f, { thread, threads }) => {
    f.localGet(threads)
      .i32Const(2)
      .i32LtS()
      .if(() => f.return());
    const generation = f.local("i32", "generation");
    const spins = f.local("i32", "spins");
    f.i32Const(0).i32AtomicLoad({ offset: word("spin") }).localSet(spins);
    // read before arriving: the last to arrive moves it on
    f.i32Const(0).i32AtomicLoad({ offset: word("barrierGeneration") }).localSet(generation);
    f.i32Const(0).i32Const(1).i32AtomicRmwAdd({ offset: word("barrierCount") });
    f.localGet(threads).i32Const(1).i32Sub().i32Eq();
    f.if(
      () => {
        f.i32Const(0).i32Const(0).i32AtomicStore({ offset: word("barrierCount") });
        f.i32Const(0).i32Const(1).i32AtomicRmwAdd({ offset: word("barrierGeneration") }).drop();
        f.i32Const(0).i32Const(-1).memoryAtomicNotify({ offset: word("barrierGeneration") }).drop();
      },
      () => {
        f.block((passed) => {
          f.loop((again) => {
            f.i32Const(0).i32AtomicLoad({ offset: word("barrierGeneration") }).localGet(generation).i32Ne().brIf(passed);
            // a while reading before sleeping: the others are usually a few microseconds behind, and a wake-up costs more
            f.localGet(spins).i32Const(1).i32Sub().localTee(spins).i32Const(0).i32GeS().brIf(again);
            f.localGet(thread).i32Const(0).i32Ne();
            f.i32Const(0).i32AtomicLoad({ offset: word("callerSleeps") });
            f.i32Or().if(() => {
              f.i32Const(0).localGet(generation).i64Const(-1).memoryAtomicWait32({ offset: word("barrierGeneration") }).drop();
            });
            f.br(again);
          });
        });
      },
    );
  });
}
