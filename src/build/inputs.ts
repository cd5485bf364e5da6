/**
 * The inputs of a build: paths as given, and glob patterns (`'nets/*.json'`, `'**\/*.json'`) expanded by bpgen
 * itself, so a quoted pattern works in every shell (cmd.exe and PowerShell expand nothing). Patterns skip
 * node_modules/ and the JSON files that are never networks (package.json, package-lock.json, bpgen.config.json,
 * tsconfig*.json). A pattern that matches no file is an error, as is a missing plain path (when it is read).
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { globSync, isDynamicPattern } from "tinyglobby";
import { BpgenError, type ErrorDetail } from "../errors.ts";

/**
 * The files `patterns` name, each once, in the order given (a pattern's matches sorted). Relative patterns are
 * resolved against `base`; the results are paths relative to the working directory where `base` is inside it
 * (as the user would type them), else absolute.
 */
export function expandInputs(patterns: readonly string[], base: string = process.cwd()): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const errors: ErrorDetail[] = [];
  const sameBase = resolve(base) === process.cwd();
  const add = (file: string, typed?: string) => {
    const key = resolve(base, file);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(typed ?? display(key));
  };
  for (const pattern of patterns) {
    if (!isPattern(pattern, base)) {
      add(pattern, sameBase ? pattern : undefined);
      continue;
    }
    const matches = globSync(pattern, { cwd: base, onlyFiles: true, expandDirectories: false, absolute: true, dot: false, ignore: NOT_NETWORKS }).sort();
    if (matches.length === 0) {
      errors.push({
        message: `no file matches ${JSON.stringify(pattern)}`,
        expected: "a pattern that matches at least one net.json file",
        found: `no match under ${base}`,
      });
    }
    for (const match of matches) add(match);
  }
  if (errors.length > 0) throw new BpgenError(errors);
  return files;
}

/** JSON files a pattern such as `*.json` would match that are never networks. */
const NOT_NETWORKS = ["**/node_modules/**", "**/package.json", "**/package-lock.json", "**/bpgen.config.json", "**/tsconfig*.json"];

/** A glob pattern, unless a file of that very name exists (names may hold `[`, `*` or `?`). */
function isPattern(arg: string, base: string): boolean {
  return isDynamicPattern(arg) && !existsSync(resolve(base, arg));
}

/** A path relative to the working directory when it is inside it, else absolute. */
function display(absolute: string): string {
  const rel = relative(process.cwd(), absolute);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? absolute : rel;
}
