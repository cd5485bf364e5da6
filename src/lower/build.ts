/**
 * From a function's plan to kernel IR, with every planned value stored: scalars in locals, tensors in
 * workspace buffers, rows or regions of the caller's arrays. Elementwise values become loop nests over their
 * shape, structural ops the loops of structural.ts, dense patterns one contraction each. Which stores are
 * needed at all, which loops run together, which are written out: the passes decide (passes/).
 */
import { type Node, type Recurrence, recurrenceOf, sizeOf } from "../ir/node.ts";
import { OPS, isElementwise } from "../ir/ops.ts";
import { type MathExpr, sym } from "../ir/math.ts";
import type { DenseCall } from "./dense.ts";
import {
  type Buffer,
  type Expr,
  type Index,
  type Local,
  type LoopKind,
  type Note,
  type Stmt,
  type Var,
  addIndex,
  arg,
  constIndex,
  elementNest,
  get,
  load,
  num,
  offsetIndex,
  op,
  scaleIndex,
  varIndex,
} from "./kernel.ts";
import type { BatchedRecurrence, FunctionPlan, Segment, Storage } from "./plan.ts";
import type { RecurrenceUnit } from "./recurrences.ts";
import type { Carry } from "../ir/node.ts";
import { carryOfAttr } from "../ir/graph.ts";
import { lowerStructural } from "./structural.ts";

/** Where the leaves live in the caller's arrays. */
export interface Layout {
  readonly offsets: ReadonlyMap<Node, number>;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
  readonly paramCount: number;
  /** Numbers in the state array (0 or absent: a stateless network). */
  readonly stateCount?: number;
  /** A network with recurrences: each one's part of a row of stateGradientNorms' `out` (absent: none). */
  readonly recurrences?: readonly RecurrenceRow[];
}

/** One recurrence's part of a row of stateGradientNorms' output. */
export interface RecurrenceRow {
  /** Its first carry's name, as the network names it ("h1"). */
  readonly name: string;
  /** Its steps T. */
  readonly steps: number;
  /** Where its T numbers start in a row. */
  readonly offset: number;
  /** It runs its steps from T − 1 down to 0 (a bidirectional layer's second direction). */
  readonly reverse?: true;
}

/** The module's buffers: the caller's arrays, and one workspace buffer per stored value (shared by the functions). */
export class Buffers {
  readonly params: Buffer;
  readonly inputs: Buffer;
  readonly targets: Buffer;
  readonly out: Buffer;
  readonly grads: Buffer;
  readonly state: Buffer;
  private readonly work = new Map<Node, Buffer>();
  private readonly counters = new Map<number, Buffer>();

  constructor(
    layout: Layout,
    /** Values stored one row per sample in any function: a row buffer everywhere (others use its first row). */
    private readonly rowNodes: ReadonlySet<Node>,
  ) {
    this.params = { role: "params", size: layout.paramCount, perSample: false };
    this.grads = { role: "grads", size: layout.paramCount, perSample: false };
    this.inputs = { role: "inputs", size: layout.inputSize, perSample: true };
    this.targets = { role: "targets", size: layout.targetSize, perSample: true };
    this.out = { role: "out", size: layout.outputSize, perSample: true };
    this.state = { role: "state", size: layout.stateCount ?? 0, perSample: false };
  }

  /** The counter of values of `size` elements: row s holds s·size … s·size + size − 1 (nothing is stored). */
  counter(size: number): Buffer {
    let b = this.counters.get(size);
    if (!b) {
      b = { role: "counter", size, perSample: true };
      this.counters.set(size, b);
    }
    return b;
  }

  /** The workspace buffer of a value. */
  of(n: Node): Buffer {
    let b = this.work.get(n);
    if (!b) {
      b = { role: "work", size: sizeOf(n.shape), perSample: this.rowNodes.has(n), node: n };
      this.work.set(n, b);
    }
    return b;
  }
}

/** Everything a structural op's lowering needs to read its operands and write its result. */
export interface NodeContext {
  readonly node: Node;
  read(operand: Node, index: Index): Expr;
  /** Element (row, col) of a matrix operand; a transpose is read through, not stored. */
  read2(operand: Node, row: Index, col: Index): Expr;
  /** The statement giving element `index` of the result `value` (`+=` for accumulations, `max=` for a running maximum). */
  write(index: Index, value: Expr, mode?: "=" | "+=" | "max="): Stmt;
  /** A fresh loop variable. */
  loopVar(name: string, extent: number): Var;
  /** A fresh scalar local (for running values such as a maximum). */
  temp(base: string): Local;
}

