/**
 * bpgen's CNN peer: the module compiled from examples/mnist_cnn.json (bench/peers/cnn-net.ts cnnSpec), its parameters
 * set by name from the shared weights (bpgen's layout is theirs); a training step is `sgdStep(p, x, y, lr, batch)`,
 * a forward pass `forward(p, x, out, batch)` (the logits).
 */
import type { NetModule } from "../../src/check/module.ts";
import { CNN_LR, type CnnBatch, type CnnShape, type CnnWeights, WEIGHT_NAMES } from "./cnn-net.ts";
import { type PeerId, type PeerRun, syncCall } from "./types.ts";

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

export function cnnBpgenRun(id: PeerId, m: NetModule<Float32Array>, s: CnnShape, w: CnnWeights, data: CnnBatch): PeerRun {
  const p = bpgenParams(m, w);
  const { x, y } = data;
  const out = new Float32Array(m.meta.outputSize * s.batch);
  const sink = new Float64Array(1);
  return {
    id,
    activate: async () => {},
    loss: () => m.loss(p, x, y, s.batch),
    step: syncCall(() => {
      sink[0] += m.sgdStep(p, x, y, CNN_LR, s.batch);
    }),
    forward: syncCall(() => m.forward(p, x, out, s.batch)),
    output: async () => {
      m.forward(p, x, out, s.batch);
      return Float32Array.from(out);
    },
    dispose: () => {},
  };
}

