/**
 * TypeScript for kernel-IR statements: one line (or block) per statement, each computation under the
 * comment with the formula it computes. Loops get the names of their variables here (i, j, k… never
 * shadowing an enclosing one); a sample loop opens with the row offsets it uses (`const xRow = s * 784;`).
 * Contractions call the library kernel of their pattern (templates/dense.ts).
 */
import type { Node } from "../../ir/node.ts";
import { printer } from "../../ir/notation.ts";
import { type Buffer, type Contraction, type Index, type Note, type Stmt, type Var, coefficient } from "../../lower/kernel.ts";
import { ownExprs, visitExpr, visitStmts } from "../../lower/walk.ts";
import { commentText } from "../../emit/literals.ts";
import type { IrNames } from "../../lower/names.ts";
import { type Scope, elementText, expressionCode, expressionText, indexText } from "./expressions.ts";
import { type Printed, atom, binary, lineText, numberText, unformattedLines } from "./layout.ts";

const ROW_NAMES: Partial<Record<Buffer["role"], string>> = { inputs: "xRow", targets: "yRow", out: "outRow" };
const LOOP_NAMES = ["i", "j", "k", "l", "m", "n"];

/** Prints one function body. */
export function printBody(body: readonly Stmt[], names: IrNames): Printed[] {
  return new BodyRenderer(names).block(body, { vars: new Map(), rows: new Map() });
}

/** One function body as lines, long statements on one line (unformatted). */
export function renderBody(body: readonly Stmt[], names: IrNames): string[] {
  return unformattedLines(printBody(body, names));
}

interface Frame {
  readonly vars: ReadonlyMap<Var, string>;
  readonly rows: ReadonlyMap<Buffer, string>;
}

/**
 * The comment of a note as the module prints it after `//` (`d_z = d_e · w3`, `d_w1 += d_y · x`): the one
 * printer of notes, which `explain` also quotes, so the two cannot differ.
 */
export function noteComment(note: Note, names: IrNames): string {
  // the formula before the value it assigns: names are claimed in that order
  const rhs = note.rhs ? printer("plain", (n: Node) => names.nodes.of(n)).print(note.rhs) : "";
  const parts = [names.note(note.lhs), note.op, ...(note.lead ? [note.lead] : []), ...(rhs ? [rhs] : []), ...(note.tail && !note.rhs ? [note.tail] : [])];
  return commentText(`${parts.join(" ")}${note.tail && note.rhs ? `, ${note.tail}` : ""}`);
}

class BodyRenderer {
  constructor(private readonly names: IrNames) {}

  /** The statements of a block, with a blank line after each block statement that another statement follows. */
  block(body: readonly Stmt[], frame: Frame): Printed[] {
    const printed = body.flatMap((s) => this.stmt(s, frame));
    return printed.flatMap((p, i) => (typeof p !== "string" && "head" in p && i < printed.length - 1 ? [p, ""] : [p]));
  }

  private scope(frame: Frame): Scope {
    return {
      buffer: (b) => this.names.buffer(b),
      local: (l) => this.names.local(l),
      varName: (v) => {
        const name = frame.vars.get(v);
        if (name === undefined) throw new Error(`internal: loop variable ${v.name} used outside its loop`);
        return name;
      },
      rowName: (buf) => frame.rows.get(buf),
    };
  }

  private stmt(s: Stmt, frame: Frame): Printed[] {
    const scope = this.scope(frame);
    const text = (e: Parameters<typeof expressionText>[0]) => expressionText(e, scope);
    // `if (value > target) target = value;`
    const raise = (value: Parameters<typeof expressionText>[0], target: string, plainTarget: string) =>
      `if (${binary(">", expressionCode(value, scope), atom(target)).text}) ${plainTarget} = ${text(value)};`;
    switch (s.k) {
      case "note":
        return [`// ${noteComment(s.note, this.names)}`];
      case "store": {
        const target = elementText(s.buf, s.index, scope, s.mode !== "=");
        if (s.mode !== "max=") return [{ target, operator: s.mode, value: expressionCode(s.value, scope) }];
        return [raise(s.value, target, elementText(s.buf, s.index, scope, false))];
      }
      case "let":
        return [{ target: `${s.mutable ? "let" : "const"} ${scope.local(s.local)}`, operator: "=", value: expressionCode(s.value, scope) }];
      case "update": {
        const name = scope.local(s.local);
        return [s.mode === "max=" ? raise(s.value, name, name) : { target: name, operator: s.mode, value: expressionCode(s.value, scope) }];
      }
      case "fill": {
        const whole = s.index.c === 0 && s.index.terms.length === 0 && s.count === s.buf.size && s.buf.role === "work";
        const name = scope.buffer(s.buf);
        const value = numberText(s.value);
        return [whole ? `${name}.fill(${value});` : `${name}.fill(${value}, ${s.index.c}, ${s.index.c + s.count});`];
      }
      case "return":
        return [`return ${text(s.value)};`];
      case "ifBatch":
        return [{ head: "if (batch > 1)", body: this.block(s.body, frame) }];
      case "contract":
        return [contractionCall(s.c, (b) => this.names.buffer(b), scope)];
      case "loop":
        return [this.loop(s, frame)];
      case "single":
      case "barrier":
        throw new Error("internal: the TypeScript kernels run on one thread (threads are the WebAssembly kernels')");
    }
  }