export class FunctionLowering {
  private readonly sample: Var = { name: "s", extent: "batch" };
  /** Scalar parameters read: declared once, as locals at the top of the function. */
  private readonly scalarParams = new Set<Node>();
  /** Scalar inputs and targets read by the sample loop being lowered: declared as locals at its top. */
  private readonly sampleLeaves = new Set<Node>();
  private readonly locals = new Map<Node, Local>();
  /** The step variable of each recurrence whose loop is being lowered. */
  private readonly steps = new Map<Recurrence, Var>();
  /** Batch means a dense kernel writes whole, already divided by the batch: never zeroed, never rescaled. */
  private readonly meansWrittenByKernels: ReadonlySet<Node>;
  /** Batch means that a recurrence's steps add into (not computed per sample from their operand). */
  private readonly fedBySums: ReadonlySet<Node>;
  /** Sums over the steps of a batched recurrence that run as a kernel per step, and the means they add means into (not rescaled). */
  private readonly stepKernelSums: ReadonlySet<Node>;
  private readonly meansOfKernelSteps: ReadonlySet<Node>;
  readonly invB: Local;

  constructor(
    readonly plan: FunctionPlan,
    private readonly layout: Layout,
    readonly buffers: Buffers,
    /** The caller's `out` array of this function: the output's (buffers.out), or a function's own row size. */
    private readonly out: Buffer = buffers.out,
  ) {
    this.meansWrittenByKernels = new Set(
      plan.segments.flatMap((seg) => (seg.kind === "dense" && seg.call.kind === "denseWeightGradient" ? [seg.call.node] : [])),
    );
    this.invB = { hint: "invB", fixed: true, named: false };
    this.fedBySums = new Set(plan.sumsIntoMeans.values());
    const kernelSteps = plan.segments.flatMap((seg) => (seg.kind === "recurrence" ? seg.cell.flatMap((c) => (c.kind === "weightGradient" ? [c] : [])) : []));
    this.stepKernelSums = new Set(kernelSteps.map((c) => c.sum));
    this.meansOfKernelSteps = new Set(kernelSteps.map((c) => c.mean));
  }

  // ---- reading values -----------------------------------------------------------------------------

  /** Element `index` of `n`, wherever it lives. */
  read = (n: Node, index: Index): Expr => {
    if (n.op === "const") return num(n.attr as number);
    // a reshape read through: its element i is its operand's element i
    if (n.op === "view" && this.plan.views.has(n)) return this.read(n.inputs[0], index);
    // the kernels' batch argument, as 1/batch reads it
    if (n.op === "batchSize") return arg("batch");
    if (n.op === "counter") {
      const counter = this.buffers.counter(sizeOf(n.shape));
      return load(counter, addIndex(this.row(counter), index));
    }
    // a carry is its buffer (the state before the step); a step is row t of its sequence
    if (n.op === "carry") return load(...this.address(n, this.storageOf(n), index));
    if (n.op === "step") return this.read(n.inputs[0], addIndex(varIndex(this.stepVar(recurrenceOf(n)), sizeOf(n.shape)), index));
    if (sizeOf(n.shape) === 1 && n.inputs.length === 0) {
      (n.op === "param" || n.op === "state" ? this.scalarParams : this.sampleLeaves).add(n);
      return get(this.local(n));
    }
    if (n.op === "param") return load(this.buffers.params, offsetIndex(index, this.offset(n)));
    if (n.op === "state") return load(this.buffers.state, offsetIndex(index, this.offset(n)));
    if (n.op === "input") return load(this.buffers.inputs, addIndex(this.row(this.buffers.inputs), offsetIndex(index, this.offset(n))));
    if (n.op === "target") return load(this.buffers.targets, addIndex(this.row(this.buffers.targets), offsetIndex(index, this.offset(n))));
    const storage = this.storageOf(n);
    if (storage.kind === "local") return get(this.local(n));
    const value = load(...this.address(n, storage, index));
    // a batch mean accumulated in its reader's region is still a sum there: its reader divides
    return this.plan.sharesReaderStorage.has(n) && !this.meansWrittenByKernels.has(n) ? op("mul", value, get(this.invB)) : value;
  };

