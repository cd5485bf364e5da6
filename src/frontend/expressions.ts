/**
 * mathjs parse trees → IR. This is the only place mathjs nodes appear; expressions are parsed, never
 * evaluated. `*` is the matrix product when both sides are tensors and scaling otherwise (as in mathjs).
 */
import { createRequire } from "node:module";
import type { MathNode } from "mathjs";
import { BpgenError, type ErrorDetail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import type { SlicePart } from "../ir/axes.ts";
import { type Node, type Shape, sameShape, shapeText } from "../ir/node.ts";
import { ShapeError } from "../ir/ops.ts";
import { suggest } from "../spec/suggest.ts";
import { explainUnknownFunction } from "./elsewhere.ts";
import { ArgumentError, type Literal } from "./arguments.ts";
import { BUILTINS, type Builtin, CONSTANTS, arityOf } from "./functions.ts";
import { checkNesting, checkSize, checkTreeDepth } from "./limits.ts";

export interface Scope {
  /** A declared or defined name. May throw DependsOnFailed for a name whose definition failed. */
  lookup(name: string): Node | undefined;
  /** Every name in scope, for suggestions. */
  names(): string[];
  /** User functions (scalar elementwise, body in `x`). May throw DependsOnFailed for a function whose body failed. */
  userFunction(name: string): ((g: Graph, arg: Node) => Node) | undefined;
  /**
   * Inside the body of a scalar function (a user function, a custom activation) applied to a tensor:
   * `*`, `/` and `^` act per element, as they would on the scalar the body is written for, and a
   * transpose leaves its argument as it is.
   */
  elementwise?: boolean;
  /** The text being built, so that an error can point at the token it is about. */
  text?: string;
  /** Where the expression starts in `text` (after `name =` in an equation). */
  from?: number;
  /** A better error than "unknown name" for a name not in scope (e.g. one defined by a later equation). */
  explainUnknown?(name: string): ErrorDetail | undefined;
}

/**
 * Thrown when an expression uses a name (or function) whose own definition failed and was reported:
 * the expression is skipped without a second, derived error.
 */
export class DependsOnFailed extends Error {
  constructor(readonly dependency: string) {
    super(`depends on "${dependency}", whose definition failed`);
  }
}

type Parse = (text: string) => MathNode;
let mathParse: Parse | undefined;

/**
 * mathjs's parser, loaded on first use: loading mathjs takes longer than compiling most networks, and layer
 * networks without a custom activation never parse an expression. The number-only build has the same parser
 * without BigNumber, Fraction and matrix support, which only evaluation (never done here) would use.
 */
function parse(text: string): MathNode {
  mathParse ??= (createRequire(import.meta.url)("mathjs/number") as { parse: Parse }).parse;
  return mathParse(text);
}

/** Parses `text`; a syntax error becomes one BpgenError pointing at the character. */
export function parseExpression(text: string): MathNode {
  const nesting = checkNesting(text);
  if (nesting) throw new BpgenError({ ...nesting, equation: text });
  let node: MathNode;
  try {
    node = parse(text);
  } catch (e) {
    throw new BpgenError({ ...describeParseError(text, e), equation: text });
  }
  const depth = checkTreeDepth(node);
  if (depth) throw new BpgenError({ ...depth, equation: text });
  return node;
}

function describeParseError(text: string, e: unknown): ErrorDetail {
  if (e instanceof RangeError) {
    return { message: "the expression is nested too deeply to parse", expected: "fewer nested parentheses and calls", found: `${text.length} characters` };
  }
  // mathjs counts characters from 1
  const char = (e as { char?: number }).char;
  const index = char !== undefined ? Math.max(0, Math.min(char - 1, text.length)) : undefined;
  return {
    message: `cannot parse expression: ${String((e as Error).message).replace(/ \(char \d+\)$/, "")}`,
    expected: "a mathjs expression such as \"tanh(W * x + b)\"",
    found: index !== undefined ? (index < text.length ? `${JSON.stringify(text.slice(index, index + 10))} at character ${index + 1}` : "the end of the expression") : undefined,
    index,
  };
}

export function buildExpression(g: Graph, node: MathNode, scope: Scope): Node {
  return build(g, node, scope);
}

function build(g: Graph, node: MathNode, scope: Scope): Node {
  const rec = (n: MathNode) => build(g, n, scope);
  let result: Node;
  switch (node.type) {
    case "ParenthesisNode":
      return rec((node as unknown as { content: MathNode }).content);
    case "ConstantNode":
      return constant(g, (node as unknown as { value: unknown }).value, scope);
    case "SymbolNode":
      return symbol(g, (node as unknown as { name: string }).name, scope);
    case "OperatorNode": {
      const op = node as unknown as { fn: string; op: string; args: MathNode[] };
      const args = op.args.map(rec);
      const fn = scope.elementwise ? (PER_ELEMENT[op.fn] ?? op.fn) : op.fn;
      result = shapeChecked(() => operator(g, fn, op.op, args, scope), () => operands(op.op, args), OPERATOR_SHAPES[op.op]);
      break;
    }
    case "ConditionalNode": {
      // c ? a : b, per element
      const cond = node as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
      const [c, a, b] = [rec(cond.condition), rec(cond.trueExpr), rec(cond.falseExpr)];
      result = shapeChecked(() => g.select(c, a, b), () => `${shapeText(c.shape)} ? ${shapeText(a.shape)} : ${shapeText(b.shape)}`, ELEMENTWISE_SHAPES);
      break;
    }
    case "FunctionNode": {
      const call = node as unknown as { fn: MathNode; args: MathNode[] };
      if (call.fn.type !== "SymbolNode") throw unsupported("a computed function", "a function name", scope);
      const name = (call.fn as unknown as { name: string }).name;
      const { apply, literalsFrom } = resolveFunction(name, call.args.length, scope);
      // the options of a function such as conv2d (a padding "same", a stride [2, 2]) are read as written
      const cut = Math.min(literalsFrom ?? Infinity, call.args.length);
      const args = call.args.slice(0, cut).map(rec);
      const literals = call.args.slice(cut).map((a) => literal(g, a, scope));
      const shown = () => `${name}(${[...args.map((a) => shapeText(a.shape)), ...literals.map((l) => JSON.stringify(l))].join(", ")})`;
      result = shapeChecked(() => apply(g, args, literals), shown, FUNCTION_SHAPES[name]);
      break;
    }
    case "AccessorNode": {
      // x[2], W[1, :], x[2:end]: one-based and inclusive, as in mathjs
      const access = node as unknown as { object: MathNode; index: { dimensions: MathNode[]; dotNotation: boolean } };
      if (access.index.dotNotation) throw unsupported("property access", "indexing such as x[2] or W[1, :]", scope, ".");
      const object = rec(access.object);
      result = shapeChecked(() => indexInto(g, object, access.index.dimensions, scope), () => shapeText(object.shape), "indices inside the tensor");
      break;
    }
    case "ArrayNode": {
      // [a, b, c] and [1, 2; 3, 4]: the items stacked along a new first dimension
      const items = (node as unknown as { items: MathNode[] }).items.map(rec);
      result = shapeChecked(() => g.pack(items), () => `[${items.map((i) => shapeText(i.shape)).join(", ")}]`, "elements of one shape");
      break;
    }
    case "RangeNode": {
      // a:b outside an index is the vector [a, a + 1, …, b]
      const [from, to] = rangeBounds(g, node, undefined, scope);
      if (to < from) throw new BpgenError({ message: "an empty range", expected: "a range a:b with a ≤ b", found: `${from}:${to}` });
      result = g.pack(Array.from({ length: to - from + 1 }, (_, k) => g.constant(from + k)));
      break;
    }
    default:
      throw unsupported(`${node.type.replace(/Node$/, "").toLowerCase()} syntax`, "numbers, names, operators, function calls, indexing and arrays", scope, SYNTAX_TOKENS[node.type]);
  }
  checkSize(result);
  return result;
}

/**
 * The part of `object` an index names, one index expression per dimension: a number (the dimension is
 * dropped), a range a:b, or a list of numbers [i, j, …] (those elements, in that order, repeats allowed: a
 * gather, whose gradient adds up the repeats).
 */
function indexInto(g: Graph, object: Node, dimensions: readonly MathNode[], scope: Scope): Node {
  const shape = object.shape;
  if (dimensions.length !== shape.length) {
    throw new BpgenError({
      message: `${shapeText(shape)} needs ${shape.length === 0 ? "no index (it is a scalar)" : `${shape.length} ${shape.length === 1 ? "index" : "indices"}`}, one per dimension`,
      expected: shape.length === 0 ? "a scalar used as it is" : `${shape.length} ${shape.length === 1 ? "index" : "indices"} such as ${shape.length === 1 ? "x[2] or x[2:4]" : "W[1, :] or W[2, 3]"}`,
      found: `${dimensions.length} ${dimensions.length === 1 ? "index" : "indices"}`,
    });
  }
  let value = object;
  const whole = (d: number): SlicePart => ({ start: 0, count: value.shape[d], keep: true });
  const parts = dimensions.map((dim, d): SlicePart => {
    const size = shape[d];
    if (dim.type === "ArrayNode") {
      const picks = (dim as unknown as { items: MathNode[] }).items.map((item) => indexValue(g, item, size, scope));
      if (picks.length === 0) throw new BpgenError({ message: "an empty list of indices", expected: "one or more indices", found: "[]" });
      picks.forEach((at) => checkInside(at, size, d, shape));
      const pick = (at: number) => g.slice(value, value.shape.map((_, e) => (e === d ? { start: at - 1, count: 1, keep: true } : whole(e))));
      value = g.concat(picks.map(pick), d);
      return { start: 0, count: picks.length, keep: true };
    }
    if (dim.type === "RangeNode") {
      const [from, to] = rangeBounds(g, dim, size, scope);
      checkInside(from, size, d, shape);
      checkInside(to, size, d, shape);
      if (to < from) throw new BpgenError({ message: "an empty range", expected: `a range a:b with a ≤ b inside 1:${size}`, found: `${from}:${to}` });
      return { start: from - 1, count: to - from + 1, keep: true };
    }
    const at = indexValue(g, dim, size, scope);
    checkInside(at, size, d, shape);
    return { start: at - 1, count: 1, keep: false };
  });
  return g.slice(value, parts);
}

/** The bounds of a:b (`end` is the size of the dimension indexed); a step other than 1 is not supported. */
function rangeBounds(g: Graph, node: MathNode, size: number | undefined, scope: Scope): [number, number] {
  const range = node as unknown as { start: MathNode; end: MathNode; step: MathNode | null };
  if (range.step && indexValue(g, range.step, size, scope) !== 1) {
    throw new BpgenError({ message: "a range with a step is not supported", expected: "a:b (every element from a to b)", found: "a:step:b" });
  }
  return [indexValue(g, range.start, size, scope), indexValue(g, range.end, size, scope)];
}

/** An index: a constant integer expression, where `end` is the size of the dimension. */
function indexValue(g: Graph, node: MathNode, size: number | undefined, scope: Scope): number {
  const inner: Scope = { ...scope, lookup: (name) => (name === "end" && size !== undefined ? g.constant(size) : scope.lookup(name)) };
  const value = build(g, node, inner);
  if (value.op !== "const" || !Number.isInteger(value.attr)) {
    throw new BpgenError({
      message: "an index must be a constant integer",
      expected: "a number such as 2, or an expression of numbers and end such as end - 1",
      found: value.op === "const" ? String(value.attr) : `a value of shape ${shapeText(value.shape)} computed by the network`,
    });
  }
  return value.attr as number;
}

function checkInside(at: number, size: number, d: number, shape: Shape): void {
  if (at < 1 || at > size) {
    throw new BpgenError({ message: `index ${at} is outside dimension ${d + 1} of ${shapeText(shape)}`, expected: `1 to ${size} (indices count from 1, as in mathjs)`, found: String(at) });
  }
}

function constant(g: Graph, value: unknown, scope: Scope): Node {
  if (typeof value !== "number") throw unsupported(`the constant ${JSON.stringify(value)}`, "a number", scope, typeof value === "string" ? value : String(value));
  if (Number.isNaN(value)) throw unsupported("the constant NaN", "a number", scope, "NaN");
  if (!Number.isFinite(value)) {
    // mathjs reads both `Infinity` and an overflowing literal such as 1e999 as ∞: only the first is meant
    const literal = [...(scope.text ?? "").matchAll(/\d+(?:\.\d*)?(?:e[+-]?\d+)?/gi)].find((m) => !Number.isFinite(Number(m[0])));
    if (literal || !/\bInfinity\b/.test(scope.text ?? "")) {
      throw new BpgenError({ message: "a number is too large", expected: "a finite number (at most about 1.8e308)", found: literal?.[0] ?? String(value), index: literal?.index });
    }
  }
  return g.constant(value);
}

function symbol(g: Graph, name: string, scope: Scope): Node {
  const found = scope.lookup(name);
  if (found) return found;
  const constantValue = CONSTANTS.get(name);
  if (constantValue !== undefined) return g.constant(constantValue);
  const index = tokenIndex(scope.text, name, false, scope.from);
  const explained = scope.explainUnknown?.(name);
  if (explained) throw new BpgenError({ index, ...explained });
  throw new BpgenError({
    message: `unknown name "${name}"`,
    expected: "a parameter, input, target, or a name defined by an earlier equation",
    found: name,
    suggestion: quoted(suggest(name, scope.names())),
    index,
  });
}

/** Runs a shape-checked construction; a ShapeError becomes an error saying what the operation expects and what it got. */
function shapeChecked(make: () => Node, found: () => string, expected: string | undefined): Node {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    throw new BpgenError({ message: `shape mismatch: ${e.message}`, expected: expected ?? "operands whose shapes fit the operation", found: found() });
  }
}

