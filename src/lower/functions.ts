/**
 * What each function of the module computes, as kernel IR before the passes: `forward` writes the output
 * of every sample, `loss` returns J, `gradient` writes dJ/dparams and returns J. One plan per function,
 * one set of buffers for the module (a value stored one row per sample anywhere is a row buffer everywhere).
 *
 * A network with modes (ir/net.ts TrainingMode) has two more: `trainingForward` and `trainingLoss`, the
 * training mode's output and J; forward and loss are then its inference mode, and gradient differentiates the
 * training objective and, after everything else, writes the state's training updates into the state array.
 *
 * A network with recurrences has one more: `stateGradientNorms`, in training mode (what gradient differentiates),
 * writing for each sample ‖∂L/∂h_t‖ of every recurrence's first carry at every step t (autodiff/recurrence.ts
 * stateGradientNorms), the recurrences one after another in a row of its own `out` array (not the output's size).
 */
import { stateGradientNorms } from "../autodiff/recurrence.ts";
import type { Gradients } from "../autodiff/reverse.ts";
import { type Net, isStateful, trainingObjective } from "../ir/net.ts";
import { sym } from "../ir/math.ts";
import { type Node, sizeOf } from "../ir/node.ts";
import { Buffers, FunctionLowering, type Layout, type RecurrenceRow } from "./build.ts";
import { type Buffer, type KernelFunction, type Stmt, constIndex } from "./kernel.ts";
import { type FunctionPlan, type Storage, planFunction } from "./plan.ts";

/** The functions of every module. */
export type FunctionName = "forward" | "loss" | "gradient";
/** The two more of a module with modes: the training mode without changing state. */
export type ModeFunctionName = "trainingForward" | "trainingLoss";
/** The one more of a module with recurrences: ‖∂L/∂h_t‖ over the steps. */
export type TimeFunctionName = "stateGradientNorms";
export type KernelName = FunctionName | ModeFunctionName | TimeFunctionName;

/** In the order the module prints them. */
export const BASE_FUNCTIONS: readonly FunctionName[] = ["forward", "loss", "gradient"];
export const MODE_FUNCTIONS: readonly ModeFunctionName[] = ["trainingForward", "trainingLoss"];
export const TIME_FUNCTIONS: readonly TimeFunctionName[] = ["stateGradientNorms"];

/** forward, loss and gradient always; trainingForward and trainingLoss for a network with modes; stateGradientNorms for one with recurrences. */
export type PerFunction<T> = Readonly<Record<FunctionName, T> & Partial<Record<ModeFunctionName | TimeFunctionName, T>>>;

export interface LoweredModule {
  readonly layout: Layout;
  readonly buffers: Buffers;
  readonly plans: PerFunction<FunctionPlan>;
  readonly functions: PerFunction<KernelFunction>;
}

/** The functions of a lowered module, in the order the module prints them. */
export function functionNames(lowered: LoweredModule): KernelName[] {
  return [...BASE_FUNCTIONS, ...MODE_FUNCTIONS, ...TIME_FUNCTIONS].filter((name) => lowered.functions[name] !== undefined);
}

/** Numbers in one row of stateGradientNorms' output: Σ T over the recurrences. */
export const recurrenceRowSize = (rows: readonly RecurrenceRow[]): number => rows.reduce((n, r) => n + r.steps, 0);

export function layoutOf(net: Net): Layout {
  const offsets = new Map<Node, number>();
  const place = (leaves: readonly { node: Node; shape: readonly number[] }[]) =>
    leaves.reduce((at, leaf) => (offsets.set(leaf.node, at), at + sizeOf(leaf.shape)), 0);
  const paramCount = place(net.params);
  const inputSize = place(net.inputs);
  const targetSize = place(net.targets);
  const layout = { offsets, inputSize, targetSize, outputSize: sizeOf(net.output.shape), paramCount };
  return isStateful(net) ? { ...layout, stateCount: place(net.state ?? []) } : layout;
}

export function lowerModule(net: Net, grads: Gradients): LoweredModule {
  checkModes(net);
  const time = timeGradients(net, grads);
  const layout = time ? { ...layoutOf(net), recurrences: time.rows } : layoutOf(net);
  const named = (n: Node) => net.graph.hint(n) !== undefined;
  const training = net.training;
  const plans: PerFunction<FunctionPlan> = {
    forward: forwardPlan(net.output, named),
    loss: planFunction([net.objective], new Map(), named),
    gradient: gradientPlan(net, grads, layout, named),
    ...(training ? { trainingForward: forwardPlan(training.output, named), trainingLoss: planFunction([training.objective], new Map(), named) } : {}),
    ...(time ? { stateGradientNorms: forwardPlan(time.root, named) } : {}),
  };
  const rowNodes = new Set(Object.values(plans).flatMap((p) => [...p.storage].filter(([, s]) => s.kind === "rows").map(([n]) => n)));
  const buffers = new Buffers(layout, rowNodes);
  const lowering = (name: KernelName, out?: Buffer) => new FunctionLowering(plans[name] as FunctionPlan, layout, buffers, out);
  return {
    layout,
    buffers,
    plans,
    functions: {
      forward: forwardFunction("forward", net.output, lowering("forward")),
      loss: lossFunction("loss", net.objective, lowering("loss")),
      gradient: gradientFunction(net, grads, layout, lowering("gradient")),
      ...(training
        ? {
            trainingForward: forwardFunction("trainingForward", training.output, lowering("trainingForward")),
            trainingLoss: lossFunction("trainingLoss", training.objective, lowering("trainingLoss")),
          }
        : {}),
      ...(time ? { stateGradientNorms: forwardFunction("stateGradientNorms", time.root, lowering("stateGradientNorms", time.out)) } : {}),
    },
  };
}

