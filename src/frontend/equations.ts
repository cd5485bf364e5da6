/**
 * The equation form: declared params, inputs and targets, then equations `name = expression` in order,
 * each able to use only names declared or defined above it; then the per-sample loss and the regularizer.
 */
import { BpgenError } from "../errors.ts";
import { Graph } from "../ir/graph.ts";
import { type Node, shapeText } from "../ir/node.ts";
import type { EquationNetSpec, Locate } from "../spec/types.ts";
import { type Scope, buildExpression, parseExpression } from "./expressions.ts";
import { initPlan } from "./layers.ts";
import { type Leaf, type Net, type ParamLeaf, fans } from "./net.ts";
import type { MathNode } from "mathjs";

export function buildEquationNet(spec: EquationNetSpec, locate: Locate = () => undefined): Net {
  const g = new Graph();
  const names = new Map<string, Node>();
  const params: ParamLeaf[] = Object.entries(spec.params).map(([name, p]) => {
    const node = g.param(name, p.shape);
    names.set(name, node);
    const { fanIn, fanOut } = fans(p.shape);
    return { name, node, shape: node.shape, init: initPlan(p.init ?? "xavier", fanIn, fanOut) };
  });
  const leaves = (decl: Record<string, number[]>, make: (n: string, s: number[]) => Node): Leaf[] =>
    Object.entries(decl).map(([name, shape]) => {
      const node = make(name, shape);
      names.set(name, node);
      return { name, node, shape: node.shape };
    });
  const inputs = leaves(spec.inputs, g.input.bind(g));
  const targets = leaves(spec.targets, g.target.bind(g));
  const scope = makeScope(g, spec, names, locate);

  spec.equations.forEach((text, i) => defineEquation(g, text, scope, names, site(locate, ["equations", i], text)));

  const output = names.get(spec.output);
  if (!output) throw unknownOutput(spec, locate);
  const loss = g.name(expression(g, spec.loss, scope, site(locate, ["loss"], spec.loss)), "L");
  requireScalar(loss, "the loss", site(locate, ["loss"], spec.loss));
  let objective = g.name(g.batchMean(loss), "meanL");
  if (spec.regularizer !== undefined) {
    const where = site(locate, ["regularizer"], spec.regularizer);
    const r = g.name(expression(g, spec.regularizer, scope, where), "R");
    requireScalar(r, "the regularizer", where);
    if (r.batched) throw new BpgenError({ ...where, message: "the regularizer may use parameters only", expected: "an expression of params", found: "a use of an input or target" });
    objective = g.add(objective, r);
  }
  return { name: spec.name, graph: g, params, inputs, targets, output, loss, objective: g.name(objective, "J") };
}

interface Site {
  path: string;
  equation: string;
  line?: number;
  column?: number;
}

function site(locate: Locate, segments: (string | number)[], text: string): Site {
  const path = segments.map((s, k) => (typeof s === "number" ? `[${s}]` : k === 0 ? s : `.${s}`)).join("");
  return { path, equation: text, ...locate(segments) };
}

function makeScope(g: Graph, spec: EquationNetSpec, names: Map<string, Node>, locate: Locate): Scope {
  const bodies = new Map<string, MathNode>();
  const scope: Scope = {
    lookup: (n) => names.get(n),
    names: () => [...names.keys()],
    userFunction: (n) => {
      const body = bodies.get(n);
      return body ? (arg) => applyUserFunction(g, n, body, arg, scope) : undefined;
    },
  };
  for (const [name, text] of Object.entries(spec.functions ?? {})) {
    const where = site(locate, ["functions", name], text);
    try {
      bodies.set(name, parseExpression(text));
    } catch (e) {
      throw e instanceof BpgenError ? e.at(where) : e;
    }
  }
  return scope;
}

/** A user function is expanded at each call with `x` bound to the argument, so it differentiates like any expression. */
function applyUserFunction(g: Graph, name: string, body: MathNode, arg: Node, outer: Scope): Node {
  const inner: Scope = { lookup: (n) => (n === "x" ? arg : undefined), names: () => ["x"], userFunction: outer.userFunction, elementwise: true };
  const value = buildExpression(g, body, inner);
  if (value.shape.length !== arg.shape.length) {
    throw new BpgenError({ message: `function "${name}" must be elementwise`, expected: `a result shaped like its argument ${shapeText(arg.shape)}`, found: shapeText(value.shape) });
  }
  return value;
}

function defineEquation(g: Graph, text: string, scope: Scope, names: Map<string, Node>, where: Site): void {
  try {
    const parsed = parseExpression(text) as MathNode & { object?: MathNode & { name?: string }; value?: MathNode };
    if (parsed.type !== "AssignmentNode" || parsed.object?.type !== "SymbolNode" || !parsed.value) {
      throw new BpgenError({ message: "an equation must assign a name", expected: "name = expression", found: text });
    }
    const name = parsed.object.name as string;
    if (names.has(name)) {
      throw new BpgenError({ message: `"${name}" is already defined`, expected: "a new name on the left of each equation", found: name });
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new BpgenError({ message: `"${name}" is not a valid name`, expected: "letters, digits and _", found: name });
    }
    const value = buildExpression(g, parsed.value, scope);
    names.set(name, g.name(value, name));
  } catch (e) {
    throw e instanceof BpgenError ? e.at(where) : e;
  }
}

function expression(g: Graph, text: string, scope: Scope, where: Site): Node {
  try {
    return buildExpression(g, parseExpression(text), scope);
  } catch (e) {
    throw e instanceof BpgenError ? e.at(where) : e;
  }
}

function requireScalar(n: Node, what: string, where: Site): void {
  if (n.shape.length !== 0) {
    throw new BpgenError({ ...where, message: `${what} must be a scalar per sample`, expected: "shape []", found: `shape ${shapeText(n.shape)} (wrap it in sum(...) or mean(...))` });
  }
}

function unknownOutput(spec: EquationNetSpec, locate: Locate): BpgenError {
  return new BpgenError({ path: "output", ...locate(["output"]), message: `output "${spec.output}" is not defined`, expected: "a name defined by an equation, or a declared name", found: spec.output });
}
