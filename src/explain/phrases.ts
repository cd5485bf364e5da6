/** Phrases the document repeats: where the module computes a value, and ∂L/∂v for a named value. */
import type { Node } from "../ir/node.ts";
import { type Block, type Inline, code, para, text } from "./blocks.ts";
import type { CodeRef } from "./code-ref.ts";
import type { Derivation } from "./derivation.ts";

/** "In the module: `line`; `line`", or where an unstored value is computed. */
export function codeParts(ref: CodeRef, codeName: string | undefined, name: string): Inline[] {
  const lines = ref.lines.flatMap((line, k) => [...(k === 0 ? [] : [text("; ")]), code(line)]);
  if (ref.stored) {
    const renamed = codeName !== undefined && codeName !== name ? [text(" (the module calls it "), code(codeName), text(")")] : [];
    return [text("In the module: "), ...lines, ...renamed, text(".")];
  }
  if (lines.length === 0) return [];
  return [text("In the module: "), ...lines, text(` (${name} is not stored: it is computed where it is read).`)];
}

/** ∂L/∂v for a named value, inline. */
export function partialOf(d: Derivation, n: Node, top = "L"): string {
  const name = d.names.latex(n, true);
  return `\\partial ${top}/\\partial ${name}`;
}

/** ∂L/∂v for a named value, as a displayed fraction. */
export function fracOf(d: Derivation, n: Node, top = "L"): string {
  return `\\frac{\\partial ${top}}{\\partial ${d.names.latex(n, true)}}`;
}

export function nonEmpty(parts: Inline[]): Block[] {
  return parts.length > 0 ? [para(...parts)] : [];
}
