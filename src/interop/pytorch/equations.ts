/**
 * A network of the equation form as a PyTorch module: its expression DAG (frontend/equations.ts, after the
 * simplifier) printed node by node as torch operations, in the order of the nodes (a node's inputs come before
 * it). A value of one sample is a tensor [batch, ...shape]; a value of the parameters alone is [...shape]. The
 * parameters are an nn.ParameterDict `p` (state_dict names `p.<name>`); the module's load and save read and
 * write bpgen's names, so the files are bpgen's safetensors with bpgen's names on both sides.
 *
 * Views (reshapes, transposes, windows) read their elements through an index table made once (a buffer), and
 * their adjoints add through the same table, so that every view of the DAG is one gather or one index_add.
 * A recurrence is a Python loop over its steps: its cell's values are printed by the same writer inside the
 * loop, its carried values are variables reassigned at the end of each step, and what it collects at every step
 * is stacked after the loop; autograd differentiates through the loop (backpropagation through time). Random
 * numbers (only dropout makes them, which the layer form exports as nn.Dropout) are not written: one BpgenError
 * says so.
 */
import type { ErrorDetail } from "../../errors.ts";
import { carryOfAttr } from "../../ir/graph.ts";
import { parseAxisMap, parseReduce, parseSlice, parseView, unsliceFill } from "../../ir/axes.ts";
import type { Net } from "../../ir/net.ts";
import { type ElementwiseOp, type Node, type Recurrence, type Shape, cellValues, isLoopOutput, loopOutputs, recurrenceOf } from "../../ir/node.ts";
import type { EquationNetSpec, EquationEntry } from "../../spec/types.ts";
import { identifier, numberLiteral, py, pyString, tuple as tupleOf } from "./literals.ts";
import { INITIALISE, SAFETENSORS, initLiteral, loadAndSave } from "./python.ts";

const sizeOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/** torch for each elementwise op of the op table (ir/ops.ts), its operands' expressions given. */
const ELEMENTWISE: Record<Exclude<ElementwiseOp, "uniform">, (a: string[]) => string> = {
  neg: ([a]) => `-${a}`,
  exp: ([a]) => `torch.exp(${a})`,
  log: ([a]) => `torch.log(${a})`,
  sqrt: ([a]) => `torch.sqrt(${a})`,
  abs: ([a]) => `torch.abs(${a})`,
  sign: ([a]) => `torch.sign(${a})`,
  tanh: ([a]) => `torch.tanh(${a})`,
  sigmoid: ([a]) => `torch.sigmoid(${a})`,
  // bpgen's overflow-free form (PyTorch's softplus returns x above 20)
  softplus: ([a]) => `(${a}.clamp(min=0) + torch.log1p(torch.exp(-${a}.abs())))`,
  expm1: ([a]) => `torch.expm1(${a})`,
  log1p: ([a]) => `torch.log1p(${a})`,
  log2: ([a]) => `torch.log2(${a})`,
  log10: ([a]) => `torch.log10(${a})`,
  cbrt: ([a]) => `(torch.sign(${a}) * ${a}.abs().pow(1.0 / 3.0))`,
  sin: ([a]) => `torch.sin(${a})`,
  cos: ([a]) => `torch.cos(${a})`,
  tan: ([a]) => `torch.tan(${a})`,
  asin: ([a]) => `torch.asin(${a})`,
  acos: ([a]) => `torch.acos(${a})`,
  atan: ([a]) => `torch.atan(${a})`,
  sinh: ([a]) => `torch.sinh(${a})`,
  cosh: ([a]) => `torch.cosh(${a})`,
  asinh: ([a]) => `torch.asinh(${a})`,
  acosh: ([a]) => `torch.acosh(${a})`,
  atanh: ([a]) => `torch.atanh(${a})`,
  erf: ([a]) => `torch.erf(${a})`,
  erfc: ([a]) => `torch.erfc(${a})`,
  floor: ([a]) => `torch.floor(${a})`,
  ceil: ([a]) => `torch.ceil(${a})`,
  // halves away from 0, as mathjs (torch.round rounds them to even)
  round: ([a]) => `(torch.sign(${a}) * torch.floor(${a}.abs() + 0.5))`,
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  pow: ([a, b]) => `torch.pow(${a}, ${b})`,
  atan2: ([a, b]) => `torch.atan2(${a}, ${b})`,
  // x − y·floor(x/y), the sign of y: mathjs's mod and torch.remainder
  mod: ([a, b]) => `torch.remainder(${a}, ${b})`,
  max: ([a, b]) => `torch.maximum(${a}, ${b})`,
  min: ([a, b]) => `torch.minimum(${a}, ${b})`,
  gt: ([a, b]) => `(${a} > ${b}).to(${a}.dtype)`,
  ge: ([a, b]) => `(${a} >= ${b}).to(${a}.dtype)`,
  eq: ([a, b]) => `(${a} == ${b}).to(${a}.dtype)`,
  ne: ([a, b]) => `(${a} != ${b}).to(${a}.dtype)`,
  select: ([c, a, b]) => `torch.where(${c} != 0, ${a}, ${b})`,
};