/** The character that starts each unsupported kind of syntax, to point at it. */
const SYNTAX_TOKENS: Record<string, string> = {
  ObjectNode: "{",
  AssignmentNode: "=",
  FunctionAssignmentNode: "=",
  BlockNode: ";",
};

const ELEMENTWISE_SHAPES = "operands of the same shape, a scalar operand, or shapes that broadcast (aligned on the right, each dimension equal or 1)";
const OPERATOR_SHAPES: Record<string, string> = {
  "+": ELEMENTWISE_SHAPES,
  "-": ELEMENTWISE_SHAPES,
  ".*": ELEMENTWISE_SHAPES,
  "./": ELEMENTWISE_SHAPES,
  ".^": ELEMENTWISE_SHAPES,
  "*": "a scalar operand, or [m, k] * [k, n], [m, k] * [k], [k] * [k, n] or [k] * [k]",
  "/": 'a scalar divisor ("./" divides element by element)',
  "^": 'scalar operands (".^" raises element by element)',
  "'": "a vector or a matrix (transpose(x, perm) reorders the axes of a tensor)",
  "<": ELEMENTWISE_SHAPES,
  ">": ELEMENTWISE_SHAPES,
  "<=": ELEMENTWISE_SHAPES,
  ">=": ELEMENTWISE_SHAPES,
  "==": ELEMENTWISE_SHAPES,
  "!=": ELEMENTWISE_SHAPES,
};
const FUNCTION_SHAPES: Record<string, string> = {
  softmax: "a vector or a matrix",
  log_softmax: "a vector or a matrix",
  dot: "two vectors of the same length",
  transpose: "a vector or a matrix, or a tensor with an order of its dimensions",
  matmul: "[..., m, k] and [..., k, n], the batch dimensions broadcasting",
  concat: "tensors equal in every dimension but the one joined",
  maximum: ELEMENTWISE_SHAPES,
  minimum: ELEMENTWISE_SHAPES,
};

