/**
 * The expression DAG (ir/) as ONNX nodes, for the inference pass: the equation form's whole forward pass, and a
 * layer's activation in the layer form. A batched value is an ONNX tensor [batch, ...its shape]; a value of the
 * parameters alone (no input reaches it) is folded into an initializer by the reference interpreter, so only
 * values that depend on the sample become nodes. Ops that move elements (slices, views — reshapes, permutations,
 * the windows of convolution and pooling —, broadcasts, concatenations) become one Gather from the flattened
 * operand at the positions the op table's own evaluation gives, or a Reshape when those are in order. A
 * recurrence is one Scan whose body graph is its cell, written by the same node writer.
 */
import { carryOfAttr, type Graph } from "../../ir/graph.ts";
import { interpret } from "../../ir/interpret.ts";
import { type ElementwiseOp, type Node, type Recurrence, cellValues, isElementwiseOp, isLoopOp, isLoopOutput, loopOutputs, recurrenceOf, sizeOf } from "../../ir/node.ts";
import { OPS } from "../../ir/ops.ts";
import { parseReduce, parseSlice, unsliceFill, wholeIndex } from "../../ir/axes.ts";
import { floatInput, floatValue, type GraphBuilder } from "./builder.ts";

/** An op of the DAG with no ONNX form here: `value` names where it is (an equation or a layer). */
export class UnmappedOp extends Error {
  constructor(
    readonly op: string,
    readonly value: string | undefined,
    readonly reason: string,
  ) {
    super(`${op}: ${reason}`);
  }
}

export interface DagContext {
  readonly b: GraphBuilder;
  readonly graph: Graph;
  /** ONNX names of values given from outside (graph inputs, a layer's pre-activation). */
  readonly bound: Map<Node, string>;
  /** A parameter's or state value's numbers, by leaf. */
  readonly leafValue: (leaf: Node) => Float64Array;
  /** Names the folded values and parameters already written, per node. */
  readonly written: Map<Node, string>;
}

/** The ONNX name of `root`'s value, adding the nodes it needs. */
export function translate(ctx: DagContext, root: Node): string {
  let outputs: LoopOutputs | undefined;
  // walked once, when the first recurrence is met (most values read none)
  return writer(ctx, () => (outputs ??= loopOutputs([root])))(root, undefined);
}

/** Writes a value's nodes and returns its name; `where` names the equation or layer being written, for errors. */
type Write = (n: Node, where: string | undefined) => string;

/** What each recurrence hands out that the value being translated reads. */
type LoopOutputs = ReadonlyMap<Recurrence, readonly Node[]>;
type LoopOutputsOf = () => LoopOutputs;

/**
 * The writer of values into `ctx.b`. In a Scan's body (`cell`), a value outside the recurrence's cell is written by
 * `cell.outer` into the enclosing graph, and the body reads it from there by name.
 */
function writer(ctx: DagContext, outputsOf: LoopOutputsOf, cell?: { readonly loop: number; readonly outer: Write }): Write {
  const write: Write = (n, where) => {
    if (cell && n.loop !== cell.loop) return cell.outer(n, where);
    const known = ctx.bound.get(n) ?? ctx.written.get(n);
    if (known) return known;
    const here = ctx.graph.hint(n) ?? where;
    const name = !n.batched ? folded(ctx, n, here) : isLoopOutput(n) ? scan(ctx, n, outputsOf, write, here) : batched(ctx, n, (m) => write(m, here), here);
    ctx.written.set(n, name);
    return name;
  };
  return write;
}

/** A value of the parameters alone: a parameter under its own name, anything else computed now. */
function folded(ctx: DagContext, n: Node, where: string | undefined): string {
  const across = batchStatistic(n);
  if (across) throw new UnmappedOp(across.op, where, "it reads across the samples of the call (a batch statistic); the ONNX model computes each sample alone");
  if (n.op === "param" || n.op === "state") return ctx.b.floats(String(n.attr), n.shape, ctx.leafValue(n));
  if (n.op === "const") return ctx.b.scalar(n.attr as number);
  const values = interpret([n], (leaf) => ctx.leafValue(leaf), 1).get(n);
  if (!(values instanceof Float64Array)) throw new Error(`internal: the unbatched ${n.op} #${n.id} has one value per sample`);
  return ctx.b.floats(ctx.graph.hint(n) ?? `folded_${n.id}`, n.shape, values);
}