/** The elements of a flat tensor of `size` a view reads: as_strided's shape, strides and offset. */
interface Table {
  readonly name: string;
  readonly size: number;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

/** The Python statements computing the nodes `roots` need, one per node, and the index tables their views read. */
class Printer {
  readonly lines: string[] = [];
  readonly problems: ErrorDetail[] = [];
  private readonly printed = new Map<Node, string>();
  /** The outputs of each recurrence that the roots being printed read. */
  private outputsOf = new Map<Recurrence, Node[]>();
  /** Loops the current line is in (1 inside a recurrence's loop). */
  private depth = 0;

  /** `tables` is shared by the module's functions: a view read in two of them has one table. */
  constructor(
    private readonly net: Net,
    private readonly shared: Map<string, string>,
    private readonly tables: Table[],
  ) {}

  /** The variables holding `roots`, printing what they need first. */
  print(roots: readonly Node[]): string[] {
    // every output of a recurrence the roots read, so that one loop computes them all
    this.outputsOf = loopOutputs(roots);
    return roots.map((r) => this.value(r));
  }

  /** The variable holding `n`, printing what it needs first. */
  value(n: Node): string {
    const known = this.printed.get(n);
    if (known !== undefined) return known;
    if (isLoopOutput(n)) {
      this.recurrence(recurrenceOf(n), n);
      return this.printed.get(n) as string;
    }
    const inputs = n.inputs.map((i) => this.value(i));
    const expr = this.expression(n, inputs);
    if (/^[A-Za-z_][\w.]*$/.test(expr)) {
      this.printed.set(n, expr);
      return expr;
    }
    const name = `v${n.id}`;
    this.line(`${name} = ${expr}${this.comment(n)}`);
    this.printed.set(n, name);
    return name;
  }

  private line(text: string): void {
    this.lines.push(`${"    ".repeat(this.depth)}${text}`);
  }

  private comment(n: Node, prefix = ""): string {
    const hint = this.net.graph.hint(n);
    return hint ? `  # ${prefix}${hint.replace(/[\r\n]/g, " ")}` : "";
  }

