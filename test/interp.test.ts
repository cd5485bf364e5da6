/**
 * The kernel-IR interpreter against the generated TypeScript modules: for every example, forward, loss and
 * gradient on random parameters, inputs and targets are bit-equal (every element the same float, NaN to NaN,
 * −0 to −0) in f64 and in f32. This is what lets the pass, plan and lowering tests trust the interpreter.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadModule, type NetModule } from "./helpers/load-module.ts";
import { isStateful } from "../src/ir/net.ts";
import { buildNet, compile, type Precision } from "../src/pipeline.ts";
import { type FloatArray, arrayType } from "../src/render/interp/interpret.ts";
import type { InterpretedModule } from "../src/render/interp/module.ts";
import { EXAMPLES_DIR, exampleSpec } from "./helpers/examples-support.ts";
import { compileForInterpreter } from "./helpers/interp.ts";
import { makeRng } from "./oracle/random-nets.ts";

// the interpreted module takes no state array: the examples with state (batchnorm, dropout) are compared, in both
// modes and with both kernels, in test/oracle-layer-stacks.test.ts (against TF.js) and test/layers-modes.test.ts
const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .filter((name) => !isStateful(buildNet(exampleSpec(name))))
  .sort();

/** One sample (no 1/batch pass), and five: a full tile of every library kernel and its edge loops. */
const BATCHES = [1, 5];

/** Where two arrays first differ bit for bit, or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectBitEqual(what: string, interpreted: ArrayLike<number>, generated: ArrayLike<number>): void {
  const at = firstDifference(interpreted, generated);
  expect(at, `${what}: element ${at} is ${interpreted[at]} interpreted, ${generated[at]} generated`).toBe(-1);
}

function randomArray(precision: Precision, n: number, next: () => number): FloatArray {
  const a = new (arrayType(precision))(n);
  for (let i = 0; i < n; i++) a[i] = next();
  return a;
}

async function compare(name: string, precision: Precision): Promise<void> {
  const spec = exampleSpec(name);
  const { source } = await compile(spec, { precision, kernels: "js", sourceFile: `examples/${name}.json`, format: false });
  const generated: NetModule = loadModule(source);
  const interpreted: InterpretedModule = compileForInterpreter(spec, precision);
  const { meta } = generated;
  expect(interpreted.meta).toEqual({ paramCount: meta.paramCount, inputSize: meta.inputSize, targetSize: meta.targetSize, outputSize: meta.outputSize });
  const Array = arrayType(precision);
  const rng = makeRng(name.length * 7919 + (precision === "f64" ? 1 : 2));
  for (const batch of BATCHES) {
    const params = randomArray(precision, meta.paramCount, () => 0.5 * rng.normal());
    const inputs = randomArray(precision, batch * meta.inputSize, () => rng.normal());
    const targets = randomArray(precision, batch * meta.targetSize, () => rng.next());
    const at = `${name} ${precision} batch ${batch}`;

    const [outI, outG] = [new Array(batch * meta.outputSize), new Array(batch * meta.outputSize)];
    interpreted.forward(params, inputs, outI, batch);
    generated.forward(params, inputs, outG, batch);
    expectBitEqual(`${at} forward`, outI, outG);

    expectBitEqual(`${at} loss`, [interpreted.loss(params, inputs, targets, batch)], [generated.loss(params, inputs, targets, batch)]);

    const [gradI, gradG] = [new Array(meta.paramCount).fill(Number.NaN), new Array(meta.paramCount).fill(Number.NaN)];
    const J = [interpreted.gradient(params, inputs, targets, gradI, batch)];
    expectBitEqual(`${at} gradient J`, J, [generated.gradient(params, inputs, targets, gradG, batch)]);
    expectBitEqual(`${at} gradient`, gradI, gradG);
    // the values are numbers, not all zero: a comparison of two empty results would prove nothing
    expect(gradI.some((g) => g !== 0 && Number.isFinite(g)), `${at}: some finite nonzero gradient`).toBe(true);
  }
}

describe("the interpreter computes what the TypeScript kernels compute", () => {
  it("has examples to compare", () => expect(EXAMPLES.length).toBeGreaterThan(5));
  for (const name of EXAMPLES) {
    for (const precision of ["f64", "f32"] as const) {
      it(`${name} (${precision}): forward, loss and gradient bit-equal`, () => compare(name, precision));
    }
  }
});
