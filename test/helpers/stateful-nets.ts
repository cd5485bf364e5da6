/**
 * Small networks with state and modes, built by hand with the Graph API (the layer types that make them
 * arrive later), and a way to compile one into a live module with chosen kernels and precision.
 *
 * - `runningMeanNet`: z = W·x + b. Training mode outputs z; inference mode outputs z − m, m a running mean of z
 *   that a training step moves toward the batch mean: m ← (1 − μ)·m + μ·mean over the batch of z.
 * - `dropoutNet`: z = W·(x ⊙ mask) while training, W·x in inference; the mask is inverted dropout's.
 */
import { Graph } from "../../src/ir/graph.ts";
import type { Net } from "../../src/ir/net.ts";
import type { Node } from "../../src/ir/node.ts";
import { dropoutMask, randomState } from "../../src/ir/random.ts";
import { loadModule } from "./load-module.ts";
import type { FloatArray, StatefulNetModule } from "../../src/module-api.ts";
import { type Kernels, type Precision, compileNet } from "../../src/pipeline.ts";

/** Σ (z − y)², and J its batch mean. */
function squaredError(g: Graph, z: Node, y: Node): { loss: Node; objective: Node } {
  const loss = g.sum(g.pow(g.sub(z, y), g.constant(2)));
  return { loss, objective: g.batchMean(loss) };
}

export const MOMENTUM = 0.1;

export function runningMeanNet(inputs = 3, outputs = 2): Net {
  const g = new Graph();
  const W = g.param("W", [outputs, inputs]);
  const b = g.param("b", [outputs]);
  const m = g.state("m", [outputs]);
  const x = g.input("x", [inputs]);
  const y = g.target("y", [outputs]);
  const z = g.name(g.add(g.matmul(W, x), b), "z");
  const centred = g.name(g.sub(z, m), "centred");
  const inference = squaredError(g, centred, y);
  const training = squaredError(g, z, y);
  const batchMean = g.batchMean(z);
  const update = g.add(g.mul(g.constant(1 - MOMENTUM), m), g.mul(g.constant(MOMENTUM), batchMean));
  return {
    name: "running_mean",
    graph: g,
    params: [
      { name: "W", node: W, shape: [outputs, inputs], init: { kind: "xavier", fanIn: inputs, fanOut: outputs } },
      { name: "b", node: b, shape: [outputs], init: { kind: "constant", value: 0 } },
    ],
    inputs: [{ name: "x", node: x, shape: [inputs] }],
    targets: [{ name: "y", node: y, shape: [outputs] }],
    output: centred,
    ...inference,
    state: [{ name: "m", node: m, shape: [outputs], init: { kind: "constant", value: 0 } }],
    training: { output: z, ...training, updates: new Map([[m, update]]) },
  };
}

export const DROPOUT_STREAM = 3;

/** `outputs` × `inputs` weights; dropout of the inputs at `rate` while training. */
export function dropoutNet(inputs: number, outputs: number, rate: number): Net {
  const g = new Graph();
  const W = g.param("W", [outputs, inputs]);
  const x = g.input("x", [inputs]);
  const y = g.target("y", [outputs]);
  const rng = randomState(g);
  const mask = g.name(dropoutMask(g, rng, [inputs], rate, DROPOUT_STREAM), "mask");
  const dropped = g.name(g.mul(x, mask), "dropped");
  const zTrain = g.name(g.matmul(W, dropped), "z_train");
  const z = g.name(g.matmul(W, x), "z");
  return {
    name: "dropout",
    graph: g,
    params: [{ name: "W", node: W, shape: [outputs, inputs], init: { kind: "xavier", fanIn: inputs, fanOut: outputs } }],
    inputs: [{ name: "x", node: x, shape: [inputs] }],
    targets: [{ name: "y", node: y, shape: [outputs] }],
    output: z,
    ...squaredError(g, z, y),
    state: rng.leaves,
    training: { output: zTrain, ...squaredError(g, zTrain, y), updates: rng.updates },
  };
}

/** The module of `net`, compiled for `kernels` and `precision`, loaded. */
export async function compileStateful<T extends FloatArray>(net: Net, precision: Precision, kernels: Kernels): Promise<{ source: string; module: StatefulNetModule<T> }> {
  const { source } = await compileNet(net, { precision, sourceFile: `${net.name}.json`, kernels, format: false });
  return { source, module: loadModule(source) as unknown as StatefulNetModule<T> };
}
