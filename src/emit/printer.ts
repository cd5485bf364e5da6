/**
 * Printing declarations of the generated module as text (prettier formats the whole module afterwards). A
 * function is its doc comment, its signature and its statements, one per line; a blank line follows a block
 * statement that closes before another statement, so the steps of a kernel read as paragraphs.
 */

export interface FunctionDecl {
  readonly name: string;
  readonly docs?: string;
  /** [name, type] or [name, "= initializer"]. */
  readonly parameters: readonly (readonly [string, string])[];
  readonly returnType: string;
  readonly statements: readonly string[];
  readonly exported: boolean;
}

/** A function of the module: exported unless `exported` is false; `docs` is its doc comment's text. */
export function functionDecl(name: string, docs: string | undefined, parameters: [string, string][], returnType: string, statements: string[], exported = true): FunctionDecl {
  return { name, ...(docs ? { docs } : {}), parameters, returnType, statements, exported };
}

export function functionText(f: FunctionDecl): string {
  const params = f.parameters.map(([n, t]) => (t.startsWith("=") ? `${n} ${t}` : `${n}: ${t}`)).join(", ");
  const docs = f.docs ? `/** ${f.docs} */\n` : "";
  return `${docs}${f.exported ? "export " : ""}function ${f.name}(${params}): ${f.returnType} {\n${statementsText(f.statements)}\n}\n`;
}

/** Statements one per line, with a blank line after a block that closes before the next statement. */
export function statementsText(statements: readonly string[]): string {
  const out: string[] = [];
  statements.forEach((s, i) => {
    out.push(s);
    const next = statements[i + 1];
    if (next !== undefined && s.trim() === "}" && !next.trim().startsWith("}") && !next.trim().startsWith("else")) out.push("");
  });
  return out.join("\n");
}
