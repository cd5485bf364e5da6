/**
 * The project a net.json belongs to, and the paths the generated header shows: relative to the project root
 * (the folder of the nearest package.json or bpgen.config.json above the input), never to the working
 * directory, so the same file is generated whichever folder bpgen runs from.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { BpgenError } from "../errors.ts";

export const CONFIG_FILE = "bpgen.config.json";

/** The nearest folder at or above `dir` holding a package.json or a bpgen.config.json. */
export function findProjectRoot(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, "package.json")) || existsSync(join(at, CONFIG_FILE))) return at;
    if (dirname(at) === at) return undefined;
  }
}

/** The project root of an input file; an input in no project is its own root (its folder). */
export function projectRootOf(file: string): string {
  const dir = dirname(resolve(file));
  return findProjectRoot(dir) ?? dir;
}

/** `to` relative to `from`, with forward slashes on every platform ("." for the folder itself). */
export function posixRelative(from: string, to: string): string {
  const rel = relative(from, resolve(to));
  if (rel === "") return ".";
  return (isAbsolute(rel) ? resolve(to) : rel).split(sep).join("/");
}

/** An argument as a POSIX shell reads it back: bare when it is plainly safe, else single-quoted. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** How Node loads a `.js` file in some folder, and the package.json that decides it (none: CommonJS too). */
export interface JsModuleFormat {
  readonly format: "module" | "commonjs";
  readonly packageJson?: string;
}

/**
 * Node's rule for `.js` files: an ES module only when the nearest package.json at or above the file's folder says
 * `"type": "module"`; with `"type": "commonjs"` (what `npm init -y` writes since npm 11), without `"type"`, or
 * without any package.json, it is CommonJS (newer Nodes may detect `export` statements, but not under
 * `"type": "commonjs"`, and not every Node 20). `dir` need not exist yet.
 */
export function jsModuleFormatAt(dir: string): JsModuleFormat {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const packageJson = join(at, "package.json");
    if (existsSync(packageJson)) return { format: packageType(packageJson) === "module" ? "module" : "commonjs", packageJson };
    if (dirname(at) === at) return { format: "commonjs" };
  }
}

function packageType(packageJson: string): unknown {
  const text = readFileSync(packageJson, "utf8");
  try {
    const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    return value !== null && typeof value === "object" ? (value as { type?: unknown }).type : undefined;
  } catch (e) {
    throw new BpgenError({
      file: packageJson,
      message: `cannot read ${packageJson}: ${(e as Error).message}`,
      expected: 'valid JSON (its "type" decides whether Node loads a .js file as an ES module)',
    });
  }
}
