/**
 * Low-level byte encoding for WebAssembly binaries: LEB128 integers, little-endian IEEE floats,
 * UTF-8 names, and a growable writer that can leave holes for values known only later
 * (function indices, which shift when imports are added after a body was written).
 */

const MIN_I32 = -(2 ** 31);
const MAX_U32 = 2 ** 32 - 1;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const MAX_U64 = 2n ** 64n - 1n;

/** Unsigned LEB128 of a u32 (integer in [0, 2^32)). */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new RangeError(`unsigned LEB128: ${value} is not an integer in [0, 2^32)`);
  }
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = v % 128;
    v = Math.floor(v / 128);
    if (v === 0) {
      out.push(low);
      return out;
    }
    out.push(low | 0x80);
  }
}

/** Unsigned LEB128 of a u64 given as a bigint in [0, 2^64). */
export function unsignedLeb128Big(value: bigint): number[] {
  if (value < 0n || value > MAX_U64) throw new RangeError(`unsigned LEB128: ${value} is not in [0, 2^64)`);
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    if (v === 0n) {
      out.push(low);
      return out;
    }
    out.push(low | 0x80);
  }
}

/**
 * Signed LEB128 of an s32. Accepts [-2^31, 2^32): values at or above 2^31 are read as the u32 bit
 * pattern of a negative number (so `0xffffffff` encodes -1), which is what `i32.const` means.
 */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < MIN_I32 || value > MAX_U32) {
    throw new RangeError(`signed LEB128 (32-bit): ${value} is not an integer in [-2^31, 2^32)`);
  }
  return signedLebOf(BigInt(value | 0));
}

/**
 * Signed LEB128 of an s64. Accepts [-2^63, 2^64): values at or above 2^63 are the u64 bit pattern
 * of a negative number, as `i64.const` means.
 */
export function signedLeb128Big(value: bigint): number[] {
  if (value < MIN_I64 || value > MAX_U64) throw new RangeError(`signed LEB128 (64-bit): ${value} is not in [-2^63, 2^64)`);
  return signedLebOf(BigInt.asIntN(64, value));
}

function signedLebOf(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const low = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift: sign bits come in from the left
    const signBitOfLow = (low & 0x40) !== 0;
    const done = (v === 0n && !signBitOfLow) || (v === -1n && signBitOfLow);
    if (done) {
      out.push(low);
      return out;
    }
    out.push(low | 0x80);
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** The 4 little-endian bytes of `value` rounded to f32. NaN payloads are kept as far as JS keeps them. */
export function f32Bytes(value: number): number[] {
  scratch.setFloat32(0, value, true);
  return [0, 1, 2, 3].map((i) => scratch.getUint8(i));
}

/** The 8 little-endian bytes of the f64 `value`. */
export function f64Bytes(value: number): number[] {
  scratch.setFloat64(0, value, true);
  return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => scratch.getUint8(i));
}

const utf8 = new TextEncoder();

/** A value a writer leaves a hole for, filled in (as unsigned LEB128) when the bytes are taken. */
export type Deferred = () => number;

/**
 * Appends bytes to a growable buffer. `deferredU32` records a hole whose value is computed by
 * `toBytes()`; because LEB128 has variable length, holes are spliced in rather than patched.
 */
export class ByteWriter {
  private buffer: Uint8Array<ArrayBuffer> = new Uint8Array(64);
  private used = 0;
  private readonly holes: { at: number; value: Deferred }[] = [];

  /** Bytes written so far, not counting holes. */
  get length(): number {
    return this.used;
  }

  byte(b: number): this {
    if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`not a byte: ${b}`);
    this.reserve(1);
    this.buffer[this.used++] = b;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    this.reserve(bs.length);
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i];
      if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`not a byte: ${b}`);
      this.buffer[this.used++] = b;
    }
    return this;
  }

  u32(value: number): this {
    return this.bytes(unsignedLeb128(value));
  }

  s32(value: number): this {
    return this.bytes(signedLeb128(value));
  }

  s64(value: bigint): this {
    return this.bytes(signedLeb128Big(value));
  }

  f32(value: number): this {
    return this.bytes(f32Bytes(value));
  }

  f64(value: number): this {
    return this.bytes(f64Bytes(value));
  }

  /** A name: its UTF-8 byte length, then the bytes. */
  name(text: string): this {
    const encoded = utf8.encode(text);
    return this.u32(encoded.length).bytes(encoded);
  }

  /** A vector: its length, then each item written by `write`. */
  vector<T>(items: readonly T[], write: (item: T, w: this) => void): this {
    this.u32(items.length);
    for (const item of items) write(item, this);
    return this;
  }

  /** Another writer's content, holes included (resolved when this writer's bytes are taken). */
  append(other: ByteWriter): this {
    for (const hole of other.holes) this.holes.push({ at: this.used + hole.at, value: hole.value });
    this.reserve(other.used);
    this.buffer.set(other.buffer.subarray(0, other.used), this.used);
    this.used += other.used;
    return this;
  }

  /** A u32 whose value is known only when `toBytes()` runs. */
  deferredU32(value: Deferred): this {
    this.holes.push({ at: this.used, value });
    return this;
  }

  /** The bytes, with every hole filled. */
  toBytes(): Uint8Array<ArrayBuffer> {
    if (this.holes.length === 0) return this.buffer.slice(0, this.used);
    const filled = this.holes.map((h) => unsignedLeb128(h.value()));
    const out = new Uint8Array(this.used + filled.reduce((n, f) => n + f.length, 0));
    let from = 0;
    let to = 0;
    this.holes.forEach((hole, i) => {
      out.set(this.buffer.subarray(from, hole.at), to);
      to += hole.at - from;
      out.set(filled[i], to);
      to += filled[i].length;
      from = hole.at;
    });
    out.set(this.buffer.subarray(from, this.used), to);
    return out;
  }

  private reserve(extra: number): void {
    if (this.used + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.used + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.used));
    this.buffer = grown;
  }
}
