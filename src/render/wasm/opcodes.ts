/**
 * The WebAssembly instructions with fixed stack signatures: MVP numeric and memory instructions,
 * sign extension, saturating truncation, bulk memory (copy/fill), SIMD128 and relaxed SIMD.
 * Keys are the text-format names (as wabt prints them). Control flow, locals, globals, calls,
 * `select`/`drop` and constants are written by hand in `FunctionBuilder`, since their types or
 * immediates depend on context.
 *
 * Each entry's `sig` is `inputs:outputs`, one letter per value: i = i32, l = i64, f = f32, d = f64,
 * v = v128 (so `"ff:i"` pops two f32 and pushes an i32). The FunctionBuilder checks every
 * instruction against it, so a wrong operand type fails at build time with the instruction's name.
 *
 * This table and ATOMIC_OPCODES (the threads proposal's atomics, below) are the whole instruction set of
 * `FunctionBuilder`: each row is one camelCase method (`"f32x4.extract_lane"` → `f32x4ExtractLane(lane)`),
 * its TypeScript signature mapped from the row's immediate by `InstructionMethods` below and its body
 * installed from the row. Adding a row adds the method.
 */
import type { MemArg } from "./types.ts";

/** What follows the opcode in the binary. */
export type Immediate =
  /** nothing */
  | "none"
  /** memarg: alignment (log2) and offset */
  | "memarg"
  /** memarg, then a lane index byte (v128.loadN_lane / storeN_lane) */
  | "memarg-lane"
  /** a lane index byte (extract_lane / replace_lane) */
  | "lane"
  /** 16 lane index bytes (i8x16.shuffle) */
  | "shuffle"
  /** one memory index byte (memory.size/grow/fill) */
  | "memory"
  /** two memory index bytes (memory.copy: destination, source) */
  | "memory-pair"
  /** one reserved zero byte (atomic.fence's ordering, sequentially consistent) */
  | "fence";

/** Which proposal an instruction belongs to (everything here is standard in Node 20 except relaxed SIMD). */
export type Feature = "mvp" | "sign-extension" | "saturating-truncation" | "bulk-memory" | "simd" | "relaxed-simd" | "threads";

export interface OpInfo {
  /** 0xfc (misc), 0xfd (SIMD) or 0xfe (atomics), or undefined for single-byte opcodes. */
  readonly prefix?: 0xfc | 0xfd | 0xfe;
  /** The opcode byte, or the u32 sub-opcode after a prefix. */
  readonly code: number;
  readonly sig: string;
  readonly imm: Immediate;
  readonly feature: Feature;
  /** Memory access width in bytes (the natural and maximum alignment), for memory instructions. */
  readonly bytes?: number;
  /** Number of lanes, for lane-indexed instructions (the lane immediate must be below it). */
  readonly lanes?: number;
}

// The helpers keep each row's `imm` a literal type, from which InstructionMethods maps the method's arguments.
const plain = (code: number, sig: string, feature: Feature = "mvp") => ({ code, sig, imm: "none", feature }) as const;
const memory = (code: number, sig: string, bytes: number) => ({ code, sig, imm: "memarg", feature: "mvp", bytes }) as const;
const saturating = (code: number, sig: string) => ({ prefix: 0xfc, code, sig, imm: "none", feature: "saturating-truncation" }) as const;
const bulkMemory = <I extends "memory" | "memory-pair">(code: number, sig: string, imm: I) =>
  ({ prefix: 0xfc, code, sig, imm, feature: "bulk-memory" }) as const;
const simd = (code: number, sig: string) => ({ prefix: 0xfd, code, sig, imm: "none", feature: "simd" }) as const;
const simdMemory = (code: number, sig: string, bytes: number) => ({ prefix: 0xfd, code, sig, imm: "memarg", feature: "simd", bytes }) as const;
const simdLane = (code: number, sig: string, lanes: number) => ({ prefix: 0xfd, code, sig, imm: "lane", feature: "simd", lanes }) as const;
const simdMemoryLane = (code: number, sig: string, bytes: number) =>
  ({ prefix: 0xfd, code, sig, imm: "memarg-lane", feature: "simd", bytes, lanes: 16 / bytes }) as const;
const relaxed = (code: number, sig: string) => ({ prefix: 0xfd, code, sig, imm: "none", feature: "relaxed-simd" }) as const;
const atomic = (code: number, sig: string, bytes: number) => ({ prefix: 0xfe, code, sig, imm: "memarg", feature: "threads", bytes }) as const;

