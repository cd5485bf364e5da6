/**
 * An ONNX graph under construction: nodes in order, float and int64 initializers, and fresh value names. The
 * exporters add nodes through `op`, which returns the name of the node's (first) output. A body graph (a Scan's)
 * is built by a child builder: its names are new in the whole model (ONNX forbids a subgraph to shadow a name of
 * the enclosing graph), and its constants are the outer graph's initializers, which the body reads from there.
 */
import { AttributeType, DataType, type AttributeMessage, type GraphMessage, type ModelMessage, type NodeMessage, type TensorMessage, type ValueInfoMessage } from "./proto.ts";

/** The opset every exported model is written against: 17 has LayerNormalization, and onnxruntime-web runs it. */
export const OPSET = 17;
/** The IR version of opset 17's release. */
export const IR_VERSION = 8;

/** A number is an INT attribute (a float one is `{ float }`), an array INTS. */
export type AttributeValue =
  | number
  | readonly number[]
  | string
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly strings: readonly string[] }
  | { readonly graph: GraphMessage };

export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  private readonly used: Set<string>;
  private readonly constants = new Map<string, string>();
  private readonly producers = new Map<string, NodeMessage>();

  /** The root builder of a model, or (with `parent`) the builder of a body graph inside it. */
  constructor(private readonly parent?: GraphBuilder) {
    this.used = parent?.used ?? new Set<string>();
  }

  /** A builder for a body graph of this one's (see the class comment). */
  child(): GraphBuilder {
    return new GraphBuilder(this);
  }

  /** A name no value of the model has yet, from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name given from outside (a graph input's), which must be new. */
  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`internal: the ONNX value ${name} is named twice`);
    this.used.add(name);
    return name;
  }

  /** A node of `opType` reading `inputs`; returns its output's name (`outputs` more when given a count). */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttributeValue>> = {}, base = opType.toLowerCase()): string {
    return this.opMany(opType, inputs, 1, attributes, base)[0];
  }

  /** The batch size of a value [batch, ...] as a tensor [1] (for a shape that grows with the batch). */
  batchSize(name: string, base = "slice"): string {
    return this.op("Slice", [this.op("Shape", [name]), this.int64s([1], [0]), this.int64s([1], [1])], {}, base);
  }

  opMany(opType: string, inputs: readonly string[], outputCount: number, attributes: Readonly<Record<string, AttributeValue>> = {}, base = opType.toLowerCase()): string[] {
    const outputs = Array.from({ length: outputCount }, (_, k) => this.fresh(outputCount === 1 ? base : `${base}_out${k}`));
    const node: NodeMessage = {
      name: this.fresh(`${opType}_${this.nodes.length}`),
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    };
    this.nodes.push(node);
    for (const o of outputs) this.producers.set(o, node);
    return outputs;
  }

  /** The value `make` adds, made once per `key` (a layout change of a value read twice is one node). */
  cached(key: string, make: () => string): string {
    const known = this.constants.get(`cached|${key}`);
    if (known) return known;
    const name = make();
    this.constants.set(`cached|${key}`, name);
    return name;
  }

  /** The node that computes `name`, if a node does. */
  producer(name: string): NodeMessage | undefined {
    return this.producers.get(name);
  }

  /** A float initializer (stored as float32). */
  floats(base: string, dims: readonly number[], values: ArrayLike<number>): string {
    if (this.parent) return this.parent.floats(base, dims, values);
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: float32Bytes(values) });
    return name;
  }

  /** An int64 initializer (shapes, axes, indices); equal ones are shared. */
  int64s(dims: readonly number[], values: readonly number[], base = "i64"): string {
    if (this.parent) return this.parent.int64s(dims, values, base);
    const key = `${dims.join(",")}|${values.join(",")}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...dims], dataType: DataType.INT64, int64Data: [...values] });
    this.constants.set(key, name);
    return name;
  }

  /** A float scalar constant, shared. */
  scalar(value: number): string {
    if (this.parent) return this.parent.scalar(value);
    const key = `f|${Object.is(value, -0) ? "-0" : String(value)}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.floats("c", [], [value]);
    this.constants.set(key, name);
    return name;
  }

  /** The graph of the nodes the outputs need, with the initializers they (and their bodies) read. */
  graph(name: string, inputs: readonly ValueInfoMessage[], outputs: readonly ValueInfoMessage[]): GraphMessage {
    const nodes = live(this.nodes, outputs.map((o) => o.name ?? ""));
    const read = new Set(nodes.flatMap(reads));
    const initializers = this.initializers.filter((t) => read.has(t.name ?? ""));
    return { name, node: nodes, initializer: initializers, input: [...inputs], output: [...outputs] };
  }

  model(name: string, inputs: readonly ValueInfoMessage[], outputs: readonly ValueInfoMessage[], docString: string, producerVersion: string): ModelMessage {
    const graph = this.graph(name, inputs, outputs);
    return {
      irVersion: IR_VERSION,
      producerName: "bpgen",
      producerVersion,
      docString,
      graph,
      opsetImport: [{ domain: "", version: OPSET }],
    };
  }
}

/** The nodes the outputs need (a node whose outputs nothing reads is left out), in order. */
function live(nodes: readonly NodeMessage[], outputs: readonly string[]): NodeMessage[] {
  const needed = new Set(outputs);
  const kept: NodeMessage[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const i of reads(n)) needed.add(i);
  }
  return kept.reverse();
}

/** The names a node reads: its inputs, and what the nodes of its body graphs read (the enclosing graph's values among them). */
function reads(n: NodeMessage): string[] {
  const inner = (n.attribute ?? []).flatMap((a) => (a.g?.node ?? []).flatMap(reads));
  return [...(n.input ?? []), ...inner];
}

/** A float tensor's value info with these dims: a number is fixed, a string symbolic. */
export function floatValue(name: string, dims: readonly (number | string)[]): ValueInfoMessage {
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } } };
}

/** A float tensor's value info: [batch, ...dims], the batch symbolic. */
export function floatInput(name: string, dims: readonly number[], batch = "batch"): ValueInfoMessage {
  return floatValue(name, [batch, ...dims]);
}

function attribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`internal: the INT attribute ${name} is ${value}`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if ("graph" in value) return { name, type: AttributeType.GRAPH, g: value.graph };
  if ("float" in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ("strings" in value) return { name, type: AttributeType.STRINGS, strings: value.strings.map((v) => new TextEncoder().encode(v)) };
  const ints = "ints" in value ? value.ints : value;
  return { name, type: AttributeType.INTS, ints: [...ints] };
}

function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return out;
}
