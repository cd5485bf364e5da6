/**
 * A third back end that runs kernel IR directly on typed arrays, for tests: the passes, the plan and the
 * lowering can be checked by running a function before and after a change, without printing, formatting or
 * loading a module. Never part of a generated module.
 *
 * Semantics are the TypeScript kernels' (render/ts): loop variables, locals and arithmetic are JavaScript
 * numbers (f64); a value is rounded only where it is stored into an array of the module's precision (a
 * Float32Array rounds every store, the workspace's included, as the module's workspace arrays do). Each
 * elementwise op computes what its TypeScript line computes (scalars.ts). A contraction computes its math
 * (Σ from 0 over the reduction variable in order, then `scale ·`), which is what the library kernels of
 * templates/dense.ts compute for every element whatever their tile; the tile is a rendering decision and is
 * ignored.
 *
 * A function is compiled once into a tree of closures (no IR walk per element, no generated source), with
 * every loop variable, local and buffer given a slot; a call binds the slots to arrays and runs the tree.
 * Compiling also checks what a renderer relies on: every loop variable is used inside its loop, every local
 * is declared (in an enclosing block, before it is read) and a constant one is never updated; every address
 * is checked against its array at run time.
 */
import type { ElementwiseOp } from "../../ir/node.ts";
import type { Buffer, BufferRole, Contraction, Expr, Index, KernelFunction, Local, Stmt, UpdateMode, Var } from "../../lower/kernel.ts";
import type { FloatArray } from "../../module-api.ts";
import type { Precision } from "../backend.ts";
import { squareAsProduct } from "../ts/expressions.ts";
import { SCALARS } from "./scalars.ts";

export type { FloatArray, Precision };

/** The caller's arrays, by role (those a function does not touch may be left out). */
export type CallerArrays = Partial<Record<Exclude<BufferRole, "work" | "counter">, FloatArray>>;

export interface InterpretOptions {
  readonly batch: number;
  readonly precision: Precision;
  /** The learning rate `arg("lr")` reads. */
  readonly lr?: number;
  /** Where workspace buffers live; by default a fresh workspace of one array per buffer for this call. */
  readonly workspace?: Workspace;
}

/** An array and where element `e` of a buffer is in it (`map` null: at `e`). */
export interface Binding {
  readonly array: FloatArray;
  readonly map: ((e: number) => number) | null;
}

/** The memory of the workspace buffers. */
export interface Workspace {
  /** Makes room for `batch` samples (before a call, as the module's reserveBatch). */
  reserve(batch: number): void;
  bind(b: Buffer): Binding;
}

export const arrayType = (precision: Precision) => (precision === "f64" ? Float64Array : Float32Array);

/**
 * One array per workspace buffer, as the TypeScript module allocates them: a buffer of one value per call
 * once, a per-sample buffer `batch × size` elements, made anew (zeroed) when a larger batch arrives. Kept
 * from call to call, as the module's are.
 */
export class ArrayWorkspace implements Workspace {
  private readonly arrays = new Map<Buffer, FloatArray>();
  private capacity = 0;

  constructor(private readonly precision: Precision) {}

  reserve(batch: number): void {
    if (batch <= this.capacity) return;
    this.capacity = batch;
    for (const b of [...this.arrays.keys()]) if (b.perSample) this.arrays.delete(b);
  }

  bind(b: Buffer): Binding {
    let array = this.arrays.get(b);
    if (!array) {
      array = new (arrayType(this.precision))(b.perSample ? this.capacity * b.size : b.size);
      this.arrays.set(b, array);
    }
    return { array, map: null };
  }
}

// ---- compiled form ----------------------------------------------------------------------------------

/** What a compiled function runs on: slots for loop variables, locals and buffers. */
interface State {
  readonly vars: Float64Array;
  readonly locals: Float64Array;
  readonly arrays: FloatArray[];
  readonly maps: (((e: number) => number) | null)[];
  readonly batch: number;
  readonly lr: number;
  result: number | undefined;
}

type Eval = (st: State) => number;
/** Runs a statement; true when it returned (the rest of the function is skipped). */
type Exec = (st: State) => boolean;

interface Compiled {
  readonly run: Exec;
  readonly vars: number;
  readonly locals: number;
  readonly buffers: readonly Buffer[];
}

const compiledFunctions = new WeakMap<KernelFunction, Compiled>();

