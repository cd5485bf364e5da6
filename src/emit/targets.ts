/**
 * The last stage: the generated TypeScript module (exactly what compile() returns as `source`) as the files of
 * an output target.
 *   ts   name.ts                      the module itself
 *   js   name.js + name.d.ts          ES2022 ES module (comments kept) and its declarations
 *   dts  name.d.ts                    the declarations only
 * Both derived files keep the module's provenance header and are formatted by prettier like the module.
 */
import prettier from "prettier";
import { Project, ts } from "ts-morph";

export type Target = "ts" | "js" | "dts";
export const TARGETS: readonly Target[] = ["ts", "js", "dts"];

export interface TargetFile {
  /** What the file holds: the TypeScript module, its JavaScript, or its declarations. */
  readonly kind: Target;
  /** `<name>.ts`, `<name>.js` or `<name>.d.ts`. */
  readonly fileName: string;
  readonly text: string;
}

/** The extension of each kind of file. */
export const EXTENSION: Readonly<Record<Target, string>> = { ts: ".ts", js: ".js", dts: ".d.ts" };

/** prettier's defaults, as for the module. */
const PRINT = { parser: "typescript" } as const;

export async function emitTargets(name: string, source: string, target: Target): Promise<TargetFile[]> {
  const file = (kind: Target, text: string): TargetFile => ({ kind, fileName: `${name}${EXTENSION[kind]}`, text });
  if (target === "ts") return [file("ts", source)];
  const { header, body } = splitHeader(source);
  const dts = file("dts", spaceDeclarations(await withHeader(header, declarations(`${name}.ts`, body))));
  if (target === "dts") return [dts];
  return [file("js", await withHeader(header, javascript(`${name}.ts`, body))), dts];
}

/**
 * The leading comment lines (the provenance header and the linters' opt-out) and the rest. Type-only declarations vanish from the
 * JavaScript and the header is attached to the first of them, so it is split off and put back on each file.
 */
export function splitHeader(source: string): { header: string; body: string } {
  const lines = source.split("\n");
  let n = 0;
  while (n < lines.length && (lines[n].startsWith("//") || lines[n] === "/* eslint-disable */")) n++;
  return { header: lines.slice(0, n).join("\n"), body: lines.slice(n).join("\n") };
}

/** A blank line before each top-level declaration's doc comment, as in the module (declaration emit drops them). */
function spaceDeclarations(dts: string): string {
  return dts.replace(/([^\n])\n\/\*\*/g, "$1\n\n/**");
}

async function withHeader(header: string, code: string): Promise<string> {
  const formatted = await prettier.format(code, PRINT);
  return header === "" ? formatted : `${header}\n\n${formatted}`;
}

/**
 * ES2022 JavaScript as an ES module, comments kept. The TypeScript printer drops blank lines between
 * statements; a marker comment on each such line (placed from the syntax tree, so never inside a string)
 * keeps them, so the output reads like the module.
 */
function javascript(fileName: string, body: string): string {
  const out = ts.transpileModule(markBlankLines(fileName, body), {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {
      module: ts.ModuleKind.ES2022,
      target: ts.ScriptTarget.ES2022,
      removeComments: false,
      newLine: ts.NewLineKind.LineFeed,
      isolatedModules: true,
    },
  });
  failOn(out.diagnostics, "JavaScript");
  return out.outputText.replace(MARKER_LINE, "");
}

const MARKER = "/*bpgen:blank*/";
const MARKER_LINE = /^[ \t]*\/\*bpgen:blank\*\/[ \t]*$/gm;

function markBlankLines(fileName: string, body: string): string {
  const sf = ts.createSourceFile(fileName, body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const at: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isSourceFile(node) || ts.isBlock(node) || ts.isModuleBlock(node) || ts.isCaseClause(node) || ts.isDefaultClause(node)) {
      for (const statement of node.statements) {
        const trivia = body.slice(statement.pos, statement.getStart(sf, true));
        const blank = /\n[ \t]*\n/.exec(trivia);
        if (blank) at.push(statement.pos + blank.index + 1);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let out = "";
  let from = 0;
  for (const offset of at.sort((a, b) => a - b)) {
    out += `${body.slice(from, offset)}${MARKER}`;
    from = offset;
  }
  return out + body.slice(from);
}

/**
 * Declarations by isolated declaration emit (no type checking: every export of a generated module carries its
 * type); should a future module need inference, the same source is declared by a type-checked program.
 */
function declarations(fileName: string, body: string): string {
  const options: ts.CompilerOptions = {
    declaration: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    strict: true,
    removeComments: false,
    newLine: ts.NewLineKind.LineFeed,
  };
  const isolated = ts.transpileDeclaration(body, { fileName, reportDiagnostics: true, compilerOptions: options });
  if ((isolated.diagnostics ?? []).length === 0) return isolated.outputText;
  return checkedDeclarations(fileName, body, options);
}

function checkedDeclarations(fileName: string, body: string, options: ts.CompilerOptions): string {
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { ...options, emitDeclarationOnly: true, lib: ["lib.es2022.d.ts"] } });
  project.createSourceFile(`/${fileName}`, body);
  const result = project.emitToMemory({ emitOnlyDtsFiles: true });
  failOn(result.getDiagnostics().map((d) => d.compilerObject), "declarations");
  const dts = result.getFiles().find((f) => f.filePath.endsWith(".d.ts"));
  if (!dts) throw new Error(`no declarations were emitted for ${fileName}`);
  return dts.text;
}

function failOn(diagnostics: readonly ts.Diagnostic[] | undefined, what: string): void {
  const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length === 0) return;
  const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ");
  throw new Error(`the generated module does not compile to ${what}: ${text}`);
}
