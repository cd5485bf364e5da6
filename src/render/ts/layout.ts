/**
 * The TypeScript kernels printed as prettier prints them, so that prettier does not have to: formatting a
 * module's text costs most of a large compile (the LSTM written out over 64 steps: 1.6 s of CPU for its kernels'
 * 500 KB), and the kernels use a small subset of the language whose layout is simple to state. This file is the
 * one place that knows that layout, for that subset:
 * - parentheses: prettier keeps those the grammar needs and adds some for reading (`(a * b) / c`, `-(-x)`,
 *   `a + (b + c)`, a conditional in a consequent); `parenthesized` decides them as its needs-parens rules do;
 * - numbers as prettier writes them (`1e21`, not `1e+21`);
 * - lines: two spaces per block, a statement on one line when it fits in the print width, blank lines where the
 *   printer puts them (prettier keeps a blank line it is given, and the printer never puts one first or last);
 * - an assignment of a binary operation that does not fit broken as prettier breaks it (its documents for binary
 *   chains and its printer's rule for when a group fits);
 * - any other statement that does not fit, and an assignment prettier would break inside an operand, is left to
 *   prettier (`LaidOut.statements`), all of a module's in one call (emit/format.ts), at its indentation.
 * What guards it: test/format.test.ts, which formats every example and random networks with prettier and
 * compares, and compares parentheses and line breaks with prettier's on every pair of operators and on random
 * long assignments.
 */
import type { LaidOut, LongStatement } from "../backend.ts";

/** prettier's default print width, which the module is formatted with. */
export const PRINT_WIDTH = 80;
const INDENT = "  ";

// ---- expressions -----------------------------------------------------------------------------------------

/** The binary operators of the kernels: arithmetic and the comparisons a conditional tests. */
export type BinaryOperator = "+" | "-" | "*" | "/" | "**" | ">" | ">=" | "===" | "!==";

/**
 * A printed expression and its form, which decides its parentheses where it is an operand: an atom (a name,
 * an element, a call, a number ≥ 0), a unary minus (a negative number too), a binary operation or a conditional.
 */
export interface Code {
  readonly text: string;
  readonly form: "atom" | "unary" | "conditional" | BinaryOperator;
  /** A binary operation's operands. */
  readonly operands?: readonly [Code, Code];
}

/** Where an operand stands: under a unary minus, on one side of a binary operator, or in a part of a conditional. */
export type Position =
  | { readonly k: "unary" }
  | { readonly k: "binary"; readonly op: BinaryOperator; readonly side: "left" | "right" }
  | { readonly k: "test" | "consequent" | "alternate" };

/** prettier's precedence levels (higher binds tighter). */
const PRECEDENCE: Readonly<Record<BinaryOperator, number>> = { "===": 0, "!==": 0, ">": 1, ">=": 1, "+": 2, "-": 2, "*": 3, "/": 3, "**": 4 };

const isMultiplicative = (op: BinaryOperator) => op === "*" || op === "/";
const isEquality = (op: BinaryOperator) => op === "===" || op === "!==";

/** prettier's shouldFlatten: whether `a op1 b op2 c` of one precedence is printed without parentheses on the left. */
function flattens(parent: BinaryOperator, child: BinaryOperator): boolean {
  if (parent === "**") return false;
  if (isEquality(parent) && isEquality(child)) return false;
  // x * y / z → (x * y) / z, x / y * z → (x / y) * z
  if (child !== parent && isMultiplicative(child) && isMultiplicative(parent)) return false;
  return true;
}

/** prettier's needs-parens rules for the kernels' expressions. */
function needsParens(form: Code["form"], at: Position): boolean {
  switch (form) {
    case "atom":
      return false;
    case "unary":
      // -(-x); (-x) ** y is a syntax error without them
      return at.k === "unary" || (at.k === "binary" && at.op === "**" && at.side === "left");
    case "conditional":
      // a conditional in a consequent is parenthesized when the line does not break, one in an alternate never
      return at.k !== "alternate";
    default: {
      if (at.k === "unary") return true;
      if (at.k !== "binary") return false;
      const [parent, child] = [PRECEDENCE[at.op], PRECEDENCE[form]];
      return parent > child || (parent === child && (at.side === "right" || !flattens(at.op, form)));
    }
  }
}

/** `code` as an operand at `at`. */
export function parenthesized(code: Code, at: Position): string {
  return needsParens(code.form, at) ? `(${code.text})` : code.text;
}

export const atom = (text: string): Code => ({ text, form: "atom" });

export const negation = (operand: Code): Code => ({ text: `-${parenthesized(operand, { k: "unary" })}`, form: "unary" });

