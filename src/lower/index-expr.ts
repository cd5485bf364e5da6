/**
 * Index expressions are strings: a literal number when known at compile time (unrolled code), an identifier
 * or a sum otherwise. Folding here is what turns `0 * 10 + 3` into `3` in unrolled code.
 */
const isLiteral = (e: string) => /^\d+$/.test(e);

export function addIndex(a: string, b: string): string {
  if (isLiteral(a) && isLiteral(b)) return String(Number(a) + Number(b));
  if (a === "0") return b;
  if (b === "0") return a;
  // 200 + (20 + k) -> 220 + k
  const lead = /^(\d+) \+ (.*)$/.exec(b);
  if (isLiteral(a) && lead) return addIndex(String(Number(a) + Number(lead[1])), lead[2]);
  return `${a} + ${b}`;
}

export function mulIndex(a: string, k: number): string {
  if (isLiteral(a)) return String(Number(a) * k);
  if (k === 1) return a;
  if (k === 0) return "0";
  return `${a} * ${k}`;
}

/** Row-major flat index of (row, col) in a matrix with `cols` columns. */
export function flatIndex(row: string, col: string, cols: number): string {
  return addIndex(mulIndex(row, cols), col);
}
