/**
 * ONNX models of the reference networks' forward passes, built in code with the protobuf writer in
 * onnx-proto.ts: float32 graphs with a fixed batch, weights and biases as initializers.
 *
 * A layer net becomes, per dense layer, a product with its bias (see WeightLayout) followed by its activation
 * (Relu, Tanh, Sigmoid); a softmax-CE net ends in `Softmax(axis = 1)` so the output is the probabilities, as
 * bpgen's `forward` gives them. chain3 is three Mul nodes on scalar initializers.
 */
import { isLayerSpec, type NetSpec } from "../../src/spec/types.ts";
import { isChain3, mlpLayout } from "../nets.ts";
import { ProtoMessage } from "./onnx-proto.ts";

/**
 * How a dense layer is written: "gemm" = Gemm(A, W, b) with W [fanIn, units]; "gemm-transB" = Gemm with
 * transB = 1 on W [units, fanIn] (bpgen's own layout); "matmul" = MatMul(A, W) then Add(b), W [fanIn, units].
 */
export type WeightLayout = "gemm" | "gemm-transB" | "matmul";

/** The opset the graphs are written against (Softmax over one axis since opset 13). */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;
/** TensorProto.DataType.FLOAT */
const FLOAT = 1;
/** AttributeProto.AttributeType */
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** An INT attribute (transB, axis) or an INTS one (a convolution's or a pooling's kernel_shape, strides). */
type Attribute = { readonly name: string; readonly int: number } | { readonly name: string; readonly ints: readonly number[] };

interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly Attribute[];
}

interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** A graph before encoding: what the peer feeds (`input`), reads (`output`) and the nodes between. */
export interface OnnxGraph {
  readonly input: { readonly name: string; readonly dims: readonly number[] };
  readonly output: { readonly name: string; readonly dims: readonly number[] };
  readonly nodes: readonly Node[];
  readonly initializers: readonly Initializer[];
}

// ---- encoding ------------------------------------------------------------------------------------------

function tensorProto(t: Initializer): ProtoMessage {
  const raw = new Uint8Array(t.data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < t.data.length; i++) view.setFloat32(4 * i, t.data[i], true);
  const m = new ProtoMessage();
  if (t.dims.length > 0) m.packedVarints(1, t.dims); // dims
  return m.varint(2, FLOAT).string(8, t.name).bytes(9, raw); // data_type, name, raw_data
}

function valueInfo(name: string, dims: readonly number[]): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of dims) shape.message(1, new ProtoMessage().varint(1, d)); // dim { dim_value }
  const tensorType = new ProtoMessage().varint(1, FLOAT).message(2, shape); // elem_type, shape
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType)); // name, type { tensor_type }
}

function attributeProto(a: Attribute): ProtoMessage {
  if ("ints" in a) {
    const m = new ProtoMessage().string(1, a.name).varint(20, ATTR_INTS); // name, type
    for (const v of a.ints) m.varint(8, v); // ints (unpacked, as onnx writes them)
    return m;
  }
  return new ProtoMessage().string(1, a.name).varint(20, ATTR_INT).varint(3, a.int); // name, type, i
}

function nodeProto(n: Node, index: number): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, `${n.op.toLowerCase()}_${index}`).string(4, n.op);
  for (const a of n.attributes ?? []) m.message(5, attributeProto(a));
  return m;
}

/** The serialized ModelProto of a graph. */
export function encodeModel(g: OnnxGraph, name: string): Uint8Array {
  const graph = new ProtoMessage();
  g.nodes.forEach((n, i) => graph.message(1, nodeProto(n, i)));
  graph.string(2, name);
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  graph.message(11, valueInfo(g.input.name, g.input.dims));
  graph.message(12, valueInfo(g.output.name, g.output.dims));
  const opset = new ProtoMessage().string(1, "").varint(2, ONNX_OPSET); // the default (ai.onnx) domain
  return new ProtoMessage().varint(1, IR_VERSION).string(2, "bpgen-bench").message(7, graph).message(8, opset).finish();
}

// ---- the reference networks ------------------------------------------------------------------------------

const ACTIVATION_OP: Record<string, string | undefined> = { relu: "Relu", tanh: "Tanh", sigmoid: "Sigmoid" };

/** The forward pass of a network as an ONNX graph, from bpgen's flat parameters; null for equation nets other than chain3. */
export function forwardGraph(spec: NetSpec, params: Float32Array, batch: number, layout: WeightLayout): OnnxGraph | null {
  if (isChain3(spec)) {
    const w = (i: number): Initializer => ({ name: `w${i + 1}`, dims: [], data: Float32Array.of(params[i]) });
    return {
      input: { name: "x", dims: [batch] },
      output: { name: "e", dims: [batch] },
      nodes: [
        { op: "Mul", inputs: ["x", "w1"], outputs: ["y"] },
        { op: "Mul", inputs: ["y", "w2"], outputs: ["z"] },
        { op: "Mul", inputs: ["z", "w3"], outputs: ["e"] },
      ],
      initializers: [w(0), w(1), w(2)],
    };
  }
  if (!isLayerSpec(spec)) return null;
  const net = mlpLayout(spec);
  const nodes: Node[] = [];
  const initializers: Initializer[] = [];
  let a = "x";
  net.layers.forEach((L, i) => {
    const W = params.subarray(L.wOffset, L.wOffset + L.units * L.fanIn); // [units, fanIn]
    const transB = layout === "gemm-transB";
    let data: Float32Array;
    if (transB) data = Float32Array.from(W);
    else {
      data = new Float32Array(W.length);
      for (let j = 0; j < L.units; j++) for (let t = 0; t < L.fanIn; t++) data[t * L.units + j] = W[j * L.fanIn + t];
    }
    initializers.push({ name: `W${i}`, dims: transB ? [L.units, L.fanIn] : [L.fanIn, L.units], data });
    if (L.bias) initializers.push({ name: `b${i}`, dims: [L.units], data: Float32Array.from(params.subarray(L.bOffset, L.bOffset + L.units)) });
    const z = `z${i}`;
    if (layout === "matmul") {
      if (L.bias) {
        nodes.push({ op: "MatMul", inputs: [a, `W${i}`], outputs: [`p${i}`] });
        nodes.push({ op: "Add", inputs: [`p${i}`, `b${i}`], outputs: [z] });
      } else nodes.push({ op: "MatMul", inputs: [a, `W${i}`], outputs: [z] });
    } else {
      const inputs = L.bias ? [a, `W${i}`, `b${i}`] : [a, `W${i}`];
      nodes.push({ op: "Gemm", inputs, outputs: [z], attributes: [{ name: "transB", int: transB ? 1 : 0 }] });
    }
    a = z;
    const op = ACTIVATION_OP[L.activation];
    if (op) {
      nodes.push({ op, inputs: [z], outputs: [`a${i}`] });
      a = `a${i}`;
    } else if (L.activation !== "linear") throw new Error(`ONNX peer: no activation ${L.activation}`);
  });
  if (net.loss === "softmax_cross_entropy") {
    nodes.push({ op: "Softmax", inputs: [a], outputs: ["probabilities"], attributes: [{ name: "axis", int: 1 }] });
    a = "probabilities";
  }
  // the last node writes the graph output "out"
  const last = nodes[nodes.length - 1];
  nodes[nodes.length - 1] = { ...last, outputs: ["out"] };
  return { input: { name: "x", dims: [batch, net.inputSize] }, output: { name: "out", dims: [batch, net.outputSize] }, nodes, initializers };
}