  /**
   * A recurrence as a Python loop over its steps, `asked` one of its outputs: what its steps read from outside
   * (parameters, the sequences, values computed once) first, then the carried values' variables, each starting as
   * its initial value over the batch; in the loop the cell's values of one step, each [batch, ...shape], the values
   * collected at every step appended to lists, and the carried values replaced by their next ones; after it, the
   * lists stacked into sequences [batch, T, ...]. A final value is its carried variable after the last step.
   */
  private recurrence(loop: Recurrence, asked: Node): void {
    const outputs = this.outputsOf.get(loop) ?? [asked];
    const collected = outputs.map((o) => o.inputs[0]);
    const nexts = loop.carries.map((c) => c.next);
    const cell = cellValues(loop, [...collected, ...nexts]);
    const outside = [...cell.flatMap((n) => n.inputs), ...collected, ...nexts, ...loop.carries.map((c) => c.init)].filter((n) => n.loop !== loop.id);
    for (const n of [...new Set(outside)].sort((a, b) => a.id - b.id)) this.value(n);
    const carried = loop.carries.map((c) => `v${c.leaf.id}`);
    const names = loop.carries.map((c) => this.net.graph.hint(c.leaf) ?? "a value");
    this.line(`# a recurrence of ${loop.length} steps carrying ${names.join(", ")}: one Python loop (autograd runs it backwards: backpropagation through time)`);
    loop.carries.forEach((c, k) => {
      this.line(`${carried[k]} = ${this.batchedAs(c.init, this.value(c.init), true)}${this.comment(c.leaf, "carried: ")}`);
      this.printed.set(c.leaf, carried[k]);
    });
    const lists = outputs.map((o) => `v${o.id}_steps`);
    outputs.forEach((o, j) => {
      if (o.op === "stack") this.line(`${lists[j]} = []${this.comment(o, "every step's ")}`);
      if (o.op === "loopSum") this.line(`${lists[j]} = 0.0`);
    });
    this.line(`for t in ${loop.reverse ? `range(${loop.length - 1}, -1, -1)` : `range(${loop.length})`}:`);
    this.depth++;
    for (const n of cell) this.value(n);
    outputs.forEach((o, j) => {
      const v = this.batchedAs(o.inputs[0], this.value(o.inputs[0]), true);
      if (o.op === "stack") this.line(loop.reverse ? `${lists[j]}.insert(0, ${v})` : `${lists[j]}.append(${v})`);
      if (o.op === "loopSum") this.line(`${lists[j]} = ${lists[j]} + ${v}`);
    });
    const next = nexts.map((n) => this.batchedAs(n, this.value(n), true));
    this.line(carried.length === 1 ? `${carried[0]} = ${next[0]}` : `${carried.join(", ")} = ${next.join(", ")}`);
    this.depth--;
    // the cell's values are the last step's from here on: nothing outside the loop reads them
    for (const n of cell) this.printed.delete(n);
    outputs.forEach((o, j) => {
      if (o.op === "stack") this.line(`v${o.id} = torch.stack(${lists[j]}, 1)${this.comment(o)}`);
      this.printed.set(o, o.op === "final" ? carried[carryOfAttr(o.attr)] : o.op === "stack" ? `v${o.id}` : lists[j]);
    });
  }

  /** A value of the parameters alone broadcast over the batch, when `batched` asks for one. */
  private batchedAs(n: Node, v: string, batched: boolean): string {
    return batched && !n.batched ? `${v}.expand(n, ${n.shape.map(() => "-1").join(", ")})`.replace(", )", ")") : v;
  }

  /** An operand of an elementwise op of rank `rank`: a batched scalar (or lower rank) gets unit axes after the batch. */
  private aligned(n: Node, v: string, rank: number): string {
    if (!n.batched || n.shape.length === rank) return v;
    return `${v}.reshape(n, ${[...Array(rank - n.shape.length).fill(1), ...n.shape].join(", ")})`;
  }

