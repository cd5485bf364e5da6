/**
 * Writes one function body. Every instruction is checked against its stack signature as it is
 * written (the validation algorithm of the WebAssembly spec's appendix), so misuse fails here with
 * the function, the instruction and the stack in the message, rather than later as an opaque
 * `CompileError` from the engine. Control flow is structured with closures: `block`, `loop` and
 * `if` hand the body a `Label`, and `br`/`brIf`/`brTable` compute relative depths from it.
 */
import { ByteWriter, f32Bytes, f64Bytes } from "./bytes.ts";
import {
  ATOMIC_OPCODES,
  type AtomicInstructionMethods,
  type AtomicOpName,
  CONTROL,
  type Immediate,
  type ImmediateArgs,
  type InstructionMethods,
  OPCODES,
  type OpInfo,
  type OpName,
  V128_CONST,
  instructionInfo,
  methodName,
} from "./opcodes.ts";
import {
  type BlockType,
  type FuncRef,
  type FuncType,
  type Global,
  type Local,
  type MemArg,
  type ValType,
  VALTYPE_CODE,
  sameTypes,
  typesText,
} from "./types.ts";

/** A mistake in using the builders (wrong operand types, a label out of scope, …). */
export class WasmBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WasmBuildError";
  }
}

/** What a function body needs from its module. */
export interface ModuleContext {
  /** The index of a signature in the type section (deduplicated; stable once given out). */
  typeIndex(type: FuncType): number;
  /** The final index of a function, known only when the module is serialised. */
  funcIndex(ref: FuncRef): number;
  ownsFunc(ref: FuncRef): boolean;
  ownsGlobal(global: Global): boolean;
  /** Records that a memory instruction was used (the module must then have a memory). */
  noteMemoryUse(op: string): void;
}

type FrameKind = "function" | "block" | "loop" | "if" | "else";

interface Frame {
  kind: FrameKind;
  params: readonly ValType[];
  results: readonly ValType[];
  /** Operand stack height when the frame was entered (after popping its params). */
  height: number;
  /** True after br/return/unreachable: the rest of the frame is dead code with a polymorphic stack. */
  unreachable: boolean;
  /** Still on the control stack (a label whose frame has ended is out of scope). */
  open: boolean;
  label: Label;
}

/** A branch target, handed to the body of `block`/`loop`/`if`. Valid only inside that body. */
export class Label {
  readonly kind = "label";
  /** @internal */
  frame!: Frame;

  constructor(
    /** e.g. `"loop opened at instruction 12"`, used in error messages. */
    readonly description: string,
  ) {}
}

/** `null` stands for an unknown type (the polymorphic stack after an unconditional branch). */
type StackType = ValType | null;

const LETTER_TYPES: Readonly<Record<string, ValType>> = { i: "i32", l: "i64", f: "f32", d: "f64", v: "v128" };

interface Signature {
  ins: readonly ValType[];
  outs: readonly ValType[];
}

const signatureCache = new Map<string, Signature>();

function parseSignature(sig: string): Signature {
  let parsed = signatureCache.get(sig);
  if (!parsed) {
    const [ins, outs] = sig.split(":");
    const types = (letters: string) => [...letters].map((c) => LETTER_TYPES[c]);
    parsed = { ins: types(ins), outs: types(outs) };
    signatureCache.set(sig, parsed);
  }
  return parsed;
}

/** How many immediate arguments each kind of immediate takes (min, max), and how to say it in an error. */
const IMMEDIATE_ARGUMENTS: Readonly<Record<Immediate, readonly [number, number, string]>> = {
  none: [0, 0, "no immediates"],
  memory: [0, 0, "no immediates"],
  "memory-pair": [0, 0, "no immediates"],
  memarg: [0, 1, "an optional memarg"],
  "memarg-lane": [1, 2, "a lane index and an optional memarg"],
  lane: [1, 1, "a lane index"],
  shuffle: [1, 1, "16 lane indices"],
  fence: [0, 0, "no immediates"],
};

/** The immediates of instructions that address the memory (the module must then have one). */
const MEMORY_IMMEDIATES: ReadonlySet<Immediate> = new Set(["memarg", "memarg-lane", "memory", "memory-pair"]);

