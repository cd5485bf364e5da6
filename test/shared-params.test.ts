/**
 * Regression tests for parameters read several times per sample (tied weights, unrolled recurrences, a bias
 * shared by layers). Two contributions to one parameter's gradient once shared one region of `grads`, which
 * doubled one of them and lost the other. Every case is checked against central finite differences (f64) and
 * the f32 module against the f64 one, on the straight-line path (narrow) and the batched dense kernels (wide).
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../src/check/gradcheck.ts";
import { loadModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import { withKernels } from "./helpers/kernels.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";

type Via = "direct" | "transpose" | "mixed";

/** `uses` layers that all read the same W (and b): h_k = tanh(W·h_{k−1} + b), o = W·h + b. */
function tiedNet(uses: number, via: Via, n: number): EquationNetSpec {
  const weight = (k: number) => (via === "transpose" || (via === "mixed" && k % 2 === 1) ? "W'" : "W");
  const equations: string[] = [];
  let prev = "x";
  for (let k = 1; k < uses; k++) {
    equations.push(`h${k} = tanh(${weight(k)} * ${prev} + b)`);
    prev = `h${k}`;
  }
  equations.push(`o = ${weight(uses)} * ${prev} + b`);
  return {
    name: `tied_${uses}_${via}_${n}`,
    params: { W: { shape: [n, n] }, b: { shape: [n] } },
    inputs: { x: [n] },
    targets: { y: [n] },
    equations,
    output: "o",
    loss: "0.5 * sum((o - y) .^ 2)",
  };
}

async function check(spec: EquationNetSpec, batch: number): Promise<void> {
  const m64 = loadModule<Float64Array>((await compile(structuredClone(spec), withKernels({ precision: "f64", format: false }))).source);
  const m32 = loadModule<Float32Array>((await compile(structuredClone(spec), withKernels({ precision: "f32", format: false }))).source);
  const report = gradcheck(m64, m32, { seed: 7, batch });
  const failed = report.rows.filter((r) => !r.ok).map((r) => `${r.param}: rel ${r.maxRelError.toExponential(2)}, f32 ${r.f32RelError.toExponential(2)}`);
  expect(failed, `${spec.name} batch ${batch}`).toEqual([]);
}

describe("a parameter read several times per sample gets the sum of its contributions", () => {
  it('the reported network: ["h = tanh(W * x + b)", "o = W * h + b"], W square', async () => {
    await check(tiedNet(2, "direct", 3), 4);
  });

  for (const n of [3, 24]) {
    const path = n === 3 ? "straight-line code" : "dense kernels";
    for (const uses of [2, 3, 4]) {
      for (const via of ["direct", "transpose", "mixed"] as const) {
        it(`${uses} uses, ${via}, ${n}×${n} (${path})`, async () => {
          await check(tiedNet(uses, via, n), n === 3 ? 3 : 5);
        });
      }
    }
  }

  it("an unrolled recurrence with shared Wx, Wh and b", async () => {
    const spec: EquationNetSpec = {
      name: "rnn3",
      params: { Wx: { shape: [24, 24] }, Wh: { shape: [24, 24] }, b: { shape: [24] }, Wo: { shape: [2, 24] } },
      inputs: { x1: [24], x2: [24], x3: [24] },
      targets: { y: [2] },
      equations: ["h1 = tanh(Wx * x1 + b)", "h2 = tanh(Wx * x2 + Wh * h1 + b)", "h3 = tanh(Wx * x3 + Wh * h2 + b)", "o = Wo * h3"],
      output: "o",
      loss: "0.5 * sum((o - y) .^ 2)",
    };
    await check(spec, 6);
  });

  it("a bias and a scalar gain shared across layers", async () => {
    const spec: EquationNetSpec = {
      name: "shared_bias",
      params: { W1: { shape: [4, 4] }, W2: { shape: [4, 4] }, b: { shape: [4] }, g: { shape: [] } },
      inputs: { x: [4] },
      targets: { y: [4] },
      equations: ["h = sigmoid(g * (W1 * x) + b)", "o = g * (W2 * h) + b"],
      output: "o",
      loss: "0.5 * sum((o - y) .^ 2)",
    };
    await check(spec, 3);
  });
});
