// STUB: the `bpgen explain` command is being written.
import type { Command } from "commander";
import type { Done } from "./types.ts";

export function registerExplain(program: Command, done: Done): void {
  void program;
  void done;
}
