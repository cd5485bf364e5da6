/**
 * An ONNX file read and checked: the protobuf decoded (protobufjs), then the parts bpgen reads — the graph, its
 * one input, the initializers and Constant nodes as numbers, each node's attributes by name — each checked, so
 * that a damaged or foreign file is one clear error naming the file.
 */
import { BpgenError, printable } from "../../errors.ts";
import { AttributeType, DataType, decodeModel, type AttributeMessage, type GraphMessage, type NodeMessage, type TensorMessage } from "./proto.ts";

/** A constant tensor of the model (an initializer or a Constant node's value), as numbers. */
export interface Constant {
  readonly dims: readonly number[];
  readonly data: Float64Array;
}

export interface ModelInput {
  readonly name: string;
  readonly dims: readonly number[];
}

export interface ReadModel {
  readonly graph: GraphMessage;
  readonly nodes: readonly NodeMessage[];
  readonly constants: ReadonlyMap<string, Constant>;
  /** The graph's first input that is not an initializer: its name and dims after the batch. */
  readonly input: ModelInput;
  /** Every input that is not an initializer (the layer form takes one, the equation form several). */
  readonly inputs: readonly ModelInput[];
  readonly output: string;
  readonly opset: number;
}

export function readModel(bytes: Uint8Array, file: string): ReadModel {
  const fail = (message: string, expected?: string, found?: string): never => {
    throw new BpgenError({ file, message, expected, found });
  };
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    return fail(`not an ONNX model: the file is not a protobuf ModelProto (${(e as Error).message})`, "a .onnx file as torch.onnx.export or tf2onnx write it");
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length) return fail("not an ONNX model: it holds no graph of nodes", "a ModelProto with a graph", bytes.length === 0 ? "an empty file" : "no graph");
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx")?.version;
  if (opset === undefined) fail("the model imports no version of the standard ONNX operator set", "an opset_import entry of the default domain");
  const constants = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? "", tensorValues(t, file, `initializer ${quoted(t.name)}`));
  // Constant nodes, and Identity nodes of constants (PyTorch shares equal initializers through them)
  const folded = new Set<NodeMessage>();
  for (const node of graph.node) {
    const source = node.opType === "Identity" ? constants.get(node.input?.[0] ?? "") : undefined;
    if (node.opType !== "Constant" && !source) continue;
    constants.set(node.output?.[0] ?? "", source ?? constantValue(node, file));
    folded.add(node);
  }
  const declared = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ""));
  if (declared.length === 0) fail("the model has no input besides its initializers", "a graph input [batch, …]");
  const inputs = declared.map((input) => {
    const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimValue);
    const elem = input.type?.tensorType?.elemType;
    if (elem !== DataType.FLOAT) fail(`the input ${quoted(input.name)} is not a float32 tensor`, "elem_type FLOAT", String(elem));
    const sample = dims.slice(1);
    if (dims.length < 2 || !sample.every((d): d is number => typeof d === "number" && Number.isInteger(d) && d > 0)) {
      fail(`the input ${quoted(input.name)} needs a batch axis and then fixed sizes`, "[batch, features] or [batch, channels, spatial...] with every size after the batch known", `[${dims.map((d) => d ?? "?").join(", ")}]`);
    }
    return { name: input.name ?? "", dims: sample as number[] };
  });
  const outputs = graph.output ?? [];
  if (outputs.length !== 1) fail(`the model has ${outputs.length} outputs; bpgen imports a network of one output`, "one graph output", String(outputs.length));
  return { graph, nodes: graph.node.filter((n) => !folded.has(n)), constants, input: inputs[0], inputs, output: outputs[0].name ?? "", opset: opset as number };
}

export const quoted = (name: string | undefined) => `"${printable(name ?? "")}"`;

const WIDTH: Partial<Record<number, number>> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4 };

