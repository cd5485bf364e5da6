/**
 * bpgen's CNN peer: the module compiled from examples/mnist_cnn.json (bench/peers/cnn-net.ts cnnSpec), its parameters
 * set by name from the shared weights (bpgen's layout is theirs); a training step is `sgdStep(p, x, y, lr, batch)`,
 * a forward pass `forward(p, x, out, batch)` (the logits).
 */
import type { NetModule } from "../../src/check/module.ts";
import { CNN_LR, type CnnBatch, type CnnShape, type CnnWeights, WEIGHT_NAMES } from "./cnn-net.ts";
import { type BpgenPeerId, bpgenRun } from "./bpgen.ts";
import type { PeerRun } from "./types.ts";

/** The module's flat parameters from the shared weights, by name. */
export function bpgenParams(m: NetModule<Float32Array>, w: CnnWeights): Float32Array {
  const p = new Float32Array(m.meta.paramCount);
  for (const { name, shape, offset, size } of m.meta.params) {
    const value = (WEIGHT_NAMES as readonly string[]).includes(name) ? w[name as (typeof WEIGHT_NAMES)[number]] : null;
    if (!value || value.length !== size) throw new Error(`bpgen CNN: no weights for the parameter ${name} [${shape.join(", ")}]`);
    p.set(value, offset);
  }
  return p;
}

/** bpgen's peer on the CNN, from the shared weights (a step: plain SGD at CNN_LR). */
export function cnnBpgenRun(id: BpgenPeerId, m: NetModule<Float32Array>, s: CnnShape, w: CnnWeights, data: CnnBatch): PeerRun {
  return bpgenRun(m, bpgenParams(m, w), { x: data.x, y: data.y, batch: s.batch }, id, CNN_LR);
}
