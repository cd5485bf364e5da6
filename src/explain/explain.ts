/** The `explain` command's work for one network: the derivation document as Markdown and as HTML. */
import type { Compiled } from "../graph/compiled.ts";
import { viewDag } from "../graph/dag.ts";
import { drawDag } from "../graph/draw.ts";
import { derive } from "./derivation.ts";
import { derivationDocument } from "./document.ts";
import { toHtml } from "./html.ts";
import { toMarkdown } from "./markdown.ts";

/** Above this many drawn nodes the page shows the DAG one box per layer. */
const FIGURE_MAX_NODES = 80;

export interface ExplainOptions {
  /** Put the picture of the DAG in the HTML page (default true). */
  graph?: boolean;
}

export interface Explained {
  readonly name: string;
  readonly markdown: string;
  readonly html: string;
}

export async function explain(compiled: Compiled, options: ExplainOptions = {}): Promise<Explained> {
  const view = viewDag(compiled);
  const derivation = derive(compiled, view);
  const figure = options.graph === false ? undefined : (await drawDag(compiled, { collapse: view.nodes.length > FIGURE_MAX_NODES }, view)).svg;
  const { name } = compiled.net;
  return {
    name,
    markdown: toMarkdown(derivationDocument(derivation)),
    html: toHtml(`The derivation of ${name}`, derivationDocument(derivation, { figure })),
  };
}