/** The instruction methods, one per row of the opcode tables (installed in the class's static block). */
export interface FunctionBuilder extends InstructionMethods<FunctionBuilder>, AtomicInstructionMethods<FunctionBuilder> {}

export class FunctionBuilder {
  /** The function's parameters, in order (also reachable by name from the body callback). */
  readonly params: readonly Local[];
  private readonly locals: Local[] = [];
  private readonly localNames = new Set<string>();
  /** Per requested name, the first suffix not yet tried (names are never freed, so lower ones stay taken). */
  private readonly nextSuffix = new Map<string, number>();
  private readonly code = new ByteWriter();
  private readonly stack: StackType[] = [];
  private readonly frames: Frame[] = [];
  private instructionCount = 0;
  private finished = false;

  /** @internal Use `ModuleBuilder.function`. */
  constructor(
    private readonly context: ModuleContext,
    /** The function's name (as in the name section). */
    readonly name: string,
    readonly type: FuncType,
    paramNames: readonly string[],
  ) {
    this.params = type.params.map((t, i) => this.addLocal(t, paramNames[i] ?? `p${i}`));
    this.frames.push(this.newFrame("function", [], type.results, 0));
  }

  // ---- locals ----------------------------------------------------------------------------------

  /** Declares a local variable of `type`. Names are made unique by a numeric suffix if taken. */
  local(type: ValType, name?: string): Local {
    this.assertOpen("local");
    return this.addLocal(type, name ?? `${type}_${this.locals.length}`);
  }

  /** Parameters and locals, in index order (for the name section). */
  allLocals(): readonly Local[] {
    return this.locals;
  }

  localGet(local: Local): this {
    this.checkLocal(local, "local.get");
    return this.instruction("local.get", [], [local.type], () => this.code.byte(CONTROL.localGet).u32(local.index));
  }

  localSet(local: Local): this {
    this.checkLocal(local, "local.set");
    return this.instruction("local.set", [local.type], [], () => this.code.byte(CONTROL.localSet).u32(local.index));
  }

  /** Sets the local and leaves the value on the stack. */
  localTee(local: Local): this {
    this.checkLocal(local, "local.tee");
    return this.instruction("local.tee", [local.type], [local.type], () => this.code.byte(CONTROL.localTee).u32(local.index));
  }

  globalGet(global: Global): this {
    this.checkGlobal(global, "global.get");
    return this.instruction("global.get", [], [global.type], () => this.code.byte(CONTROL.globalGet).u32(global.index));
  }

  globalSet(global: Global): this {
    this.checkGlobal(global, "global.set");
    if (!global.mutable) throw this.error("global.set", `global "${global.name}" is immutable`);
    return this.instruction("global.set", [global.type], [], () => this.code.byte(CONTROL.globalSet).u32(global.index));
  }

  // ---- constants -------------------------------------------------------------------------------

