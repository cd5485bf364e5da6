/**
 * The equation form: declared params, inputs and targets, then equations `name = expression` in order,
 * each able to use only names declared or defined above it; then the per-sample loss and the regularizer.
 *
 * Every problem is reported at once: an equation that fails is reported and skipped, and whatever uses the
 * name it would have defined is skipped silently (its only error would be an echo of the first).
 *
 * An entry of equations may instead be a recurrence (recurrences.ts), which defines the names of its outputs
 * and final values; the names it uses inside itself are taken, but cannot be read outside it.
 */
import type { MathNode } from "mathjs";
import { BpgenError } from "../errors.ts";
import { Graph } from "../ir/graph.ts";
import { type Node, reachable, shapeText } from "../ir/node.ts";
import { identifierProblem } from "../spec/semantic.ts";
import { suggest } from "../spec/suggest.ts";
import type { EquationEntry, EquationNetSpec, Locate, RecurrenceBlock } from "../spec/types.ts";
import { DependsOnFailed, type Scope, buildExpression, parseExpression, tokenIndex } from "./expressions.ts";
import { initPlan } from "./layers/index.ts";
import { DepthMeter } from "./limits.ts";
import { type Leaf, type Net, type ParamLeaf, fans } from "../ir/net.ts";
import { Problems } from "./problems.ts";
import { buildRecurrence, handedOutNames, innerNames } from "./recurrences.ts";
import { UserFunctions } from "./user-functions.ts";

interface Equation {
  text: string;
  /** The name on the left, when the text starts like `name = …` (even if the rest does not parse). */
  name?: string;
  /** The right-hand side, when the equation parsed as `name = expression`. */
  value?: MathNode;
  error?: BpgenError;
  /** The recurrence, for an entry that is one (its text is empty). */
  block?: RecurrenceBlock;
}

