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
}

export interface ErrorDetail extends ErrorSite {
  /** What was wrong, in one sentence. */
  message: string;
  expected?: string;
  found?: string;
  /** A near miss, e.g. `"sigmoid"` for `"sigmoud"`. */
  suggestion?: string;
}

export class BpgenError extends Error {
  readonly details: readonly ErrorDetail[];

  constructor(details: ErrorDetail | readonly ErrorDetail[]) {
    const list = Array.isArray(details) ? (details as readonly ErrorDetail[]) : [details as ErrorDetail];
    super(list.map(formatDetail).join("\n"));
    this.name = "BpgenError";
    this.details = list;
  }

  /** Adds the file name (and anything else known about the site) to every detail that lacks it. */
  at(site: ErrorSite): BpgenError {
    const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    return new BpgenError(this.details.map((d) => ({ ...defined(site), ...defined(d) }) as ErrorDetail));
  }
}

export function formatDetail(d: ErrorDetail): string {
  const where = [d.file, d.line !== undefined ? `${d.line}:${d.column ?? 1}` : undefined]
    .filter((part) => part !== undefined)
    .join(":");
  const lines = [`${where ? `${where}: ` : ""}error: ${d.message}`];
  if (d.path) lines.push(`  at ${d.path}`);
  if (d.equation) lines.push(`  in ${JSON.stringify(d.equation)}`);
  if (d.expected !== undefined) lines.push(`  expected: ${d.expected}`);
  if (d.found !== undefined) lines.push(`  found: ${d.found}`);
  if (d.suggestion !== undefined) lines.push(`  did you mean ${d.suggestion}?`);
  return lines.join("\n");
}
