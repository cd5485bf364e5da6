/** Writing outputs: every command that writes files goes through here, so all of them are atomic. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BpgenError } from "./errors.ts";

export interface OutputFile {
  readonly target: string;
  readonly data: string | Uint8Array;
}

/**
 * Writes every file to a temporary file beside its target first, and renames them into place only when all
 * were written: a failure to write leaves every existing output as it was, and no temporary file behind.
 */
export function writeAllAtomically(files: readonly OutputFile[]): void {
  const temps: { temp: string; target: string }[] = [];
  try {
    for (const { target, data } of files) {
      const temp = `${target}.${process.pid}.tmp`;
      attemptWrite(target, () => {
        mkdirSync(dirname(resolve(target)), { recursive: true });
        temps.push({ temp, target });
        writeFileSync(temp, data);
      });
    }
    for (const { temp, target } of temps) attemptWrite(target, () => renameSync(temp, target));
  } finally {
    for (const { temp } of temps) rmSync(temp, { force: true });
  }
}

function attemptWrite(target: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new BpgenError({ message: `cannot write ${target}: ${(e as Error).message}`, expected: "a writable output path", found: reason });
  }
}