export const binary = (op: BinaryOperator, left: Code, right: Code): Code => ({
  text: `${parenthesized(left, { k: "binary", op, side: "left" })} ${op} ${parenthesized(right, { k: "binary", op, side: "right" })}`,
  form: op,
  operands: [left, right],
});

export const conditional = (test: Code, consequent: Code, alternate: Code): Code => ({
  text: `${parenthesized(test, { k: "test" })} ? ${parenthesized(consequent, { k: "consequent" })} : ${parenthesized(alternate, { k: "alternate" })}`,
  form: "conditional",
});

/** A number as prettier prints the literal: JavaScript's shortest form without the exponent's `+`; a negative one is a unary minus. */
export function numberCode(value: number): Code {
  if (Number.isNaN(value)) return atom("NaN");
  const text = numberText(Math.abs(value));
  return value < 0 ? { text: `-${text}`, form: "unary" } : atom(text);
}

/** A number as prettier prints its literal (or the negation of one). */
export const numberText = (value: number): string => String(value).replace("e+", "e");

// ---- line breaking: assignments of a binary operation -------------------------------------------------------

/**
 * prettier's documents, for the one statement form whose line breaking is worth doing here (most long statements of
 * the kernels): `target = a * b + c * d;` with any assignment operator. Anything within an operand is kept on one
 * line; where prettier would break inside one, the line is too long, and the statement goes to prettier.
 */
type Doc = string | readonly Doc[] | { readonly group: Doc } | { readonly indent: Doc } | typeof LINE;
const LINE = { line: true } as const;
const isList = (d: Doc): d is readonly Doc[] => Array.isArray(d);

/** A binary operation's document (prettier's printBinaryish), under a parent that is (`nested`) or is not a binary operation. */
function binaryDoc(code: Code, nested: boolean): Doc {
  const parts = chainParts(code, nested);
  // an assignment indents the continuation lines itself; a nested chain indents all but its first operand
  return nested ? { group: [parts[0], { indent: parts.slice(1) }] } : { group: parts };
}

/** The operands of a chain of one precedence, flattened from the left, each after its operator and a line. */
function chainParts(code: Code, nested: boolean): Doc[] {
  const op = code.form as BinaryOperator;
  const [left, right] = code.operands as readonly [Code, Code];
  const leftOp = left.form as BinaryOperator;
  const flatLeft = left.operands !== undefined && PRECEDENCE[op] === PRECEDENCE[leftOp] && flattens(op, leftOp);
  const parts: Doc[] = flatLeft ? chainParts(left, true) : [{ group: operandDoc(left, { k: "binary", op, side: "left" }) }];
  const rest: Doc = [op, LINE, operandDoc(right, { k: "binary", op, side: "right" })];
  const alone = !nested && left.operands === undefined && right.operands === undefined;
  return [...parts, " ", alone ? { group: rest } : rest];
}

function operandDoc(code: Code, at: Position): Doc {
  if (code.operands === undefined) return parenthesized(code, at);
  const doc = binaryDoc(code, true);
  return needsParens(code.form, at) ? ["(", doc, ")"] : doc;
}

type Mode = "flat" | "break";
type Command = readonly [indent: number, mode: Mode, doc: Doc];

/** prettier's printDocToString for these documents, from column `indent`: the lines, or undefined when one is too long. */
function printDoc(doc: Doc, indent: number): string[] | undefined {
  const lines: string[] = [INDENT.repeat(indent / INDENT.length)];
  let column = indent;
  const commands: Command[] = [[indent, "break", doc]];
  for (let c = commands.pop(); c !== undefined; c = commands.pop()) {
    const [ind, mode, d] = c;
    if (typeof d === "string") {
      lines[lines.length - 1] += d;
      column += d.length;
    } else if (isList(d)) {
      for (let i = d.length - 1; i >= 0; i--) commands.push([ind, mode, d[i]]);
    } else if ("line" in d) {
      if (mode === "flat") lines[lines.length - 1] += " ";
      else lines.push(INDENT.repeat(ind / INDENT.length));
      column = mode === "flat" ? column + 1 : ind;
    } else if ("indent" in d) {
      commands.push([ind + INDENT.length, mode, d.indent]);
    } else {
      const flat: Command = [ind, "flat", d.group];
      commands.push(mode === "flat" || fitsOnLine(flat, commands, PRINT_WIDTH - column) ? flat : [ind, "break", d.group]);
    }
  }
  return lines.every((l) => l.length <= PRINT_WIDTH) ? lines : undefined;
}

