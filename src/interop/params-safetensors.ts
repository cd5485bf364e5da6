/**
 * A network's parameters and state as a safetensors file, in one of two naming schemes:
 *
 *   "bpgen"    meta.params' names and shapes (W1, b1, …), then meta.state's (m3, v3, rng_seed, rng_step);
 *   "pytorch"  the exported module's state_dict (torch-names.ts): 0.weight [out, in], a convolution's weight
 *              [out, in, kh, kw], 2.running_mean, 3.weight_ih_l0, …; the state PyTorch has no buffer for (the
 *              dropout generator's seed and step) is not written, and is left as it was when reading.
 *
 * The header's __metadata__ says which ({"format": "bpgen", "names": "pytorch", "net": name}); a file without it
 * (saved by PyTorch) is read by its names. batch norm's num_batches_tracked, which bpgen does not keep, is
 * ignored when read. Either way a file whose names and shapes are not the network's is refused with both lists.
 */
import type { FloatArray, NetMeta, ParamLayout } from "../check/module.ts";
import { BpgenError } from "../errors.ts";
import { type NamedTensor, decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { parseSpec } from "../spec/load.ts";
import { type TorchTensor, fromTorchOrder, toTorchOrder, torchNames } from "./torch-names.ts";

export type NameScheme = "bpgen" | "pytorch";

/** PyTorch's buffers bpgen does not keep: read and dropped. */
const IGNORED = /(^|\.)num_batches_tracked$/;

interface MetaState {
  readonly state?: readonly ParamLayout[];
}

/** One tensor of the scheme: its name and shape in the file, and where its values are in ours. */
interface Slot {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: "param" | "state";
  readonly layout: ParamLayout;
  readonly torch?: TorchTensor;
}

/** The tensors a file of `scheme` holds for the network, in the order written. */
function slotsOf(meta: NetMeta, scheme: NameScheme, names: readonly TorchTensor[] | undefined): Slot[] {
  const state = (meta as NetMeta & MetaState).state ?? [];
  if (scheme === "bpgen") {
    return [
      ...meta.params.map((p): Slot => ({ name: p.name, shape: p.shape, kind: "param", layout: p })),
      ...state.map((p): Slot => ({ name: p.name, shape: p.shape, kind: "state", layout: p })),
    ];
  }
  if (!names) throw new Error(`internal: no PyTorch names for the network ${meta.name}`);
  return names.map((t): Slot => {
    const layout = (t.kind === "param" ? meta.params : state).find((p) => p.name === t.bpgen);
    if (!layout || layout.size !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`internal: the PyTorch tensor ${t.torch} stands for ${t.bpgen}, which the module's meta does not hold as planned`);
    return { name: t.torch, shape: t.torchShape, kind: t.kind, layout, torch: t };
  });
}

/**
 * The safetensors bytes of `params` (and `state`, for a network with state) in the dtype of `params`: PyTorch's
 * names when `names` is given (torchNames of the network), bpgen's otherwise.
 */
export function encodeParamsSafetensors(meta: NetMeta, params: FloatArray, state?: FloatArray, names?: readonly TorchTensor[]): Uint8Array {
  const scheme: NameScheme = names ? "pytorch" : "bpgen";
  const f64 = params instanceof Float64Array;
  const slots = slotsOf(meta, scheme, names);
  if (scheme === "pytorch" && meta.params.some((p) => !slots.some((s) => s.kind === "param" && s.layout === p))) {
    throw new Error(`internal: the PyTorch names of ${meta.name} leave out a parameter`);
  }
  const tensors = slots.map((s): NamedTensor => {
    const source = s.kind === "param" ? params : state;
    if (!source) throw new Error(`internal: the network ${meta.name} saves its state`);
    const values = source.subarray(s.layout.offset, s.layout.offset + s.layout.size);
    const data = f64 ? new Float64Array(values.length) : new Float32Array(values.length);
    if (s.torch) toTorchOrder(values, s.torch, data);
    else data.set(values);
    return { name: s.name, dtype: f64 ? "F64" : "F32", shape: s.shape, data };
  });
  return encodeSafetensors(tensors, { format: "bpgen", net: meta.name, names: scheme });
}

const describe = (list: readonly { name: string; shape: readonly number[] }[]) => list.map((t) => `${t.name} [${t.shape.join(", ")}]`).join(", ");

/**
 * Reads a safetensors file's parameters into `into` and a network's state into `stateInto` (what the file holds
 * of it), after checking its names and shapes against the network's in the scheme it uses. Returns the scheme.
 */
export function decodeParamsSafetensors(file: string, bytes: Uint8Array, meta: NetMeta, into: FloatArray, stateInto: FloatArray | undefined, names: readonly TorchTensor[] | undefined): NameScheme {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const found = tensors.filter((t) => !IGNORED.test(t.name));
  const scheme = schemeOf(metadata.names, found, names);
  if (scheme === "pytorch" && !names) {
    throw new BpgenError({ file, message: `the safetensors file has PyTorch's names, and the network ${meta.name} (the equation form) has only bpgen's`, expected: describe(slotsOf(meta, "bpgen", undefined)), found: describe(found) });
  }
  const slots = slotsOf(meta, scheme, names);
  const byName = new Map(found.map((t) => [t.name, t]));
  const fits = found.length === slots.length && slots.every((s) => byName.get(s.name)?.shape.join() === s.shape.join());
  if (!fits) {
    throw new BpgenError({
      file,
      message: `the safetensors file does not fit the network ${meta.name} (${scheme === "pytorch" ? "PyTorch's" : "bpgen's"} names)`,
      expected: describe(slots),
      found: describe(found),
    });
  }
  for (const s of slots) {
    const target = s.kind === "param" ? into : stateInto;
    if (!target) continue;
    const values = (byName.get(s.name) as NamedTensor).data;
    const at = target.subarray(s.layout.offset, s.layout.offset + s.layout.size);
    if (s.torch) fromTorchOrder(values, s.torch, at);
    else at.set(values);
  }
  return scheme;
}

/** The scheme the metadata names, else PyTorch's when every name is one of the network's PyTorch names. */
function schemeOf(said: string | undefined, found: readonly NamedTensor[], names: readonly TorchTensor[] | undefined): NameScheme {
  if (said === "bpgen" || said === "pytorch") return said;
  if (names && found.length > 0 && found.every((t) => names.some((n) => n.torch === t.name))) return "pytorch";
  // a state_dict of another network still has PyTorch's dotted names
  return found.some((t) => t.name.includes(".")) && names ? "pytorch" : "bpgen";
}

// ---- the library API (src/index.ts) ---------------------------------------------------------------------

/** A network, for PyTorch's names: net.json's text or object (validated as `bpgen` validates it). */
export type NetDescription = string | object;

/** The PyTorch names of a network described as net.json is (undefined for the equation form). */
function namesOf(spec: NetDescription): readonly TorchTensor[] | undefined {
  const loaded = parseSpec("net.json", typeof spec === "string" ? spec : JSON.stringify(spec));
  return torchNames(loaded.spec);
}

export interface SafetensorsOptions {
  /** A network with state: its state array, saved with the parameters. */
  readonly state?: FloatArray;
  /** Write PyTorch's names and layouts for this network (its net.json), instead of bpgen's. */
  readonly pytorch?: NetDescription;
}

/**
 * A generated module's parameters (and state) as safetensors bytes, f32 or f64 as `params` is: bpgen's names
 * (meta.params), or with `pytorch` the exported PyTorch module's state_dict names and layouts.
 */
export function paramsToSafetensors(meta: NetMeta, params: FloatArray, options: SafetensorsOptions = {}): Uint8Array {
  const names = options.pytorch === undefined ? undefined : namesOf(options.pytorch);
  if (options.pytorch !== undefined && !names) throw new BpgenError({ message: "PyTorch's names exist for networks of the layer form only", expected: 'a net.json with "layers"', found: "the equation form" });
  const state = (meta as NetMeta & MetaState).state;
  if (state && options.state === undefined) throw new BpgenError({ message: `the network ${meta.name} has state: pass its state array too`, expected: "options.state" });
  return encodeParamsSafetensors(meta, params, state ? options.state : undefined, names);
}

/**
 * Reads safetensors bytes (bpgen's names, or PyTorch's when `pytorch` describes the network) into the module's
 * parameters `into` and state `stateInto` (what a file with PyTorch's names holds of it); a file of another
 * network is a BpgenError naming both layouts. Returns the naming the file used.
 */
export function paramsFromSafetensors(bytes: Uint8Array, meta: NetMeta, into: FloatArray, options: { stateInto?: FloatArray; pytorch?: NetDescription; file?: string } = {}): NameScheme {
  if (into.length !== meta.paramCount) throw new BpgenError({ message: "the parameter array does not fit the network", expected: `${meta.paramCount} numbers`, found: `${into.length}` });
  const names = options.pytorch === undefined ? undefined : namesOf(options.pytorch);
  return decodeParamsSafetensors(options.file ?? "safetensors", bytes, meta, into, options.stateInto, names);
}
