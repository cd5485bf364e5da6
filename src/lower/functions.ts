/**
 * What each function of the module computes, as kernel IR before the passes: `forward` writes the output
 * of every sample, `loss` returns J, `gradient` writes dJ/dparams and returns J. One plan per function,
 * one set of buffers for the module (a value stored one row per sample anywhere is a row buffer everywhere).
 */
import type { Gradients } from "../autodiff/reverse.ts";
import type { Net } from "../ir/net.ts";
import { sym } from "../ir/math.ts";
import { type Node, sizeOf } from "../ir/node.ts";
import { Buffers, FunctionLowering, type Layout } from "./build.ts";
import { type KernelFunction, type Stmt, constIndex } from "./kernel.ts";
import { type FunctionPlan, type Storage, planFunction } from "./plan.ts";

export type FunctionName = "forward" | "loss" | "gradient";

export interface LoweredModule {
  readonly layout: Layout;
  readonly buffers: Buffers;
  readonly plans: Readonly<Record<FunctionName, FunctionPlan>>;
  readonly functions: Readonly<Record<FunctionName, KernelFunction>>;
}

export function layoutOf(net: Net): Layout {
  const offsets = new Map<Node, number>();
  const place = (leaves: readonly { node: Node; shape: readonly number[] }[]) =>
    leaves.reduce((at, leaf) => (offsets.set(leaf.node, at), at + sizeOf(leaf.shape)), 0);
  const paramCount = place(net.params);
  const inputSize = place(net.inputs);
  const targetSize = place(net.targets);
  return { offsets, inputSize, targetSize, outputSize: sizeOf(net.output.shape), paramCount };
}

export function lowerModule(net: Net, grads: Gradients): LoweredModule {
  const layout = layoutOf(net);
  const named = (n: Node) => net.graph.hint(n) !== undefined;
  const plans: Record<FunctionName, FunctionPlan> = {
    forward: forwardPlan(net, named),
    loss: planFunction([net.objective], new Map(), named),
    gradient: gradientPlan(net, grads, layout, named),
  };
  const rowNodes = new Set(Object.values(plans).flatMap((p) => [...p.storage].filter(([, s]) => s.kind === "rows").map(([n]) => n)));
  const buffers = new Buffers(layout, rowNodes);
  const lowering = (name: FunctionName) => new FunctionLowering(plans[name], layout, buffers);
  return {
    layout,
    buffers,
    plans,
    functions: {
      forward: forwardFunction(net, lowering("forward")),
      loss: lossFunction(net, lowering("loss")),
      gradient: gradientFunction(net, grads, layout, lowering("gradient")),
    },
  };
}

function forwardPlan(net: Net, named: (n: Node) => boolean): FunctionPlan {
  const out = net.output;
  const storeInOut = out.inputs.length > 0 && out.batched;
  const rootStorage = new Map<Node, Storage>(storeInOut ? [[out, { kind: "region", array: "out", offset: 0 }]] : []);
  return planFunction([out], rootStorage, named);
}

function forwardFunction(net: Net, lowering: FunctionLowering): KernelFunction {
  return { name: "forward", body: lowering.body(() => lowering.copyOutput(net.output)) };
}

/**
 * The returned J is read before the body is built: when J is a scalar parameter itself (`e = x`), reading it
 * is what declares its local at the top of the body.
 */
function returnObjective(net: Net, lowering: FunctionLowering): Stmt {
  return { k: "return", value: lowering.read(net.objective, constIndex(0)) };
}

function lossFunction(net: Net, lowering: FunctionLowering): KernelFunction {
  const result = returnObjective(net, lowering);
  return { name: "loss", body: [...lowering.body(), result] };
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
  const roots = [net.objective, ...net.params.map((p) => grads.byParam.get(p.node)).filter((n): n is Node => !!n)];
  return planFunction(roots, rootStorage, named);
}

function gradientFunction(net: Net, grads: Gradients, layout: Layout, lowering: FunctionLowering): KernelFunction {
  const result = returnObjective(net, lowering);
  const copies = net.params.flatMap((p): Stmt[] => {
    const grad = grads.byParam.get(p.node) ?? null;
    const lines = lowering.copyIntoGrads(layout.offsets.get(p.node) ?? 0, grad, sizeOf(p.shape));
    if (lines.length === 0) return [];
    const note: Stmt = grad
      ? { k: "note", note: { lhs: "grads", op: "←", rhs: sym(grad) } }
      : { k: "note", note: { lhs: "grads", op: "←", rhs: null, tail: `d_${p.name} = 0 (J does not depend on it)` } };
    return [note, ...lines];
  });
  return { name: "gradient", body: [...lowering.body(), ...copies, result] };
}
