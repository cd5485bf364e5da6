/**
 * A network compiled for inspection: the same stages as compile() in src/pipeline.ts (buildNet →
 * compileNet), keeping the DAG, the gradients and the module's names, so pictures and derivations name every
 * value exactly as the generated module does.
 */
import { posixRelative, projectRootOf } from "../build/project.ts";
import type { Gradients } from "../autodiff/reverse.ts";
import { BpgenError } from "../errors.ts";
import type { Net } from "../ir/net.ts";
import { type CompiledNet, buildNet, compileNet } from "../pipeline.ts";
import { loadSpec } from "../spec/load.ts";
import type { NetSpec } from "../spec/types.ts";

export interface Compiled {
  readonly spec: NetSpec;
  /**
   * The network as its gradient sees it: for a network with modes, its training mode (batch statistics, dropout)
   * is its output, loss and objective here, since that is what backpropagation differentiates.
   */
  readonly net: Net;
  readonly grads: Gradients;
  readonly emitted: CompiledNet;
  /** The input as the generated header names it (relative to its project root, forward slashes). */
  readonly sourceFile: string;
}

export async function compileForInspection(file: string): Promise<Compiled> {
  const sourceFile = displayPath(file);
  const { spec, locate } = loadSpec(file);
  try {
    const net = buildNet(spec, locate);
    // f32, like the default build: the comments (and so the names) do not depend on the precision
    const emitted = await compileNet(net, { precision: "f32", sourceFile, format: false });
    return { spec, net: differentiated(net), grads: emitted.grads, emitted, sourceFile };
  } catch (e) {
    throw e instanceof BpgenError ? e.at({ file: sourceFile }) : e;
  }
}

/** The net with its training mode's values as its own (the net itself when it has one mode). */
function differentiated(net: Net): Net {
  const { training } = net;
  return training ? { ...net, output: training.output, loss: training.loss, objective: training.objective } : net;
}

/** Same rule as the build command, so `explain` names the file the way the generated header does. */
export function displayPath(file: string): string {
  return posixRelative(projectRootOf(file), file);
}