  private expression(n: Node, inputs: string[]): string {
    const b = n.batched ? 1 : 0;
    const lead = n.batched ? "n, " : "";
    const [a] = inputs;
    const operand = n.inputs[0];
    switch (n.op) {
      case "param":
        return `self.p[${pyString(String(this.leafName(n)))}]`;
      case "input":
      case "target":
        return this.leafName(n);
      case "const":
        return `x.new_tensor(${numberLiteral(Number(n.attr))})`;
      case "batchSize":
        return "x.new_tensor(float(n))";
      case "matmul":
        return this.matmul(n, inputs);
      case "transpose":
        return `${a}.transpose(-1, -2)`;
      case "outer": {
        const [p, q] = n.inputs;
        return `torch.einsum(${pyString(`${p.batched ? "z" : ""}i,${q.batched ? "z" : ""}j->${n.batched ? "z" : ""}ij`)}, ${inputs[0]}, ${inputs[1]})`;
      }
      case "sum":
        return operand.batched ? `${a}.reshape(n, -1).sum(1)` : `${a}.sum()`;
      case "logsumexp":
        return operand.batched ? `torch.logsumexp(${a}.reshape(n, -1), 1)` : `torch.logsumexp(${a}.reshape(-1), 0)`;
      case "broadcast":
        return operand.batched ? `${a}.reshape(n, ${n.shape.map(() => 1).join(", ")}).expand(n, ${n.shape.join(", ")})` : `${a}.expand(${tupleOf(n.shape)})`;
      case "batchMean":
        return operand.batched ? `${a}.mean(0)` : a;
      case "reduce": {
        const { kind, axis } = parseReduce(n.attr);
        const dim = axis + b;
        const reduce = { sum: `${a}.sum(${dim})`, max: `${a}.amax(${dim})`, firstMax: `${a}.max(${dim}).values`, min: `${a}.amin(${dim})`, prod: `${a}.prod(${dim})`, lse: `torch.logsumexp(${a}, ${dim})` };
        return reduce[kind];
      }
      case "expand": {
        const map = parseAxisMap(n.attr);
        if (map.some((d, k) => d !== null && map.slice(k + 1).some((e) => e !== null && e < d))) return this.refuse(n, "a broadcast that permutes axes");
        const view = map.map((d) => (d === null ? 1 : operand.shape[d]));
        return `${this.batchedAs(operand, a, n.batched)}.reshape(${lead}${view.join(", ")}).expand(${lead}${n.shape.join(", ")})`.replace(", )", ")");
      }
      case "sumTo": {
        const map = parseAxisMap(n.attr);
        const big = operand.shape;
        const summed = big.map((_, d) => d).filter((d) => map[d] === null || n.shape[map[d] as number] === 1);
        if (summed.length === 0) return `${a}.reshape(${lead}${n.shape.join(", ")})`.replace(", )", ")");
        return `${a}.sum(dim=${tupleOf(summed.map((d) => d + b))}).reshape(${lead}${n.shape.join(", ")})`.replace(", )", ")");
      }
      case "slice":
        return `${a}[${[...(operand.batched ? [":"] : []), ...parseSlice(n.attr).map((p) => (p.keep ? `${p.start}:${p.start + p.count}` : String(p.start)))].join(", ")}]`;
      case "unslice": {
        const index = [...(n.batched ? [":"] : []), ...parseSlice(n.attr).map((p) => (p.keep ? `${p.start}:${p.start + p.count}` : String(p.start)))];
        return `_placed(${a}, ${tupleOf(n.batched ? ["n", ...n.shape] : n.shape)}, (${index.map((i) => (i === ":" ? "slice(None)" : i.includes(":") ? `slice(${i.replace(":", ", ")})` : i)).join(", ")},), ${numberLiteral(unsliceFill(n.attr))})`;
      }
      case "view":
      case "unview": {
        const view = parseView(n.attr);
        const [source, read] = n.op === "view" ? [operand.shape, n.shape] : [n.shape, operand.shape];
        const table = `self.${this.table({ name: `view${this.tables.length}`, size: sizeOf(source), shape: read, strides: view.strides, offset: view.offset })}`;
        if (n.op === "view") return operand.batched ? `${a}.reshape(n, -1)[:, ${table}].reshape(${lead}${read.join(", ")})`.replace(", )", ")") : `${a}.reshape(-1)[${table}].reshape(${tupleOf(read)})`;
        return `_added(${a}, ${table}, ${sizeOf(source)}, ${tupleOf(n.shape)}, ${py(operand.batched)})`;
      }
      case "pack":
        return `torch.stack([${n.inputs.map((i, k) => this.batchedAs(i, inputs[k], n.batched)).join(", ")}], ${b})`;
      case "step":
        return operand.batched ? `${a}[:, t]` : `${a}[t].expand(n${n.shape.map(() => ", -1").join("")})`;
      case "concat":
        return `torch.cat([${n.inputs.map((i, k) => this.batchedAs(i, inputs[k], n.batched)).join(", ")}], ${Number(n.attr) + b})`;
      default:
        if (n.op in ELEMENTWISE) return ELEMENTWISE[n.op as keyof typeof ELEMENTWISE](n.inputs.map((i, k) => this.aligned(i, inputs[k], n.shape.length)));
        return this.refuse(n, n.op === "uniform" || n.op === "counter" || n.op === "state" ? "random numbers and state (dropout)" : `the op ${n.op}`);
    }
  }

  /** The name of the index table of a view, made when first asked for. */
  private table(t: Table): string {
    const key = JSON.stringify([t.size, t.shape, t.strides, t.offset]);
    const known = this.shared.get(key);
    if (known !== undefined) return known;
    this.shared.set(key, t.name);
    this.tables.push(t);
    return t.name;
  }

