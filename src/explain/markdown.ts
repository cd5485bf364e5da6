/** The document as Markdown with LaTeX ($…$ inline, $$…$$ displayed), as GitHub and pandoc read it. */
import type { Block, Inline } from "./blocks.ts";

export function toMarkdown(blocks: readonly Block[]): string {
  return `${blocks.map(block).join("\n\n")}\n`;
}

function block(b: Block): string {
  switch (b.b) {
    case "heading":
      return `${"#".repeat(b.level)} ${inlines(b.parts)}`;
    case "para":
      return inlines(b.parts);
    case "display":
      return `$$\n${b.latex}\n$$`;
    case "list":
      return b.items.map((item) => `- ${inlines(item)}`).join("\n");
    case "table": {
      const cell = (parts: readonly Inline[]) => inlines(parts, true);
      return [
        `| ${b.head.map((h) => escapeText(h, true)).join(" | ")} |`,
        `| ${b.head.map((_, k) => (k === 0 ? "---" : "---:")).join(" | ")} |`,
        ...b.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
      ].join("\n");
    }
    case "figure":
      return inlines(b.caption);
  }
}

function inlines(parts: readonly Inline[], inTable = false): string {
  return parts.map((p) => (p.t === "text" ? escapeText(p.text, inTable) : p.t === "math" ? `$${p.latex}$` : codeSpan(p.text, inTable))).join("");
}

/** Text with every character Markdown could read as markup escaped. */
function escapeText(text: string, inTable: boolean): string {
  const escaped = text.replace(/[\\`*_[\]<>$#]/g, (c) => `\\${c}`);
  return inTable ? escaped.replace(/\|/g, "\\|") : escaped;
}

/** A code span fenced by one more backtick than the longest run inside it. */
function codeSpan(text: string, inTable: boolean): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const body = /^`|`$/.test(text) ? ` ${text} ` : text;
  return `${fence}${inTable ? body.replace(/\|/g, "\\|") : body}${fence}`;
}
