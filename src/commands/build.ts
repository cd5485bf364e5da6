/** `bpgen [net.json …]` (the default command): the options of a build; the build itself is src/build/. */
import { type Command, Option } from "commander";
import type { BuildFlags } from "../build/build.ts";
import { KERNELS, PRECISIONS } from "../build/config.ts";
import { KERNELS_HELP } from "../render/policy.ts";
import { TARGETS } from "../emit/targets.ts";
import type { Done } from "./types.ts";

export function registerBuild(program: Command, done: Done): void {
  program
    .command("build", { isDefault: true })
    .description("write generated/<name>.ts (or .js/.mjs and its declarations) for each net.json; with no file, build the inputs of the project's config")
    .argument("[files...]", "net.json files or quoted glob patterns ('nets/*.json', 'nets/**/*.json')")
    .option("-o, --out <file|dir>", "destination file (one input; its extension sets the target: .ts, .js, .d.ts) or folder (default: generated/)")
    .addOption(new Option("--target <target>", "ts: the TypeScript module; js: the JavaScript ES module and its .d.ts (.mjs and .d.mts where the package is not \"type\": \"module\"); dts: the .d.ts only (default ts)").choices([...TARGETS]))
    .addOption(new Option("--precision <p>", "array type of the generated module (default f32)").choices([...PRECISIONS]))
    .addOption(new Option("--kernels <k>", KERNELS_HELP).choices([...KERNELS]))
    .option("--relaxed-simd", "WebAssembly kernels also in a relaxed-SIMD build (fused multiply-add), used where the engine supports it: faster, but results then depend on the machine")
    .option("--threads", "WebAssembly kernels that run on several threads once the module's startThreads() has started its pool (shared memory and workers; the same results on any number of threads)")
    .option("--verify", "write nothing; fail when a file on disk differs from what would be generated, showing the diff")
    .option("--watch", "build, then rebuild an input whenever it (or the config) changes, until Ctrl-C")
    .option("--stats", "print operation counts, size and compile time")
    .action(async (files: string[], opts: BuildFlags) => {
      done(await (await import("../build/build.ts")).runBuild(files, opts));
    });
}