/** The operand shapes of an operator, as in `[3, 2] * [3]`. */
function operands(op: string, args: Node[]): string {
  if (args.length === 1) return op === "'" ? `${shapeText(args[0].shape)}'` : `${op}${shapeText(args[0].shape)}`;
  return `${shapeText(args[0].shape)} ${op} ${shapeText(args[1].shape)}`;
}

const scalar = (n: Node) => n.shape.length === 0;

/** What the scalar operators mean when a scalar function's body is applied to every element at once. */
const PER_ELEMENT: Record<string, string> = { multiply: "dotMultiply", divide: "dotDivide", pow: "dotPow", transpose: "identity", ctranspose: "identity" };

function operator(g: Graph, fn: string, op: string, args: Node[], scope: Scope): Node {
  const [a, b] = args;
  switch (fn) {
    case "add":
      return g.add(a, b);
    case "subtract":
      return g.sub(a, b);
    case "unaryMinus":
      return g.neg(a);
    case "unaryPlus":
    case "identity":
      return a;
    case "multiply":
      return scalar(a) || scalar(b) ? g.mul(a, b) : g.matmul(a, b);
    case "dotMultiply":
      return g.mul(a, b);
    case "divide":
      if (!scalar(b)) throw new ShapeError(`"/" needs a scalar divisor, found ${shapeText(b.shape)}; use "./" for elementwise division`);
      return g.div(a, b);
    case "dotDivide":
      return g.div(a, b);
    case "pow":
      if (!scalar(a) || !scalar(b)) throw new ShapeError(`"^" needs scalars, found ${shapeText(a.shape)} ^ ${shapeText(b.shape)}; use ".^" for elementwise powers`);
      return g.pow(a, b);
    case "dotPow":
      return g.pow(a, b);
    case "ctranspose":
    case "transpose":
      return g.transpose(a);
    // comparisons: 1 where they hold, 0 elsewhere (per element)
    case "larger":
      return g.gt(a, b);
    case "smaller":
      return g.gt(b, a);
    case "largerEq":
      return g.make("ge", [a, b]);
    case "smallerEq":
      return g.make("ge", [b, a]);
    case "equal":
      return g.make("eq", [a, b]);
    case "unequal":
      return g.make("ne", [a, b]);
    default:
      throw unsupported(`the operator "${op}"`, "+ - * / ^ .* ./ .^ ' < > <= >= == != and c ? a : b", scope, op);
  }
}

