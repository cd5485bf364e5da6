// STUB: the `bpgen train` command is being written.
import type { Command } from "commander";
import type { Done } from "./types.ts";

export function registerTrain(program: Command, done: Done): void {
  void program;
  void done;
}
