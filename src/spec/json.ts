/**
 * JSON parsing that keeps positions: every value can be traced back to a 1-based line:column,
 * syntax errors say what was expected and found, and duplicate keys are reported
 * (JSON.parse silently keeps the last one, hiding typos).
 */
import * as jsonc from "jsonc-parser";
import type { ErrorDetail } from "../errors.ts";
import { formatPath, type PathSegment } from "./paths.ts";

export interface Position {
  line: number;
  column: number;
}

export interface JsonDocument {
  root: jsonc.Node;
  /** The parsed value; objects have a null prototype, so keys like "__proto__" stay ordinary keys. */
  value: unknown;
  /** Duplicate keys found (the first occurrence wins in `value`). */
  duplicates: ErrorDetail[];
  position(offset: number): Position;
}

/** Thrown for invalid JSON text; holds a detail without the file name. */
export class JsonSyntaxError extends Error {
  constructor(readonly detail: ErrorDetail) {
    super(detail.message);
  }
}

export function parseJson(text: string): JsonDocument {
  const position = positionFinder(text);
  if (text.trim() === "") {
    throw new JsonSyntaxError({ message: "the file is empty", line: 1, column: 1, expected: "a JSON object", found: "end of file" });
  }
  const errors: jsonc.ParseError[] = [];
  let root: jsonc.Node | undefined;
  try {
    root = jsonc.parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  } catch (e) {
    throw tooDeep(e);
  }
  // Only the first syntax error: later ones are usually echoes of it.
  if (errors.length > 0) throw new JsonSyntaxError(describeSyntaxError(text, errors[0], position));
  if (root === undefined) throw new JsonSyntaxError({ message: "invalid JSON", line: 1, column: 1, expected: "a JSON object" });
  const duplicates: ErrorDetail[] = [];
  let value: unknown;
  try {
    value = nodeValue(root, [], duplicates, position);
  } catch (e) {
    throw tooDeep(e);
  }
  return { root, value, duplicates, position };
}

function tooDeep(e: unknown): unknown {
  if (!(e instanceof RangeError)) return e;
  return new JsonSyntaxError({ message: "the JSON is nested too deeply", line: 1, column: 1, expected: "objects and arrays nested a few levels deep", found: "more levels than the parser can hold" });
}

