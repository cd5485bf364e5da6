/**
 * The layer form into the DAG: each layer built by its record (registry.ts) from the previous layer's output,
 * then a loss on the last layer's output. Losses are built in their stable fused forms from the logits, so their
 * derivatives come out as p − y (softmax cross-entropy) and a − y (sigmoid with binary cross-entropy).
 * The builder records each layer (Net.layers) with its values and parameters: explain and graph read layers
 * from there, never from the names of values.
 * A stack with a layer that reads the mode (batchnorm, dropout) is built twice from the same leaves: for inference
 * (the net's output, loss and objective, what forward computes) and for training (Net.training, with the state's
 * updates). The graph interns nodes, so the layers before the first such layer are one set of nodes in both.
 */
import { BpgenError } from "../../errors.ts";
import { Graph } from "../../ir/graph.ts";
import { type Node, type Shape, shapeText } from "../../ir/node.ts";
import type { Leaf, LayerParam, Net, NetLayer, ParamLeaf, StateLeaf } from "../../ir/net.ts";
import { type RandomState, randomState } from "../../ir/random.ts";
import { formatPath, type PathSegment } from "../../spec/paths.ts";
import type { LayerNetSpec, LayerSpec, Locate } from "../../spec/types.ts";
import { buildExpression, elementwiseResult, parseExpression } from "../expressions.ts";
import { BUILTINS, arityOf } from "../functions.ts";
import { DepthMeter } from "../limits.ts";
import { Problems } from "../problems.ts";
import { type BuildContext, LayerShapeError, type Mode, PENALISED_ROLES, type ParamDecl, type ParamRole, type StateSlots } from "./layer.ts";
import { layerKind, usesModes } from "./registry.ts";

/** Stops the build at the first layer that cannot be built: the layers after it have no input shape. */
class Stop extends Error {}

