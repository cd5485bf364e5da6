/**
 * Python literals for the exporter: numbers, booleans, tuples and strings. Nothing of net.json's text reaches the
 * Python code but through these (and names the spec checked as identifiers).
 */

export const py = (b: boolean) => (b ? "True" : "False");

/** A finite number as Python reads it back exactly (a float: `1.0`, `1e-05`). */
export function num(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`internal: ${v} is not a finite number`);
  const text = String(v);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** Any number, infinities and NaN included. */
export function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return 'float("nan")';
  if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : 'float("-inf")';
  return num(v);
}

export const tuple = (xs: readonly (number | string)[]) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(", ")})`);

/** A Python string literal of any text (JSON's escapes are Python's). */
export const pyString = (text: string) => JSON.stringify(text);

/** A name the spec checked, asserted again where it becomes Python code. */
export function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`internal: ${JSON.stringify(name)} is not an identifier`);
  return name;
}
