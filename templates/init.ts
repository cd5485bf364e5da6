// Parameter initialisers for initParams: each fills the region p[offset .. offset + size) and leaves the
// rest of p untouched. Random ones draw from a generator state made by rngSeed.
// (The generator copies the functions, not the import, into a module.)
import { rngNext, rngNormal } from "./rng.ts";

/** Sets p[offset .. offset + size) to `value`. */
export function initConstant(p: Float32Array | Float64Array, offset: number, size: number, value: number): void {
  p.fill(value, offset, offset + size);
}

// uses: rngNext
/**
 * Xavier/Glorot uniform: fills p[offset .. offset + size) from U(−L, L) with L = √(6 / (fanIn + fanOut)),
 * so the variance is 2 / (fanIn + fanOut).
 */
export function initXavierUniform(
  p: Float32Array | Float64Array,
  offset: number,
  size: number,
  fanIn: number,
  fanOut: number,
  state: Uint32Array,
): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = offset; i < offset + size; i++) p[i] = (2 * rngNext(state) - 1) * limit;
}

// uses: rngNormal
/** He normal: fills p[offset .. offset + size) from N(0, 2 / fanIn), i.e. standard deviation √(2 / fanIn). */
export function initHeNormal(
  p: Float32Array | Float64Array,
  offset: number,
  size: number,
  fanIn: number,
  state: Uint32Array,
): void {
  const std = Math.sqrt(2 / fanIn);
  for (let i = offset; i < offset + size; i++) p[i] = rngNormal(state) * std;
}
