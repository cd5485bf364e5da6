/** Writing a command's outputs: all computed first, then each file written atomically (temporary file, then rename). */
import { join } from "node:path";
import { describeWrites, writeAllAtomically } from "../files.ts";
import { BpgenError } from "../errors.ts";

export interface Output {
  readonly path: string;
  readonly text: string;
}

/** Writes every output (all or none; an output already holding its text is left untouched) and reports each on stdout, as `bpgen build` does. */
export function writeOutputs(outputs: readonly Output[]): void {
  process.stdout.write(describeWrites(writeAllAtomically(outputs.map(({ path, text }) => ({ target: path, data: text })))));
}

/** `<dir>/<name><suffix>`: the network's name is a validated identifier, so it cannot leave `dir`. */
export function outputPath(dir: string, name: string, suffix: string): string {
  return join(dir, `${name}${suffix}`);
}

/**
 * Runs `make` for every input; when any input is bad, reports all of them at once (as `bpgen build` does)
 * and nothing is written.
 */
export async function forEachInput<T>(files: readonly string[], make: (file: string) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  const errors: BpgenError[] = [];
  for (const file of files) {
    try {
      results.push(await make(file));
    } catch (e) {
      if (!(e instanceof BpgenError)) throw e;
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  return results;
}
