/**
 * Splices functions from templates/ into a generated module: only those the module calls, plus the
 * template functions they call in turn, each once, in a fixed order, unexported.
 */
import { fileURLToPath } from "node:url";
import { type FunctionDeclarationStructure, Project, SyntaxKind } from "ts-morph";

interface TemplateFunction {
  name: string;
  structure: FunctionDeclarationStructure;
  calls: string[];
}

const TEMPLATE_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));
let cache: Map<string, TemplateFunction> | undefined;

function templates(): Map<string, TemplateFunction> {
  if (cache) return cache;
  const project = new Project({ skipAddingFilesFromTsConfig: true });
  const files = project.addSourceFilesAtPaths(`${TEMPLATE_DIR}*.ts`).sort((a, b) => a.getFilePath().localeCompare(b.getFilePath()));
  const all = files.flatMap((f) => f.getFunctions());
  const names = new Set(all.map((f) => f.getName() ?? ""));
  cache = new Map<string, TemplateFunction>(
    all.map((f): [string, TemplateFunction] => {
      const structure: FunctionDeclarationStructure = { ...(f.getStructure() as FunctionDeclarationStructure), isExported: false };
      const called = f.getDescendantsOfKind(SyntaxKind.Identifier).map((id) => id.getText());
      const calls = [...new Set(called)].filter((n) => names.has(n) && n !== f.getName());
      return [f.getName() ?? "", { name: f.getName() ?? "", structure, calls }];
    }),
  );
  return cache as Map<string, TemplateFunction>;
}

export function templateNames(): string[] {
  return [...templates().keys()];
}

/** The template functions `code` calls (directly or through other templates), in template order. */
export function templatesUsedBy(code: string): FunctionDeclarationStructure[] {
  const table = templates();
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    table.get(name)?.calls.forEach(visit);
  };
  for (const name of table.keys()) if (new RegExp(`\\b${name}\\(`).test(code)) visit(name);
  return [...table.values()].filter((t) => needed.has(t.name)).map((t) => t.structure);
}