export const OPCODES = {
  // ---- memory (MVP) ----
  "i32.load": memory(0x28, "i:i", 4),
  "i64.load": memory(0x29, "i:l", 8),
  "f32.load": memory(0x2a, "i:f", 4),
  "f64.load": memory(0x2b, "i:d", 8),
  "i32.load8_s": memory(0x2c, "i:i", 1),
  "i32.load8_u": memory(0x2d, "i:i", 1),
  "i32.load16_s": memory(0x2e, "i:i", 2),
  "i32.load16_u": memory(0x2f, "i:i", 2),
  "i64.load8_s": memory(0x30, "i:l", 1),
  "i64.load8_u": memory(0x31, "i:l", 1),
  "i64.load16_s": memory(0x32, "i:l", 2),
  "i64.load16_u": memory(0x33, "i:l", 2),
  "i64.load32_s": memory(0x34, "i:l", 4),
  "i64.load32_u": memory(0x35, "i:l", 4),
  "i32.store": memory(0x36, "ii:", 4),
  "i64.store": memory(0x37, "il:", 8),
  "f32.store": memory(0x38, "if:", 4),
  "f64.store": memory(0x39, "id:", 8),
  "i32.store8": memory(0x3a, "ii:", 1),
  "i32.store16": memory(0x3b, "ii:", 2),
  "i64.store8": memory(0x3c, "il:", 1),
  "i64.store16": memory(0x3d, "il:", 2),
  "i64.store32": memory(0x3e, "il:", 4),
  "memory.size": { code: 0x3f, sig: ":i", imm: "memory", feature: "mvp" },
  "memory.grow": { code: 0x40, sig: "i:i", imm: "memory", feature: "mvp" },

  // ---- i32 / i64 comparisons ----
  "i32.eqz": plain(0x45, "i:i"),
  "i32.eq": plain(0x46, "ii:i"),
  "i32.ne": plain(0x47, "ii:i"),
  "i32.lt_s": plain(0x48, "ii:i"),
  "i32.lt_u": plain(0x49, "ii:i"),
  "i32.gt_s": plain(0x4a, "ii:i"),
  "i32.gt_u": plain(0x4b, "ii:i"),
  "i32.le_s": plain(0x4c, "ii:i"),
  "i32.le_u": plain(0x4d, "ii:i"),
  "i32.ge_s": plain(0x4e, "ii:i"),
  "i32.ge_u": plain(0x4f, "ii:i"),
  "i64.eqz": plain(0x50, "l:i"),
  "i64.eq": plain(0x51, "ll:i"),
  "i64.ne": plain(0x52, "ll:i"),
  "i64.lt_s": plain(0x53, "ll:i"),
  "i64.lt_u": plain(0x54, "ll:i"),
  "i64.gt_s": plain(0x55, "ll:i"),
  "i64.gt_u": plain(0x56, "ll:i"),
  "i64.le_s": plain(0x57, "ll:i"),
  "i64.le_u": plain(0x58, "ll:i"),
  "i64.ge_s": plain(0x59, "ll:i"),
  "i64.ge_u": plain(0x5a, "ll:i"),

  // ---- f32 / f64 comparisons ----
  "f32.eq": plain(0x5b, "ff:i"),
  "f32.ne": plain(0x5c, "ff:i"),
  "f32.lt": plain(0x5d, "ff:i"),
  "f32.gt": plain(0x5e, "ff:i"),
  "f32.le": plain(0x5f, "ff:i"),
  "f32.ge": plain(0x60, "ff:i"),
  "f64.eq": plain(0x61, "dd:i"),
  "f64.ne": plain(0x62, "dd:i"),
  "f64.lt": plain(0x63, "dd:i"),
  "f64.gt": plain(0x64, "dd:i"),
  "f64.le": plain(0x65, "dd:i"),
  "f64.ge": plain(0x66, "dd:i"),

  // ---- i32 arithmetic ----
  "i32.clz": plain(0x67, "i:i"),
  "i32.ctz": plain(0x68, "i:i"),
  "i32.popcnt": plain(0x69, "i:i"),
  "i32.add": plain(0x6a, "ii:i"),
  "i32.sub": plain(0x6b, "ii:i"),
  "i32.mul": plain(0x6c, "ii:i"),
  "i32.div_s": plain(0x6d, "ii:i"),
  "i32.div_u": plain(0x6e, "ii:i"),
  "i32.rem_s": plain(0x6f, "ii:i"),
  "i32.rem_u": plain(0x70, "ii:i"),
  "i32.and": plain(0x71, "ii:i"),
  "i32.or": plain(0x72, "ii:i"),
  "i32.xor": plain(0x73, "ii:i"),
  "i32.shl": plain(0x74, "ii:i"),
  "i32.shr_s": plain(0x75, "ii:i"),
  "i32.shr_u": plain(0x76, "ii:i"),
  "i32.rotl": plain(0x77, "ii:i"),
  "i32.rotr": plain(0x78, "ii:i"),

  // ---- i64 arithmetic ----
  "i64.clz": plain(0x79, "l:l"),
  "i64.ctz": plain(0x7a, "l:l"),
  "i64.popcnt": plain(0x7b, "l:l"),
  "i64.add": plain(0x7c, "ll:l"),
  "i64.sub": plain(0x7d, "ll:l"),
  "i64.mul": plain(0x7e, "ll:l"),
  "i64.div_s": plain(0x7f, "ll:l"),
  "i64.div_u": plain(0x80, "ll:l"),
  "i64.rem_s": plain(0x81, "ll:l"),
  "i64.rem_u": plain(0x82, "ll:l"),
  "i64.and": plain(0x83, "ll:l"),
  "i64.or": plain(0x84, "ll:l"),
  "i64.xor": plain(0x85, "ll:l"),
  "i64.shl": plain(0x86, "ll:l"),
  "i64.shr_s": plain(0x87, "ll:l"),
  "i64.shr_u": plain(0x88, "ll:l"),
  "i64.rotl": plain(0x89, "ll:l"),
  "i64.rotr": plain(0x8a, "ll:l"),

  // ---- f32 arithmetic ----
  "f32.abs": plain(0x8b, "f:f"),
  "f32.neg": plain(0x8c, "f:f"),
  "f32.ceil": plain(0x8d, "f:f"),
  "f32.floor": plain(0x8e, "f:f"),
  "f32.trunc": plain(0x8f, "f:f"),
  "f32.nearest": plain(0x90, "f:f"),
  "f32.sqrt": plain(0x91, "f:f"),
  "f32.add": plain(0x92, "ff:f"),
  "f32.sub": plain(0x93, "ff:f"),
  "f32.mul": plain(0x94, "ff:f"),
  "f32.div": plain(0x95, "ff:f"),
  "f32.min": plain(0x96, "ff:f"),
  "f32.max": plain(0x97, "ff:f"),
  "f32.copysign": plain(0x98, "ff:f"),

  // ---- f64 arithmetic ----
  "f64.abs": plain(0x99, "d:d"),
  "f64.neg": plain(0x9a, "d:d"),
  "f64.ceil": plain(0x9b, "d:d"),
  "f64.floor": plain(0x9c, "d:d"),
  "f64.trunc": plain(0x9d, "d:d"),
  "f64.nearest": plain(0x9e, "d:d"),
  "f64.sqrt": plain(0x9f, "d:d"),
  "f64.add": plain(0xa0, "dd:d"),
  "f64.sub": plain(0xa1, "dd:d"),
  "f64.mul": plain(0xa2, "dd:d"),
  "f64.div": plain(0xa3, "dd:d"),
  "f64.min": plain(0xa4, "dd:d"),
  "f64.max": plain(0xa5, "dd:d"),
  "f64.copysign": plain(0xa6, "dd:d"),

  // ---- conversions ----
  "i32.wrap_i64": plain(0xa7, "l:i"),
  "i32.trunc_f32_s": plain(0xa8, "f:i"),
  "i32.trunc_f32_u": plain(0xa9, "f:i"),
  "i32.trunc_f64_s": plain(0xaa, "d:i"),
  "i32.trunc_f64_u": plain(0xab, "d:i"),
  "i64.extend_i32_s": plain(0xac, "i:l"),
  "i64.extend_i32_u": plain(0xad, "i:l"),
  "i64.trunc_f32_s": plain(0xae, "f:l"),
  "i64.trunc_f32_u": plain(0xaf, "f:l"),
  "i64.trunc_f64_s": plain(0xb0, "d:l"),
  "i64.trunc_f64_u": plain(0xb1, "d:l"),
  "f32.convert_i32_s": plain(0xb2, "i:f"),
  "f32.convert_i32_u": plain(0xb3, "i:f"),
  "f32.convert_i64_s": plain(0xb4, "l:f"),
  "f32.convert_i64_u": plain(0xb5, "l:f"),
  "f32.demote_f64": plain(0xb6, "d:f"),
  "f64.convert_i32_s": plain(0xb7, "i:d"),
  "f64.convert_i32_u": plain(0xb8, "i:d"),
  "f64.convert_i64_s": plain(0xb9, "l:d"),
  "f64.convert_i64_u": plain(0xba, "l:d"),
  "f64.promote_f32": plain(0xbb, "f:d"),
  "i32.reinterpret_f32": plain(0xbc, "f:i"),
  "i64.reinterpret_f64": plain(0xbd, "d:l"),
  "f32.reinterpret_i32": plain(0xbe, "i:f"),
  "f64.reinterpret_i64": plain(0xbf, "l:d"),

  // ---- sign extension ----
  "i32.extend8_s": plain(0xc0, "i:i", "sign-extension"),
  "i32.extend16_s": plain(0xc1, "i:i", "sign-extension"),
  "i64.extend8_s": plain(0xc2, "l:l", "sign-extension"),
  "i64.extend16_s": plain(0xc3, "l:l", "sign-extension"),
  "i64.extend32_s": plain(0xc4, "l:l", "sign-extension"),

  // ---- saturating truncation (0xfc prefix) ----
  "i32.trunc_sat_f32_s": saturating(0x00, "f:i"),
  "i32.trunc_sat_f32_u": saturating(0x01, "f:i"),
  "i32.trunc_sat_f64_s": saturating(0x02, "d:i"),
  "i32.trunc_sat_f64_u": saturating(0x03, "d:i"),
  "i64.trunc_sat_f32_s": saturating(0x04, "f:l"),
  "i64.trunc_sat_f32_u": saturating(0x05, "f:l"),
  "i64.trunc_sat_f64_s": saturating(0x06, "d:l"),
  "i64.trunc_sat_f64_u": saturating(0x07, "d:l"),

  // ---- bulk memory (0xfc prefix): destination, source/value, length ----
  "memory.copy": bulkMemory(0x0a, "iii:", "memory-pair"),
  "memory.fill": bulkMemory(0x0b, "iii:", "memory"),

  // ---- SIMD: memory ----
  "v128.load": simdMemory(0x00, "i:v", 16),
  "v128.load8x8_s": simdMemory(0x01, "i:v", 8),
  "v128.load8x8_u": simdMemory(0x02, "i:v", 8),
  "v128.load16x4_s": simdMemory(0x03, "i:v", 8),
  "v128.load16x4_u": simdMemory(0x04, "i:v", 8),
  "v128.load32x2_s": simdMemory(0x05, "i:v", 8),
  "v128.load32x2_u": simdMemory(0x06, "i:v", 8),
  "v128.load8_splat": simdMemory(0x07, "i:v", 1),
  "v128.load16_splat": simdMemory(0x08, "i:v", 2),
  "v128.load32_splat": simdMemory(0x09, "i:v", 4),
  "v128.load64_splat": simdMemory(0x0a, "i:v", 8),
  "v128.store": simdMemory(0x0b, "iv:", 16),
  "v128.load32_zero": simdMemory(0x5c, "i:v", 4),
  "v128.load64_zero": simdMemory(0x5d, "i:v", 8),
  "v128.load8_lane": simdMemoryLane(0x54, "iv:v", 1),
  "v128.load16_lane": simdMemoryLane(0x55, "iv:v", 2),
  "v128.load32_lane": simdMemoryLane(0x56, "iv:v", 4),
  "v128.load64_lane": simdMemoryLane(0x57, "iv:v", 8),
  "v128.store8_lane": simdMemoryLane(0x58, "iv:", 1),
  "v128.store16_lane": simdMemoryLane(0x59, "iv:", 2),
  "v128.store32_lane": simdMemoryLane(0x5a, "iv:", 4),
  "v128.store64_lane": simdMemoryLane(0x5b, "iv:", 8),

  // ---- SIMD: shuffles, splats, lanes ----
  "i8x16.shuffle": { prefix: 0xfd, code: 0x0d, sig: "vv:v", imm: "shuffle", feature: "simd" },
  "i8x16.swizzle": simd(0x0e, "vv:v"),
  "i8x16.splat": simd(0x0f, "i:v"),
  "i16x8.splat": simd(0x10, "i:v"),
  "i32x4.splat": simd(0x11, "i:v"),
  "i64x2.splat": simd(0x12, "l:v"),
  "f32x4.splat": simd(0x13, "f:v"),
  "f64x2.splat": simd(0x14, "d:v"),
  "i8x16.extract_lane_s": simdLane(0x15, "v:i", 16),
  "i8x16.extract_lane_u": simdLane(0x16, "v:i", 16),
  "i8x16.replace_lane": simdLane(0x17, "vi:v", 16),
  "i16x8.extract_lane_s": simdLane(0x18, "v:i", 8),
  "i16x8.extract_lane_u": simdLane(0x19, "v:i", 8),
  "i16x8.replace_lane": simdLane(0x1a, "vi:v", 8),
  "i32x4.extract_lane": simdLane(0x1b, "v:i", 4),
  "i32x4.replace_lane": simdLane(0x1c, "vi:v", 4),
  "i64x2.extract_lane": simdLane(0x1d, "v:l", 2),
  "i64x2.replace_lane": simdLane(0x1e, "vl:v", 2),
  "f32x4.extract_lane": simdLane(0x1f, "v:f", 4),
  "f32x4.replace_lane": simdLane(0x20, "vf:v", 4),
  "f64x2.extract_lane": simdLane(0x21, "v:d", 2),
  "f64x2.replace_lane": simdLane(0x22, "vd:v", 2),

  // ---- SIMD: comparisons (lanes of all ones / all zeros) ----
  "i8x16.eq": simd(0x23, "vv:v"),
  "i8x16.ne": simd(0x24, "vv:v"),
  "i8x16.lt_s": simd(0x25, "vv:v"),
  "i8x16.lt_u": simd(0x26, "vv:v"),
  "i8x16.gt_s": simd(0x27, "vv:v"),
  "i8x16.gt_u": simd(0x28, "vv:v"),
  "i8x16.le_s": simd(0x29, "vv:v"),
  "i8x16.le_u": simd(0x2a, "vv:v"),
  "i8x16.ge_s": simd(0x2b, "vv:v"),
  "i8x16.ge_u": simd(0x2c, "vv:v"),
  "i16x8.eq": simd(0x2d, "vv:v"),
  "i16x8.ne": simd(0x2e, "vv:v"),
  "i16x8.lt_s": simd(0x2f, "vv:v"),
  "i16x8.lt_u": simd(0x30, "vv:v"),
  "i16x8.gt_s": simd(0x31, "vv:v"),
  "i16x8.gt_u": simd(0x32, "vv:v"),
  "i16x8.le_s": simd(0x33, "vv:v"),
  "i16x8.le_u": simd(0x34, "vv:v"),
  "i16x8.ge_s": simd(0x35, "vv:v"),
  "i16x8.ge_u": simd(0x36, "vv:v"),
  "i32x4.eq": simd(0x37, "vv:v"),
  "i32x4.ne": simd(0x38, "vv:v"),
  "i32x4.lt_s": simd(0x39, "vv:v"),
  "i32x4.lt_u": simd(0x3a, "vv:v"),
  "i32x4.gt_s": simd(0x3b, "vv:v"),
  "i32x4.gt_u": simd(0x3c, "vv:v"),
  "i32x4.le_s": simd(0x3d, "vv:v"),
  "i32x4.le_u": simd(0x3e, "vv:v"),
  "i32x4.ge_s": simd(0x3f, "vv:v"),
  "i32x4.ge_u": simd(0x40, "vv:v"),
  "f32x4.eq": simd(0x41, "vv:v"),
  "f32x4.ne": simd(0x42, "vv:v"),
  "f32x4.lt": simd(0x43, "vv:v"),
  "f32x4.gt": simd(0x44, "vv:v"),
  "f32x4.le": simd(0x45, "vv:v"),
  "f32x4.ge": simd(0x46, "vv:v"),
  "f64x2.eq": simd(0x47, "vv:v"),
  "f64x2.ne": simd(0x48, "vv:v"),
  "f64x2.lt": simd(0x49, "vv:v"),
  "f64x2.gt": simd(0x4a, "vv:v"),
  "f64x2.le": simd(0x4b, "vv:v"),
  "f64x2.ge": simd(0x4c, "vv:v"),
  "i64x2.eq": simd(0xd6, "vv:v"),
  "i64x2.ne": simd(0xd7, "vv:v"),
  "i64x2.lt_s": simd(0xd8, "vv:v"),
  "i64x2.gt_s": simd(0xd9, "vv:v"),
  "i64x2.le_s": simd(0xda, "vv:v"),
  "i64x2.ge_s": simd(0xdb, "vv:v"),

  // ---- SIMD: bitwise ----
  "v128.not": simd(0x4d, "v:v"),
  "v128.and": simd(0x4e, "vv:v"),
  "v128.andnot": simd(0x4f, "vv:v"),
  "v128.or": simd(0x50, "vv:v"),
  "v128.xor": simd(0x51, "vv:v"),
  "v128.bitselect": simd(0x52, "vvv:v"),
  "v128.any_true": simd(0x53, "v:i"),

  // ---- SIMD: i8x16 ----
  "i8x16.abs": simd(0x60, "v:v"),
  "i8x16.neg": simd(0x61, "v:v"),
  "i8x16.popcnt": simd(0x62, "v:v"),
  "i8x16.all_true": simd(0x63, "v:i"),
  "i8x16.bitmask": simd(0x64, "v:i"),
  "i8x16.narrow_i16x8_s": simd(0x65, "vv:v"),
  "i8x16.narrow_i16x8_u": simd(0x66, "vv:v"),
  "i8x16.shl": simd(0x6b, "vi:v"),
  "i8x16.shr_s": simd(0x6c, "vi:v"),
  "i8x16.shr_u": simd(0x6d, "vi:v"),
  "i8x16.add": simd(0x6e, "vv:v"),
  "i8x16.add_sat_s": simd(0x6f, "vv:v"),
  "i8x16.add_sat_u": simd(0x70, "vv:v"),
  "i8x16.sub": simd(0x71, "vv:v"),
  "i8x16.sub_sat_s": simd(0x72, "vv:v"),
  "i8x16.sub_sat_u": simd(0x73, "vv:v"),
  "i8x16.min_s": simd(0x76, "vv:v"),
  "i8x16.min_u": simd(0x77, "vv:v"),
  "i8x16.max_s": simd(0x78, "vv:v"),
  "i8x16.max_u": simd(0x79, "vv:v"),
  "i8x16.avgr_u": simd(0x7b, "vv:v"),

  // ---- SIMD: i16x8 ----
  "i16x8.extadd_pairwise_i8x16_s": simd(0x7c, "v:v"),
  "i16x8.extadd_pairwise_i8x16_u": simd(0x7d, "v:v"),
  "i16x8.abs": simd(0x80, "v:v"),
  "i16x8.neg": simd(0x81, "v:v"),
  "i16x8.q15mulr_sat_s": simd(0x82, "vv:v"),
  "i16x8.all_true": simd(0x83, "v:i"),
  "i16x8.bitmask": simd(0x84, "v:i"),
  "i16x8.narrow_i32x4_s": simd(0x85, "vv:v"),
  "i16x8.narrow_i32x4_u": simd(0x86, "vv:v"),
  "i16x8.extend_low_i8x16_s": simd(0x87, "v:v"),
  "i16x8.extend_high_i8x16_s": simd(0x88, "v:v"),
  "i16x8.extend_low_i8x16_u": simd(0x89, "v:v"),
  "i16x8.extend_high_i8x16_u": simd(0x8a, "v:v"),
  "i16x8.shl": simd(0x8b, "vi:v"),
  "i16x8.shr_s": simd(0x8c, "vi:v"),
  "i16x8.shr_u": simd(0x8d, "vi:v"),
  "i16x8.add": simd(0x8e, "vv:v"),
  "i16x8.add_sat_s": simd(0x8f, "vv:v"),
  "i16x8.add_sat_u": simd(0x90, "vv:v"),
  "i16x8.sub": simd(0x91, "vv:v"),
  "i16x8.sub_sat_s": simd(0x92, "vv:v"),
  "i16x8.sub_sat_u": simd(0x93, "vv:v"),
  "i16x8.mul": simd(0x95, "vv:v"),
  "i16x8.min_s": simd(0x96, "vv:v"),
  "i16x8.min_u": simd(0x97, "vv:v"),
  "i16x8.max_s": simd(0x98, "vv:v"),
  "i16x8.max_u": simd(0x99, "vv:v"),
  "i16x8.avgr_u": simd(0x9b, "vv:v"),
  "i16x8.extmul_low_i8x16_s": simd(0x9c, "vv:v"),
  "i16x8.extmul_high_i8x16_s": simd(0x9d, "vv:v"),
  "i16x8.extmul_low_i8x16_u": simd(0x9e, "vv:v"),
  "i16x8.extmul_high_i8x16_u": simd(0x9f, "vv:v"),

  // ---- SIMD: i32x4 ----
  "i32x4.extadd_pairwise_i16x8_s": simd(0x7e, "v:v"),
  "i32x4.extadd_pairwise_i16x8_u": simd(0x7f, "v:v"),
  "i32x4.abs": simd(0xa0, "v:v"),
  "i32x4.neg": simd(0xa1, "v:v"),
  "i32x4.all_true": simd(0xa3, "v:i"),
  "i32x4.bitmask": simd(0xa4, "v:i"),
  "i32x4.extend_low_i16x8_s": simd(0xa7, "v:v"),
  "i32x4.extend_high_i16x8_s": simd(0xa8, "v:v"),
  "i32x4.extend_low_i16x8_u": simd(0xa9, "v:v"),
  "i32x4.extend_high_i16x8_u": simd(0xaa, "v:v"),
  "i32x4.shl": simd(0xab, "vi:v"),
  "i32x4.shr_s": simd(0xac, "vi:v"),
  "i32x4.shr_u": simd(0xad, "vi:v"),
  "i32x4.add": simd(0xae, "vv:v"),
  "i32x4.sub": simd(0xb1, "vv:v"),
  "i32x4.mul": simd(0xb5, "vv:v"),
  "i32x4.min_s": simd(0xb6, "vv:v"),
  "i32x4.min_u": simd(0xb7, "vv:v"),
  "i32x4.max_s": simd(0xb8, "vv:v"),
  "i32x4.max_u": simd(0xb9, "vv:v"),
  "i32x4.dot_i16x8_s": simd(0xba, "vv:v"),
  "i32x4.extmul_low_i16x8_s": simd(0xbc, "vv:v"),
  "i32x4.extmul_high_i16x8_s": simd(0xbd, "vv:v"),
  "i32x4.extmul_low_i16x8_u": simd(0xbe, "vv:v"),
  "i32x4.extmul_high_i16x8_u": simd(0xbf, "vv:v"),

  // ---- SIMD: i64x2 ----
  "i64x2.abs": simd(0xc0, "v:v"),
  "i64x2.neg": simd(0xc1, "v:v"),
  "i64x2.all_true": simd(0xc3, "v:i"),
  "i64x2.bitmask": simd(0xc4, "v:i"),
  "i64x2.extend_low_i32x4_s": simd(0xc7, "v:v"),
  "i64x2.extend_high_i32x4_s": simd(0xc8, "v:v"),
  "i64x2.extend_low_i32x4_u": simd(0xc9, "v:v"),
  "i64x2.extend_high_i32x4_u": simd(0xca, "v:v"),
  "i64x2.shl": simd(0xcb, "vi:v"),
  "i64x2.shr_s": simd(0xcc, "vi:v"),
  "i64x2.shr_u": simd(0xcd, "vi:v"),
  "i64x2.add": simd(0xce, "vv:v"),
  "i64x2.sub": simd(0xd1, "vv:v"),
  "i64x2.mul": simd(0xd5, "vv:v"),
  "i64x2.extmul_low_i32x4_s": simd(0xdc, "vv:v"),
  "i64x2.extmul_high_i32x4_s": simd(0xdd, "vv:v"),
  "i64x2.extmul_low_i32x4_u": simd(0xde, "vv:v"),
  "i64x2.extmul_high_i32x4_u": simd(0xdf, "vv:v"),

  // ---- SIMD: f32x4 ----
  "f32x4.ceil": simd(0x67, "v:v"),
  "f32x4.floor": simd(0x68, "v:v"),
  "f32x4.trunc": simd(0x69, "v:v"),
  "f32x4.nearest": simd(0x6a, "v:v"),
  "f32x4.abs": simd(0xe0, "v:v"),
  "f32x4.neg": simd(0xe1, "v:v"),
  "f32x4.sqrt": simd(0xe3, "v:v"),
  "f32x4.add": simd(0xe4, "vv:v"),
  "f32x4.sub": simd(0xe5, "vv:v"),
  "f32x4.mul": simd(0xe6, "vv:v"),
  "f32x4.div": simd(0xe7, "vv:v"),
  "f32x4.min": simd(0xe8, "vv:v"),
  "f32x4.max": simd(0xe9, "vv:v"),
  "f32x4.pmin": simd(0xea, "vv:v"),
  "f32x4.pmax": simd(0xeb, "vv:v"),

  // ---- SIMD: f64x2 ----
  "f64x2.ceil": simd(0x74, "v:v"),
  "f64x2.floor": simd(0x75, "v:v"),
  "f64x2.trunc": simd(0x7a, "v:v"),
  "f64x2.nearest": simd(0x94, "v:v"),
  "f64x2.abs": simd(0xec, "v:v"),
  "f64x2.neg": simd(0xed, "v:v"),
  "f64x2.sqrt": simd(0xef, "v:v"),
  "f64x2.add": simd(0xf0, "vv:v"),
  "f64x2.sub": simd(0xf1, "vv:v"),
  "f64x2.mul": simd(0xf2, "vv:v"),
  "f64x2.div": simd(0xf3, "vv:v"),
  "f64x2.min": simd(0xf4, "vv:v"),
  "f64x2.max": simd(0xf5, "vv:v"),
  "f64x2.pmin": simd(0xf6, "vv:v"),
  "f64x2.pmax": simd(0xf7, "vv:v"),

  // ---- SIMD: conversions ----
  "f32x4.demote_f64x2_zero": simd(0x5e, "v:v"),
  "f64x2.promote_low_f32x4": simd(0x5f, "v:v"),
  "i32x4.trunc_sat_f32x4_s": simd(0xf8, "v:v"),
  "i32x4.trunc_sat_f32x4_u": simd(0xf9, "v:v"),
  "f32x4.convert_i32x4_s": simd(0xfa, "v:v"),
  "f32x4.convert_i32x4_u": simd(0xfb, "v:v"),
  "i32x4.trunc_sat_f64x2_s_zero": simd(0xfc, "v:v"),
  "i32x4.trunc_sat_f64x2_u_zero": simd(0xfd, "v:v"),
  "f64x2.convert_low_i32x4_s": simd(0xfe, "v:v"),
  "f64x2.convert_low_i32x4_u": simd(0xff, "v:v"),

  // ---- relaxed SIMD (results may differ between machines; opt-in, check relaxedSimdSupported()) ----
  "i8x16.relaxed_swizzle": relaxed(0x100, "vv:v"),
  "i32x4.relaxed_trunc_f32x4_s": relaxed(0x101, "v:v"),
  "i32x4.relaxed_trunc_f32x4_u": relaxed(0x102, "v:v"),
  "i32x4.relaxed_trunc_f64x2_s_zero": relaxed(0x103, "v:v"),
  "i32x4.relaxed_trunc_f64x2_u_zero": relaxed(0x104, "v:v"),
  "f32x4.relaxed_madd": relaxed(0x105, "vvv:v"),
  "f32x4.relaxed_nmadd": relaxed(0x106, "vvv:v"),
  "f64x2.relaxed_madd": relaxed(0x107, "vvv:v"),
  "f64x2.relaxed_nmadd": relaxed(0x108, "vvv:v"),
  "i8x16.relaxed_laneselect": relaxed(0x109, "vvv:v"),
  "i16x8.relaxed_laneselect": relaxed(0x10a, "vvv:v"),
  "i32x4.relaxed_laneselect": relaxed(0x10b, "vvv:v"),
  "i64x2.relaxed_laneselect": relaxed(0x10c, "vvv:v"),
  "f32x4.relaxed_min": relaxed(0x10d, "vv:v"),
  "f32x4.relaxed_max": relaxed(0x10e, "vv:v"),
  "f64x2.relaxed_min": relaxed(0x10f, "vv:v"),
  "f64x2.relaxed_max": relaxed(0x110, "vv:v"),
  "i16x8.relaxed_q15mulr_s": relaxed(0x111, "vv:v"),
  "i16x8.relaxed_dot_i8x16_i7x16_s": relaxed(0x112, "vv:v"),
  "i32x4.relaxed_dot_i8x16_i7x16_add_s": relaxed(0x113, "vvv:v"),
} as const satisfies Record<string, OpInfo>;