/** The batch statistic (batch_mean's, or the number of samples) an unbatched value is computed from, if any. */
function batchStatistic(n: Node): Node | undefined {
  const known = BATCH_STATISTICS.get(n);
  if (known !== undefined) return known ?? undefined;
  const found = n.op === "batchMean" || n.op === "batchSize" ? n : n.inputs.reduce<Node | undefined>((f, m) => f ?? batchStatistic(m), undefined);
  BATCH_STATISTICS.set(n, found ?? null);
  return found;
}

const BATCH_STATISTICS = new WeakMap<Node, Node | null>();

type Visit = (n: Node) => string;

function batched(ctx: DagContext, n: Node, visit: Visit, where: string | undefined): string {
  const { b } = ctx;
  const unmapped = (reason: string) => new UnmappedOp(n.op, where, reason);
  if (isLoopOp(n.op)) throw new Error(`internal: the ${n.op} #${n.id} is written outside its recurrence's body`);
  if (isElementwiseOp(n.op)) return elementwise(ctx, n, visit, unmapped);
  const [a] = n.inputs;
  switch (n.op) {
    case "input":
    case "target":
    case "counter":
    case "batchSize":
      throw unmapped(`the forward pass reads the ${n.op} ${String(n.attr ?? "")}, which the ONNX model has no input for`);
    case "matmul":
      return matmul(ctx, n, visit);
    case "outer": {
      const [x, y] = n.inputs;
      return b.op("Mul", [reshape(ctx, x, visit(x), [x.shape[0], 1]), reshape(ctx, y, visit(y), [1, y.shape[0]])]);
    }
    case "sum":
      return a.shape.length === 0 ? visit(a) : b.op("ReduceSum", [reshape(ctx, a, visit(a), [sizeOf(a.shape)]), b.int64s([1], [-1])], { keepdims: 0 });
    case "logsumexp":
      return a.shape.length === 0 ? visit(a) : b.op("ReduceLogSumExp", [reshape(ctx, a, visit(a), [sizeOf(a.shape)])], { axes: [-1], keepdims: 0 });
    case "reduce": {
      const { kind, axis } = parseReduce(n.attr);
      const onnxAxis = axis + (a.batched ? 1 : 0);
      if (kind === "sum") return b.op("ReduceSum", [visit(a), b.int64s([1], [onnxAxis])], { keepdims: 0 });
      const opType = { max: "ReduceMax", firstMax: "ReduceMax", min: "ReduceMin", prod: "ReduceProd", lse: "ReduceLogSumExp" }[kind];
      return b.op(opType, [visit(a)], { axes: [onnxAxis], keepdims: 0 });
    }
    case "transpose":
    case "view":
    case "slice":
    case "expand":
    case "broadcast":
    case "pack":
    case "concat":
      return gathered(ctx, n, visit);
    case "unslice":
      return unsliced(ctx, n, visit);
    default:
      throw unmapped(`${n.op} is a step of training (a batch statistic or a gradient), not of the inference pass`);
  }
}

// ---- recurrences ----------------------------------------------------------------------------------------

/**
 * A recurrence as one ONNX Scan over axis 1 of its sequences ([batch, T, ...]: the batch stays first, each step's
 * row is [batch, ...]). Its carries are the Scan's state variables (initial values that are not per sample expanded
 * over the batch), its stacks the scan outputs (collected along axis 1), its finals the last states. The body graph
 * is the cell, written node by node like any value; what the cell reads from outside it (values of the parameters,
 * which are initializers, and per-sample values computed before the recurrence) it reads from the enclosing graph,
 * so the body is the same for any T. A recurrence without sequences (`steps`) scans a Range(0, T) it does not read.
 * A reversed recurrence (in a forward pass, a bidirectional layer's reverse direction, which the layer form writes as
 * ONNX's own recurrent op instead) scans its sequences from the last step and prepends its stacks, so that row t is
 * still the value after reading step t. Returns the name of `n`, and names every output of the recurrence that
 * `outputsOf` lists.
 */
