/**
 * bpgen's WebAssembly back end, the parts below the renderer:
 *
 * - `ModuleBuilder` / `FunctionBuilder` (encoder.ts): write a module's binary directly, one method
 *   per instruction, stack types checked as instructions are written, structured control flow
 *   with labels; `toBytes()` gives the bytes to embed and instantiate with
 *   `new WebAssembly.Instance(new WebAssembly.Module(bytes), imports)`.
 * - `math` (math.ts): elementwise exp, expm1, log, log1p, tanh, sigmoid, softplus, erf, sin, cos
 *   for f32, f64, f32x4 and f64x2, added to a module on demand (`math.use`) or written inline
 *   (`math.inline`).
 * - `simdSupported` / `relaxedSimdSupported` (features.ts): what the running engine accepts.
 * - `OPCODES` (opcodes.ts): the instruction table, for table-driven emission with `f.op(name)`.
 *
 * Nothing here depends on anything outside this folder, and nothing at run time: the generated
 * module carries only the bytes.
 */
export { FunctionBuilder, Label, ModuleBuilder, WasmBuildError } from "./encoder.ts";
export type { BlockType, FuncRef, FuncType, FunctionBody, FunctionSignature, Global, Local, MemArg, MemoryLimits, ValType } from "./encoder.ts";
export { relaxedSimdProbe, relaxedSimdSupported, simdSupported } from "./features.ts";
export { MATH_FUNCTIONS, emitMathInline, math, mathFunctionName, useMath } from "./math.ts";
export type { MathFunction, MathShape } from "./math.ts";
export { OPCODES, isOpName, methodName, opName } from "./opcodes.ts";
export type { Feature, Immediate, OpInfo, OpName } from "./opcodes.ts";
export { signedLeb128, signedLeb128Big, unsignedLeb128, unsignedLeb128Big } from "./bytes.ts";