  private matmul(n: Node, inputs: string[]): string {
    const [p, q] = n.inputs;
    const left = `${p.batched ? "z" : ""}${p.shape.length === 2 ? "ik" : "k"}`;
    const right = `${q.batched ? "z" : ""}${q.shape.length === 2 ? "kj" : "k"}`;
    const out = `${n.batched ? "z" : ""}${p.shape.length === 2 ? "i" : ""}${q.shape.length === 2 ? "j" : ""}`;
    return `torch.einsum(${pyString(`${left},${right}->${out}`)}, ${inputs[0]}, ${inputs[1]})`;
  }

  private leafName(n: Node): string {
    const leaf = [...this.net.params, ...this.net.inputs, ...this.net.targets].find((l) => l.node === n);
    if (!leaf) throw new Error(`internal: a leaf ${n.op} of no name`);
    if (n.op === "param") return leaf.name;
    return `${n.op === "input" ? "in" : "tg"}_${identifier(leaf.name)}`;
  }

  private refuse(n: Node, what: string): string {
    if (!this.problems.some((p) => p.message.includes(what))) {
      this.problems.push({ message: `the PyTorch exporter does not write ${what} of the equation form`, found: `the ${n.op} of ${this.net.graph.hint(n) ?? "a value"}` });
    }
    return "None";
  }
}


/**
 * An activation as a Python function of a tensor of any shape: `net` is a network of one activation layer on an
 * input of one value, whose output's graph must be elementwise (ops of the op table, the input and constants).
 */
export function elementwiseFunction(net: Net, name: string): { text: string; problems: ErrorDetail[] } {
  const seen = new Set<Node>();
  const visit = (n: Node): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    return (n.op === "input" || n.op === "const" || n.op in ELEMENTWISE) && n.inputs.every(visit);
  };
  if (!visit(net.output)) return { text: "", problems: [{ message: "the PyTorch exporter writes activations that are elementwise expressions of x" }] };
  const printer = new Printer(net, new Map(), []);
  const result = printer.value(net.output);
  const body = printer.lines.map((l) => `    ${l}`).join("\n");
  const text = `\n\ndef ${identifier(name)}(x):\n    in_x = x\n${body}${body ? "\n" : ""}    return ${result}\n`;
  return { text, problems: printer.problems };
}

/** A value for every sample: one of the parameters alone (an output or a loss that reads no input) repeated over the batch. */
const overBatch = (n: Node, v: string) => (n.batched ? v : `${v}.expand(n${n.shape.map((d) => `, ${d}`).join("")})`);

/** Statements unpacking flat rows into the leaves, each [n, ...shape]. */
function unpack(leaves: readonly { name: string; shape: Shape }[], rows: string, prefix: string): string[] {
  let at = 0;
  return leaves.map((l) => {
    const size = sizeOf(l.shape);
    const line = `${prefix}_${l.name} = ${rows}[:, ${at}:${at + size}].reshape(n${l.shape.map((d) => `, ${d}`).join("")})`;
    at += size;
    return line;
  });
}

export interface EquationModule {
  readonly text: string;
  readonly problems: readonly ErrorDetail[];
}