  private stepVar(r: Recurrence): Var {
    const v = this.steps.get(r);
    if (!v) throw new Error(`internal: recurrence ${r.id} is read outside its loop`);
    return v;
  }

  read2 = (n: Node, row: Index, col: Index): Expr =>
    n.op === "transpose" && this.plan.views.has(n) ? this.read2(n.inputs[0], col, row) : this.read(n, addIndex(scaleIndex(row, n.shape[1]), col));

  /** The row of the current sample in a per-sample array. */
  private row(buf: Buffer): Index {
    return varIndex(this.sample, buf.size);
  }

  /** Buffer and element index of a stored (non-local) value. */
  private address(n: Node, storage: Storage, index: Index): [Buffer, Index] {
    switch (storage.kind) {
      case "region":
        return storage.array === "grads"
          ? [this.buffers.grads, offsetIndex(index, storage.offset)]
          : [this.out, addIndex(this.row(this.out), offsetIndex(index, storage.offset))];
      case "rows":
      case "buffer": {
        const buf = this.buffers.of(n);
        // a row buffer of another function holds this function's value in its first row
        return [buf, storage.kind === "rows" ? addIndex(this.row(buf), index) : index];
      }
      case "local":
        throw new Error(`internal: ${n.op} #${n.id} is a local, not an address`);
    }
  }

  /** Where a dense kernel finds a value: buffer, first element, and distance between samples. */
  denseAccess(n: Node): { buf: Buffer; base: Index } {
    // row t of a sequence, inside a recurrence's step
    if (n.op === "step") {
      const seq = this.denseAccess(n.inputs[0]);
      return { buf: seq.buf, base: addIndex(seq.base, varIndex(this.stepVar(recurrenceOf(n)), sizeOf(n.shape))) };
    }
    if (n.op === "param") return { buf: this.buffers.params, base: constIndex(this.offset(n)) };
    if (n.op === "state") return { buf: this.buffers.state, base: constIndex(this.offset(n)) };
    if (n.op === "input") return { buf: this.buffers.inputs, base: addIndex(this.row(this.buffers.inputs), constIndex(this.offset(n))) };
    if (n.op === "target") return { buf: this.buffers.targets, base: addIndex(this.row(this.buffers.targets), constIndex(this.offset(n))) };
    const storage = this.storageOf(n);
    if (storage.kind === "local") throw new Error(`internal: a kernel cannot address local #${n.id}`);
    const [buf, base] = this.address(n, storage, constIndex(0));
    return { buf, base };
  }

  /**
   * A stack as `steps` rows per sample for a contraction over every step of every sample: its row buffer holds the
   * samples' rows one after another, so row t of sample s is row s·steps + t, the sample variable counting rows.
   */
  private stepRows(n: Node, steps: number): { buf: Buffer; base: Index } {
    const { buf } = this.denseAccess(n);
    const row = sizeOf(n.shape) / steps;
    if (!buf.perSample || buf.size !== sizeOf(n.shape)) throw new Error(`internal: stack #${n.id} is not stored as rows of its own`);
    return { buf, base: varIndex(this.sample, row) };
  }

  storageOf(n: Node): Storage {
    const s = this.plan.storage.get(n);
    if (!s) throw new Error(`internal: ${n.op} #${n.id} is read but never stored`);
    return s;
  }

  local(n: Node): Local {
    let l = this.locals.get(n);
    if (!l) {
      l = { hint: "t", node: n, named: this.plan.named(n) };
      this.locals.set(n, l);
    }
    return l;
  }

  private offset(n: Node): number {
    const o = this.layout.offsets.get(n);
    if (o === undefined) throw new Error(`internal: leaf ${String(n.attr)} has no offset`);
    return o;
  }

  // ---- writing values -----------------------------------------------------------------------------

  write(n: Node, index: Index, value: Expr, mode: "=" | "+=" | "max=" = "="): Stmt {
    const storage = this.storageOf(n);
    if (storage.kind === "local") {
      const local = this.local(n);
      return mode === "=" ? { k: "let", local, value, mutable: false, node: n } : { k: "update", local, value, mode, node: n };
    }
    const [buf, at] = this.address(n, storage, index);
    return { k: "store", buf, index: at, value, mode, node: n };
  }

