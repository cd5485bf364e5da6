/**
 * A small expression language in which the math functions are written once and lowered to any of
 * the four shapes: scalar `f32`/`f64`, or SIMD `f32x4`/`f64x2`. An expression is a DAG of `Val`s;
 * `MathEmitter.emit` writes it as stack code, keeping every value used more than once in a local.
 *
 * Three kinds of value, whose wasm types depend on the shape:
 *
 *   kind    f32   f64   f32x4  f64x2
 *   float   f32   f64   v128   v128    the numbers
 *   int     i32   i64   v128   v128    their bit patterns / integers of the same width (i32x4, i64x2)
 *   mask    i32   i32   v128   v128    comparison results: 0/1 for scalars, all-zeros/all-ones lanes
 *
 * There is no control flow: both sides of a condition are computed and `select` picks per lane,
 * which is what SIMD needs and costs scalars little.
 */
import type { FunctionBuilder, Local, ValType } from "../encoder.ts";
import { opName } from "../opcodes.ts";

export type MathShape = "f32" | "f64" | "f32x4" | "f64x2";

export const MATH_SHAPES: readonly MathShape[] = ["f32", "f64", "f32x4", "f64x2"];

export interface ShapeInfo {
  readonly name: MathShape;
  readonly float: "f32" | "f64";
  readonly vector: boolean;
  /** Instruction prefix of float operations: f32, f64, f32x4, f64x2. */
  readonly floatPrefix: string;
  /** Instruction prefix of integer operations of the same width: i32, i64, i32x4, i64x2. */
  readonly intPrefix: string;
  /** Width of a lane in bits. */
  readonly bits: 32 | 64;
  /** Explicit mantissa bits (23 or 52). */
  readonly mantissaBits: 23 | 52;
  readonly exponentBias: 127 | 1023;
  /** The wasm type of a value of each kind. */
  readonly type: Readonly<Record<Kind, ValType>>;
}

export type Kind = "float" | "int" | "mask";

export const SHAPES: Readonly<Record<MathShape, ShapeInfo>> = {
  f32: shapeInfo("f32", false),
  f64: shapeInfo("f64", false),
  f32x4: shapeInfo("f32", true),
  f64x2: shapeInfo("f64", true),
};

function shapeInfo(float: "f32" | "f64", vector: boolean): ShapeInfo {
  const wide = float === "f64";
  const name = (vector ? (wide ? "f64x2" : "f32x4") : float) as MathShape;
  const scalarInt: ValType = wide ? "i64" : "i32";
  return {
    name,
    float,
    vector,
    floatPrefix: name,
    intPrefix: vector ? (wide ? "i64x2" : "i32x4") : scalarInt,
    bits: wide ? 64 : 32,
    mantissaBits: wide ? 52 : 23,
    exponentBias: wide ? 1023 : 127,
    type: vector ? { float: "v128", int: "v128", mask: "v128" } : { float, int: scalarInt, mask: "i32" },
  };
}

type Write = (f: FunctionBuilder) => void;

/** A value in an expression. Float methods accept numbers for constant operands. */
export class Val {
  /** References from the expression being emitted (set by `emit`). */
  uses = 0;
  local?: Local;

  /** @internal Use the MathEmitter's and Val's methods. */
  constructor(
    readonly m: MathEmitter,
    readonly kind: Kind,
    readonly args: readonly Val[],
    readonly write: Write,
    /** Re-emitted at each use instead of being kept in a local (constants and inputs). */
    readonly cheap = false,
    /** For vector reinterpretations (no instruction): the value this one is the same bits as. */
    readonly alias?: Val,
  ) {}