type Apply = (g: Graph, args: Node[], literals: readonly Literal[]) => Node;

/**
 * An option written as a constant: a string, a number (any constant expression of numbers), or a list of
 * them, `[[1, 2], [0, 1]]`.
 */
function literal(g: Graph, node: MathNode, scope: Scope): Literal {
  if (node.type === "ParenthesisNode") return literal(g, (node as unknown as { content: MathNode }).content, scope);
  if (node.type === "ConstantNode" && typeof (node as unknown as { value: unknown }).value === "string") return (node as unknown as { value: string }).value;
  if (node.type === "ArrayNode") return (node as unknown as { items: MathNode[] }).items.map((item) => literal(g, item, scope));
  const value = build(g, node, scope);
  if (value.op !== "const") {
    throw new BpgenError({
      message: "an option of this function must be a constant",
      expected: 'a number, a string such as "same", or a list such as [2, 2]',
      found: `a value of shape ${shapeText(value.shape)} computed by the network`,
    });
  }
  return value.attr as number;
}

/** The function a call refers to, checked (name, arity, use in a scalar function) before its arguments are built. */
function resolveFunction(name: string, arity: number, scope: Scope): { apply: Apply; literalsFrom?: number } {
  const index = tokenIndex(scope.text, name, true, scope.from);
  const user = scope.userFunction(name);
  if (user) {
    if (arity !== 1) throw arityError(name, 1, arity, index);
    return { apply: (g, [arg]) => user(g, arg as Node) };
  }
  const builtin = BUILTINS.get(name);
  if (!builtin || name === "linear") {
    const help = explainUnknownFunction(name, "function", [...BUILTINS.keys()].filter((n) => n !== "linear"));
    throw new BpgenError({ message: help.message, expected: "a builtin function or one declared in `functions`", found: name, suggestion: help.suggestion, index });
  }
  const [fewest, most] = arityOf(builtin);
  if (arity < fewest || arity > most) throw builtinArityError(name, builtin, arity, index);
  if (scope.elementwise && !builtin.elementwise && !builtin.perElement) {
    throw new BpgenError({ message: `${name}() is not allowed in a scalar function`, expected: "elementwise functions of x", found: `${name}()`, index });
  }
  const build = scope.elementwise ? (builtin.perElement ?? builtin.build) : builtin.build;
  const apply: Apply = (g, args, literals) => {
    if (!scope.elementwise) checkMathjsReading(name, args, index);
    try {
      return build(g, args, literals);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      throw new BpgenError({ message: e.message, expected: e.expected, found: e.found, suggestion: e.suggestion, index });
    }
  };
  return { apply, ...(builtin.literalsFrom !== undefined ? { literalsFrom: builtin.literalsFrom } : {}) };
}

