/**
 * What the generated module calls each value, and the comment line that computes it. Pictures and
 * derivations quote these, so a reader can go from a formula to the line of code (and back).
 */
import type { Node } from "../ir/node.ts";
import type { Compiled } from "./compiled.ts";

/**
 * The identifier of every node the module names: the leaves, and each value it stores. A value the module
 * computes in place, inside its reader, has no name of its own, and none is invented for it.
 */
export function codeNames(c: Compiled): Map<Node, string> {
  const { lowered, names } = c.emitted;
  const { plans } = lowered;
  const candidates = new Set<Node>([...c.net.params, ...c.net.inputs, ...c.net.targets].map((l) => l.node));
  for (const plan of [plans.forward, plans.loss, plans.gradient]) for (const n of plan.computed) candidates.add(n);
  const out = new Map<Node, string>();
  for (const n of [...candidates].sort((a, b) => a.id - b.id)) {
    if (names.nodes.has(n)) out.set(n, names.nodes.of(n));
  }
  return out;
}

/**
 * The text of the TypeScript kernel of one function: `<name>Kernel` in a module that also runs WebAssembly
 * kernels (the exported function then only dispatches), else the exported function itself.
 */
export function kernelText(source: string, name: string): string {
  const kernel = source.indexOf(`\nfunction ${name}Kernel(`);
  const start = kernel >= 0 ? kernel + 1 : source.indexOf(`export function ${name}(`);
  if (start < 0) return "";
  const end = source.indexOf("\n}\n", start);
  return source.slice(start, end < 0 ? undefined : end);
}

/**
 * The formula comments of the module's gradient kernel, by the name they assign:
 * `d_z` → `d_z = d_e · w3`, `d_w1` → `d_w1 += d_y · x`. The first line assigning a name wins.
 */
export function gradientComments(source: string): Map<string, string> {
  const body = kernelText(source, "gradient");
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^\s*\/\/ ([A-Za-z_$][\w$]*) (\+?=) (.+)$/gm)) {
    if (!out.has(m[1])) out.set(m[1], `${m[1]} ${m[2]} ${m[3]}`);
  }
  return out;
}
