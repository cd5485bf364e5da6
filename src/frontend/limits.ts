/**
 * Limits that keep a network compilable: the compiler's passes recurse along expressions (so their depth is
 * bounded), and every value gets a workspace buffer (so its size is bounded). Each check returns or throws an
 * error saying which limit was exceeded and how to stay within it.
 */
import type { MathNode } from "mathjs";
import { BpgenError, type ErrorDetail } from "../errors.ts";
import { type Node, shapeText, sizeOf } from "../ir/node.ts";
import { MAX_ELEMENTS } from "../spec/semantic.ts";

/** Brackets open at once in one expression (mathjs parses each level with a deep recursion of its own). */
export const MAX_NESTING = 100;
/** Operations on the longest path of one expression's parse tree, and of the whole network's DAG. */
export const MAX_DEPTH = 1000;

const plural = (n: number) => n.toLocaleString("en-US");

/** An error for more than MAX_NESTING brackets open at once, pointing at the first bracket past the limit. */
export function checkNesting(text: string): ErrorDetail | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth > MAX_NESTING) {
      return {
        message: "the expression is nested too deeply",
        expected: `at most ${MAX_NESTING} brackets open at once`,
        found: `more than ${MAX_NESTING}`,
        index: i,
      };
    }
  }
  return undefined;
}

/** An error for a parse tree deeper than MAX_DEPTH (a very long chain such as a + a + … + a). */
export function checkTreeDepth(root: MathNode): ErrorDetail | undefined {
  const stack: [MathNode, number][] = [[root, 1]];
  let deepest = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [MathNode, number];
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_DEPTH) {
      return { ...tooDeep("the expression", `more than ${plural(MAX_DEPTH)} nested operations`), expected: `at most ${plural(MAX_DEPTH)} nested operations; add many terms with sum(...) of a vector` };
    }
    node.forEach((child) => stack.push([child, depth + 1]));
  }
  return undefined;
}

function tooDeep(what: string, found: string): ErrorDetail {
  return {
    message: `${what} is too deep to compile`,
    expected: `at most ${plural(MAX_DEPTH)} operations on the longest chain from a parameter or input`,
    found,
  };
}

/** Depths of DAG nodes (the longest chain of operations from a leaf), computed without recursion and remembered. */
export class DepthMeter {
  private readonly depths = new Map<Node, number>();

  depth(root: Node): number {
    const known = this.depths.get(root);
    if (known !== undefined) return known;
    const stack: Node[] = [root];
    while (stack.length > 0) {
      const node = stack[stack.length - 1];
      if (this.depths.has(node)) {
        stack.pop();
        continue;
      }
      const pending = node.inputs.filter((n) => !this.depths.has(n));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      stack.pop();
      this.depths.set(node, 1 + node.inputs.reduce((m, n) => Math.max(m, this.depths.get(n) ?? 0), 0));
    }
    return this.depths.get(root) ?? 0;
  }

  /** The depth of `node`; throws when the chain of operations ending at it is longer than MAX_DEPTH. */
  check(node: Node, what: string): number {
    const depth = this.depth(node);
    if (depth > MAX_DEPTH) throw new BpgenError(tooDeep(what, `a chain of ${plural(depth)} operations`));
    return depth;
  }
}

/** Throws when one value holds more than MAX_ELEMENTS numbers per sample. */
export function checkSize(node: Node): void {
  const size = sizeOf(node.shape);
  if (size > MAX_ELEMENTS) {
    throw new BpgenError({
      message: `a value of shape ${shapeText(node.shape)} is too large to compile`,
      expected: `at most ${plural(MAX_ELEMENTS)} numbers per value`,
      found: plural(size),
    });
  }
}