  private context(n: Node): NodeContext {
    return {
      node: n,
      read: this.read,
      read2: this.read2,
      write: (index, value, mode) => this.write(n, index, value, mode),
      loopVar: (name, extent) => ({ name, extent }),
      temp: (base) => ({ hint: base, named: false }),
    };
  }

  // ---- computing values ---------------------------------------------------------------------------

  /** The comment of a stored value: its name and its op's math form over named operands (a batch mean: `+=` its source). */
  note(n: Node): Note {
    if (n.op === "batchMean") return { lhs: n, op: "+=", rhs: this.operandMath(n.inputs[0]) };
    return { lhs: n, op: "=", rhs: OPS[n.op].math(n.inputs.map((i) => this.operandMath(i)), n) };
  }

  operandMath(n: Node): MathExpr {
    if (n.op === "const") return { k: "num", value: n.attr as number };
    // a transpose or reshape read through has no name of its own
    return this.plan.views.has(n) ? OPS[n.op].math([this.operandMath(n.inputs[0])], n) : sym(n);
  }

  /** The statements computing `n` (for a batch mean: adding this sample's value into its accumulator). */
  compute(n: Node): Stmt[] {
    const note: Stmt = { k: "note", note: this.note(n), node: n };
    const name = n.op;
    if (isElementwise(name)) {
      return [note, ...elementNest(n.shape, (index) => [this.write(n, index, op(name, ...n.inputs.map((i) => this.read(i, i.shape.length === 0 ? constIndex(0) : index))))])];
    }
    if (n.op === "batchMean") {
      const source = n.inputs[0];
      // this sample's product added straight into the accumulator
      if (this.plan.productsIntoMeans.get(source) === n) return [{ ...note, note: { ...note.note, rhs: this.mathOf(source) } }, this.product(source, n, "+=")];
      return [note, ...elementNest(n.shape, (index) => [this.write(n, index, this.read(source, index), "+=")])];
    }
    if (this.plan.products.has(n)) return this.plan.productsIntoMeans.has(n) ? [] : [note, this.product(n, n, "=")];
    return [note, ...lowerStructural(this.context(n))];
  }

  /**
   * A per-sample product of two matrices, a[m, k]·b[k, n], as one contraction written into (or, `+=`, added into)
   * the storage of `into`: the product itself, or the batch mean it is added into.
   */
  private product(n: Node, into: Node, mode: "=" | "+="): Stmt {
    const [a, b] = n.inputs;
    const [m, k, cols] = [a.shape[0], a.shape[1], b.shape[1]];
    const i: Var = { name: "i", extent: m };
    const j: Var = { name: "j", extent: cols };
    const t: Var = { name: "t", extent: k };
    const [buf, index] = this.address(into, this.storageOf(into), addIndex(varIndex(i, cols), varIndex(j)));
    return {
      k: "contract",
      node: into,
      c: { pattern: "matrix", out: { buf, index }, a: this.matrixAccess(a, varIndex(i), varIndex(t)), b: this.matrixAccess(b, varIndex(t), varIndex(j)), outVars: [i, j], reduce: t, mode },
    };
  }

  /** Where element (row, col) of a matrix operand of a product is: a transpose or a reshape read through. */
  private matrixAccess(n: Node, row: Index, col: Index): { buf: Buffer; index: Index } {
    if (n.op === "transpose" && this.plan.views.has(n)) return this.matrixAccess(n.inputs[0], col, row);
    return this.flatAccess(n, addIndex(scaleIndex(row, n.shape[1]), col));
  }

  private flatAccess(n: Node, index: Index): { buf: Buffer; index: Index } {
    if (n.op === "view" && this.plan.views.has(n)) return this.flatAccess(n.inputs[0], index);
    const { buf, base } = this.denseAccess(n);
    return { buf, index: addIndex(base, index) };
  }

  // ---- phases -------------------------------------------------------------------------------------

