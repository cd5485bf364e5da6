/**
 * The project's build settings: `bpgen.config.json` in the project root, or the `"bpgen"` key of its
 * package.json. `npx bpgen` with no arguments builds the config's inputs; flags override every setting.
 *
 *   { "inputs": ["nets/*.json"], "outDir": "generated", "precision": "f32", "target": "ts", "kernels": "auto" }
 *
 * Paths in it are relative to the folder holding it. Every problem is reported at once, with line:column.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BpgenError, type ErrorDetail } from "../errors.ts";
import { type JsonDocument, JsonSyntaxError, keyNodeAt, nodeAt, nodeText, parseJson } from "../spec/json.ts";
import { formatPath, type PathSegment } from "../spec/paths.ts";
import { suggest } from "../spec/suggest.ts";
import { CONFIG_FILE, findProjectRoot } from "./project.ts";
import { TARGETS } from "../emit/targets.ts";
import { KERNELS } from "../render/policy.ts";

import type { Kernels, Precision, Target } from "../pipeline.ts";

export type { Kernels, Precision, Target };

export const PRECISIONS: readonly Precision[] = ["f32", "f64"];
export { KERNELS };

export interface BpgenConfig {
  /** net.json files or glob patterns, relative to the config's folder. */
  inputs?: string[];
  /** The output folder, relative to the config's folder (default `generated`). */
  outDir?: string;
  precision?: Precision;
  target?: Target;
  kernels?: Kernels;
  /** WebAssembly kernels also in a relaxed-SIMD build (fused multiply-add), used where the engine has it. */
  relaxedSimd?: boolean;
  /** WebAssembly kernels that several threads run (startThreads in the module). */
  threads?: boolean;
}

export interface LoadedConfig {
  /** The file it was read from (bpgen.config.json or package.json). */
  readonly file: string;
  /** The folder holding it: the project root, against which its paths are resolved. */
  readonly dir: string;
  readonly config: BpgenConfig;
}

interface KeyRule {
  readonly expected: string;
  readonly check: (value: unknown) => boolean;
}

const oneOf = (choices: readonly string[]): KeyRule => ({
  expected: `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`,
  check: (v) => typeof v === "string" && choices.includes(v),
});

const RULES: Readonly<Record<keyof BpgenConfig | "$schema", KeyRule>> = {
  $schema: { expected: "a string", check: (v) => typeof v === "string" },
  inputs: {
    expected: "a non-empty array of net.json paths or glob patterns (strings)",
    check: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string" && s !== ""),
  },
  outDir: { expected: "a folder path (a non-empty string)", check: (v) => typeof v === "string" && v !== "" },
  precision: oneOf(PRECISIONS),
  target: oneOf(TARGETS),
  kernels: oneOf(KERNELS),
  relaxedSimd: { expected: "true or false", check: (v) => typeof v === "boolean" },
  threads: { expected: "true or false", check: (v) => typeof v === "boolean" },
};
const KEYS = Object.keys(RULES);

/**
 * The config of the project that `cwd` is in: found in the nearest folder at or above `cwd` that holds a
 * package.json or a bpgen.config.json (the project root). Undefined when that folder configures nothing.
 */
export function findConfig(cwd: string): LoadedConfig | undefined {
  const root = findProjectRoot(cwd);
  if (root === undefined) return undefined;
  const own = join(root, CONFIG_FILE);
  const pkg = join(root, "package.json");
  const ownText = readIfExists(own);
  const pkgText = readIfExists(pkg);
  const fromPackage = pkgText === undefined ? undefined : packageConfig(pkg, pkgText);
  if (ownText !== undefined) {
    if (fromPackage !== undefined) {
      throw new BpgenError({
        file: pkg,
        ...fromPackage.doc.position(keyNodeAt(fromPackage.doc.root, ["bpgen"])?.offset ?? 0),
        path: "bpgen",
        message: `the project is configured twice: in ${CONFIG_FILE} and in package.json's "bpgen" key`,
        expected: "one of the two",
        found: "both",
      });
    }
    return { file: own, dir: root, config: validate(own, ownText, documentOf(own, ownText), []) };
  }
  if (fromPackage === undefined || pkgText === undefined) return undefined;
  return { file: pkg, dir: root, config: validate(pkg, pkgText, fromPackage.doc, ["bpgen"]) };
}

function readIfExists(file: string): string | undefined {
  try {
    const text = readFileSync(file, "utf8");
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BpgenError({ file, message: `cannot read ${file}: ${(e as Error).message}` });
  }
}

function documentOf(file: string, text: string): JsonDocument {
  try {
    return parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new BpgenError({ ...e.detail, file });
    throw e;
  }
}

/** package.json's document when it has a "bpgen" key. */
function packageConfig(file: string, text: string): { doc: JsonDocument } | undefined {
  const doc = documentOf(file, text);
  const value = doc.value;
  if (value === null || typeof value !== "object" || !Object.prototype.hasOwnProperty.call(value, "bpgen")) return undefined;
  return { doc };
}

function validate(file: string, text: string, doc: JsonDocument, prefix: PathSegment[]): BpgenConfig {
  const value = prefix.length === 0 ? doc.value : (doc.value as Record<string, unknown>)[prefix[0] as string];
  const at = (segments: PathSegment[], key = false) => {
    const node = key ? keyNodeAt(doc.root, segments) : nodeAt(doc.root, segments);
    return node ? doc.position(node.offset) : {};
  };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const node = nodeAt(doc.root, prefix);
    throw new BpgenError({
      file,
      ...at(prefix),
      path: formatPath(prefix) || undefined,
      message: "the bpgen config must be a JSON object",
      expected: '{ "inputs": [...], "outDir": ..., "precision": ..., "target": ..., "kernels": ... }',
      found: node ? describe(nodeText(text, node)) : String(value),
    });
  }
  const config = value as Record<string, unknown>;
  const details: ErrorDetail[] = [...doc.duplicates.map((d) => ({ ...d, file }))];
  for (const [key, v] of Object.entries(config)) {
    const path = [...prefix, key];
    const rule = (RULES as Record<string, KeyRule | undefined>)[key];
    if (rule === undefined) {
      const near = suggest(key, KEYS);
      details.push({
        file,
        ...at(path, true),
        path: formatPath(path),
        message: `unknown key ${JSON.stringify(key)} in the bpgen config`,
        expected: `one of ${KEYS.filter((k) => k !== "$schema").map((k) => JSON.stringify(k)).join(", ")}`,
        found: JSON.stringify(key),
        suggestion: near === undefined ? undefined : JSON.stringify(near),
      });
    } else if (!rule.check(v)) {
      const near = typeof v === "string" ? suggest(v, choicesOf(key)) : undefined;
      details.push({
        file,
        ...at(path),
        path: formatPath(path),
        message: `bad value for ${JSON.stringify(key)} in the bpgen config`,
        expected: rule.expected,
        found: describe(JSON.stringify(v)),
        suggestion: near === undefined ? undefined : JSON.stringify(near),
      });
    }
  }
  if (details.length > 0) throw new BpgenError(details);
  const { $schema: _schema, ...settings } = config;
  return settings as BpgenConfig;
}

function choicesOf(key: string): readonly string[] {
  return key === "precision" ? PRECISIONS : key === "target" ? TARGETS : key === "kernels" ? KERNELS : [];
}

function describe(v: unknown): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
