/**
 * How names read in the derivation. Layer nets use the usual notation of backpropagation: zˡ, aˡ, Wˡ, bˡ and δˡ = ∂L/∂zˡ.
 * Equation nets keep their own names, with a trailing number as a subscript (w1 → w₁) and δ_v = ∂L/∂v.
 * Every name is escaped for LaTeX; the plain form is the generated module's own identifier.
 */

export type NameStyle = "layers" | "equations";

/** A name as a LaTeX symbol. */
export function latexName(name: string, style: NameStyle): string {
  if (name === "meanL") return "\\bar{L}";
  // a layer net's W3, and W3_1 of the first layer inside the block at layer 3 (docs/net-json.md); layers count from 1, so
  // h0_1 (a recurrent layer's initial state) is a name of its own
  const layered = style === "layers" ? /^([A-Za-z])([1-9]\d*(?:_\d+)*)$/.exec(name) : null;
  if (layered) return `${layered[1]}^{${layerLatex(layered[2])}}`;
  const indexed = /^([A-Za-z])(\d+)$/.exec(name);
  if (indexed) return `${indexed[1]}_{${indexed[2]}}`;
  if (/^[A-Za-z]$/.test(name)) return name;
  return `\\mathit{${escapeLatex(name)}}`;
}

/** δ of a named value: δˡ for the pre-activation zˡ of layer `layer` (its label, as the builder recorded it), δ_v otherwise. */
export function deltaLatex(primal: string, style: NameStyle, layer?: string): string {
  if (style === "layers" && layer !== undefined) return `\\delta^{${layerLatex(layer)}}`;
  return `\\delta_{${latexName(primal, style)}}`;
}

/** A layer's label as a superscript: "3_1" reads 3,1. */
const layerLatex = (label: string) => label.replace(/_/g, ",");

/** ∂top/∂name as a LaTeX fraction. */
export function partialLatex(top: string, name: string, style: NameStyle): string {
  return `\\frac{\\partial ${top}}{\\partial ${latexName(name, style)}}`;
}

/** Text placed inside LaTeX: every character with a meaning to TeX is escaped. */
export function escapeLatex(text: string): string {
  const map: Record<string, string> = {
    "\\": "\\backslash{}",
    "{": "\\{",
    "}": "\\}",
    $: "\\$",
    "&": "\\&",
    "#": "\\#",
    "%": "\\%",
    _: "\\_",
    "^": "\\hat{}",
    "~": "\\sim{}",
  };
  return text.replace(/[\\{}$&#%_^~]/g, (c) => map[c]);
}