export function buildEquationNet(spec: EquationNetSpec<EquationEntry>, locate: Locate = () => undefined): Net {
  const g = new Graph();
  const problems = new Problems(locate);
  const names = new Map<string, Node>();
  /** Where each name was introduced: "params", "inputs", "targets", "functions" or "equations[i]". */
  const origin = new Map<string, string>();
  const params: ParamLeaf[] = Object.entries(spec.params).map(([name, p]) => {
    const node = g.param(name, p.shape);
    names.set(name, node);
    origin.set(name, "params");
    const { fanIn, fanOut } = fans(p.shape);
    return { name, node, shape: node.shape, init: initPlan(p.init ?? "xavier", fanIn, fanOut) };
  });
  const leaves = (section: string, decl: Record<string, number[]>, make: (n: string, s: number[]) => Node): Leaf[] =>
    Object.entries(decl).map(([name, shape]) => {
      const node = make(name, shape);
      names.set(name, node);
      origin.set(name, section);
      return { name, node, shape: node.shape };
    });
  const inputs = leaves("inputs", spec.inputs, g.input.bind(g));
  const targets = leaves("targets", spec.targets, g.target.bind(g));
  for (const name of Object.keys(spec.functions ?? {})) origin.set(name, "functions");

  /** Names whose definition failed: what uses them is skipped. */
  const failed = new Set<string>();
  const functions = new UserFunctions(spec.functions ?? {}, problems, failed);
  const meter = new DepthMeter();
  const equations = spec.equations.map((e): Equation => (typeof e === "string" ? parseEquation(e) : { text: "", block: e.recurrence }));
  const definedAt = new Map<string, number>();
  const defines = (eq: Equation) => (eq.block ? handedOutNames(eq.block) : eq.name === undefined ? [] : [eq.name]);
  equations.forEach((eq, i) => defines(eq).forEach((name) => !definedAt.has(name) && definedAt.set(name, i)));
  /** The names used inside a recurrence, and its entry: they cannot be read outside it. */
  const inside = new Map<string, number>();

  const scope = (text: string, current?: number, from = current === undefined ? 0 : text.indexOf("=") + 1): Scope => ({
    from,
    lookup: (n) => {
      if (failed.has(n)) throw new DependsOnFailed(n);
      return names.get(n);
    },
    names: () => [...names.keys()],
    userFunction: (n) => functions.get(n),
    text,
    explainUnknown: (n) => insideRecurrence(n, inside.get(n)) ?? (current === undefined ? undefined : usedTooEarly(n, current, equations, definedAt)),
  });

  const defineRecurrence = (block: RecurrenceBlock, i: number) => {
    const context = { g, problems, meter, scope: (text: string) => scope(text, i, 0), origin: (n: string) => origin.get(n) };
    const handed = buildRecurrence(context, block, ["equations", i, "recurrence"], parseEquation);
    for (const name of innerNames(block, parseEquation)) {
      if (origin.has(name)) continue;
      origin.set(name, `equations[${i}] (a recurrence)`);
      inside.set(name, i);
    }
    for (const [name, node] of handed) {
      if (origin.has(name)) continue;
      if (node === undefined) failed.add(name);
      else names.set(name, node);
      origin.set(name, `equations[${i}]`);
    }
  };

  equations.forEach((eq, i) => {
    if (eq.block) return defineRecurrence(eq.block, i);
    const defined = problems.attempt(["equations", i], eq.text, () => {
      if (eq.error) throw eq.error;
      const name = eq.name as string;
      checkNewName(name, eq.text, origin);
      const value = buildExpression(g, eq.value as MathNode, scope(eq.text, i));
      meter.check(value, `the equation defining "${name}"`);
      return g.name(value, name);
    });
    // a failed redefinition leaves the first definition in place; a failed new name is skipped wherever it is used
    // (so is a name of a recurrence's inside, which has no value here)
    if (eq.name !== undefined && inside.has(eq.name)) failed.add(eq.name);
    if (eq.name === undefined || origin.has(eq.name)) return;
    if (defined === undefined) failed.add(eq.name);
    else {
      names.set(eq.name, defined);
      origin.set(eq.name, `equations[${i}]`);
    }
  });

  const output = names.get(spec.output);
  if (!output && !failed.has(spec.output)) problems.add(["output"], undefined, unknownOutput(spec.output, [...names.keys()]));
  const targetRead = output && reachable([output]).find((n) => n.op === "target");
  if (targetRead) problems.add(["output"], undefined, outputReadsTarget(spec.output, targets.find((t) => t.node === targetRead)?.name ?? "a target"));

  const lossNode = problems.attempt(["loss"], spec.loss, () => {
    const value = buildExpression(g, parseExpression(spec.loss), scope(spec.loss));
    requireScalar(value, "the loss");
    meter.check(value, "the loss");
    return value;
  });
  const regularizer =
    spec.regularizer === undefined
      ? undefined
      : problems.attempt(["regularizer"], spec.regularizer, () => {
          const text = spec.regularizer as string;
          const value = buildExpression(g, parseExpression(text), scope(text));
          requireScalar(value, "the regularizer");
          if (value.batched) throw new BpgenError({ message: "the regularizer may use parameters only", expected: "an expression of params", found: "a use of an input or target" });
          meter.check(value, "the regularizer");
          return value;
        });
  problems.throwIfAny();

  const loss = g.name(lossNode as Node, "L");
  let objective = g.name(g.batchMean(loss), "meanL");
  if (regularizer) objective = g.add(objective, g.name(regularizer, "R"));
  return { name: spec.name, graph: g, params, inputs, targets, output: output as Node, loss, objective: g.name(objective, "J") };
}

const LEFT_NAME = /^\s*([A-Za-z_$][\w$]*)\s*=(?!=)/u;

/** `name = expression`, parsed; a text that is not one keeps its error (and the name, when it starts like one). */
export function parseEquation(text: string): Equation {
  const name = LEFT_NAME.exec(text)?.[1];
  try {
    const parsed = parseExpression(text) as MathNode & { object?: MathNode & { name?: string }; value?: MathNode };
    if (parsed.type === "AssignmentNode" && parsed.object?.type === "SymbolNode" && parsed.value) {
      return { text, name: parsed.object.name as string, value: parsed.value };
    }
    return { text, name, error: notAnAssignment(text, parsed) };
  } catch (e) {
    if (!(e instanceof BpgenError)) throw e;
    return { text, name, error: e };
  }
}

function notAnAssignment(text: string, parsed: MathNode): BpgenError {
  const start = text.search(/\S/);
  const index = start < 0 ? undefined : start;
  if (parsed.type === "BlockNode") {
    return new BpgenError({ message: "an equation defines one name", expected: "one `name = expression` per string in equations", found: "several statements (separated by ; or a line break)", index: text.search(/[;\n]/) });
  }
  if (parsed.type === "FunctionAssignmentNode") {
    return new BpgenError({ message: "functions are declared in `functions`, not in equations", expected: 'name = expression, and functions as "functions": { "f": "expression in x" }', found: text.trim(), index });
  }
  return new BpgenError({ message: "an equation must assign a name", expected: "name = expression", found: text.trim() === "" ? "an empty equation" : text.trim(), index });
}