/** A tensor's numbers, from raw_data (little-endian) or the typed fields, checked against its dims. */
export function tensorValues(t: TensorMessage, file: string, what: string): Constant {
  const fail = (message: string, expected?: string, found?: string): never => {
    throw new BpgenError({ file, message: `${what}: ${message}`, expected, found });
  };
  if (t.dataLocation === 1 || (t.externalData ?? []).length > 0) fail("its data is in an external file, which bpgen does not read", "the weights inside the .onnx file");
  const dims = (t.dims ?? []).map(Number);
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) fail("its dims are not sizes", "non-negative integers", dims.join(", "));
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const width = WIDTH[type];
  if (width === undefined) fail("its element type is not one bpgen reads", "FLOAT, DOUBLE, INT64 or INT32", String(type));
  let data: Float64Array;
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    if (raw.length !== count * (width as number)) fail("its raw data does not have the size its dims say (the file is damaged)", `${count * (width as number)} bytes`, `${raw.length}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = Float64Array.from({ length: count }, (_, i) => {
      if (type === DataType.FLOAT) return view.getFloat32(4 * i, true);
      if (type === DataType.DOUBLE) return view.getFloat64(8 * i, true);
      if (type === DataType.INT32) return view.getInt32(4 * i, true);
      return Number(view.getBigInt64(8 * i, true));
    });
  } else {
    const list = type === DataType.FLOAT ? t.floatData : type === DataType.DOUBLE ? t.doubleData : type === DataType.INT64 ? t.int64Data : t.int32Data;
    const values = (list ?? []).map(Number);
    if (values.length !== count) fail("it holds a different number of values than its dims say (the file is damaged)", `${count}`, `${values.length}`);
    data = Float64Array.from(values);
  }
  return { dims, data };
}

function constantValue(node: NodeMessage, file: string): Constant {
  const what = `Constant node ${quoted(node.name || node.output?.[0])}`;
  const [a] = node.attribute ?? [];
  if (!a) throw new BpgenError({ file, message: `${what} has no value` });
  if (a.name === "value" && a.t) return tensorValues(a.t, file, what);
  if (a.name === "value_float") return { dims: [], data: Float64Array.of(a.f ?? 0) };
  if (a.name === "value_floats") return { dims: [(a.floats ?? []).length], data: Float64Array.from(a.floats ?? []) };
  if (a.name === "value_int") return { dims: [], data: Float64Array.of(Number(a.i ?? 0)) };
  if (a.name === "value_ints") return { dims: [(a.ints ?? []).length], data: Float64Array.from((a.ints ?? []).map(Number)) };
  throw new BpgenError({ file, message: `${what}: its value ${quoted(a.name)} is not one bpgen reads`, expected: "value, value_float(s) or value_int(s)", found: a.name });
}

/** A node's attributes by name, read with their declared type; any attribute not in `allowed` is refused. */
export class Attributes {
  private readonly byName = new Map<string, AttributeMessage>();

  constructor(
    private readonly node: NodeMessage,
    private readonly file: string,
    allowed: readonly string[],
  ) {
    for (const a of node.attribute ?? []) {
      const name = a.name ?? "";
      if (!allowed.includes(name)) this.refuse(name, describe(a), allowed.length > 0 ? `only ${allowed.join(", ")}` : "no attributes");
      this.byName.set(name, a);
    }
  }

  /** One clear error: this node's attribute `name` with `found` is not what bpgen computes. */
  refuse(name: string, found: string, expected: string): never {
    throw new BpgenError({
      file: this.file,
      message: `node ${quoted(this.node.name || this.node.output?.[0])} (${printable(this.node.opType ?? "")}): the attribute ${printable(name)} = ${printable(found)} is not supported`,
      expected,
      found: `${printable(name)} = ${printable(found)}`,
    });
  }

  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    if (!a) return fallback;
    if (a.type !== AttributeType.INT) this.refuse(name, describe(a), "an INT attribute");
    return Number(a.i ?? 0);
  }

  float(name: string, fallback: number): number {
    const a = this.byName.get(name);
    if (!a) return fallback;
    if (a.type !== AttributeType.FLOAT) this.refuse(name, describe(a), "a FLOAT attribute");
    return Number(a.f ?? 0);
  }

  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    if (a.type !== AttributeType.INTS) this.refuse(name, describe(a), "an INTS attribute");
    return (a.ints ?? []).map(Number);
  }

  string(name: string, fallback: string): string {
    const a = this.byName.get(name);
    if (!a) return fallback;
    if (a.type !== AttributeType.STRING) this.refuse(name, describe(a), "a STRING attribute");
    return new TextDecoder().decode(a.s ?? new Uint8Array());
  }
}

function describe(a: AttributeMessage): string {
  switch (a.type) {
    case AttributeType.INT:
      return String(a.i ?? 0);
    case AttributeType.FLOAT:
      return String(a.f ?? 0);
    case AttributeType.INTS:
      return `[${(a.ints ?? []).join(", ")}]`;
    case AttributeType.FLOATS:
      return `[${(a.floats ?? []).join(", ")}]`;
    case AttributeType.STRING:
      return JSON.stringify(new TextDecoder().decode(a.s ?? new Uint8Array()).slice(0, 80));
    default:
      return `an attribute of type ${a.type ?? "?"}`;
  }
}
