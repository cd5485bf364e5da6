/**
 * The ONNX messages bpgen reads and writes, declared for protobufjs as a JSON descriptor: only the fields bpgen
 * uses, with the field numbers and types of the ONNX format (fields left out are skipped when a file is read).
 * Encoding and decoding are protobufjs's; nothing here writes bytes by hand.
 */
import protobuf from "protobufjs";

/** TensorProto.DataType values bpgen meets. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

const DESCRIPTOR: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            floatData: { rule: "repeated", type: "float", id: 4, options: { packed: true } },
            int32Data: { rule: "repeated", type: "int32", id: 5, options: { packed: true } },
            int64Data: { rule: "repeated", type: "int64", id: 7, options: { packed: true } },
            name: { type: "string", id: 8 },
            rawData: { type: "bytes", id: 9 },
            doubleData: { rule: "repeated", type: "double", id: 10, options: { packed: true } },
            docString: { type: "string", id: 12 },
            externalData: { rule: "repeated", type: "StringStringEntryProto", id: 13 },
            dataLocation: { type: "int32", id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            g: { type: "GraphProto", id: 6 },
            floats: { rule: "repeated", type: "float", id: 7, options: { packed: true } },
            ints: { rule: "repeated", type: "int64", id: 8, options: { packed: true } },
            strings: { rule: "repeated", type: "bytes", id: 9 },
            docString: { type: "string", id: 13 },
            type: { type: "int32", id: 20 },
            refAttrName: { type: "string", id: 21 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            docString: { type: "string", id: 6 },
            domain: { type: "string", id: 7 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 }, denotation: { type: "string", id: 3 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensorType"] } },
          fields: { tensorType: { type: "Tensor", id: 1 }, denotation: { type: "string", id: 6 } },
          nested: { Tensor: { fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } } } },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 }, docString: { type: "string", id: 3 } } },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            docString: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
            valueInfo: { rule: "repeated", type: "ValueInfoProto", id: 13 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            producerVersion: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            modelVersion: { type: "int64", id: 5 },
            docString: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
            metadataProps: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const ModelType = root.lookupType("onnx.ModelProto");

// ---- the messages as plain objects (protobufjs's toObject with longs as numbers) -------------------------

export interface TensorMessage {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
  dataLocation?: number;
  externalData?: { key?: string; value?: string }[];
}

export interface AttributeMessage {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  /** A body graph (Scan's, Loop's, If's branches). */
  g?: GraphMessage;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeMessage {
  name?: string;
  opType?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeMessage[];
}

export interface DimensionMessage {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfoMessage {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: DimensionMessage[] } } };
  docString?: string;
}

export interface GraphMessage {
  name?: string;
  node?: NodeMessage[];
  initializer?: TensorMessage[];
  input?: ValueInfoMessage[];
  output?: ValueInfoMessage[];
  valueInfo?: ValueInfoMessage[];
  docString?: string;
}

export interface ModelMessage {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph?: GraphMessage;
  opsetImport?: { domain?: string; version?: number }[];
  metadataProps?: { key?: string; value?: string }[];
}

/** The model's bytes; the object is checked against the descriptor first (a mistake in bpgen, not in input). */
export function encodeModel(model: ModelMessage): Uint8Array {
  const problem = ModelType.verify(model);
  if (problem) throw new Error(`internal: the ONNX model does not fit its schema: ${problem}`);
  return ModelType.encode(ModelType.fromObject(model)).finish();
}

/** The model in `bytes` as plain objects; throws protobufjs's error for bytes that are not a protobuf message. */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const message = ModelType.decode(bytes);
  return ModelType.toObject(message, { longs: Number, defaults: false, arrays: true }) as ModelMessage;
}