  // ---- float arithmetic ----
  add(b: Val | number): Val {
    return this.m.floatBinary("add", this, b);
  }
  sub(b: Val | number): Val {
    return this.m.floatBinary("sub", this, b);
  }
  mul(b: Val | number): Val {
    return this.m.floatBinary("mul", this, b);
  }
  div(b: Val | number): Val {
    return this.m.floatBinary("div", this, b);
  }
  /** IEEE min (NaN if either is NaN; -0 < +0). Slow in SIMD; prefer `atLeast`/`atMost` for clamps. */
  min(b: Val | number): Val {
    return this.m.floatBinary("min", this, b);
  }
  max(b: Val | number): Val {
    return this.m.floatBinary("max", this, b);
  }
  neg(): Val {
    return this.m.floatUnary("neg", this);
  }
  abs(): Val {
    return this.m.floatUnary("abs", this);
  }
  sqrt(): Val {
    return this.m.floatUnary("sqrt", this);
  }
  floor(): Val {
    return this.m.floatUnary("floor", this);
  }
  trunc(): Val {
    return this.m.floatUnary("trunc", this);
  }
  /** Round to nearest, ties to even. */
  nearest(): Val {
    return this.m.floatUnary("nearest", this);
  }
  /** `this < lo ? lo : this`: a clamp from below that keeps NaN (this is NaN → NaN). One SIMD instruction (pmax). */
  atLeast(lo: Val | number): Val {
    return this.m.pseudoMinMax("pmax", this, lo);
  }
  /** `hi < this ? hi : this`: a clamp from above that keeps NaN. One SIMD instruction (pmin). */
  atMost(hi: Val | number): Val {
    return this.m.pseudoMinMax("pmin", this, hi);
  }
  /** |this| with the sign of `sign`. */
  copysign(sign: Val): Val {
    return this.m.copysign(this, sign);
  }
  /** `this * this`. */
  square(): Val {
    return this.mul(this);
  }

  // ---- float comparisons → mask (false for NaN except ne) ----
  lt(b: Val | number): Val {
    return this.m.compare("lt", this, b);
  }
  le(b: Val | number): Val {
    return this.m.compare("le", this, b);
  }
  gt(b: Val | number): Val {
    return this.m.compare("gt", this, b);
  }
  ge(b: Val | number): Val {
    return this.m.compare("ge", this, b);
  }
  eq(b: Val | number): Val {
    return this.m.compare("eq", this, b);
  }
  ne(b: Val | number): Val {
    return this.m.compare("ne", this, b);
  }

  // ---- bit patterns ----
  /** The float's bit pattern as an int (reinterpretation). */
  bits(): Val {
    return this.m.reinterpret(this, "float", "int");
  }
  /** The int's bit pattern as a float (reinterpretation). */
  asFloat(): Val {
    return this.m.reinterpret(this, "int", "float");
  }

  // ---- int arithmetic (wrapping) ----
  iadd(b: Val | number | bigint): Val {
    return this.m.intBinary("add", this, b);
  }
  isub(b: Val | number | bigint): Val {
    return this.m.intBinary("sub", this, b);
  }
  iand(b: Val | number | bigint): Val {
    return this.m.intBitwise("and", this, b);
  }
  ior(b: Val | number | bigint): Val {
    return this.m.intBitwise("or", this, b);
  }
  ixor(b: Val | number | bigint): Val {
    return this.m.intBitwise("xor", this, b);
  }
  shl(n: number): Val {
    return this.m.shift("shl", this, n);
  }
  /** Arithmetic shift right. */
  shrS(n: number): Val {
    return this.m.shift("shr_s", this, n);
  }
  shrU(n: number): Val {
    return this.m.shift("shr_u", this, n);
  }
  ieq(b: Val | number | bigint): Val {
    return this.m.intCompare("eq", this, b);
  }
  /** Signed integer to float; exact only for |int| < 2^(mantissa bits). */
  toFloat(): Val {
    return this.m.smallIntToFloat(this);
  }

  // ---- masks ----
  and(b: Val): Val {
    return this.m.maskBinary("and", this, b);
  }
  or(b: Val): Val {
    return this.m.maskBinary("or", this, b);
  }
  not(): Val {
    return this.m.maskNot(this);
  }
}

/** Builds expressions for one shape and writes them into a function. */
export class MathEmitter {
  constructor(readonly shape: ShapeInfo) {}

  /** A value read from a local (the function's argument, typically). */
  input(local: Local, kind: Kind = "float"): Val {
    return new Val(this, kind, [], (f) => void f.localGet(local), true);
  }

  /** A float constant in every lane (rounded to the shape's precision). */
  f(value: number): Val {
    const { shape } = this;
    return new Val(this, "float", [], (f) => {
      if (shape.name === "f32") f.f32Const(value);
      else if (shape.name === "f64") f.f64Const(value);
      else if (shape.name === "f32x4") f.f32x4Const(value);
      else f.f64x2Const(value);
    }, true);
  }

