/**
 * The TypeScript kernels and their workspace are printed as prettier prints them (src/render/ts/layout.ts) and
 * put into the module after prettier has formatted the rest; only statements too long for one line go to
 * prettier, all in one call. These tests hold that layout to prettier's own:
 * - every module (the examples, and random networks of both forms, with TypeScript and WebAssembly kernels, f32 and
 *   f64; four of the examples with WebAssembly kernels) is one prettier leaves as it is, and the one prettier makes of the whole module printed without
 *   formatting (the full path: prettier reads the kernels too);
 * - the parentheses of every pair of operators, unary minus and the conditional, and the numbers, against
 *   prettier's reading of the same expression fully parenthesized (which also checks they mean the same);
 * - statements at the print width's edge, in blocks of several depths, through the batched formatting.
 */
import { readFileSync, readdirSync } from "node:fs";
import fc from "fast-check";
import prettier from "prettier";
import { describe, expect, it } from "vitest";
import { laidOutCode } from "../src/emit/format.ts";
import { type CompileOptions, compile } from "../src/pipeline.ts";
import { type BinaryOperator, type Code, KernelLayout, assignmentText, PRINT_WIDTH, type Printed, atom, binary, conditional, negation, numberCode } from "../src/render/ts/layout.ts";
import type { NetSpec } from "../src/spec/types.ts";
import { anyNet } from "./helpers/fuzz-arbitraries.ts";
import { makeRng, randomConvNet, randomSharedNet } from "./oracle/random-nets.ts";

const format = (text: string) => prettier.format(text, { parser: "babel-ts" });

// ---- whole modules ---------------------------------------------------------------------------------------

const EXAMPLES = readdirSync(new URL("../examples/", import.meta.url))
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f): [string, string] => [f, readFileSync(new URL(`../examples/${f}`, import.meta.url), "utf8")]);

/** Random networks of both forms (the fuzz tests' generators, and the oracle's shared-weight and convolutional nets), fixed by their seeds. */
const RANDOM: [string, NetSpec][] = [
  ...fc.sample(anyNet, { seed: 20261207, numRuns: 16 }).map((spec, i): [string, NetSpec] => [`fuzz ${i}`, spec]),
  ...[1, 2, 3].map((seed): [string, NetSpec] => [`shared ${seed}`, randomSharedNet(makeRng(seed))]),
  ...[1, 2, 3].map((seed): [string, NetSpec] => [`conv ${seed}`, randomConvNet(makeRng(seed))]),
];

/**
 * The module formatted as bpgen formats it equals prettier's formatting of the whole module printed without
 * formatting (so prettier, being idempotent, also leaves it as it is).
 */
async function expectPrettiersLayout(spec: NetSpec | string, options: CompileOptions): Promise<void> {
  const module = (await compile(spec, options)).source;
  const unformatted = (await compile(spec, { ...options, format: false })).source;
  expect(await format(unformatted)).toBe(module);
}

/**
 * Examples whose modules are also checked with WebAssembly kernels (f64): state, recurrences, convolutions, the
 * equation form. A WebAssembly module holds the TypeScript kernels too (its fallback), with the glue around them;
 * the random networks check both kernels of every other kind.
 */
const WASM_EXAMPLES = new Set(["adding_lstm.json", "mnist_cnn_bn.json", "chain3.json", "deep_sigmoid10_bn.json"]);

describe("modules as prettier formats them", () => {
  it.each(EXAMPLES)("%s", async (file, text) => {
    await expectPrettiersLayout(text, { sourceFile: file, kernels: "js" });
    if (WASM_EXAMPLES.has(file)) await expectPrettiersLayout(text, { sourceFile: file, kernels: "wasm", precision: "f64" });
  });

  it.each(RANDOM)("random network: %s", async (_, spec) => {
    await expectPrettiersLayout(structuredClone(spec), { kernels: "js", precision: "f64" });
    await expectPrettiersLayout(structuredClone(spec), { kernels: "wasm" });
  });
});

// ---- expressions -------------------------------------------------------------------------------------------

