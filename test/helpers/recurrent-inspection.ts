/**
 * Recurrent nets compiled for inspection (explain, graph): layer nets written to a temporary net.json, and the
 * hand-built cells of recurrent-cells.ts compiled as the commands compile a file.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Compiled, compileForInspection } from "../../src/graph/compiled.ts";
import { compileNet } from "../../src/pipeline.ts";
import type { EquationNetSpec } from "../../src/spec/types.ts";
import { tempDir } from "./cli.ts";
import { type CellOptions, cellAsNet, cellNet } from "./recurrent-cells.ts";

/** A layer net compiled from a net.json written for it. */
export function compileSpec(spec: { readonly name: string; readonly [field: string]: unknown }): Promise<Compiled> {
  const file = join(tempDir(), `${spec.name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return compileForInspection(file);
}

/** An LSTM of `units` over `steps` rows of 3 features, every step's state read by a dense head (as net.json). */
export const lstmSpec = (steps: number, units = 4) => ({
  name: `lstm_${steps}`,
  input: [steps, 3],
  layers: [{ type: "lstm", units, return_sequences: true }, { type: "dense", units: 1 }],
  loss: "mse",
});

/** A hand-built cell (no layers recorded, an equation-style net) compiled as `explain` and `graph` compile a file. */
export async function compileCell(options: CellOptions): Promise<Compiled> {
  const net = cellAsNet(cellNet(options));
  const emitted = await compileNet(net, { precision: "f32", sourceFile: "cell.json", format: false });
  // the spec only tells the documents that the net is not made of layers; the cell has no equations
  const spec: EquationNetSpec = { name: net.name, params: {}, inputs: {}, targets: {}, equations: [], output: "", loss: "" };
  return { spec, net, grads: emitted.grads, emitted, sourceFile: "cell.json" };
}
