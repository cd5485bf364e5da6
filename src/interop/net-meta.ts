/**
 * The layout a network's module will have (its meta: the parameters and the state, each at its offset in the
 * flat array), from the network alone: what a tool that moves saved parameters between formats needs, without
 * compiling the module.
 */
import type { NetMeta, ParamLayout } from "../check/module.ts";
import { type Net, isStateful } from "../ir/net.ts";

export type MetaWithState = NetMeta & { readonly stateCount?: number; readonly state?: readonly ParamLayout[] };

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function place(leaves: readonly { name: string; shape: readonly number[] }[]): ParamLayout[] {
  let offset = 0;
  return leaves.map((leaf) => {
    const layout = { name: leaf.name, shape: [...leaf.shape], offset, size: sizeOf(leaf.shape) };
    offset += layout.size;
    return layout;
  });
}

export function metaOfNet(net: Net): MetaWithState {
  const params = place(net.params);
  const meta: NetMeta = {
    name: net.name,
    inputSize: net.inputs.reduce((n, l) => n + sizeOf(l.shape), 0),
    outputSize: sizeOf(net.output.shape),
    targetSize: net.targets.reduce((n, l) => n + sizeOf(l.shape), 0),
    paramCount: params.reduce((n, p) => n + p.size, 0),
    params,
  };
  if (!isStateful(net)) return meta;
  const state = place(net.state ?? []);
  return { ...meta, stateCount: state.reduce((n, p) => n + p.size, 0), state };
}