/** The text-format name of a table instruction, e.g. `"f32x4.mul"`. */
export type OpName = keyof typeof OPCODES;

/**
 * The threads proposal's instructions (0xfe prefix) that a barrier and a job protocol between threads need, on
 * a shared memory. A table of their own beside OPCODES, with the same rows and methods (`i32AtomicRmwAdd()`),
 * so that the every-instruction checks against tools that read no atomics stay as they are. Unlike plain
 * accesses, an atomic access must name its natural alignment (FunctionBuilder rejects any other) and traps
 * at run time on a misaligned address; the wait traps on a memory that is not shared, and on a browser's
 * main thread.
 */
export const ATOMIC_OPCODES = {
  /** [address, count] → woken: wakes up to count (all for −1) waiters on the address. */
  "memory.atomic.notify": atomic(0x00, "ii:i", 4),
  /** [address, expected, timeout ns (−1: none)] → 0 woken, 1 not equal, 2 timed out. */
  "memory.atomic.wait32": atomic(0x01, "iil:i", 4),
  "atomic.fence": { prefix: 0xfe, code: 0x03, sig: ":", imm: "fence", feature: "threads" },
  "i32.atomic.load": atomic(0x10, "i:i", 4),
  "i32.atomic.store": atomic(0x17, "ii:", 4),
  /** [address, value] → the value before the addition. */
  "i32.atomic.rmw.add": atomic(0x1e, "ii:i", 4),
  /** [address, expected, replacement] → the value read (replaced only when it equals expected). */
  "i32.atomic.rmw.cmpxchg": atomic(0x48, "iii:i", 4),
} as const satisfies Record<string, OpInfo>;

