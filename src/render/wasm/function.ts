/**
 * WebAssembly for one kernel-IR function: loops with constant trip counts (and the batch loop), addresses
 * folded into base + Σ stride·variable with the constant part in the instruction's offset, scalar arithmetic
 * in the module's number type, element loops and accumulator loops run four (f32) or two (f64) lanes at a
 * time where every address moves by one element per iteration. One line per elementwise op in each of
 * SCALAR_OPS and VECTOR_OPS; transcendental functions come from the math library (math.ts).
 */
import type { ElementwiseOp } from "../../ir/node.ts";
import type { Buffer, Expr, Index, KernelFunction, Local, Stmt, Var } from "../../lower/kernel.ts";
import { coefficient, sameIndex } from "../../lower/kernel.ts";
import type { IrNames } from "../../lower/names.ts";
import type { WorkspaceLayout } from "../../lower/passes/reuse.ts";
import { ownExprs, visitExpr, visitStmts } from "../../lower/walk.ts";
import type { FuncRef, FunctionBuilder, Local as WasmLocal, ModuleBuilder } from "./encoder.ts";
import { type MathFunction, type MathShape, emitMathInline, useMath } from "./math.ts";
import type { Numeric } from "./numeric.ts";
import { type ContractionEmitter, renderContraction } from "./contract.ts";

/** The host functions the kernels may import, by the name of the op (or `pow`). */
export const HOST_FUNCTIONS = {
  pow: "Math.pow",
  log2: "Math.log2",
  log10: "Math.log10",
  cbrt: "Math.cbrt",
  tan: "Math.tan",
  asin: "Math.asin",
  acos: "Math.acos",
  atan: "Math.atan",
  sinh: "Math.sinh",
  cosh: "Math.cosh",
  asinh: "Math.asinh",
  acosh: "Math.acosh",
  atanh: "Math.atanh",
  atan2: "Math.atan2",
  erfc: "erfc",
  round: "roundHalfAway",
} as const;
export type HostFunction = keyof typeof HOST_FUNCTIONS;
/** Host functions of two arguments. */
export const BINARY_HOST: ReadonlySet<HostFunction> = new Set(["pow", "atan2"]);

/** Byte addresses of the module's memory regions (see module.ts for the whole map). */
export interface MemoryMap {
  readonly params: number;
  readonly grads: number;
  /** The state array (a network's running statistics, a dropout generator's step); empty when stateless. */
  readonly state: number;
  /** The fixed-size workspace (this function's layout places buffers inside it). */
  readonly work: number;
  /** Inputs, then targets and outputs, `capacity` rows each; then the workspace rows, `batch` rows each. */
  readonly io: number;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
  /**
   * Kernels that several threads run: the bytes of one sample's regions (inputs to workspace rows), and of the
   * scratch each thread past the first has a copy of, after the per-sample regions of `capacity` samples.
   */
  readonly threads?: { readonly bytesPerSample: number; readonly scratchBytes: number };
}

export interface FunctionContext {
  readonly mod: ModuleBuilder;
  /** Elementwise arithmetic: f64, whatever the storage. */
  readonly num: Numeric;
  /** The contractions' arithmetic: the storage type. */
  readonly kernelNum: Numeric;
  readonly mem: MemoryMap;
  readonly layout: WorkspaceLayout;
  readonly names: IrNames;
  /** Fused multiply-add from relaxed SIMD in the contractions (opt-in; results then vary by machine). */
  readonly relaxed: boolean;
  /**
   * A function of the host, f64 → f64 (or (f64, f64) → f64): Math's, or the module's own TypeScript one, for
   * the few ops without a WebAssembly implementation (powers that are not small integers, tan, the inverse
   * trigonometric and hyperbolic functions, erfc, …). Called once per element; never in a vector loop.
   */
  readonly host: (name: HostFunction) => FuncRef;
  /** `barrier(thread, threads)`, in kernels that several threads run (barrier.ts). */
  readonly barrier?: FuncRef;
}

/** Where a buffer starts: a constant byte address, or a local computed once per call, plus a constant. */
export interface Base {
  readonly local?: WasmLocal;
  readonly offset: number;
}

/**
 * A kernel-IR function as an exported WebAssembly function `(batch, capacity) → J?`, or, in kernels that several
 * threads run, `(batch, capacity, thread, threads) → J` (0 where the function returns nothing): thread `thread` of
 * `threads` takes its share of the work (passes/threads.ts).
 */
export function renderFunction(ctx: FunctionContext, fn: KernelFunction, returns: boolean): FuncRef {
  if (ctx.mem.threads) {
    const params = { batch: "i32", capacity: "i32", thread: "i32", threads: "i32" } as const;
    return ctx.mod.function(fn.name, { params, results: ["f64"] }, (f, { batch, capacity, thread, threads }) => {
      new FunctionEmitter(ctx, f, batch, capacity, { thread, threads, perThread: fn.perThread ?? new Set() }).function(fn.body);
      if (!returns) f.f64Const(0);
    });
  }
  const results = returns ? (["f64"] as const) : ([] as const);
  return ctx.mod.function(fn.name, { params: { batch: "i32", capacity: "i32" }, results: [...results] }, (f, { batch, capacity }) => {
    new FunctionEmitter(ctx, f, batch, capacity).function(fn.body);
  });
}

/** The thread running a function, of how many, and the scratch it has a copy of. */
interface ThreadArgs {
  readonly thread: WasmLocal;
  readonly threads: WasmLocal;
  readonly perThread: ReadonlySet<Buffer>;
}

/** Emits statements and expressions of one function body. */
export class FunctionEmitter implements ContractionEmitter {
  /** How elementwise values are computed: f64, or an f32 vector loop's f32 lanes while it is written (vectorLoop). */
  num: Numeric;
  private readonly locals = new Map<Local, WasmLocal>();
  private readonly vars = new Map<Var, WasmLocal>();
  private readonly bases = new Map<Buffer, Base>();
  private batchAsNumber?: WasmLocal;
  private temps: WasmLocal[] = [];

