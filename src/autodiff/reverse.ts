/**
 * Reverse-mode differentiation on the DAG: one sweep from the objective back to the parameters, in
 * decreasing node id (a valid reverse topological order, since inputs are always built first).
 * Each node's cotangent is complete when the node is reached, and is built once: a delta shared by several
 * parameters is one node. Zero cotangents are never built. The driver, not the op rules, sums fan-out,
 * reduces scalar broadcasts and averages over the batch where a per-sample value meets a parameter.
 * A recurrence is differentiated as a whole when the sweep reaches its outputs (autodiff/recurrence.ts): its
 * cell's values are skipped here.
 */
import { parseSlice, unsliceFill } from "../ir/axes.ts";
import { type Graph, loopOfAttr } from "../ir/graph.ts";
import { type Node, type Recurrence, isLoopOutput, reachable, recurrenceOf } from "../ir/node.ts";
import { OPS } from "../ir/ops.ts";
import { type ReverseRecurrence, reverseRecurrence } from "./recurrence.ts";

export interface Gradients {
  /** d objective / d param for each parameter leaf, or null where the objective does not depend on it. */
  readonly byParam: ReadonlyMap<Node, Node | null>;
  /** The cotangent of every node on a path from a parameter to the objective. */
  readonly adjoints: ReadonlyMap<Node, Node>;
  /** Each recurrence the objective reads, in the order of the net, with its reverse sweep (autodiff/recurrence.ts). */
  readonly recurrences: readonly { readonly forward: Recurrence; readonly reversed: ReverseRecurrence }[];
}

export function reverse(g: Graph, objective: Node, params: readonly Node[]): Gradients {
  const order = reachable(objective).sort((a, b) => b.id - a.id);
  const needsGrad = dependsOnAny(order, new Set(params));
  // contributions wait, unsummed, until their node is reached (or the sweep ends): then they are added as a balanced tree
  const pending = new Map<Node, Node[]>([[objective, [g.constant(1)]]]);
  const adjoints = new Map<Node, Node>();

  const add = (input: Node, contribution: Node) => {
    const waiting = pending.get(input);
    if (waiting) waiting.push(fitTo(g, contribution, input));
    else pending.set(input, [fitTo(g, contribution, input)]);
  };
  const differentiated = new Set<number>();
  const recurrences: { forward: Recurrence; reversed: ReverseRecurrence }[] = [];
  for (const node of order) {
    if (node.loop !== undefined) continue;
    if (isLoopOutput(node)) {
      const id = loopOfAttr(node.attr);
      if (differentiated.has(id)) continue;
      differentiated.add(id);
      const outputCts = new Map<Node, Node>();
      for (const o of order.filter((m) => isLoopOutput(m) && loopOfAttr(m.attr) === id)) {
        const contributions = pending.get(o);
        if (!contributions) continue;
        const ct = combine(g, contributions);
        adjoints.set(o, ct);
        outputCts.set(o, ct);
      }
      if (outputCts.size === 0) continue;
      const tools = {
        needsGrad: (n: Node) => needsGrad.has(n),
        combine: (cs: readonly Node[]) => combine(g, cs),
        fitShape: (c: Node, target: Node) => fitShape(g, c, target),
        nameAdjoint: (n: Node, ct: Node) => nameAdjoint(g, n, ct),
      };
      const reversed = reverseRecurrence(g, recurrenceOf(node), outputCts, tools);
      recurrences.push({ forward: recurrenceOf(node), reversed });
      for (const [n, ct] of reversed.adjoints) adjoints.set(n, ct);
      for (const [target, c] of reversed.contributions) add(target, c);
      continue;
    }
    const contributions = pending.get(node);
    if (!contributions) continue;
    const ct = combine(g, contributions);
    adjoints.set(node, ct);
    nameAdjoint(g, node, ct);
    node.inputs.forEach((input, i) => {
      if (!needsGrad.has(input)) return;
      const contribution = OPS[node.op].vjp(g, node, ct, i);
      if (contribution) add(input, contribution);
    });
  }
  for (const p of params) {
    const contributions = pending.get(p);
    if (contributions && !adjoints.has(p)) adjoints.set(p, combine(g, contributions));
  }
  const byParam = new Map(params.map((p) => [p, adjoints.get(p) ?? null] as const));
  for (const [p, grad] of byParam) if (grad) nameAdjoint(g, p, grad);
  // the sweep met the recurrences last first
  return { byParam, adjoints, recurrences: recurrences.reverse() };
}