  /** `i32.const`: an integer in [-2^31, 2^32) (values ≥ 2^31 are taken as their u32 bit pattern). */
  i32Const(value: number): this {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
      throw this.error("i32.const", `${value} is not an integer in [-2^31, 2^32)`);
    }
    return this.instruction("i32.const", [], ["i32"], () => this.code.byte(CONTROL.i32Const).s32(value));
  }

  /** `i64.const`: a bigint in [-2^63, 2^64), or a safe integer. */
  i64Const(value: bigint | number): this {
    const big = this.toI64(value, "i64.const");
    return this.instruction("i64.const", [], ["i64"], () => this.code.byte(CONTROL.i64Const).s64(big));
  }

  /** `f32.const`: `value` rounded to f32. */
  f32Const(value: number): this {
    return this.instruction("f32.const", [], ["f32"], () => this.code.byte(CONTROL.f32Const).f32(value));
  }

  f64Const(value: number): this {
    return this.instruction("f64.const", [], ["f64"], () => this.code.byte(CONTROL.f64Const).f64(value));
  }

  /** `v128.const` from its 16 bytes (little-endian lane order). */
  v128Const(bytes: ArrayLike<number>): this {
    if (bytes.length !== 16) throw this.error("v128.const", `needs 16 bytes, got ${bytes.length}`);
    return this.instruction("v128.const", [], ["v128"], () => this.code.byte(0xfd).u32(V128_CONST).bytes(bytes));
  }

  /** `v128.const` with four f32 lanes; a single number fills every lane. */
  f32x4Const(lanes: number | readonly number[]): this {
    return this.v128Const(this.laneBytes("f32x4.const", lanes, 4, f32Bytes));
  }

  /** `v128.const` with two f64 lanes; a single number fills both. */
  f64x2Const(lanes: number | readonly number[]): this {
    return this.v128Const(this.laneBytes("f64x2.const", lanes, 2, f64Bytes));
  }

  /** `v128.const` with four i32 lanes (integers in [-2^31, 2^32)); a single number fills every lane. */
  i32x4Const(lanes: number | readonly number[]): this {
    return this.v128Const(this.laneBytes("i32x4.const", lanes, 4, (v) => this.intBytes("i32x4.const", v, 4)));
  }

  /** `v128.const` with two i64 lanes. */
  i64x2Const(lanes: bigint | number | readonly (bigint | number)[]): this {
    const list = typeof lanes === "object" ? lanes : [lanes, lanes];
    if (list.length !== 2) throw this.error("i64x2.const", `needs 2 lanes, got ${list.length}`);
    const bytes = list.flatMap((v) => {
      const big = BigInt.asUintN(64, this.toI64(v, "i64x2.const"));
      return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Number((big >> BigInt(8 * i)) & 0xffn));
    });
    return this.v128Const(bytes);
  }

  /** `v128.const` with eight i16 lanes. */
  i16x8Const(lanes: number | readonly number[]): this {
    return this.v128Const(this.laneBytes("i16x8.const", lanes, 8, (v) => this.intBytes("i16x8.const", v, 2)));
  }

  /** `v128.const` with sixteen i8 lanes. */
  i8x16Const(lanes: number | readonly number[]): this {
    return this.v128Const(this.laneBytes("i8x16.const", lanes, 16, (v) => this.intBytes("i8x16.const", v, 1)));
  }

  // ---- parametric ------------------------------------------------------------------------------

  nop(): this {
    return this.instruction("nop", [], [], () => this.code.byte(CONTROL.nop));
  }

  /** Traps. The rest of the enclosing block is dead code. */
  unreachable(): this {
    this.instruction("unreachable", [], [], () => this.code.byte(CONTROL.unreachable));
    this.markUnreachable();
    return this;
  }

  /** Drops the value on top of the stack. */
  drop(): this {
    this.begin("drop");
    this.popAny("drop");
    this.code.byte(CONTROL.drop);
    return this;
  }

  /** `select`: pops `a b cond` (cond an i32) and pushes `cond ? a : b`; a and b have one numeric or v128 type. */
  select(): this {
    this.begin("select");
    this.popExpected(["i32"], "select (condition)");
    const b = this.popAny("select");
    const a = this.popAny("select");
    if (a !== null && b !== null && a !== b) throw this.error("select", `operands have different types: ${a} and ${b}`);
    this.code.byte(CONTROL.select);
    this.stack.push(a ?? b);
    return this;
  }

  // ---- calls -----------------------------------------------------------------------------------

  /** Calls a function of this module (imported or defined), popping its params and pushing its results. */
  call(fn: FuncRef): this {
    if (!this.context.ownsFunc(fn)) throw this.error("call", `function "${fn.name}" belongs to another module`);
    return this.instruction(`call ${fn.name}`, fn.type.params, fn.type.results, () =>
      this.code.byte(CONTROL.call).deferredU32(() => this.context.funcIndex(fn)),
    );
  }

  /** Returns from the function with its results on the stack. */
  return(): this {
    this.begin("return");
    this.popExpected(this.frames[0].results, "return");
    this.code.byte(CONTROL.return);
    this.markUnreachable();
    return this;
  }

  // ---- structured control ----------------------------------------------------------------------

  /** A block; `br(label)` inside jumps to its end. */
  block(body: (label: Label) => void): this;
  block(type: BlockType, body: (label: Label) => void): this;
  block(typeOrBody: BlockType | ((label: Label) => void), maybeBody?: (label: Label) => void): this {
    const [type, body] = this.blockArgs("block", typeOrBody, maybeBody);
    const frame = this.enter("block", type, CONTROL.block);
    body(frame.label);
    return this.exit(frame);
  }

  /** A loop; `br(label)` inside jumps back to its start (so a loop only repeats by branching). */
  loop(body: (label: Label) => void): this;
  loop(type: BlockType, body: (label: Label) => void): this;
  loop(typeOrBody: BlockType | ((label: Label) => void), maybeBody?: (label: Label) => void): this {
    const [type, body] = this.blockArgs("loop", typeOrBody, maybeBody);
    const frame = this.enter("loop", type, CONTROL.loop);
    body(frame.label);
    return this.exit(frame);
  }

  /**
   * Pops an i32 condition; runs `then` if it is non-zero, else `otherwise`. Both get the label of
   * the if's end. Without `otherwise`, the type must leave the stack as it found it.
   */
  if(then: (label: Label) => void, otherwise?: (label: Label) => void): this;
  if(type: BlockType, then: (label: Label) => void, otherwise?: (label: Label) => void): this;
  if(
    typeOrThen: BlockType | ((label: Label) => void),
    thenOrOtherwise?: (label: Label) => void,
    maybeOtherwise?: (label: Label) => void,
  ): this {
    const typed = typeof typeOrThen !== "function";
    const type: BlockType = typed ? typeOrThen : "void";
    const then = typed ? thenOrOtherwise : typeOrThen;
    const otherwise = typed ? maybeOtherwise : thenOrOtherwise;
    if (!then) throw this.error("if", "needs a body");
    this.begin("if");
    this.popExpected(["i32"], "if (condition)");
    const frame = this.enter("if", type, CONTROL.if, true);
    then(frame.label);
    if (otherwise) {
      this.endOfBranch(frame, "if (then branch)");
      this.code.byte(CONTROL.else);
      this.instructionCount++;
      frame.kind = "else";
      frame.unreachable = false;
      this.stack.push(...frame.params);
      otherwise(frame.label);
    } else if (!sameTypes(frame.params, frame.results)) {
      throw this.error("if", `without an else branch, the if must leave its params [${frame.params.join(" ")}] unchanged, but its results are [${frame.results.join(" ")}]`);
    }
    return this.exit(frame);
  }

  /** Branches to `label` (a block/if end, or a loop start), taking the label's values from the stack. */
  br(label: Label): this {
    const name = "br";
    this.begin(name);
    const depth = this.depthOf(label, name);
    this.popExpected(this.labelTypes(label.frame), `${name} to ${label.description}`);
    this.code.byte(CONTROL.br).u32(depth);
    this.markUnreachable();
    return this;
  }

  /** Pops an i32 and branches to `label` if it is non-zero. */
  brIf(label: Label): this {
    const name = "br_if";
    this.begin(name);
    const depth = this.depthOf(label, name);
    this.popExpected(["i32"], "br_if (condition)");
    const types = this.labelTypes(label.frame);
    this.popExpected(types, `${name} to ${label.description}`);
    this.stack.push(...types);
    this.code.byte(CONTROL.brIf).u32(depth);
    return this;
  }

  /** Pops an i32 index and branches to `labels[index]`, or to `otherwise` when out of range. */
  brTable(labels: readonly Label[], otherwise: Label): this {
    const name = "br_table";
    this.begin(name);
    const depths = labels.map((l) => this.depthOf(l, name));
    const defaultDepth = this.depthOf(otherwise, name);
    const types = this.labelTypes(otherwise.frame);
    for (const l of labels) {
      if (!sameTypes(this.labelTypes(l.frame), types)) {
        throw this.error(name, `${l.description} takes [${this.labelTypes(l.frame).join(" ")}] but the default target takes [${types.join(" ")}]`);
      }
    }
    this.popExpected(["i32"], "br_table (index)");
    this.popExpected(types, name);
    this.code.byte(CONTROL.brTable).vector(depths, (d, w) => w.u32(d)).u32(defaultDepth);
    this.markUnreachable();
    return this;
  }

  // ---- table instructions --------------------------------------------------------------------

  /**
   * Writes a table instruction by its text-format name, with its immediates: `f.op("f32x4.add")`,
   * `f.op("f32x4.extract_lane", 2)`. The named methods (`f32x4Add()`, `f32x4ExtractLane(2)`) do the
   * same; `op` serves renderers that build the name at run time (`${shape}.add`).
   */
  op<Op extends OpName>(name: Op, ...imm: ImmediateArgs<Op>): this {
    return this.tableInstruction(name, imm);
  }

  // The named instruction methods: their types are mapped from the table (InstructionMethods, merged
  // into this class's interface above), their bodies installed here, one per row, all through op's path.
  static {
    for (const op of [...Object.keys(OPCODES), ...Object.keys(ATOMIC_OPCODES)] as (OpName | AtomicOpName)[]) {
      Object.defineProperty(this.prototype, methodName(op), {
        value(this: FunctionBuilder, ...imm: unknown[]): FunctionBuilder {
          return this.tableInstruction(op, imm);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  // ---- module-facing ---------------------------------------------------------------------------

  /** @internal Ends the body (checking the results) and returns its code, locals included. */
  finish(): ByteWriter {
    this.assertOpen("end of function");
    if (this.frames.length !== 1) {
      throw this.error("end of function", `${this.frames.length - 1} block(s) still open`);
    }
    this.checkFrameEnd(this.frames[0], "end of function");
    this.code.byte(CONTROL.end);
    this.finished = true;
    const body = new ByteWriter();
    const groups = this.localGroups();
    body.vector(groups, (g, w) => w.u32(g.count).byte(VALTYPE_CODE[g.type]));
    body.append(this.code);
    return body;
  }

  /** Whether the body has been ended. */
  get isFinished(): boolean {
    return this.finished;
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Checks a table instruction's immediates, then its operands, and writes it. */
  private tableInstruction(op: OpName | AtomicOpName, imm: readonly unknown[]): this {
    const info = instructionInfo(op);
    if (!info) throw this.error(String(op), "no such instruction in the opcode table");
    const [min, max, expected] = IMMEDIATE_ARGUMENTS[info.imm];
    if (imm.length < min || imm.length > max) throw this.error(op, `takes ${expected}, got ${imm.length} argument(s)`);
    if (MEMORY_IMMEDIATES.has(info.imm)) this.context.noteMemoryUse(op);
    const writeImmediates = this.immediates(op, info, imm);
    const { ins, outs } = parseSignature(info.sig);
    return this.instruction(op, ins, outs, () => {
      if (info.prefix === undefined) this.code.byte(info.code);
      else this.code.byte(info.prefix).u32(info.code);
      writeImmediates();
    });
  }

  /** Checks a table instruction's immediates (the types promise their kinds) and returns what writes them. */
  private immediates(op: OpName | AtomicOpName, info: OpInfo, imm: readonly unknown[]): () => void {
    switch (info.imm) {
      case "none":
        return () => {};
      case "memory":
        return () => this.code.byte(0x00);
      case "memory-pair":
        return () => this.code.byte(0x00).byte(0x00);
      case "fence":
        return () => this.code.byte(0x00);
      case "memarg": {
        const [align, offset] = this.memargFields(op, info, imm[0] as MemArg | undefined);
        return () => this.code.u32(align).u32(offset);
      }
      case "lane": {
        const lane = this.checkLane(op, info, imm[0]);
        return () => this.code.byte(lane);
      }
      case "memarg-lane": {
        const lane = this.checkLane(op, info, imm[0]);
        const [align, offset] = this.memargFields(op, info, imm[1] as MemArg | undefined);
        return () => this.code.u32(align).u32(offset).byte(lane);
      }
      case "shuffle": {
        const lanes = imm[0] as readonly number[];
        if (lanes.length !== 16 || !lanes.every((l) => Number.isInteger(l) && l >= 0 && l < 32)) {
          throw this.error(op, `needs 16 lane indices in [0, 32), got [${lanes.join(", ")}]`);
        }
        return () => this.code.bytes(lanes);
      }
    }
  }

  /** Checks and applies an instruction's stack effect, then writes it. */
  private instruction(name: string, ins: readonly ValType[], outs: readonly ValType[], write: () => void): this {
    this.begin(name);
    this.popExpected(ins, name);
    write();
    this.stack.push(...outs);
    return this;
  }

  private begin(name: string): void {
    this.assertOpen(name);
    this.instructionCount++;
  }

  private assertOpen(what: string): void {
    if (this.finished) throw new WasmBuildError(`function "${this.name}": ${what} after the function body ended`);
  }

  private addLocal(type: ValType, requested: string): Local {
    let name = requested;
    let n = this.nextSuffix.get(requested) ?? 1;
    for (; this.localNames.has(name); n++) name = `${requested}_${n}`;
    this.nextSuffix.set(requested, n);
    this.localNames.add(name);
    const local: Local = { kind: "local", index: this.locals.length, type, name, owner: this };
    this.locals.push(local);
    return local;
  }

  private checkLocal(local: Local, op: string): void {
    if (local.owner !== this) throw this.error(op, `local "${local.name}" belongs to another function`);
  }

  private checkGlobal(global: Global, op: string): void {
    if (!this.context.ownsGlobal(global)) throw this.error(op, `global "${global.name}" belongs to another module`);
  }

  /** Local declarations as runs of one type (params are not declared). */
  private localGroups(): { count: number; type: ValType }[] {
    const groups: { count: number; type: ValType }[] = [];
    for (const local of this.locals.slice(this.params.length)) {
      const last = groups[groups.length - 1];
      if (last && last.type === local.type) last.count++;
      else groups.push({ count: 1, type: local.type });
    }
    return groups;
  }

  private memargFields(op: string, info: OpInfo, memarg: MemArg | undefined): [number, number] {
    const width = info.bytes ?? 1;
    const align = memarg?.align ?? width;
    const log2 = Math.log2(align);
    if (!Number.isInteger(log2) || align > width) {
      throw this.error(op, `align must be a power of two no larger than the access width ${width} (bytes), got ${align}`);
    }
    // an atomic access names its natural alignment, no other (the threads proposal's validation rule)
    if (info.feature === "threads" && align !== width) throw this.error(op, `an atomic access's align must be its width ${width} (bytes), got ${align}`);
    const offset = memarg?.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || offset >= 2 ** 32) {
      throw this.error(op, `offset must be an integer in [0, 2^32), got ${offset}`);
    }
    return [log2, offset];
  }

  private checkLane(op: string, info: OpInfo, lane: unknown): number {
    const lanes = info.lanes ?? 0;
    if (typeof lane !== "number" || !Number.isInteger(lane) || lane < 0 || lane >= lanes) {
      throw this.error(op, `lane must be an integer in [0, ${lanes}), got ${String(lane)}`);
    }
    return lane;
  }

  private laneBytes(op: string, lanes: number | readonly number[], count: number, bytesOf: (v: number) => number[]): number[] {
    const list = typeof lanes === "number" ? new Array<number>(count).fill(lanes) : lanes;
    if (list.length !== count) throw this.error(op, `needs ${count} lanes, got ${list.length}`);
    return list.flatMap(bytesOf);
  }

  private intBytes(op: string, value: number, width: number): number[] {
    const bits = 8 * width;
    if (!Number.isInteger(value) || value < -(2 ** (bits - 1)) || value >= 2 ** bits) {
      throw this.error(op, `lane value ${value} is not an integer in [-2^${bits - 1}, 2^${bits})`);
    }
    const unsigned = value < 0 ? value + 2 ** bits : value;
    return Array.from({ length: width }, (_, i) => Math.floor(unsigned / 2 ** (8 * i)) % 256);
  }

  private toI64(value: bigint | number, op: string): bigint {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw this.error(op, `${value} is not a safe integer (pass a bigint)`);
    }
    const big = BigInt(value);
    if (big < -(2n ** 63n) || big >= 2n ** 64n) throw this.error(op, `${value} is not in [-2^63, 2^64)`);
    return big;
  }

  private blockArgs(
    op: string,
    typeOrBody: BlockType | ((label: Label) => void),
    maybeBody: ((label: Label) => void) | undefined,
  ): [BlockType, (label: Label) => void] {
    if (typeof typeOrBody === "function") return ["void", typeOrBody];
    if (!maybeBody) throw this.error(op, "needs a body");
    return [typeOrBody, maybeBody];
  }

  private blockSignature(type: BlockType): FuncType {
    if (type === "void") return { params: [], results: [] };
    if (typeof type === "string") return { params: [], results: [type] };
    return type;
  }

  private writeBlockType(type: BlockType): void {
    if (type === "void") this.code.byte(0x40);
    else if (typeof type === "string") this.code.byte(VALTYPE_CODE[type]);
    else if (type.params.length === 0 && type.results.length === 0) this.code.byte(0x40);
    else if (type.params.length === 0 && type.results.length === 1) this.code.byte(VALTYPE_CODE[type.results[0]]);
    else this.code.bytes(signedLebOfTypeIndex(this.context.typeIndex(type)));
  }

  private newFrame(kind: FrameKind, params: readonly ValType[], results: readonly ValType[], height: number): Frame {
    const label = new Label(`${kind} opened at instruction ${this.instructionCount}`);
    const frame: Frame = { kind, params, results, height, unreachable: false, open: true, label };
    label.frame = frame;
    return frame;
  }

  /** Opens a block/loop/if frame; for `if`, the condition was already popped by the caller. */
  private enter(kind: "block" | "loop" | "if", type: BlockType, opcode: number, begun = false): Frame {
    if (!begun) this.begin(kind);
    const sig = this.blockSignature(type);
    this.popExpected(sig.params, `${kind} (params)`);
    this.code.byte(opcode);
    this.writeBlockType(type);
    const frame = this.newFrame(kind, sig.params, sig.results, this.stack.length);
    this.frames.push(frame);
    this.stack.push(...sig.params);
    return frame;
  }

  private exit(frame: Frame): this {
    const top = this.frames[this.frames.length - 1];
    if (top !== frame) throw this.error("end", `${top.label.description} is still open inside ${frame.label.description}`);
    this.endOfBranch(frame, `end of ${frame.label.description}`);
    this.frames.pop();
    frame.open = false;
    this.code.byte(CONTROL.end);
    this.instructionCount++;
    this.stack.push(...frame.results);
    return this;
  }

  /** At the end of a frame's (or then-branch's) code: exactly the results must be left on its stack. */
  private endOfBranch(frame: Frame, what: string): void {
    this.checkFrameEnd(frame, what);
  }

  private checkFrameEnd(frame: Frame, what: string): void {
    this.popExpected(frame.results, what);
    if (this.stack.length !== frame.height) {
      const extra = this.stack.slice(frame.height).map((t) => t ?? "?");
      throw this.error(what, `leaves [${extra.join(" ")}] on the stack beyond its results [${frame.results.join(" ")}] (unbalanced stack)`);
    }
  }

  private depthOf(label: Label, op: string): number {
    const index = this.frames.indexOf(label.frame);
    if (index < 0 || !label.frame.open) {
      throw this.error(op, `target ${label.description} is not in scope (its block has ended, or it belongs to another function)`);
    }
    return this.frames.length - 1 - index;
  }

  private labelTypes(frame: Frame): readonly ValType[] {
    return frame.kind === "loop" ? frame.params : frame.results;
  }

  private markUnreachable(): void {
    const frame = this.frames[this.frames.length - 1];
    this.stack.length = frame.height;
    frame.unreachable = true;
  }

  /** Pops `types` (the last one on top), with one message listing what was expected and found. */
  private popExpected(types: readonly ValType[], what: string): void {
    const frame = this.frames[this.frames.length - 1];
    const available = this.stack.length - frame.height;
    const taken = Math.min(types.length, available);
    const found = this.stack.slice(this.stack.length - taken);
    const missing = types.length - taken;
    const mismatch = found.some((t, i) => t !== null && t !== types[missing + i]);
    if (mismatch || (missing > 0 && !frame.unreachable)) {
      const shown = found.map((t) => t ?? "?").join(" ");
      const where = frame.kind === "function" ? "" : ` (inside ${frame.label.description})`;
      throw this.error(what, `expects [${typesText(types)}] on the stack, found [${missing > 0 ? `${missing} missing` : ""}${missing > 0 && shown ? " " : ""}${shown}]${where}`);
    }
    this.stack.length -= taken;
  }

  private popAny(what: string): StackType {
    const frame = this.frames[this.frames.length - 1];
    if (this.stack.length === frame.height) {
      if (frame.unreachable) return null;
      throw this.error(what, "expects a value on the stack, found none");
    }
    return this.stack.pop() ?? null;
  }

  private error(op: string, message: string): WasmBuildError {
    return new WasmBuildError(`function "${this.name}", instruction ${this.instructionCount} (${op}): ${message}`);
  }
}

/** A block type index is written as a non-negative s33. */
function signedLebOfTypeIndex(index: number): number[] {
  const w = new ByteWriter().s64(BigInt(index));
  return [...w.toBytes()];
}