  /**
   * The whole body: scalar parameters as locals, the pre phase, then each stage — its accumulators zeroed, its
   * loop segments (sample loops and dense contractions), then at its barrier the means finished and the values
   * after it. `perSample` adds statements to the last sample loop, or to a loop of its own after the last
   * barrier when there is one (an output of the batch as a whole, written for every sample).
   */
  body(perSample: () => Stmt[] = () => []): Stmt[] {
    const { plan } = this;
    const pre = plan.computed.filter((n) => plan.phase.get(n) === "pre").flatMap((n) => this.compute(n));
    const lastStage = plan.stages.length - 1;
    // a last barrier that finishes means or computes values comes after every loop: forward's output is then of the batch as a whole
    const endsInValues = plan.stages[lastStage].means.length > 0 || plan.stages[lastStage].after.length > 0;
    const loops = plan.stages.map((stage, k) => {
      const last = k === lastStage && !endsInValues;
      return stage.segments.flatMap((seg, j) => {
        const perSampleHere = last && j === stage.segments.length - 1 ? perSample : () => [];
        if (seg.kind === "dense") return this.dense(seg.call);
        // a batched recurrence ends in a sample loop of its own: forward's per-sample output needs one after it
        if (seg.kind === "recurrence") return [...this.batchedRecurrence(seg), ...this.samples(perSampleHere)];
        return this.sampleLoop(seg, perSampleHere);
      });
    });
    const barriers = plan.stages.map((stage) => [...this.finishAccumulators(stage.means), ...stage.after.flatMap((n) => this.compute(n))]);
    // 1/batch is declared at the first barrier that does anything, and read by every later one
    const declareInvB = barriers.findIndex((b) => b.length > 0);
    const invB: Stmt = { k: "let", local: this.invB, value: op("div", num(1), arg("batch")), mutable: false };
    const stages = plan.stages.flatMap((stage, k) => [...this.resetAccumulators(stage.means), ...loops[k], ...(k === declareInvB ? [invB] : []), ...barriers[k]]);
    const trailing = endsInValues ? this.sampleLoop({ kind: "samples", nodes: [] }, perSample) : [];
    const params = [...this.scalarParams].sort((a, b) => a.id - b.id);
    return [
      ...params.map((n): Stmt => ({ k: "let", local: this.local(n), value: load(n.op === "state" ? this.buffers.state : this.buffers.params, constIndex(this.offset(n))), mutable: false })),
      ...pre,
      ...stages,
      ...trailing,
    ];
  }

  /** One loop over the samples: the scalar inputs and targets it reads, then its nodes in order. */
  private sampleLoop(seg: Extract<Segment, { kind: "samples" }>, perSample: () => Stmt[]): Stmt[] {
    const lowered = new Set<RecurrenceUnit>();
    const computeOrRecur = (n: Node): Stmt[] => {
      // its recurrence's steps added into it
      if (this.fedBySums.has(n)) return [];
      const unit = this.plan.units.get(n);
      if (!unit) return this.compute(n);
      if (lowered.has(unit)) return [];
      lowered.add(unit);
      return this.recurrence(unit);
    };
    return this.samples(() => [...seg.nodes.flatMap(computeOrRecur), ...perSample()]);
  }

  /** A loop over the samples around the statements `body` builds, with the scalar inputs and targets they read as locals at its top. */
  private samples(body: () => Stmt[]): Stmt[] {
    this.sampleLeaves.clear();
    const stmts = body();
    if (stmts.length === 0) return [];
    const leaves = [...this.sampleLeaves].sort((a, b) => a.id - b.id).map((n): Stmt => {
      const buf = n.op === "input" ? this.buffers.inputs : this.buffers.targets;
      return { k: "let", local: this.local(n), value: load(buf, addIndex(this.row(buf), constIndex(this.offset(n)))), mutable: false };
    });
    return [{ k: "loop", v: this.sample, kind: "samples", body: [...leaves, ...stmts] }];
  }

  /**
   * A recurrence for the current sample: each carry's buffer starts as its initial value, the loop over the steps
   * computes the cell, writes the stacks and sums, then the carries' next values; the finals are the carries after it.
   */
  private recurrence(unit: RecurrenceUnit): Stmt[] {
    const t = this.stepOf(unit);
    const cell = unit.cell.flatMap((n) => this.compute(n));
    return [...this.recurrenceStart(unit), stepLoop(unit, t, [...cell, ...this.stepEnd(unit, t)]), ...this.finals(unit)];
  }

