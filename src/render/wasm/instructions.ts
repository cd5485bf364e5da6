/**
 * One method per instruction of the opcode table (src/render/wasm/opcodes.ts), named by camelCasing
 * the text-format name. Generated once from the table; when adding an instruction to the table, add
 * its method here too (test/wasm-encoder.test.ts checks that every table entry has its method).
 * Each doc comment gives the text-format name and the stack signature.
 */
import type { OpName } from "./opcodes.ts";
import type { MemArg } from "./types.ts";

export abstract class InstructionMethods {
  /** Writes an instruction without immediates (or with fixed memory-index immediates). */
  protected abstract plain(op: OpName): this;
  /** Writes a memory instruction with its memarg. */
  protected abstract memoryAccess(op: OpName, memarg: MemArg | undefined): this;
  /** Writes a lane instruction with its lane index. */
  protected abstract laneAccess(op: OpName, lane: number): this;
  /** Writes a lane load/store with its memarg and lane index. */
  protected abstract memoryLaneAccess(op: OpName, memarg: MemArg | undefined, lane: number): this;
  /** Writes i8x16.shuffle with its 16 lane indices. */
  protected abstract shuffleLanes(op: OpName, lanes: readonly number[]): this;

  /** `i32.load`: i32 → i32. */
  i32Load(memarg?: MemArg): this {
    return this.memoryAccess("i32.load", memarg);
  }
  /** `i64.load`: i32 → i64. */
  i64Load(memarg?: MemArg): this {
    return this.memoryAccess("i64.load", memarg);
  }
  /** `f32.load`: i32 → f32. */
  f32Load(memarg?: MemArg): this {
    return this.memoryAccess("f32.load", memarg);
  }
  /** `f64.load`: i32 → f64. */
  f64Load(memarg?: MemArg): this {
    return this.memoryAccess("f64.load", memarg);
  }
  /** `i32.load8_s`: i32 → i32. */
  i32Load8S(memarg?: MemArg): this {
    return this.memoryAccess("i32.load8_s", memarg);
  }
  /** `i32.load8_u`: i32 → i32. */
  i32Load8U(memarg?: MemArg): this {
    return this.memoryAccess("i32.load8_u", memarg);
  }
  /** `i32.load16_s`: i32 → i32. */
  i32Load16S(memarg?: MemArg): this {
    return this.memoryAccess("i32.load16_s", memarg);
  }
  /** `i32.load16_u`: i32 → i32. */
  i32Load16U(memarg?: MemArg): this {
    return this.memoryAccess("i32.load16_u", memarg);
  }
  /** `i64.load8_s`: i32 → i64. */
  i64Load8S(memarg?: MemArg): this {
    return this.memoryAccess("i64.load8_s", memarg);
  }
  /** `i64.load8_u`: i32 → i64. */
  i64Load8U(memarg?: MemArg): this {
    return this.memoryAccess("i64.load8_u", memarg);
  }
  /** `i64.load16_s`: i32 → i64. */
  i64Load16S(memarg?: MemArg): this {
    return this.memoryAccess("i64.load16_s", memarg);
  }
  /** `i64.load16_u`: i32 → i64. */
  i64Load16U(memarg?: MemArg): this {
    return this.memoryAccess("i64.load16_u", memarg);
  }
  /** `i64.load32_s`: i32 → i64. */
  i64Load32S(memarg?: MemArg): this {
    return this.memoryAccess("i64.load32_s", memarg);
  }
  /** `i64.load32_u`: i32 → i64. */
  i64Load32U(memarg?: MemArg): this {
    return this.memoryAccess("i64.load32_u", memarg);
  }
  /** `i32.store`: i32 i32 → nothing. */
  i32Store(memarg?: MemArg): this {
    return this.memoryAccess("i32.store", memarg);
  }
  /** `i64.store`: i32 i64 → nothing. */
  i64Store(memarg?: MemArg): this {
    return this.memoryAccess("i64.store", memarg);
  }
  /** `f32.store`: i32 f32 → nothing. */
  f32Store(memarg?: MemArg): this {
    return this.memoryAccess("f32.store", memarg);
  }
  /** `f64.store`: i32 f64 → nothing. */
  f64Store(memarg?: MemArg): this {
    return this.memoryAccess("f64.store", memarg);
  }
  /** `i32.store8`: i32 i32 → nothing. */
  i32Store8(memarg?: MemArg): this {
    return this.memoryAccess("i32.store8", memarg);
  }
  /** `i32.store16`: i32 i32 → nothing. */
  i32Store16(memarg?: MemArg): this {
    return this.memoryAccess("i32.store16", memarg);
  }
  /** `i64.store8`: i32 i64 → nothing. */
  i64Store8(memarg?: MemArg): this {
    return this.memoryAccess("i64.store8", memarg);
  }
  /** `i64.store16`: i32 i64 → nothing. */
  i64Store16(memarg?: MemArg): this {
    return this.memoryAccess("i64.store16", memarg);
  }
  /** `i64.store32`: i32 i64 → nothing. */
  i64Store32(memarg?: MemArg): this {
    return this.memoryAccess("i64.store32", memarg);
  }
  /** `memory.size`: nothing → i32. */
  memorySize(): this {
    return this.plain("memory.size");
  }
  /** `memory.grow`: i32 → i32. */
  memoryGrow(): this {
    return this.plain("memory.grow");
  }
  /** `i32.eqz`: i32 → i32. */
  i32Eqz(): this {
    return this.plain("i32.eqz");
  }
  /** `i32.eq`: i32 i32 → i32. */
  i32Eq(): this {
    return this.plain("i32.eq");
  }
  /** `i32.ne`: i32 i32 → i32. */
  i32Ne(): this {
    return this.plain("i32.ne");
  }
  /** `i32.lt_s`: i32 i32 → i32. */
  i32LtS(): this {
    return this.plain("i32.lt_s");
  }
  /** `i32.lt_u`: i32 i32 → i32. */
  i32LtU(): this {
    return this.plain("i32.lt_u");
  }
  /** `i32.gt_s`: i32 i32 → i32. */
  i32GtS(): this {
    return this.plain("i32.gt_s");
  }
  /** `i32.gt_u`: i32 i32 → i32. */
  i32GtU(): this {
    return this.plain("i32.gt_u");
  }
  /** `i32.le_s`: i32 i32 → i32. */
  i32LeS(): this {
    return this.plain("i32.le_s");
  }
  /** `i32.le_u`: i32 i32 → i32. */
  i32LeU(): this {
    return this.plain("i32.le_u");
  }
  /** `i32.ge_s`: i32 i32 → i32. */
  i32GeS(): this {
    return this.plain("i32.ge_s");
  }
  /** `i32.ge_u`: i32 i32 → i32. */
  i32GeU(): this {
    return this.plain("i32.ge_u");
  }
  /** `i64.eqz`: i64 → i32. */
  i64Eqz(): this {
    return this.plain("i64.eqz");
  }
  /** `i64.eq`: i64 i64 → i32. */
  i64Eq(): this {
    return this.plain("i64.eq");
  }
  /** `i64.ne`: i64 i64 → i32. */
  i64Ne(): this {
    return this.plain("i64.ne");
  }
  /** `i64.lt_s`: i64 i64 → i32. */
  i64LtS(): this {
    return this.plain("i64.lt_s");
  }
  /** `i64.lt_u`: i64 i64 → i32. */
  i64LtU(): this {
    return this.plain("i64.lt_u");
  }
  /** `i64.gt_s`: i64 i64 → i32. */
  i64GtS(): this {
    return this.plain("i64.gt_s");
  }
  /** `i64.gt_u`: i64 i64 → i32. */
  i64GtU(): this {
    return this.plain("i64.gt_u");
  }
  /** `i64.le_s`: i64 i64 → i32. */
  i64LeS(): this {
    return this.plain("i64.le_s");
  }
  /** `i64.le_u`: i64 i64 → i32. */
  i64LeU(): this {
    return this.plain("i64.le_u");
  }
  /** `i64.ge_s`: i64 i64 → i32. */
  i64GeS(): this {
    return this.plain("i64.ge_s");
  }
  /** `i64.ge_u`: i64 i64 → i32. */
  i64GeU(): this {
    return this.plain("i64.ge_u");
  }
  /** `f32.eq`: f32 f32 → i32. */
  f32Eq(): this {
    return this.plain("f32.eq");
  }
  /** `f32.ne`: f32 f32 → i32. */
  f32Ne(): this {
    return this.plain("f32.ne");
  }
  /** `f32.lt`: f32 f32 → i32. */
  f32Lt(): this {
    return this.plain("f32.lt");
  }
  /** `f32.gt`: f32 f32 → i32. */
  f32Gt(): this {
    return this.plain("f32.gt");
  }
  /** `f32.le`: f32 f32 → i32. */
  f32Le(): this {
    return this.plain("f32.le");
  }
  /** `f32.ge`: f32 f32 → i32. */
  f32Ge(): this {
    return this.plain("f32.ge");
  }
  /** `f64.eq`: f64 f64 → i32. */
  f64Eq(): this {
    return this.plain("f64.eq");
  }
  /** `f64.ne`: f64 f64 → i32. */
  f64Ne(): this {
    return this.plain("f64.ne");
  }
  /** `f64.lt`: f64 f64 → i32. */
  f64Lt(): this {
    return this.plain("f64.lt");
  }
  /** `f64.gt`: f64 f64 → i32. */
  f64Gt(): this {
    return this.plain("f64.gt");
  }
  /** `f64.le`: f64 f64 → i32. */
  f64Le(): this {
    return this.plain("f64.le");
  }
  /** `f64.ge`: f64 f64 → i32. */
  f64Ge(): this {
    return this.plain("f64.ge");
  }
  /** `i32.clz`: i32 → i32. */
  i32Clz(): this {
    return this.plain("i32.clz");
  }
  /** `i32.ctz`: i32 → i32. */
  i32Ctz(): this {
    return this.plain("i32.ctz");
  }
  /** `i32.popcnt`: i32 → i32. */
  i32Popcnt(): this {
    return this.plain("i32.popcnt");
  }
  /** `i32.add`: i32 i32 → i32. */
  i32Add(): this {
    return this.plain("i32.add");
  }
  /** `i32.sub`: i32 i32 → i32. */
  i32Sub(): this {
    return this.plain("i32.sub");
  }
  /** `i32.mul`: i32 i32 → i32. */
  i32Mul(): this {
    return this.plain("i32.mul");
  }
  /** `i32.div_s`: i32 i32 → i32. */
  i32DivS(): this {
    return this.plain("i32.div_s");
  }
  /** `i32.div_u`: i32 i32 → i32. */
  i32DivU(): this {
    return this.plain("i32.div_u");
  }
  /** `i32.rem_s`: i32 i32 → i32. */
  i32RemS(): this {
    return this.plain("i32.rem_s");
  }
  /** `i32.rem_u`: i32 i32 → i32. */
  i32RemU(): this {
    return this.plain("i32.rem_u");
  }
  /** `i32.and`: i32 i32 → i32. */
  i32And(): this {
    return this.plain("i32.and");
  }
  /** `i32.or`: i32 i32 → i32. */
  i32Or(): this {
    return this.plain("i32.or");
  }
  /** `i32.xor`: i32 i32 → i32. */
  i32Xor(): this {
    return this.plain("i32.xor");
  }
  /** `i32.shl`: i32 i32 → i32. */
  i32Shl(): this {
    return this.plain("i32.shl");
  }
  /** `i32.shr_s`: i32 i32 → i32. */
  i32ShrS(): this {
    return this.plain("i32.shr_s");
  }
  /** `i32.shr_u`: i32 i32 → i32. */
  i32ShrU(): this {
    return this.plain("i32.shr_u");
  }
  /** `i32.rotl`: i32 i32 → i32. */
  i32Rotl(): this {
    return this.plain("i32.rotl");
  }
  /** `i32.rotr`: i32 i32 → i32. */
  i32Rotr(): this {
    return this.plain("i32.rotr");
  }
  /** `i64.clz`: i64 → i64. */
  i64Clz(): this {
    return this.plain("i64.clz");
  }
  /** `i64.ctz`: i64 → i64. */
  i64Ctz(): this {
    return this.plain("i64.ctz");
  }
  /** `i64.popcnt`: i64 → i64. */
  i64Popcnt(): this {
    return this.plain("i64.popcnt");
  }
  /** `i64.add`: i64 i64 → i64. */
  i64Add(): this {
    return this.plain("i64.add");
  }
  /** `i64.sub`: i64 i64 → i64. */
  i64Sub(): this {
    return this.plain("i64.sub");
  }
  /** `i64.mul`: i64 i64 → i64. */
  i64Mul(): this {
    return this.plain("i64.mul");
  }
  /** `i64.div_s`: i64 i64 → i64. */
  i64DivS(): this {
    return this.plain("i64.div_s");
  }
  /** `i64.div_u`: i64 i64 → i64. */
  i64DivU(): this {
    return this.plain("i64.div_u");
  }
  /** `i64.rem_s`: i64 i64 → i64. */
  i64RemS(): this {
    return this.plain("i64.rem_s");
  }
  /** `i64.rem_u`: i64 i64 → i64. */
  i64RemU(): this {
    return this.plain("i64.rem_u");
  }
  /** `i64.and`: i64 i64 → i64. */
  i64And(): this {
    return this.plain("i64.and");
  }
  /** `i64.or`: i64 i64 → i64. */
  i64Or(): this {
    return this.plain("i64.or");
  }
  /** `i64.xor`: i64 i64 → i64. */
  i64Xor(): this {
    return this.plain("i64.xor");
  }
  /** `i64.shl`: i64 i64 → i64. */
  i64Shl(): this {
    return this.plain("i64.shl");
  }
  /** `i64.shr_s`: i64 i64 → i64. */
  i64ShrS(): this {
    return this.plain("i64.shr_s");
  }
  /** `i64.shr_u`: i64 i64 → i64. */
  i64ShrU(): this {
    return this.plain("i64.shr_u");
  }
  /** `i64.rotl`: i64 i64 → i64. */
  i64Rotl(): this {
    return this.plain("i64.rotl");
  }
  /** `i64.rotr`: i64 i64 → i64. */
  i64Rotr(): this {
    return this.plain("i64.rotr");
  }
  /** `f32.abs`: f32 → f32. */
  f32Abs(): this {
    return this.plain("f32.abs");
  }
  /** `f32.neg`: f32 → f32. */
  f32Neg(): this {
    return this.plain("f32.neg");
  }
  /** `f32.ceil`: f32 → f32. */
  f32Ceil(): this {
    return this.plain("f32.ceil");
  }
  /** `f32.floor`: f32 → f32. */
  f32Floor(): this {
    return this.plain("f32.floor");
  }
  /** `f32.trunc`: f32 → f32. */
  f32Trunc(): this {
    return this.plain("f32.trunc");
  }
  /** `f32.nearest`: f32 → f32. */
  f32Nearest(): this {
    return this.plain("f32.nearest");
  }
  /** `f32.sqrt`: f32 → f32. */
  f32Sqrt(): this {
    return this.plain("f32.sqrt");
  }
  /** `f32.add`: f32 f32 → f32. */
  f32Add(): this {
    return this.plain("f32.add");
  }
  /** `f32.sub`: f32 f32 → f32. */
  f32Sub(): this {
    return this.plain("f32.sub");
  }
  /** `f32.mul`: f32 f32 → f32. */
  f32Mul(): this {
    return this.plain("f32.mul");
  }
  /** `f32.div`: f32 f32 → f32. */
  f32Div(): this {
    return this.plain("f32.div");
  }
  /** `f32.min`: f32 f32 → f32. */
  f32Min(): this {
    return this.plain("f32.min");
  }
  /** `f32.max`: f32 f32 → f32. */
  f32Max(): this {
    return this.plain("f32.max");
  }
  /** `f32.copysign`: f32 f32 → f32. */
  f32Copysign(): this {
    return this.plain("f32.copysign");
  }
  /** `f64.abs`: f64 → f64. */
  f64Abs(): this {
    return this.plain("f64.abs");
  }
  /** `f64.neg`: f64 → f64. */
  f64Neg(): this {
    return this.plain("f64.neg");
  }
  /** `f64.ceil`: f64 → f64. */
  f64Ceil(): this {
    return this.plain("f64.ceil");
  }
  /** `f64.floor`: f64 → f64. */
  f64Floor(): this {
    return this.plain("f64.floor");
  }
  /** `f64.trunc`: f64 → f64. */
  f64Trunc(): this {
    return this.plain("f64.trunc");
  }
  /** `f64.nearest`: f64 → f64. */
  f64Nearest(): this {
    return this.plain("f64.nearest");
  }
  /** `f64.sqrt`: f64 → f64. */
  f64Sqrt(): this {
    return this.plain("f64.sqrt");
  }
  /** `f64.add`: f64 f64 → f64. */
  f64Add(): this {
    return this.plain("f64.add");
  }
  /** `f64.sub`: f64 f64 → f64. */
  f64Sub(): this {
    return this.plain("f64.sub");
  }
  /** `f64.mul`: f64 f64 → f64. */
  f64Mul(): this {
    return this.plain("f64.mul");
  }
  /** `f64.div`: f64 f64 → f64. */
  f64Div(): this {
    return this.plain("f64.div");
  }
  /** `f64.min`: f64 f64 → f64. */
  f64Min(): this {
    return this.plain("f64.min");
  }
  /** `f64.max`: f64 f64 → f64. */
  f64Max(): this {
    return this.plain("f64.max");
  }
  /** `f64.copysign`: f64 f64 → f64. */
  f64Copysign(): this {
    return this.plain("f64.copysign");
  }
  /** `i32.wrap_i64`: i64 → i32. */
  i32WrapI64(): this {
    return this.plain("i32.wrap_i64");
  }
  /** `i32.trunc_f32_s`: f32 → i32. */
  i32TruncF32S(): this {
    return this.plain("i32.trunc_f32_s");
  }
  /** `i32.trunc_f32_u`: f32 → i32. */
  i32TruncF32U(): this {
    return this.plain("i32.trunc_f32_u");
  }
  /** `i32.trunc_f64_s`: f64 → i32. */
  i32TruncF64S(): this {
    return this.plain("i32.trunc_f64_s");
  }
  /** `i32.trunc_f64_u`: f64 → i32. */
  i32TruncF64U(): this {
    return this.plain("i32.trunc_f64_u");
  }
  /** `i64.extend_i32_s`: i32 → i64. */
  i64ExtendI32S(): this {
    return this.plain("i64.extend_i32_s");
  }
  /** `i64.extend_i32_u`: i32 → i64. */
  i64ExtendI32U(): this {
    return this.plain("i64.extend_i32_u");
  }
  /** `i64.trunc_f32_s`: f32 → i64. */
  i64TruncF32S(): this {
    return this.plain("i64.trunc_f32_s");
  }
  /** `i64.trunc_f32_u`: f32 → i64. */
  i64TruncF32U(): this {
    return this.plain("i64.trunc_f32_u");
  }
  /** `i64.trunc_f64_s`: f64 → i64. */
  i64TruncF64S(): this {
    return this.plain("i64.trunc_f64_s");
  }
  /** `i64.trunc_f64_u`: f64 → i64. */
  i64TruncF64U(): this {
    return this.plain("i64.trunc_f64_u");
  }
  /** `f32.convert_i32_s`: i32 → f32. */
  f32ConvertI32S(): this {
    return this.plain("f32.convert_i32_s");
  }
  /** `f32.convert_i32_u`: i32 → f32. */
  f32ConvertI32U(): this {
    return this.plain("f32.convert_i32_u");
  }
  /** `f32.convert_i64_s`: i64 → f32. */
  f32ConvertI64S(): this {
    return this.plain("f32.convert_i64_s");
  }
  /** `f32.convert_i64_u`: i64 → f32. */
  f32ConvertI64U(): this {
    return this.plain("f32.convert_i64_u");
  }
  /** `f32.demote_f64`: f64 → f32. */
  f32DemoteF64(): this {
    return this.plain("f32.demote_f64");
  }
  /** `f64.convert_i32_s`: i32 → f64. */
  f64ConvertI32S(): this {
    return this.plain("f64.convert_i32_s");
  }
  /** `f64.convert_i32_u`: i32 → f64. */
  f64ConvertI32U(): this {
    return this.plain("f64.convert_i32_u");
  }
  /** `f64.convert_i64_s`: i64 → f64. */
  f64ConvertI64S(): this {
    return this.plain("f64.convert_i64_s");
  }
  /** `f64.convert_i64_u`: i64 → f64. */
  f64ConvertI64U(): this {
    return this.plain("f64.convert_i64_u");
  }
  /** `f64.promote_f32`: f32 → f64. */
  f64PromoteF32(): this {
    return this.plain("f64.promote_f32");
  }
  /** `i32.reinterpret_f32`: f32 → i32. */
  i32ReinterpretF32(): this {
    return this.plain("i32.reinterpret_f32");
  }
  /** `i64.reinterpret_f64`: f64 → i64. */
  i64ReinterpretF64(): this {
    return this.plain("i64.reinterpret_f64");
  }
  /** `f32.reinterpret_i32`: i32 → f32. */
  f32ReinterpretI32(): this {
    return this.plain("f32.reinterpret_i32");
  }
  /** `f64.reinterpret_i64`: i64 → f64. */
  f64ReinterpretI64(): this {
    return this.plain("f64.reinterpret_i64");
  }
  /** `i32.extend8_s`: i32 → i32. */
  i32Extend8S(): this {
    return this.plain("i32.extend8_s");
  }
  /** `i32.extend16_s`: i32 → i32. */
  i32Extend16S(): this {
    return this.plain("i32.extend16_s");
  }
  /** `i64.extend8_s`: i64 → i64. */
  i64Extend8S(): this {
    return this.plain("i64.extend8_s");
  }
  /** `i64.extend16_s`: i64 → i64. */
  i64Extend16S(): this {
    return this.plain("i64.extend16_s");
  }
  /** `i64.extend32_s`: i64 → i64. */
  i64Extend32S(): this {
    return this.plain("i64.extend32_s");
  }
  /** `i32.trunc_sat_f32_s`: f32 → i32. */
  i32TruncSatF32S(): this {
    return this.plain("i32.trunc_sat_f32_s");
  }
  /** `i32.trunc_sat_f32_u`: f32 → i32. */
  i32TruncSatF32U(): this {
    return this.plain("i32.trunc_sat_f32_u");
  }
  /** `i32.trunc_sat_f64_s`: f64 → i32. */
  i32TruncSatF64S(): this {
    return this.plain("i32.trunc_sat_f64_s");
  }
  /** `i32.trunc_sat_f64_u`: f64 → i32. */
  i32TruncSatF64U(): this {
    return this.plain("i32.trunc_sat_f64_u");
  }
  /** `i64.trunc_sat_f32_s`: f32 → i64. */
  i64TruncSatF32S(): this {
    return this.plain("i64.trunc_sat_f32_s");
  }
  /** `i64.trunc_sat_f32_u`: f32 → i64. */
  i64TruncSatF32U(): this {
    return this.plain("i64.trunc_sat_f32_u");
  }
  /** `i64.trunc_sat_f64_s`: f64 → i64. */
  i64TruncSatF64S(): this {
    return this.plain("i64.trunc_sat_f64_s");
  }
  /** `i64.trunc_sat_f64_u`: f64 → i64. */
  i64TruncSatF64U(): this {
    return this.plain("i64.trunc_sat_f64_u");
  }
  /** `memory.copy`: i32 i32 i32 → nothing. */
  memoryCopy(): this {
    return this.plain("memory.copy");
  }
  /** `memory.fill`: i32 i32 i32 → nothing. */
  memoryFill(): this {
    return this.plain("memory.fill");
  }
  /** `v128.load`: i32 → v128. */
  v128Load(memarg?: MemArg): this {
    return this.memoryAccess("v128.load", memarg);
  }
  /** `v128.load8x8_s`: i32 → v128. */
  v128Load8x8S(memarg?: MemArg): this {
    return this.memoryAccess("v128.load8x8_s", memarg);
  }
  /** `v128.load8x8_u`: i32 → v128. */
  v128Load8x8U(memarg?: MemArg): this {
    return this.memoryAccess("v128.load8x8_u", memarg);
  }
  /** `v128.load16x4_s`: i32 → v128. */
  v128Load16x4S(memarg?: MemArg): this {
    return this.memoryAccess("v128.load16x4_s", memarg);
  }
  /** `v128.load16x4_u`: i32 → v128. */
  v128Load16x4U(memarg?: MemArg): this {
    return this.memoryAccess("v128.load16x4_u", memarg);
  }
  /** `v128.load32x2_s`: i32 → v128. */
  v128Load32x2S(memarg?: MemArg): this {
    return this.memoryAccess("v128.load32x2_s", memarg);
  }
  /** `v128.load32x2_u`: i32 → v128. */
  v128Load32x2U(memarg?: MemArg): this {
    return this.memoryAccess("v128.load32x2_u", memarg);
  }
  /** `v128.load8_splat`: i32 → v128. */
  v128Load8Splat(memarg?: MemArg): this {
    return this.memoryAccess("v128.load8_splat", memarg);
  }
  /** `v128.load16_splat`: i32 → v128. */
  v128Load16Splat(memarg?: MemArg): this {
    return this.memoryAccess("v128.load16_splat", memarg);
  }
  /** `v128.load32_splat`: i32 → v128. */
  v128Load32Splat(memarg?: MemArg): this {
    return this.memoryAccess("v128.load32_splat", memarg);
  }
  /** `v128.load64_splat`: i32 → v128. */
  v128Load64Splat(memarg?: MemArg): this {
    return this.memoryAccess("v128.load64_splat", memarg);
  }
  /** `v128.store`: i32 v128 → nothing. */
  v128Store(memarg?: MemArg): this {
    return this.memoryAccess("v128.store", memarg);
  }
  /** `v128.load32_zero`: i32 → v128. */
  v128Load32Zero(memarg?: MemArg): this {
    return this.memoryAccess("v128.load32_zero", memarg);
  }
  /** `v128.load64_zero`: i32 → v128. */
  v128Load64Zero(memarg?: MemArg): this {
    return this.memoryAccess("v128.load64_zero", memarg);
  }
  /** `v128.load8_lane`: i32 v128 → v128. */
  v128Load8Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.load8_lane", memarg, lane);
  }
  /** `v128.load16_lane`: i32 v128 → v128. */
  v128Load16Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.load16_lane", memarg, lane);
  }
  /** `v128.load32_lane`: i32 v128 → v128. */
  v128Load32Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.load32_lane", memarg, lane);
  }
  /** `v128.load64_lane`: i32 v128 → v128. */
  v128Load64Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.load64_lane", memarg, lane);
  }
  /** `v128.store8_lane`: i32 v128 → nothing. */
  v128Store8Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.store8_lane", memarg, lane);
  }
  /** `v128.store16_lane`: i32 v128 → nothing. */
  v128Store16Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.store16_lane", memarg, lane);
  }
  /** `v128.store32_lane`: i32 v128 → nothing. */
  v128Store32Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.store32_lane", memarg, lane);
  }
  /** `v128.store64_lane`: i32 v128 → nothing. */
  v128Store64Lane(lane: number, memarg?: MemArg): this {
    return this.memoryLaneAccess("v128.store64_lane", memarg, lane);
  }
  /** `i8x16.shuffle`: v128 v128 → v128. Lane indices 0–15 pick from the first operand, 16–31 from the second. */
  i8x16Shuffle(lanes: readonly number[]): this {
    return this.shuffleLanes("i8x16.shuffle", lanes);
  }
  /** `i8x16.swizzle`: v128 v128 → v128. */
  i8x16Swizzle(): this {
    return this.plain("i8x16.swizzle");
  }
  /** `i8x16.splat`: i32 → v128. */
  i8x16Splat(): this {
    return this.plain("i8x16.splat");
  }
  /** `i16x8.splat`: i32 → v128. */
  i16x8Splat(): this {
    return this.plain("i16x8.splat");
  }
  /** `i32x4.splat`: i32 → v128. */
  i32x4Splat(): this {
    return this.plain("i32x4.splat");
  }
  /** `i64x2.splat`: i64 → v128. */
  i64x2Splat(): this {
    return this.plain("i64x2.splat");
  }
  /** `f32x4.splat`: f32 → v128. */
  f32x4Splat(): this {
    return this.plain("f32x4.splat");
  }
  /** `f64x2.splat`: f64 → v128. */
  f64x2Splat(): this {
    return this.plain("f64x2.splat");
  }
  /** `i8x16.extract_lane_s`: v128 → i32. */
  i8x16ExtractLaneS(lane: number): this {
    return this.laneAccess("i8x16.extract_lane_s", lane);
  }
  /** `i8x16.extract_lane_u`: v128 → i32. */
  i8x16ExtractLaneU(lane: number): this {
    return this.laneAccess("i8x16.extract_lane_u", lane);
  }
  /** `i8x16.replace_lane`: v128 i32 → v128. */
  i8x16ReplaceLane(lane: number): this {
    return this.laneAccess("i8x16.replace_lane", lane);
  }
  /** `i16x8.extract_lane_s`: v128 → i32. */
  i16x8ExtractLaneS(lane: number): this {
    return this.laneAccess("i16x8.extract_lane_s", lane);
  }
  /** `i16x8.extract_lane_u`: v128 → i32. */
  i16x8ExtractLaneU(lane: number): this {
    return this.laneAccess("i16x8.extract_lane_u", lane);
  }
  /** `i16x8.replace_lane`: v128 i32 → v128. */
  i16x8ReplaceLane(lane: number): this {
    return this.laneAccess("i16x8.replace_lane", lane);
  }
  /** `i32x4.extract_lane`: v128 → i32. */
  i32x4ExtractLane(lane: number): this {
    return this.laneAccess("i32x4.extract_lane", lane);
  }
  /** `i32x4.replace_lane`: v128 i32 → v128. */
  i32x4ReplaceLane(lane: number): this {
    return this.laneAccess("i32x4.replace_lane", lane);
  }
  /** `i64x2.extract_lane`: v128 → i64. */
  i64x2ExtractLane(lane: number): this {
    return this.laneAccess("i64x2.extract_lane", lane);
  }
  /** `i64x2.replace_lane`: v128 i64 → v128. */
  i64x2ReplaceLane(lane: number): this {
    return this.laneAccess("i64x2.replace_lane", lane);
  }
  /** `f32x4.extract_lane`: v128 → f32. */
  f32x4ExtractLane(lane: number): this {
    return this.laneAccess("f32x4.extract_lane", lane);
  }
  /** `f32x4.replace_lane`: v128 f32 → v128. */
  f32x4ReplaceLane(lane: number): this {
    return this.laneAccess("f32x4.replace_lane", lane);
  }
  /** `f64x2.extract_lane`: v128 → f64. */
  f64x2ExtractLane(lane: number): this {
    return this.laneAccess("f64x2.extract_lane", lane);
  }
  /** `f64x2.replace_lane`: v128 f64 → v128. */
  f64x2ReplaceLane(lane: number): this {
    return this.laneAccess("f64x2.replace_lane", lane);
  }
  /** `i8x16.eq`: v128 v128 → v128. */
  i8x16Eq(): this {
    return this.plain("i8x16.eq");
  }
  /** `i8x16.ne`: v128 v128 → v128. */
  i8x16Ne(): this {
    return this.plain("i8x16.ne");
  }
  /** `i8x16.lt_s`: v128 v128 → v128. */
  i8x16LtS(): this {
    return this.plain("i8x16.lt_s");
  }
  /** `i8x16.lt_u`: v128 v128 → v128. */
  i8x16LtU(): this {
    return this.plain("i8x16.lt_u");
  }
  /** `i8x16.gt_s`: v128 v128 → v128. */
  i8x16GtS(): this {
    return this.plain("i8x16.gt_s");
  }
  /** `i8x16.gt_u`: v128 v128 → v128. */
  i8x16GtU(): this {
    return this.plain("i8x16.gt_u");
  }
  /** `i8x16.le_s`: v128 v128 → v128. */
  i8x16LeS(): this {
    return this.plain("i8x16.le_s");
  }
  /** `i8x16.le_u`: v128 v128 → v128. */
  i8x16LeU(): this {
    return this.plain("i8x16.le_u");
  }
  /** `i8x16.ge_s`: v128 v128 → v128. */
  i8x16GeS(): this {
    return this.plain("i8x16.ge_s");
  }
  /** `i8x16.ge_u`: v128 v128 → v128. */
  i8x16GeU(): this {
    return this.plain("i8x16.ge_u");
  }
  /** `i16x8.eq`: v128 v128 → v128. */
  i16x8Eq(): this {
    return this.plain("i16x8.eq");
  }
  /** `i16x8.ne`: v128 v128 → v128. */
  i16x8Ne(): this {
    return this.plain("i16x8.ne");
  }
  /** `i16x8.lt_s`: v128 v128 → v128. */
  i16x8LtS(): this {
    return this.plain("i16x8.lt_s");
  }
  /** `i16x8.lt_u`: v128 v128 → v128. */
  i16x8LtU(): this {
    return this.plain("i16x8.lt_u");
  }
  /** `i16x8.gt_s`: v128 v128 → v128. */
  i16x8GtS(): this {
    return this.plain("i16x8.gt_s");
  }
  /** `i16x8.gt_u`: v128 v128 → v128. */
  i16x8GtU(): this {
    return this.plain("i16x8.gt_u");
  }
  /** `i16x8.le_s`: v128 v128 → v128. */
  i16x8LeS(): this {
    return this.plain("i16x8.le_s");
  }
  /** `i16x8.le_u`: v128 v128 → v128. */
  i16x8LeU(): this {
    return this.plain("i16x8.le_u");
  }
  /** `i16x8.ge_s`: v128 v128 → v128. */
  i16x8GeS(): this {
    return this.plain("i16x8.ge_s");
  }
  /** `i16x8.ge_u`: v128 v128 → v128. */
  i16x8GeU(): this {
    return this.plain("i16x8.ge_u");
  }
  /** `i32x4.eq`: v128 v128 → v128. */
  i32x4Eq(): this {
    return this.plain("i32x4.eq");
  }
  /** `i32x4.ne`: v128 v128 → v128. */
  i32x4Ne(): this {
    return this.plain("i32x4.ne");
  }
  /** `i32x4.lt_s`: v128 v128 → v128. */
  i32x4LtS(): this {
    return this.plain("i32x4.lt_s");
  }
  /** `i32x4.lt_u`: v128 v128 → v128. */
  i32x4LtU(): this {
    return this.plain("i32x4.lt_u");
  }
  /** `i32x4.gt_s`: v128 v128 → v128. */
  i32x4GtS(): this {
    return this.plain("i32x4.gt_s");
  }
  /** `i32x4.gt_u`: v128 v128 → v128. */
  i32x4GtU(): this {
    return this.plain("i32x4.gt_u");
  }
  /** `i32x4.le_s`: v128 v128 → v128. */
  i32x4LeS(): this {
    return this.plain("i32x4.le_s");
  }
  /** `i32x4.le_u`: v128 v128 → v128. */
  i32x4LeU(): this {
    return this.plain("i32x4.le_u");
  }
  /** `i32x4.ge_s`: v128 v128 → v128. */
  i32x4GeS(): this {
    return this.plain("i32x4.ge_s");
  }
  /** `i32x4.ge_u`: v128 v128 → v128. */
  i32x4GeU(): this {
    return this.plain("i32x4.ge_u");
  }
  /** `f32x4.eq`: v128 v128 → v128. */
  f32x4Eq(): this {
    return this.plain("f32x4.eq");
  }
  /** `f32x4.ne`: v128 v128 → v128. */
  f32x4Ne(): this {
    return this.plain("f32x4.ne");
  }
  /** `f32x4.lt`: v128 v128 → v128. */
  f32x4Lt(): this {
    return this.plain("f32x4.lt");
  }
  /** `f32x4.gt`: v128 v128 → v128. */
  f32x4Gt(): this {
    return this.plain("f32x4.gt");
  }
  /** `f32x4.le`: v128 v128 → v128. */
  f32x4Le(): this {
    return this.plain("f32x4.le");
  }
  /** `f32x4.ge`: v128 v128 → v128. */
  f32x4Ge(): this {
    return this.plain("f32x4.ge");
  }
  /** `f64x2.eq`: v128 v128 → v128. */
  f64x2Eq(): this {
    return this.plain("f64x2.eq");
  }
  /** `f64x2.ne`: v128 v128 → v128. */
  f64x2Ne(): this {
    return this.plain("f64x2.ne");
  }
  /** `f64x2.lt`: v128 v128 → v128. */
  f64x2Lt(): this {
    return this.plain("f64x2.lt");
  }
  /** `f64x2.gt`: v128 v128 → v128. */
  f64x2Gt(): this {
    return this.plain("f64x2.gt");
  }
  /** `f64x2.le`: v128 v128 → v128. */
  f64x2Le(): this {
    return this.plain("f64x2.le");
  }
  /** `f64x2.ge`: v128 v128 → v128. */
  f64x2Ge(): this {
    return this.plain("f64x2.ge");
  }
  /** `i64x2.eq`: v128 v128 → v128. */
  i64x2Eq(): this {
    return this.plain("i64x2.eq");
  }
  /** `i64x2.ne`: v128 v128 → v128. */
  i64x2Ne(): this {
    return this.plain("i64x2.ne");
  }
  /** `i64x2.lt_s`: v128 v128 → v128. */
  i64x2LtS(): this {
    return this.plain("i64x2.lt_s");
  }
  /** `i64x2.gt_s`: v128 v128 → v128. */
  i64x2GtS(): this {
    return this.plain("i64x2.gt_s");
  }
  /** `i64x2.le_s`: v128 v128 → v128. */
  i64x2LeS(): this {
    return this.plain("i64x2.le_s");
  }
  /** `i64x2.ge_s`: v128 v128 → v128. */
  i64x2GeS(): this {
    return this.plain("i64x2.ge_s");
  }
  /** `v128.not`: v128 → v128. */
  v128Not(): this {
    return this.plain("v128.not");
  }
  /** `v128.and`: v128 v128 → v128. */
  v128And(): this {
    return this.plain("v128.and");
  }
  /** `v128.andnot`: v128 v128 → v128. */
  v128Andnot(): this {
    return this.plain("v128.andnot");
  }
  /** `v128.or`: v128 v128 → v128. */
  v128Or(): this {
    return this.plain("v128.or");
  }
  /** `v128.xor`: v128 v128 → v128. */
  v128Xor(): this {
    return this.plain("v128.xor");
  }
  /** `v128.bitselect`: v128 v128 v128 → v128. */
  v128Bitselect(): this {
    return this.plain("v128.bitselect");
  }
  /** `v128.any_true`: v128 → i32. */
  v128AnyTrue(): this {
    return this.plain("v128.any_true");
  }
  /** `i8x16.abs`: v128 → v128. */
  i8x16Abs(): this {
    return this.plain("i8x16.abs");
  }
  /** `i8x16.neg`: v128 → v128. */
  i8x16Neg(): this {
    return this.plain("i8x16.neg");
  }
  /** `i8x16.popcnt`: v128 → v128. */
  i8x16Popcnt(): this {
    return this.plain("i8x16.popcnt");
  }
  /** `i8x16.all_true`: v128 → i32. */
  i8x16AllTrue(): this {
    return this.plain("i8x16.all_true");
  }
  /** `i8x16.bitmask`: v128 → i32. */
  i8x16Bitmask(): this {
    return this.plain("i8x16.bitmask");
  }
  /** `i8x16.narrow_i16x8_s`: v128 v128 → v128. */
  i8x16NarrowI16x8S(): this {
    return this.plain("i8x16.narrow_i16x8_s");
  }
  /** `i8x16.narrow_i16x8_u`: v128 v128 → v128. */
  i8x16NarrowI16x8U(): this {
    return this.plain("i8x16.narrow_i16x8_u");
  }
  /** `i8x16.shl`: v128 i32 → v128. */
  i8x16Shl(): this {
    return this.plain("i8x16.shl");
  }
  /** `i8x16.shr_s`: v128 i32 → v128. */
  i8x16ShrS(): this {
    return this.plain("i8x16.shr_s");
  }
  /** `i8x16.shr_u`: v128 i32 → v128. */
  i8x16ShrU(): this {
    return this.plain("i8x16.shr_u");
  }
  /** `i8x16.add`: v128 v128 → v128. */
  i8x16Add(): this {
    return this.plain("i8x16.add");
  }
  /** `i8x16.add_sat_s`: v128 v128 → v128. */
  i8x16AddSatS(): this {
    return this.plain("i8x16.add_sat_s");
  }
  /** `i8x16.add_sat_u`: v128 v128 → v128. */
  i8x16AddSatU(): this {
    return this.plain("i8x16.add_sat_u");
  }
  /** `i8x16.sub`: v128 v128 → v128. */
  i8x16Sub(): this {
    return this.plain("i8x16.sub");
  }
  /** `i8x16.sub_sat_s`: v128 v128 → v128. */
  i8x16SubSatS(): this {
    return this.plain("i8x16.sub_sat_s");
  }
  /** `i8x16.sub_sat_u`: v128 v128 → v128. */
  i8x16SubSatU(): this {
    return this.plain("i8x16.sub_sat_u");
  }
  /** `i8x16.min_s`: v128 v128 → v128. */
  i8x16MinS(): this {
    return this.plain("i8x16.min_s");
  }
  /** `i8x16.min_u`: v128 v128 → v128. */
  i8x16MinU(): this {
    return this.plain("i8x16.min_u");
  }
  /** `i8x16.max_s`: v128 v128 → v128. */
  i8x16MaxS(): this {
    return this.plain("i8x16.max_s");
  }
  /** `i8x16.max_u`: v128 v128 → v128. */
  i8x16MaxU(): this {
    return this.plain("i8x16.max_u");
  }
  /** `i8x16.avgr_u`: v128 v128 → v128. */
  i8x16AvgrU(): this {
    return this.plain("i8x16.avgr_u");
  }
  /** `i16x8.extadd_pairwise_i8x16_s`: v128 → v128. */
  i16x8ExtaddPairwiseI8x16S(): this {
    return this.plain("i16x8.extadd_pairwise_i8x16_s");
  }
  /** `i16x8.extadd_pairwise_i8x16_u`: v128 → v128. */
  i16x8ExtaddPairwiseI8x16U(): this {
    return this.plain("i16x8.extadd_pairwise_i8x16_u");
  }
  /** `i16x8.abs`: v128 → v128. */
  i16x8Abs(): this {
    return this.plain("i16x8.abs");
  }
  /** `i16x8.neg`: v128 → v128. */
  i16x8Neg(): this {
    return this.plain("i16x8.neg");
  }
  /** `i16x8.q15mulr_sat_s`: v128 v128 → v128. */
  i16x8Q15mulrSatS(): this {
    return this.plain("i16x8.q15mulr_sat_s");
  }
  /** `i16x8.all_true`: v128 → i32. */
  i16x8AllTrue(): this {
    return this.plain("i16x8.all_true");
  }
  /** `i16x8.bitmask`: v128 → i32. */
  i16x8Bitmask(): this {
    return this.plain("i16x8.bitmask");
  }
  /** `i16x8.narrow_i32x4_s`: v128 v128 → v128. */
  i16x8NarrowI32x4S(): this {
    return this.plain("i16x8.narrow_i32x4_s");
  }
  /** `i16x8.narrow_i32x4_u`: v128 v128 → v128. */
  i16x8NarrowI32x4U(): this {
    return this.plain("i16x8.narrow_i32x4_u");
  }
  /** `i16x8.extend_low_i8x16_s`: v128 → v128. */
  i16x8ExtendLowI8x16S(): this {
    return this.plain("i16x8.extend_low_i8x16_s");
  }
  /** `i16x8.extend_high_i8x16_s`: v128 → v128. */
  i16x8ExtendHighI8x16S(): this {
    return this.plain("i16x8.extend_high_i8x16_s");
  }
  /** `i16x8.extend_low_i8x16_u`: v128 → v128. */
  i16x8ExtendLowI8x16U(): this {
    return this.plain("i16x8.extend_low_i8x16_u");
  }
  /** `i16x8.extend_high_i8x16_u`: v128 → v128. */
  i16x8ExtendHighI8x16U(): this {
    return this.plain("i16x8.extend_high_i8x16_u");
  }
  /** `i16x8.shl`: v128 i32 → v128. */
  i16x8Shl(): this {
    return this.plain("i16x8.shl");
  }
  /** `i16x8.shr_s`: v128 i32 → v128. */
  i16x8ShrS(): this {
    return this.plain("i16x8.shr_s");
  }
  /** `i16x8.shr_u`: v128 i32 → v128. */
  i16x8ShrU(): this {
    return this.plain("i16x8.shr_u");
  }
  /** `i16x8.add`: v128 v128 → v128. */
  i16x8Add(): this {
    return this.plain("i16x8.add");
  }
  /** `i16x8.add_sat_s`: v128 v128 → v128. */
  i16x8AddSatS(): this {
    return this.plain("i16x8.add_sat_s");
  }
  /** `i16x8.add_sat_u`: v128 v128 → v128. */
  i16x8AddSatU(): this {
    return this.plain("i16x8.add_sat_u");
  }
  /** `i16x8.sub`: v128 v128 → v128. */
  i16x8Sub(): this {
    return this.plain("i16x8.sub");
  }
  /** `i16x8.sub_sat_s`: v128 v128 → v128. */
  i16x8SubSatS(): this {
    return this.plain("i16x8.sub_sat_s");
  }
  /** `i16x8.sub_sat_u`: v128 v128 → v128. */
  i16x8SubSatU(): this {
    return this.plain("i16x8.sub_sat_u");
  }
  /** `i16x8.mul`: v128 v128 → v128. */
  i16x8Mul(): this {
    return this.plain("i16x8.mul");
  }
  /** `i16x8.min_s`: v128 v128 → v128. */
  i16x8MinS(): this {
    return this.plain("i16x8.min_s");
  }
  /** `i16x8.min_u`: v128 v128 → v128. */
  i16x8MinU(): this {
    return this.plain("i16x8.min_u");
  }
  /** `i16x8.max_s`: v128 v128 → v128. */
  i16x8MaxS(): this {
    return this.plain("i16x8.max_s");
  }
  /** `i16x8.max_u`: v128 v128 → v128. */
  i16x8MaxU(): this {
    return this.plain("i16x8.max_u");
  }
  /** `i16x8.avgr_u`: v128 v128 → v128. */
  i16x8AvgrU(): this {
    return this.plain("i16x8.avgr_u");
  }
  /** `i16x8.extmul_low_i8x16_s`: v128 v128 → v128. */
  i16x8ExtmulLowI8x16S(): this {
    return this.plain("i16x8.extmul_low_i8x16_s");
  }
  /** `i16x8.extmul_high_i8x16_s`: v128 v128 → v128. */
  i16x8ExtmulHighI8x16S(): this {
    return this.plain("i16x8.extmul_high_i8x16_s");
  }
  /** `i16x8.extmul_low_i8x16_u`: v128 v128 → v128. */
  i16x8ExtmulLowI8x16U(): this {
    return this.plain("i16x8.extmul_low_i8x16_u");
  }
  /** `i16x8.extmul_high_i8x16_u`: v128 v128 → v128. */
  i16x8ExtmulHighI8x16U(): this {
    return this.plain("i16x8.extmul_high_i8x16_u");
  }
  /** `i32x4.extadd_pairwise_i16x8_s`: v128 → v128. */
  i32x4ExtaddPairwiseI16x8S(): this {
    return this.plain("i32x4.extadd_pairwise_i16x8_s");
  }
  /** `i32x4.extadd_pairwise_i16x8_u`: v128 → v128. */
  i32x4ExtaddPairwiseI16x8U(): this {
    return this.plain("i32x4.extadd_pairwise_i16x8_u");
  }
  /** `i32x4.abs`: v128 → v128. */
  i32x4Abs(): this {
    return this.plain("i32x4.abs");
  }
  /** `i32x4.neg`: v128 → v128. */
  i32x4Neg(): this {
    return this.plain("i32x4.neg");
  }
  /** `i32x4.all_true`: v128 → i32. */
  i32x4AllTrue(): this {
    return this.plain("i32x4.all_true");
  }
  /** `i32x4.bitmask`: v128 → i32. */
  i32x4Bitmask(): this {
    return this.plain("i32x4.bitmask");
  }
  /** `i32x4.extend_low_i16x8_s`: v128 → v128. */
  i32x4ExtendLowI16x8S(): this {
    return this.plain("i32x4.extend_low_i16x8_s");
  }
  /** `i32x4.extend_high_i16x8_s`: v128 → v128. */
  i32x4ExtendHighI16x8S(): this {
    return this.plain("i32x4.extend_high_i16x8_s");
  }
  /** `i32x4.extend_low_i16x8_u`: v128 → v128. */
  i32x4ExtendLowI16x8U(): this {
    return this.plain("i32x4.extend_low_i16x8_u");
  }
  /** `i32x4.extend_high_i16x8_u`: v128 → v128. */
  i32x4ExtendHighI16x8U(): this {
    return this.plain("i32x4.extend_high_i16x8_u");
  }
  /** `i32x4.shl`: v128 i32 → v128. */
  i32x4Shl(): this {
    return this.plain("i32x4.shl");
  }
  /** `i32x4.shr_s`: v128 i32 → v128. */
  i32x4ShrS(): this {
    return this.plain("i32x4.shr_s");
  }
  /** `i32x4.shr_u`: v128 i32 → v128. */
  i32x4ShrU(): this {
    return this.plain("i32x4.shr_u");
  }
  /** `i32x4.add`: v128 v128 → v128. */
  i32x4Add(): this {
    return this.plain("i32x4.add");
  }
  /** `i32x4.sub`: v128 v128 → v128. */
  i32x4Sub(): this {
    return this.plain("i32x4.sub");
  }
  /** `i32x4.mul`: v128 v128 → v128. */
  i32x4Mul(): this {
    return this.plain("i32x4.mul");
  }
  /** `i32x4.min_s`: v128 v128 → v128. */
  i32x4MinS(): this {
    return this.plain("i32x4.min_s");
  }
  /** `i32x4.min_u`: v128 v128 → v128. */
  i32x4MinU(): this {
    return this.plain("i32x4.min_u");
  }
  /** `i32x4.max_s`: v128 v128 → v128. */
  i32x4MaxS(): this {
    return this.plain("i32x4.max_s");
  }
  /** `i32x4.max_u`: v128 v128 → v128. */
  i32x4MaxU(): this {
    return this.plain("i32x4.max_u");
  }
  /** `i32x4.dot_i16x8_s`: v128 v128 → v128. */
  i32x4DotI16x8S(): this {
    return this.plain("i32x4.dot_i16x8_s");
  }
  /** `i32x4.extmul_low_i16x8_s`: v128 v128 → v128. */
  i32x4ExtmulLowI16x8S(): this {
    return this.plain("i32x4.extmul_low_i16x8_s");
  }
  /** `i32x4.extmul_high_i16x8_s`: v128 v128 → v128. */
  i32x4ExtmulHighI16x8S(): this {
    return this.plain("i32x4.extmul_high_i16x8_s");
  }
  /** `i32x4.extmul_low_i16x8_u`: v128 v128 → v128. */
  i32x4ExtmulLowI16x8U(): this {
    return this.plain("i32x4.extmul_low_i16x8_u");
  }
  /** `i32x4.extmul_high_i16x8_u`: v128 v128 → v128. */
  i32x4ExtmulHighI16x8U(): this {
    return this.plain("i32x4.extmul_high_i16x8_u");
  }
  /** `i64x2.abs`: v128 → v128. */
  i64x2Abs(): this {
    return this.plain("i64x2.abs");
  }
  /** `i64x2.neg`: v128 → v128. */
  i64x2Neg(): this {
    return this.plain("i64x2.neg");
  }
  /** `i64x2.all_true`: v128 → i32. */
  i64x2AllTrue(): this {
    return this.plain("i64x2.all_true");
  }
  /** `i64x2.bitmask`: v128 → i32. */
  i64x2Bitmask(): this {
    return this.plain("i64x2.bitmask");
  }
  /** `i64x2.extend_low_i32x4_s`: v128 → v128. */
  i64x2ExtendLowI32x4S(): this {
    return this.plain("i64x2.extend_low_i32x4_s");
  }
  /** `i64x2.extend_high_i32x4_s`: v128 → v128. */
  i64x2ExtendHighI32x4S(): this {
    return this.plain("i64x2.extend_high_i32x4_s");
  }
  /** `i64x2.extend_low_i32x4_u`: v128 → v128. */
  i64x2ExtendLowI32x4U(): this {
    return this.plain("i64x2.extend_low_i32x4_u");
  }
  /** `i64x2.extend_high_i32x4_u`: v128 → v128. */
  i64x2ExtendHighI32x4U(): this {
    return this.plain("i64x2.extend_high_i32x4_u");
  }
  /** `i64x2.shl`: v128 i32 → v128. */
  i64x2Shl(): this {
    return this.plain("i64x2.shl");
  }
  /** `i64x2.shr_s`: v128 i32 → v128. */
  i64x2ShrS(): this {
    return this.plain("i64x2.shr_s");
  }
  /** `i64x2.shr_u`: v128 i32 → v128. */
  i64x2ShrU(): this {
    return this.plain("i64x2.shr_u");
  }
  /** `i64x2.add`: v128 v128 → v128. */
  i64x2Add(): this {
    return this.plain("i64x2.add");
  }
  /** `i64x2.sub`: v128 v128 → v128. */
  i64x2Sub(): this {
    return this.plain("i64x2.sub");
  }
  /** `i64x2.mul`: v128 v128 → v128. */
  i64x2Mul(): this {
    return this.plain("i64x2.mul");
  }
  /** `i64x2.extmul_low_i32x4_s`: v128 v128 → v128. */
  i64x2ExtmulLowI32x4S(): this {
    return this.plain("i64x2.extmul_low_i32x4_s");
  }
  /** `i64x2.extmul_high_i32x4_s`: v128 v128 → v128. */
  i64x2ExtmulHighI32x4S(): this {
    return this.plain("i64x2.extmul_high_i32x4_s");
  }
  /** `i64x2.extmul_low_i32x4_u`: v128 v128 → v128. */
  i64x2ExtmulLowI32x4U(): this {
    return this.plain("i64x2.extmul_low_i32x4_u");
  }
  /** `i64x2.extmul_high_i32x4_u`: v128 v128 → v128. */
  i64x2ExtmulHighI32x4U(): this {
    return this.plain("i64x2.extmul_high_i32x4_u");
  }
  /** `f32x4.ceil`: v128 → v128. */
  f32x4Ceil(): this {
    return this.plain("f32x4.ceil");
  }
  /** `f32x4.floor`: v128 → v128. */
  f32x4Floor(): this {
    return this.plain("f32x4.floor");
  }
  /** `f32x4.trunc`: v128 → v128. */
  f32x4Trunc(): this {
    return this.plain("f32x4.trunc");
  }
  /** `f32x4.nearest`: v128 → v128. */
  f32x4Nearest(): this {
    return this.plain("f32x4.nearest");
  }
  /** `f32x4.abs`: v128 → v128. */
  f32x4Abs(): this {
    return this.plain("f32x4.abs");
  }
  /** `f32x4.neg`: v128 → v128. */
  f32x4Neg(): this {
    return this.plain("f32x4.neg");
  }
  /** `f32x4.sqrt`: v128 → v128. */
  f32x4Sqrt(): this {
    return this.plain("f32x4.sqrt");
  }
  /** `f32x4.add`: v128 v128 → v128. */
  f32x4Add(): this {
    return this.plain("f32x4.add");
  }
  /** `f32x4.sub`: v128 v128 → v128. */
  f32x4Sub(): this {
    return this.plain("f32x4.sub");
  }
  /** `f32x4.mul`: v128 v128 → v128. */
  f32x4Mul(): this {
    return this.plain("f32x4.mul");
  }
  /** `f32x4.div`: v128 v128 → v128. */
  f32x4Div(): this {
    return this.plain("f32x4.div");
  }
  /** `f32x4.min`: v128 v128 → v128. */
  f32x4Min(): this {
    return this.plain("f32x4.min");
  }
  /** `f32x4.max`: v128 v128 → v128. */
  f32x4Max(): this {
    return this.plain("f32x4.max");
  }
  /** `f32x4.pmin`: v128 v128 → v128. */
  f32x4Pmin(): this {
    return this.plain("f32x4.pmin");
  }
  /** `f32x4.pmax`: v128 v128 → v128. */
  f32x4Pmax(): this {
    return this.plain("f32x4.pmax");
  }
  /** `f64x2.ceil`: v128 → v128. */
  f64x2Ceil(): this {
    return this.plain("f64x2.ceil");
  }
  /** `f64x2.floor`: v128 → v128. */
  f64x2Floor(): this {
    return this.plain("f64x2.floor");
  }
  /** `f64x2.trunc`: v128 → v128. */
  f64x2Trunc(): this {
    return this.plain("f64x2.trunc");
  }
  /** `f64x2.nearest`: v128 → v128. */
  f64x2Nearest(): this {
    return this.plain("f64x2.nearest");
  }
  /** `f64x2.abs`: v128 → v128. */
  f64x2Abs(): this {
    return this.plain("f64x2.abs");
  }
  /** `f64x2.neg`: v128 → v128. */
  f64x2Neg(): this {
    return this.plain("f64x2.neg");
  }
  /** `f64x2.sqrt`: v128 → v128. */
  f64x2Sqrt(): this {
    return this.plain("f64x2.sqrt");
  }
  /** `f64x2.add`: v128 v128 → v128. */
  f64x2Add(): this {
    return this.plain("f64x2.add");
  }
  /** `f64x2.sub`: v128 v128 → v128. */
  f64x2Sub(): this {
    return this.plain("f64x2.sub");
  }
  /** `f64x2.mul`: v128 v128 → v128. */
  f64x2Mul(): this {
    return this.plain("f64x2.mul");
  }
  /** `f64x2.div`: v128 v128 → v128. */
  f64x2Div(): this {
    return this.plain("f64x2.div");
  }
  /** `f64x2.min`: v128 v128 → v128. */
  f64x2Min(): this {
    return this.plain("f64x2.min");
  }
  /** `f64x2.max`: v128 v128 → v128. */
  f64x2Max(): this {
    return this.plain("f64x2.max");
  }
  /** `f64x2.pmin`: v128 v128 → v128. */
  f64x2Pmin(): this {
    return this.plain("f64x2.pmin");
  }
  /** `f64x2.pmax`: v128 v128 → v128. */
  f64x2Pmax(): this {
    return this.plain("f64x2.pmax");
  }
  /** `f32x4.demote_f64x2_zero`: v128 → v128. */
  f32x4DemoteF64x2Zero(): this {
    return this.plain("f32x4.demote_f64x2_zero");
  }
  /** `f64x2.promote_low_f32x4`: v128 → v128. */
  f64x2PromoteLowF32x4(): this {
    return this.plain("f64x2.promote_low_f32x4");
  }
  /** `i32x4.trunc_sat_f32x4_s`: v128 → v128. */
  i32x4TruncSatF32x4S(): this {
    return this.plain("i32x4.trunc_sat_f32x4_s");
  }
  /** `i32x4.trunc_sat_f32x4_u`: v128 → v128. */
  i32x4TruncSatF32x4U(): this {
    return this.plain("i32x4.trunc_sat_f32x4_u");
  }
  /** `f32x4.convert_i32x4_s`: v128 → v128. */
  f32x4ConvertI32x4S(): this {
    return this.plain("f32x4.convert_i32x4_s");
  }
  /** `f32x4.convert_i32x4_u`: v128 → v128. */
  f32x4ConvertI32x4U(): this {
    return this.plain("f32x4.convert_i32x4_u");
  }
  /** `i32x4.trunc_sat_f64x2_s_zero`: v128 → v128. */
  i32x4TruncSatF64x2SZero(): this {
    return this.plain("i32x4.trunc_sat_f64x2_s_zero");
  }
  /** `i32x4.trunc_sat_f64x2_u_zero`: v128 → v128. */
  i32x4TruncSatF64x2UZero(): this {
    return this.plain("i32x4.trunc_sat_f64x2_u_zero");
  }
  /** `f64x2.convert_low_i32x4_s`: v128 → v128. */
  f64x2ConvertLowI32x4S(): this {
    return this.plain("f64x2.convert_low_i32x4_s");
  }
  /** `f64x2.convert_low_i32x4_u`: v128 → v128. */
  f64x2ConvertLowI32x4U(): this {
    return this.plain("f64x2.convert_low_i32x4_u");
  }
  /** `i8x16.relaxed_swizzle`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i8x16RelaxedSwizzle(): this {
    return this.plain("i8x16.relaxed_swizzle");
  }
  /** `i32x4.relaxed_trunc_f32x4_s`: v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedTruncF32x4S(): this {
    return this.plain("i32x4.relaxed_trunc_f32x4_s");
  }
  /** `i32x4.relaxed_trunc_f32x4_u`: v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedTruncF32x4U(): this {
    return this.plain("i32x4.relaxed_trunc_f32x4_u");
  }
  /** `i32x4.relaxed_trunc_f64x2_s_zero`: v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedTruncF64x2SZero(): this {
    return this.plain("i32x4.relaxed_trunc_f64x2_s_zero");
  }
  /** `i32x4.relaxed_trunc_f64x2_u_zero`: v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedTruncF64x2UZero(): this {
    return this.plain("i32x4.relaxed_trunc_f64x2_u_zero");
  }
  /** `f32x4.relaxed_madd`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f32x4RelaxedMadd(): this {
    return this.plain("f32x4.relaxed_madd");
  }
  /** `f32x4.relaxed_nmadd`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f32x4RelaxedNmadd(): this {
    return this.plain("f32x4.relaxed_nmadd");
  }
  /** `f64x2.relaxed_madd`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f64x2RelaxedMadd(): this {
    return this.plain("f64x2.relaxed_madd");
  }
  /** `f64x2.relaxed_nmadd`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f64x2RelaxedNmadd(): this {
    return this.plain("f64x2.relaxed_nmadd");
  }
  /** `i8x16.relaxed_laneselect`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i8x16RelaxedLaneselect(): this {
    return this.plain("i8x16.relaxed_laneselect");
  }
  /** `i16x8.relaxed_laneselect`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i16x8RelaxedLaneselect(): this {
    return this.plain("i16x8.relaxed_laneselect");
  }
  /** `i32x4.relaxed_laneselect`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedLaneselect(): this {
    return this.plain("i32x4.relaxed_laneselect");
  }
  /** `i64x2.relaxed_laneselect`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i64x2RelaxedLaneselect(): this {
    return this.plain("i64x2.relaxed_laneselect");
  }
  /** `f32x4.relaxed_min`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f32x4RelaxedMin(): this {
    return this.plain("f32x4.relaxed_min");
  }
  /** `f32x4.relaxed_max`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f32x4RelaxedMax(): this {
    return this.plain("f32x4.relaxed_max");
  }
  /** `f64x2.relaxed_min`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f64x2RelaxedMin(): this {
    return this.plain("f64x2.relaxed_min");
  }
  /** `f64x2.relaxed_max`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  f64x2RelaxedMax(): this {
    return this.plain("f64x2.relaxed_max");
  }
  /** `i16x8.relaxed_q15mulr_s`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i16x8RelaxedQ15mulrS(): this {
    return this.plain("i16x8.relaxed_q15mulr_s");
  }
  /** `i16x8.relaxed_dot_i8x16_i7x16_s`: v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i16x8RelaxedDotI8x16I7x16S(): this {
    return this.plain("i16x8.relaxed_dot_i8x16_i7x16_s");
  }
  /** `i32x4.relaxed_dot_i8x16_i7x16_add_s`: v128 v128 v128 → v128. Relaxed SIMD: result may depend on the machine. */
  i32x4RelaxedDotI8x16I7x16AddS(): this {
    return this.plain("i32x4.relaxed_dot_i8x16_i7x16_add_s");
  }
}
