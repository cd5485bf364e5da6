/**
 * Statements of one generated function, from its plan: scalar leaves hoisted into named locals, then the
 * pre / loop / post phases, each stored node preceded by a comment with the formula it computes.
 */
import { type Node, sizeOf } from "../ir/node.ts";
import { OPS, bare } from "../ir/ops.ts";
import type { FunctionPlan, Segment, Storage } from "../lower/plan.ts";
import type { DenseCall } from "../lower/dense.ts";
import { addIndex, flatIndex, mulIndex } from "../lower/index-expr.ts";
import type { KernelContext } from "../lower/kernels.ts";
import { commentText, numberLiteral } from "./literals.ts";
import type { NodeNames } from "./names.ts";

/** Where the leaves live in the caller's arrays. */
export interface Layout {
  readonly offsets: ReadonlyMap<Node, number>;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
}

/** A loop is written out when all its copies fit in this many characters; sums up to this many terms are one expression. */
const UNROLL_CHARS = 800;
const UNROLL_TRIPS = 16;
const UNROLL_TERMS = 16;

export class BodyEmitter {
  /** Workspace buffers this function stores into; the module declares them once. */
  readonly buffers = new Set<Node>();
  /** Workspace buffers with one row per sample; the module grows them with the batch. */
  readonly rowBuffers = new Set<Node>();
  private readonly rows = new Set<"xRow" | "yRow" | "outRow">();
  /** Scalar parameters read (declared once, as locals at the top of the function). */
  private readonly scalarParamsRead = new Set<Node>();
  /** Scalar inputs and targets read by the sample loop being emitted (declared as locals inside it). */
  private readonly scalarSamplesRead = new Set<Node>();
  /** Batch means a dense kernel writes whole, already divided by the batch: never zeroed, never rescaled. */
  private readonly meansWrittenByKernels: ReadonlySet<Node>;

  constructor(
    private readonly plan: FunctionPlan,
    private readonly layout: Layout,
    private readonly names: NodeNames,
  ) {
    this.meansWrittenByKernels = new Set(
      plan.segments.flatMap((seg) => (seg.kind === "dense" && seg.call.kind === "denseWeightGradient" ? [seg.call.node] : [])),
    );
  }

  // ---- reading values -------------------------------------------------------------------------------

  operand = (n: Node, index: string): string => {
    if (n.op === "const") return numberLiteral(n.attr as number);
    if (this.plan.inlined.has(n)) return this.element(n, index);
    if (sizeOf(n.shape) === 1 && n.inputs.length === 0) {
      (n.op === "param" ? this.scalarParamsRead : this.scalarSamplesRead).add(n);
      return this.names.of(n);
    }
    if (sizeOf(n.shape) === 1 && this.storageOf(n).kind === "local") return this.names.of(n);
    if (n.op === "param") return `params[${addIndex(String(this.offset(n)), index)}]`;
    if (n.op === "input") return this.row("inputs", "xRow", n, index);
    if (n.op === "target") return this.row("targets", "yRow", n, index);
    if (this.plan.sharesReaderStorage.has(n) && !this.meansWrittenByKernels.has(n)) return `${this.stored(n, index)} * invB`;
    return this.stored(n, index);
  };

  read2 = (n: Node, row: string, col: string): string =>
    this.plan.views.has(n) ? this.read2(n.inputs[0], col, row) : this.operand(n, flatIndex(row, col, n.shape[1]));

  private element(n: Node, index: string): string {
    const rule = OPS[n.op];
    if (!("element" in rule.emit)) throw new Error(`internal: ${n.op} is not elementwise`);
    const at = (m: Node) => this.operand(m, index);
    return rule.emit.element(n.inputs.map(at), n, at);
  }

  private row(array: string, row: "xRow" | "yRow", n: Node, index: string): string {
    this.rows.add(row);
    return `${array}[${addIndex(row, addIndex(String(this.offset(n)), index))}]`;
  }

