/**
 * Splices functions from templates/ into a generated module: only those the module calls, plus the
 * template functions they call in turn, each once, in a fixed order, unexported. A template is a top-level
 * `export function` with its doc comment, closed by a `}` on a line of its own (test/templates.test.ts
 * checks every template file keeps to that, with the TypeScript parser); reading them needs no parser here.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface TemplateFunction {
  readonly name: string;
  /** The function as the module prints it: its doc comment and its text, without `export`. */
  readonly text: string;
  /** Other template functions it calls. */
  readonly calls: readonly string[];
}

const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));
let cache: Map<string, TemplateFunction> | undefined;

/** The functions of one template file's text, in order. */
export function splitTemplate(source: string): { name: string; text: string }[] {
  const lines = source.split("\n");
  const out: { name: string; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^export function (\w+)\(/.exec(lines[i] ?? "");
    if (!m) continue;
    let start = i;
    // the doc comment right above it (a `// uses:` line between them is for readers of the template only)
    let k = i - 1;
    while (k >= 0 && /^\/\/ uses:/.test(lines[k] ?? "")) k--;
    if (k >= 0 && /\*\/\s*$/.test(lines[k] ?? "")) {
      let open = k;
      while (open >= 0 && !/^\/\*\*/.test(lines[open] ?? "")) open--;
      if (open >= 0) start = open;
    }
    let end = i;
    while (end < lines.length && lines[end] !== "}") end++;
    const doc = start < i ? lines.slice(start, k + 1) : [];
    const body = lines.slice(i, end + 1);
    body[0] = (body[0] ?? "").replace(/^export /, "");
    out.push({ name: m[1] as string, text: [...doc, ...body].join("\n") });
    i = end;
  }
  return out;
}

function templates(): Map<string, TemplateFunction> {
  if (cache) return cache;
  const files = readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith(".ts")).sort();
  const all = files.flatMap((f) => splitTemplate(readFileSync(join(TEMPLATE_DIR, f), "utf8")));
  const names = new Set(all.map((f) => f.name));
  cache = new Map(
    all.map((f): [string, TemplateFunction] => {
      const called = [...f.text.matchAll(/\b([A-Za-z_$][\w$]*)\s*\(/g)].map((m) => m[1] as string);
      const calls = [...new Set(called)].filter((n) => names.has(n) && n !== f.name);
      return [f.name, { ...f, calls }];
    }),
  );
  return cache;
}

export function templateNames(): string[] {
  return [...templates().keys()];
}

/** The template functions `code` calls (directly or through other templates), in template order. */
export function templatesUsedBy(code: string): string[] {
  const table = templates();
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    table.get(name)?.calls.forEach(visit);
  };
  for (const name of table.keys()) if (new RegExp(`\\b${name}\\(`).test(code)) visit(name);
  return [...table.values()].filter((t) => needed.has(t.name)).map((t) => `${t.text}\n`);
}

/** The module's API types are printed from their description (api-types.ts), not read from a file. */
export { apiDeclarations } from "./api-types.ts";