  /** An integer constant in every lane (taken modulo 2^bits). */
  i(value: number | bigint): Val {
    const { shape } = this;
    const big = BigInt.asIntN(shape.bits, BigInt(value));
    return new Val(this, "int", [], (f) => {
      if (shape.name === "f32") f.i32Const(Number(big));
      else if (shape.name === "f64") f.i64Const(big);
      else if (shape.name === "f32x4") f.i32x4Const(Number(big));
      else f.i64x2Const(big);
    }, true);
  }

  /** The bit pattern of the float `value` (rounded to the shape's precision) as an int constant. */
  floatBits(value: number): Val {
    return this.i(floatBitsOf(value, this.shape.float));
  }

  /** `mask ? a : b`, per lane. */
  select(mask: Val, a: Val | number, b: Val | number): Val {
    expectKind(mask, "mask", "select (condition)");
    const x = this.float(a, "select");
    const y = this.float(b, "select");
    if (x.kind !== y.kind) throw new Error(`select: operands of kinds ${x.kind} and ${y.kind}`);
    const write: Write = this.shape.vector ? (f) => void f.v128Bitselect() : (f) => void f.select();
    return new Val(this, x.kind, [x, y, mask], write);
  }

  /** c[0] + x·(c[1] + x·(c[2] + …)) by Horner's rule. */
  poly(x: Val, coefficients: readonly number[]): Val {
    let acc = this.f(coefficients[coefficients.length - 1]);
    for (let k = coefficients.length - 2; k >= 0; k--) acc = acc.mul(x).add(coefficients[k]);
    return acc;
  }

  /** Writes `root` into `f`, leaving its value on the stack. */
  emit(f: FunctionBuilder, root: Val): void {
    countUses(root);
    this.write(f, root);
  }

  // ---- lowering (used by Val) ----

  /** @internal */
  floatUnary(op: string, a: Val): Val {
    expectKind(a, "float", op);
    const name = opName(`${this.shape.floatPrefix}.${op}`);
    return new Val(this, "float", [a], (f) => void f.op(name));
  }

  /** @internal */
  floatBinary(op: string, a: Val, b: Val | number): Val {
    expectKind(a, "float", op);
    const name = opName(`${this.shape.floatPrefix}.${op}`);
    return new Val(this, "float", [a, this.float(b, op)], (f) => void f.op(name));
  }

  /** @internal */
  compare(op: string, a: Val, b: Val | number): Val {
    expectKind(a, "float", op);
    const name = opName(`${this.shape.floatPrefix}.${op}`);
    return new Val(this, "mask", [a, this.float(b, op)], (f) => void f.op(name));
  }

  /** @internal pmax(a, b) = a < b ? b : a;  pmin(a, b) = b < a ? b : a. */
  pseudoMinMax(op: "pmin" | "pmax", a: Val, b: Val | number): Val {
    expectKind(a, "float", op);
    const other = this.float(b, op);
    if (this.shape.vector) {
      const name = opName(`${this.shape.floatPrefix}.${op}`);
      return new Val(this, "float", [a, other], (f) => void f.op(name));
    }
    return op === "pmax" ? this.select(a.lt(other), other, a) : this.select(other.lt(a), other, a);
  }

  /** @internal */
  copysign(magnitude: Val, sign: Val): Val {
    expectKind(magnitude, "float", "copysign");
    expectKind(sign, "float", "copysign");
    if (!this.shape.vector) {
      const name = opName(`${this.shape.floatPrefix}.copysign`);
      return new Val(this, "float", [magnitude, sign], (f) => void f.op(name));
    }
    const signBit = this.i(-1n << BigInt(this.shape.bits - 1));
    const signMask = new Val(this, "mask", [signBit], () => {}, false, signBit);
    return this.select(signMask, sign, magnitude);
  }

  /** @internal */
  reinterpret(a: Val, from: Kind, to: Kind): Val {
    expectKind(a, from, `reinterpret as ${to}`);
    if (this.shape.vector) return new Val(this, to, [a], () => {}, false, a);
    const { float } = this.shape;
    const int = this.shape.intPrefix;
    const name = opName(to === "int" ? `${int}.reinterpret_${float}` : `${float}.reinterpret_${int}`);
    return new Val(this, to, [a], (f) => void f.op(name));
  }

  /** @internal */
  intBinary(op: "add" | "sub", a: Val, b: Val | number | bigint): Val {
    expectKind(a, "int", op);
    const name = opName(`${this.shape.intPrefix}.${op}`);
    return new Val(this, "int", [a, this.int(b, op)], (f) => void f.op(name));
  }