  private stored(n: Node, index: string): string {
    const s = this.storageOf(n);
    if (s.kind === "region") {
      if (s.array === "out") this.rows.add("outRow");
      return `${s.array}[${addIndex(s.array === "out" ? "outRow" : String(s.offset), index)}]`;
    }
    if (s.kind === "local") return this.names.of(n);
    if (s.kind === "rows") {
      this.rowBuffers.add(n);
      return `${this.names.of(n)}[${addIndex(mulIndex("s", sizeOf(n.shape)), index)}]`;
    }
    this.buffers.add(n);
    return `${this.names.of(n)}[${index}]`;
  }

  private storageOf(n: Node): Storage {
    const s = this.plan.storage.get(n);
    if (!s) throw new Error(`internal: ${n.op} #${n.id} is read but never stored`);
    return s;
  }

  private offset(n: Node): number {
    const o = this.layout.offsets.get(n);
    if (o === undefined) throw new Error(`internal: leaf ${String(n.attr)} has no offset`);
    return o;
  }

  // ---- writing values -------------------------------------------------------------------------------

  private store(node: Node, index: string, value: string): string {
    const n = this.plan.accumulateInto.get(node) ?? node;
    const accumulate = n.op === "batchMean";
    if (this.storageOf(n).kind === "local") return accumulate ? `${this.names.of(n)} += ${value};` : `const ${this.names.of(n)} = ${value};`;
    return `${this.stored(n, index)} ${accumulate ? "+=" : "="} ${value};`;
  }

  loop = (v: string, n: number, body: (i: string) => string[]): string[] => {
    const first = body("0");
    if (n === 1) return first;
    if (n <= UNROLL_TRIPS && n * first.join("").length <= UNROLL_CHARS) {
      return [...first, ...Array.from({ length: n - 1 }, (_, k) => body(String(k + 1))).flat()];
    }
    return [`for (let ${v} = 0; ${v} < ${n}; ${v}++) {`, ...body(v), "}"];
  };

  reduce = (v: string, n: number, term: (i: string) => string): { lines: string[]; value: string } => {
    if (n <= UNROLL_TERMS) return { lines: [], value: Array.from({ length: n }, (_, k) => `(${term(String(k))})`).join(" + ") };
    const acc = this.names.namer.claim("acc");
    return { lines: [`let ${acc} = 0;`, `for (let ${v} = 0; ${v} < ${n}; ${v}++) ${acc} += ${term(v)};`], value: acc };
  };

  /**
   * The statements computing `nodes` in order. Consecutive elementwise values of one size share a single
   * loop (each element depends only on the same element of its operands, so this is safe).
   */
  computeAll(nodes: readonly Node[]): string[] {
    const lines: string[] = [];
    for (let start = 0; start < nodes.length; ) {
      let end = start + 1;
      if (this.fusable(nodes[start])) {
        while (end < nodes.length && this.fusable(nodes[end]) && sizeOf(nodes[end].shape) === sizeOf(nodes[start].shape)) end++;
      }
      const group = nodes.slice(start, end);
      lines.push(...(group.length > 1 ? this.fusedLoop(group) : this.compute(group[0])));
      start = end;
    }
    return lines;
  }

  /** Elementwise values (and batch-mean accumulations) of tensors: one store per element. */
  private fusable(n: Node): boolean {
    // written-out (small) loops gain nothing from sharing, and read better one value at a time
    if (sizeOf(n.shape) <= UNROLL_TRIPS || (n.op === "batchMean" && this.plan.accumulateInto.has(n.inputs[0]))) return false;
    return n.op === "batchMean" || "element" in OPS[n.op].emit;
  }

  private fusedLoop(group: readonly Node[]): string[] {
    const store = (n: Node, i: string) => this.store(n, i, n.op === "batchMean" ? this.operand(n.inputs[0], i) : this.element(n, i));
    return [...group.map((n) => this.comment(n)), ...this.loop("i", sizeOf(group[0].shape), (i) => group.map((n) => store(n, i)))];
  }

  private comment(n: Node): string {
    const target = this.plan.accumulateInto.get(n) ?? n;
    return `// ${this.names.of(target)} ${target.op === "batchMean" ? "+=" : "="} ${commentText(bare(this.formula(n, true)))}`;
  }

