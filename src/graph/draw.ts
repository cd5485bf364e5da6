/** The `graph` command's work for one network: the DAG as DOT, laid out as SVG. */
import { isLayerSpec } from "../spec/types.ts";
import type { Compiled } from "./compiled.ts";
import { type DagView, viewDag } from "./dag.ts";
import { layersToDot } from "./dot-layers.ts";
import { type DotOptions, dagToDot } from "./dot.ts";
import { renderSvg } from "./svg.ts";

export interface DrawOptions extends DotOptions {
  /** One box per layer instead of one node per value. */
  collapse?: boolean;
}

export interface Drawing {
  readonly dot: string;
  readonly svg: string;
  /** The file-name suffix naming the options: "", ".forward", ".layers", ".forward.layers". */
  readonly variant: string;
}

export async function drawDag(compiled: Compiled, options: DrawOptions = {}, view: DagView = viewDag(compiled)): Promise<Drawing> {
  const dot = options.collapse ? layersToDot(view, isLayerSpec(compiled.spec), options) : dagToDot(view, options);
  const variant = `${options.forwardOnly ? ".forward" : ""}${options.collapse ? ".layers" : ""}`;
  return { dot, svg: await renderSvg(dot), variant };
}
