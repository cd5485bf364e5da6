// Copies between the caller's arrays and the WebAssembly kernels' memory, without allocating.

/** dst[0 .. count) ← src[0 .. count); `set` when src is exactly that long (a part of src would need a view). */
export function copyElements(dst: Float32Array | Float64Array, src: Float32Array | Float64Array, count: number): void {
  if (src.length === count && dst.length >= count) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < count; i++) dst[i] = src[i]!;
}