/** Runs `fn` on the caller's arrays; returns what its `return` statement returns (undefined without one). */
export function interpret(fn: KernelFunction, arrays: CallerArrays, options: InterpretOptions): number | undefined {
  let compiled = compiledFunctions.get(fn);
  if (!compiled) {
    compiled = new FunctionCompiler(fn.name).compile(fn.body);
    compiledFunctions.set(fn, compiled);
  }
  const { batch, precision } = options;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`interpret ${fn.name}: batch must be a positive integer, got ${batch}`);
  const workspace = options.workspace ?? new ArrayWorkspace(precision);
  workspace.reserve(batch);
  const bindings = compiled.buffers.map((b): Binding => {
    if (b.role === "work") return workspace.bind(b);
    if (b.role === "counter") throw new Error(`internal: a counter is never bound`);
    const array = arrays[b.role];
    if (!array) throw new Error(`interpret ${fn.name}: no ${b.role} array given`);
    if (!(array instanceof arrayType(precision))) throw new Error(`interpret ${fn.name}: ${b.role} is not a ${arrayType(precision).name}`);
    return { array, map: null };
  });
  const st: State = {
    vars: new Float64Array(compiled.vars),
    locals: new Float64Array(compiled.locals),
    arrays: bindings.map((b) => b.array),
    maps: bindings.map((b) => b.map),
    batch,
    lr: options.lr ?? Number.NaN,
    result: undefined,
  };
  compiled.run(st);
  return st.result;
}

/** Declared locals of one block, and whether each may be updated. */
type Declared = Map<Local, { mutable: boolean }>;

class FunctionCompiler {
  private readonly varSlots = new Map<Var, number>();
  private readonly localSlots = new Map<Local, number>();
  private readonly bufferSlots = new Map<Buffer | BufferRole, number>();
  private readonly buffers: Buffer[] = [];
  /** Loop variables bound where the code being compiled runs. */
  private readonly bound = new Set<Var>();
  /** The blocks enclosing the code being compiled, innermost last. */
  private readonly scopes: Declared[] = [];

  constructor(private readonly fnName: string) {}

  compile(body: readonly Stmt[]): Compiled {
    const run = this.block(body);
    return { run, vars: this.varSlots.size, locals: this.localSlots.size, buffers: this.buffers };
  }

  private fail(message: string): never {
    throw new Error(`interpret ${this.fnName}: ${message}`);
  }

  // ---- slots ----

  private varSlot(v: Var): number {
    if (!this.bound.has(v)) this.fail(`loop variable ${v.name} used outside its loop`);
    return this.slotOf(this.varSlots, v);
  }

  private slotOf<K>(slots: Map<K, number>, key: K): number {
    let slot = slots.get(key);
    if (slot === undefined) {
      slot = slots.size;
      slots.set(key, slot);
    }
    return slot;
  }

  /** The caller's arrays by role (every Buffer object of a role is the same array), workspace buffers by identity. */
  private bufferSlot(b: Buffer): number {
    const key = b.role === "work" ? b : b.role;
    let slot = this.bufferSlots.get(key);
    if (slot === undefined) {
      slot = this.buffers.length;
      this.buffers.push(b);
      this.bufferSlots.set(key, slot);
    }
    return slot;
  }

