/**
 * The layer form: dense layers z_l = W_l a_{l−1} + b_l, a_l = f_l(z_l), then a loss.
 * Losses are built in their stable fused forms from the logits, so their derivatives come out as
 * p − y (softmax cross-entropy) and a − y (sigmoid with binary cross-entropy).
 */
import { Graph } from "../ir/graph.ts";
import type { Node } from "../ir/node.ts";
import type { DenseLayerSpec, InitSpec, LayerNetSpec, Locate } from "../spec/types.ts";
import { buildExpression, elementwiseResult, parseExpression } from "./expressions.ts";
import { DepthMeter } from "./limits.ts";
import { Problems } from "./problems.ts";
import { BUILTINS, arityOf } from "./functions.ts";
import { type InitPlan, type Leaf, type Net, type ParamLeaf } from "../ir/net.ts";

const RELU_LIKE = new Set(["relu", "relu6", "leaky_relu", "elu", "celu", "gelu", "gelu_tanh", "gelu_exact", "swish", "silu", "mish"]);

export function buildLayerNet(spec: LayerNetSpec, locate: Locate = () => undefined): Net {
  const g = new Graph();
  const problems = new Problems(locate);
  const meter = new DepthMeter();
  const inputSize = Array.isArray(spec.input) ? spec.input.reduce((a, b) => a * b, 1) : spec.input;
  const x = g.input("x", [inputSize]);
  const params: ParamLeaf[] = [];
  let a = x;
  let logits = x;
  let width = inputSize;
  let tooDeep = false;
  spec.layers.forEach((layer, index) => {
    const l = index + 1;
    const W = g.param(`W${l}`, [layer.units, width]);
    params.push({ name: `W${l}`, node: W, shape: W.shape, init: weightInit(layer, width) });
    let z = g.matmul(W, a);
    if (layer.bias ?? true) {
      const b = g.param(`b${l}`, [layer.units]);
      params.push({ name: `b${l}`, node: b, shape: b.shape, init: { kind: "constant", value: 0 } });
      z = g.add(z, b);
    }
    logits = g.name(z, `z${l}`);
    // a bad activation is reported and the layer kept linear, so the layers after it are checked too
    const activation = problems.attempt(["layers", index, "activation"], layer.activation, () => activate(g, layer, z));
    a = g.name(activation ?? z, `a${l}`);
    if (!tooDeep) tooDeep = problems.attempt(["layers", index], undefined, () => meter.check(a, `the network up to layers[${index}]`)) === undefined;
    width = layer.units;
  });
  problems.throwIfAny();
  const y = g.target("y", [width]);
  // σ(z) however it was written ("sigmoid", or an expression the simplifier recognised as one)
  const { loss, output } = buildLoss(g, spec.loss, a, logits, a.op === "sigmoid" && a.inputs[0] === logits, y);
  g.name(loss, "L");
  const regularizer = spec.l2 ? l2Penalty(g, spec.l2, params) : undefined;
  const meanLoss = g.name(g.batchMean(loss), "meanL");
  const objective = g.name(regularizer ? g.add(meanLoss, regularizer) : meanLoss, "J");
  const leaf = (name: string, node: Node): Leaf => ({ name, node, shape: node.shape });
  return { name: spec.name, graph: g, params, inputs: [leaf("x", x)], targets: [leaf("y", y)], output, loss, objective };
}

function buildLoss(g: Graph, kind: LayerNetSpec["loss"], a: Node, z: Node, sigmoidOut: boolean, y: Node): { loss: Node; output: Node } {
  switch (kind) {
    case "mse": // ½ Σ (a − y)²
      return { loss: g.scale(0.5, g.sum(g.square(g.sub(a, y)))), output: a };
    case "softmax_cross_entropy": {
      // −Σ y log softmax(a) = lse(a) − Σ y ⊙ a  (targets sum to 1); output softmax(a) shares lse(a)
      const output = g.name(g.softmax(a), "p");
      return { loss: g.sub(g.logsumexp(a), g.sum(g.mul(y, a))), output };
    }
    case "binary_cross_entropy":
      // from the logits when the output is σ(z): Σ softplus(z) − y ⊙ z, whose derivative is σ(z) − y
      if (sigmoidOut) return { loss: g.sum(g.sub(g.softplus(z), g.mul(y, z))), output: a };
      return {
        loss: g.neg(g.sum(g.add(g.mul(y, g.log(a)), g.mul(g.sub(g.constant(1), y), g.log(g.sub(g.constant(1), a)))))),
        output: a,
      };
  }
}

/** λ/2 Σ_l ‖W_l‖² over the weights (not the biases). */
function l2Penalty(g: Graph, lambda: number, params: readonly ParamLeaf[]): Node {
  const squares = params.filter((p) => p.name.startsWith("W")).map((p) => g.sum(g.mul(p.node, p.node)));
  return g.name(g.scale(lambda / 2, squares.reduce((s, t) => g.add(s, t))), "R");
}

function activate(g: Graph, layer: DenseLayerSpec, z: Node): Node {
  const name = (layer.activation ?? "linear").trim();
  const builtin = BUILTINS.get(name);
  if (builtin?.elementwise && arityOf(builtin)[0] === 1) return builtin.build(g, [z]);
  const text = layer.activation ?? name;
  const value = buildExpression(g, parseExpression(text), {
    lookup: (n) => (n === "x" ? z : undefined),
    names: () => ["x"],
    userFunction: () => undefined,
    elementwise: true,
    text,
    explainUnknown: (n) => ({
      message: `unknown name "${n}" in an activation`,
      expected: "x (the layer's pre-activation), numbers, pi and function calls",
      found: n,
      suggestion: n.length <= 2 && n !== "x" ? '"x"' : undefined,
    }),
  });
  return elementwiseResult(g, value, z, "an activation");
}

function weightInit(layer: DenseLayerSpec, fanIn: number): InitPlan {
  const chosen: InitSpec = layer.init ?? (RELU_LIKE.has((layer.activation ?? "linear").trim()) ? "he" : "xavier");
  return initPlan(chosen, fanIn, layer.units);
}

export function initPlan(init: InitSpec, fanIn: number, fanOut: number): InitPlan {
  if (typeof init === "number") return { kind: "constant", value: init };
  if (init === "zeros") return { kind: "constant", value: 0 };
  if (init === "he") return { kind: "he", fanIn };
  return { kind: "xavier", fanIn, fanOut };
}
