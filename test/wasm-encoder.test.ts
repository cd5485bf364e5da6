/**
 * The WebAssembly encoder (src/render/wasm/encoder.ts): modules built with the API validate, run and
 * compute what they should; every row of the opcode table encodes to the bytes wabt assembles from
 * the same text, and wabt prints it back under its name; LEB128 edge cases; deterministic bytes;
 * names in wabt's text; clear errors on misuse (wrong immediates caught by the compiler as well);
 * relaxed SIMD feature detection.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  signedLeb128,
  signedLeb128Big,
  unsignedLeb128,
  unsignedLeb128Big,
} from "../src/render/wasm/bytes.ts";
import { FunctionBuilder, ModuleBuilder, type ValType, WasmBuildError } from "../src/render/wasm/encoder.ts";
import { relaxedSimdProbe, relaxedSimdSupported, simdSupported } from "../src/render/wasm/features.ts";
import { type MethodName, OPCODES, type OpInfo, type OpName, methodName, opName } from "../src/render/wasm/opcodes.ts";
import { wabtValidate, wasmToText, watToWasm } from "./helpers/wat.ts";

type Exports = Record<string, unknown>;

function instantiate(mod: ModuleBuilder, imports: WebAssembly.Imports = {}): Exports {
  const bytes = mod.toBytes();
  expect(WebAssembly.validate(bytes)).toBe(true);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports as Exports;
}

function fn<T extends (...args: never[]) => unknown>(exports: Exports, name: string): T {
  const f = exports[name];
  if (typeof f !== "function") throw new Error(`no exported function ${name}`);
  return f as T;
}

function memoryOf(exports: Exports): WebAssembly.Memory {
  const m = exports.memory;
  if (!(m instanceof WebAssembly.Memory)) throw new Error("no exported memory");
  return m;
}

const LETTER: Record<string, ValType> = { i: "i32", l: "i64", f: "f32", d: "f64", v: "v128" };

function sigTypes(sig: string): { ins: ValType[]; outs: ValType[] } {
  const [ins, outs] = sig.split(":");
  return { ins: [...ins].map((c) => LETTER[c]), outs: [...outs].map((c) => LETTER[c]) };
}

/** The identity shuffle, the default immediate of i8x16.shuffle here. */
const IDENTITY_SHUFFLE = Array.from({ length: 16 }, (_, i) => i);

/** A table instruction in the text format, with the immediates emitTableOp gives it. */
function tableOpText(op: OpName): string {
  switch (OPCODES[op].imm) {
    case "lane":
    case "memarg-lane":
      return `${op} 0`;
    case "shuffle":
      return `${op} ${IDENTITY_SHUFFLE.join(" ")}`;
    default:
      return op;
  }
}