  /** In a paired loop's statement: its bounded calls, computed in four f32 lanes, and which half of them is this one. */
  private computed?: ReadonlyMap<Expr, { readonly lanes: WasmLocal; readonly half: 0 | 1 }>;

  /** Where this thread's copy of the scratch is, from the first thread's (bytes; 0 on the first thread). */
  private scratchShift?: WasmLocal;

  /** How many recurrence steps (time loops) enclose the statement being written: their math is written inline. */
  private timeLoops = 0;

  constructor(
    readonly ctx: FunctionContext,
    readonly f: FunctionBuilder,
    readonly batch: WasmLocal,
    private readonly capacity: WasmLocal,
    private readonly threading?: ThreadArgs,
  ) {
    this.num = ctx.num;
  }

  /**
   * A whole function: the batch as a number and the start of every per-sample region first, so that no
   * value computed once per call sits in a branch that might not run.
   */
  function(stmts: readonly Stmt[]): void {
    this.batchNumber();
    this.threadScratch();
    const buffers = new Set<Buffer>();
    visitStmts(stmts, (s) => {
      if (s.k === "store" || s.k === "fill") buffers.add(s.buf);
      if (s.k === "contract") [s.c.out.buf, s.c.a.buf, s.c.b.buf].forEach((b) => buffers.add(b));
      for (const e of ownExprs(s)) visitExpr(e, (x) => x.k === "load" && buffers.add(x.buf));
    });
    for (const b of buffers) if (b.role !== "counter") this.base(b);
    this.body(stmts);
  }