  /**
   * A recurrence across the batch (plan.ts BatchedRecurrence): the loop over the steps outside, and in each step its
   * sample loops and batched kernels in order; a weight gradient's step is a kernel's mean over the batch of δ ⊗ a,
   * added into the gradient's accumulator.
   */
  private batchedRecurrence(b: BatchedRecurrence): Stmt[] {
    const { unit } = b;
    const t = this.stepOf(unit);
    const step = b.cell.flatMap((seg): Stmt[] => {
      switch (seg.kind) {
        case "samples":
          return this.samples(() => seg.nodes.flatMap((n) => this.compute(n)));
        case "dense":
          return this.dense(seg.call);
        case "weightGradient":
          // d_W += mean over the batch of δ ⊗ a: the kernel adds this step's part into the gradient
          return this.dense(seg.call, { into: seg.mean });
      }
    });
    const end = this.samples(() => this.stepEnd(unit, t));
    return [...this.samples(() => this.recurrenceStart(unit)), stepLoop(unit, t, [...step, ...end]), ...this.samples(() => this.finals(unit))];
  }

  /** The step variable of a recurrence (its loops run over t; a step reads row t of its sequences). */
  private stepOf(unit: RecurrenceUnit): Var {
    const t: Var = { name: "t", extent: unit.recurrence.length };
    this.steps.set(unit.recurrence, t);
    return t;
  }

  /** Before the steps: each carry set to its initial value, the sums over the steps to zero. */
  private recurrenceStart(unit: RecurrenceUnit): Stmt[] {
    const starts = unit.recurrence.carries.flatMap((c) => [
      { k: "note", note: { lhs: c.leaf, op: "=", rhs: this.operandMath(c.init) }, node: c.leaf } satisfies Stmt,
      ...elementNest(c.leaf.shape, (index) => [this.write(c.leaf, index, this.read(c.init, index))]),
    ]);
    // a sum read only by a batch mean adds into the mean's accumulator (zeroed with the stage's means)
    const sums = unit.outputs.filter((o) => o.op === "loopSum" && !this.plan.sumsIntoMeans.has(o)).flatMap((o) => this.zeroed(o));
    return [...starts, ...sums];
  }

  /**
   * The end of a step: the stacks take row t, the sums their step, then each carry its next value (in an order
   * where no carry is overwritten before another carry's next value has read it).
   */
  private stepEnd(unit: RecurrenceUnit, t: Var): Stmt[] {
    const collected = unit.outputs.flatMap((o): Stmt[] => {
      const value = o.inputs[0];
      if (o.op === "stack") {
        const size = sizeOf(value.shape);
        return [{ k: "note", note: this.note(o), node: o }, ...elementNest(value.shape, (index) => [this.write(o, addIndex(varIndex(t, size), index), this.read(value, index))])];
      }
      // a weight gradient's step in a batched recurrence is its own kernel
      if (o.op === "loopSum" && !this.stepKernelSums.has(o)) {
        return [{ k: "note", note: this.note(o), node: o }, ...elementNest(value.shape, (index) => [this.accumulateStep(o, index, this.read(value, index))])];
      }
      return [];
    });
    const nexts = carryOrder(unit).flatMap((c) => elementNest(c.leaf.shape, (index) => [this.write(c.leaf, index, this.read(c.next, index))]));
    return [...collected, ...nexts];
  }

  /** After the steps: the finals, each its carry's last value. */
  private finals(unit: RecurrenceUnit): Stmt[] {
    return unit.outputs
      .filter((o) => o.op === "final")
      .flatMap((o): Stmt[] => {
        const leaf = unit.recurrence.carries[carryOfAttr(o.attr)].leaf;
        return [{ k: "note", note: this.note(o), node: o }, ...elementNest(o.shape, (index) => [this.write(o, index, this.read(leaf, index))])];
      });
  }

  /** `sum += value` for one step of a loopSum, into its batch mean's accumulator when that is its only reader. */
  private accumulateStep(sum: Node, index: Index, value: Expr): Stmt {
    const mean = this.plan.sumsIntoMeans.get(sum);
    if (!mean) return this.write(sum, index, value, "+=");
    const into = this.write(mean, index, value, "+=");
    // the statement computes the sum (the inline pass reads the node to see what it accumulates)
    return into.k === "store" || into.k === "update" ? { ...into, node: sum } : into;
  }

  /** An accumulator set to zero. */
  private zeroed(n: Node): Stmt[] {
    if (this.storageOf(n).kind === "local") return [{ k: "let", local: this.local(n), value: num(0), mutable: true }];
    return elementNest(n.shape, (index) => [this.write(n, index, num(0))]);
  }

