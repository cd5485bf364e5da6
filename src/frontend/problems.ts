/**
 * Collects the errors found while building a network, each placed in the file: its JSON path, the
 * expression text, and the line:column of the character it is about (or of the string holding it).
 */
import { BpgenError, type ErrorDetail } from "../errors.ts";
import { formatPath, type PathSegment } from "../spec/paths.ts";
import type { Locate } from "../spec/types.ts";
import { ShapeError } from "../ir/ops.ts";
import { DependsOnFailed } from "./expressions.ts";

export class Problems {
  private readonly details: ErrorDetail[] = [];

  constructor(private readonly locate: Locate) {}

  /**
   * Runs `build`. A BpgenError is recorded at the string at `segments` (whose text is `text`) and undefined
   * returned; so is a DependsOnFailed, without a record (the failure it depends on is reported already).
   */
  attempt<T>(segments: PathSegment[], text: string | undefined, build: () => T): T | undefined {
    try {
      return build();
    } catch (e) {
      if (e instanceof DependsOnFailed) return undefined;
      // a shape rule broken outside an operator the builder checks is still the input's mistake
      const error = e instanceof ShapeError ? new BpgenError({ message: `shape mismatch: ${e.message}`, expected: "operands whose shapes fit the operation", found: e.message }) : e;
      if (!(error instanceof BpgenError)) throw e;
      this.add(segments, text, error);
      return undefined;
    }
  }

  add(segments: PathSegment[], text: string | undefined, error: BpgenError): void {
    this.details.push(...this.place(segments, text, error).details);
  }

  /** The error with every detail not yet placed given this site; details placed already keep theirs. */
  place(segments: PathSegment[], text: string | undefined, error: BpgenError): BpgenError {
    return new BpgenError(
      error.details.map((d) => {
        if (d.path !== undefined) return d;
        const index = d.equation === undefined || d.equation === text ? d.index : undefined;
        const site: ErrorDetail = { message: d.message, path: formatPath(segments) };
        if (text !== undefined) site.equation = text;
        return { ...site, ...this.locate(segments, index), ...d };
      }),
    );
  }

  /** Throws every recorded problem, in file order, once each. */
  throwIfAny(): void {
    if (this.details.length === 0) return;
    const seen = new Set<string>();
    const unique = this.details.filter((d) => {
      const key = `${d.path}\u0000${d.message}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
    const sorted = unique
      .map((d, order) => ({ d, order }))
      .sort((a, b) => (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.order - b.order)
      .map(({ d }) => d);
    throw new BpgenError(sorted);
  }
}
