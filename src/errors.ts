/**
 * The one error type users see. The CLI prints `format()` and exits non-zero; nothing else
 * about the failure (no stack trace) reaches the terminal unless --debug is given.
 */
export interface ErrorSite {
  /** The input file, as the user named it. */
  file?: string;
  /** 1-based line and column in `file`, when known. */
  line?: number;
  column?: number;
  /** JSON path such as `layers[1].units`, when the error is about a JSON value. */
  path?: string;
  /** The equation or expression text, when the error is inside one. */
  equation?: string;
  /** 0-based index in `equation` of the character the error is about (drawn as a caret under it). */
  index?: number;
}

export interface ErrorDetail extends ErrorSite {
  /** What was wrong, in one sentence. */
  message: string;
  expected?: string;
  found?: string;
  /** A near miss, e.g. `"sigmoid"` for `"sigmoud"`. */
  suggestion?: string;
}

/**
 * What kind of failure an error is, and so the command line's exit code: `"input"` (2) for anything wrong with
 * what was given (the network, an option, an output path), `"internal"` (3) for a bug in bpgen.
 */
export type ErrorKind = "input" | "internal";

export const EXIT_CODES: Readonly<Record<ErrorKind, 2 | 3>> = { input: 2, internal: 3 };

export interface BpgenErrorOptions {
  kind?: ErrorKind;
  cause?: unknown;
}

export class BpgenError extends Error {
  readonly details: readonly ErrorDetail[];
  readonly kind: ErrorKind;

  constructor(details: ErrorDetail | readonly ErrorDetail[], options: BpgenErrorOptions = {}) {
    const list = Array.isArray(details) ? (details as readonly ErrorDetail[]) : [details as ErrorDetail];
    super(list.map(formatDetail).join("\n"), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BpgenError";
    this.details = list;
    this.kind = options.kind ?? "input";
  }

  /** The command line's exit code for this error: 2 for bad input, 3 for an internal error. */
  get exitCode(): 2 | 3 {
    return EXIT_CODES[this.kind];
  }

  /** Adds the file name (and anything else known about the site) to every detail that lacks it. */
  at(site: ErrorSite): BpgenError {
    const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    return new BpgenError(
      this.details.map((d) => ({ ...defined(site), ...defined(d) }) as ErrorDetail),
      { kind: this.kind, cause: this.cause },
    );
  }
}

/** A failure that is not the input's fault (a bug in bpgen), as a BpgenError of kind "internal" keeping the original as its cause. */
export function internalError(e: unknown, file?: string): BpgenError {
  if (e instanceof BpgenError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new BpgenError({ file, message: `internal error: ${message}` }, { kind: "internal", cause: e });
}

export function formatDetail(d: ErrorDetail): string {
  const where = [d.file, d.line !== undefined ? `${d.line}:${d.column ?? 1}` : undefined]
    .filter((part) => part !== undefined)
    .join(":");
  const lines = [`${where ? `${printable(where)}: ` : ""}error: ${printable(d.message)}`];
  if (d.path) lines.push(`  at ${printable(d.path)}`);
  if (d.equation !== undefined) lines.push(...equationLines(d.equation, d.index));
  if (d.expected !== undefined) lines.push(`  expected: ${printable(d.expected)}`);
  if (d.found !== undefined) lines.push(`  found: ${printable(d.found)}`);
  if (d.suggestion !== undefined) lines.push(`  did you mean ${printable(d.suggestion)}?`);
  return lines.join("\n");
}

const MAX_SHOWN = 200;

/** The equation as a quoted string, and a caret under the character at `index` when it is known. */
function equationLines(equation: string, index: number | undefined): string[] {
  const start = index !== undefined && index > MAX_SHOWN - 20 ? index - 40 : 0;
  const shown = equation.slice(start, start + MAX_SHOWN);
  const quoted = quote(shown, start > 0, start + MAX_SHOWN < equation.length);
  const line = `  in ${quoted}`;
  if (index === undefined || index < start || index > equation.length) return [line];
  // the caret sits under the quoted (escaped) form of the character, so count the escaped prefix
  const prefix = quote(equation.slice(start, index), start > 0, false);
  return [line, `${" ".repeat(5 + prefix.length - 1)}^`];
}

function quote(text: string, cutStart: boolean, cutEnd: boolean): string {
  const body = printable(JSON.stringify(text).slice(1, -1));
  return `"${cutStart ? "…" : ""}${body}${cutEnd ? "…" : ""}"`;
}

/**
 * Text from the input as it may safely reach a terminal: control characters (including ESC, so no ANSI
 * sequences), line and paragraph separators, and bidirectional overrides (which can make text read
 * differently from what it is) are shown as \u escapes.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
