/** DOT → SVG with the WebAssembly build of Graphviz (@viz-js/viz): no system binary needed. */
import { type Viz, instance } from "@viz-js/viz";

let viz: Promise<Viz> | undefined;

/** The SVG text of a DOT graph, laid out by `dot`. The Graphviz instance is created once and reused. */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success") {
    throw new Error(`internal: Graphviz could not render the graph: ${result.errors.map((e) => e.message).join("; ")}`);
  }
  return result.output;
}
