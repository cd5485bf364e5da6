/** Safe renderings of values that reach the emitted source. */

/** A number literal; negatives are parenthesized so `a - -1` and `(-2) ** x` stay valid. */
export function numberLiteral(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`internal: non-finite constant ${v}`);
  const text = String(v);
  return v < 0 ? `(${text})` : text;
}

/** Text placed in a line or block comment: one line, with no comment terminator left in it. */
export function commentText(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, " ").replace(/\*\//g, "*\\/");
}

/** A string literal (JSON escaping is valid TypeScript, and escapes line separators too). */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