/** The name on the left of an equation must be an identifier not yet in use. */
function checkNewName(name: string, text: string, origin: ReadonlyMap<string, string>): void {
  const index = tokenIndex(text, name, false);
  const problem = identifierProblem(name, "equations");
  if (problem) throw new BpgenError({ ...problem, found: name, index });
  const first = origin.get(name);
  if (first !== undefined) {
    const where = first.startsWith("equations") ? `by ${first}` : `in ${first}`;
    throw new BpgenError({ message: `"${name}" is already defined (${where})`, expected: "a new name on the left of each equation", found: name, index });
  }
}

/** The error for a name read outside the recurrence (equations[at]) that uses it inside itself. */
function insideRecurrence(name: string, at: number | undefined) {
  if (at === undefined) return undefined;
  return {
    message: `"${name}" is a name inside the recurrence of equations[${at}]`,
    expected: `a name the recurrence hands out: add "${name}" to its outputs (every step's value) or final (a carried name's last value)`,
    found: name,
  };
}

/** The error for a name used by equation `current` but defined by it or by a later one: a cycle or the wrong order. */
function usedTooEarly(name: string, current: number, equations: readonly Equation[], definedAt: ReadonlyMap<string, number>) {
  const at = definedAt.get(name);
  if (at === undefined) return undefined;
  const self = equations[current].name;
  if (at === current) {
    return { message: `"${name}" is used in its own definition`, expected: "an expression of names defined above this equation", found: `${name} on both sides` };
  }
  if (at < current) return undefined;
  const cycle = self === undefined ? undefined : findCycle(name, self, equations, definedAt);
  if (cycle) {
    return {
      message: `circular definition: ${[self, ...cycle].join(" → ")}`,
      expected: "equations that use only names defined above them, without cycles",
      found: `"${name}" is defined later, by equations[${at}], and depends on "${self}"`,
    };
  }
  return {
    message: `"${name}" is used before it is defined`,
    expected: `names defined above this equation (move equations[${at}] above equations[${current}])`,
    found: `"${name}" is defined later, by equations[${at}]`,
  };
}

/** A chain of names from `start` back to `target` through the equations that define them, if there is one. */
function findCycle(start: string, target: string, equations: readonly Equation[], definedAt: ReadonlyMap<string, number>): string[] | undefined {
  const previous = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    const value = equations[definedAt.get(name) ?? -1]?.value;
    for (const used of value ? symbolsOf(value) : []) {
      if (used === target) {
        const chain = [target, name];
        for (let n = previous.get(name); n !== undefined; n = previous.get(n)) chain.push(n);
        return chain.reverse();
      }
      if (!previous.has(used) && definedAt.has(used)) {
        previous.set(used, name);
        queue.push(used);
      }
    }
  }
  return undefined;
}

/** The names an expression reads (not the names of functions it calls). */
function symbolsOf(root: MathNode): Set<string> {
  const found = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop() as MathNode;
    node.forEach((child, path) => {
      if (child.type === "SymbolNode" && path !== "fn") found.add((child as unknown as { name: string }).name);
      stack.push(child);
    });
  }
  return found;
}

function requireScalar(n: Node, what: string): void {
  if (n.shape.length !== 0) {
    throw new BpgenError({ message: `${what} must be a scalar per sample`, expected: "shape []", found: `shape ${shapeText(n.shape)} (wrap it in sum(...) or mean(...))` });
  }
}

/** forward computes the output from parameters and inputs alone: it is given no targets. */
function outputReadsTarget(output: string, target: string): BpgenError {
  return new BpgenError({
    message: `output "${output}" depends on the target "${target}", but forward is given no targets`,
    expected: "an output computed from parameters and inputs only (use the target in the loss)",
    found: `"${output}" reads "${target}"`,
  });
}

function unknownOutput(output: string, names: string[]): BpgenError {
  const near = suggest(output, names);
  return new BpgenError({
    message: `output "${output}" is not defined`,
    expected: "a name defined by an equation, or a declared name",
    found: output,
    suggestion: near === undefined ? undefined : `"${near}"`,
  });
}