  /** A dense layer for every sample at once. */
  private dense(call: DenseCall, accumulate?: { readonly into: Node }): Stmt[] {
    // a weight gradient's step of a recurrence adds into the gradient (`into`) instead of writing its own value
    const name = accumulate?.into ?? call.node;
    const outAcc = this.denseAccess(name);
    const s = this.sample;
    if (call.kind === "denseWeightGradient") {
      const [d, x] = call.steps === undefined ? [this.denseAccess(call.d), this.denseAccess(call.x)] : [this.stepRows(call.d, call.steps), this.stepRows(call.x, call.steps)];
      const i: Var = { name: "i", extent: call.m };
      const j: Var = { name: "j", extent: call.k };
      const note: Note = { lhs: name, op: accumulate ? "+=" : "=", lead: "mean over the batch of", rhs: this.mathOf(call.outer) };
      return [
        { k: "note", note, node: name },
        {
          k: "contract",
          node: name,
          c: {
            pattern: "weightGradient",
            out: { buf: outAcc.buf, index: addIndex(outAcc.base, addIndex(varIndex(i, call.k), varIndex(j))) },
            a: { buf: d.buf, index: addIndex(d.base, varIndex(i)) },
            b: { buf: x.buf, index: addIndex(x.base, varIndex(j)) },
            outVars: [i, j],
            reduce: s,
            scale: op("div", num(1), arg("batch")),
            mode: accumulate ? "+=" : "=",
            ...(call.steps === undefined ? {} : { steps: call.steps }),
          },
        },
      ];
    }
    const note: Note = { lhs: name, op: "=", tail: "for every sample at once", rhs: this.mathOf(call.node) };
    const W = this.denseAccess(call.W);
    if (call.kind === "denseForward") {
      const x = this.denseAccess(call.x);
      const i: Var = { name: "i", extent: call.m };
      const t: Var = { name: "t", extent: call.k };
      return [
        { k: "note", note, node: call.node },
        {
          k: "contract",
          node: call.node,
          c: {
            pattern: "forward",
            out: { buf: outAcc.buf, index: addIndex(outAcc.base, varIndex(i)) },
            a: { buf: W.buf, index: addIndex(W.base, addIndex(varIndex(i, call.k), varIndex(t))) },
            b: { buf: x.buf, index: addIndex(x.base, varIndex(t)) },
            outVars: [s, i],
            reduce: t,
            mode: "=",
          },
        },
      ];
    }
    const d = this.denseAccess(call.d);
    const i: Var = { name: "i", extent: call.m };
    const j: Var = { name: "j", extent: call.k };
    return [
      { k: "note", note, node: call.node },
      {
        k: "contract",
        node: call.node,
        c: {
          pattern: "transposed",
          out: { buf: outAcc.buf, index: addIndex(outAcc.base, varIndex(j)) },
          a: { buf: W.buf, index: addIndex(W.base, addIndex(varIndex(i, call.k), varIndex(j))) },
          b: { buf: d.buf, index: addIndex(d.base, varIndex(i)) },
          outVars: [s, j],
          reduce: i,
          mode: "=",
        },
      },
    ];
  }

  /** The math form of `n` over named operands (for a contraction's comment). */
  mathOf(n: Node): Note["rhs"] {
    return OPS[n.op].math(n.inputs.map((m) => this.operandMath(m)), n);
  }

  /** Before the loop: zero the batch-mean accumulators (adjacent gradient regions in one fill). */
  private resetAccumulators(means: readonly Node[]): Stmt[] {
    const { regions, others } = this.splitRegions(means.filter((n) => !this.meansWrittenByKernels.has(n)));
    return [
      ...regions.map(([from, to]): Stmt => ({ k: "fill", buf: this.buffers.grads, index: constIndex(from), count: to - from, value: 0 })),
      ...others.map((n): Stmt => {
        if (this.storageOf(n).kind === "local") return { k: "let", local: this.local(n), value: num(0), mutable: true };
        const buf = this.buffers.of(n);
        return { k: "fill", buf, index: constIndex(0), count: buf.size, value: 0 };
      }),
    ];
  }