function scan(ctx: DagContext, n: Node, outputsOf: LoopOutputsOf, write: Write, where: string | undefined): string {
  const { b } = ctx;
  const loop = recurrenceOf(n);
  const outputs = outputsOf().get(loop) ?? [n];
  if (outputs.some((o) => o.op === "loopSum")) {
    throw new UnmappedOp(n.op, where, "a sum over a recurrence's steps is a step of training (a gradient), not of the inference pass");
  }
  const outer = (m: Node) => write(m, where);
  const hint = (m: Node, base: string) => ctx.graph.hint(m) ?? base;
  const stacks = outputs.filter((o) => o.op === "stack");
  const steps = cellValues(loop, [...stacks.map((o) => o.inputs[0]), ...loop.carries.map((c) => c.next)]).filter((m) => m.op === "step");
  const perSample = batchExpander(ctx, loop, steps, outer);

  const body = b.child();
  const bodyCtx: DagContext = { b: body, graph: ctx.graph, bound: new Map(), leafValue: ctx.leafValue, written: new Map() };
  const bind = (m: Node, base: string) => {
    const name = body.fresh(base);
    bodyCtx.bound.set(m, name);
    return floatInput(name, m.shape);
  };
  const states = loop.carries.map((c) => bind(c.leaf, hint(c.leaf, "carry")));
  const rows = steps.length > 0 ? steps.map((s) => bind(s, `${hint(s.inputs[0], "sequence")}_t`)) : [floatValue(body.fresh("step"), [])];
  const inner = writer(bodyCtx, outputsOf, { loop: loop.id, outer: write });
  // every body output is a node of its own: two outputs may be one value, or a value of the body's inputs
  const result = (m: Node, base: string) => floatInput(body.op("Identity", [perSample(body, m, inner(m, where))], {}, base), m.shape);
  const nexts = loop.carries.map((c) => result(c.next, `${hint(c.leaf, "carry")}_next`));
  const collected = stacks.map((o) => result(o.inputs[0], `${hint(o, "stack")}_t`));

  const initial = loop.carries.map((c) => perSample(b, c.init, outer(c.init)));
  const scanned = steps.length > 0 ? steps.map((s) => perSample(b, s.inputs[0], outer(s.inputs[0]))) : [b.op("Range", [b.scalar(0), b.scalar(loop.length), b.scalar(1)], {}, "steps")];
  const names = b.opMany("Scan", [...initial, ...scanned], loop.carries.length + stacks.length, {
    body: { graph: body.graph(`recurrence_${loop.id}_step`, [...states, ...rows], [...nexts, ...collected]) },
    num_scan_inputs: scanned.length,
    scan_input_axes: scanned.map(() => (steps.length > 0 ? 1 : 0)),
    ...(stacks.length > 0 ? { scan_output_axes: stacks.map(() => 1) } : {}),
    ...(loop.reverse ? { scan_input_directions: scanned.map(() => 1), ...(stacks.length > 0 ? { scan_output_directions: stacks.map(() => 1) } : {}) } : {}),
  }, "scan");
  for (const o of outputs) ctx.written.set(o, o.op === "final" ? names[carryOfAttr(o.attr)] : names[loop.carries.length + stacks.indexOf(o)]);
  return ctx.written.get(n) ?? names[0];
}

/**
 * A value as a per-sample tensor [batch, ...] in the graph `into` (the enclosing one or the body): a value of the
 * parameters alone is expanded over the batch, whose size is read (once, in the enclosing graph) from a per-sample
 * value the recurrence starts from, or else from a graph input.
 */
function batchExpander(ctx: DagContext, loop: Recurrence, steps: readonly Node[], outer: (m: Node) => string) {
  const { b } = ctx;
  let batch: string | undefined;
  const batchSize = (): string => {
    const reference = [...loop.carries.map((c) => c.init), ...steps.map((s) => s.inputs[0])].find((m) => m.batched);
    const name = reference ? outer(reference) : [...ctx.bound].find(([m]) => m.batched)?.[1];
    if (name === undefined) throw new Error(`internal: recurrence ${loop.id} has no per-sample value to read the batch size from`);
    return b.batchSize(name, "batch");
  };
  return (into: GraphBuilder, m: Node, name: string): string => {
    if (m.batched) return name;
    batch ??= batchSize();
    const shape = b.cached(`batched|${batch}|${m.shape.join(",")}`, () => b.op("Concat", [batch as string, b.int64s([m.shape.length], [...m.shape])], { axis: 0 }));
    return into.op("Expand", [name, shape]);
  };
}

// ---- elementwise ----------------------------------------------------------------------------------------

