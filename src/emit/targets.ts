/**
 * The last stage: the generated TypeScript module (exactly what compile() returns as `source`) as the files of
 * an output target.
 *   ts   name.ts                      the module itself
 *   js   name.js + name.d.ts          ES2022 ES module (comments kept) and its declarations (the build writes them
 *                                     as name.mjs + name.d.mts where Node would load a .js as CommonJS: src/build/)
 *   dts  name.d.ts                    the declarations only
 * Both derived files keep the module's provenance header and are formatted by prettier like the module.
 */
import type { ts } from "ts-morph";

export type Target = "ts" | "js" | "dts";
/** Defined here once; the command line's choices and the config's check read it (so this module loads at start-up). */
export const TARGETS: readonly Target[] = ["ts", "js", "dts"];

/** The TypeScript compiler (through ts-morph) and prettier, loaded on the first emit: `bpgen --version` needs neither. */
interface Tools {
  readonly ts: typeof ts;
  readonly Project: typeof import("ts-morph").Project;
  readonly prettier: typeof import("prettier");
}
let tools: Tools | undefined;
async function loadTools(): Promise<Tools> {
  if (tools === undefined) {
    const [morph, prettier] = await Promise.all([import("ts-morph"), import("prettier")]);
    tools = { ts: morph.ts, Project: morph.Project, prettier: prettier.default };
  }
  return tools;
}

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
  const t = await loadTools();
  const { header, body } = splitHeader(source);
  const dts = file("dts", spaceDeclarations(await withHeader(t, header, declarations(t, `${name}.ts`, body))));
  if (target === "dts") return [dts];
  return [file("js", await withHeader(t, header, javascript(t, `${name}.ts`, body))), dts];
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

async function withHeader({ prettier }: Tools, header: string, code: string): Promise<string> {
  const formatted = await prettier.format(code, PRINT);
  return header === "" ? formatted : `${header}\n\n${formatted}`;
}

/**
 * ES2022 JavaScript as an ES module, comments kept. The TypeScript printer drops blank lines between
 * statements; a marker comment on each such line (placed from the syntax tree, so never inside a string)
 * keeps them, so the output reads like the module.
 */
function javascript(t: Tools, fileName: string, body: string): string {
  const { ts } = t;
  const out = ts.transpileModule(markBlankLines(t, fileName, body), {
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
  failOn(t, out.diagnostics, "JavaScript");
  return out.outputText.replace(MARKER_LINE, "");
}

const MARKER = "/*bpgen:blank*/";
const MARKER_LINE = /^[ \t]*\/\*bpgen:blank\*\/[ \t]*$/gm;

function markBlankLines({ ts }: Tools, fileName: string, body: string): string {
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
function declarations(t: Tools, fileName: string, body: string): string {
  const { ts } = t;
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
  return checkedDeclarations(t, fileName, body, options);
}

function checkedDeclarations(t: Tools, fileName: string, body: string, options: ts.CompilerOptions): string {
  const { Project } = t;
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { ...options, emitDeclarationOnly: true, lib: ["lib.es2022.d.ts"] } });
  project.createSourceFile(`/${fileName}`, body);
  const result = project.emitToMemory({ emitOnlyDtsFiles: true });
  failOn(t, result.getDiagnostics().map((d) => d.compilerObject), "declarations");
  const dts = result.getFiles().find((f) => f.filePath.endsWith(".d.ts"));
  if (!dts) throw new Error(`no declarations were emitted for ${fileName}`);
  return dts.text;
}

function failOn({ ts }: Tools, diagnostics: readonly ts.Diagnostic[] | undefined, what: string): void {
  const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length === 0) return;
  const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ");
  throw new Error(`the generated module does not compile to ${what}: ${text}`);
}
