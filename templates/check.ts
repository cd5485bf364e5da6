// Argument checks run at the top of every exported function: they allocate only when they throw.

/** Throws unless `batch` is a positive integer. */
export function checkBatch(batch: number): void {
  if (!(batch >= 1) || batch % 1 !== 0) throw new RangeError(`batch must be a positive integer, got ${batch}`);
}

/** Throws unless `array` holds at least `needed` numbers. */
export function checkLength(name: string, array: ArrayLike<number>, needed: number): void {
  if (array.length < needed) throw new RangeError(`${name} needs at least ${needed} numbers, got ${array.length}`);
}
