/**
 * PyTorch's names of a network's tensors: for each parameter (and each state value PyTorch keeps, batch norm's
 * running statistics) of a layer-form network, its name in the exported module's state_dict and its layout
 * there, with the permutation between ours and PyTorch's (plan.ts reads them off the layer records).
 */
import type { NetSpec, LayerNetSpec, LayerSpec } from "../spec/types.ts";
import { isLayerSpec } from "../spec/types.ts";
import { type TorchTensor, torchPlan } from "./pytorch/plan.ts";

export type { TorchTensor };

/** The PyTorch names of a network's tensors; undefined for the equation form, which has only bpgen's names. */
export function torchNames(spec: NetSpec): readonly TorchTensor[] | undefined {
  return isLayerSpec(spec) ? torchPlan(spec as unknown as LayerNetSpec<LayerSpec>).tensors : undefined;
}

const strides = (shape: readonly number[]) => {
  const out = shape.map(() => 1);
  for (let k = shape.length - 2; k >= 0; k--) out[k] = out[k + 1] * shape[k + 1];
  return out;
};

/**
 * Our row-major values of `shape` in PyTorch's order: element `at` of PyTorch's tensor (axes `permute` of ours)
 * is our element whose axis permute[i] is at[i]. `into` receives them (a trailing unit axis changes nothing).
 */
export function toTorchOrder(values: ArrayLike<number>, t: TorchTensor, into: { [i: number]: number }): void {
  movePermuted(t, (ours, theirs) => (into[theirs] = values[ours]));
}

/** The inverse: PyTorch's values of `t` into our row-major order. */
export function fromTorchOrder(values: ArrayLike<number>, t: TorchTensor, into: { [i: number]: number }): void {
  movePermuted(t, (ours, theirs) => (into[ours] = values[theirs]));
}

/** Calls `move(ours, theirs)` for every element: its index in our layout and in PyTorch's. */
function movePermuted(t: TorchTensor, move: (ours: number, theirs: number) => void): void {
  const ourStrides = strides(t.shape);
  const permuted = t.permute.map((k) => t.shape[k]);
  const theirStrides = strides(permuted);
  const total = t.shape.reduce((a, b) => a * b, 1);
  const identity = t.permute.every((k, i) => k === i);
  for (let theirs = 0; theirs < total; theirs++) {
    if (identity) {
      move(theirs, theirs);
      continue;
    }
    let ours = 0;
    for (let i = 0; i < permuted.length; i++) ours += (Math.floor(theirs / theirStrides[i]) % permuted[i]) * ourStrides[t.permute[i]];
    move(ours, theirs);
  }
}
