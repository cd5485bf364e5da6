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
 *
 * A network with state (meta.stateCount) saves it too: in JSON `"stateCount": n` and a `"state"` list like
 * `"params"`; in the binary header `stateCount` and `state` (layouts like `params`'), its values after the
 * parameters'. A network without state writes exactly the files above.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import type { FloatArray, NetMeta, ParamLayout } from "../check/module.ts";
import { BpgenError } from "../errors.ts";
import { decodeParamsSafetensors, encodeParamsSafetensors } from "../interop/params-safetensors.ts";
import type { TorchTensor } from "../interop/torch-names.ts";

const MAGIC = "BPGPARAM";
const VERSION = 1;

type Dtype = "float32" | "float64";

interface SavedParam {
  name: string;
  shape: number[];
}

const dtypeOf = (p: FloatArray): Dtype => (p instanceof Float64Array ? "float64" : "float32");

/** The state's size and layout of a network with state (its module's meta), undefined for one without. */
export interface StateLayout {
  readonly stateCount: number;
  readonly state: readonly ParamLayout[];
}
export function stateLayout(meta: NetMeta): StateLayout | undefined {
  const m = meta as NetMeta & Partial<StateLayout>;
  return m.stateCount !== undefined && m.state !== undefined ? { stateCount: m.stateCount, state: m.state } : undefined;
}

/** The state a network with state must save with its parameters. */
function requireState(meta: NetMeta, state: FloatArray | undefined): { layout: StateLayout; values: FloatArray } | undefined {
  const layout = stateLayout(meta);
  if (!layout) return undefined;
  if (!state || state.length !== layout.stateCount) throw new Error(`internal: the network ${meta.name} saves ${layout.stateCount} numbers of state`);
  return { layout, values: state };
}

const isSafetensors = (file: string) => extname(file).toLowerCase() === ".safetensors";

/**
 * The file's bytes for `params` (and a network's `state`) in the format its extension names; a safetensors file
 * has PyTorch's names when `torchNames` is given.
 */
export function encodeParams(file: string, meta: NetMeta, params: FloatArray, state?: FloatArray, torchNames?: readonly TorchTensor[]): Buffer {
  if (isSafetensors(file)) {
    requireState(meta, state);
    return Buffer.from(encodeParamsSafetensors(meta, params, state, torchNames));
  }
  return extname(file).toLowerCase() === ".json" ? Buffer.from(paramsJson(meta, params, state)) : paramsBinary(meta, params, state);
}

export function paramsJson(meta: NetMeta, params: FloatArray, state?: FloatArray): string {
  const short = params instanceof Float32Array ? shortestFloat32 : (v: number) => String(v);
  const list = (layouts: readonly ParamLayout[], values: FloatArray) =>
    layouts.map((p) => {
      const text = Array.from(values.subarray(p.offset, p.offset + p.size), short).join(",");
      return `    { "name": ${JSON.stringify(p.name)}, "shape": ${JSON.stringify(p.shape)}, "values": [${text}] }`;
    });
  const saved = requireState(meta, state);
  const head = { format: "bpgen-params", version: VERSION, net: meta.name, dtype: dtypeOf(params), paramCount: meta.paramCount, ...(saved ? { stateCount: saved.layout.stateCount } : {}) };
  const stateList = saved ? `,\n  "state": [\n${list(saved.layout.state, saved.values).join(",\n")}\n  ]` : "";
  return `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "params": [\n${list(meta.params, params).join(",\n")}\n  ]${stateList}\n}\n`;
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

export function paramsBinary(meta: NetMeta, params: FloatArray, state?: FloatArray): Buffer {
  const dtype = dtypeOf(params);
  const saved = requireState(meta, state);
  const stateHeader = saved ? { stateCount: saved.layout.stateCount, state: saved.layout.state } : {};
  const header = Buffer.from(JSON.stringify({ net: meta.name, dtype, paramCount: meta.paramCount, params: meta.params, ...stateHeader }));
  const start = Math.ceil((16 + header.length) / 8) * 8;
  const width = dtype === "float64" ? 8 : 4;
  const count = meta.paramCount + (saved?.layout.stateCount ?? 0);
  const out = Buffer.alloc(start + count * width);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, 16);
  for (let i = 0; i < count; i++) {
    const v = i < meta.paramCount ? params[i] : (saved?.values[i - meta.paramCount] ?? 0);
    if (width === 8) out.writeDoubleLE(v, start + 8 * i);
    else out.writeFloatLE(v, start + 4 * i);
  }
  return out;
}

/**
 * Reads parameters saved by encodeParams into `into` (`meta.paramCount` numbers), and a network's state into
 * `stateInto`, after checking the layouts: a network with state needs a file with its state (a safetensors file
 * with PyTorch's names holds only the running statistics: the rest of `stateInto` keeps its values).
 * `torchNames`: the network's PyTorch names, for a safetensors file that has them.
 */
export function loadParams(file: string, meta: NetMeta, into: FloatArray, stateInto?: FloatArray, torchNames?: readonly TorchTensor[]): void {
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
  const state = stateLayout(meta);
  if (state && stateInto?.length !== state.stateCount) fail("internal: destination state array of the wrong length");
  if (isSafetensors(file)) {
    decodeParamsSafetensors(file, bytes, meta, into, state ? stateInto : undefined, torchNames);
    return;
  }
  if (bytes.subarray(0, 8).toString("latin1") === MAGIC) {
    if (bytes.length < 16 || bytes.readUInt32LE(8) !== VERSION) fail("unsupported binary parameter file version", String(VERSION), String(bytes.length < 16 ? "a truncated header" : bytes.readUInt32LE(8)));
    const length = bytes.readUInt32LE(12);
    const header = parseJson(file, bytes.subarray(16, 16 + length).toString("utf8")) as { dtype?: unknown; params?: unknown; state?: unknown };
    checkLayout(file, meta, header.params);
    checkStateLayout(file, meta, header.state);
    const width = header.dtype === "float64" ? 8 : header.dtype === "float32" ? 4 : fail("unknown dtype in the header", '"float32" or "float64"', JSON.stringify(header.dtype));
    const start = Math.ceil((16 + length) / 8) * 8;
    const count = meta.paramCount + (state?.stateCount ?? 0);
    if (bytes.length !== start + count * width) fail("the file is truncated or has extra bytes", `${start + count * width} bytes`, `${bytes.length}`);
    const read = (i: number) => (width === 8 ? bytes.readDoubleLE(start + 8 * i) : bytes.readFloatLE(start + 4 * i));
    for (let i = 0; i < meta.paramCount; i++) into[i] = read(i);
    if (state && stateInto) for (let i = 0; i < state.stateCount; i++) stateInto[i] = read(meta.paramCount + i);
    return;
  }
  const doc = parseJson(file, bytes.toString("utf8")) as { format?: unknown; params?: unknown; state?: unknown };
  if (doc.format !== "bpgen-params") fail("not a bpgen parameter file", '"format": "bpgen-params" (JSON) or the BPGPARAM magic (binary)', JSON.stringify(doc.format));
  checkLayout(file, meta, doc.params);
  checkStateLayout(file, meta, doc.state);
  readValues(file, meta.params, doc.params, into, "parameter");
  if (state && stateInto) readValues(file, state.state, doc.state, stateInto, "state value");
}

/** The "values" of each saved entry (checked to match `layouts` already) into `into`. */
function readValues(file: string, layouts: readonly ParamLayout[], saved: unknown, into: FloatArray, what: string): void {
  for (const [k, p] of (saved as (SavedParam & { values?: unknown })[]).entries()) {
    const layout = layouts[k];
    const values = p.values;
    if (!Array.isArray(values) || values.length !== layout.size || !values.every((v) => typeof v === "number")) {
      throw new BpgenError({
        file,
        message: `${what} ${p.name} needs ${layout.size} numbers in "values"`,
        expected: `${layout.size} finite numbers`,
        found: Array.isArray(values) ? `${values.length} values, ${values.filter((v) => typeof v !== "number").length} not numbers` : typeof values,
      });
    }
    (values as number[]).forEach((v, i) => (into[layout.offset + i] = v));
  }
}

/** A network with state needs the file's state, in its layout; a network without state takes a file without. */
function checkStateLayout(file: string, meta: NetMeta, saved: unknown): void {
  const state = stateLayout(meta);
  if (!state) {
    if (saved !== undefined) throw new BpgenError({ file, message: `the parameter file holds state, and the network ${meta.name} has none` });
    return;
  }
  if (saved === undefined) {
    throw new BpgenError({ file, message: `the parameter file holds no state, and the network ${meta.name} needs its state`, expected: describe(state.state.map((p) => ({ name: p.name, shape: [...p.shape] }))) });
  }
  checkLayout(file, { ...meta, params: state.state }, saved, "state");
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
function checkLayout(file: string, meta: NetMeta, saved: unknown, what: "parameters" | "state" = "parameters"): void {
  const ok = (p: unknown): p is SavedParam =>
    p !== null && typeof p === "object" && typeof (p as SavedParam).name === "string" && Array.isArray((p as SavedParam).shape);
  if (!Array.isArray(saved) || !saved.every(ok)) throw new BpgenError({ file, message: `the parameter file has no list of ${what === "state" ? "state values" : "parameters"} with names and shapes` });
  const same = saved.length === meta.params.length && saved.every((p, i) => p.name === meta.params[i].name && JSON.stringify(p.shape) === JSON.stringify(meta.params[i].shape));
  if (!same) {
    throw new BpgenError({
      file,
      message: `the saved ${what} do${what === "state" ? "es" : ""} not fit the network ${meta.name}`,
      expected: describe(meta.params.map((p) => ({ name: p.name, shape: [...p.shape] }))),
      found: describe(saved),
    });
  }
}