/** An expression printed both ways: by the kernel printer, and with every operation parenthesized. */
interface Both {
  readonly code: Code;
  readonly full: string;
}

const leaf = (text: string): Both => ({ code: atom(text), full: text });
const num = (value: number): Both => ({ code: numberCode(value), full: `(${value})` });
const neg = (a: Both): Both => ({ code: negation(a.code), full: `(-${a.full})` });
const bin = (op: BinaryOperator, a: Both, b: Both): Both => ({ code: binary(op, a.code, b.code), full: `(${a.full} ${op} ${b.full})` });
const cond = (t: Both, c: Both, a: Both): Both => ({ code: conditional(t.code, c.code, a.code), full: `(${t.full} ? ${c.full} : ${a.full})` });

const OPERATORS: readonly BinaryOperator[] = ["+", "-", "*", "/", "**", ">", ">=", "===", "!=="];
const [a, b, c, d] = ["a", "b", "c", "d"].map(leaf);
const element = leaf("x[i + 1]!");

/** Every operand form: atoms, an element read, negative numbers, unary minus, each binary operator, a conditional. */
const OPERANDS: readonly Both[] = [
  a,
  element,
  leaf("Math.exp(c)"),
  num(2),
  num(-2),
  neg(a),
  neg(element),
  ...OPERATORS.map((op) => bin(op, c, d)),
  cond(bin(">", c, d), c, d),
];

/** Each case as `x = …;`, all formatted by prettier in one call: its lines against the printer's. */
async function expectSameAsPrettier(cases: readonly Both[]): Promise<void> {
  const formatted = (await format(cases.map((e) => `x = ${e.full};`).join("\n"))).trimEnd().split("\n");
  const printed = cases.map((e) => `x = ${e.code.text};`);
  expect(printed.every((line) => line.length <= PRINT_WIDTH)).toBe(true);
  expect(printed).toEqual(formatted);
}

describe("parentheses as prettier's", () => {
  it("every operand form on either side of every binary operator", async () => {
    await expectSameAsPrettier(OPERATORS.flatMap((op) => OPERANDS.flatMap((x) => [bin(op, x, b), bin(op, b, x)])));
  });

  it("every operand form under unary minus, and in each part of a conditional", async () => {
    await expectSameAsPrettier(OPERANDS.flatMap((x) => [neg(x), neg(neg(x)), cond(x, a, b), cond(a, x, b), cond(a, b, x)]));
  });

  it("chains of three operands, grouped either way", async () => {
    await expectSameAsPrettier(OPERATORS.flatMap((p) => OPERATORS.flatMap((q) => [bin(p, bin(q, a, b), c), bin(p, a, bin(q, b, c))])));
  });

  it("numbers as prettier writes them", async () => {
    await expectSameAsPrettier([1e21, 1.5e300, 1e-7, 5e-324, 0.1, 1.7976931348623157e308, -1e21, -0, 123456789012, 2 ** -40].map(num));
  });
});

// ---- statements --------------------------------------------------------------------------------------------

/** `x = a + a + … + aaa;` of `width` characters. */
function statementOf(width: number): string {
  const head = "x = ";
  let rhs = "a";
  while (head.length + rhs.length + " + a;".length <= width) rhs += " + a";
  return `${head}${rhs}${"a".repeat(width - head.length - rhs.length - 1)};`;
}

