/** DOT syntax: quoted strings and attribute lists, escaped so no name can change the graph's structure. */

/** The inside of a DOT quoted string. Backslashes are doubled, so escapes such as \N or \G cannot be formed. */
function inner(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"');
}

export function quoted(text: string): string {
  return `"${inner(text)}"`;
}

/** A label of several lines, each escaped, joined by DOT's centred line break. */
export function labelLines(lines: readonly string[]): string {
  return `"${lines.map(inner).join("\\n")}"`;
}

export type Attrs = Readonly<Record<string, string | number | undefined>>;

/** `[a="x", b=2]` in the order given, leaving out undefined values; `label` values are already quoted. */
export function attrList(attrs: Attrs): string {
  const parts = Object.entries(attrs)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "number" ? String(v) : k === "label" ? v : quoted(v)}`);
  return parts.length > 0 ? ` [${parts.join(", ")}]` : "";
}