/** The text of `<name>.py` for a network of the equation form. */
export function equationModuleFile(spec: EquationNetSpec<EquationEntry>, net: Net, file: string, version: string): EquationModule {
  const shared = new Map<string, string>();
  const tables: Table[] = [];
  const body = (roots: Node[]) => {
    const printer = new Printer(net, shared, tables);
    const values = printer.print(roots);
    return { printer, values };
  };
  const forward = body([net.output]);
  // the objective is the batch mean of the loss, plus the regularizer when there is one (frontend/equations.ts)
  const regularizer = net.objective.op === "add" ? net.objective.inputs[1] : undefined;
  const loss = body([net.loss]);
  const penalty = regularizer ? body([regularizer]) : undefined;
  const problems = [...forward.printer.problems, ...loss.printer.problems, ...(penalty?.printer.problems ?? [])];
  const indent = (lines: string[]) => lines.map((l) => `        ${l}`).join("\n");
  const inputSize = net.inputs.reduce((s, l) => s + sizeOf(l.shape), 0);
  const targetSize = net.targets.reduce((s, l) => s + sizeOf(l.shape), 0);
  const penaltyValue = penalty ? penalty.printer.lines : [];
  const text = `"""The network ${spec.name} (bpgen's equation form) as a PyTorch module, written by bpgen ${version} (bpgen export --to pytorch) from ${pyString(file).slice(1, -1).replace(/"""/g, "")}.

Net() computes the network's expression graph with torch operations, node by node. It reads rows of
${inputSize} numbers (the inputs ${net.inputs.map((l) => l.name).join(", ")}, each flattened, in that order) and the targets as rows of
${targetSize} numbers, as bpgen's module does. Its parameters are Net().p, by bpgen's names; load and save read and
write safetensors files with bpgen's names (bpgen train writes them so for the equation form).

  net(x)               bpgen's forward: the output ${pyString(spec.output)}
  net.loss(x, y)       bpgen's loss of each sample, [batch]
  net.objective(x, y)  J: the batch mean of the loss plus the regularizer
"""
import json
import struct
import sys

import torch
from torch import nn

NET_NAME = ${pyString(spec.name)}
INPUT_SHAPE = (${inputSize},)
TARGET_SIZE = ${targetSize}
L2_PARAMETERS = ()
OPTIMIZER = ${optimizerText(spec)}
# each parameter's initialisation, bpgen's: a constant, Xavier (Glorot) uniform in ±limit, or He normal of std
INIT = {
${net.params.map((l) => `    ${pyString(`p.${l.name}`)}: ${initLiteral(l.init)},`).join("\n")}
}
${INITIALISE}

def _placed(part, shape, index, fill):
    """A tensor of \`shape\` holding \`fill\` with \`part\` at \`index\` (the adjoint of a slice, or padding)."""
    out = part.new_full(shape, fill)
    out[index] = part
    return out


def _added(values, table, size, shape, batched):
    """The adjoint of a view: each of \`values\` added to the element of a tensor of \`shape\` it was read from."""
    if batched:
        flat = values.new_zeros((values.shape[0], size)).index_add(1, table.reshape(-1), values.reshape(values.shape[0], -1))
        return flat.reshape((values.shape[0],) + shape)
    return values.new_zeros(size).index_add(0, table.reshape(-1), values.reshape(-1)).reshape(shape)


def _table(size, shape, strides, offset):
    """The element of a flat tensor of \`size\` that each element of a view reads."""
    return torch.as_strided(torch.arange(size), shape, strides, offset).clone()


class Net(nn.Module):
    """${spec.name}: ${net.params.length} parameter tensor${net.params.length === 1 ? "" : "s"}, the loss ${pyString(spec.loss).slice(1, -1)}."""

    def __init__(self):
        super().__init__()
        self.p = nn.ParameterDict({
${net.params.map((l) => `            ${pyString(l.name)}: nn.Parameter(torch.zeros(${tupleOf(l.shape)})),`).join("\n")}
        })
        initialise(self, INIT)
${tables.map((t) => `        self.register_buffer("${t.name}", _table(${t.size}, ${tupleOf(t.shape)}, ${tupleOf(t.strides)}, ${t.offset}), persistent=False)`).join("\n")}

    def forward(self, x):
        """bpgen's forward: [batch, ${net.output.shape.join(", ")}]."""
        n = x.shape[0]
        x = x.reshape(n, -1)
${indent(unpack(net.inputs, "x", "in"))}
${indent(forward.printer.lines)}
        return ${overBatch(net.output, forward.values[0])}

    def loss(self, x, y):
        """bpgen's loss of each sample, [batch]."""
        n = x.shape[0]
        x, y = x.reshape(n, -1), y.reshape(n, -1)
${indent([...unpack(net.inputs, "x", "in"), ...unpack(net.targets, "y", "tg")])}
${indent(loss.printer.lines)}
        return ${overBatch(net.loss, loss.values[0])}

    def penalty(self):
        """The regularizer (0 without one)."""
${penalty ? `        x = next(self.parameters())\n        n = 1\n${indent(penaltyValue)}\n        return ${penalty.values[0]}` : "        return 0.0"}

    def objective(self, x, y):
        """J: the batch mean of the loss, plus the regularizer."""
        return self.loss(x, y).mean() + self.penalty()


${loadAndSave("bpgen")}
${SAFETENSORS}`;
  return { text, problems };
}

function optimizerText(spec: EquationNetSpec<EquationEntry>): string {
  const o = spec.optimizer ?? { type: "adam" as const, lr: 0.001 };
  const entries = Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${pyString(k)}: ${typeof v === "number" ? numberLiteral(v) : typeof v === "boolean" ? py(v) : pyString(String(v))}`);
  return `{${entries.join(", ")}}`;
}