/** Reduces a contribution to its target's shape and batching: Σ over a broadcast scalar, mean over the batch. */
function fitTo(g: Graph, c: Node, target: Node): Node {
  const fitted = fitShape(g, c, target);
  return !target.batched && fitted.batched ? g.batchMean(fitted) : fitted;
}

/** Reduces a contribution to its target's shape: Σ over a broadcast scalar, a scalar repeated over a tensor. */
function fitShape(g: Graph, c: Node, target: Node): Node {
  if (target.shape.length === 0 && c.shape.length > 0) return g.sum(c);
  if (c.shape.length === 0 && target.shape.length > 0) return g.broadcast(c, target.shape);
  return c;
}

/**
 * The cotangent of a node from its contributions (fan-out): equal terms become k·t, and the sum is a
 * balanced tree, so a value used N times gives an expression of depth log₂ N, not N.
 */
function combine(g: Graph, contributions: readonly Node[]): Node {
  const tiled = asConcat(g, contributions);
  if (tiled) return tiled;
  const counts = new Map<Node, number>();
  for (const c of contributions) counts.set(c, (counts.get(c) ?? 0) + 1);
  const terms = [...counts].map(([term, k]) => (k === 1 ? term : g.mul(g.constant(k), term)));
  return balancedSum(g, terms);
}

/**
 * Cotangents of disjoint parts of one tensor (a vector sliced into an LSTM's four gates), each placed back with
 * zeros around it, that together cover it: their sum is the parts joined, with no zeros added.
 */
function asConcat(g: Graph, contributions: readonly Node[]): Node | undefined {
  if (contributions.length < 2 || !contributions.every((c) => c.op === "unslice" && unsliceFill(c.attr) === 0)) return undefined;
  const parts = contributions.map((c) => ({ c, part: parseSlice(c.attr) }));
  if (!parts.every(({ part }) => part.length >= 1 && part[0].keep && part.slice(1).every((p, d) => p.keep && p.start === 0 && p.count === parts[0].c.shape[d + 1]))) return undefined;
  parts.sort((a, b) => a.part[0].start - b.part[0].start);
  let at = 0;
  for (const { part } of parts) {
    if (part[0].start !== at) return undefined;
    at += part[0].count;
  }
  if (at !== contributions[0].shape[0]) return undefined;
  return g.concat(parts.map(({ c }) => c.inputs[0]), 0);
}

function balancedSum(g: Graph, terms: readonly Node[]): Node {
  if (terms.length === 1) return terms[0];
  const half = Math.ceil(terms.length / 2);
  return g.add(balancedSum(g, terms.slice(0, half)), balancedSum(g, terms.slice(half)));
}

function nameAdjoint(g: Graph, node: Node, ct: Node): void {
  const hint = g.hint(node);
  if (hint) g.name(ct, `d_${hint}`);
}

/**
 * The nodes of `order` that depend on one of `sources` (including the sources). A recurrence's carry depends on
 * what its initial and next values depend on, and the next value on the carry: the walk repeats until the carries
 * settle.
 */
function dependsOnAny(order: readonly Node[], sources: ReadonlySet<Node>): Set<Node> {
  const sorted = [...order].sort((a, b) => a.id - b.id);
  const carries = sorted.filter((n) => n.op === "carry");
  const out = new Set<Node>();
  for (;;) {
    for (const n of sorted) {
      if (sources.has(n) || n.inputs.some((i) => out.has(i))) out.add(n);
    }
    const more = carries.filter((leaf) => !out.has(leaf) && carryDepends(leaf, out));
    if (more.length === 0) return out;
    more.forEach((leaf) => out.add(leaf));
  }
}

function carryDepends(leaf: Node, depending: ReadonlySet<Node>): boolean {
  const carry = recurrenceOf(leaf).carries.find((c) => c.leaf === leaf);
  return carry !== undefined && (depending.has(carry.init) || depending.has(carry.next));
}
