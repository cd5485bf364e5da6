/**
 * The document as one self-contained HTML page: formulas rendered by KaTeX at build time (no script runs
 * in the page), KaTeX's stylesheet and the fonts it uses inlined, the graph as inline SVG. No network needed.
 */
import katex from "katex";
import type { Block, Inline } from "./blocks.ts";
import { katexCss } from "./katex-css.ts";

const PAGE_CSS = `
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; margin: 0; background: #fff; }
main { max-width: 58rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin-top: 0.5rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #e5e7eb; } h3 { margin-top: 1.6rem; }
code { font: 0.86em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f4f6; padding: 0.1em 0.3em; border-radius: 3px; }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.2em 0; }
table { border-collapse: collapse; margin: 0.8rem 0; } th, td { border: 1px solid #e5e7eb; padding: 0.3rem 0.6rem; } td + td, th + th { text-align: right; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; } figcaption { color: #4b5563; font-size: 0.9rem; }
`;

export function toHtml(title: string, blocks: readonly Block[]): string {
  const ids = new Map<string, number>();
  const body = blocks.map((b) => (b.b === "heading" ? heading(b, ids) : block(b))).join("\n");
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${katexCss(body)}${PAGE_CSS}</style>`,
    "</head>",
    "<body>",
    "<main>",
    body,
    "</main>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** A heading with an id (its anchor, else its words), unique in the page, so sections can be linked. */
function heading({ level, parts, anchor }: Extract<Block, { b: "heading" }>, ids: Map<string, number>): string {
  const words = parts.map((p) => (p.t === "math" ? "" : p.text)).join(" ");
  const base = anchor ?? (words.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "section");
  const seen = ids.get(base) ?? 0;
  ids.set(base, seen + 1);
  return `<h${level} id="${seen === 0 ? base : `${base}-${seen}`}">${inlines(parts)}</h${level}>`;
}

function block(b: Block): string {
  switch (b.b) {
    case "heading":
      return `<h${b.level}>${inlines(b.parts)}</h${b.level}>`;
    case "para":
      return `<p>${inlines(b.parts)}</p>`;
    case "display":
      return `<div class="formula">${tex(b.latex, true)}</div>`;
    case "list":
      return `<ul>${b.items.map((item) => `<li>${inlines(item)}</li>`).join("")}</ul>`;
    case "table": {
      const head = `<tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
      const rows = b.rows.map((r) => `<tr>${r.map((c) => `<td>${inlines(c)}</td>`).join("")}</tr>`);
      return `<table><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
    }
    case "figure":
      return `<figure>${svgElement(b.svg)}<figcaption>${inlines(b.caption)}</figcaption></figure>`;
  }
}

function inlines(parts: readonly Inline[]): string {
  return parts.map((p) => (p.t === "text" ? escapeHtml(p.text) : p.t === "math" ? tex(p.latex, false) : `<code>${escapeHtml(p.text)}</code>`)).join("");
}

/**
 * KaTeX at build time; a formula it cannot typeset is a bug in bpgen, so it throws rather than showing an error box.
 * Its macro-expansion limit (1000) guards against runaway macros: bpgen's formulas define none, but a long one
 * (a max-pool's or a batch norm's delta) expands \operatorname and \left… more times than that.
 */
const MAX_EXPANSIONS = 100_000;

function tex(latex: string, displayMode: boolean): string {
  return katex.renderToString(latex, { displayMode, throwOnError: true, strict: "error", output: "htmlAndMathml", trust: false, maxExpand: MAX_EXPANSIONS });
}

/** Graphviz's SVG without its XML prolog and doctype, to sit inside the page. */
function svgElement(svg: string): string {
  const start = svg.indexOf("<svg");
  if (start < 0) throw new Error("internal: Graphviz output has no <svg> element");
  return svg.slice(start).trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