function arityError(name: string, expected: number, found: number, index: number | undefined): BpgenError {
  return new BpgenError({ message: `${name}() takes ${expected} argument${expected === 1 ? "" : "s"}`, expected: String(expected), found: String(found), index });
}

/** How many arguments a builtin takes, each with what it means, and what an extra one would have been. */
function builtinArityError(name: string, builtin: Builtin, found: number, index: number | undefined): BpgenError {
  const [fewest, most] = arityOf(builtin);
  const count = fewest === most ? `${fewest}` : most === Infinity ? `at least ${fewest}` : `${fewest} to ${most}`;
  const list = builtin.params.map((p) => `${p.name}: ${p.meaning}${p.default !== undefined ? ` (default ${p.default})` : ""}`).join("; ");
  const extra = found > most ? EXTRA_ARGUMENT[name] : undefined;
  return new BpgenError({
    message: `${name}() takes ${count} argument${most === 1 ? "" : "s"} (${list})${extra ? `; ${extra}` : ""}`,
    expected: count,
    found: String(found),
    index,
  });
}

/** What a further argument means in mathjs, for the functions where users reach for one. */
const EXTRA_ARGUMENT: Readonly<Record<string, string>> = {
  relu: "for a slope below 0 use leaky_relu(x, alpha)",
  exp: "mathjs's exp takes one argument; for a power of another base write b ^ x",
  sqrt: "for other roots use nthRoot(x, n)",
  sigmoid: "a scaled sigmoid is sigmoid(k * x)",
};

