/**
 * A minimal protocol-buffers writer for the few ONNX messages the onnxruntime-web peer needs (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and the type/shape messages inside it).
 * Only what the peer writes is supported: varint
 * integers (non-negative, below 2^53), strings, bytes and nested messages.
 */

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** One message being written: fields are appended in call order and joined by `finish()`. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private key(field: number, wireType: number): void {
    this.push(encodeVarint(field * 8 + wireType));
  }

  /** An int32/int64/enum/bool field (non-negative values only). */
  varint(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(encodeVarint(value));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  /** A packed `repeated int64` field. */
  packedVarints(field: number, values: readonly number[]): this {
    const body = new ProtoMessage();
    for (const v of values) body.push(encodeVarint(v));
    return this.bytes(field, body.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Base-128 varint of a non-negative integer below 2^53 (seven bits per byte, low bits first). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf writer: ${value} is not a non-negative safe integer`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}