/** The text-format name of an atomic instruction, e.g. `"i32.atomic.rmw.add"`. */
export type AtomicOpName = keyof typeof ATOMIC_OPCODES;

/** Single-byte control and variable opcodes, written by FunctionBuilder's hand-written methods. */
export const CONTROL = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i64Const: 0x42,
  f32Const: 0x43,
  f64Const: 0x44,
} as const;

/** 0xfd sub-opcode of v128.const. */
export const V128_CONST = 0x0c;

/** The camelCase method name FunctionBuilder uses for a table instruction: `"i32.trunc_sat_f32_s"` → `i32TruncSatF32S`. */
export function methodName(op: string): string {
  return op
    .split(/[._]/)
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join("");
}

/** `methodName` at the type level: each part after a `sep` capitalised, the separators dropped. */
type JoinCapitalised<S extends string, Sep extends string> = S extends `${infer Head}${Sep}${infer Tail}`
  ? `${Head}${Capitalize<JoinCapitalised<Tail, Sep>>}`
  : S;
export type MethodName<Op extends string> = JoinCapitalised<JoinCapitalised<Op, ".">, "_">;

/** The arguments a method takes for each kind of immediate (memory indices are always 0, so none). */
interface ImmediateArgsByKind {
  none: [];
  memarg: [memarg?: MemArg];
  "memarg-lane": [lane: number, memarg?: MemArg];
  lane: [lane: number];
  shuffle: [lanes: readonly number[]];
  memory: [];
  "memory-pair": [];
  fence: [];
}