/** Reads unsigned LEB128 numbers and byte runs (enough of a decoder to find sections and bodies). */
class ByteReader {
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  u32(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.bytes[this.at++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  }

  take(n: number): Uint8Array {
    this.at += n;
    return this.bytes.subarray(this.at - n, this.at);
  }
}

/** The payload of section `id` of a module binary, found by walking the section headers. */
function sectionOf(bytes: Uint8Array, id: number): Uint8Array {
  const r = new ByteReader(bytes);
  r.take(8); // the magic number and version
  while (!r.done) {
    const section = r.take(1)[0];
    const payload = r.take(r.u32());
    if (section === id) return payload;
  }
  throw new Error(`no section ${id}`);
}

/** The function bodies of a module's code section, each as hex bytes. */
function functionBodies(module: Uint8Array): string[] {
  const r = new ByteReader(sectionOf(module, CODE_SECTION));
  return Array.from({ length: r.u32() }, () => hex([...r.take(r.u32())]));
}

const hex = (bytes: readonly number[]) => bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ");

const CODE_SECTION = 10;

/** Calls a table instruction's method by name, with default immediates (lane 0, identity shuffle). */
function emitTableOp(f: FunctionBuilder, op: OpName): void {
  const info: OpInfo = OPCODES[op];
  const method = (f as unknown as Record<string, (...args: unknown[]) => FunctionBuilder>)[methodName(op)];
  switch (info.imm) {
    case "lane":
    case "memarg-lane":
      method.call(f, 0);
      break;
    case "shuffle":
      method.call(f, IDENTITY_SHUFFLE);
      break;
    default:
      method.call(f);
  }
}

// ---- LEB128 --------------------------------------------------------------------------------------

describe("LEB128", () => {
  it("encodes unsigned values at the byte boundaries", () => {
    expect(unsignedLeb128(0)).toEqual([0x00]);
    expect(unsignedLeb128(127)).toEqual([0x7f]);
    expect(unsignedLeb128(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb128(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(unsignedLeb128Big(2n ** 64n - 1n)).toEqual([...new Array(9).fill(0xff), 0x01]);
  });

  it("encodes signed values with the sign bit of the last byte", () => {
    expect(signedLeb128(0)).toEqual([0x00]);
    expect(signedLeb128(-1)).toEqual([0x7f]);
    expect(signedLeb128(63)).toEqual([0x3f]);
    expect(signedLeb128(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb128(-64)).toEqual([0x40]);
    expect(signedLeb128(-65)).toEqual([0xbf, 0x7f]);
    expect(signedLeb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb128(2 ** 31 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(signedLeb128(-(2 ** 31))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    // u32 bit patterns of negative numbers are what i32.const means by them
    expect(signedLeb128(0xffffffff)).toEqual([0x7f]);
    expect(signedLeb128Big(2n ** 63n - 1n)).toEqual([...new Array(8).fill(0xff), 0xff, 0x00]);
    expect(signedLeb128Big(-(2n ** 63n))).toEqual([...new Array(9).fill(0x80), 0x7f]);
    expect(signedLeb128Big(2n ** 64n - 1n)).toEqual([0x7f]);
  });

  it("rejects values out of range or not integers", () => {
    expect(() => unsignedLeb128(-1)).toThrow(RangeError);
    expect(() => unsignedLeb128(2 ** 32)).toThrow(RangeError);
    expect(() => unsignedLeb128(1.5)).toThrow(RangeError);
    expect(() => signedLeb128(-(2 ** 31) - 1)).toThrow(RangeError);
    expect(() => signedLeb128Big(-(2n ** 63n) - 1n)).toThrow(RangeError);
    expect(() => unsignedLeb128Big(-1n)).toThrow(RangeError);
  });

  it("round-trips through the engine: i32/i64 constants at the edges", () => {
    const i32s = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8193, 2 ** 31 - 1, -(2 ** 31)];
    const i64s = [0n, -1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    const mod = new ModuleBuilder();
    i32s.forEach((v, i) => mod.exportFunction(`i${i}`, mod.function(`i${i}`, { results: ["i32"] }, (f) => void f.i32Const(v))));
    i64s.forEach((v, i) => mod.exportFunction(`l${i}`, mod.function(`l${i}`, { results: ["i64"] }, (f) => void f.i64Const(v))));
    const e = instantiate(mod);
    i32s.forEach((v, i) => expect(fn<() => number>(e, `i${i}`)()).toBe(v));
    i64s.forEach((v, i) => expect(fn<() => bigint>(e, `l${i}`)()).toBe(v));
  });
});

// ---- the opcode table ----------------------------------------------------------------------------

describe("opcode table", () => {
  const ops = Object.keys(OPCODES) as OpName[];

  /** One function per opcode: its operands from params, its results returned. */
  function everyOpcodeModule(include: (op: OpName) => boolean): { bytes: Uint8Array<ArrayBuffer>; names: OpName[] } {
    const mod = new ModuleBuilder("every_opcode");
    mod.defineMemory({ min: 1 });
    const names = ops.filter(include);
    names.forEach((op, i) => {
      const { ins, outs } = sigTypes(OPCODES[op].sig);
      const params = Object.fromEntries(ins.map((t, k) => [`a${k}`, t]));
      mod.function(`op${i}`, { params, results: outs }, (f) => {
        for (const p of f.params) f.localGet(p);
        emitTableOp(f, op);
      });
    });
    return { bytes: mod.toBytes(), names };
  }

  it("has a FunctionBuilder method for every instruction", () => {
    const missing = ops.filter((op) => typeof (FunctionBuilder.prototype as unknown as Record<string, unknown>)[methodName(op)] !== "function");
    expect(missing).toEqual([]);
  });

  it("names each method at run time as its type does (the camelCased text-format name)", () => {
    // The annotation makes the compiler check the type-level names; the loop checks the run-time ones.
    const samples: { readonly [Op in OpName]?: MethodName<Op> } = {
      "i32.trunc_sat_f32_s": "i32TruncSatF32S",
      "v128.load8x8_s": "v128Load8x8S",
      "f32x4.relaxed_madd": "f32x4RelaxedMadd",
      "i16x8.extract_lane_u": "i16x8ExtractLaneU",
      "memory.copy": "memoryCopy",
    };
    for (const [op, name] of Object.entries(samples)) expect(methodName(op)).toBe(name);
  });

  it("encodes every non-relaxed instruction so that V8 validates it with the table's signature", () => {
    const { bytes } = everyOpcodeModule((op) => OPCODES[op].feature !== "relaxed-simd");
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it("encodes every instruction (relaxed SIMD included) to the bytes wabt assembles from the same text", async () => {
    const { bytes, names } = everyOpcodeModule(() => true);
    const funcs = names.map((op) => {
      const { ins, outs } = sigTypes(OPCODES[op].sig);
      const params = ins.length > 0 ? ` (param ${ins.join(" ")})` : "";
      const results = outs.length > 0 ? ` (result ${outs.join(" ")})` : "";
      const operands = ins.map((_, k) => `local.get ${k} `).join("");
      return `  (func${params}${results} ${operands}${tableOpText(op)})`;
    });
    const wat = `(module\n  (memory 1)\n${funcs.join("\n")}\n)`;
    const assembled = await watToWasm(wat, { relaxedSimd: true });
    // Function by function, so that a difference names its instruction.
    const ours = functionBodies(bytes);
    const wabts = functionBodies(assembled);
    expect(ours.length).toBe(names.length);
    const different = names.flatMap((op, i) => (ours[i] === wabts[i] ? [] : [`${op}: ${ours[i]} (wabt: ${wabts[i]})`]));
    expect(different).toEqual([]);
  });

  it("encodes a few instructions to the bytes the specification lists", () => {
    // [instruction, its method call, its bytes from the specification's binary format]
    const expected: [OpName, (f: FunctionBuilder) => void, number[]][] = [
      ["i32.add", (f) => f.i32Add(), [0x6a]],
      ["f64.promote_f32", (f) => f.f64PromoteF32(), [0xbb]],
      ["i32.trunc_sat_f64_u", (f) => f.i32TruncSatF64U(), [0xfc, 0x03]],
      ["f32.load", (f) => f.f32Load({ offset: 8 }), [0x2a, 0x02, 0x08]], // align 2^2, offset 8
      ["i64.load8_u", (f) => f.i64Load8U(), [0x31, 0x00, 0x00]],
      ["memory.copy", (f) => f.memoryCopy(), [0xfc, 0x0a, 0x00, 0x00]],
      ["memory.fill", (f) => f.memoryFill(), [0xfc, 0x0b, 0x00]],
      ["f32x4.add", (f) => f.f32x4Add(), [0xfd, 0xe4, 0x01]],
      ["f32x4.extract_lane", (f) => f.f32x4ExtractLane(3), [0xfd, 0x1f, 0x03]],
      ["v128.store64_lane", (f) => f.v128Store64Lane(1, { offset: 4, align: 4 }), [0xfd, 0x5b, 0x02, 0x04, 0x01]],
      ["i8x16.shuffle", (f) => f.i8x16Shuffle([...IDENTITY_SHUFFLE].reverse()), [0xfd, 0x0d, ...[...IDENTITY_SHUFFLE].reverse()]],
      ["f64x2.relaxed_madd", (f) => f.f64x2RelaxedMadd(), [0xfd, 0x87, 0x02]],
    ];
    for (const [op, write, opcode] of expected) {
      const { ins, outs } = sigTypes(OPCODES[op].sig);
      const mod = new ModuleBuilder();
      mod.defineMemory({ min: 1 });
      mod.function("k", { params: Object.fromEntries(ins.map((t, k) => [`a${k}`, t])), results: outs }, (f) => {
        for (const p of f.params) f.localGet(p);
        write(f);
      });
      const localGets = ins.flatMap((_, k) => [0x20, k]);
      expect(functionBodies(mod.toBytes()), op).toEqual([hex([0x00, ...localGets, ...opcode, 0x0b])]); // no locals; end
    }
  });

  it("encodes every instruction (relaxed SIMD included) to the opcode wabt prints under the same name", async () => {
    const { bytes, names } = everyOpcodeModule(() => true);
    await wabtValidate(bytes, { relaxedSimd: true });
    const text = await wasmToText(bytes, { relaxedSimd: true });
    const bodies = text.split(/\(func \$op(\d+) /).slice(1);
    const printed = new Map<number, string>();
    for (let i = 0; i < bodies.length; i += 2) {
      const lines = bodies[i + 1].split("\n").map((l) => l.trim());
      const instr = lines.find((l, k) => k > 0 && !l.startsWith("local.get") && !l.startsWith("(") && l !== "");
      printed.set(Number(bodies[i]), (instr ?? "").replace(/\)+$/, "").split(" ")[0]);
    }
    const wrong = names.flatMap((op, i) => (printed.get(i) === op ? [] : [`${op} printed as ${printed.get(i)}`]));
    expect(wrong).toEqual([]);
  });
});

// ---- scalar arithmetic ---------------------------------------------------------------------------

const I32_SAMPLES = [0, 1, -1, 7, -7, 31, 32, 1000, -123456, 2 ** 31 - 1, -(2 ** 31), 0x55555555, 0x0f0f0f0f];
const I64_SAMPLES = [0n, 1n, -1n, 7n, -7n, 63n, 64n, 2n ** 40n + 3n, -(2n ** 33n), 2n ** 63n - 1n, -(2n ** 63n)];
const F_SAMPLES = [0, -0, 1, -1, 0.5, 2.5, -2.5, 3.5, 1e-3, 123.456, -7.25, 1e30, -1e-30, Infinity, -Infinity, NaN];

function clz32(a: number): number {
  return Math.clz32(a);
}
function ctz32(a: number): number {
  return a === 0 ? 32 : 31 - Math.clz32(a & -a);
}
function popcnt32(a: number): number {
  let n = 0;
  for (let v = a >>> 0; v; v >>>= 1) n += v & 1;
  return n;
}
const rotl32 = (a: number, b: number) => ((a << (b & 31)) | (a >>> (32 - (b & 31)))) | 0;

/** Round half to even, as `nearest` does. */
function nearest(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const r = Math.round(x);
  const tie = Math.abs(x - Math.trunc(x)) === 0.5;
  const even = tie ? 2 * Math.round(x / 2) : r;
  return even === 0 ? (x < 0 ? -0 : 0) : even;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const wasmMin = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a === b && a === 0 ? (Object.is(a, -0) ? a : b) : Math.min(a, b));
const wasmMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a === b && a === 0 ? (Object.is(a, 0) ? a : b) : Math.max(a, b));
// (the NaNs here are JavaScript's, whose sign bit is clear)
const copysign = (a: number, b: number) => (b < 0 || Object.is(b, -0) ? -Math.abs(a) : Math.abs(a));

describe("scalar instructions compute what they should", () => {
  it("i32 arithmetic, bit counts, shifts, rotations and comparisons", () => {
    const binary: [OpName, (a: number, b: number) => number][] = [
      ["i32.add", (a, b) => (a + b) | 0],
      ["i32.sub", (a, b) => (a - b) | 0],
      ["i32.mul", Math.imul],
      ["i32.and", (a, b) => a & b],
      ["i32.or", (a, b) => a | b],
      ["i32.xor", (a, b) => a ^ b],
      ["i32.shl", (a, b) => a << b],
      ["i32.shr_s", (a, b) => a >> b],
      ["i32.shr_u", (a, b) => (a >>> b) | 0],
      ["i32.rotl", rotl32],
      ["i32.rotr", (a, b) => rotl32(a, 32 - (b & 31))],
      ["i32.lt_s", (a, b) => +(a < b)],
      ["i32.lt_u", (a, b) => +(a >>> 0 < b >>> 0)],
      ["i32.ge_u", (a, b) => +(a >>> 0 >= b >>> 0)],
      ["i32.eq", (a, b) => +(a === b)],
    ];
    const unary: [OpName, (a: number) => number][] = [
      ["i32.clz", clz32],
      ["i32.ctz", ctz32],
      ["i32.popcnt", popcnt32],
      ["i32.eqz", (a) => +(a === 0)],
      ["i32.extend8_s", (a) => (a << 24) >> 24],
      ["i32.extend16_s", (a) => (a << 16) >> 16],
    ];
    const e = instantiate(opsModule("i32", binary.map(([op]) => op), unary.map(([op]) => op)));
    for (const [op, ref] of binary) for (const a of I32_SAMPLES) for (const b of I32_SAMPLES) expect(fn<(a: number, b: number) => number>(e, op)(a, b), `${op}(${a}, ${b})`).toBe(ref(a, b));
    for (const [op, ref] of unary) for (const a of I32_SAMPLES) expect(fn<(a: number) => number>(e, op)(a), `${op}(${a})`).toBe(ref(a));
  });

  it("i32 and i64 division and remainder (signed and unsigned)", () => {
    const e = instantiate(opsModule("i32", ["i32.div_s", "i32.div_u", "i32.rem_s", "i32.rem_u"], []));
    const e64 = instantiate(opsModule("i64", ["i64.div_s", "i64.div_u", "i64.rem_s", "i64.rem_u"], []));
    for (const a of I32_SAMPLES) {
      for (const b of I32_SAMPLES) {
        if (b === 0 || (a === -(2 ** 31) && b === -1)) continue;
        expect(fn<(a: number, b: number) => number>(e, "i32.div_s")(a, b)).toBe(Math.trunc(a / b) | 0);
        expect(fn<(a: number, b: number) => number>(e, "i32.div_u")(a, b)).toBe(Math.trunc((a >>> 0) / (b >>> 0)) | 0);
        expect(fn<(a: number, b: number) => number>(e, "i32.rem_s")(a, b)).toBe((a % b) | 0);
        expect(fn<(a: number, b: number) => number>(e, "i32.rem_u")(a, b)).toBe(((a >>> 0) % (b >>> 0)) | 0);
      }
    }
    for (const a of I64_SAMPLES) {
      for (const b of I64_SAMPLES) {
        if (b === 0n || (a === -(2n ** 63n) && b === -1n)) continue;
        const u = (v: bigint) => BigInt.asUintN(64, v);
        expect(fn<(a: bigint, b: bigint) => bigint>(e64, "i64.div_s")(a, b)).toBe(a / b);
        expect(fn<(a: bigint, b: bigint) => bigint>(e64, "i64.div_u")(a, b)).toBe(BigInt.asIntN(64, u(a) / u(b)));
        expect(fn<(a: bigint, b: bigint) => bigint>(e64, "i64.rem_s")(a, b)).toBe(a % b);
        expect(fn<(a: bigint, b: bigint) => bigint>(e64, "i64.rem_u")(a, b)).toBe(BigInt.asIntN(64, u(a) % u(b)));
      }
    }
    // Division by zero traps.
    expect(() => fn<(a: number, b: number) => number>(e, "i32.div_s")(1, 0)).toThrow(WebAssembly.RuntimeError);
  });

  it("i64 arithmetic, shifts and bit counts through bigint", () => {
    const wrap = (v: bigint) => BigInt.asIntN(64, v);
    const binary: [OpName, (a: bigint, b: bigint) => bigint][] = [
      ["i64.add", (a, b) => wrap(a + b)],
      ["i64.sub", (a, b) => wrap(a - b)],
      ["i64.mul", (a, b) => wrap(a * b)],
      ["i64.and", (a, b) => a & b],
      ["i64.xor", (a, b) => a ^ b],
      ["i64.shl", (a, b) => wrap(a << (b & 63n))],
      ["i64.shr_s", (a, b) => a >> (b & 63n)],
      ["i64.shr_u", (a, b) => wrap(BigInt.asUintN(64, a) >> (b & 63n))],
      ["i64.rotl", (a, b) => wrap((BigInt.asUintN(64, a) << (b & 63n)) | (BigInt.asUintN(64, a) >> ((64n - (b & 63n)) & 63n)))],
    ];
    const popcnt = (a: bigint) => BigInt([...BigInt.asUintN(64, a).toString(2)].filter((c) => c === "1").length);
    const clz = (a: bigint) => (a === 0n ? 64n : BigInt(64 - BigInt.asUintN(64, a).toString(2).length));
    const unary: [OpName, (a: bigint) => bigint][] = [
      ["i64.popcnt", popcnt],
      ["i64.clz", clz],
      ["i64.extend32_s", (a) => BigInt.asIntN(32, a)],
      ["i64.extend8_s", (a) => BigInt.asIntN(8, a)],
    ];
    const e = instantiate(opsModule("i64", binary.map(([op]) => op), unary.map(([op]) => op)));
    for (const [op, ref] of binary) for (const a of I64_SAMPLES) for (const b of I64_SAMPLES) expect(fn<(a: bigint, b: bigint) => bigint>(e, op)(a, b), op).toBe(ref(a, b));
    for (const [op, ref] of unary) for (const a of I64_SAMPLES) expect(fn<(a: bigint) => bigint>(e, op)(a), op).toBe(ref(a));
  });

  it("f32 and f64 arithmetic, rounding, min/max/copysign with IEEE special values", () => {
    for (const t of ["f32", "f64"] as const) {
      const r = t === "f32" ? Math.fround : (x: number) => x;
      const binary: [string, (a: number, b: number) => number][] = [
        ["add", (a, b) => r(a + b)],
        ["sub", (a, b) => r(a - b)],
        ["mul", (a, b) => r(a * b)],
        ["div", (a, b) => r(a / b)],
        ["min", wasmMin],
        ["max", wasmMax],
        ["copysign", copysign],
      ];
      const unary: [string, (a: number) => number][] = [
        ["abs", Math.abs],
        ["neg", (a) => -a],
        ["sqrt", (a) => r(Math.sqrt(a))],
        ["ceil", Math.ceil],
        ["floor", Math.floor],
        ["trunc", Math.trunc],
        ["nearest", nearest],
      ];
      const name = (op: string) => `${t}.${op}` as OpName;
      const e = instantiate(opsModule(t, binary.map(([op]) => name(op)), unary.map(([op]) => name(op))));
      const samples = F_SAMPLES.map(r);
      for (const [op, ref] of binary) {
        for (const a of samples) for (const b of samples) expect(same(fn<(a: number, b: number) => number>(e, name(op))(a, b), ref(a, b)), `${t}.${op}(${a}, ${b})`).toBe(true);
      }
      for (const [op, ref] of unary) for (const a of samples) expect(same(fn<(a: number) => number>(e, name(op))(a), ref(a)), `${t}.${op}(${a})`).toBe(true);
    }
  });

  it("conversions: wrap/extend, truncation (trapping and saturating), convert, demote/promote, reinterpret", () => {
    const mod = new ModuleBuilder();
    const unaryOp = (op: OpName) => {
      const { ins, outs } = sigTypes(OPCODES[op].sig);
      mod.exportFunction(op, mod.function(op, { params: { a: ins[0] }, results: outs }, (f, { a }) => {
        f.localGet(a);
        emitTableOp(f, op);
      }));
    };
    const conversions: OpName[] = [
      "i32.wrap_i64", "i64.extend_i32_s", "i64.extend_i32_u", "i32.trunc_f32_s", "i32.trunc_f64_u",
      "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i64.trunc_sat_f64_s", "i64.trunc_sat_f32_u",
      "f32.convert_i32_u", "f64.convert_i64_s", "f32.convert_i64_u", "f32.demote_f64", "f64.promote_f32",
      "i32.reinterpret_f32", "f32.reinterpret_i32", "i64.reinterpret_f64", "f64.reinterpret_i64",
    ];
    conversions.forEach(unaryOp);
    const e = instantiate(mod);
    const call = <A, R>(op: OpName, a: A) => fn<(a: A) => R>(e, op)(a);
    expect(call("i32.wrap_i64", 2n ** 32n + 5n)).toBe(5);
    expect(call("i64.extend_i32_s", -2)).toBe(-2n);
    expect(call("i64.extend_i32_u", -2)).toBe(2n ** 32n - 2n);
    expect(call("i32.trunc_f32_s", -3.9)).toBe(-3);
    expect(call("i32.trunc_f64_u", 4e9)).toBe(4e9 | 0);
    expect(() => call("i32.trunc_f32_s", NaN)).toThrow(WebAssembly.RuntimeError);
    expect(() => call("i32.trunc_f32_s", 3e9)).toThrow(WebAssembly.RuntimeError);
    expect([NaN, 1e10, -1e10, 3.7, -3.7].map((v) => call("i32.trunc_sat_f32_s", v))).toEqual([0, 2 ** 31 - 1, -(2 ** 31), 3, -3]);
    expect([-5, 5e9, 7.9].map((v) => call("i32.trunc_sat_f32_u", v))).toEqual([0, -1, 7]);
    expect(call("i32.trunc_sat_f64_s", -Infinity)).toBe(-(2 ** 31));
    expect(call("i64.trunc_sat_f64_s", 1e300)).toBe(2n ** 63n - 1n);
    expect(call("i64.trunc_sat_f32_u", -1)).toBe(0n);
    expect(call("f32.convert_i32_u", -1)).toBe(2 ** 32);
    expect(call("f64.convert_i64_s", -(2n ** 60n))).toBe(-(2 ** 60));
    expect(call("f32.convert_i64_u", -1n)).toBe(2 ** 64);
    expect(call("f32.demote_f64", 1 / 3)).toBe(Math.fround(1 / 3));
    expect(call("f32.demote_f64", 1e300)).toBe(Infinity);
    expect(call("f64.promote_f32", 0.1)).toBe(Math.fround(0.1));
    expect(call("i32.reinterpret_f32", 1)).toBe(0x3f800000);
    expect(call("f32.reinterpret_i32", 0xbf800000 | 0)).toBe(-1);
    expect(call("i64.reinterpret_f64", -2)).toBe(-(2n ** 62n));
    expect(call("f64.reinterpret_i64", 0x3ff0000000000000n)).toBe(1);
  });
});

/** A module exporting each op as a function of one or two operands of type `t` (comparisons return i32). */
function opsModule(t: ValType, binary: readonly OpName[], unary: readonly OpName[]): ModuleBuilder {
  const mod = new ModuleBuilder();
  for (const op of binary) {
    const { outs } = sigTypes(OPCODES[op].sig);
    mod.exportFunction(op, mod.function(op, { params: { a: t, b: t }, results: outs }, (f, { a, b }) => {
      f.localGet(a).localGet(b);
      emitTableOp(f, op);
    }));
  }
  for (const op of unary) {
    const { outs } = sigTypes(OPCODES[op].sig);
    mod.exportFunction(op, mod.function(op, { params: { a: t }, results: outs }, (f, { a }) => {
      f.localGet(a);
      emitTableOp(f, op);
    }));
  }
  return mod;
}

// ---- SIMD ----------------------------------------------------------------------------------------

/** Lane views of the test memory: operands at A and B, result at OUT. */
const A = 0;
const B = 16;
const C = 32;
const OUT = 64;

/**
 * A module whose exported functions compute `op(load A, load B[, load C])` and store it at OUT, for
 * each op given; `custom` adds functions written by hand over the same layout.
 */
function simdModule(ops: readonly OpName[], custom: Record<string, (f: FunctionBuilder) => void> = {}): Exports {
  const mod = new ModuleBuilder("simd");
  mod.defineMemory({ min: 1 }, "memory");
  for (const op of ops) {
    const { ins } = sigTypes(OPCODES[op].sig);
    mod.exportFunction(op, mod.function(op, {}, (f) => {
      f.i32Const(OUT);
      ins.forEach((t, k) => {
        if (t === "v128") f.i32Const([A, B, C][k]).v128Load();
        else f.i32Const(3); // shift count
      });
      emitTableOp(f, op);
      f.v128Store();
    }));
  }
  for (const [name, body] of Object.entries(custom)) mod.exportFunction(name, mod.function(name, {}, body));
  return instantiate(mod);
}

type LaneView = Float32Array | Float64Array | Int32Array | Int16Array | Uint8Array;
interface LaneCtor<T extends LaneView> {
  new (buffer: ArrayBuffer, offset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** The 16 bytes at `offset` as lanes of `ctor`'s type. */
function lanesOf<T extends LaneView>(ctor: LaneCtor<T>, memory: WebAssembly.Memory, offset: number): T {
  return new ctor(memory.buffer, offset, 16 / ctor.BYTES_PER_ELEMENT);
}

describe("SIMD instructions compute what they should", () => {
  it("f32x4 and f64x2 arithmetic, min/max/pmin/pmax and rounding, lane by lane", () => {
    const f32Binary: [string, (a: number, b: number) => number][] = [
      ["add", (a, b) => a + b],
      ["sub", (a, b) => a - b],
      ["mul", (a, b) => a * b],
      ["div", (a, b) => a / b],
      ["min", wasmMin],
      ["max", wasmMax],
      ["pmin", (a, b) => (b < a ? b : a)],
      ["pmax", (a, b) => (a < b ? b : a)],
    ];
    const f32Unary: [string, (a: number) => number][] = [
      ["abs", Math.abs],
      ["neg", (a) => -a],
      ["sqrt", Math.sqrt],
      ["ceil", Math.ceil],
      ["floor", Math.floor],
      ["trunc", Math.trunc],
      ["nearest", nearest],
    ];
    for (const shape of ["f32x4", "f64x2"] as const) {
      const View = (shape === "f32x4" ? Float32Array : Float64Array) as LaneCtor<Float32Array | Float64Array>;
      const r = shape === "f32x4" ? Math.fround : (x: number) => x;
      const name = (op: string) => `${shape}.${op}` as OpName;
      const e = simdModule([...f32Binary, ...f32Unary].map(([op]) => name(op)));
      const memory = memoryOf(e);
      const a = lanesOf(View, memory, A);
      const b = lanesOf(View, memory, B);
      const out = lanesOf(View, memory, OUT);
      for (let trial = 0; trial < F_SAMPLES.length; trial++) {
        for (let lane = 0; lane < a.length; lane++) {
          a[lane] = F_SAMPLES[(trial + lane) % F_SAMPLES.length];
          b[lane] = F_SAMPLES[(trial * 3 + lane * 5 + 1) % F_SAMPLES.length];
        }
        for (const [op, ref] of f32Binary) {
          fn<() => void>(e, name(op))();
          for (let l = 0; l < a.length; l++) expect(same(out[l], r(ref(a[l], b[l]))), `${shape}.${op}(${a[l]}, ${b[l]})`).toBe(true);
        }
        for (const [op, ref] of f32Unary) {
          fn<() => void>(e, name(op))();
          for (let l = 0; l < a.length; l++) expect(same(out[l], r(ref(a[l]))), `${shape}.${op}(${a[l]})`).toBe(true);
        }
      }
    }
  });

  it("integer lanes: arithmetic, saturating add, shifts, min/max, popcnt, dot, extend and narrow", () => {
    const e = simdModule([
      "i32x4.add", "i32x4.sub", "i32x4.mul", "i32x4.shl", "i32x4.shr_s", "i32x4.shr_u", "i32x4.min_s", "i32x4.max_u",
      "i16x8.add_sat_s", "i16x8.sub_sat_u", "i16x8.mul", "i8x16.popcnt", "i8x16.add", "i64x2.add", "i64x2.mul", "i64x2.shr_s",
      "i32x4.dot_i16x8_s", "i32x4.extend_low_i16x8_s", "i16x8.narrow_i32x4_s", "i8x16.abs", "i8x16.avgr_u",
    ]);
    const memory = memoryOf(e);
    const run = (op: string) => fn<() => void>(e, op)();
    const i32a = lanesOf(Int32Array, memory, A);
    const i32b = lanesOf(Int32Array, memory, B);
    const i32o = lanesOf(Int32Array, memory, OUT);
    i32a.set([5, -7, 2 ** 31 - 1, -(2 ** 31)]);
    i32b.set([3, 9, 1, -1]);
    run("i32x4.add");
    expect([...i32o]).toEqual([8, 2, -(2 ** 31), 2 ** 31 - 1]);
    run("i32x4.sub");
    expect([...i32o]).toEqual([2, -16, 2 ** 31 - 2, -(2 ** 31) + 1]);
    run("i32x4.mul");
    expect([...i32o]).toEqual([15, -63, 2 ** 31 - 1, -(2 ** 31)]);
    run("i32x4.shl");
    expect([...i32o]).toEqual([40, -56, -8, 0]);
    run("i32x4.shr_s");
    expect([...i32o]).toEqual([0, -1, 2 ** 28 - 1, -(2 ** 28)]);
    run("i32x4.shr_u");
    expect([...i32o]).toEqual([0, (-7 >>> 3) | 0, 2 ** 28 - 1, 2 ** 28]);
    run("i32x4.min_s");
    expect([...i32o]).toEqual([3, -7, 1, -(2 ** 31)]);
    run("i32x4.max_u");
    expect([...i32o]).toEqual([5, -7, 2 ** 31 - 1, -1]);
    const i16a = lanesOf(Int16Array, memory, A);
    const i16b = lanesOf(Int16Array, memory, B);
    const i16o = lanesOf(Int16Array, memory, OUT);
    i16a.set([32000, -32000, 5, -5, 100, 0, 1, 2]);
    i16b.set([1000, -1000, 6, 7, -100, 0, 3, 4]);
    run("i16x8.add_sat_s");
    expect([...i16o]).toEqual([32767, -32768, 11, 2, 0, 0, 4, 6]);
    run("i16x8.sub_sat_u");
    // unsigned lanes: 33536 - 64536 and 5 - 6 saturate to 0; 65531 - 7 = 65524 reads back as -12
    expect([...i16o]).toEqual([31000, 0, 0, -12, 0, 0, 0, 0]);
    run("i32x4.dot_i16x8_s");
    expect([...i32o]).toEqual([32000 * 1000 + 32000 * 1000, 30 - 35, -10000, 3 + 8]);
    run("i32x4.extend_low_i16x8_s");
    expect([...i32o]).toEqual([32000, -32000, 5, -5]);
    i32a.set([70000, -70000, 5, -5]);
    i32b.set([1, 2, 3, 4]);
    run("i16x8.narrow_i32x4_s");
    expect([...i16o]).toEqual([32767, -32768, 5, -5, 1, 2, 3, 4]);
    const u8a = lanesOf(Uint8Array, memory, A);
    const u8b = lanesOf(Uint8Array, memory, B);
    const u8o = lanesOf(Uint8Array, memory, OUT);
    u8a.set([0, 1, 3, 7, 255, 128, 0x55, 0xaa, 9, 10, 11, 12, 13, 14, 15, 16]);
    u8b.set([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 250]);
    run("i8x16.popcnt");
    expect([...u8o]).toEqual([0, 1, 2, 3, 8, 1, 4, 4, 2, 2, 3, 2, 3, 3, 4, 1]);
    run("i8x16.add");
    expect([...u8o]).toEqual([...u8a].map((v, i) => (v + u8b[i]) & 255));
    run("i8x16.abs");
    expect([...u8o]).toEqual([...u8a].map((v) => Math.abs((v << 24) >> 24) & 255));
    run("i8x16.avgr_u");
    expect([...u8o]).toEqual([...u8a].map((v, i) => (v + u8b[i] + 1) >> 1));
    const i64a = new BigInt64Array(memory.buffer, A, 2);
    const i64b = new BigInt64Array(memory.buffer, B, 2);
    const i64o = new BigInt64Array(memory.buffer, OUT, 2);
    i64a.set([2n ** 62n, -5n]);
    i64b.set([2n ** 62n, 3n]);
    run("i64x2.add");
    expect([...i64o]).toEqual([-(2n ** 63n), -2n]);
    run("i64x2.mul");
    expect([...i64o]).toEqual([0n, -15n]);
    run("i64x2.shr_s");
    expect([...i64o]).toEqual([2n ** 59n, -1n]);
  });

  it("comparisons give all-ones lanes; bitselect, any_true, all_true and bitmask read them", () => {
    const e = simdModule(["f32x4.lt", "f64x2.ge", "i32x4.gt_s", "i8x16.eq", "v128.bitselect", "v128.andnot"], {
      anyTrue: (f) => void f.i32Const(OUT).i32Const(A).v128Load().v128AnyTrue().i32Store(),
      allTrue: (f) => void f.i32Const(OUT).i32Const(A).v128Load().i32x4AllTrue().i32Store(),
      bitmask: (f) => void f.i32Const(OUT).i32Const(A).v128Load().i32x4Bitmask().i32Store(),
    });
    const memory = memoryOf(e);
    const run = (op: string) => fn<() => void>(e, op)();
    const f32a = lanesOf(Float32Array, memory, A);
    const f32b = lanesOf(Float32Array, memory, B);
    const i32o = lanesOf(Int32Array, memory, OUT);
    f32a.set([1, 2, NaN, -0]);
    f32b.set([2, 2, 1, 0]);
    run("f32x4.lt");
    expect([...i32o]).toEqual([-1, 0, 0, 0]);
    const f64a = lanesOf(Float64Array, memory, A);
    const f64b = lanesOf(Float64Array, memory, B);
    f64a.set([3, NaN]);
    f64b.set([3, 0]);
    run("f64x2.ge");
    expect([...i32o]).toEqual([-1, -1, 0, 0]);
    const i32a = lanesOf(Int32Array, memory, A);
    const i32b = lanesOf(Int32Array, memory, B);
    const i32c = lanesOf(Int32Array, memory, C);
    i32a.set([0x12345678, -1, 0, 0x0f0f0f0f]);
    i32b.set([0x11111111, 0, -1, 0x00ff00ff]);
    i32c.set([-1, 0, 0x0000ffff, 0x33333333]);
    run("v128.bitselect");
    expect([...i32o]).toEqual([0x12345678, 0, (0 & 0xffff) | (-1 & ~0xffff), (0x0f0f0f0f & 0x33333333) | (0x00ff00ff & ~0x33333333)]);
    run("v128.andnot");
    expect([...i32o]).toEqual([0x12345678 & ~0x11111111, -1, 0, 0x0f0f0f0f & ~0x00ff00ff]);
    run("i32x4.gt_s");
    expect([...i32o]).toEqual([-1, 0, -1, -1]);
    i32a.set([0, 0, 0, 0]);
    run("anyTrue");
    expect(i32o[0]).toBe(0);
    i32a.set([0, 0, 1 << 20, 0]);
    run("anyTrue");
    expect(i32o[0]).toBe(1);
    run("allTrue");
    expect(i32o[0]).toBe(0);
    i32a.set([1, -2, 3, 4]);
    run("allTrue");
    expect(i32o[0]).toBe(1);
    i32a.set([-1, 2, -3, -4]);
    run("bitmask");
    expect(i32o[0]).toBe(0b1101);
  });

  it("splat, extract and replace lanes for every shape; shuffle and swizzle", () => {
    const mod = new ModuleBuilder();
    const splatF32 = mod.function("splatF32", { params: { x: "f32" }, results: ["f32"] }, (f, { x }) => {
      f.localGet(x).f32x4Splat().f32Const(10).f32x4ReplaceLane(2).f32x4ExtractLane(2).localGet(x).f32x4Splat().f32x4ExtractLane(3).f32Add();
    });
    const splatF64 = mod.function("splatF64", { params: { x: "f64" }, results: ["f64"] }, (f, { x }) => {
      f.localGet(x).f64x2Splat().f64Const(0.5).f64x2ReplaceLane(0).f64x2ExtractLane(0).localGet(x).f64x2Splat().f64x2ExtractLane(1).f64Mul();
    });
    const lanesI8 = mod.function("lanesI8", { params: { x: "i32" }, results: ["i32"] }, (f, { x }) => {
      // (x splat, lane 5 := 200): lane 5 signed is -56, lane 0 unsigned is x & 255
      f.localGet(x).i8x16Splat().i32Const(200).i8x16ReplaceLane(5).i8x16ExtractLaneS(5);
      f.localGet(x).i8x16Splat().i8x16ExtractLaneU(0).i32Add();
    });
    const lanesI16 = mod.function("lanesI16", { params: { x: "i32" }, results: ["i32"] }, (f, { x }) => {
      f.localGet(x).i16x8Splat().i32Const(-2).i16x8ReplaceLane(7).i16x8ExtractLaneU(7).localGet(x).i16x8Splat().i16x8ExtractLaneS(1).i32Add();
    });
    const lanesI64 = mod.function("lanesI64", { params: { x: "i64" }, results: ["i64"] }, (f, { x }) => {
      f.localGet(x).i64x2Splat().i64Const(7).i64x2ReplaceLane(1).i64x2ExtractLane(1).localGet(x).i64x2Splat().i64x2ExtractLane(0).i64Add();
    });
    const lanesI32 = mod.function("lanesI32", { params: { x: "i32" }, results: ["i32"] }, (f, { x }) => {
      f.localGet(x).i32x4Splat().i32Const(3).i32x4ReplaceLane(0).i32x4ExtractLane(0).localGet(x).i32x4Splat().i32x4ExtractLane(2).i32Mul();
    });
    // shuffle: reverse the lanes of (0,1,2,3) and take lane 0 → 3; interleave with b's lanes.
    const shuffle = mod.function("shuffle", { results: ["f32"] }, (f) => {
      const rev = [12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3];
      f.f32x4Const([0, 1, 2, 3]).f32x4Const([10, 11, 12, 13]).i8x16Shuffle(rev).f32x4ExtractLane(0);
      f.f32x4Const([0, 1, 2, 3]).f32x4Const([10, 11, 12, 13]).i8x16Shuffle([16, 17, 18, 19, ...rev.slice(4)]).f32x4ExtractLane(0);
      f.f32Add();
    });
    const swizzle = mod.function("swizzle", { results: ["i32"] }, (f) => {
      // indices ≥ 16 select 0
      f.i8x16Const([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]).i8x16Const([3, 200, ...new Array(14).fill(0)]).i8x16Swizzle();
      f.i8x16ExtractLaneU(0).i32Const(100).i32Mul();
      f.i8x16Const([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]).i8x16Const([3, 200, ...new Array(14).fill(0)]).i8x16Swizzle();
      f.i8x16ExtractLaneU(1).i32Add();
    });
    for (const [name, ref] of Object.entries({ splatF32, splatF64, lanesI8, lanesI16, lanesI32, lanesI64, shuffle, swizzle })) mod.exportFunction(name, ref);
    const e = instantiate(mod);
    expect(fn<(x: number) => number>(e, "splatF32")(1.5)).toBe(11.5);
    expect(fn<(x: number) => number>(e, "splatF64")(3)).toBe(1.5);
    expect(fn<(x: number) => number>(e, "lanesI8")(0x1ff)).toBe(-56 + 255);
    expect(fn<(x: number) => number>(e, "lanesI16")(-3)).toBe(65534 - 3);
    expect(fn<(x: number) => number>(e, "lanesI32")(5)).toBe(15);
    expect(fn<(x: bigint) => bigint>(e, "lanesI64")(2n ** 40n)).toBe(2n ** 40n + 7n);
    expect(fn<() => number>(e, "shuffle")()).toBe(3 + 10);
    expect(fn<() => number>(e, "swizzle")()).toBe(1300);
  });

  it("conversions between f32x4, f64x2 and i32x4", () => {
    const e = simdModule([
      "f32x4.demote_f64x2_zero", "f64x2.promote_low_f32x4", "i32x4.trunc_sat_f32x4_s", "i32x4.trunc_sat_f32x4_u",
      "f32x4.convert_i32x4_s", "f32x4.convert_i32x4_u", "i32x4.trunc_sat_f64x2_s_zero", "f64x2.convert_low_i32x4_s", "f64x2.convert_low_i32x4_u",
    ]);
    const memory = memoryOf(e);
    const run = (op: string) => fn<() => void>(e, op)();
    const f64a = lanesOf(Float64Array, memory, A);
    const f32a = lanesOf(Float32Array, memory, A);
    const i32a = lanesOf(Int32Array, memory, A);
    const f32o = lanesOf(Float32Array, memory, OUT);
    const f64o = lanesOf(Float64Array, memory, OUT);
    const i32o = lanesOf(Int32Array, memory, OUT);
    f64a.set([1 / 3, 1e300]);
    run("f32x4.demote_f64x2_zero");
    expect([...f32o]).toEqual([Math.fround(1 / 3), Infinity, 0, 0]);
    f32a.set([0.1, -2.5, 7, 8]);
    run("f64x2.promote_low_f32x4");
    expect([...f64o]).toEqual([Math.fround(0.1), -2.5]);
    f32a.set([NaN, 3e9, -3e9, -2.9]);
    run("i32x4.trunc_sat_f32x4_s");
    expect([...i32o]).toEqual([0, 2 ** 31 - 1, -(2 ** 31), -2]);
    run("i32x4.trunc_sat_f32x4_u");
    expect([...i32o]).toEqual([0, (3e9 | 0), 0, 0]);
    i32a.set([-1, 16777217, 5, -(2 ** 31)]);
    run("f32x4.convert_i32x4_s");
    expect([...f32o]).toEqual([-1, 16777216, 5, -(2 ** 31)]);
    run("f32x4.convert_i32x4_u");
    expect([...f32o]).toEqual([2 ** 32, 16777216, 5, 2 ** 31]);
    run("f64x2.convert_low_i32x4_s");
    expect([...f64o]).toEqual([-1, 16777217]);
    run("f64x2.convert_low_i32x4_u");
    expect([...f64o]).toEqual([2 ** 32 - 1, 16777217]);
    f64a.set([-7.5, 1e20]);
    run("i32x4.trunc_sat_f64x2_s_zero");
    expect([...i32o]).toEqual([-7, 2 ** 31 - 1, 0, 0]);
  });

  it("v128 loads and stores: splat, zero, extending and lane variants", () => {
    const e = simdModule([], {
      splat32: (f) => void f.i32Const(OUT).i32Const(A + 4).v128Load32Splat().v128Store(),
      splat64: (f) => void f.i32Const(OUT).i32Const(A + 8).v128Load64Splat().v128Store(),
      zero32: (f) => void f.i32Const(OUT).i32Const(A + 12).v128Load32Zero().v128Store(),
      zero64: (f) => void f.i32Const(OUT).i32Const(A).v128Load64Zero().v128Store(),
      extend8x8: (f) => void f.i32Const(OUT).i32Const(B).v128Load8x8S().v128Store(),
      loadLane: (f) => void f.i32Const(OUT).i32Const(A + 4).i32Const(B).v128Load().v128Load32Lane(3).v128Store(),
      storeLane: (f) => void f.i32Const(OUT + 4).i32Const(A).v128Load().v128Store32Lane(2, { offset: 0 }),
      offsetLoad: (f) => void f.i32Const(OUT).i32Const(0).v128Load({ offset: A + 16, align: 4 }).v128Store(),
    });
    const memory = memoryOf(e);
    const run = (op: string) => fn<() => void>(e, op)();
    const i32 = new Int32Array(memory.buffer);
    const out = () => [...i32.subarray(OUT / 4, OUT / 4 + 4)];
    i32.set([1, 2, 3, 4], A / 4);
    i32.set([-1, 0x7f01ff80, 5, 6], B / 4);
    run("splat32");
    expect(out()).toEqual([2, 2, 2, 2]);
    run("splat64");
    expect(out()).toEqual([3, 4, 3, 4]);
    run("zero32");
    expect(out()).toEqual([4, 0, 0, 0]);
    run("zero64");
    expect(out()).toEqual([1, 2, 0, 0]);
    run("loadLane");
    expect(out()).toEqual([-1, 0x7f01ff80, 5, 2]);
    run("extend8x8");
    expect([...new Int16Array(memory.buffer, OUT, 8)]).toEqual([-1, -1, -1, -1, -128, -1, 1, 127]);
    i32.fill(0, OUT / 4, OUT / 4 + 4);
    run("storeLane");
    expect(out()).toEqual([0, 3, 0, 0]);
    run("offsetLoad");
    expect(out()).toEqual([-1, 0x7f01ff80, 5, 6]);
  });
});

// ---- control flow, memory, calls, globals --------------------------------------------------------

describe("control flow", () => {
  it("loops with labels, blocks with results, if/else, multi-value blocks and br_table", () => {
    const mod = new ModuleBuilder();
    // sum of 1..n with a loop and a block exit
    mod.exportFunction("sum", mod.function("sum", { params: { n: "i32" }, results: ["i32"] }, (f, { n }) => {
      const acc = f.local("i32", "acc");
      f.block((done) => {
        f.loop((again) => {
          f.localGet(n).i32Eqz().brIf(done);
          f.localGet(acc).localGet(n).i32Add().localSet(acc);
          f.localGet(n).i32Const(1).i32Sub().localSet(n);
          f.br(again);
        });
      });
      f.localGet(acc);
    }));
    // |x| with if/else producing a value
    mod.exportFunction("abs", mod.function("abs", { params: { x: "f64" }, results: ["f64"] }, (f, { x }) => {
      f.localGet(x).f64Const(0).f64Lt();
      f.if("f64", () => void f.localGet(x).f64Neg(), () => void f.localGet(x));
    }));
    // a block that takes two params and leaves their difference and sum (multi-value type)
    mod.exportFunction("diffSum", mod.function("diffSum", { params: { a: "i32", b: "i32" }, results: ["i32"] }, (f, { a, b }) => {
      f.localGet(a).localGet(b);
      f.block({ params: ["i32", "i32"], results: ["i32", "i32"] }, () => {
        const t = f.local("i32", "t");
        const u = f.local("i32", "u");
        f.localSet(u).localSet(t);
        f.localGet(t).localGet(u).i32Sub().localGet(t).localGet(u).i32Add();
      });
      f.i32Mul();
    }));
    // br_table: 0 → 100, 1 → 200, anything else → 300; breaking out of a value block early
    mod.exportFunction("pick", mod.function("pick", { params: { i: "i32" }, results: ["i32"] }, (f, { i }) => {
      f.block("i32", (result) => {
        f.block((other) => {
          f.block((one) => {
            f.block((zero) => {
              f.localGet(i).brTable([zero, one], other);
            });
            f.i32Const(100).br(result);
          });
          f.i32Const(200).br(result);
        });
        f.i32Const(300);
      });
    }));
    // early return from inside a loop
    mod.exportFunction("firstAbove", mod.function("firstAbove", { params: { limit: "i32" }, results: ["i32"] }, (f, { limit }) => {
      const k = f.local("i32", "k");
      f.loop((again) => {
        f.localGet(k).localGet(k).i32Mul().localGet(limit).i32GtS();
        f.if(() => void f.localGet(k).return());
        f.localGet(k).i32Const(1).i32Add().localSet(k).br(again);
      });
      f.unreachable();
    }));
    const e = instantiate(mod);
    expect(fn<(n: number) => number>(e, "sum")(100)).toBe(5050);
    expect(fn<(x: number) => number>(e, "abs")(-2.5)).toBe(2.5);
    expect(fn<(x: number) => number>(e, "abs")(4)).toBe(4);
    expect(fn<(a: number, b: number) => number>(e, "diffSum")(7, 3)).toBe(40);
    expect([0, 1, 2, 99, -1].map((i) => fn<(i: number) => number>(e, "pick")(i))).toEqual([100, 200, 300, 300, 300]);
    expect(fn<(l: number) => number>(e, "firstAbove")(50)).toBe(8);
  });
});

describe("memory, data, calls, imports, globals", () => {
  it("loads and stores of every width, memory.size/grow, memory.copy/fill, data segments", () => {
    const mod = new ModuleBuilder();
    mod.defineMemory({ min: 1, max: 3 }, "mem");
    mod.dataSegment(100, new Uint8Array([1, 2, 3, 4, 0xff]));
    mod.exportFunction("widths", mod.function("widths", { results: ["i64"] }, (f) => {
      // store bytes, halves, words and read them back sign/zero-extended, summing into an i64
      f.i32Const(0).i32Const(-2).i32Store8();
      f.i32Const(2).i32Const(-3).i32Store16();
      f.i32Const(8).i64Const(-(2n ** 40n)).i64Store();
      f.i32Const(16).i64Const(0x1_0000_0005n).i64Store32();
      f.i32Const(0).i64Load8S(); // -2
      f.i32Const(0).i64Load8U().i64Add(); // + 254
      f.i32Const(2).i64Load16S().i64Add(); // - 3
      f.i32Const(2).i64Load16U().i64Add(); // + 65533
      f.i32Const(8).i64Load().i64Add(); // - 2^40
      f.i32Const(16).i64Load32U().i64Add(); // + 5
      f.i32Const(104).i32Load8U().i64ExtendI32U().i64Add(); // + 255 from the data segment
    }));
    mod.exportFunction("floats", mod.function("floats", { results: ["f64"] }, (f) => {
      f.i32Const(200).f32Const(1.5).f32Store({ offset: 4 });
      f.i32Const(208).f64Const(2.25).f64Store({ align: 4 });
      f.i32Const(204).f32Load().f64PromoteF32().i32Const(0).f64Load({ offset: 208 }).f64Add();
    }));
    mod.exportFunction("grow", mod.function("grow", { results: ["i32"] }, (f) => {
      f.i32Const(1).memoryGrow().drop();
      f.memorySize().i32Const(10).i32Mul();
      f.i32Const(5).memoryGrow().i32Add(); // -1: beyond max
    }));
    mod.exportFunction("bulk", mod.function("bulk", { results: ["i32"] }, (f) => {
      f.i32Const(300).i32Const(7).i32Const(8).memoryFill(); // 300..307 := 7
      f.i32Const(310).i32Const(100).i32Const(4).memoryCopy(); // 310..313 := 1 2 3 4
      f.i32Const(306).i32Load(); // bytes 7 7 0 0 → 0x0707
      f.i32Const(310).i32Load().i32Add();
    }));
    const e = instantiate(mod);
    expect(fn<() => bigint>(e, "widths")()).toBe(-2n + 254n - 3n + 65533n - 2n ** 40n + 5n + 255n);
    expect(fn<() => number>(e, "floats")()).toBe(3.75);
    expect(fn<() => number>(e, "grow")()).toBe(20 - 1);
    expect(fn<() => number>(e, "bulk")()).toBe(0x0707 + 0x04030201);
  });

  it("calls defined and imported functions; declared-then-defined functions; imports added after functions", () => {
    const mod = new ModuleBuilder();
    const log: number[] = [];
    const isEven = mod.function("isEven", { params: { n: "i32" }, results: ["i32"] });
    const isOdd = mod.function("isOdd", { params: { n: "i32" }, results: ["i32"] }, (f, { n }) => {
      f.localGet(n).i32Eqz();
      f.if("i32", () => void f.i32Const(0), () => void f.localGet(n).i32Const(1).i32Sub().call(isEven));
    });
    mod.defineFunction(isEven, (f, { n }) => {
      f.localGet(n).i32Eqz();
      f.if("i32", () => void f.i32Const(1), () => void f.localGet(n).i32Const(1).i32Sub().call(isOdd));
    });
    // imported after the functions that call it: indices shift, calls still resolve
    const report = mod.importFunction("env", "report", { params: { x: "f64" }, results: ["f64"] });
    mod.exportFunction("main", mod.function("main", { params: { n: "i32" }, results: ["f64"] }, (f, { n }) => {
      f.localGet(n).call(isEven).f64ConvertI32S().call(report);
    }));
    mod.exportFunction("isOdd", isOdd);
    const e = instantiate(mod, { env: { report: (x: number) => (log.push(x), x + 0.5) } });
    expect(fn<(n: number) => number>(e, "main")(10)).toBe(1.5);
    expect(fn<(n: number) => number>(e, "main")(7)).toBe(0.5);
    expect(fn<(n: number) => number>(e, "isOdd")(7)).toBe(1);
    expect(log).toEqual([1, 0]);
  });

  it("imports memory, and reads and writes mutable globals (exported too)", () => {
    const mod = new ModuleBuilder();
    mod.importMemory("env", "memory", { min: 1 });
    const counter = mod.global("counter", "i32", 5, { mutable: true });
    const scale = mod.global("scale", "f64", 0.25);
    mod.global("big", "i64", 2n ** 50n);
    mod.exportGlobal("counter", counter);
    mod.exportFunction("bump", mod.function("bump", { params: { ptr: "i32" }, results: ["f64"] }, (f, { ptr }) => {
      f.globalGet(counter).i32Const(1).i32Add().globalSet(counter);
      f.localGet(ptr).f64Load().globalGet(scale).f64Mul();
    }));
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Float64Array(memory.buffer)[1] = 10;
    const e = instantiate(mod, { env: { memory } });
    expect(fn<(p: number) => number>(e, "bump")(8)).toBe(2.5);
    expect((e.counter as WebAssembly.Global).value).toBe(6);
  });
});

// ---- bytes, names, text --------------------------------------------------------------------------

/** A small kernel: out[i] = a[i] * s + b[i] over f32x4 lanes. */
function axpyModule(): ModuleBuilder {
  const mod = new ModuleBuilder("axpy");
  mod.defineMemory({ min: 1 }, "memory");
  const axpy = mod.function("axpy", { params: { a: "i32", b: "i32", n: "i32", s: "f32" }, results: [] }, (f, { a, b, n, s }) => {
    const i = f.local("i32", "i");
    const scale = f.local("v128", "scale");
    f.localGet(s).f32x4Splat().localSet(scale);
    f.block((done) => {
      f.loop((next) => {
        f.localGet(i).localGet(n).i32GeU().brIf(done);
        f.localGet(b).localGet(i).i32Add();
        f.localGet(a).localGet(i).i32Add().v128Load().localGet(scale).f32x4Mul();
        f.localGet(b).localGet(i).i32Add().v128Load().f32x4Add();
        f.v128Store();
        f.localGet(i).i32Const(16).i32Add().localSet(i).br(next);
      });
    });
  });
  mod.exportFunction("axpy", axpy);
  return mod;
}

describe("bytes and names", () => {
  it("gives the same bytes for the same calls", () => {
    expect(axpyModule().toBytes()).toEqual(axpyModule().toBytes());
    const e = instantiate(axpyModule());
    const mem = new Float32Array(memoryOf(e).buffer);
    mem.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    mem.set([10, 20, 30, 40, 50, 60, 70, 80], 64);
    fn<(a: number, b: number, n: number, s: number) => void>(e, "axpy")(0, 256, 32, 2);
    expect([...mem.subarray(64, 72)]).toEqual([12, 24, 36, 48, 60, 72, 84, 96]);
  });

  it("prints as the expected text in wabt, with module, function and local names", async () => {
    const text = await wasmToText(axpyModule().toBytes());
    expect(text).toBe(`(module $axpy
  (type (;0;) (func (param i32 i32 i32 f32)))
  (func $axpy (type 0) (param $a i32) (param $b i32) (param $n i32) (param $s f32)
    (local $i i32) (local $scale v128)
    local.get $s
    f32x4.splat
    local.set $scale
    block  ;; label = @1
      loop  ;; label = @2
        local.get $i
        local.get $n
        i32.ge_u
        br_if 1 (;@1;)
        local.get $b
        local.get $i
        i32.add
        local.get $a
        local.get $i
        i32.add
        v128.load
        local.get $scale
        f32x4.mul
        local.get $b
        local.get $i
        i32.add
        v128.load
        f32x4.add
        v128.store
        local.get $i
        i32.const 16
        i32.add
        local.set $i
        br 0 (;@2;)
      end
    end)
  (memory (;0;) 1)
  (export "memory" (memory 0))
  (export "axpy" (func $axpy)))
`);
  });

  it("names imports and globals; makes repeated local names unique", async () => {
    const mod = new ModuleBuilder("named");
    const host = mod.importFunction("env", "host", { name: "hostLog", params: { x: "f64" } });
    const g = mod.global("step", "f32", 0.5, { mutable: true });
    mod.function("body", { params: { x: "f64" } }, (f, { x }) => {
      const t1 = f.local("f32", "t");
      const t2 = f.local("f32", "t");
      f.globalGet(g).localSet(t1).localGet(t1).localSet(t2).localGet(x).call(host);
    });
    const text = await wasmToText(mod.toBytes());
    expect(text).toContain('(import "env" "host" (func $hostLog');
    expect(text).toContain("(local $t f32) (local $t_1 f32)");
    expect(text).toContain("global.get $step");
    expect(text).toContain("call $hostLog");
  });
});

// ---- errors --------------------------------------------------------------------------------------

describe("misuse fails at build time with a clear message", () => {
  const build = (body: (f: FunctionBuilder) => void, results: ValType[] = []) => () => {
    const mod = new ModuleBuilder();
    mod.defineMemory({ min: 1 });
    mod.function("k", { params: { x: "f32" }, results }, (f) => body(f));
    return mod.toBytes();
  };

  it("rejects a br to a label whose block has ended", () => {
    expect(
      build((f) => {
        let saved: Parameters<FunctionBuilder["br"]>[0] | undefined;
        f.block((l) => {
          saved = l;
        });
        f.br(saved!);
      }),
    ).toThrow(/not in scope/);
  });

  it("rejects a label from another function", () => {
    const mod = new ModuleBuilder();
    let foreign: Parameters<FunctionBuilder["br"]>[0] | undefined;
    mod.function("a", {}, (f) => f.block((l) => void (foreign = l)));
    expect(() => mod.function("b", {}, (f) => f.block(() => void f.br(foreign!)))).toThrow(/not in scope/);
  });

  it("rejects operands of the wrong type, naming the instruction and what was found", () => {
    expect(build((f) => f.f32Const(1).i32Const(2).f32Add().drop())).toThrow(/instruction 3 \(f32\.add\): expects \[f32 f32\] on the stack, found \[f32 i32\]/);
    expect(build((f) => f.f32x4Add())).toThrow(/f32x4\.add\): expects \[v128 v128\] on the stack, found \[2 missing\]/);
    expect(build((f) => f.f32x4Const(1).f64Const(1).f32x4ReplaceLane(0).drop())).toThrow(/\(f32x4\.replace_lane\): expects \[v128 f32\] on the stack, found \[v128 f64\]/);
    expect(build((f) => f.f32Const(1).op("i32.load", { offset: 4 }).drop())).toThrow(/\(i32\.load\): expects \[i32\] on the stack, found \[f32\]/);
    expect(build((f) => f.i32Const(0).f64Const(1).f32Store())).toThrow(/\(f32\.store\): expects \[i32 f32\] on the stack, found \[i32 f64\]/);
  });

  it("rejects unbalanced blocks and functions (values left over, results missing)", () => {
    expect(build((f) => f.block(() => void f.i32Const(1)))).toThrow(/unbalanced stack/);
    expect(build(() => {}, ["f32"])).toThrow(/end of function\): expects \[f32\] on the stack, found \[0 missing\]|end of function\): expects \[f32\]/);
    expect(build((f) => f.f32Const(1).f32Const(2), ["f32"])).toThrow(/unbalanced stack/);
    expect(build((f) => f.i32Const(1).if("i32", () => void f.i32Const(2)), ["i32"])).toThrow(/without an else branch/);
  });

  it("accepts dead code after br/return/unreachable with a polymorphic stack", () => {
    expect(build((f) => f.unreachable().f32Add(), ["f32"])).not.toThrow();
    expect(build((f) => f.block("f32", (l) => void f.f32Const(1).br(l).i32Add().drop()).drop())).not.toThrow();
  });

  it("rejects bad immediates: lanes, shuffle indices, alignment, constants", () => {
    expect(build((f) => f.f32x4Const(0).f32x4ExtractLane(4).drop())).toThrow(/lane must be an integer in \[0, 4\)/);
    expect(build((f) => f.f32x4Const(0).f32x4Const(0).i8x16Shuffle([32, ...new Array(15).fill(0)]).drop())).toThrow(/16 lane indices/);
    expect(build((f) => f.i32Const(0).f32Load({ align: 8 }).drop())).toThrow(/align must be a power of two no larger than the access width 4/);
    expect(build((f) => f.i32Const(0).f32Load({ align: 3 }).drop())).toThrow(/align/);
    expect(build((f) => f.i32Const(2 ** 32).drop())).toThrow(/i32\.const/);
    expect(build((f) => f.i64Const(2 ** 60).drop())).toThrow(/safe integer/);
  });

  it("rejects locals, globals and functions of other functions or modules, and immutable global.set", () => {
    const mod = new ModuleBuilder();
    let foreign: Parameters<FunctionBuilder["localGet"]>[0] | undefined;
    mod.function("a", { params: { x: "i32" } }, (_f, { x }) => void (foreign = x));
    expect(() => mod.function("b", {}, (f) => void f.localGet(foreign!).drop())).toThrow(/belongs to another function/);
    const other = new ModuleBuilder();
    const g = other.global("g", "i32", 0);
    const h = other.function("h", {}, () => {});
    expect(() => mod.function("c", {}, (f) => void f.globalGet(g).drop())).toThrow(/belongs to another module/);
    expect(() => mod.function("d", {}, (f) => void f.call(h))).toThrow(/belongs to another module/);
    const mine = mod.global("mine", "i32", 0);
    expect(() => mod.function("e", {}, (f) => void f.i32Const(1).globalSet(mine))).toThrow(/immutable/);
  });

  it("rejects module-level mistakes: missing memory or body, duplicates, bad limits", () => {
    const noMemory = new ModuleBuilder();
    noMemory.function("load", { results: ["i32"] }, (f) => void f.i32Const(0).i32Load());
    expect(() => noMemory.toBytes()).toThrow(/i32\.load needs a memory/);
    const noBody = new ModuleBuilder();
    noBody.function("later", { params: { x: "i32" } });
    expect(() => noBody.toBytes()).toThrow(/declared without a body: "later"/);
    const dup = new ModuleBuilder();
    dup.function("f", {}, () => {});
    expect(() => dup.function("f", {}, () => {})).toThrow(/already exists/);
    expect(() => dup.exportFunction("x", dup.function("g", {}, () => {}))).not.toThrow();
    expect(() => dup.exportMemory("m")).toThrow(/no memory/);
    expect(() => dup.defineMemory({ min: 2, max: 1 })).toThrow(/max 1/);
    dup.defineMemory({ min: 1 });
    expect(() => dup.defineMemory({ min: 1 })).toThrow(/already has a memory/);
    expect(() => dup.function("h", { params: { "0": "i32" } }, () => {})).toThrow(/looks like an array index/);
    expect(() => dup.global("q", "i64", 1)).toThrow(/bigint/);
  });

  it("op(name, ...immediates) writes table instructions by name, immediates checked at compile time and at run time", () => {
    const mod = new ModuleBuilder();
    mod.defineMemory({ min: 1 });
    const shape: string = "f64";
    mod.exportFunction("mad", mod.function("mad", { params: { a: "f64", b: "f64" }, results: ["f64"] }, (f, { a, b }) => {
      f.localGet(a).localGet(b).op(opName(`${shape}.mul`)).localGet(a).op("f64.add");
    }));
    mod.exportFunction("lane", mod.function("lane", { results: ["f32"] }, (f) => {
      f.i32Const(0).f32x4Const([1, 2, 3, 4]).v128Store().i32Const(0).op("v128.load", { align: 4 }).op("f32x4.extract_lane", 2);
    }));
    const e = instantiate(mod);
    expect(fn<(a: number, b: number) => number>(e, "mad")(3, 4)).toBe(15);
    expect(fn<() => number>(e, "lane")()).toBe(3);
    // @ts-expect-error: extract_lane needs its lane
    expect(build((f) => f.f32x4Const(0).op("f32x4.extract_lane").drop())).toThrow(/\(f32x4\.extract_lane\): takes a lane index, got 0 argument/);
    // @ts-expect-error: add has no immediates
    expect(build((f) => f.f32x4Const(0).f32x4Const(0).op("f32x4.add", 1).drop())).toThrow(/\(f32x4\.add\): takes no immediates, got 1 argument/);
    // @ts-expect-error: the same through the method
    expect(build((f) => f.f32Const(0).f32Const(0).f32Add(1).drop())).toThrow(/\(f32\.add\): takes no immediates/);
    // @ts-expect-error: a lane load takes the lane first
    expect(build((f) => f.i32Const(0).v128Const(new Array(16).fill(0)).v128Load32Lane({ offset: 4 }).drop())).toThrow(/lane must be an integer in \[0, 4\)/);
    // @ts-expect-error: no such instruction
    expect(build((f) => f.op("f32.nope"))).toThrow(/no such instruction/);
    // @ts-expect-error: no such method
    expect(build((f) => f.f32Ad())).toThrow(TypeError);
    expect(() => opName("f32.nope")).toThrow(/no instruction "f32\.nope"/);
  });

  it("rejects writing after a function's body ended", () => {
    const mod = new ModuleBuilder();
    let kept: FunctionBuilder | undefined;
    mod.function("a", {}, (f) => void (kept = f));
    expect(() => kept!.nop()).toThrow(/after the function body ended/);
  });
});

// ---- features ------------------------------------------------------------------------------------

describe("entry point", () => {
  it("src/render/wasm/index.ts exports the encoder, the math library and feature detection", async () => {
    const wasm = await import("../src/render/wasm/index.ts");
    expect(typeof wasm.ModuleBuilder).toBe("function");
    expect(typeof wasm.math.use).toBe("function");
    expect(wasm.math.functions).toContain("softplus");
    expect(typeof wasm.relaxedSimdSupported()).toBe("boolean");
    expect(wasm.OPCODES["f32x4.add"].code).toBe(0xe4);
  });
});

describe("feature detection", () => {
  it("SIMD128 is available; relaxed SIMD is not on Node 20 without its flag, and the probe is what V8 rejects", () => {
    expect(simdSupported()).toBe(true);
    const flagged = process.execArgv.some((a) => a.includes("relaxed-simd"));
    expect(relaxedSimdSupported()).toBe(flagged);
    expect(WebAssembly.validate(relaxedSimdProbe())).toBe(flagged);
  });

  it("relaxed SIMD encodings validate in wabt with the feature on, and are refused with it off", async () => {
    await expect(wabtValidate(relaxedSimdProbe(), { relaxedSimd: true })).resolves.toBeUndefined();
    await expect(wabtValidate(relaxedSimdProbe())).rejects.toThrow(/unexpected opcode/);
  });

  it("with --experimental-wasm-relaxed-simd, V8 accepts and runs the relaxed opcodes", () => {
    const mod = new ModuleBuilder();
    mod.exportFunction("madd", mod.function("madd", { params: { a: "f64", b: "f64", c: "f64" }, results: ["f64"] }, (f, { a, b, c }) => {
      f.localGet(a).f64x2Splat().localGet(b).f64x2Splat().localGet(c).f64x2Splat().f64x2RelaxedMadd();
      f.f64x2Const(1).f64x2Const(2).f64x2RelaxedMin().f64x2Add().f64x2ExtractLane(0);
    }));
    const bytes = [...mod.toBytes()];
    const script = `
      const bytes = new Uint8Array(${JSON.stringify(bytes)});
      const ok = WebAssembly.validate(bytes);
      const { madd } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
      console.log(JSON.stringify({ ok, value: madd(2, 3, 4) }));`;
    const out = execFileSync(process.execPath, ["--experimental-wasm-relaxed-simd", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ ok: true, value: 2 * 3 + 4 + 1 });
  });
});
