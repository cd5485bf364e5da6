/**
 * WebAssembly binary → text with wabt (tests only; src/ never depends on wabt). Names come from the
 * module's `name` section, so the text shows `$function` and `$local` names the encoder wrote. And
 * text → binary with wabt's assembler, to hold the encoder's bytes against an independent encoder.
 */
import wabtInit from "wabt";

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let loading: Promise<Wabt> | undefined;

function wabt(): Promise<Wabt> {
  loading ??= wabtInit();
  return loading;
}

/** Post-MVP features to read with; SIMD is always on. */
export interface WatFeatures {
  relaxedSimd?: boolean;
}

function featureFlags(features: WatFeatures) {
  return {
    simd: true,
    relaxed_simd: features.relaxedSimd ?? false,
    bulk_memory: true,
    sat_float_to_int: true,
    sign_extension: true,
    multi_value: true,
  };
}

function read(w: Wabt, bytes: Uint8Array, features: WatFeatures) {
  return w.readWasm(bytes, { readDebugNames: true, ...featureFlags(features) });
}

/** The module as wabt's text format (flat instructions, exports listed separately). */
export async function wasmToText(bytes: Uint8Array, features: WatFeatures = {}): Promise<string> {
  const module = read(await wabt(), bytes, features);
  try {
    module.applyNames();
    return module.toText({ foldExprs: false, inlineExport: false });
  } finally {
    module.destroy();
  }
}

/** The kernels' binary a generated module's source carries (its base64 `wasmBinary`). */
export function kernelBytes(source: string): Uint8Array {
  const base64 = /const wasmBinary =\s*"([^"]+)"/.exec(source)?.[1];
  if (base64 === undefined) throw new Error("the module carries no WebAssembly kernels");
  return Uint8Array.from(Buffer.from(base64, "base64"));
}

/** Validates with wabt; throws wabt's message if the module is invalid. */
export async function wabtValidate(bytes: Uint8Array, features: WatFeatures = {}): Promise<void> {
  const module = read(await wabt(), bytes, features);
  try {
    module.validate();
  } finally {
    module.destroy();
  }
}

/** The binary wabt assembles from `text` (validated, without a name section). */
export async function watToWasm(text: string, features: WatFeatures = {}): Promise<Uint8Array> {
  const module = (await wabt()).parseWat("test.wat", text, featureFlags(features));
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
