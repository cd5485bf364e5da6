/** Value types, signatures and the handles the builders give out. */

/** A WebAssembly value type (no reference types: bpgen's kernels only move numbers). */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

/** Binary encoding of each value type. */
export const VALTYPE_CODE: Readonly<Record<ValType, number>> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** A function signature. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/**
 * The type of a block, loop or if: `"void"` (nothing in, nothing out), one result type,
 * or a full signature (multi-value: the block pops `params` and leaves `results`).
 */
export type BlockType = "void" | ValType | FuncType;

/**
 * A memory access's immediate. `offset` is added to the address operand (bytes, u32).
 * `align` is the alignment *in bytes* the access promises (a power of two no larger than the
 * access width; defaults to the width). It is a hint: misaligned accesses still work, just slower.
 */
export interface MemArg {
  readonly offset?: number;
  readonly align?: number;
}

/** Memory size limits in 64 KiB pages. */
export interface MemoryLimits {
  readonly min: number;
  readonly max?: number;
}

/** A parameter or local variable of one function (from `FunctionBuilder.local` or the function's params). */
export interface Local {
  readonly kind: "local";
  /** Index in the function's local index space (params first). */
  readonly index: number;
  readonly type: ValType;
  readonly name: string;
  /** The function it belongs to (using it in another function throws). */
  readonly owner: object;
}

/** A module global (from `ModuleBuilder.global`). */
export interface Global {
  readonly kind: "global";
  readonly index: number;
  readonly type: ValType;
  readonly mutable: boolean;
  readonly name: string;
  readonly owner: object;
}

/**
 * A function of a module, imported or defined. Its index is fixed only when the module is
 * serialised (imports come first in the index space, whenever they were added), so `call`
 * takes the handle, not a number.
 */
export interface FuncRef {
  readonly kind: "func";
  readonly name: string;
  readonly type: FuncType;
  readonly owner: object;
}

export function sameTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export function typesText(types: readonly ValType[]): string {
  return types.length === 0 ? "nothing" : types.join(" ");
}

export function funcTypeText(type: FuncType): string {
  return `[${type.params.join(" ")}] -> [${type.results.join(" ")}]`;
}
