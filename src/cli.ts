/**
 * The command line: wires arguments to the commands in src/commands/. Exit codes: 0 success, 1 a check
 * failed (--verify found a stale file, gradcheck found a wrong gradient), 2 bad input, 3 internal error.
 *
 * Only commander and this wiring load up front (so `bpgen --version` and `--help` start at once); each
 * command imports what it needs (the compiler, KaTeX, Graphviz, the trainer) when it runs.
 */
import { Command, CommanderError } from "commander";
import { BpgenError } from "./errors.ts";
import { VERSION } from "./version.ts";
import { registerBuild } from "./commands/build.ts";
import { registerExplain } from "./commands/explain.ts";
import { registerExport } from "./commands/export.ts";
import { registerGradcheck } from "./commands/gradcheck.ts";
import { registerGraph } from "./commands/graph.ts";
import { registerImport } from "./commands/import.ts";
import { registerTrain } from "./commands/train.ts";

export const EXIT = { ok: 0, checkFailed: 1, badInput: 2, internal: 3 } as const;

export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const program = new Command("bpgen")
    .description("Compile a network description (net.json) into a TypeScript or JavaScript module with forward, gradient and sgdStep.")
    .version(VERSION)
    .option("--debug", "print stack traces of internal errors")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  let code: number = EXIT.ok;
  const done = (c: number) => {
    code = c;
  };
  registerBuild(program, done);
  registerGradcheck(program, done);
  registerTrain(program, done);
  registerGraph(program, done);
  registerExplain(program, done);
  registerExport(program, done);
  registerImport(program, done);

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    return reportError(e, debug);
  }
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (e instanceof BpgenError && e.kind === "input") {
    const count = e.details.length > 1 ? `${e.details.length} errors\n` : "";
    process.stderr.write(`${e.message}\n${count}`);
    if (debug) process.stderr.write(`${e.stack ?? ""}\n`);
    return e.exitCode;
  }
  // a bug in bpgen: an internal BpgenError carries the original error as its cause
  const original = e instanceof BpgenError && e.cause !== undefined ? e.cause : e;
  const message = (original as Error)?.message ?? String(original);
  process.stderr.write(`bpgen: internal error: ${message}\n`);
  if (debug) process.stderr.write(`${(original as Error)?.stack ?? ""}\n`);
  else process.stderr.write("(run with --debug for a stack trace, and please report it)\n");
  return EXIT.internal;
}