/**
 * Where mathjs would read a call differently from bpgen, an error naming both readings: its pow(A, n) of a
 * matrix is a matrix power. (max and min follow mathjs's readings: functions.ts.)
 */
function checkMathjsReading(name: string, args: readonly Node[], index: number | undefined): void {
  const tensor = args.some((a) => a.shape.length > 0);
  if (name === "pow" && tensor) {
    throw new BpgenError({
      message: "pow() of a tensor is a matrix power in mathjs; bpgen does not compute matrix powers",
      expected: "x .^ y for the elementwise power, or pow(x, y) of scalars",
      found: `pow(${args.map((a) => shapeText(a.shape)).join(", ")})`,
      index,
    });
  }
}

function unsupported(what: string, expected: string, scope?: Scope, token?: string): BpgenError {
  const index = token !== undefined && scope?.text !== undefined ? indexOrUndefined(scope.text.indexOf(token)) : undefined;
  return new BpgenError({ message: `${what} is not supported in expressions`, expected, found: what, index });
}

/** Checks a scalar function's result against its argument: the same shape, or a constant repeated over it. */
export function elementwiseResult(g: Graph, value: Node, arg: Node, what: string): Node {
  if (sameShape(value.shape, arg.shape)) return value;
  if (value.shape.length === 0) return g.broadcast(value, arg.shape);
  throw new BpgenError({ message: `${what} must be elementwise`, expected: `a result shaped like its argument ${shapeText(arg.shape)}`, found: shapeText(value.shape) });
}

const indexOrUndefined = (i: number) => (i < 0 ? undefined : i);

/** Where `name` first appears in `text` as a whole word (followed by "(" when it is a call). */
export function tokenIndex(text: string | undefined, name: string, call: boolean, from = 0): number | undefined {
  if (text === undefined) return undefined;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`(?<![\\w$.])${escaped}(?![\\w$])${call ? "(?=\\s*\\()" : ""}`, "gu");
  pattern.lastIndex = from;
  return pattern.exec(text)?.index;
}

const quoted = (s: string | undefined) => (s === undefined ? undefined : `"${s}"`);
