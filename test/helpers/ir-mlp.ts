/**
 * A dense network built directly with the Graph API, in the same form as src/frontend/layers.ts:
 * z_l = W_l a_{l−1} + b_l, a_l = f_l(z_l), a fused loss from the last logits, and batchMean for the objective.
 */
import { Graph } from "../../src/ir/graph.ts";
import type { Node } from "../../src/ir/node.ts";
import { type Env, type Rng, randomArray, uniform } from "./ir-util.ts";

export type Activation = "sigmoid" | "tanh" | "relu" | "leakyRelu" | "elu" | "linear";
export type Loss = "softmax_ce" | "sigmoid_bce" | "mse";

export interface Mlp {
  g: Graph;
  x: Node;
  y: Node;
  W: Node[];
  b: Node[];
  /** pre-activations z_1..z_L */
  z: Node[];
  /** activations a_0 = x, a_1..a_L */
  a: Node[];
  /** the network output: softmax(z_L) for softmax CE, a_L otherwise */
  output: Node;
  /** per-sample loss */
  loss: Node;
  objective: Node;
  params: Node[];
}

export interface MlpSpec {
  /** widths: input, then one per layer */
  widths: number[];
  /** one per layer */
  activations: Activation[];
  loss: Loss;
  /** λ of an L2 penalty λ/2 Σ‖W‖², optional */
  l2?: number;
}

function activate(g: Graph, f: Activation, z: Node): Node {
  switch (f) {
    case "sigmoid":
      return g.sigmoid(z);
    case "tanh":
      return g.tanh(z);
    case "relu":
      return g.relu(z);
    case "leakyRelu":
      return g.leakyRelu(z);
    case "elu":
      return g.elu(z);
    case "linear":
      return z;
  }
}

export function buildMlp(spec: MlpSpec, g = new Graph()): Mlp {
  const x = g.input("x", [spec.widths[0]]);
  const W: Node[] = [];
  const b: Node[] = [];
  const z: Node[] = [];
  const a: Node[] = [x];
  spec.activations.forEach((f, index) => {
    const l = index + 1;
    const Wl = g.param(`W${l}`, [spec.widths[l], spec.widths[l - 1]]);
    const bl = g.param(`b${l}`, [spec.widths[l]]);
    const zl = g.name(g.add(g.matmul(Wl, a[l - 1]), bl), `z${l}`);
    W.push(Wl);
    b.push(bl);
    z.push(zl);
    a.push(g.name(activate(g, f, zl), `a${l}`));
  });
  const L = spec.activations.length;
  const y = g.target("y", [spec.widths[L]]);
  const zL = z[L - 1];
  const aL = a[L];
  let loss: Node;
  let output = aL;
  switch (spec.loss) {
    case "softmax_ce":
      // lse(z) − Σ y ⊙ z; the output softmax(z) shares lse(z)
      output = g.name(g.softmax(zL), "p");
      loss = g.sub(g.logsumexp(zL), g.sum(g.mul(y, zL)));
      break;
    case "sigmoid_bce":
      // Σ softplus(z) − y ⊙ z, from the logits of a sigmoid output
      loss = g.sum(g.sub(g.softplus(zL), g.mul(y, zL)));
      break;
    case "mse":
      loss = g.scale(0.5, g.sum(g.square(g.sub(aL, y))));
      break;
  }
  g.name(loss, "L");
  const meanLoss = g.batchMean(loss);
  const objective =
    spec.l2 === undefined
      ? meanLoss
      : g.add(meanLoss, g.scale(spec.l2 / 2, W.map((w) => g.sum(g.mul(w, w))).reduce((s, t) => g.add(s, t))));
  const params = W.flatMap((w, i) => [w, b[i]]);
  return { g, x, y, W, b, z, a, output, loss, objective, params };
}

/** Random parameters and `batch` samples; softmax targets are one-hot, others in (0, 1). */
export function mlpEnv(net: Mlp, spec: MlpSpec, rng: Rng, batch: number): Env {
  const params = new Map<string, Float64Array>();
  for (const p of net.params) {
    const fanIn = p.shape.length === 2 ? p.shape[1] : 1;
    const scale = p.shape.length === 2 ? 1.5 / Math.sqrt(fanIn) : 0.3;
    params.set(String(p.attr), randomArray(rng, p.shape, -scale, scale));
  }
  const out = spec.widths[spec.widths.length - 1];
  const xs = Array.from({ length: batch }, () => randomArray(rng, net.x.shape, -1.5, 1.5));
  const ys = Array.from({ length: batch }, () => {
    if (spec.loss === "softmax_ce") {
      const y = new Float64Array(out);
      y[Math.floor(rng() * out)] = 1;
      return y;
    }
    return Float64Array.from({ length: out }, () => uniform(rng, 0.05, 0.95));
  });
  return { params, samples: new Map([["x", xs], ["y", ys]]) };
}
