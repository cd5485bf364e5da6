/**
 * Numbers in WebAssembly: how they are stored (f32 or f64, the module's precision) and how they are computed.
 * Elementwise code computes in f64 whatever the storage, exactly as the TypeScript kernels do (JavaScript
 * numbers are doubles, rounded to f32 only when stored): the two back ends then agree value for value, also
 * where an f32 intermediate would overflow. The contractions compute in the storage type, four f32 lanes at a
 * time. Renderers say `add` and get `f64.add` or `f32x4.add`; loads, stores, constants and lanes likewise.
 */
import type { FunctionBuilder } from "./encoder.ts";
import { opName } from "./opcodes.ts";

export type Precision = "f32" | "f64";

export class Numeric {
  /** The type values are computed in. */
  readonly scalar: "f32" | "f64";
  readonly vector: "f32x4" | "f64x2";
  /** Lanes per v128 in the computing type. */
  readonly lanes: number;
  /** Bytes per stored element. */
  readonly bytes: number;
  private readonly widened: boolean;

  constructor(
    readonly storage: Precision,
    compute: Precision = storage,
  ) {
    this.scalar = compute;
    this.vector = compute === "f32" ? "f32x4" : "f64x2";
    this.lanes = compute === "f32" ? 4 : 2;
    this.bytes = storage === "f32" ? 4 : 8;
    this.widened = storage === "f32" && compute === "f64";
    if (storage === "f64" && compute === "f32") throw new Error("internal: f64 values are never computed in f32");
  }

  /** A scalar instruction without immediates: `add` → `f64.add`. */
  s(f: FunctionBuilder, name: string): FunctionBuilder {
    return f.op(opName(`${this.scalar}.${name}`));
  }

  /** A vector instruction without immediates: `add` → `f64x2.add`. */
  v(f: FunctionBuilder, name: string): FunctionBuilder {
    return f.op(opName(`${this.vector}.${name}`));
  }

  constS(f: FunctionBuilder, value: number): FunctionBuilder {
    return this.scalar === "f32" ? f.f32Const(value) : f.f64Const(value);
  }

  constV(f: FunctionBuilder, value: number): FunctionBuilder {
    return this.scalar === "f32" ? f.f32x4Const(value) : f.f64x2Const(value);
  }

  /** One stored element, as a computing-type scalar. */
  load(f: FunctionBuilder, offset: number): FunctionBuilder {
    if (this.storage === "f64") return f.f64Load({ offset });
    f.f32Load({ offset });
    return this.widened ? f.f64PromoteF32() : f;
  }

  /** A computing-type scalar, stored as one element. */
  store(f: FunctionBuilder, offset: number): FunctionBuilder {
    if (this.storage === "f64") return f.f64Store({ offset });
    if (this.widened) f.f32DemoteF64();
    return f.f32Store({ offset });
  }

  /** One stored element copied as stored (the store's address, then the load's, on the stack): no conversion. */
  copy(f: FunctionBuilder, from: number, to: number): FunctionBuilder {
    return this.storage === "f64" ? f.f64Load({ offset: from }).f64Store({ offset: to }) : f.f32Load({ offset: from }).f32Store({ offset: to });
  }

  /** One stored element loaded into every lane. */
  loadSplat(f: FunctionBuilder, offset: number): FunctionBuilder {
    if (this.storage === "f64") return f.v128Load64Splat({ offset, align: 8 });
    if (!this.widened) return f.v128Load32Splat({ offset, align: 4 });
    return this.load(f, offset).f64x2Splat();
  }

  /** `lanes` consecutive stored elements. */
  loadV(f: FunctionBuilder, offset: number): FunctionBuilder {
    if (!this.widened) return f.v128Load({ offset, align: this.bytes });
    return f.v128Load64Zero({ offset, align: 4 }).f64x2PromoteLowF32x4();
  }

  /** A vector stored as `lanes` consecutive elements (the address below it on the stack). */
  storeV(f: FunctionBuilder, offset: number): FunctionBuilder {
    if (!this.widened) return f.v128Store({ offset, align: this.bytes });
    return f.f32x4DemoteF64x2Zero().v128Store64Lane(0, { offset, align: 4 });
  }

  splat(f: FunctionBuilder): FunctionBuilder {
    return this.scalar === "f32" ? f.f32x4Splat() : f.f64x2Splat();
  }

  extract(f: FunctionBuilder, lane: number): FunctionBuilder {
    return this.scalar === "f32" ? f.f32x4ExtractLane(lane) : f.f64x2ExtractLane(lane);
  }

  /** i32 → the computing type. */
  fromInt(f: FunctionBuilder): FunctionBuilder {
    return this.scalar === "f32" ? f.f32ConvertI32S() : f.f64ConvertI32S();
  }

  /** The computing type → f64 (a function's returned J). */
  toF64(f: FunctionBuilder): FunctionBuilder {
    return this.scalar === "f32" ? f.f64PromoteF32() : f;
  }

  /** f64 → the computing type (the learning rate argument). */
  fromF64(f: FunctionBuilder): FunctionBuilder {
    return this.scalar === "f32" ? f.f32DemoteF64() : f;
  }

  /** i32 → f32/f64 without sign: a comparison's 0 or 1 as a number. */
  fromBool(f: FunctionBuilder): FunctionBuilder {
    return this.scalar === "f32" ? f.f32ConvertI32U() : f.f64ConvertI32U();
  }
}
