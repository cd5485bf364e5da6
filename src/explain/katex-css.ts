/**
 * KaTeX's stylesheet for a self-contained page: only the fonts the rendered formulas use, inlined as
 * woff2 data URLs, so the page needs no network and no files beside it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const distDir = dirname(createRequire(import.meta.url).resolve("katex"));

/** The stylesheet for `html` (KaTeX output): font faces of the families its classes select, inlined. */
export function katexCss(html: string): string {
  const css = readFileSync(join(distDir, "katex.min.css"), "utf8");
  const used = new Set([...html.matchAll(/class="([^"]*)"/g)].flatMap((m) => m[1].split(/\s+/)));
  const families = familiesSelected(css.replace(/@font-face\{[^}]*\}/g, ""), used);
  return css.replace(/@font-face\{[^}]*\}/g, (face) => {
    const family = /font-family:(KaTeX_\w+)/.exec(face)?.[1];
    const woff2 = /url\((fonts\/[^)]+\.woff2)\)/.exec(face)?.[1];
    if (!family || !woff2 || !families.has(family)) return "";
    const data = readFileSync(join(distDir, woff2)).toString("base64");
    return face.replace(/src:[^;}]*/, `src:url(data:font/woff2;base64,${data}) format("woff2")`);
  });
}

/** Font families of the rules whose selectors use only classes present in `used` (`.katex` itself included). */
function familiesSelected(css: string, used: ReadonlySet<string>): Set<string> {
  const families = new Set<string>();
  for (const [, selectors, body] of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const family = /font-family:(KaTeX_\w+)/.exec(body)?.[1];
    if (!family) continue;
    const applies = selectors.split(",").some((sel) => [...sel.matchAll(/\.([\w-]+)/g)].every((m) => used.has(m[1])));
    if (applies) families.add(family);
  }
  return families;
}
