/**
 * The `functions` of the equation form: scalar functions of `x`, expanded at each call with `x` bound to
 * the argument, so they differentiate like any expression. Each body is parsed and tried once on a scalar
 * (in a scratch graph) up front, so a bad body is reported once, at its own line, and not at every call.
 */
import type { MathNode } from "mathjs";
import { BpgenError } from "../errors.ts";
import { Graph } from "../ir/graph.ts";
import type { Node } from "../ir/node.ts";
import { suggest } from "../spec/suggest.ts";
import { DependsOnFailed, buildExpression, elementwiseResult, parseExpression, tokenIndex } from "./expressions.ts";
import type { Problems } from "./problems.ts";

export class UserFunctions {
  private readonly bodies = new Map<string, { text: string; body: MathNode }>();
  /** The functions being expanded, outermost first, to catch recursion. */
  private readonly active: string[] = [];

  constructor(
    definitions: Record<string, string>,
    private readonly problems: Problems,
    private readonly failed: Set<string>,
  ) {
    for (const [name, text] of Object.entries(definitions)) {
      const body = problems.attempt(["functions", name], text, () => parseExpression(text));
      if (body) this.bodies.set(name, { text, body });
      else failed.add(name);
    }
    for (const [name, { text }] of this.bodies) {
      const scratch = new Graph();
      const ok = problems.attempt(["functions", name], text, () => this.apply(scratch, name, scratch.input("x", [])));
      if (ok === undefined) failed.add(name);
    }
  }

  /** The expansion of function `name`, undefined when there is no such function; throws DependsOnFailed when its body failed. */
  get(name: string): ((g: Graph, arg: Node) => Node) | undefined {
    if (this.failed.has(name)) throw new DependsOnFailed(name);
    return this.bodies.has(name) ? (g, arg) => this.apply(g, name, arg) : undefined;
  }

  private apply(g: Graph, name: string, arg: Node): Node {
    const { text, body } = this.bodies.get(name) as { text: string; body: MathNode };
    if (this.active.includes(name)) throw this.recursion(name);
    this.active.push(name);
    try {
      const value = buildExpression(g, body, {
        lookup: (n) => (n === "x" ? arg : undefined),
        names: () => ["x"],
        userFunction: (n) => this.get(n),
        elementwise: true,
        text,
        explainUnknown: (n) => ({
          message: `unknown name "${n}" in the body of function "${name}"`,
          expected: "x (the argument), numbers, pi and calls of functions",
          found: n,
          suggestion: suggest(n, ["x", "pi"]) === undefined ? undefined : `"${suggest(n, ["x", "pi"])}"`,
        }),
      });
      return elementwiseResult(g, value, arg, `function "${name}"`);
    } catch (e) {
      throw e instanceof BpgenError ? this.problems.place(["functions", name], text, e) : e;
    } finally {
      this.active.pop();
    }
  }

  /** The error for a function that calls itself, directly or through others, placed at the outermost one. */
  private recursion(name: string): BpgenError {
    const cycle = [...this.active.slice(this.active.indexOf(name)), name];
    const outer = this.active[0];
    const { text } = this.bodies.get(outer) as { text: string };
    const error = new BpgenError({
      message: `function "${outer}" calls itself: ${cycle.join(" → ")}`,
      expected: "functions that do not call themselves, directly or through other functions",
      found: `a call of ${JSON.stringify(this.active[1] ?? name)}`,
      index: tokenIndex(text, this.active[1] ?? name, true),
    });
    return this.problems.place(["functions", outer], text, error);
  }
}
