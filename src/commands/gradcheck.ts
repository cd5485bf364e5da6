/** `bpgen gradcheck net.json …`: the options; the check itself is src/check/run.ts. */
import type { Command } from "commander";
import { BpgenError } from "../errors.ts";
import type { Done } from "./types.ts";

export function registerGradcheck(program: Command, done: Done): void {
  program
    .command("gradcheck")
    .description("check every parameter's gradient against finite differences (f64) and the f32 module against f64")
    .argument("<files...>", "net.json files")
    .option("--seed <n>", "seed of the random point and data", "1")
    .option("--batch <n>", "samples in the check batch", "3")
    .action(async (files: string[], opts: { seed: string; batch: string }) => {
      const seed = integerOption("--seed", opts.seed, 0);
      const batch = integerOption("--batch", opts.batch, 1);
      done(await (await import("../check/run.ts")).runGradcheck(files, seed, batch));
    });
}

/** An integer option of at least `min`; anything else is bad input. */
function integerOption(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BpgenError({ message: `${flag} must be an integer of at least ${min}`, expected: `an integer ≥ ${min}`, found: text });
  }
  return value;
}
