/**
 * Loads net.json: JSON with positions → form detection → schema validation → semantic checks.
 * Every problem found is reported at once, as one BpgenError with a detail per problem,
 * each with its file, line:column, JSON path, expected and found.
 */
import { readFileSync } from "node:fs";
import { BpgenError, type ErrorDetail } from "../errors.ts";
import type { LoadedSpec, Locate, NetSpec } from "./types.ts";
import { JsonSyntaxError, keyNodeAt, nodeAt, nodeText, parseJson, type JsonDocument } from "./json.ts";
import { formatPath, type PathSegment } from "./paths.ts";
import { validateSchema, type Form, type Problem } from "./schema.ts";
import { checkActivations, checkNames, checkSizes } from "./semantic.ts";
import { suggest } from "./suggest.ts";

export { formatPath } from "./paths.ts";
export { suggest } from "./suggest.ts";

/** Reads and validates a net.json file (or `text`, when given, named as `file` in errors). */
export function loadSpec(file: string, text?: string): LoadedSpec {
  if (text === undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
      throw new BpgenError({ file, message: `cannot read ${file}: ${reason}` });
    }
  }
  return parseSpec(file, text);
}

/** Validates net.json text; throws a BpgenError listing every problem found. */
export function parseSpec(file: string, text: string): LoadedSpec {
  // A UTF-8 byte order mark is invisible to the user; drop it so columns match what they see.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: JsonDocument;
  try {
    doc = parseJson(source);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new BpgenError({ ...e.detail, file });
    throw e;
  }
  const value = doc.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new BpgenError({ file, ...doc.position(doc.root.offset), message: "net.json must be a JSON object", expected: "{ ... }", found: nodeText(source, doc.root) });
  }
  const spec = value as Record<string, unknown>;
  const form = detectForm(spec);
  if (form === undefined) throw new BpgenError({ file, ...neitherForm(doc, spec) });

  const schemaProblems = validateSchema(form, spec);
  const semantic = form === "layer" ? checkActivations(spec) : checkNames(spec);
  const sizes = schemaProblems.length === 0 && semantic.length === 0 ? checkSizes(spec) : [];
  const details = [...doc.duplicates, ...dedupe([...schemaProblems, ...semantic, ...sizes]).map((p) => toDetail(doc, source, p))];
  if (details.length > 0) throw new BpgenError(sortByPosition(details).map((d) => ({ ...d, file })));
  return { file, spec: spec as unknown as NetSpec, locate: locator(doc, source) };
}

function detectForm(spec: Record<string, unknown>): Form | undefined {
  if (Object.prototype.hasOwnProperty.call(spec, "layers")) return "layer";
  if (Object.prototype.hasOwnProperty.call(spec, "equations")) return "equation";
  return undefined;
}

function neitherForm(doc: JsonDocument, spec: Record<string, unknown>): ErrorDetail {
  // A near miss such as "layer" or "equation" is the likely cause; point at it.
  const keys = Object.keys(spec);
  const near = keys.find((k) => suggest(k, ["layers", "equations"]) !== undefined);
  const keyNode = near === undefined ? undefined : keyNodeAt(doc.root, [near]);
  const intended = near === undefined ? undefined : suggest(near, ["layers", "equations"]);
  return {
    message: 'expected a "layers" key (layer form) or an "equations" key (equation form)',
    ...doc.position(keyNode?.offset ?? doc.root.offset),
    expected: '"layers" (layer form) or "equations" (equation form)',
    found: keys.length === 0 ? "an empty object" : `keys ${keys.map((k) => JSON.stringify(k)).join(", ")}`,
    suggestion: intended === undefined ? undefined : `${JSON.stringify(intended)} instead of ${JSON.stringify(near)}`,
  };
}

/** One problem per path and message (e.g. a schema pattern error and a name check on the same key). */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${formatPath(p.segments)}\u0000${p.atKey ? "key" : "value"}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toDetail(doc: JsonDocument, source: string, p: Problem): ErrorDetail {
  const valueNode = nodeAt(doc.root, p.segments);
  const anchor = p.atParent ? nodeAt(doc.root, p.segments.slice(0, -1)) : p.atKey ? keyNodeAt(doc.root, p.segments) : valueNode;
  const found = p.found ?? (valueNode && !p.atParent ? nodeText(source, valueNode) : undefined);
  const detail: ErrorDetail = { message: p.message, path: formatPath(p.segments) || undefined };
  if (anchor) Object.assign(detail, doc.position(anchor.offset));
  if (p.expected !== undefined) detail.expected = p.expected;
  if (found !== undefined) detail.found = found;
  if (p.suggestion !== undefined) detail.suggestion = p.suggestion;
  return detail;
}

function sortByPosition(details: ErrorDetail[]): ErrorDetail[] {
  return [...details].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function locator(doc: JsonDocument, source: string): Locate {
  return (path: readonly (string | number)[], index?: number) => {
    const node = nodeAt(doc.root, path as PathSegment[]);
    if (!node) return undefined;
    if (index === undefined || node.type !== "string") return doc.position(node.offset);
    return doc.position(rawOffset(source, node.offset, index));
  };
}

/** The offset in the source of character `index` of the JSON string literal starting at `start` (its opening quote). */
function rawOffset(source: string, start: number, index: number): number {
  let at = start + 1;
  for (let decoded = 0; decoded < index && at < source.length && source[at] !== '"'; decoded++) {
    // an escape is one character in the value: \uXXXX takes six characters of source, the others two
    at += source[at] === "\\" ? (source[at + 1] === "u" ? 6 : 2) : 1;
  }
  return at;
}
