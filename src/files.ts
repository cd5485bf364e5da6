/** Writing outputs: every command that writes files goes through here, so all of them are atomic. */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BpgenError } from "./errors.ts";

export interface OutputFile {
  readonly target: string;
  readonly data: string | Uint8Array;
}

/** What became of one output: written, or left untouched because it already held exactly this content. */
export interface WriteStatus {
  readonly target: string;
  readonly changed: boolean;
}

/**
 * Writes every file to a temporary file beside its target first, and renames them into place only when all
 * were written: a failure to write leaves every existing output as it was, and no temporary file behind.
 * A target that already holds exactly `data` is not written at all (its modification time stays, so file
 * watchers and build tools see no change).
 */
export function writeAllAtomically(files: readonly OutputFile[]): WriteStatus[] {
  const temps: { temp: string; target: string }[] = [];
  const statuses = files.map(({ target, data }): WriteStatus => ({ target, changed: !holds(target, data) }));
  try {
    files.forEach(({ target, data }, i) => {
      if (!statuses[i].changed) return;
      const temp = `${target}.${process.pid}.tmp`;
      attemptWrite(target, () => {
        mkdirSync(dirname(resolve(target)), { recursive: true });
        temps.push({ temp, target });
        writeFileSync(temp, data);
      });
    });
    for (const { temp, target } of temps) attemptWrite(target, () => renameSync(temp, target));
  } finally {
    for (const { temp } of temps) rmSync(temp, { force: true });
  }
  return statuses;
}

/** Whether `target` is a file holding exactly `data`. */
function holds(target: string, data: string | Uint8Array): boolean {
  let existing: Buffer;
  try {
    existing = readFileSync(target);
  } catch {
    return false;
  }
  const wanted = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return existing.length === wanted.length && existing.equals(wanted);
}

/** `wrote <file>` or `unchanged <file>`, one line per output. */
export function describeWrites(statuses: readonly WriteStatus[]): string {
  return statuses.map((s) => `${s.changed ? "wrote" : "unchanged"} ${s.target}\n`).join("");
}

function attemptWrite(target: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new BpgenError({ message: `cannot write ${target}: ${(e as Error).message}`, expected: "a writable output path", found: reason });
  }
}
