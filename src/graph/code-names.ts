/**
 * What the generated module calls each value, and the comment line that computes it. Pictures and
 * derivations quote these, so a reader can go from a formula to the line of code (and back).
 */
import type { Node } from "../ir/node.ts";
import type { Compiled } from "./compiled.ts";

/**
 * The identifier of every node the module names: the leaves, and each value it stores. A per-sample value
 * added straight into a batch mean is written under the mean's name, so the mean is the one named.
 * Only names that occur in the module are kept (asking NodeNames about a node the module never named
 * would invent a fresh name that matches nothing).
 */
export function codeNames(c: Compiled): Map<Node, string> {
  const { plans, names, source } = c.emitted;
  const candidates = new Set<Node>([...c.net.params, ...c.net.inputs, ...c.net.targets].map((l) => l.node));
  for (const plan of [plans.forward, plans.loss, plans.gradient]) {
    for (const n of plan.computed) candidates.add(plan.accumulateInto.get(n) ?? n);
  }
  const out = new Map<Node, string>();
  for (const n of [...candidates].sort((a, b) => a.id - b.id)) {
    const name = names.of(n);
    if (occursIn(source, name)) out.set(n, name);
  }
  return out;
}

function occursIn(source: string, name: string): boolean {
  const escaped = name.replace(/[$]/g, "\\$");
  return new RegExp(`(^|[^\\w$])${escaped}([^\\w$]|$)`, "m").test(source);
}

/**
 * The formula comments of the module's `gradient` function, by the name they assign:
 * `d_z` → `d_z = d_e · w3`, `d_w1` → `d_w1 += d_y · x`. The first line assigning a name wins.
 */
export function gradientComments(source: string): Map<string, string> {
  const start = source.indexOf("export function gradient(");
  const end = source.indexOf("\nexport function ", start + 1);
  const body = start < 0 ? "" : source.slice(start, end < 0 ? undefined : end);
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^\s*\/\/ ([A-Za-z_$][\w$]*) (\+?=) (.+)$/gm)) {
    if (!out.has(m[1])) out.set(m[1], `${m[1]} ${m[2]} ${m[3]}`);
  }
  return out;
}