  private declaration(l: Local): { mutable: boolean } | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const d = this.scopes[i].get(l);
      if (d) return d;
    }
    return undefined;
  }

  private readSlot(l: Local): number {
    if (!this.declaration(l)) this.fail(`local ${l.hint} read before it is declared`);
    return this.slotOf(this.localSlots, l);
  }

  // ---- statements ----

  /** `body` as one statement; `scoped`: its locals end with it (a loop's, a branch's; not a `single` block's). */
  private block(body: readonly Stmt[], scoped = true): Exec {
    if (scoped) this.scopes.push(new Map());
    const execs = body.filter((s) => s.k !== "note").map((s) => this.stmt(s));
    if (scoped) this.scopes.pop();
    if (execs.length === 1) return execs[0];
    return (st) => {
      for (let i = 0; i < execs.length; i++) if (execs[i](st)) return true;
      return false;
    };
  }

  private loopVar<T>(v: Var, inside: () => T): T {
    if (this.bound.has(v)) this.fail(`loop variable ${v.name} bound twice`);
    this.bound.add(v);
    const result = inside();
    this.bound.delete(v);
    return result;
  }

  private stmt(s: Stmt): Exec {
    switch (s.k) {
      case "loop":
        return this.loop(s.v, s.body, s.reverse ?? false);
      case "store":
        return this.store(s.buf, s.index, s.value, s.mode);
      case "let": {
        const scope = this.scopes[this.scopes.length - 1];
        if (scope.has(s.local)) this.fail(`local ${s.local.hint} declared twice in one block`);
        const value = this.expr(s.value);
        scope.set(s.local, { mutable: s.mutable });
        const slot = this.slotOf(this.localSlots, s.local);
        return (st) => ((st.locals[slot] = value(st)), false);
      }
      case "update": {
        const declared = this.declaration(s.local);
        if (!declared) this.fail(`local ${s.local.hint} updated before it is declared`);
        if (!declared.mutable) this.fail(`constant local ${s.local.hint} updated`);
        return this.update(this.readSlot(s.local), this.expr(s.value), s.mode);
      }
      case "fill":
        return this.fill(s);
      case "contract":
        return this.contract(s.c);
      case "ifBatch": {
        const body = this.block(s.body);
        return (st) => st.batch > 1 && body(st);
      }
      case "return": {
        const value = this.expr(s.value);
        return (st) => ((st.result = value(st)), true);
      }
      case "note":
      case "barrier":
        return () => false;
      case "single":
        // one thread: every share of the work is this thread's; its locals are the function's, as in WebAssembly
        return this.block(s.body, false);
    }
  }

  private loop(v: Var, body: readonly Stmt[], reverse: boolean): Exec {
    return this.loopVar(v, () => {
      const slot = this.varSlot(v);
      const run = this.block(body);
      const extent = v.extent;
      return (st) => {
        const n = extent === "batch" ? st.batch : extent;
        for (let k = 0; k < n; k++) {
          st.vars[slot] = reverse ? n - 1 - k : k;
          if (run(st)) return true;
        }
        return false;
      };
    });
  }

  private store(buf: Buffer, index: Index, valueExpr: Expr, mode: UpdateMode): Exec {
    const at = this.address(buf, index);
    const value = this.expr(valueExpr);
    const slot = this.bufferSlot(buf);
    // as the renderer writes them: `a[i] = v`, `a[i] += v`, `a[i] *= v`, `if (v > a[i]) a[i] = v`
    switch (mode) {
      case "=":
        return (st) => {
          const e = at(st);
          st.arrays[slot][e] = value(st);
          return false;
        };
      case "+=":
        return (st) => {
          const e = at(st);
          st.arrays[slot][e] += value(st);
          return false;
        };
      case "*=":
        return (st) => {
          const e = at(st);
          st.arrays[slot][e] *= value(st);
          return false;
        };
      case "max=":
        return (st) => {
          const e = at(st);
          const v = value(st);
          if (v > st.arrays[slot][e]) st.arrays[slot][e] = v;
          return false;
        };
    }
  }

  private update(slot: number, value: Eval, mode: UpdateMode): Exec {
    switch (mode) {
      case "=":
        return (st) => ((st.locals[slot] = value(st)), false);
      case "+=":
        return (st) => ((st.locals[slot] += value(st)), false);
      case "*=":
        return (st) => ((st.locals[slot] *= value(st)), false);
      case "max=":
        return (st) => {
          const v = value(st);
          if (v > st.locals[slot]) st.locals[slot] = v;
          return false;
        };
    }
  }

  /**
   * `count` elements from the index. A whole workspace buffer is filled whole, every row of a per-sample one
   * included (the renderer's `buf.fill(v)`). The index is evaluated with its loop variables, although the
   * renderer prints only its constant (`fill(v, c, c + count)`): the lowering makes fills outside loops only.
   */
  private fill(s: Extract<Stmt, { k: "fill" }>): Exec {
    const slot = this.bufferSlot(s.buf);
    const whole = s.index.c === 0 && s.index.terms.length === 0 && s.count === s.buf.size && s.buf.role === "work";
    const { value, count, buf } = s;
    if (whole) {
      return (st) => {
        const map = st.maps[slot];
        const array = st.arrays[slot];
        if (map === null) array.fill(value);
        else for (let e = 0, n = buf.perSample ? st.batch * buf.size : buf.size; e < n; e++) array[map(e)] = value;
        return false;
      };
    }
    const from = this.index(s.index);
    return (st) => {
      const start = from(st);
      for (let e = start; e < start + count; e++) st.arrays[slot][this.checked(st, slot, e)] = value;
      return false;
    };
  }

  /**
   * out (=|+=) scale · Σ_reduce a · b for every value of the output variables: the sum from 0 in the order
   * of the reduction variable, then scaled, as the library kernels compute each element.
   */
  private contract(c: Contraction): Exec {
    const [o0, o1] = c.outVars;
    return this.loopVar(o0, () =>
      this.loopVar(o1, () => {
        const out = this.address(c.out.buf, c.out.index);
        const outSlot = this.bufferSlot(c.out.buf);
        const scale = c.scale ? this.expr(c.scale) : null;
        const [s0, s1] = [this.varSlot(o0), this.varSlot(o1)];
        const { sr, a, b } = this.loopVar(c.reduce, () => ({ sr: this.varSlot(c.reduce), a: this.expr({ k: "load", ...c.a }), b: this.expr({ k: "load", ...c.b }) }));
        const extent = (v: Var, st: State) => (v.extent === "batch" ? st.batch : v.extent);
        const add = c.mode === "+=";
        return (st) => {
          const n0 = extent(o0, st);
          const n1 = extent(o1, st);
          const nr = extent(c.reduce, st) * (c.steps ?? 1);
          const factor = scale ? scale(st) : 1;
          for (let i0 = 0; i0 < n0; i0++) {
            st.vars[s0] = i0;
            for (let i1 = 0; i1 < n1; i1++) {
              st.vars[s1] = i1;
              let acc = 0;
              for (let r = 0; r < nr; r++) {
                st.vars[sr] = r;
                acc += a(st) * b(st);
              }
              const value = scale ? factor * acc : acc;
              const e = out(st);
              if (add) st.arrays[outSlot][e] += value;
              else st.arrays[outSlot][e] = value;
            }
          }
          return false;
        };
      }),
    );
  }

  // ---- addresses and expressions ----

  private index(index: Index): Eval {
    const { c } = index;
    const terms = index.terms.map((t) => ({ slot: this.varSlot(t.v), k: t.k }));
    if (terms.length === 0) return () => c;
    if (terms.length === 1) {
      const [{ slot, k }] = terms;
      return (st) => c + k * st.vars[slot];
    }
    if (terms.length === 2) {
      const [t0, t1] = terms;
      return (st) => c + t0.k * st.vars[t0.slot] + t1.k * st.vars[t1.slot];
    }
    return (st) => {
      let e = c;
      for (const t of terms) e += t.k * st.vars[t.slot];
      return e;
    };
  }

  /** The position in its array of element `index` of `buf`, checked to be inside the array. */
  private address(buf: Buffer, index: Index): Eval {
    const slot = this.bufferSlot(buf);
    const element = this.index(index);
    return (st) => this.checked(st, slot, element(st));
  }

  private checked(st: State, slot: number, e: number): number {
    const map = st.maps[slot];
    const at = map === null ? e : map(e);
    if (!(at >= 0 && at < st.arrays[slot].length)) this.fail(`${this.buffers[slot].role} element ${e} is outside its array (${st.arrays[slot].length})`);
    return at;
  }

  private expr(e: Expr): Eval {
    switch (e.k) {
      case "num": {
        const { value } = e;
        return () => value;
      }
      case "get": {
        const slot = this.readSlot(e.local);
        return (st) => st.locals[slot];
      }
      case "load": {
        // a counter's element is its own position (kernel.ts BufferRole)
        if (e.buf.role === "counter") return this.index(e.index);
        const at = this.address(e.buf, e.index);
        const slot = this.bufferSlot(e.buf);
        return (st) => st.arrays[slot][at(st)];
      }
      case "arg":
        return e.name === "batch" ? (st) => st.batch : (st) => st.lr;
      case "sum":
        return this.sum(e.v, e.term);
      case "op":
        return this.op(e.op, e.args);
    }
  }

  /**
   * Σ term over v: the terms added in order, the first not added to 0 (t0 + t1 + …, as the unroll pass writes
   * a short sum out; its accumulator loop for a long one, 0 + t0 + …, differs only in the sign of a zero).
   */
  private sum(v: Var, termExpr: Expr): Eval {
    return this.loopVar(v, () => {
      const slot = this.varSlot(v);
      const term = this.expr(termExpr);
      return (st) => {
        const n = v.extent === "batch" ? st.batch : v.extent;
        if (n === 0) return 0;
        st.vars[slot] = 0;
        let acc = term(st);
        for (let i = 1; i < n; i++) {
          st.vars[slot] = i;
          acc += term(st);
        }
        return acc;
      };
    });
  }

  private op(name: ElementwiseOp, argExprs: readonly Expr[]): Eval {
    const args = argExprs.map((a) => this.expr(a));
    const [a, b, c] = args;
    switch (name) {
      case "add":
        return (st) => a(st) + b(st);
      case "sub":
        return (st) => a(st) - b(st);
      case "mul":
        return (st) => a(st) * b(st);
      case "div":
        return (st) => a(st) / b(st);
      case "neg":
        return (st) => -a(st);
      case "pow": {
        // as the TypeScript kernels write it
        if (squareAsProduct(argExprs)) {
          return (st) => {
            const x = a(st);
            return x * x;
          };
        }
        break;
      }
      case "select":
        return (st) => (a(st) !== 0 ? b(st) : c(st));
      default:
        break;
    }
    const f = SCALARS[name];
    switch (args.length) {
      case 1:
        return (st) => f(a(st));
      case 2:
        return (st) => f(a(st), b(st));
      case 3:
        return (st) => f(a(st), b(st), c(st));
      default:
        return (st) => f(...args.map((x) => x(st)));
    }
  }
}