/**
 * stateGradientNorms' root, per sample: the norms of every recurrence the objective reads, concatenated ([Σ T]),
 * written into an `out` array of that row size; undefined for a network without recurrences.
 */
function timeGradients(net: Net, grads: Gradients): { root: Node; out: Buffer; rows: RecurrenceRow[] } | undefined {
  if (grads.recurrences.length === 0) return undefined;
  const g = net.graph;
  const norms = grads.recurrences.map(({ forward, reversed }) => stateGradientNorms(g, reversed, forward));
  let offset = 0;
  const rows = grads.recurrences.map(({ forward }): RecurrenceRow => {
    const row = { name: g.hint(forward.carries[0].leaf) ?? `recurrence ${forward.id}`, steps: forward.length, offset, ...(forward.reverse ? { reverse: true as const } : {}) };
    offset += forward.length;
    return row;
  });
  const root = g.concat(norms, 0);
  return { root, out: { role: "out", size: offset, perSample: true }, rows };
}

/** A network's modes as the lowering needs them: one output shape, state updates of their leaves' shapes, computed once per step. */
function checkModes(net: Net): void {
  const training = net.training;
  if (!training) return;
  if (training.output.shape.join() !== net.output.shape.join()) throw new Error("internal: the training output must have the inference output's shape");
  const leaves = new Map((net.state ?? []).map((s) => [s.node, s]));
  for (const [leaf, update] of training.updates) {
    const s = leaves.get(leaf);
    if (!s) throw new Error(`internal: a state update of a node that is no state leaf (${leaf.op} #${leaf.id})`);
    if (update.batched || update.shape.join() !== leaf.shape.join()) throw new Error(`internal: the update of state ${s.name} must be one value of its shape per step`);
    // the updates are written one after another at the end of gradient, each copied from where the body stored
    // it (so computed from the old state); one that is another updated leaf, or a view of one read through, would
    // be read there after that leaf's new value was written
    const copiedFrom = readThrough(update);
    if (copiedFrom !== leaf && training.updates.has(copiedFrom) && training.updates.get(copiedFrom) !== copiedFrom) throw new Error(`internal: the update of state ${s.name} reads another state value that a step updates`);
  }
}

/** What copying `n` reads: through reshapes and transposes (which the plan may read through), the value under them. */
function readThrough(n: Node): Node {
  return n.op === "view" || n.op === "transpose" ? readThrough(n.inputs[0]) : n;
}

function forwardPlan(out: Node, named: (n: Node) => boolean): FunctionPlan {
  const storeInOut = out.inputs.length > 0 && out.batched;
  const rootStorage = new Map<Node, Storage>(storeInOut ? [[out, { kind: "region", array: "out", offset: 0 }]] : []);
  return planFunction([out], rootStorage, named);
}

function forwardFunction(name: KernelName, output: Node, lowering: FunctionLowering): KernelFunction {
  return { name, body: lowering.body(() => lowering.copyOutput(output)) };
}

/**
 * The returned J is read before the body is built: when J is a scalar parameter itself (`e = x`), reading it
 * is what declares its local at the top of the body.
 */
function returnObjective(objective: Node, lowering: FunctionLowering): Stmt {
  return { k: "return", value: lowering.read(objective, constIndex(0)) };
}

function lossFunction(name: KernelName, objective: Node, lowering: FunctionLowering): KernelFunction {
  const result = returnObjective(objective, lowering);
  return { name, body: [...lowering.body(), result] };
}

function gradientPlan(net: Net, grads: Gradients, layout: Layout, named: (n: Node) => boolean): FunctionPlan {
  const rootStorage = new Map<Node, Storage>();
  for (const p of net.params) {
    const grad = grads.byParam.get(p.node);
    // a scalar gradient accumulates in a local and is written once at the end
    if (grad && grad.inputs.length > 0 && !rootStorage.has(grad) && sizeOf(grad.shape) > 1) {
      rootStorage.set(grad, { kind: "region", array: "grads", offset: layout.offsets.get(p.node) ?? 0 });
    }
  }
  const updates = stateUpdates(net).map(([, update]) => update);
  const roots = [trainingObjective(net), ...net.params.map((p) => grads.byParam.get(p.node)).filter((n): n is Node => !!n), ...updates];
  return planFunction(roots, rootStorage, named);
}

/** The state leaves a training step changes, with their new values (a leaf updated to itself is left out). */
function stateUpdates(net: Net): [Node, Node][] {
  return [...(net.training?.updates ?? [])].filter(([leaf, update]) => leaf !== update);
}

function gradientFunction(net: Net, grads: Gradients, layout: Layout, lowering: FunctionLowering): KernelFunction {
  const result = returnObjective(trainingObjective(net), lowering);
  // read before the body is built (a scalar state leaf is declared at its top), written after it (the body reads the old state)
  const newState = stateUpdates(net).flatMap(([leaf, update]): Stmt[] => [
    { k: "note", note: { lhs: leaf, op: "←", rhs: sym(update) } },
    ...lowering.copyIntoState(layout.offsets.get(leaf) ?? 0, update),
  ]);
  const copies = net.params.flatMap((p): Stmt[] => {
    const grad = grads.byParam.get(p.node) ?? null;
    const lines = lowering.copyIntoGrads(layout.offsets.get(p.node) ?? 0, grad, sizeOf(p.shape));
    if (lines.length === 0) return [];
    const note: Stmt = grad
      ? { k: "note", note: { lhs: "grads", op: "←", rhs: sym(grad) } }
      : { k: "note", note: { lhs: "grads", op: "←", rhs: null, tail: `d_${p.name} = 0 (J does not depend on it)` } };
    return [note, ...lines];
  });
  return { name: "gradient", body: [...lowering.body(), ...copies, ...newState, result] };
}
