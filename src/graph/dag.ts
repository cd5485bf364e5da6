/**
 * The DAG as the pictures and the derivation see it: which values belong to the forward pass and which
 * the backward pass adds, what the module calls them, and which parameter gradients read each one
 * (a delta read by several gradients is the sharing reverse mode buys).
 */
import type { ParamLeaf } from "../ir/net.ts";
import { type Node, reachable } from "../ir/node.ts";
import { codeNames } from "./code-names.ts";
import type { Compiled } from "./compiled.ts";

export interface DagView {
  readonly compiled: Compiled;
  /** Everything the objective and the network's output are computed from. */
  readonly forward: ReadonlySet<Node>;
  /** What the parameter gradients need beyond the forward pass. */
  readonly backward: ReadonlySet<Node>;
  /** forward ∪ backward, in id (topological) order. */
  readonly nodes: readonly Node[];
  /** The identifier the generated module uses, for the nodes it names. */
  readonly codeNames: ReadonlyMap<Node, string>;
  /** Cotangents: the value of ∂L/∂v for some node v (constants excluded). */
  readonly deltas: ReadonlySet<Node>;
  /** The parameters whose gradient reads a node, in parameter order. */
  usedBy(n: Node): readonly ParamLeaf[];
  /** The nodes of `nodes` that read `n`, in id order. */
  consumers(n: Node): readonly Node[];
}

export function viewDag(compiled: Compiled): DagView {
  const { net, grads } = compiled;
  const forward = new Set(reachable([net.objective, net.output]));
  const gradRoots = net.params.flatMap((p) => grads.byParam.get(p.node) ?? []);
  const backward = new Set(reachable(gradRoots).filter((n) => !forward.has(n)));
  const nodes = [...forward, ...backward].sort((a, b) => a.id - b.id);
  const deltas = new Set([...grads.adjoints.values()].filter((n) => n.op !== "const"));
  const users = new Map<Node, ParamLeaf[]>();
  for (const p of net.params) {
    const grad = grads.byParam.get(p.node);
    for (const n of grad ? reachable(grad) : []) users.set(n, [...(users.get(n) ?? []), p]);
  }
  const consumers = new Map<Node, Node[]>();
  for (const n of nodes) for (const i of new Set(n.inputs)) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  return {
    compiled,
    forward,
    backward,
    nodes,
    codeNames: codeNames(compiled),
    deltas,
    usedBy: (n) => users.get(n) ?? [],
    consumers: (n) => consumers.get(n) ?? [],
  };
}

/** A delta read by more than one parameter gradient: computed once, reused by each. */
export function isSharedDelta(view: DagView, n: Node): boolean {
  return view.deltas.has(n) && view.usedBy(n).length > 1;
}

/** What to call a node in a picture: the module's name, else the front end's name for it. */
export function displayName(view: DagView, n: Node): string | undefined {
  return view.codeNames.get(n) ?? view.compiled.net.graph.hint(n);
}