const DIRECT: Partial<Record<ElementwiseOp, string>> = {
  neg: "Neg", exp: "Exp", log: "Log", sqrt: "Sqrt", abs: "Abs", sign: "Sign", tanh: "Tanh", sigmoid: "Sigmoid", softplus: "Softplus",
  sin: "Sin", cos: "Cos", tan: "Tan", asin: "Asin", acos: "Acos", atan: "Atan", sinh: "Sinh", cosh: "Cosh", asinh: "Asinh", acosh: "Acosh", atanh: "Atanh",
  erf: "Erf", floor: "Floor", ceil: "Ceil", add: "Add", sub: "Sub", mul: "Mul", div: "Div", pow: "Pow", max: "Max", min: "Min",
};

function elementwise(ctx: DagContext, n: Node, visit: Visit, unmapped: (reason: string) => UnmappedOp): string {
  const { b } = ctx;
  const op = n.op as ElementwiseOp;
  // relu is max(0, x) in the DAG
  if (op === "max" && n.inputs[0].op === "const" && n.inputs[0].attr === 0) return b.op("Relu", [visit(n.inputs[1])]);
  const args = n.inputs.map((m) => (m.batched && m.shape.length < n.shape.length ? asRank(ctx, m, visit(m), n.shape.length) : visit(m)));
  const [x, y] = args;
  const direct = DIRECT[op];
  if (direct) return b.op(direct, args);
  const c = (v: number) => b.scalar(v);
  const toFloat = (t: string) => b.op("Cast", [t], { to: 1 });
  switch (op) {
    case "expm1":
      return b.op("Sub", [b.op("Exp", [x]), c(1)]);
    case "log1p":
      return b.op("Log", [b.op("Add", [x, c(1)])]);
    case "log2":
      return b.op("Div", [b.op("Log", [x]), c(Math.LN2)]);
    case "log10":
      return b.op("Div", [b.op("Log", [x]), c(Math.LN10)]);
    case "cbrt":
      return b.op("Mul", [b.op("Sign", [x]), b.op("Pow", [b.op("Abs", [x]), c(1 / 3)])]);
    case "erfc":
      return b.op("Sub", [c(1), b.op("Erf", [x])]);
    case "round": // half away from zero
      return b.op("Mul", [b.op("Sign", [x]), b.op("Floor", [b.op("Add", [b.op("Abs", [x]), c(0.5)])])]);
    case "mod": // x − y·floor(x/y), the sign of the divisor
      return b.op("Sub", [x, b.op("Mul", [y, b.op("Floor", [b.op("Div", [x, y])])])]);
    case "gt":
      return toFloat(b.op("Greater", [x, y]));
    case "ge":
      return toFloat(b.op("GreaterOrEqual", [x, y]));
    case "eq":
      return toFloat(b.op("Equal", [x, y]));
    case "ne":
      return toFloat(b.op("Not", [b.op("Equal", [x, y])]));
    case "select":
      return b.op("Where", [b.op("Cast", [x], { to: 9 }), args[1], args[2]]);
    case "atan2":
      return atan2(ctx.b, x, y);
    default:
      throw unmapped(`${op} has no ONNX form in bpgen's exporter`);
  }
}

/**
 * atan2(y, x), which ONNX lacks, from Atan: atan(y/x) for x > 0; for x < 0 that shifted by π toward y's side (+π
 * for y ≥ 0); for x = 0, π/2 times the sign of y, so atan2(0, 0) = 0 as Math.atan2 gives (Where picks per element:
 * what y/x is where x = 0 is never read). Zeros are not told apart by their sign (Math.atan2(−0, −1) is −π, here π).
 */
function atan2(b: GraphBuilder, y: string, x: string): string {
  const zero = b.scalar(0);
  const ratio = b.op("Atan", [b.op("Div", [y, x])]);
  const leftHalf = b.op("Add", [ratio, b.op("Where", [b.op("GreaterOrEqual", [y, zero]), b.scalar(Math.PI), b.scalar(-Math.PI)])]);
  const vertical = b.op("Mul", [b.op("Sign", [y]), b.scalar(Math.PI / 2)]);
  return b.op("Where", [b.op("Greater", [x, zero]), ratio, b.op("Where", [b.op("Less", [x, zero]), leftHalf, vertical])]);
}

// ---- contractions ----------------------------------------------------------------------------------------

