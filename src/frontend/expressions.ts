/**
 * mathjs parse trees → IR. This is the only place mathjs nodes appear; expressions are parsed, never
 * evaluated. `*` is the matrix product when both sides are tensors and scaling otherwise (as in mathjs).
 */
import { parse, type MathNode } from "mathjs";
import { BpgenError } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { type Node, shapeText } from "../ir/node.ts";
import { ShapeError } from "../ir/ops.ts";
import { suggest } from "../spec/suggest.ts";
import { BUILTINS, CONSTANTS } from "./functions.ts";

export interface Scope {
  /** A declared or defined name. */
  lookup(name: string): Node | undefined;
  /** Every name in scope, for suggestions. */
  names(): string[];
  /** User functions (scalar elementwise, body in `x`). */
  userFunction(name: string): ((arg: Node) => Node) | undefined;
  /**
   * Inside the body of a scalar function (a user function, a custom activation) applied to a tensor:
   * `*`, `/` and `^` act per element, as they would on the scalar the body is written for.
   */
  elementwise?: boolean;
}

/** Parses `text`; a syntax error becomes one BpgenError naming the character. */
export function parseExpression(text: string): MathNode {
  try {
    return parse(text);
  } catch (e) {
    const char = (e as { char?: number }).char;
    throw new BpgenError({
      message: `cannot parse expression: ${(e as Error).message.replace(/ \(char \d+\)$/, "")}`,
      equation: text,
      found: char !== undefined ? `${JSON.stringify(text.slice(Math.max(0, char - 1), char + 8))} at character ${char}` : undefined,
    });
  }
}

export function buildExpression(g: Graph, node: MathNode, scope: Scope): Node {
  try {
    return build(g, node, scope);
  } catch (e) {
    if (e instanceof ShapeError) throw new BpgenError({ message: `shape mismatch: ${e.message}` });
    throw e;
  }
}

function build(g: Graph, node: MathNode, scope: Scope): Node {
  const rec = (n: MathNode) => build(g, n, scope);
  switch (node.type) {
    case "ParenthesisNode":
      return rec((node as unknown as { content: MathNode }).content);
    case "ConstantNode": {
      const value = (node as unknown as { value: unknown }).value;
      if (typeof value !== "number") throw unsupported(`the constant ${JSON.stringify(value)}`, "a number");
      return g.constant(value);
    }
    case "SymbolNode":
      return symbol(g, (node as unknown as { name: string }).name, scope);
    case "OperatorNode": {
      const op = node as unknown as { fn: string; op: string; args: MathNode[] };
      return operator(g, scope.elementwise ? (PER_ELEMENT[op.fn] ?? op.fn) : op.fn, op.op, op.args.map(rec));
    }
    case "FunctionNode": {
      const call = node as unknown as { fn: MathNode; args: MathNode[] };
      if (call.fn.type !== "SymbolNode") throw unsupported("a computed function", "a function name");
      return callFunction(g, (call.fn as unknown as { name: string }).name, call.args.map(rec), scope);
    }
    default:
      throw unsupported(`${node.type.replace(/Node$/, "").toLowerCase()} syntax`, "numbers, names, operators and function calls");
  }
}

function symbol(g: Graph, name: string, scope: Scope): Node {
  const found = scope.lookup(name);
  if (found) return found;
  const constant = CONSTANTS.get(name);
  if (constant !== undefined) return g.constant(constant);
  throw new BpgenError({
    message: `unknown name "${name}"`,
    expected: "a parameter, input, target, or a name defined by an earlier equation",
    found: name,
    suggestion: quoted(suggest(name, scope.names())),
  });
}

const scalar = (n: Node) => n.shape.length === 0;

/** What the scalar operators mean when a scalar function's body is applied to every element at once. */
const PER_ELEMENT: Record<string, string> = { multiply: "dotMultiply", divide: "dotDivide", pow: "dotPow" };

function operator(g: Graph, fn: string, op: string, args: Node[]): Node {
  const [a, b] = args;
  switch (fn) {
    case "add":
      return g.add(a, b);
    case "subtract":
      return g.sub(a, b);
    case "unaryMinus":
      return g.neg(a);
    case "unaryPlus":
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
    default:
      throw unsupported(`the operator "${op}"`, "+ - * / ^ .* ./ .^ '");
  }
}

function callFunction(g: Graph, name: string, args: Node[], scope: Scope): Node {
  const user = scope.userFunction(name);
  if (user) {
    if (args.length !== 1) throw arity(name, 1, args.length);
    return user(args[0]);
  }
  const builtin = BUILTINS.get(name);
  if (!builtin || name === "linear") {
    throw new BpgenError({
      message: `unknown function "${name}"`,
      expected: "a builtin function or one declared in `functions`",
      found: name,
      suggestion: quoted(suggest(name, [...BUILTINS.keys()])),
    });
  }
  if (args.length !== builtin.arity) throw arity(name, builtin.arity, args.length);
  if (scope.elementwise && !builtin.elementwise) {
    throw new BpgenError({ message: `${name}() is not allowed in a scalar function`, expected: "elementwise functions of x", found: `${name}()` });
  }
  return builtin.build(g, args);
}

function arity(name: string, expected: number, found: number): BpgenError {
  return new BpgenError({ message: `${name}() takes ${expected} argument${expected === 1 ? "" : "s"}`, expected: String(expected), found: String(found) });
}

function unsupported(what: string, expected: string): BpgenError {
  return new BpgenError({ message: `${what} is not supported in expressions`, expected, found: what });
}

const quoted = (s: string | undefined) => (s === undefined ? undefined : `"${s}"`);
