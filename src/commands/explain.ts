/** `bpgen explain net.json …`: the backprop derivation as Markdown with LaTeX and as a self-contained HTML page. */
import type { Command } from "commander";
import type { Done } from "./types.ts";

interface ExplainOptions {
  out: string;
  graph: boolean;
}

export function registerExplain(program: Command, done: Done): void {
  program
    .command("explain")
    .description("write the derivation (forward equations, deltas in sweep order, fused forms, operation counts) as <name>.md and <name>.html")
    .argument("<files...>", "net.json files")
    .option("-o, --out <dir>", "folder for the files", "derivation")
    .option("--no-graph", "leave the picture of the DAG out of the HTML page")
    .action(async (files: string[], opts: ExplainOptions) => {
      // KaTeX, Graphviz and the compiler load only when the command runs
      const [{ explain }, { compileForInspection }, { forEachInput, outputPath, writeOutputs }, { expandInputs }] = await Promise.all([
        import("../explain/explain.ts"),
        import("../graph/compiled.ts"),
        import("../graph/files.ts"),
        import("../build/inputs.ts"),
      ]);
      const pages = await forEachInput(expandInputs(files), async (file) => explain(await compileForInspection(file), { graph: opts.graph }));
      writeOutputs(
        pages.flatMap((page) => [
          { path: outputPath(opts.out, page.name, ".md"), text: page.markdown },
          { path: outputPath(opts.out, page.name, ".html"), text: page.html },
        ]),
      );
      done(0);
    });
}
