/** `bpgen graph net.json …`: the expression DAG as Graphviz DOT and SVG (rendered by WebAssembly Graphviz). */
import type { Command } from "commander";
import type { Done } from "./types.ts";

interface GraphOptions {
  out: string;
  forwardOnly?: boolean;
  collapse?: boolean;
}

export function registerGraph(program: Command, done: Done): void {
  program
    .command("graph")
    .description("draw the expression DAG (forward values, gradient values, shared deltas) as <name>.dot and <name>.svg")
    .argument("<files...>", "net.json files")
    .option("-o, --out <dir>", "folder for the files", "derivation")
    .option("--forward-only", "draw the forward pass only (files <name>.forward.*)")
    .option("--collapse", "draw one box per layer, for large nets (files <name>.layers.*)")
    .action(async (files: string[], opts: GraphOptions) => {
      // Graphviz (WebAssembly) and the compiler load only when the command runs
      const [{ compileForInspection }, { drawDag }, { forEachInput, outputPath, writeOutputs }, { expandInputs }] = await Promise.all([
        import("../graph/compiled.ts"),
        import("../graph/draw.ts"),
        import("../graph/files.ts"),
        import("../build/inputs.ts"),
      ]);
      const drawings = await forEachInput(expandInputs(files), async (file) => {
        const compiled = await compileForInspection(file);
        return { name: compiled.net.name, drawing: await drawDag(compiled, opts) };
      });
      writeOutputs(
        drawings.flatMap(({ name, drawing }) => [
          { path: outputPath(opts.out, name, `${drawing.variant}.dot`), text: drawing.dot },
          { path: outputPath(opts.out, name, `${drawing.variant}.svg`), text: drawing.svg },
        ]),
      );
      done(0);
    });
}
