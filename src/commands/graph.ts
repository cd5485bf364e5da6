// STUB: the `bpgen graph` command is being written.
import type { Command } from "commander";
import type { Done } from "./types.ts";

export function registerGraph(program: Command, done: Done): void {
  void program;
  void done;
}