  /** After the loop: each accumulated sum becomes a mean, with the 1/batch applied once. */
  private finishAccumulators(means: readonly Node[]): Stmt[] {
    const { regions, others } = this.splitRegions(means.filter((n) => !this.plan.sharesReaderStorage.has(n) && !this.meansWrittenByKernels.has(n) && !this.meansOfKernelSteps.has(n)));
    const locals = others.filter((n) => this.storageOf(n).kind === "local");
    const scaled = (buf: Buffer, from: number, count: number): Stmt[] =>
      elementNest([count], (index) => [{ k: "store", buf, index: offsetIndex(index, from), value: get(this.invB), mode: "*=" }]);
    const tensors = [
      ...regions.flatMap(([from, to]) => scaled(this.buffers.grads, from, to - from)),
      ...others.filter((n) => !locals.includes(n)).flatMap((n) => scaled(this.buffers.of(n), 0, sizeOf(n.shape))),
    ];
    return [
      ...locals.map((n): Stmt => ({ k: "update", local: this.local(n), value: get(this.invB), mode: "*=" })),
      // a pass over the whole gradient that would multiply by exactly 1 is skipped
      ...(tensors.length > 0 ? [{ k: "ifBatch", body: tensors } satisfies Stmt] : []),
    ];
  }

  /** Gradient regions of `means` merged where adjacent, and the means stored anywhere else. */
  private splitRegions(means: readonly Node[]): { regions: [number, number][]; others: Node[] } {
    const spans: [number, number][] = [];
    const others: Node[] = [];
    for (const n of means) {
      const s = this.storageOf(n);
      if (s.kind === "region" && s.array === "grads") spans.push([s.offset, s.offset + sizeOf(n.shape)]);
      else others.push(n);
    }
    spans.sort((a, b) => a[0] - b[0]);
    const regions: [number, number][] = [];
    for (const span of spans) {
      const last = regions[regions.length - 1];
      if (last && last[1] === span[0]) last[1] = span[1];
      else regions.push([...span]);
    }
    return { regions, others };
  }

  // ---- copies -------------------------------------------------------------------------------------

  /** Writes `n` into `size` elements of `grads` from `offset` when the plan stored it elsewhere (zeros for no gradient). */
  copyIntoGrads(offset: number, n: Node | null, size: number): Stmt[] {
    if (!n) return [{ k: "fill", buf: this.buffers.grads, index: constIndex(offset), count: size, value: 0 }];
    const s = this.plan.storage.get(n);
    if (s?.kind === "region" && s.array === "grads" && s.offset === offset) return [];
    return elementNest([size], (index) => [{ k: "store", buf: this.buffers.grads, index: offsetIndex(index, offset), value: this.read(n, index), mode: "=" }]);
  }

  /** Writes `n` into `size` elements of the state array from `offset` (a training step's new state, written after everything read the old). */
  copyIntoState(offset: number, n: Node): Stmt[] {
    return elementNest([sizeOf(n.shape)], (index) => [{ k: "store", buf: this.buffers.state, index: offsetIndex(index, offset), value: this.read(n, index), mode: "=" }]);
  }

  /** Writes the output node into `out` for the current sample when it was stored elsewhere. */
  copyOutput(n: Node): Stmt[] {
    const s = this.plan.storage.get(n);
    if (s?.kind === "region" && s.array === "out") return [];
    const out = this.out;
    return elementNest([sizeOf(n.shape)], (index) => [{ k: "store", buf: out, index: addIndex(this.row(out), index), value: this.read(n, index), mode: "=" }]);
  }
}

/**
 * The carries in the order their next values are written at the end of a step: a carry whose next value is
 * another carry (a swap of states) is written before that one is overwritten.
 */
function carryOrder(unit: RecurrenceUnit): Carry[] {
  const carries = [...unit.recurrence.carries];
  const readsCarry = (c: Carry, other: Carry) => c.next === other.leaf;
  const ordered: Carry[] = [];
  while (carries.length > 0) {
    const free = carries.findIndex((c) => !carries.some((other) => other !== c && readsCarry(other, c)));
    if (free < 0) throw new Error("internal: the carries of a recurrence only exchange their values");
    ordered.push(...carries.splice(free, 1));
  }
  return ordered;
}

/** The loop over a recurrence's steps (from T − 1 down for a reverse recurrence). */
function stepLoop(unit: RecurrenceUnit, t: Var, body: readonly Stmt[]): Stmt {
  return { k: "loop", v: t, kind: "time", body, ...(unit.recurrence.reverse ? { reverse: true } : {}) };
}
