/**
 * Saved parameters, in two formats, both checked against the module's `meta` when loaded:
 *
 * JSON (`.json`): `{ "format": "bpgen-params", "version": 1, "net": name, "dtype": "float32" | "float64",
 *   "paramCount": n, "params": [{ "name": "W1", "shape": [128, 784], "values": [... row-major ...] }, ...] }`.
 *
 * Binary (any other extension, `.bin` by convention), little-endian:
 *   bytes 0–7 the magic `BPGPARAM`; a uint32 version (1); a uint32 length H; H bytes of UTF-8 JSON, the header
 *   `{ "net", "dtype", "paramCount", "params": [{ "name", "shape", "offset", "size" }] }`; zero bytes up to a
 *   multiple of 8; then paramCount float32 (or float64) values in meta.params order.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import type { FloatArray, NetMeta } from "../check/module.ts";
import { BpgenError } from "../errors.ts";

const MAGIC = "BPGPARAM";
const VERSION = 1;

type Dtype = "float32" | "float64";

interface SavedParam {
  name: string;
  shape: number[];
}

const dtypeOf = (p: FloatArray): Dtype => (p instanceof Float64Array ? "float64" : "float32");

/** The file's bytes for `params` in the format its extension names. */
export function encodeParams(file: string, meta: NetMeta, params: FloatArray): Buffer {
  return extname(file).toLowerCase() === ".json" ? Buffer.from(paramsJson(meta, params)) : paramsBinary(meta, params);
}

export function paramsJson(meta: NetMeta, params: FloatArray): string {
  const short = params instanceof Float32Array ? shortestFloat32 : (v: number) => String(v);
  const entries = meta.params.map((p) => {
    const values = Array.from(params.subarray(p.offset, p.offset + p.size), short).join(",");
    return `    { "name": ${JSON.stringify(p.name)}, "shape": ${JSON.stringify(p.shape)}, "values": [${values}] }`;
  });
  const head = { format: "bpgen-params", version: VERSION, net: meta.name, dtype: dtypeOf(params), paramCount: meta.paramCount };
  return `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "params": [\n${entries.join(",\n")}\n  ]\n}\n`;
}

/** The fewest digits that read back as the same float32. */
function shortestFloat32(v: number): string {
  if (!Number.isFinite(v)) return "null";
  for (let digits = 1; digits < 9; digits++) {
    const text = v.toPrecision(digits);
    if (Math.fround(Number(text)) === v) return String(Number(text));
  }
  return String(v);
}

export function paramsBinary(meta: NetMeta, params: FloatArray): Buffer {
  const dtype = dtypeOf(params);
  const header = Buffer.from(JSON.stringify({ net: meta.name, dtype, paramCount: meta.paramCount, params: meta.params }));
  const start = Math.ceil((16 + header.length) / 8) * 8;
  const width = dtype === "float64" ? 8 : 4;
  const out = Buffer.alloc(start + meta.paramCount * width);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, 16);
  for (let i = 0; i < meta.paramCount; i++) {
    if (width === 8) out.writeDoubleLE(params[i], start + 8 * i);
    else out.writeFloatLE(params[i], start + 4 * i);
  }
  return out;
}

/** Reads parameters saved by encodeParams into a new array of `meta.paramCount` numbers, after checking the layout. */
export function loadParams(file: string, meta: NetMeta, into: FloatArray): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new BpgenError({ file, message: `cannot read the parameter file: ${(e as Error).message}` });
  }
  const fail = (message: string, expected?: string, found?: string): never => {
    throw new BpgenError({ file, message, expected, found });
  };
  if (into.length !== meta.paramCount) fail("internal: destination array of the wrong length");
  if (bytes.subarray(0, 8).toString("latin1") === MAGIC) {
    if (bytes.length < 16 || bytes.readUInt32LE(8) !== VERSION) fail("unsupported binary parameter file version", String(VERSION), String(bytes.length < 16 ? "a truncated header" : bytes.readUInt32LE(8)));
    const length = bytes.readUInt32LE(12);
    const header = parseJson(file, bytes.subarray(16, 16 + length).toString("utf8")) as { dtype?: unknown; params?: unknown };
    checkLayout(file, meta, header.params);
    const width = header.dtype === "float64" ? 8 : header.dtype === "float32" ? 4 : fail("unknown dtype in the header", '"float32" or "float64"', JSON.stringify(header.dtype));
    const start = Math.ceil((16 + length) / 8) * 8;
    if (bytes.length !== start + meta.paramCount * width) fail("the file is truncated or has extra bytes", `${start + meta.paramCount * width} bytes`, `${bytes.length}`);
    for (let i = 0; i < meta.paramCount; i++) into[i] = width === 8 ? bytes.readDoubleLE(start + 8 * i) : bytes.readFloatLE(start + 4 * i);
    return;
  }
  const doc = parseJson(file, bytes.toString("utf8")) as { format?: unknown; params?: unknown };
  if (doc.format !== "bpgen-params") fail("not a bpgen parameter file", '"format": "bpgen-params" (JSON) or the BPGPARAM magic (binary)', JSON.stringify(doc.format));
  checkLayout(file, meta, doc.params);
  for (const [k, p] of (doc.params as (SavedParam & { values?: unknown })[]).entries()) {
    const layout = meta.params[k];
    const values = p.values;
    if (!Array.isArray(values) || values.length !== layout.size || !values.every((v) => typeof v === "number")) {
      fail(`parameter ${p.name} needs ${layout.size} numbers in "values"`, `${layout.size} finite numbers`, Array.isArray(values) ? `${values.length} values, ${values.filter((v) => typeof v !== "number").length} not numbers` : typeof values);
    }
    (values as number[]).forEach((v, i) => (into[layout.offset + i] = v));
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BpgenError({ file, message: `the parameter file is not valid JSON: ${(e as Error).message}` });
  }
}

const describe = (params: readonly SavedParam[]) => params.map((p) => `${p.name} [${p.shape.join(", ")}]`).join(", ");

/** The saved names and shapes must be meta.params', in order. */
function checkLayout(file: string, meta: NetMeta, saved: unknown): void {
  const ok = (p: unknown): p is SavedParam =>
    p !== null && typeof p === "object" && typeof (p as SavedParam).name === "string" && Array.isArray((p as SavedParam).shape);
  if (!Array.isArray(saved) || !saved.every(ok)) throw new BpgenError({ file, message: "the parameter file has no list of parameters with names and shapes" });
  const same = saved.length === meta.params.length && saved.every((p, i) => p.name === meta.params[i].name && JSON.stringify(p.shape) === JSON.stringify(meta.params[i].shape));
  if (!same) {
    throw new BpgenError({
      file,
      message: `the saved parameters do not fit the network ${meta.name}`,
      expected: describe(meta.params.map((p) => ({ name: p.name, shape: [...p.shape] }))),
      found: describe(saved),
    });
  }
}
