/**
 * Where the generated module computes a formula: the comment lines (`// d_z = d_e · w3`) of the stored
 * values the formula spells out, and, for a value the module never stores (it is inlined into a reader,
 * or added straight into a batch mean), the lines of the readers that compute it in place.
 */
import type { Node } from "../ir/node.ts";
import type { Names } from "./names.ts";

export interface CodeRef {
  /** Comment lines of the module's `gradient` function, in the order the module runs them. */
  readonly lines: readonly string[];
  /** The module stores the value itself (under `names.code(node)`). */
  readonly stored: boolean;
}

/** `comments`: the comment line of each value the module's `gradient` function assigns (code-names.ts). */
export function codeRef(names: Names, comments: ReadonlyMap<Node, string>, node: Node, isSymbol: (n: Node) => boolean): CodeRef {
  const lineOf = (n: Node) => comments.get(n);
  const own = spelledNodes(node, isSymbol).flatMap((n) => lineOf(n) ?? []);
  const stored = lineOf(node) !== undefined;
  const readers = stored ? [] : nearestReaders(names, node, lineOf);
  return { lines: [...new Set([...own, ...readers])], stored };
}

/** `node` and the nodes its formula spells out (not symbols, not leaves), in id order. */
function spelledNodes(node: Node, isSymbol: (n: Node) => boolean): Node[] {
  const out = new Set<Node>([node]);
  const stack = [...node.inputs];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (out.has(n) || n.inputs.length === 0 || isSymbol(n)) continue;
    out.add(n);
    stack.push(...n.inputs);
  }
  return [...out].sort((a, b) => a.id - b.id);
}

/** The closest readers of `node` that have a comment line (a value inlined into them is computed there). */
function nearestReaders(names: Names, node: Node, lineOf: (n: Node) => string | undefined): string[] {
  let frontier = [...names.view.consumers(node)];
  const seen = new Set<Node>(frontier);
  while (frontier.length > 0) {
    const found = frontier.flatMap((n) => lineOf(n) ?? []);
    if (found.length > 0) return found.slice(0, 3);
    frontier = frontier.flatMap((n) => names.view.consumers(n)).filter((n) => !seen.has(n) && (seen.add(n), true));
  }
  return [];
}
