/**
 * Feature detection: whether this engine accepts SIMD128 and relaxed SIMD, by validating tiny
 * modules built with the encoder (Node 20 needs `--experimental-wasm-relaxed-simd` for relaxed SIMD).
 */
import { type FunctionBuilder, ModuleBuilder } from "./encoder.ts";

let simdResult: boolean | undefined;
let relaxedResult: boolean | undefined;

/** A module with one function `(v128, v128, v128) -> v128` whose body `emit` writes. */
function probe(emit: (f: FunctionBuilder) => void): Uint8Array<ArrayBuffer> {
  const mod = new ModuleBuilder("probe");
  mod.function("probe", { params: { a: "v128", b: "v128", c: "v128" }, results: ["v128"] }, (f, { a, b, c }) => {
    f.localGet(a).localGet(b).localGet(c);
    emit(f);
  });
  return mod.toBytes();
}

/** True if `WebAssembly.validate` accepts SIMD128 (`f32x4.mul`). Cached. */
export function simdSupported(): boolean {
  simdResult ??= WebAssembly.validate(probe((f) => f.f32x4Mul().f32x4Add()));
  return simdResult;
}

/** True if `WebAssembly.validate` accepts relaxed SIMD (`f32x4.relaxed_madd`). Cached. */
export function relaxedSimdSupported(): boolean {
  relaxedResult ??= WebAssembly.validate(probe((f) => f.f32x4RelaxedMadd()));
  return relaxedResult;
}

/** The bytes of the relaxed-SIMD probe module (for tests and for validating with other tools). */
export function relaxedSimdProbe(): Uint8Array<ArrayBuffer> {
  return probe((f) => f.f32x4RelaxedMadd());
}