describe("statements laid out as prettier lays them out", () => {
  it("one line up to the print width, prettier's lines past it, at every depth (one prettier call for all)", async () => {
    // the edge at depth d is PRINT_WIDTH - 2d
    const widths = [...Array.from({ length: 14 }, (_, k) => PRINT_WIDTH - 11 + k), 200];
    const lines = widths.map(statementOf);
    expect(lines.map((l) => l.length)).toEqual(widths);
    const nested = (depth: number): Printed[] => (depth === 0 ? lines : [...lines, { head: "for (let i = 0; i < 4; i++)", body: nested(depth - 1) }, "", "// a comment after a blank line"]);
    const body = nested(3);
    const layout = new KernelLayout();
    const placeholder = "$bpgen$test;";
    const laidOut = layout.laidOut(new Map([[placeholder, layout.lines(body)]]));
    // prettier lays out the statements past the edge, and only those
    const past = [1, 2, 3, 4].flatMap((depth) => widths.filter((w) => 2 * depth + w > PRINT_WIDTH));
    expect(laidOut.statements.length).toBe(past.length);
    const code = (await laidOutCode([laidOut], true)).get(placeholder);
    const plain = (ps: readonly Printed[]): string[] => ps.flatMap((p) => (typeof p === "string" ? [p] : "target" in p ? [assignmentText(p)] : [`${p.head} {`, ...plain(p.body), "}"]));
    expect(`function f(): void {\n${code}\n}\n`).toBe(await format(`function f(): void {\n${plain(body).join("\n")}\n}\n`));
  });
});

describe("long assignments broken as prettier breaks them", () => {
  const rng = makeRng(1207);
  const LEAVES = ["t12[s * 64 + i]!", "sigmoid(z3[64 + i]!)", "Math.tanh(c63[s * 64 + i]!)", "params[18688 + i * 64 + k]!", "acc", "d_h12[i]!", "Math.exp(-x[i]!)"];
  const ARITHMETIC: readonly BinaryOperator[] = ["+", "-", "*", "/", "**"];
  /** A random expression of about `size` leaves: mostly arithmetic, sometimes a negation, a conditional or a negative number. */
  const expression = (size: number): Both => {
    if (size <= 1) {
      const r = rng.next();
      return r < 0.1 ? num(-rng.int(1, 500) / 4) : r < 0.15 ? neg(leaf(rng.pick(LEAVES))) : leaf(rng.pick(LEAVES));
    }
    const r = rng.next();
    if (r < 0.05) return neg(expression(size - 1));
    if (r < 0.1) return cond(bin(">", expression(1), num(0)), expression(size - 2), expression(1));
    const left = rng.int(1, size - 1);
    return bin(rng.pick(ARITHMETIC), expression(left), expression(size - left));
  };

  it("at every depth, of random values, all in one body (prettier lays out only what it would break inside an operand)", async () => {
    const statements: { depth: number; target: string; operator: string; value: Both }[] = Array.from({ length: 240 }, (_, k) => ({
      depth: 1 + (k % 4),
      target: rng.pick(["c12[s * 64 + i]", "t300[i]", "const t301", "let acc", "grads[i]"]),
      operator: "=",
      value: expression(rng.int(2, 12)),
    })).map((s) => (s.target.includes(" ") ? s : { ...s, operator: rng.pick(["=", "+=", "-="]) }));
    // each statement in blocks as deep as its depth, a blank line between them
    const nest = (depth: number, p: Printed): Printed => (depth === 1 ? p : { head: "if (batch > 1)", body: [nest(depth - 1, p)] });
    const body = statements.flatMap((s) => [nest(s.depth, { target: s.target, operator: s.operator, value: s.value.code }), ""]).slice(0, -1);
    const fullBody = statements.flatMap((s) => [nest(s.depth, `${s.target} ${s.operator} ${s.value.full};`), ""]).slice(0, -1);
    const layout = new KernelLayout();
    const laidOut = layout.laidOut(new Map([["$bpgen$test;", layout.lines(body)]]));
    const long = statements.filter((s) => 2 * s.depth + `${s.target} ${s.operator} ${s.value.code.text};`.length > PRINT_WIDTH);
    expect(long.length).toBeGreaterThan(statements.length / 3);
    expect(laidOut.statements.length).toBeLessThan(long.length / 2);
    const code = (await laidOutCode([laidOut], true)).get("$bpgen$test;");
    const plain = (ps: readonly Printed[]): string[] => ps.flatMap((p) => (typeof p === "string" ? [p] : "target" in p ? [assignmentText(p)] : [`${p.head} {`, ...plain(p.body), "}"]));
    expect(`function f(): void {\n${code}\n}\n`).toBe(await format(`function f(): void {\n${plain(fullBody).join("\n")}\n}\n`));
  });
});