export function buildLayerNet(spec: LayerNetSpec<LayerSpec>, locate: Locate = () => undefined): Net {
  const g = new Graph();
  const problems = new Problems(locate);
  const meter = new DepthMeter();
  const x = g.input("x", typeof spec.input === "number" ? [spec.input] : spec.input);
  const state = new NetState(g);

  // the stack of one mode: its layers' records, parameters in the flat order, and output
  const modal = usesModes(spec.layers);
  // a stack built in two modes names the training build's values only (BuildContext.name)
  const namer = (mode: Mode) => (node: Node, hint: string) => (!modal || mode === "training" ? g.name(node, hint) : node);
  const buildStack = (mode: Mode): { layers: NetLayer[]; params: LayerParam[]; output: Node; sequence: boolean } => {
    const name = namer(mode);
    const params: LayerParam[] = [];
    const layers: NetLayer[] = [];
    const slots = state.slots(mode);
    let tooDeep = false;

    /** Whether the output of each layer built is a sequence (read by the next one). */
    const sequenceOut = new Map<NetLayer, boolean>();
    const buildLayer = (layer: LayerSpec, input: Node, path: PathSegment[], label: string, sequence: boolean): NetLayer => {
      const kind = layerKind(layer);
      const shape = checkedShape(problems, path, () => kind.outputShape(layer, input.shape, sequence));
      const decls = kind.paramsOf(layer, input.shape, label, sequence);
      const own: LayerParam[] = [];
      const inner: NetLayer[] = [];
      const ctx: BuildContext = {
        g,
        label,
        path,
        param: (role: ParamRole) => paramLeaf(g, decls, own, params, role),
        buildBlock: (block, from, field) => {
          let isSequence = sequence;
          return block.reduce((a, l, j) => {
            const built = buildLayer(l, a, [...path, field, j], `${label}_${j + 1}`, isSequence);
            isSequence = sequenceOut.get(built) ?? false;
            inner.push(built);
            return built.output;
          }, from);
        },
        activate: (z, activation, field) => problems.attempt([...path, field], activation, () => activate(g, activation, z)) ?? z,
        state: slots,
        mode,
        sequence,
        name,
      };
      const built = kind.build(ctx, layer, input);
      if (own.length !== decls.length || built.output.shape.join() !== shape.join()) {
        throw new Error(`internal: the ${layer.type} layer at ${formatPath(path)} built ${shapeText(built.output.shape)} with ${own.length} parameters; its rules say ${shapeText(shape)} with ${decls.length}`);
      }
      const output = name(built.output, `a${label}`);
      const record: NetLayer = { type: layer.type, title: kind.describe(layer), label, path: formatPath(path), inner, input, output, preActivation: built.preActivation, params: own };
      sequenceOut.set(record, kind.sequenceOut?.(layer, sequence) ?? false);
      return record;
    };

    let a = x;
    let sequence = false;
    try {
      spec.layers.forEach((layer, index) => {
        const built = buildLayer(layer, a, ["layers", index], String(index + 1), sequence);
        layers.push(built);
        a = built.output;
        sequence = sequenceOut.get(built) ?? false;
        if (!tooDeep) tooDeep = problems.attempt(["layers", index], undefined, () => meter.check(a, `the network up to layers[${index}]`)) === undefined;
      });
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
    problems.throwIfAny();
    return { layers, params, output: a, sequence };
  };

  // the inference stack is the net's own; its records and parameters are the net's (the training stack reads the same leaves)
  const { layers, params, output: a, sequence: inferenceSequence } = buildStack("inference");
  const training = modal ? buildStack("training") : undefined;
  problems.attempt(["loss"], undefined, () => checkLossShape(spec.loss, a, inferenceSequence));
  problems.throwIfAny();
  const y = g.target("y", a.shape);
  let regularizer: Node | undefined;
  const objectiveOf = (stack: { layers: NetLayer[]; output: Node }, mode: Mode) => {
    const name = namer(mode);
    const last = stack.layers[stack.layers.length - 1];
    const logits = last.preActivation ?? last.output;
    const out = stack.output;
    // σ(z) however it was written ("sigmoid", or an expression the simplifier recognised as one)
    const { loss, output } = buildLoss(g, spec.loss, out, logits, out.op === "sigmoid" && out.inputs[0] === logits, y, name);
    name(loss, "L");
    // made after the first loss (as it always was: the node order fixes the generated text), shared by the modes
    regularizer ??= spec.l2 ? l2Penalty(g, spec.l2, params.filter((p) => PENALISED_ROLES.has(p.role as ParamRole))) : undefined;
    const meanLoss = name(g.batchMean(loss), "meanL");
    const objective = name(regularizer ? g.add(meanLoss, regularizer) : meanLoss, "J");
    return { loss, output, objective };
  };
  const inference = objectiveOf({ layers, output: a }, "inference");
  const leaf = (name: string, node: Node): Leaf => ({ name, node, shape: node.shape });
  const net: Net = { name: spec.name, graph: g, params, inputs: [leaf("x", x)], targets: [leaf("y", y)], ...inference, layers };
  if (!training) return net;
  return { ...net, state: state.leaves(), training: { ...objectiveOf(training, "training"), updates: state.updates } };
}

/**
 * The state a stack declares, shared by its two builds: the leaves in the order the layers declare them (the
 * dropout generator's seed and step last), and the training updates.
 */
class NetState {
  private readonly declared: StateLeaf[] = [];
  private rng: RandomState | undefined;
  readonly updates = new Map<Node, Node>();

  constructor(private readonly g: Graph) {}

  /** The slots of one build; dropout streams are numbered from 1 in the order the build asks for them. */
  slots(mode: Mode): StateSlots {
    let streams = 0;
    return {
      declare: (name, shape, initial) => {
        const node = this.g.state(name, shape);
        if (!this.declared.some((l) => l.node === node)) this.declared.push({ name, node, shape: node.shape, init: { kind: "constant", value: initial } });
        return node;
      },
      update: (leaf, next) => {
        if (mode !== "training") throw new Error("internal: a state update outside the training build");
        if (this.updates.has(leaf)) throw new Error(`internal: two updates of the state ${this.g.hint(leaf) ?? leaf.id}`);
        this.updates.set(leaf, next);
      },
      random: () => {
        if (!this.rng) {
          this.rng = randomState(this.g);
          this.rng.updates.forEach((next, leaf) => this.updates.set(leaf, next));
        }
        return { rng: this.rng, stream: ++streams };
      },
    };
  }

  leaves(): StateLeaf[] {
    return [...this.declared, ...(this.rng?.leaves ?? [])];
  }
}

/** A layer's output shape; when its rule fails, the problem is recorded at the layer's path (or the inner layer's) and the build stops. */
function checkedShape(problems: Problems, path: readonly PathSegment[], rule: () => Shape): Shape {
  try {
    return rule();
  } catch (e) {
    if (!(e instanceof LayerShapeError)) throw e;
    problems.add([...path, ...(e.path ?? [])], undefined, new BpgenError({ message: e.message, expected: e.expected, found: e.found }));
    throw new Stop();
  }
}

/** The leaf of the declared parameter of `role`, made (and listed in the net's flat order) when first asked for. */
function paramLeaf(g: Graph, decls: readonly ParamDecl[], own: LayerParam[], all: LayerParam[], role: ParamRole): Node {
  const decl = decls.find((d) => d.role === role);
  if (!decl) throw new Error(`internal: no ${role} parameter declared`);
  const made = own.find((p) => p.name === decl.name);
  if (made) return made.node;
  const node = g.param(decl.name, decl.shape);
  const leaf: LayerParam = { name: decl.name, node, shape: node.shape, init: decl.init, role };
  own.push(leaf);
  all.push(leaf);
  return node;
}

/** The loss does not fit the last layer's output (softmax_cross_entropy reads a vector of logits, or one per step of a sequence). */
export function lossShapeProblem(kind: LayerNetSpec["loss"], output: Shape, sequence: boolean): { message: string; expected: string; found: string } | undefined {
  if (kind !== "softmax_cross_entropy" || output.length === 1 || (sequence && output.length === 2)) return undefined;
  return {
    message: `softmax_cross_entropy needs the last layer to output a vector of class scores (or one per step of a sequence), not ${shapeText(output)}`,
    expected: "a last layer with a vector output, such as global_avg_pool, flatten or dense, or a dense layer after a sequence",
    found: shapeText(output),
  };
}

function checkLossShape(kind: LayerNetSpec["loss"], output: Node, sequence: boolean): void {
  const problem = lossShapeProblem(kind, output.shape, sequence);
  if (problem) throw new BpgenError(problem);
}

function buildLoss(g: Graph, kind: LayerNetSpec["loss"], a: Node, z: Node, sigmoidOut: boolean, y: Node, name: (node: Node, hint: string) => Node): { loss: Node; output: Node } {
  switch (kind) {
    case "mse": // ½ Σ (a − y)²
      return { loss: g.scale(0.5, g.sum(g.square(g.sub(a, y)))), output: a };
    case "softmax_cross_entropy": {
      // a sequence of logits [T, classes]: each step's cross-entropy, summed over the steps
      if (a.shape.length === 2) {
        const output = name(g.softmaxAlong(a, 1), "p");
        return { loss: g.sub(g.sum(g.reduce("lse", a, 1)), g.sum(g.mul(y, a))), output };
      }
      // −Σ y log softmax(a) = lse(a) − Σ y ⊙ a  (targets sum to 1); output softmax(a) shares lse(a)
      const output = name(g.softmax(a), "p");
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

/** λ/2 Σ ‖W‖² over the weights and projections of every layer (not the biases, not the gains). */
function l2Penalty(g: Graph, lambda: number, weights: readonly ParamLeaf[]): Node {
  const squares = weights.map((p) => g.sum(g.mul(p.node, p.node)));
  return g.name(g.scale(lambda / 2, squares.reduce((s, t) => g.add(s, t))), "R");
}

function activate(g: Graph, activation: string | undefined, z: Node): Node {
  const name = (activation ?? "linear").trim();
  const builtin = BUILTINS.get(name);
  if (builtin?.elementwise && arityOf(builtin)[0] === 1) return builtin.build(g, [z]);
  const text = activation ?? name;
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
