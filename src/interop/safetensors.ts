/**
 * The safetensors container: named tensors in one file, readable by PyTorch, JAX and the Hugging Face tools.
 *
 *   bytes 0–7     N, the header's length (unsigned 64-bit, little-endian)
 *   bytes 8…8+N   the header, UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] },
 *                 …, "__metadata__": { "<key>": "<string>" } (optional) }, padded with spaces
 *   the rest      the tensors' bytes, little-endian and row-major, each at [begin, end) from the end of the header
 *
 * Only the float dtypes bpgen computes in (F32, F64) are written; reading also takes I64, the type PyTorch gives a
 * batch norm's num_batches_tracked, converted to numbers (they must be exact integers below 2^53). Everything read
 * is checked: the header's size, its JSON, each entry's dtype, shape and offsets (in bounds, of the size the shape
 * says, not overlapping, no gap), so that a damaged or foreign file is one clear error naming the file.
 */
import { BpgenError } from "../errors.ts";

export type SafetensorsDtype = "F32" | "F64" | "I64";

/** One tensor of a file: its values as numbers in a typed array of its dtype (I64 read as Float64Array). */
export interface NamedTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

export interface Safetensors {
  /** The tensors in the order of their data in the file. */
  readonly tensors: readonly NamedTensor[];
  /** The header's `__metadata__` (string to string). */
  readonly metadata: Readonly<Record<string, string>>;
}

const WIDTH: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I64: 8 };
/** The header is padded with spaces to a multiple of this, so that every tensor's bytes start aligned. */
const ALIGN = 8;
/** No honest header is this large; a larger length is a file of another format. */
const MAX_HEADER = 100 * 1024 * 1024;

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The file's bytes for `tensors` (F32 or F64 each), in the order given, with optional string metadata. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.dtype === "I64") throw new Error(`internal: ${t.name}: bpgen writes float tensors only`);
    if (t.data.length !== count(t.shape)) throw new Error(`internal: ${t.name} has ${t.data.length} values for the shape [${t.shape.join(", ")}]`);
    if (t.name in header) throw new Error(`internal: two tensors named ${t.name}`);
    const size = t.data.length * WIDTH[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / ALIGN) * ALIGN - 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const t of tensors) {
    for (const v of t.data) {
      if (t.dtype === "F64") view.setFloat64(at, v, true);
      else view.setFloat32(at, v, true);
      at += WIDTH[t.dtype];
    }
  }
  return out;
}

interface HeaderEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

/** The tensors of a safetensors file; `file` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, file: string): Safetensors {
  const fail = (message: string, expected?: string, found?: string): never => {
    throw new BpgenError({ file, message, expected, found });
  };
  if (bytes.length < 8) fail("not a safetensors file: shorter than its 8-byte header length", "at least 8 bytes", `${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) fail("not a safetensors file: its header length runs past the end of the file", `at most ${Math.min(MAX_HEADER, bytes.length - 8)} bytes`, `${length}`);
  const headerEnd = 8 + Number(length);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    fail(`not a safetensors file: its header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("not a safetensors file: its header is not a JSON object");
  const entries = Object.entries(header as Record<string, unknown>);
  const metadata = readMetadata((header as Record<string, unknown>).__metadata__, fail);
  const dataLength = bytes.length - headerEnd;
  const tensors = entries
    .filter(([name]) => name !== "__metadata__")
    .map(([name, entry]) => readEntry(name, entry as HeaderEntry, dataLength, fail))
    .sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const t of tensors) {
    if (t.begin !== expected) fail(`tensor ${t.name}'s bytes ${t.begin < expected ? "overlap the tensor before it" : "leave a gap after the tensor before it"}`, `data_offsets starting at ${expected}`, `${t.begin}`);
    expected = t.end;
  }
  if (expected !== dataLength) fail("the file has bytes after its last tensor", `${headerEnd + expected} bytes`, `${bytes.length}`);
  return { tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readValues(view, headerEnd + t.begin, t, fail) })), metadata };
}

function readMetadata(value: unknown, fail: (m: string, e?: string, f?: string) => never): Record<string, string> {
  if (value === undefined) return {};
  const ok = value !== null && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
  if (!ok) fail('the header\'s "__metadata__" is not an object of strings');
  return { ...(value as Record<string, string>) };
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function readEntry(name: string, entry: HeaderEntry, dataLength: number, fail: (m: string, e?: string, f?: string) => never): Entry {
  if (entry === null || typeof entry !== "object") fail(`tensor ${name}: its header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (dtype !== "F32" && dtype !== "F64" && dtype !== "I64") fail(`tensor ${name} has a dtype bpgen does not read`, '"F32", "F64" or "I64"', JSON.stringify(dtype));
  const isShape = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
  if (!isShape) fail(`tensor ${name}: "shape" is not a list of sizes`, "a list of non-negative integers", JSON.stringify(shape));
  const isOffsets = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isInteger(o) && o >= 0);
  if (!isOffsets) fail(`tensor ${name}: "data_offsets" is not [begin, end]`, "two byte offsets", JSON.stringify(offsets));
  const [begin, end] = offsets as [number, number];
  const size = count(shape as number[]) * WIDTH[dtype as SafetensorsDtype];
  if (end - begin !== size) fail(`tensor ${name}: its data_offsets hold ${end - begin} bytes and its ${dtype} shape [${(shape as number[]).join(", ")}] needs ${size}`);
  if (end > dataLength) fail(`tensor ${name}: its bytes run past the end of the file`, `at most ${dataLength}`, `${end}`);
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

function readValues(view: DataView, at: number, t: Entry, fail: (m: string) => never): Float32Array | Float64Array {
  const n = count(t.shape);
  if (t.dtype === "F32") return Float32Array.from({ length: n }, (_, i) => view.getFloat32(at + 4 * i, true));
  if (t.dtype === "F64") return Float64Array.from({ length: n }, (_, i) => view.getFloat64(at + 8 * i, true));
  return Float64Array.from({ length: n }, (_, i) => {
    const v = view.getBigInt64(at + 8 * i, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(`tensor ${t.name}: the integer ${v} is too large to read as a number`);
    return Number(v);
  });
}
