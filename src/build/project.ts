/**
 * The project a net.json belongs to, and the paths the generated header shows: relative to the project root
 * (the folder of the nearest package.json or bpgen.config.json above the input), never to the working
 * directory, so the same file is generated whichever folder bpgen runs from.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

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