  /** @internal */
  intBitwise(op: "and" | "or" | "xor", a: Val, b: Val | number | bigint): Val {
    expectKind(a, "int", op);
    const name = opName(this.shape.vector ? `v128.${op}` : `${this.shape.intPrefix}.${op}`);
    return new Val(this, "int", [a, this.int(b, op)], (f) => void f.op(name));
  }

  /** @internal */
  shift(op: "shl" | "shr_s" | "shr_u", a: Val, n: number): Val {
    expectKind(a, "int", op);
    const name = opName(`${this.shape.intPrefix}.${op}`);
    const wideScalar = this.shape.name === "f64";
    return new Val(this, "int", [a], (f) => {
      if (wideScalar) f.i64Const(n);
      else f.i32Const(n);
      f.op(name);
    });
  }

  /** @internal */
  intCompare(op: "eq", a: Val, b: Val | number | bigint): Val {
    expectKind(a, "int", op);
    const name = opName(`${this.shape.intPrefix}.${op}`);
    return new Val(this, "mask", [a, this.int(b, op)], (f) => void f.op(name));
  }

  /** @internal */
  smallIntToFloat(a: Val): Val {
    expectKind(a, "int", "toFloat");
    const { name } = this.shape;
    if (name === "f32") return new Val(this, "float", [a], (f) => void f.f32ConvertI32S());
    if (name === "f64") return new Val(this, "float", [a], (f) => void f.f64ConvertI64S());
    if (name === "f32x4") return new Val(this, "float", [a], (f) => void f.f32x4ConvertI32x4S());
    // f64x2 has no i64 conversion: k + bits(1.5·2^52) is the bit pattern of 1.5·2^52 + k.
    const magic = 1.5 * 2 ** 52;
    return a.iadd(this.floatBits(magic)).asFloat().sub(magic);
  }

  /** @internal */
  maskBinary(op: "and" | "or", a: Val, b: Val): Val {
    expectKind(a, "mask", op);
    expectKind(b, "mask", op);
    const name = opName(this.shape.vector ? `v128.${op}` : `i32.${op}`);
    return new Val(this, "mask", [a, b], (f) => void f.op(name));
  }

  /** @internal */
  maskNot(a: Val): Val {
    expectKind(a, "mask", "not");
    return new Val(this, "mask", [a], this.shape.vector ? (f) => void f.v128Not() : (f) => void f.i32Eqz());
  }

  private float(v: Val | number, op: string): Val {
    if (typeof v === "number") return this.f(v);
    if (v.m !== this) throw new Error(`${op}: operand from another emitter`);
    return v;
  }

  private int(v: Val | number | bigint, op: string): Val {
    if (typeof v === "number" || typeof v === "bigint") return this.i(v);
    expectKind(v, "int", op);
    return v;
  }

  private write(f: FunctionBuilder, v: Val): void {
    const target = v.alias ? resolve(v) : v;
    if (target !== v) return this.write(f, target);
    if (v.local) {
      f.localGet(v.local);
      return;
    }
    for (const arg of v.args) this.write(f, arg);
    v.write(f);
    if (v.uses > 1 && !v.cheap) {
      v.local = f.local(this.shape.type[v.kind], "t");
      f.localTee(v.local);
    }
  }
}

/** Follows reinterpretation aliases to the value that is actually computed. */
function resolve(v: Val): Val {
  let x = v;
  while (x.alias) x = x.alias;
  return x;
}

/** Counts, for each value reachable from `root`, how many times it is referenced. */
function countUses(root: Val): void {
  const seen = new Set<Val>();
  const visit = (v: Val) => {
    const target = resolve(v);
    target.uses++;
    if (seen.has(target)) return;
    seen.add(target);
    for (const arg of target.args) visit(arg);
  };
  visit(root);
}

function expectKind(v: Val, kind: Kind, op: string): void {
  if (v.kind !== kind) throw new Error(`${op}: expected a ${kind} value, got a ${v.kind}`);
}

/** The IEEE bit pattern of `value` rounded to f32 or f64, as a bigint. */
export function floatBitsOf(value: number, float: "f32" | "f64"): bigint {
  const view = new DataView(new ArrayBuffer(8));
  if (float === "f32") {
    view.setFloat32(0, value, true);
    return BigInt(view.getUint32(0, true));
  }
  view.setFloat64(0, value, true);
  return view.getBigUint64(0, true);
}
