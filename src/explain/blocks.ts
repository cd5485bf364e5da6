/** The derivation document as blocks, rendered to Markdown (markdown.ts) or HTML with KaTeX (html.ts). */

export type Inline = { readonly t: "text"; readonly text: string } | { readonly t: "math"; readonly latex: string } | { readonly t: "code"; readonly text: string };

export type Block =
  /** `anchor`: the id of its section in HTML (else one is made from its words). */
  | { readonly b: "heading"; readonly level: 1 | 2 | 3; readonly parts: readonly Inline[]; readonly anchor?: string }
  | { readonly b: "para"; readonly parts: readonly Inline[] }
  /** A displayed formula (LaTeX). */
  | { readonly b: "display"; readonly latex: string }
  | { readonly b: "list"; readonly items: readonly (readonly Inline[])[] }
  | { readonly b: "table"; readonly head: readonly string[]; readonly rows: readonly (readonly (readonly Inline[])[])[] }
  /** A picture: inline SVG in HTML, its caption (and where to get it) in Markdown. */
  | { readonly b: "figure"; readonly svg: string; readonly caption: readonly Inline[] };

export const text = (t: string): Inline => ({ t: "text", text: t });
export const math = (latex: string): Inline => ({ t: "math", latex });
export const code = (t: string): Inline => ({ t: "code", text: t });

export const heading = (level: 1 | 2 | 3, ...parts: Inline[]): Block => ({ b: "heading", level, parts });
/** The heading of the k-th step of the sweep, `k. …`, linkable as #step-k. */
export const stepHeading = (k: number, ...parts: Inline[]): Block => ({ b: "heading", level: 3, parts: [text(`${k}. `), ...parts], anchor: `step-${k}` });
export const para = (...parts: Inline[]): Block => ({ b: "para", parts });
export const display = (latex: string): Block => ({ b: "display", latex });

/** "a, b and c", with each item's parts kept. */
export function joinAnd(items: readonly (readonly Inline[])[]): Inline[] {
  return items.flatMap((item, k) => [...(k === 0 ? [] : [text(k === items.length - 1 ? " and " : ", ")]), ...item]);
}