  private loop(s: Extract<Stmt, { k: "loop" }>, frame: Frame): Printed {
    const taken = new Set(frame.vars.values());
    const name = s.kind === "samples" ? "s" : ([s.v.name, ...LOOP_NAMES].find((n) => !taken.has(n)) ?? `i${taken.size}`);
    const vars = new Map(frame.vars).set(s.v, name);
    const rows = s.kind === "samples" ? rowOffsets(s.body, s.v) : new Map<Buffer, string>();
    const inner: Frame = { vars, rows: new Map([...frame.rows, ...rows]) };
    const bound = s.v.extent === "batch" ? "batch" : String(s.v.extent);
    const head = s.reverse ? `for (let ${name} = ${bound} - 1; ${name} >= 0; ${name}--)` : `for (let ${name} = 0; ${name} < ${bound}; ${name}++)`;
    const body = this.block(s.body, inner);
    // an accumulator's loop reads as one line
    const line = body.length === 1 ? lineText(body[0]) : undefined;
    if (s.kind === "structure" && s.body.length === 1 && s.body[0].k === "update" && line !== undefined) return `${head} ${line}`;
    const declarations = [...rows].map(([buf, row]) => `const ${row} = ${buf.size === 1 ? name : `${name} * ${buf.size}`};`);
    return { head, body: [...declarations, ...body] };
  }
}

/** The caller's per-sample arrays this sample loop addresses by whole rows, with the name of each row offset. */
function rowOffsets(body: readonly Stmt[], s: Var): Map<Buffer, string> {
  const used = new Set<Buffer>();
  const note = (buf: Buffer, index: { terms: readonly { v: Var; k: number }[] }) => {
    if (buf.perSample && buf.size > 1 && ROW_NAMES[buf.role] && coefficient({ c: 0, terms: index.terms }, s) === buf.size) used.add(buf);
  };
  visitStmts(body, (st) => {
    if (st.k === "store") note(st.buf, st.index);
    for (const e of ownExprs(st)) visitExpr(e, (x) => x.k === "load" && note(x.buf, x.index));
  });
  const order: Buffer["role"][] = ["inputs", "targets", "out"];
  return new Map([...used].sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role)).map((b) => [b, ROW_NAMES[b.role] as string]));
}

/** A contraction as a call of the library kernel for its pattern (templates/dense.ts). */
function contractionCall(c: Contraction, name: (b: Buffer) => string, scope: Scope): string {
  const rowStride = (index: Contraction["b"]["index"]) => index.terms.find((t) => t.v.extent === "batch")?.k ?? 0;
  // where an operand starts: a constant, or inside a recurrence's step the row of step t (`t * 256`)
  const own = new Set<Var>([...c.outVars, c.reduce]);
  const offset = (index: Contraction["b"]["index"]) => indexText({ ...index, terms: index.terms.filter((t) => t.v.extent !== "batch" && !own.has(t.v)) }, scope);
  switch (c.pattern) {
    case "forward":
      return `denseForward(${name(c.out.buf)}, ${name(c.a.buf)}, ${offset(c.a.index)}, ${name(c.b.buf)}, ${offset(c.b.index)}, ${rowStride(c.b.index)}, batch, ${extent(c.outVars[1])}, ${extent(c.reduce)});`;
    case "transposed":
      return `denseTransposed(${name(c.out.buf)}, ${name(c.a.buf)}, ${offset(c.a.index)}, ${name(c.b.buf)}, batch, ${extent(c.reduce)}, ${extent(c.outVars[1])});`;
    case "weightGradient":
      // over every step of a recurrence: two stacks, row after row
      if (c.steps !== undefined) {
        return `stepsWeightGradient(${name(c.out.buf)}, ${offset(c.out.index)}, ${name(c.a.buf)}, ${name(c.b.buf)}, batch, ${c.steps}, ${extent(c.outVars[0])}, ${extent(c.outVars[1])}, ${c.mode === "+="});`;
      }
      // a recurrence's step adds its part into the gradient
      return `denseWeightGradient(${name(c.out.buf)}, ${offset(c.out.index)}, ${name(c.a.buf)}, ${name(c.b.buf)}, ${offset(c.b.index)}, ${rowStride(c.b.index)}, batch, ${extent(c.outVars[0])}, ${extent(c.outVars[1])}, ${c.mode === "+="});`;
    case "matrix":
      return matrixProductCall(c, name, scope);
  }
}

/** One sample's product of two matrices: operands addressed by their offset (the sample's row included) and strides. */
function matrixProductCall(c: Contraction, name: (b: Buffer) => string, scope: Scope): string {
  const [i, j] = c.outVars;
  const t = c.reduce;
  const own = (index: Index) => indexText({ ...index, terms: index.terms.filter((term) => term.v !== i && term.v !== j && term.v !== t) }, scope);
  const strides = (index: Index, row: Var, col: Var) => `${coefficient(index, row)}, ${coefficient(index, col)}`;
  return `matrixProduct(${name(c.out.buf)}, ${own(c.out.index)}, ${name(c.a.buf)}, ${own(c.a.index)}, ${strides(c.a.index, i, t)}, ${name(c.b.buf)}, ${own(c.b.index)}, ${strides(c.b.index, t, j)}, ${extent(i)}, ${extent(j)}, ${extent(t)}, ${c.mode === "+="});`;
}

const extent = (v: Var) => v.extent as number;
