/**
 * The part of a generated module that runs its WebAssembly kernels: the binary (base64), the memory map,
 * instantiation on first use (Node, browsers and workers alike: no import, no fetch, synchronous), and
 * growing the memory for a larger batch. Where `WebAssembly` is missing or rejects SIMD, `wasmKernels()`
 * is null and the exported functions run the TypeScript kernels.
 */
import { HOST_FUNCTIONS } from "./function.ts";
import type { WasmKernels } from "./module.ts";
import type { KernelName } from "../../lower/functions.ts";
import type { ModuleShape } from "../backend.ts";

/** The glue's text, the binaries written as placeholders, and the base64 text each placeholder stands for. */
export interface WasmSection {
  readonly text: string;
  readonly literals: ReadonlyMap<string, string>;
}

/**
 * A placeholder as long as a line, so that the formatter lays out its declaration as it would the binary's
 * (`const wasmBinary =` and the string on the next line); the binary goes in after formatting, which would
 * otherwise spend most of a large module's time reading through one string.
 */
const placeholder = (name: string) => `${name}:${"=".repeat(96)}`;

export function wasmSection(shape: ModuleShape, builds: { plain: WasmKernels; relaxed?: WasmKernels }, functions: readonly KernelName[]): WasmSection {
  const { array, paramCount, stateCount } = shape;
  const wasm = builds.plain;
  const modes = functions.includes("trainingForward")
    ? `
  readonly trainingForward: (batch: number, capacity: number) => void;
  readonly trainingLoss: (batch: number, capacity: number) => number;`
    : "";
  const stateView = stateCount > 0 ? `\n  state: ${array};` : "";
  const m = wasm.memory;
  const literals = new Map<string, string>();
  const base64 = (k: WasmKernels) => {
    const key = placeholder(k === wasm ? "wasmBinary" : "wasmBinaryRelaxed");
    literals.set(key, Buffer.from(k.bytes).toString("base64"));
    return key;
  };
  const relaxed = builds.relaxed
    ? `
/**
 * The same kernels with relaxed SIMD's fused multiply-add in the dense products (${builds.relaxed.bytes.length} bytes), used
 * where the engine validates it: faster, with results that may differ in the last bits from machine to machine.
 */
const wasmBinaryRelaxed =
  "${base64(builds.relaxed)}";
`
    : "";
  const text = `
// ---- kernels in WebAssembly (SIMD128), written by bpgen from the same kernel IR as the TypeScript kernels ----

/** The kernels' binary (${wasm.bytes.length} bytes), base64. */
const wasmBinary =
  "${base64(wasm)}";
${relaxed}
/** The parts of the WebAssembly API the kernels use, typed here so that the module needs no DOM or Node types. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

/** The kernels' exports, and views of their memory for \`capacity\` samples. */
interface Kernels {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly forward: (batch: number, capacity: number) => void;
  readonly loss: (batch: number, capacity: number) => number;
  readonly gradient: (batch: number, capacity: number) => number;${modes}
  readonly sgdUpdate: (lr: number) => void;
  capacity: number;
  params: ${array};${stateView}
  grads: ${array};
  inputs: ${array};
  targets: ${array};
  out: ${array};
}

let kernels: Kernels | null | undefined;

/** The WebAssembly kernels, instantiated on first use; null where WebAssembly SIMD is unavailable. */
function wasmKernels(): Kernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
${
    builds.relaxed
      ? `  const relaxed = base64Bytes(wasmBinaryRelaxed);
  const bytes = api.validate(relaxed) ? relaxed : base64Bytes(wasmBinary);`
      : "  const bytes = base64Bytes(wasmBinary);"
  }
  if (!api.validate(bytes)) return null;
  const instance = new api.Instance(new api.Module(bytes), { host: { ${hostImports(builds)} } });
  const exports = instance.exports as Omit<Kernels, "capacity" | "params" | ${stateCount > 0 ? '"state" | ' : ""}"grads" | "inputs" | "targets" | "out">;
  const empty = new ${array}(0);
  kernels = { ...exports, capacity: 0, params: empty, ${stateCount > 0 ? "state: empty, " : ""}grads: empty, inputs: empty, targets: empty, out: empty };
  reserveKernels(kernels, 1);
  return kernels;
}

/**
 * Makes the kernels' memory hold \`batch\` samples (growing it when a larger batch arrives) and the views
 * of it current: growing detaches every earlier view, those kernelArrays gave out included.
 */
function reserveKernels(k: Kernels, batch: number): void {
  if (batch <= k.capacity) return;
  const bytes = ${m.io} + batch * ${m.bytesPerSample};
  const pages = Math.ceil((bytes - k.memory.buffer.byteLength) / 65536);
  if (pages > 0) k.memory.grow(pages);
  const buffer = k.memory.buffer;
  k.capacity = batch;
  k.params = new ${array}(buffer, ${m.params}, ${paramCount});
  k.grads = new ${array}(buffer, ${m.grads}, ${paramCount});${stateCount > 0 ? `\n  k.state = new ${array}(buffer, ${m.state}, ${stateCount});` : ""}
  k.inputs = new ${array}(buffer, ${m.io}, batch * ${m.inputsPerSample / bytesPer(array)});
  k.targets = new ${array}(buffer, ${m.io} + batch * ${m.inputsPerSample}, batch * ${m.targetsPerSample / bytesPer(array)});
  k.out = new ${array}(buffer, ${m.io} + batch * ${m.inputsPerSample + m.targetsPerSample}, batch * ${m.outPerSample / bytesPer(array)});
}
`;
  return { text, literals };
}

/** The host functions the kernels import: Math's, or the module's own (template) functions. */
function hostImports(builds: { plain: WasmKernels; relaxed?: WasmKernels }): string {
  const names = [...new Set([...builds.plain.hosts, ...(builds.relaxed?.hosts ?? [])])].sort();
  return names
    .map((name) => {
      const fn = HOST_FUNCTIONS[name];
      // the module's own functions are named by a call, so that the template splicer brings them in
      return fn.startsWith("Math.") ? `${name}: ${fn}` : `${name}: (x: number) => ${fn}(x)`;
    })
    .join(", ");
}

const bytesPer = (array: string) => (array === "Float64Array" ? 8 : 4);