  /** The statements computing node `n` (for a batch mean: adding this sample into its accumulator). */
  compute(n: Node): string[] {
    const rule = OPS[n.op];
    if (n.op === "batchMean" && this.plan.accumulateInto.has(n.inputs[0])) return [];
    const comment = this.comment(n);
    if ("element" in rule.emit) {
      return [comment, ...this.loop("i", sizeOf(n.shape), (i) => [this.store(n, i, this.element(n, i))])];
    }
    const ctx: KernelContext = {
      node: n,
      read: this.operand,
      read2: this.read2,
      store: (index, value) => this.store(n, index, value),
      loop: this.loop,
      reduce: this.reduce,
      temp: (base) => this.names.namer.claim(base),
    };
    return [comment, ...rule.emit.kernel(ctx)];
  }

  /** Math-style text of a node: stored values by name, inlined ones spelled out. */
  formula(n: Node, top = false): string {
    if (n.op === "const") return String(n.attr);
    if (n.op === "batchMean" && top) return this.formula(n.inputs[0]);
    const spelled = top || this.plan.inlined.has(n) || this.plan.views.has(n);
    if (!spelled || n.inputs.length === 0) return this.names.of(n);
    return OPS[n.op].formula(n.inputs.map((i) => this.formula(i)), n);
  }

  // ---- phases ----------------------------------------------------------------------------------------

  /**
   * The whole body: scalar parameters as locals, the pre phase, accumulators, the loop segments (sample
   * loops and dense kernels), then the post phase. `perSample` adds statements to the last sample loop.
   */
  phases(perSample: () => string[] = () => []): string[] {
    const { plan } = this;
    const inPhase = (phase: string) => plan.computed.filter((n) => plan.phase.get(n) === phase && n.op !== "batchMean");
    const means = plan.computed.filter((n) => n.op === "batchMean");
    const pre = this.computeAll(inPhase("pre"));
    const loop = plan.segments.flatMap((seg, k) =>
      seg.kind === "dense" ? this.denseKernel(seg.call) : this.sampleLoop(seg, k === plan.segments.length - 1 ? perSample : () => []),
    );
    const post = [...this.finishAccumulators(means), ...this.computeAll(inPhase("post"))];
    const params = [...this.scalarParamsRead].sort((a, b) => a.id - b.id);
    return [
      ...params.map((n) => `const ${this.names.of(n)} = params[${this.offset(n)}];`),
      ...pre,
      ...this.resetAccumulators(means),
      ...loop,
      ...(post.length > 0 ? ["const invB = 1 / batch;", ...post] : []),
    ];
  }

  /** One loop over the samples: row offsets and scalar inputs it reads, then its nodes in order. */
  private sampleLoop(seg: Extract<Segment, { kind: "samples" }>, perSample: () => string[]): string[] {
    this.rows.clear();
    this.scalarSamplesRead.clear();
    const body = [...this.computeAll(seg.nodes), ...perSample()];
    if (body.length === 0) return [];
    const leaves = [...this.scalarSamplesRead];
    const sizes = { xRow: this.layout.inputSize, yRow: this.layout.targetSize, outRow: this.layout.outputSize };
    const rows = (["xRow", "yRow", "outRow"] as const).filter((r) => this.rows.has(r)).map((r) => `const ${r} = ${sizes[r] === 1 ? "s" : `s * ${sizes[r]}`};`);
    const scalars = leaves.sort((a, b) => a.id - b.id).map((n) => {
      const [array, size] = n.op === "input" ? ["inputs", this.layout.inputSize] : ["targets", this.layout.targetSize];
      return `const ${this.names.of(n)} = ${array}[${addIndex(mulIndex("s", size), String(this.offset(n)))}];`;
    });
    return ["for (let s = 0; s < batch; s++) {", ...rows, ...scalars, ...body, "}"];
  }

  /** A dense layer for every sample at once (templates/dense.ts). */
  private denseKernel(call: DenseCall): string[] {
    const target = this.address(call.node);
    const comment =
      call.kind === "denseWeightGradient"
        ? `// ${this.names.of(call.node)} = mean over the batch of ${commentText(bare(this.formula(call.outer, true)))}`
        : `// ${this.names.of(call.node)} = ${commentText(bare(this.formula(call.node, true)))}, for every sample at once`;
    const dims = `batch, ${call.m}, ${call.k}`;
    switch (call.kind) {
      case "denseForward": {
        const [W, x] = [this.address(call.W), this.address(call.x)];
        return [comment, `denseForward(${target.array}, ${W.array}, ${W.offset}, ${x.array}, ${x.offset}, ${x.stride}, ${dims});`];
      }
      case "denseTransposed": {
        const W = this.address(call.W);
        return [comment, `denseTransposed(${target.array}, ${W.array}, ${W.offset}, ${this.address(call.d).array}, ${dims});`];
      }
      case "denseWeightGradient": {
        const x = this.address(call.x);
        const d = this.address(call.d).array;
        return [comment, `denseWeightGradient(${target.array}, ${target.offset}, ${d}, ${x.array}, ${x.offset}, ${x.stride}, ${dims});`];
      }
    }
  }

