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
 * - a statement that does not fit is left to prettier (`LaidOut.statements`), all of a module's in one call
 *   (emit/format.ts), at its indentation.
 * What guards it: test/format.test.ts, which formats every example and random networks with prettier and
 * compares, and compares the parentheses with prettier's on every pair of operators.
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

// ---- statements ------------------------------------------------------------------------------------------

/**
 * A statement as printed: one line (`x = y;`, `// note`, or "" for a blank line, which prettier keeps), or a block
 * (`for (…) {`, its statements, `}`).
 */
export type Printed = string | { readonly head: string; readonly body: readonly Printed[] };

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
const fits = (text: string, depth: number) => INDENT.length * depth + text.length <= PRINT_WIDTH && /^[\x20-\x7e]*$/.test(text);

/** Comments are printed as they are, however long. */
const isComment = (line: string) => line.startsWith("//") || line.startsWith("/*");

/** A statement on lines without indentation, for prettier to lay out. */
const plainText = (s: Printed): string => (typeof s === "string" ? s : [`${s.head} {`, ...s.body.map(plainText), "}"].join("\n"));

/** A body's lines with its long statements as they are (for a module that is not formatted, and the tests). */
export function unformattedLines(statements: readonly Printed[]): string[] {
  const layout = new KernelLayout();
  const lines = layout.lines(statements, 0);
  const long = layout.laidOut(new Map()).statements;
  return lines.map((l) => (typeof l === "string" ? l : long[l].text));
}