  body(stmts: readonly Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  // ---- addresses -----------------------------------------------------------------------------------

  /** The start of `buf` in memory. Per-sample regions move with the capacity and the batch: computed once per call. */
  base(buf: Buffer): Base {
    const known = this.bases.get(buf);
    if (known) return known;
    const { mem, layout, num } = this.ctx;
    const rowBytes = (elements: number) => elements * num.bytes;
    let base: Base;
    switch (buf.role) {
      case "params":
        base = { offset: mem.params };
        break;
      case "grads":
        base = { offset: mem.grads };
        break;
      case "state":
        base = { offset: mem.state };
        break;
      case "counter":
        throw new Error("internal: a counter has no memory (its loads are its index)");
      case "inputs":
        base = { offset: mem.io };
        break;
      case "targets":
        base = { local: this.scaledLocal("targets", this.capacity, rowBytes(mem.inputSize)), offset: mem.io };
        break;
      case "out":
        base = { local: this.scaledLocal("out", this.capacity, rowBytes(mem.inputSize + mem.targetSize)), offset: mem.io };
        break;
      case "work": {
        if (!buf.perSample) {
          const at = layout.fixed.get(buf);
          if (at === undefined) throw new Error(`internal: no workspace offset for ${this.ctx.names.buffer(buf)}`);
          const own = this.threading?.perThread.has(buf) ? this.scratchShift : undefined;
          base = own ? { local: own, offset: mem.work + at * num.bytes } : { offset: mem.work + at * num.bytes };
          break;
        }
        const row = layout.rows.get(buf);
        if (row === undefined) throw new Error(`internal: no row offset for ${this.ctx.names.buffer(buf)}`);
        // rows start after the io region (capacity rows of inputs, targets, outputs), `batch` rows each
        const local = this.f.local("i32", `${this.ctx.names.buffer(buf)}_at`);
        this.f.localGet(this.capacity).i32Const(rowBytes(mem.inputSize + mem.targetSize + mem.outputSize)).i32Mul();
        this.f.localGet(this.batch).i32Const(rowBytes(row)).i32Mul().i32Add().localSet(local);
        base = { local, offset: mem.io };
        break;
      }
    }
    this.bases.set(buf, base);
    return base;
  }

  /**
   * The shift from the first thread's scratch to this thread's: thread t > 0 has its copy at
   * io + capacity · bytesPerSample + (t − 1) · scratchBytes.
   */
  private threadScratch(): void {
    const { threading, f } = this;
    const sizes = this.ctx.mem.threads;
    if (!threading || !sizes || threading.perThread.size === 0) return;
    const shift = f.local("i32", "scratch_shift");
    f.i32Const(0).localSet(shift);
    f.localGet(threading.thread).if(() => {
      f.localGet(this.capacity).i32Const(sizes.bytesPerSample).i32Mul();
      f.localGet(threading.thread).i32Const(1).i32Sub().i32Const(sizes.scratchBytes).i32Mul().i32Add();
      f.i32Const(this.ctx.mem.io - this.ctx.mem.work).i32Add().localSet(shift);
    });
    this.scratchShift = shift;
  }

  private scaledLocal(name: string, by: WasmLocal, bytes: number): WasmLocal {
    const local = this.f.local("i32", `${name}_at`);
    this.f.localGet(by).i32Const(bytes).i32Mul().localSet(local);
    return local;
  }

  /**
   * Pushes the variable part of the address of `index` in `buf` and returns the constant part (the
   * instruction's offset). `skip` leaves one variable out (the caller adds it itself).
   */
  address(buf: Buffer, index: Index, skip?: Var): number {
    const b = this.base(buf);
    const bytes = this.num.bytes;
    let pushed = false;
    if (b.local) {
      this.f.localGet(b.local);
      pushed = true;
    }
    for (const t of index.terms) {
      if (t.v === skip) continue;
      this.f.localGet(this.varLocal(t.v));
      if (t.k * bytes !== 1) this.f.i32Const(t.k * bytes).i32Mul();
      if (pushed) this.f.i32Add();
      pushed = true;
    }
    if (!pushed) this.f.i32Const(0);
    const offset = b.offset + index.c * bytes;
    if (offset < 0) throw new Error("internal: a negative address");
    return offset;
  }

  varLocal(v: Var): WasmLocal {
    const local = this.vars.get(v);
    if (!local) throw new Error(`internal: loop variable ${v.name} used outside its loop`);
    return local;
  }

  bindVar(v: Var, name = v.name): WasmLocal {
    const local = this.f.local("i32", name);
    this.vars.set(v, local);
    return local;
  }

  local(l: Local): WasmLocal {
    let w = this.locals.get(l);
    if (!w) {
      w = this.f.local(this.num.scalar, this.ctx.names.local(l));
      this.locals.set(l, w);
    }
    return w;
  }

  /** A scratch local of `type` for the duration of `use`. */
  withTemp(type: "i32" | "f32" | "f64" | "v128", use: (t: WasmLocal) => void): void {
    const free = this.temps.findIndex((t) => t.type === type);
    const t = free >= 0 ? (this.temps.splice(free, 1)[0] as WasmLocal) : this.f.local(type, "tmp");
    use(t);
    this.temps.push(t);
  }

  /** The batch size as a number (for 1/batch). */
  batchNumber(): WasmLocal {
    if (!this.batchAsNumber) {
      this.batchAsNumber = this.f.local(this.num.scalar, "batch_n");
      this.num.fromInt(this.f.localGet(this.batch)).localSet(this.batchAsNumber);
    }
    return this.batchAsNumber;
  }

  // ---- statements ----------------------------------------------------------------------------------

  stmt(s: Stmt): void {
    const { f, num } = this;
    switch (s.k) {
      case "note":
        return;
      case "store": {
        const offset = this.address(s.buf, s.index);
        // a copy (a view, a window of im2col) moves the element as stored, without computing it in f64
        if (s.mode === "=" && s.value.k === "load" && s.value.buf.role !== "counter") {
          num.copy(f, this.address(s.value.buf, s.value.index), offset);
          return;
        }
        if (s.mode === "=") this.scalar(s.value);
        else if (s.mode === "max=") {
          // if (v > m) m = v: a NaN never replaces the running maximum (as a running value's update)
          this.withTemp(num.scalar, (v) => {
            this.scalar(s.value);
            f.localSet(v).localGet(v);
            this.address(s.buf, s.index);
            num.load(f, offset);
            f.localGet(v);
            this.address(s.buf, s.index);
            num.load(f, offset);
            num.s(f, "gt");
            f.select();
          });
        } else {
          this.address(s.buf, s.index);
          num.load(f, offset);
          this.scalar(s.value);
          num.s(f, s.mode === "+=" ? "add" : "mul");
        }
        num.store(f, offset);
        return;
      }
      case "let":
        this.scalar(s.value);
        f.localSet(this.local(s.local));
        return;
      case "update":
        this.update(s.local, s.value, s.mode);
        return;
      case "fill": {
        const offset = this.address(s.buf, s.index);
        f.i32Const(offset).i32Add().i32Const(0).i32Const(s.count * num.bytes).memoryFill();
        return;
      }
      case "return":
        this.scalar(s.value);
        num.toF64(f).return();
        return;
      case "ifBatch":
        f.localGet(this.batch).i32Const(1).i32GtS().if(() => this.body(s.body));
        return;
      case "contract":
        renderContraction(this, s.c);
        return;
      case "loop":
        this.loop(s);
        return;
      case "single":
        if (this.threading) f.localGet(this.threading.thread).i32Eqz().if(() => this.body(s.body));
        else this.body(s.body);
        return;
      case "barrier":
        if (this.threading && this.ctx.barrier) f.localGet(this.threading.thread).localGet(this.threading.threads).call(this.ctx.barrier);
        return;
    }
  }

  /**
   * This thread's share of `v`'s range: [⌊E·t/n⌋, ⌊E·(t+1)/n⌋) for extent E (the batch, or a constant), t of n
   * threads; undefined where one thread runs the function.
   */
  share(v: Var): { from: WasmLocal; to: WasmLocal } | undefined {
    const { threading, f } = this;
    if (!threading) return undefined;
    const bound = (name: string, next: boolean) => {
      const local = f.local("i32", `${v.name}_${name}`);
      if (v.extent === "batch") f.localGet(this.batch);
      else f.i32Const(v.extent);
      f.localGet(threading.thread);
      if (next) f.i32Const(1).i32Add();
      f.i32Mul().localGet(threading.threads).i32DivU().localSet(local);
      return local;
    };
    return { from: bound("from", false), to: bound("to", true) };
  }

  private update(l: Local, value: Expr, mode: string): void {
    const { f, num } = this;
    const w = this.local(l);
    if (mode === "max=") {
      // if (v > m) m = v: a NaN never replaces the running maximum
      this.withTemp(num.scalar, (t) => {
        this.scalar(value);
        f.localSet(t).localGet(t).localGet(w).localGet(t).localGet(w);
        num.s(f, "gt");
        f.select().localSet(w);
      });
      return;
    }
    f.localGet(w);
    this.scalar(value);
    num.s(f, mode === "+=" ? "add" : mode === "*=" ? "mul" : "copysign");
    f.localSet(w);
  }

  private loop(s: Extract<Stmt, { k: "loop" }>): void {
    if (s.kind === "time") {
      this.timeLoops++;
      try {
        return this.anyLoop(s);
      } finally {
        this.timeLoops--;
      }
    }
    this.anyLoop(s);
  }

  private anyLoop(s: Extract<Stmt, { k: "loop" }>): void {
    const share = s.shared ? this.share(s.v) : undefined;
    if (share) return this.rangeLoop(s.v, share.from, share.to, () => this.body(s.body));
    if (s.v.extent !== "batch" && (s.kind === "elements" || (s.kind === "structure" && readsNoStoredBuffer(s))) && vectorizable(s, this.num.lanes)) return this.vectorLoop(s);
    if (s.v.extent !== "batch" && s.kind === "structure" && isAccumulation(s, this.num.lanes)) return this.vectorSum(s);
    if (s.reverse) return this.countdownLoop(s.v, s.v.extent as number, () => this.body(s.body));
    this.countedLoop(s.v, s.v.extent === "batch" ? this.batch : s.v.extent, () => this.body(s.body));
  }

  /** `for v = from; v < to; v++`, run-time bounds (a thread's share), possibly empty. */
  private rangeLoop(v: Var, from: WasmLocal, to: WasmLocal, body: () => void): void {
    const { f } = this;
    const i = this.bindVar(v);
    f.localGet(from).localSet(i);
    f.block((done) =>
      f.loop((next) => {
        f.localGet(i).localGet(to).i32GeS().brIf(done);
        body();
        f.localGet(i).i32Const(1).i32Add().localSet(i).br(next);
      }),
    );
  }

  /** `for v = n − 1 down to 0`, n ≥ 1 constant (a recurrence's reverse sweep). */
  private countdownLoop(v: Var, n: number, body: () => void): void {
    const { f } = this;
    const i = this.bindVar(v);
    f.i32Const(n - 1).localSet(i);
    f.loop((next) => {
      body();
      f.localGet(i).i32Const(1).i32Sub().localTee(i);
      f.i32Const(0).i32GeS().brIf(next);
    });
  }

  /** `for v = 0 .. n − 1`, n ≥ 1 (a constant, or the batch: checked positive before any call). */
  countedLoop(v: Var, n: number | WasmLocal, body: () => void, step = 1, from = 0): void {
    const { f } = this;
    const i = this.bindVar(v);
    f.i32Const(from).localSet(i);
    f.loop((next) => {
      body();
      f.localGet(i).i32Const(step).i32Add().localTee(i);
      if (typeof n === "number") f.i32Const(n);
      else f.localGet(n);
      f.i32LtS().brIf(next);
    });
  }

  /** An element loop, `lanes` elements per iteration, then the last few one at a time. */
  private vectorLoop(s: Extract<Stmt, { k: "loop" }>): void {
    const n = s.v.extent as number;
    // an f32 module's loop whose values f32 lanes compute exactly as f64 does then rounds: four lanes, not two
    const f32 = this.ctx.kernelNum;
    const exact = this.num.scalar === "f64" && f32.scalar === "f32" && n >= f32.lanes && s.body.every(computesExactlyInF32);
    if (!exact && this.num.scalar === "f64" && f32.scalar === "f32" && n >= f32.lanes && s.body.some((st) => boundedCalls(st).length > 0)) return this.pairedLoop(s);
    const lanesNum = exact ? f32 : this.num;
    const whole = n - (n % lanesNum.lanes);
    this.inLanes(lanesNum, () => this.countedLoop(s.v, whole, () => s.body.forEach((st) => this.vectorStore(st, s.v)), lanesNum.lanes));
    this.tail(s.v, whole, n, () => this.body(s.body));
  }

  /** Writes what `emit` writes with values computed in `lanes`. */
  private inLanes(lanes: Numeric, emit: () => void): void {
    const wide = this.num;
    this.num = lanes;
    try {
      emit();
    } finally {
      this.num = wide;
    }
  }

  /**
   * An f32 module's element loop computed in f64 lanes (two elements) whose values call bounded functions in f32: four
   * elements per iteration, statement by statement, each bounded call of the statement once in four f32 lanes (the
   * call the two-lane loop makes with half its lanes empty), then the statement's two halves in f64 lanes reading
   * the call's low and high lanes. The same values, element for element: only the calls are fewer. A statement f32
   * lanes compute as f64 lanes do then round (a bounded call alone, a product of two stored values) runs in four f32
   * lanes at once, as an exact loop's statements do: no conversions, one store.
   */
  private pairedLoop(s: Extract<Stmt, { k: "loop" }>): void {
    const n = s.v.extent as number;
    const f32 = this.ctx.kernelNum;
    const whole = n - (n % f32.lanes);
    this.countedLoop(s.v, whole, () => {
      const i = this.varLocal(s.v);
      for (const st of s.body) {
        if (st.k === "note") continue;
        if (computesExactlyInF32(st)) {
          this.inLanes(f32, () => this.vectorStore(st, s.v));
          continue;
        }
        if (st.k !== "store") throw new Error("internal: a vector loop holds only stores");
        const calls = boundedCalls(st).map((call) => ({ call, lanes: this.fourLanes(call, s.v) }));
        // both halves rounded to f32 and stored as one vector: two 8-byte stores read back as one 16-byte load (the
        // next statement's) cannot be forwarded to it, and stall it until they reach the cache
        const offset = this.address(st.buf, st.index);
        for (const half of [0, 1] as const) {
          if (half === 1) this.f.localGet(i).i32Const(2).i32Add().localSet(i);
          this.computed = new Map(calls.map((c) => [c.call, { lanes: c.lanes, half }]));
          this.storedVector(st, s.v);
          this.f.f32x4DemoteF64x2Zero();
        }
        this.computed = undefined;
        this.f.i8x16Shuffle(LOW_HALVES).v128Store({ offset, align: 4 });
        this.f.localGet(i).i32Const(2).i32Sub().localSet(i);
      }
    }, f32.lanes);
    this.tail(s.v, whole, n, () => this.body(s.body));
  }

  /** A bounded function of four consecutive elements in f32 lanes, into a new local. */
  private fourLanes(call: Extract<Expr, { k: "op" }>, v: Var): WasmLocal {
    this.inLanes(this.ctx.kernelNum, () => this.vector(call.args[0] as Expr, v));
    const lanes = this.f.local("v128", `${call.op}4`);
    this.callMath(call.op as MathFunction, "f32x4");
    this.f.localSet(lanes);
    return lanes;
  }

  /** The iterations from `from` to `n` one at a time, the variable holding each index. */
  private tail(v: Var, from: number, n: number, body: () => void): void {
    if (from >= n) return;
    const i = this.bindVar(v, `${v.name}_tail`);
    for (let k = from; k < n; k++) {
      this.f.i32Const(k).localSet(i);
      body();
    }
  }

  private vectorStore(s: Stmt, v: Var): void {
    if (s.k === "note") return;
    if (s.k !== "store") throw new Error("internal: a vector loop holds only stores");
    const offset = this.address(s.buf, s.index);
    this.storedVector(s, v);
    this.num.storeV(this.f, offset);
  }

  /** Pushes the vector a store writes at the loop's elements: its value, or the value combined with the old one. */
  private storedVector(s: Extract<Stmt, { k: "store" }>, v: Var): void {
    const { f, num } = this;
    if (s.mode !== "=") num.loadV(f, this.address(s.buf, s.index));
    this.vector(s.value, v);
    // pmax(m, v) is m < v ? v : m, the scalar `max=` lane by lane (a NaN never replaces the maximum)
    if (s.mode !== "=") num.v(f, s.mode === "+=" ? "add" : s.mode === "*=" ? "mul" : "pmax");
  }

  /** acc += Σ term, `lanes` terms at a time in a vector accumulator, then its lanes and the last terms. */
  private vectorSum(s: Extract<Stmt, { k: "loop" }>): void {
    const { f, num } = this;
    const update = s.body.find((b) => b.k === "update") as Extract<Stmt, { k: "update" }>;
    const n = s.v.extent as number;
    const whole = n - (n % num.lanes);
    const acc = this.f.local("v128", "vacc");
    num.constV(f, 0).localSet(acc);
    this.countedLoop(s.v, whole, () => {
      f.localGet(acc);
      this.vector(update.value, s.v);
      num.v(f, "add").localSet(acc);
    }, num.lanes);
    const w = this.local(update.local);
    f.localGet(w);
    this.horizontalSum(acc);
    num.s(f, "add").localSet(w);
    this.tail(s.v, whole, n, () => this.update(update.local, update.value, "+="));
  }

  /** Pushes the sum of the lanes of `v`. */
  horizontalSum(v: WasmLocal): void {
    const { f, num } = this;
    f.localGet(v);
    num.extract(f, 0);
    for (let lane = 1; lane < num.lanes; lane++) {
      f.localGet(v);
      num.extract(f, lane);
      num.s(f, "add");
    }
  }

  // ---- expressions ---------------------------------------------------------------------------------

  /** Pushes the scalar value of `e`. */
  scalar(e: Expr): void {
    const { f, num } = this;
    switch (e.k) {
      case "num":
        num.constS(f, e.value);
        return;
      case "get":
        f.localGet(this.local(e.local));
        return;
      case "arg":
        f.localGet(this.batchNumber());
        return;
      case "load":
        if (e.buf.role === "counter") {
          this.indexValue(e.index);
          f.f64ConvertI32S();
          num.fromF64(f);
          return;
        }
        num.load(f, this.address(e.buf, e.index));
        return;
      case "op":
        SCALAR_OPS[e.op](this, e.args);
        return;
      case "sum":
        throw new Error("internal: a sum reached the renderer (the unroll pass expands every sum)");
    }
  }

  /** Pushes c + Σ k·v as an i32: the element number a counter's load stands for. */
  indexValue(index: Index): void {
    const { f } = this;
    f.i32Const(index.c);
    for (const t of index.terms) {
      f.localGet(this.varLocal(t.v));
      if (t.k !== 1) f.i32Const(t.k).i32Mul();
      f.i32Add();
    }
  }

  /** Pushes the value of `e` for `lanes` consecutive values of `v` (invariant parts in every lane). */
  vector(e: Expr, v: Var): void {
    const { f, num } = this;
    switch (e.k) {
      case "num":
        num.constV(f, e.value);
        return;
      case "get":
        f.localGet(this.local(e.local));
        num.splat(f);
        return;
      case "arg":
        f.localGet(this.batchNumber());
        num.splat(f);
        return;
      case "load":
        if (coefficient(e.index, v) === 0) num.loadSplat(f, this.address(e.buf, e.index));
        else num.loadV(f, this.address(e.buf, e.index));
        return;
      case "op": {
        const computed = this.computed?.get(e);
        if (computed) {
          // two of the four f32 lanes a paired loop computed, as f64
          f.localGet(computed.lanes);
          if (computed.half === 1) f.localGet(computed.lanes).i8x16Shuffle(HIGH_HALF);
          f.f64x2PromoteLowF32x4();
          return;
        }
        const op = VECTOR_OPS[e.op];
        if (!op) throw new Error(`internal: ${e.op} has no vector form (its loops run one element at a time)`);
        op(this, e.args, v);
        return;
      }
      case "sum":
        throw new Error("internal: a sum reached the renderer");
    }
  }

  /** Pushes an i32 that is nonzero where the condition `c` holds (a comparison, or c ≠ 0). */
  condition(c: Expr): void {
    const { f, num } = this;
    if (c.k === "op" && c.op in COMPARE) {
      this.scalar(c.args[0]);
      this.scalar(c.args[1]);
      num.s(f, COMPARE[c.op] as string);
      return;
    }
    this.scalar(c);
    num.constS(f, 0);
    num.s(f, "ne");
  }

  /** Pushes a lane mask (all ones where the condition holds). */
  mask(c: Expr, v: Var): void {
    const { f, num } = this;
    if (c.k === "op" && c.op in COMPARE) {
      this.vector(c.args[0], v);
      this.vector(c.args[1], v);
      num.v(f, COMPARE[c.op] as string);
      return;
    }
    this.vector(c, v);
    num.constV(f, 0);
    num.v(f, "ne");
  }

  /**
   * Applies `fn` in `shape` to the value on the stack. A recurrence's steps have it inline: there the gates' few
   * calls per element are much of the step's time, and a call costs more than its instructions (V8 keeps no vector
   * register across a call, so the step's live values are stored and loaded around it, and the function's constants
   * are built again at each call). Elsewhere a call keeps the module small.
   */
  callMath(fn: MathFunction, shape: MathShape): void {
    if (this.timeLoops > 0) emitMathInline(this.f, fn, shape);
    else this.f.call(useMath(this.ctx.mod, fn, shape));
  }
}

// ---- one line per elementwise op -----------------------------------------------------------------------

/** The comparisons, as the instructions they are. */
const COMPARE: Partial<Record<ElementwiseOp, string>> = { gt: "gt", ge: "ge", eq: "eq", ne: "ne" };

type ScalarOp = (e: FunctionEmitter, args: readonly Expr[]) => void;
type VectorOp = (e: FunctionEmitter, args: readonly Expr[], v: Var) => void;

const sInstr = (name: string): ScalarOp => (e, args) => {
  args.forEach((a) => e.scalar(a));
  e.num.s(e.f, name);
};
const vInstr = (name: string): VectorOp => (e, args, v) => {
  args.forEach((a) => e.vector(a, v));
  e.num.v(e.f, name);
};
/**
 * Bounded functions of an f32 module run in f32 (their result is as good as the f64 result rounded, to
 * 2 ulp, and about twice as fast); the others in f64, where an f32 intermediate could overflow.
 */
const BOUNDED: ReadonlySet<MathFunction> = new Set(["tanh", "sigmoid", "erf"]);
const inF32 = (e: FunctionEmitter, fn: MathFunction) => e.ctx.kernelNum.storage === "f32" && e.num.scalar === "f64" && BOUNDED.has(fn);
const sMath = (fn: MathFunction): ScalarOp => (e, [a]) => {
  e.scalar(a);
  if (inF32(e, fn)) {
    e.f.f32DemoteF64();
    e.callMath(fn, "f32");
    e.f.f64PromoteF32();
    return;
  }
  e.callMath(fn, e.num.scalar);
};
const vMath = (fn: MathFunction): VectorOp => (e, [a], v) => {
  e.vector(a, v);
  if (inF32(e, fn)) {
    e.f.f32x4DemoteF64x2Zero();
    e.callMath(fn, "f32x4");
    e.f.f64x2PromoteLowF32x4();
    return;
  }
  e.callMath(fn, e.num.vector);
};

/** An op computed by the host (in f64), one element at a time. */
const sHost = (name: HostFunction): ScalarOp => (e, args) => {
  for (const a of args) {
    e.scalar(a);
    e.num.toF64(e.f);
  }
  e.f.call(e.ctx.host(name));
  e.num.fromF64(e.f);
};
/** a − b·floor(a/b), with each operand computed once. */
function modScalar(e: FunctionEmitter, [a, b]: readonly Expr[]): void {
  const t = e.num.scalar;
  e.withTemp(t, (x) =>
    e.withTemp(t, (y) => {
      e.scalar(a);
      e.f.localSet(x);
      e.scalar(b);
      e.f.localSet(y);
      e.f.localGet(x).localGet(y).localGet(x).localGet(y);
      e.num.s(e.f, "div");
      e.num.s(e.f, "floor");
      e.num.s(e.f, "mul");
      e.num.s(e.f, "sub");
    }),
  );
}

function modVector(e: FunctionEmitter, [a, b]: readonly Expr[], v: Var): void {
  e.withTemp("v128", (x) =>
    e.withTemp("v128", (y) => {
      e.vector(a, v);
      e.f.localSet(x);
      e.vector(b, v);
      e.f.localSet(y);
      e.f.localGet(x).localGet(y).localGet(x).localGet(y);
      e.num.v(e.f, "div");
      e.num.v(e.f, "floor");
      e.num.v(e.f, "mul");
      e.num.v(e.f, "sub");
    }),
  );
}

const sCompare = (name: string): ScalarOp => (e, args) => {
  e.condition({ k: "op", op: name as ElementwiseOp, args });
  e.num.fromBool(e.f);
};
const vCompare = (name: string): VectorOp => (e, args, v) => {
  e.mask({ k: "op", op: name as ElementwiseOp, args }, v);
  e.num.constV(e.f, 1);
  e.f.v128And();
};

/** A small integer power as products; undefined when the exponent is anything else. */
function integerPower(args: readonly Expr[]): number | undefined {
  const b = args[1];
  return b.k === "num" && Number.isInteger(b.value) && b.value >= 2 && b.value <= 4 ? b.value : undefined;
}

/** One round of templates/rng.ts rngRound on the i32 in `h`: h ← mix(h ^ word), word pushed by `word`. */
function rngRound(e: FunctionEmitter, h: WasmLocal, word: () => void): void {
  const { f } = e;
  f.localGet(h);
  word();
  f.i32Xor().i32Const(0x85ebca6b).i32Mul().localTee(h);
  f.localGet(h).i32Const(13).i32ShrU().i32Xor().i32Const(0xc2b2ae35).i32Mul().localTee(h);
  f.localGet(h).i32Const(16).i32ShrU().i32Xor().localSet(h);
}

/** templates/rng.ts uniform24 in i32 arithmetic: the same bits as the TypeScript kernels. */
const uniformScalar: ScalarOp = (e, args) =>
  e.withTemp("i32", (h) => {
    const { f } = e;
    f.i32Const(0x9e3779b9).localSet(h);
    for (const a of args) {
      rngRound(e, h, () => {
        e.scalar(a);
        e.num.toF64(f);
        f.i32TruncSatF64S();
      });
    }
    f.localGet(h).i32Const(8).i32ShrU().f64ConvertI32U().f64Const(1 / 16777216).f64Mul();
    e.num.fromF64(f);
  });

export const SCALAR_OPS: Record<ElementwiseOp, ScalarOp> = {
  neg: sInstr("neg"),
  exp: sMath("exp"),
  log: sMath("log"),
  sqrt: sInstr("sqrt"),
  abs: sInstr("abs"),
  // Math.sign: ±1, or the argument itself for ±0 and NaN
  sign: (e, [a]) =>
    e.withTemp(e.num.scalar, (t) => {
      e.scalar(a);
      e.f.localSet(t);
      e.num.constS(e.f, 1);
      e.f.localGet(t);
      e.num.s(e.f, "copysign");
      e.f.localGet(t).localGet(t);
      e.num.s(e.f, "abs");
      e.num.constS(e.f, 0);
      e.num.s(e.f, "gt");
      e.f.select();
    }),
  tanh: sMath("tanh"),
  sigmoid: sMath("sigmoid"),
  softplus: sMath("softplus"),
  expm1: sMath("expm1"),
  log1p: sMath("log1p"),
  log2: sHost("log2"),
  log10: sHost("log10"),
  cbrt: sHost("cbrt"),
  sin: sMath("sin"),
  cos: sMath("cos"),
  tan: sHost("tan"),
  asin: sHost("asin"),
  acos: sHost("acos"),
  atan: sHost("atan"),
  sinh: sHost("sinh"),
  cosh: sHost("cosh"),
  asinh: sHost("asinh"),
  acosh: sHost("acosh"),
  atanh: sHost("atanh"),
  erf: sMath("erf"),
  erfc: sHost("erfc"),
  floor: sInstr("floor"),
  ceil: sInstr("ceil"),
  round: sHost("round"),
  add: sInstr("add"),
  sub: sInstr("sub"),
  mul: sInstr("mul"),
  div: sInstr("div"),
  pow: (e, args) => {
    const k = integerPower(args);
    if (k !== undefined) {
      e.withTemp(e.num.scalar, (t) => {
        e.scalar(args[0]);
        e.f.localTee(t);
        for (let i = 1; i < k; i++) {
          e.f.localGet(t);
          e.num.s(e.f, "mul");
        }
      });
      return;
    }
    // any other power: the host's Math.pow, in f64
    e.scalar(args[0]);
    e.num.toF64(e.f);
    e.scalar(args[1]);
    e.num.toF64(e.f);
    e.f.call(e.ctx.host("pow"));
    e.num.fromF64(e.f);
  },
  atan2: sHost("atan2"),
  uniform: uniformScalar,
  mod: modScalar,
  max: sInstr("max"),
  min: sInstr("min"),
  gt: sCompare("gt"),
  ge: sCompare("ge"),
  eq: sCompare("eq"),
  ne: sCompare("ne"),
  select: (e, [c, a, b]) => {
    e.scalar(a);
    e.scalar(b);
    e.condition(c);
    e.f.select();
  },
};

/**
 * Each op's form in lanes. An op missing here (a host function, whose vector loop would need a call per lane)
 * keeps its loops one element at a time.
 */
export const VECTOR_OPS: Partial<Record<ElementwiseOp, VectorOp>> = {
  neg: vInstr("neg"),
  exp: vMath("exp"),
  log: vMath("log"),
  sqrt: vInstr("sqrt"),
  abs: vInstr("abs"),
  sign: (e, [a], v) =>
    e.withTemp("v128", (t) => {
      e.vector(a, v);
      e.f.localSet(t);
      // copysign(1, x) is the sign bit of x with the bits of 1 (−0 has only the sign bit)
      e.f.localGet(t);
      e.num.constV(e.f, -0);
      e.f.v128And();
      e.num.constV(e.f, 1);
      e.f.v128Or();
      e.f.localGet(t).localGet(t);
      e.num.v(e.f, "abs");
      e.num.constV(e.f, 0);
      e.num.v(e.f, "gt");
      e.f.v128Bitselect();
    }),
  tanh: vMath("tanh"),
  sigmoid: vMath("sigmoid"),
  softplus: vMath("softplus"),
  expm1: vMath("expm1"),
  log1p: vMath("log1p"),
  sin: vMath("sin"),
  cos: vMath("cos"),
  erf: vMath("erf"),
  floor: vInstr("floor"),
  ceil: vInstr("ceil"),
  add: vInstr("add"),
  sub: vInstr("sub"),
  mul: vInstr("mul"),
  div: vInstr("div"),
  pow: (e, args, v) => {
    const k = integerPower(args);
    if (k === undefined) throw new Error("internal: a power that is not a small integer is not vectorized");
    e.withTemp("v128", (t) => {
      e.vector(args[0], v);
      e.f.localTee(t);
      for (let i = 1; i < k; i++) {
        e.f.localGet(t);
        e.num.v(e.f, "mul");
      }
    });
  },
  mod: modVector,
  max: vInstr("max"),
  min: vInstr("min"),
  gt: vCompare("gt"),
  ge: vCompare("ge"),
  eq: vCompare("eq"),
  ne: vCompare("ne"),
  select: (e, [c, a, b], v) => {
    e.vector(a, v);
    e.vector(b, v);
    e.mask(c, v);
    e.f.v128Bitselect();
  },
};

// ---- which loops run in lanes --------------------------------------------------------------------------

/** Every address moves by one element (or not at all) per iteration, and every op has a vector form. */
function laneable(e: Expr, v: Var): boolean {
  let ok = true;
  visitExpr(e, (x) => {
    if (x.k === "load") ok &&= x.buf.role !== "counter" && [0, 1].includes(coefficient(x.index, v));
    if (x.k === "op" && x.op === "pow") ok &&= integerPower(x.args) !== undefined;
    if (x.k === "op" && VECTOR_OPS[x.op] === undefined) ok = false;
    if (x.k === "sum") ok = false;
  });
  return ok;
}

/** Ops whose result is exactly representable wherever their operands are (no rounding): the same in f32 and f64. */
const EXACT_OPS: ReadonlySet<ElementwiseOp> = new Set(["neg", "abs", "sign", "max", "min", "floor", "ceil", "gt", "ge", "eq", "ne", "select"]);
/** Ops that round once: of f32 operands, computed in f32 or in f64 then rounded to f32, the same (53 ≥ 2·24 + 2 bits). */
const ROUNDED_ONCE: ReadonlySet<ElementwiseOp> = new Set(["add", "sub", "mul", "div", "sqrt"]);
/** Exact ops that rounding to f32 commutes with (monotone, or odd): of operands rounded once, the same either way. */
const COMMUTE_WITH_ROUNDING: ReadonlySet<ElementwiseOp> = new Set(["neg", "abs", "max", "min"]);

/**
 * Whether `e` computed in f32 lanes is exactly `e` computed in f64 (no rounding at all): f32 values (loads,
 * constants f32 holds exactly, and the bounded functions an f32 module computes in f32 anyway, of an argument
 * rounded at most once) under exact ops.
 */
function exactInF32(e: Expr): boolean {
  switch (e.k) {
    case "num":
      return Math.fround(e.value) === e.value;
    case "load":
      return true;
    case "op":
      if (EXACT_OPS.has(e.op)) return e.args.every(exactInF32);
      // f64 lanes round the argument to f32 for the f32 function
      if (BOUNDED.has(e.op as MathFunction)) return roundsLikeF64(e.args[0]);
      return false;
    default:
      return false;
  }
}

/**
 * Whether `e` computed in f32 lanes is `e` computed in f64 and rounded to f32 once: exact, or one rounding op of
 * exact operands, under ops that commute with the rounding (a relu of a sum: max(0, a + b)).
 */
function roundsLikeF64(e: Expr): boolean {
  if (exactInF32(e)) return true;
  if (e.k !== "op") return false;
  if (ROUNDED_ONCE.has(e.op)) return e.args.every(exactInF32);
  if (COMMUTE_WITH_ROUNDING.has(e.op)) return e.args.every(roundsLikeF64);
  // a selection's condition decides exactly, its branches round alike
  if (e.op === "select") return exactInF32(e.args[0]) && roundsLikeF64(e.args[1]) && roundsLikeF64(e.args[2]);
  return false;
}

/** The bytes of an f32x4's lanes 2 and 3 moved to lanes 0 and 1 (i8x16.shuffle), for f64x2.promote_low. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** The low two f32 lanes of two vectors side by side (i8x16.shuffle): the halves a paired loop computed, as one. */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * The calls of bounded functions in a store's value whose argument f32 lanes compute as f64 lanes do then round (the
 * argument an f32 module's bounded function takes): outermost ones only, each computed whole in four lanes.
 */
function boundedCalls(s: Stmt): Extract<Expr, { k: "op" }>[] {
  if (s.k !== "store") return [];
  const found: Extract<Expr, { k: "op" }>[] = [];
  const walk = (e: Expr) => {
    if (e.k !== "op") return;
    if (BOUNDED.has(e.op as MathFunction) && roundsLikeF64(e.args[0] as Expr)) found.push(e);
    else e.args.forEach(walk);
  };
  walk(s.value);
  return found;
}

/** A statement of an f32 vector loop: a store whose value f32 lanes compute as f64 lanes do (`+=`, `*=` round once more, on top). */
function computesExactlyInF32(s: Stmt): boolean {
  if (s.k === "note") return true;
  return s.k === "store" && (s.mode === "=" || s.mode === "max=" ? roundsLikeF64(s.value) : exactInF32(s.value));
}

/** An element loop of at least four elements that runs in SIMD lanes (never written out by the unroll pass). */
export function runsInLanes(s: Extract<Stmt, { k: "loop" }>): boolean {
  return s.v.extent !== "batch" && (s.kind === "elements" || (s.kind === "structure" && readsNoStoredBuffer(s))) && vectorizable(s, 4);
}

/**
 * A structure loop (a view's adjoint adding each element where it was read, overlapping windows included) runs in
 * lanes when no statement reads a buffer the loop stores into, and the stores into one buffer cover disjoint
 * ranges over the loop: then no lane reads what another writes, and every element sees its updates in the order
 * the loop one element at a time gives them.
 */
function readsNoStoredBuffer(s: Extract<Stmt, { k: "loop" }>): boolean {
  const stores = s.body.flatMap((b) => (b.k === "store" ? [b] : []));
  const stored = new Set(stores.map((b) => b.buf));
  let ok = true;
  for (const b of s.body) for (const e of ownExprs(b)) visitExpr(e, (x) => (ok &&= !(x.k === "load" && stored.has(x.buf))));
  const extent = s.v.extent as number;
  const disjoint = (a: Extract<Stmt, { k: "store" }>, b: Extract<Stmt, { k: "store" }>) =>
    a.buf !== b.buf || (sameIndex({ ...a.index, c: 0 }, { ...b.index, c: 0 }) && Math.abs(a.index.c - b.index.c) >= extent);
  return ok && stores.every((a, i) => stores.slice(i + 1).every((b) => disjoint(a, b)));
}

/** An element loop of plain stores, long enough for one vector. */
function vectorizable(s: Extract<Stmt, { k: "loop" }>, lanes: number): boolean {
  if ((s.v.extent as number) < lanes) return false;
  return s.body.every(
    (b) => b.k === "note" || (b.k === "store" && coefficient(b.index, s.v) === 1 && laneable(b.value, s.v)),
  );
}

/** `acc += term(v)` over at least two vectors' worth of terms. */
function isAccumulation(s: Extract<Stmt, { k: "loop" }>, lanes: number): boolean {
  const work = s.body.filter((b) => b.k !== "note");
  const [u] = work;
  return work.length === 1 && u.k === "update" && u.mode === "+=" && (s.v.extent as number) >= 2 * lanes && laneable(u.value, s.v);
}