/** Converts a parse-tree node to a value, building objects without a prototype (no prototype pollution). */
export function nodeValue(
  node: jsonc.Node,
  path: PathSegment[] = [],
  duplicates?: ErrorDetail[],
  position?: (offset: number) => Position,
): unknown {
  if (node.type === "array") return (node.children ?? []).map((child, i) => nodeValue(child, [...path, i], duplicates, position));
  if (node.type !== "object") return node.value;
  const out: Record<string, unknown> = Object.create(null);
  for (const property of node.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (keyNode === undefined || valueNode === undefined) continue;
    const key = String(keyNode.value);
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      if (duplicates && position) duplicates.push(duplicateKey(key, [...path, key], keyNode, position));
      continue;
    }
    const v = nodeValue(valueNode, [...path, key], duplicates, position);
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function duplicateKey(key: string, path: PathSegment[], keyNode: jsonc.Node, position: (offset: number) => Position): ErrorDetail {
  return {
    message: `duplicate key ${JSON.stringify(key)}`,
    path: formatPath(path),
    ...position(keyNode.offset),
    expected: "each key at most once per object",
    found: `${JSON.stringify(key)} again`,
  };
}

/** Maps a 0-based offset to a 1-based line and column (\n, \r\n and \r end lines). */
function positionFinder(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

const ANY_VALUE = "a JSON value (object, array, string, number, true, false or null)";

function describeSyntaxError(text: string, error: jsonc.ParseError, position: (offset: number) => Position): ErrorDetail {
  const found = tokenAt(text, error);
  const code = jsonc.printParseErrorCode(error.error);
  // a control character inside a string: point at it, not at the start of the string
  const control = code === "InvalidCharacter" ? text.slice(error.offset, error.offset + error.length).search(/[\u0000-\u001f]/) : -1;
  const at = position(error.offset + Math.max(control, 0));
  const comma = trailingComma(text, error.offset);
  if (comma !== undefined && (code === "PropertyNameExpected" || code === "ValueExpected")) {
    return { message: "trailing comma is not allowed in JSON", ...position(comma), expected: `a value after ","`, found: `"," before ${found}` };
  }
  const closer = enclosingCloser(text, error.offset);
  const [message, expected] = syntaxMessage(code, closer);
  return { message: `invalid JSON: ${message}`, ...at, expected, found };
}

function syntaxMessage(code: string, closer: string | undefined): [string, string] {
  switch (code) {
    case "InvalidSymbol":
      return closer === undefined ? ["unexpected text", ANY_VALUE + " or the end of the file"] : ["invalid value", ANY_VALUE];
    case "InvalidNumberFormat":
    case "UnexpectedEndOfNumber":
      return ["malformed number", "a JSON number such as 3, -0.5 or 1e-4"];
    case "PropertyNameExpected":
      return ["expected a property name", 'a key in double quotes, such as "units"'];
    case "ValueExpected":
      return ["expected a value", ANY_VALUE];
    case "ColonExpected":
      return ["expected ':' after the key", '":"'];
    case "CommaExpected":
      return closer === "]" ? ["expected ',' or ']'", '"," between array items or "]"'] : ["expected ',' or '}'", '"," between properties or "}"'];
    case "CloseBraceExpected":
      return ["unclosed object", '"}"'];
    case "CloseBracketExpected":
      return ["unclosed array", '"]"'];
    case "EndOfFileExpected":
      return ["unexpected text after the end of the JSON value", "the end of the file"];
    case "InvalidCommentToken":
    case "UnexpectedEndOfComment":
      return ["comments are not allowed in JSON", ANY_VALUE];
    case "UnexpectedEndOfString":
      return ["unterminated string (a string cannot span lines)", 'a closing "'];
    case "InvalidUnicode":
      return ["invalid \\u escape", "\\u followed by 4 hex digits"];
    case "InvalidEscapeCharacter":
      return ["invalid escape sequence", '\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX'];
    case "InvalidCharacter":
      return ["control character in a string", "an escape such as \\n or \\t"];
    default:
      return ["syntax error", ANY_VALUE];
  }
}

/** The text of the offending token, or "end of file". */
function tokenAt(text: string, error: jsonc.ParseError): string {
  if (error.offset >= text.length) return "end of file";
  const token = text.slice(error.offset, error.offset + Math.max(1, error.length)).split(/\r?\n/)[0];
  return token.length > 30 ? `${token.slice(0, 29)}…` : token;
}

/** The offset of a comma directly before `offset` (ignoring whitespace), when the token there closes a container. */
function trailingComma(text: string, offset: number): number | undefined {
  if (text[offset] !== "}" && text[offset] !== "]") return undefined;
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  return text[i] === "," ? i : undefined;
}

/** The closing bracket the innermost container open at `offset` expects, found by scanning tokens. */
function enclosingCloser(text: string, offset: number): "}" | "]" | undefined {
  const scanner = jsonc.createScanner(text, false);
  const stack: ("}" | "]")[] = [];
  let token = scanner.scan();
  while (token !== jsonc.SyntaxKind.EOF && scanner.getTokenOffset() < offset) {
    if (token === jsonc.SyntaxKind.OpenBraceToken) stack.push("}");
    else if (token === jsonc.SyntaxKind.OpenBracketToken) stack.push("]");
    else if (token === jsonc.SyntaxKind.CloseBraceToken || token === jsonc.SyntaxKind.CloseBracketToken) stack.pop();
    token = scanner.scan();
  }
  return stack[stack.length - 1];
}

/** The node at a JSON path, or undefined. */
export function nodeAt(root: jsonc.Node, path: readonly PathSegment[]): jsonc.Node | undefined {
  return jsonc.findNodeAtLocation(root, path as PathSegment[]);
}

/** The key node of the property at `path` (the last segment must be an object key). */
export function keyNodeAt(root: jsonc.Node, path: readonly PathSegment[]): jsonc.Node | undefined {
  const valueNode = nodeAt(root, path);
  const property = valueNode?.parent;
  return property?.type === "property" ? property.children?.[0] : undefined;
}

/** The source text of a node on one line, truncated to about 60 characters. */
export function nodeText(text: string, node: jsonc.Node): string {
  const raw = text.slice(node.offset, node.offset + node.length).replace(/\s*[\r\n]\s*/g, " ");
  return raw.length > 60 ? `${raw.slice(0, 59)}…` : raw;
}