  /** Where a kernel operand lives: array, offset of its first element, and the distance between samples. */
  private address(n: Node): { array: string; offset: number; stride: number } {
    const size = sizeOf(n.shape);
    if (n.op === "param") return { array: "params", offset: this.offset(n), stride: 0 };
    if (n.op === "input") return { array: "inputs", offset: this.offset(n), stride: this.layout.inputSize };
    if (n.op === "target") return { array: "targets", offset: this.offset(n), stride: this.layout.targetSize };
    const s = this.storageOf(n);
    if (s.kind === "region") return { array: s.array, offset: s.offset, stride: size };
    if (s.kind === "rows") this.rowBuffers.add(n);
    else if (s.kind === "buffer") this.buffers.add(n);
    else throw new Error(`internal: a kernel cannot address local ${this.names.of(n)}`);
    return { array: this.names.of(n), offset: 0, stride: size };
  }

  /** Before the loop: zero the batch-mean accumulators (adjacent gradient regions in one fill). */
  resetAccumulators(means: readonly Node[]): string[] {
    const { regions, others } = this.splitRegions(means.filter((n) => !this.meansWrittenByKernels.has(n)));
    return [
      ...regions.map(([from, to]) => `grads.fill(0, ${from}, ${to});`),
      ...others.map((n) => {
        if (this.storageOf(n).kind === "local") return `let ${this.names.of(n)} = 0;`;
        this.buffers.add(n);
        return `${this.names.of(n)}.fill(0);`;
      }),
    ];
  }

  /** After the loop: each accumulated sum becomes a mean, with the 1/batch applied once. */
  finishAccumulators(means: readonly Node[]): string[] {
    const { regions, others } = this.splitRegions(means.filter((n) => !this.plan.sharesReaderStorage.has(n) && !this.meansWrittenByKernels.has(n)));
    const locals = others.filter((n) => this.storageOf(n).kind === "local");
    const tensors = [
      ...regions.flatMap(([from, to]) => this.loop("i", to - from, (i) => [`grads[${addIndex(String(from), i)}] *= invB;`])),
      ...others.filter((n) => !locals.includes(n)).flatMap((n) => this.loop("i", sizeOf(n.shape), (i) => [`${this.stored(n, i)} *= invB;`])),
    ];
    return [
      ...locals.map((n) => `${this.names.of(n)} *= invB;`),
      // a pass over the whole gradient that would multiply by exactly 1 is skipped
      ...(tensors.length > 0 ? ["if (batch > 1) {", ...tensors, "}"] : []),
    ];
  }

  /** Accumulators stored in `grads`, merged into contiguous [from, to) ranges, and the rest. */
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

  /** Writes `value` node into a region of `grads` when the plan stored it elsewhere. */
  copyInto(array: "grads", offset: number, n: Node | null, size: number): string[] {
    if (!n) return [`${array}.fill(0, ${offset}, ${offset + size});`];
    const s = this.plan.storage.get(n);
    if (s?.kind === "region" && s.array === array && s.offset === offset) return [];
    return this.loop("i", size, (i) => [`${array}[${addIndex(String(offset), i)}] = ${this.operand(n, i)};`]);
  }

  /** Writes the output node into `out` for the current sample when it was stored elsewhere. */
  copyOutput(n: Node): string[] {
    const s = this.plan.storage.get(n);
    if (s?.kind === "region" && s.array === "out") return [];
    this.rows.add("outRow");
    return this.loop("i", sizeOf(n.shape), (i) => [`out[${addIndex("outRow", i)}] = ${this.operand(n, i)};`]);
  }
}