/** Matrix and vector products: vectors become a row (left) or a column (right), ONNX's MatMul broadcasts the batch. */
function matmul(ctx: DagContext, n: Node, visit: Visit): string {
  const [a, c] = n.inputs;
  const left = a.shape.length === 1 ? reshape(ctx, a, visit(a), [1, a.shape[0]]) : visit(a);
  const right = c.shape.length === 1 ? reshape(ctx, c, visit(c), [c.shape[0], 1]) : visit(c);
  return reshape(ctx, n, ctx.b.op("MatMul", [left, right]), n.shape);
}

/** `name` (the value of `n`) as a tensor of the per-sample shape `shape` (the batch kept in front when batched). */
function reshape(ctx: DagContext, n: Node, name: string, shape: readonly number[]): string {
  // a reshape of a reshape reads the first one's operand (the first is left out of the model if nothing else reads it)
  const before = ctx.b.producer(name);
  const source = before?.opType === "Reshape" ? (before.input?.[0] ?? name) : name;
  return ctx.b.op("Reshape", [source, ctx.b.int64s([shape.length + (n.batched ? 1 : 0)], n.batched ? [-1, ...shape] : [...shape])]);
}

/** A batched scalar made rank `rank` with axes of 1 after the batch, so that it broadcasts over the others. */
function asRank(ctx: DagContext, n: Node, name: string, rank: number): string {
  if (!n.batched || n.shape.length > 0 || rank === 0) return name;
  return ctx.b.op("Unsqueeze", [name, ctx.b.int64s([rank], Array.from({ length: rank }, (_, k) => k + 1))]);
}

// ---- elements moved ----------------------------------------------------------------------------------------

/**
 * Where each element of `n` comes from, as positions in the concatenation of its operands flattened: the op
 * table's evaluation of `n` on operands that hold their own positions.
 */
function sources(n: Node): Float64Array {
  let offset = 0;
  const positions = n.inputs.map((m) => {
    const size = sizeOf(m.shape);
    const values = Float64Array.from({ length: size }, (_, i) => offset + i);
    offset += size;
    return values;
  });
  return OPS[n.op].evaluate(positions, n);
}

/** `n` as one Gather from its operands, flattened and joined (unbatched ones repeated over the batch). */
function gathered(ctx: DagContext, n: Node, visit: Visit): string {
  const { b } = ctx;
  const flat = joined(ctx, n, visit);
  const at = Array.from(sources(n));
  const total = n.inputs.reduce((s, m) => s + sizeOf(m.shape), 0);
  if (at.length === total && at.every((p, i) => p === i)) return reshape(ctx, n, flat, n.shape);
  return b.op("Gather", [flat, b.int64s(n.shape.length === 0 ? [] : [...n.shape], at)], { axis: 1 });
}

/** The operands of `n` as one [batch, Σ sizes] tensor. */
function joined(ctx: DagContext, n: Node, visit: Visit): string {
  const { b } = ctx;
  const reference = n.inputs.find((m) => m.batched);
  if (!reference) throw new Error(`internal: the batched ${n.op} #${n.id} reads no batched value`);
  const batchOf = () => b.batchSize(visit(reference));
  const parts = n.inputs.map((m) => {
    const size = sizeOf(m.shape);
    if (m.batched) return reshape(ctx, m, visit(m), [size]);
    const row = b.op("Reshape", [visit(m), b.int64s([2], [1, size])]);
    return b.op("Expand", [row, b.op("Concat", [batchOf(), b.int64s([1], [size])], { axis: 0 })]);
  });
  return parts.length === 1 ? parts[0] : b.op("Concat", parts, { axis: 1 });
}

/** The operand placed in a tensor of its fill value: a Gather from [fill, operand...], position 0 the fill. */
function unsliced(ctx: DagContext, n: Node, visit: Visit): string {
  const { b } = ctx;
  const [a] = n.inputs;
  const parts = parseSlice(n.attr);
  const at = new Array<number>(sizeOf(n.shape)).fill(0);
  for (let i = 0; i < sizeOf(a.shape); i++) at[wholeIndex(i, parts, n.shape)] = i + 1;
  const batchOf = b.batchSize(visit(a));
  const fill = b.op("Expand", [b.floats("fill", [1, 1], [unsliceFill(n.attr)]), b.op("Concat", [batchOf, b.int64s([1], [1])], { axis: 0 })]);
  const withFill = b.op("Concat", [fill, reshape(ctx, a, visit(a), [sizeOf(a.shape)])], { axis: 1 });
  return b.op("Gather", [withFill, b.int64s([...n.shape], at)], { axis: 1 });
}