/** The immediate arguments of a table instruction (of each, for a union of names). */
export type ImmediateArgs<Op extends OpName> = ImmediateArgsByKind[(typeof OPCODES)[Op]["imm"]];

/**
 * FunctionBuilder's instruction methods, one per table row, returning the builder `Self` for
 * chaining: `f32x4Add(): Self`, `f32Load(memarg?: MemArg): Self`, `f32x4ExtractLane(lane: number): Self`.
 * A misspelt method or a missing or extra immediate is a compile error.
 */
export type InstructionMethods<Self> = {
  [Op in OpName as MethodName<Op>]: (...imm: ImmediateArgs<Op>) => Self;
};

/** FunctionBuilder's methods for the atomic instructions, as InstructionMethods for the main table. */
export type AtomicInstructionMethods<Self> = {
  [Op in AtomicOpName as MethodName<Op>]: (...imm: ImmediateArgsByKind[(typeof ATOMIC_OPCODES)[Op]["imm"]]) => Self;
};

/** Whether `name` is an instruction of the table (for names built at run time, e.g. `${shape}.add`). */
export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPCODES, name);
}

/** The row of an instruction of either table, or undefined. */
export function instructionInfo(name: string): OpInfo | undefined {
  if (Object.hasOwn(OPCODES, name)) return OPCODES[name as OpName];
  if (Object.hasOwn(ATOMIC_OPCODES, name)) return ATOMIC_OPCODES[name as AtomicOpName];
  return undefined;
}

/** `name` as an OpName, or an Error naming it. */
export function opName(name: string): OpName {
  if (!isOpName(name)) throw new Error(`no instruction "${name}" in the opcode table`);
  return name;
}
