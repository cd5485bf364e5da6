// Argument checks run at the top of every exported function: they allocate only when they throw.

/** Throws unless `batch` is a positive integer. */
export function checkBatch(batch: number): void {
  if (!(batch >= 1) || batch % 1 !== 0) throw new RangeError(`batch must be a positive integer, got ${batch}`);
}

/**
 * Throws a TypeError unless `array` is an instance of `type` (a Float64Array where a Float32Array is
 * expected would silently lose precision or be misread), and a RangeError unless it holds `needed` numbers:
 * exactly that many when `exact`, at least that many otherwise.
 */
export function checkArray(name: string, array: unknown, type: Float32ArrayConstructor | Float64ArrayConstructor, needed: number, exact: boolean): void {
  if (!(array instanceof type)) {
    const found = array === null ? "null" : typeof array === "object" ? (array.constructor?.name ?? "an object") : typeof array;
    throw new TypeError(`${name} must be a ${type.name}, got ${found}`);
  }
  if (exact ? array.length !== needed : array.length < needed) {
    throw new RangeError(`${name} needs ${exact ? "exactly" : "at least"} ${needed} numbers, got ${array.length}`);
  }
}

/** The batch a call's inputs hold: their length over the size of one sample, which must divide it. */
export function batchOf(array: ArrayLike<number>, rowSize: number, name: string): number {
  const batch = array.length / rowSize;
  if (!(batch >= 1) || batch % 1 !== 0) {
    throw new RangeError(`${name}.length (${array.length}) is not a positive multiple of the size of one sample (${rowSize}); pass batch explicitly`);
  }
  return batch;
}
