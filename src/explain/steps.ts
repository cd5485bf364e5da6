/**
 * The derivation read off the DAG: the forward equations, the loss, and then the backward steps in the
 * order the reverse sweep computes them — each named delta δ_v = ∂L/∂v and each parameter's gradient —
 * with the steps that reuse each delta, and the form a formula takes when deltas read only once are
 * written out (∂L/∂w1 = δ_y · x = δ_z · w2 · x).
 */
import type { ParamLeaf } from "../ir/net.ts";
import { gradientNotes } from "../graph/code-names.ts";
import { type Node, reachable } from "../ir/node.ts";
import { type CodeRef, codeRef } from "./code-ref.ts";
import { type Expr, spell, spelledSize, toExpr } from "./expr.ts";
import type { Names } from "./names.ts";

export interface Equation {
  readonly node: Node;
  readonly expr: Expr;
  readonly code: CodeRef;
}

export interface DeltaStep {
  readonly kind: "delta";
  readonly node: Node;
  /** The named value v of δ_v. */
  readonly primal: Node;
  /** δ_v as the DAG computes it, from named values and other deltas. */
  readonly expr: Expr;
  /** The same with every delta read only once written out, when that reads differently. */
  readonly expanded?: Expr;
  /** The named steps that read this delta directly (through unnamed values only). */
  readonly readers: readonly Step[];
  /** The parameter gradients that depend on it. */
  readonly params: readonly ParamLeaf[];
  readonly code: CodeRef;
}

export interface ParamStep {
  readonly kind: "param";
  readonly param: ParamLeaf;
  /** The gradient root, ∂J/∂θ. */
  readonly node: Node;
  /** ∂L/∂θ per sample (what the batch mean averages), when the gradient is such a mean. */
  readonly perSample?: { readonly node: Node; readonly expr: Expr; readonly expanded?: Expr };
  /** The rest of ∂J/∂θ beside the batch mean (the regularizer's part), when there is one. */
  readonly extra?: Expr;
  /** ∂J/∂θ as a whole. */
  readonly expr: Expr;
  readonly code: CodeRef;
}

export type Step = DeltaStep | ParamStep;

export interface Steps {
  /** Named values computed from the inputs up to the network's output. */
  readonly forward: readonly Equation[];
  /** The loss L, its batch mean, the regularizer and the objective J. */
  readonly loss: readonly Equation[];
  /** Deltas and parameter gradients, in the order the sweep computes them. */
  readonly backward: readonly Step[];
}

export function deriveSteps(names: Names): Steps {
  const { view } = names;
  const comments = gradientNotes(view.compiled);
  const toOutput = new Set(reachable(view.compiled.net.output));
  const equation = (n: Node): Equation => ({
    node: n,
    expr: spell(n, names.forwardSymbol),
    code: codeRef(names, comments, n, names.forwardSymbol),
  });
  return {
    forward: names.forwardNamed.filter((n) => toOutput.has(n)).map(equation),
    loss: names.forwardNamed.filter((n) => !toOutput.has(n)).map(equation),
    backward: backwardSteps(names, comments),
  };
}

function backwardSteps(names: Names, comments: ReadonlyMap<Node, string>): Step[] {
  const { net, grads } = names.view.compiled;
  const roots = net.params.flatMap((p) => {
    const g = grads.byParam.get(p.node);
    return g ? [[p, g] as const] : [];
  });
  // the nodes that are steps: named deltas, gradient roots, and the per-sample values their batch means average
  const stepRoot = new Map<Node, Node>([...names.deltaPrimal.keys()].map((d) => [d, d]));
  for (const [, root] of roots) {
    stepRoot.set(root, root);
    const sample = meanOf(root)?.inputs[0];
    if (sample && !stepRoot.has(sample)) stepRoot.set(sample, root);
  }
  const readerRoots = (n: Node) => readingRoots(names, n, stepRoot);
  const expand = (n: Node) => names.backwardSymbol(n) && !(names.deltaPrimal.has(n) && readerRoots(n).length === 1);
  const readers = new Map<Node, Step[]>();
  const steps: Step[] = [
    ...[...names.deltaPrimal].map(([node, primal]) => deltaStep(names, comments, node, primal, expand, readers)),
    ...roots.map(([param, node]) => paramStep(names, comments, param, node, expand)),
  ];
  const byRoot = new Map(steps.map((s) => [s.node, s]));
  for (const [delta, list] of readers) list.push(...readerRoots(delta).flatMap((r) => byRoot.get(r) ?? []));
  return steps.sort((a, b) => sweepKey(names, a) - sweepKey(names, b) || primalId(b) - primalId(a));
}

