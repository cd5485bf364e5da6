/**
 * Formatting the module with prettier. Its defaults, so that a project's `prettier --check` passes on generated
 * files as they are. prettier is loaded on the first format, not with the compiler, so that what only lowers (the
 * tests of the passes, explain) does not load it.
 */
import type { LaidOut, LongStatement } from "../render/backend.ts";

const OPTIONS = { parser: "babel-ts" } as const;
const INDENT = "  ";

type Prettier = typeof import("prettier");
let prettier: Prettier | undefined;
const load = async (): Promise<Prettier> => (prettier ??= (await import("prettier")).default);

export async function format(text: string): Promise<string> {
  return (await load()).format(text, OPTIONS);
}

/**
 * The code of laid-out parts' placeholders, their long statements formatted (all in one call of prettier) or,
 * for a module that is not formatted, as they are.
 */
export async function laidOutCode(parts: readonly LaidOut[], formatted: boolean): Promise<Map<string, string>> {
  const all = parts.flatMap((p) => p.statements);
  const statements = formatted ? await formatStatements(all) : all.map((s) => INDENT.repeat(s.depth) + s.text);
  let from = 0;
  return new Map(parts.flatMap((p) => [...p.code(statements.slice(from, (from += p.statements.length)))]));
}

/**
 * Statements formatted by prettier in one call, each as prettier lays it out at its depth in the module: inside as
 * many blocks (a statement is laid out the same whatever block holds it), its lines taken out of them.
 */
async function formatStatements(statements: readonly LongStatement[]): Promise<string[]> {
  if (statements.length === 0) return [];
  const wrapped = statements.map(({ depth, text }) => `${"{\n".repeat(depth)}${text}\n${"}\n".repeat(depth)}`);
  const lines = (await format(wrapped.join(""))).split("\n");
  let at = 0;
  return statements.map(({ depth }) => {
    at += depth;
    const end = depth > 0 ? lines.indexOf(`${INDENT.repeat(depth - 1)}}`, at) : -1;
    if (end < 0) throw new Error("internal: a statement formatted on its own came back out of its blocks");
    const text = lines.slice(at, end).join("\n");
    at = end + depth;
    return text;
  });
}

/** `module` with each placeholder statement, alone on its line, replaced by its code. */
export function placeCode(module: string, code: ReadonlyMap<string, string>): string {
  if (code.size === 0) return module;
  return module
    .split("\n")
    .map((line) => code.get(line.trim()) ?? line)
    .join("\n");
}