/** prettier's fits: whether `next` flat, then what follows up to the next line break, takes at most `width` columns. */
function fitsOnLine(next: Command, rest: readonly Command[], width: number): boolean {
  const commands: Command[] = [next];
  let restIndex = rest.length;
  while (width >= 0) {
    const c = commands.pop() ?? (restIndex > 0 ? rest[--restIndex] : undefined);
    if (c === undefined) return true;
    const [ind, mode, d] = c;
    if (typeof d === "string") width -= d.length;
    else if (isList(d)) for (let i = d.length - 1; i >= 0; i--) commands.push([ind, mode, d[i]]);
    else if ("line" in d) {
      if (mode === "break") return true;
      width -= 1;
    } else commands.push([ind, mode, "indent" in d ? d.indent : d.group]);
  }
  return false;
}

/** An assignment: `target operator value;` (`const x = …`, `a[i] += …`). */
export interface Assignment {
  readonly target: string;
  readonly operator: string;
  readonly value: Code;
}

export const assignmentText = (a: Assignment) => `${a.target} ${a.operator} ${a.value.text};`;

/**
 * An assignment as prettier lays it out at `depth` (its "break-after-operator" layout, for a value that is a binary
 * operation), or undefined when prettier would break it inside an operand.
 */
function assignmentLines(a: Assignment, depth: number): string[] | undefined {
  if (a.value.operands === undefined) return undefined;
  const doc: Doc = [{ group: [{ group: a.target }, ` ${a.operator}`, { group: { indent: [LINE, binaryDoc(a.value, false)] } }] }, ";"];
  return printDoc(doc, INDENT.length * depth);
}

// ---- statements ------------------------------------------------------------------------------------------

/**
 * A statement as printed: one line (`x = y;`, `// note`, or "" for a blank line, which prettier keeps), an
 * assignment, or a block (`for (…) {`, its statements, `}`).
 */
export type Printed = string | Assignment | Block;
export interface Block {
  readonly head: string;
  readonly body: readonly Printed[];
}

/** A statement's text when it is one line (not a block). */
export const lineText = (s: Printed): string | undefined => (typeof s === "string" ? s : "target" in s ? assignmentText(s) : undefined);

/**
 * Lays out function bodies (at depth 1, as in the module) and collects the statements too long for one line,
 * which the formatter lays out; `laidOut` then puts them back in.
 */
export class KernelLayout {
  private readonly long: LongStatement[] = [];

  /** Lines of statements at `depth`, each a line of text or the index of a long statement. */
  lines(statements: readonly Printed[], depth = 1): (string | number)[] {
    return statements.flatMap((s) => this.statement(s, depth));
  }

  private statement(s: Printed, depth: number): (string | number)[] {
    const indent = INDENT.repeat(depth);
    if (s === "") return [""];
    if (typeof s === "string") return [fits(s, depth) || isComment(s) ? indent + s : this.leave(s, depth)];
    if ("target" in s) {
      const text = assignmentText(s);
      if (fits(text, depth)) return [indent + text];
      return isAscii(text) ? (assignmentLines(s, depth) ?? [this.leave(text, depth)]) : [this.leave(text, depth)];
    }
    const head = `${s.head} {`;
    if (!fits(head, depth)) return [this.leave(plainText(s), depth)];
    return [indent + head, ...this.lines(s.body, depth + 1), `${indent}}`];
  }

  private leave(text: string, depth: number): number {
    return this.long.push({ depth, text }) - 1;
  }

  /** The code of each placeholder statement: its body's lines, with the long statements as formatted. */
  laidOut(bodies: ReadonlyMap<string, readonly (string | number)[]>): LaidOut {
    return {
      statements: this.long,
      code: (formatted) => new Map([...bodies].map(([placeholder, lines]) => [placeholder, lines.map((l) => (typeof l === "string" ? l : formatted[l])).join("\n")])),
    };
  }
}

/** Whether prettier prints `text` at `depth` on one line as it is (widths are counted for ASCII only). */
const fits = (text: string, depth: number) => INDENT.length * depth + text.length <= PRINT_WIDTH && isAscii(text);
const isAscii = (text: string) => /^[\x20-\x7e]*$/.test(text);

/** Comments are printed as they are, however long. */
const isComment = (line: string) => line.startsWith("//") || line.startsWith("/*");

/** A statement on lines without indentation, for prettier to lay out. */
function plainText(s: Printed): string {
  if (typeof s === "string") return s;
  return "target" in s ? assignmentText(s) : [`${s.head} {`, ...s.body.map(plainText), "}"].join("\n");
}

/** A body's lines with its long statements as they are (for a module that is not formatted, and the tests). */
export function unformattedLines(statements: readonly Printed[]): string[] {
  const layout = new KernelLayout();
  const lines = layout.lines(statements, 0);
  const long = layout.laidOut(new Map()).statements;
  return lines.map((l) => (typeof l === "string" ? l : long[l].text));
}