/** `readers` receives the (still empty) list of the steps reading this delta, filled once all steps exist. */
function deltaStep(
  names: Names,
  comments: ReadonlyMap<Node, string>,
  node: Node,
  primal: Node,
  expand: (n: Node) => boolean,
  readers: Map<Node, Step[]>,
): DeltaStep {
  const list: Step[] = [];
  readers.set(node, list);
  const expr = spell(node, names.backwardSymbol);
  const expanded = writtenOut(node, expand, spell);
  return {
    kind: "delta",
    node,
    primal,
    expr,
    ...(expanded && differs(expanded, expr) ? { expanded } : {}),
    readers: list,
    params: names.view.usedBy(node),
    code: codeRef(names, comments, node, names.backwardSymbol),
  };
}

function paramStep(
  names: Names,
  comments: ReadonlyMap<Node, string>,
  param: ParamLeaf,
  node: Node,
  expand: (n: Node) => boolean,
): ParamStep {
  const code = codeRef(names, comments, node, names.backwardSymbol);
  const base: ParamStep = { kind: "param", param, node, expr: spell(node, names.backwardSymbol), code };
  const mean = meanOf(node);
  if (!mean) return base;
  const sample = mean.inputs[0];
  const expr = toExpr(sample, names.backwardSymbol);
  const expanded = writtenOut(sample, expand, toExpr);
  const rest = node === mean ? undefined : node.inputs.find((i) => i !== mean);
  return {
    ...base,
    perSample: { node: sample, expr, ...(expanded && differs(expanded, expr) ? { expanded } : {}) },
    ...(rest ? { extra: toExpr(rest, names.backwardSymbol) } : {}),
  };
}

/** The longest written-out form a step shows: beyond it the step keeps its form over named deltas. */
const WRITTEN_OUT_LIMIT = 400;

/** `n` with the deltas read once written out, unless that formula would be longer than a reader follows. */
function writtenOut(n: Node, expand: (m: Node) => boolean, form: (m: Node, isSymbol: (m: Node) => boolean) => Expr): Expr | undefined {
  return spelledSize(n, expand) <= WRITTEN_OUT_LIMIT ? form(n, expand) : undefined;
}

/** The batch mean in a gradient root: the root itself, or one term of mean + regularizer part. */
function meanOf(root: Node): Node | undefined {
  if (root.op === "batchMean") return root;
  return root.op === "add" ? root.inputs.find((i) => i.op === "batchMean") : undefined;
}

/** The roots of the steps that read `node`, through any unnamed values between them, in id order. */
function readingRoots(names: Names, node: Node, stepRoot: ReadonlyMap<Node, Node>): Node[] {
  const { view } = names;
  const found = new Set<Node>();
  const seen = new Set<Node>();
  const visit = (n: Node): void => {
    for (const c of view.consumers(n)) {
      if (seen.has(c) || view.usedBy(c).length === 0) continue;
      seen.add(c);
      const root = stepRoot.get(c);
      if (root) found.add(root);
      // a gradient's per-sample value may feed other steps too (the outer product of ∂L/∂W reads ∂L/∂b's)
      if (!root || root !== c) visit(c);
    }
  };
  visit(node);
  return [...found].sort((a, b) => a.id - b.id);
}

const differs = (a: Expr, b: Expr) => JSON.stringify(a, byId) !== JSON.stringify(b, byId);
/** Symbols compare by node id (a node object holds the whole DAG below it). */
const byId = (key: string, value: unknown) => (key === "node" && typeof value === "object" && value !== null ? (value as Node).id : value);

/**
 * Sweep order. Deltas the forward pass already computed (e − t) come first, in the sweep's order of their
 * values (decreasing id); other steps follow the ids of the nodes the sweep built, which increase as it goes.
 */
function sweepKey(names: Names, step: Step): number {
  return names.view.forward.has(step.node) ? -1 : step.node.id;
}

const primalId = (step: Step) => (step.kind === "delta" ? step.primal.id : step.param.node.id);
