/**
 * bpgen against an independent oracle: random networks (both net.json forms) computed by TensorFlow.js
 * (float32) and differentiated by TF.js autodiff (test/oracle/). Every network of test/oracle/check.ts's
 * FAMILIES, lowered to kernel IR and run by the interpreter in f64 and in f32, must agree on `loss`,
 * `gradient` (g and the returned J), `forward` and `sgdStep` (gradient, then p − lr·g in the precision), with
 * the sizes and parameter layout of the net.
 *
 * The generated modules are held to the interpreter, and a sample of these networks to the oracle end to end,
 * on both kernel back ends by test/renderers.test.ts; `npm run oracle:long` runs many more networks end to end.
 * The oracle's layer-stack families (every layer type of the layer form, batchnorm and dropout in both modes, on
 * both kernel back ends) are test/oracle-layer-stacks.test.ts (test/oracle/check-layer-stacks.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, it } from "vitest";
import { FAMILIES, checkAgainstOracle, familyCases, type Case, type OracleSubject } from "./oracle/check.ts";
import { InterpretedNet, interpretedSgdStep, type Precision } from "./helpers/interpreted.ts";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** The interpreter standing in for the module of `net` at `precision`. */
function interpreted(net: InterpretedNet, precision: Precision): OracleSubject {
  const m = net.module(precision);
  return {
    meta: { ...m.meta, params: net.params() },
    forward: (p, x, out, batch) => m.forward(p, x, out, batch),
    loss: (p, x, y, batch) => m.loss(p, x, y, batch),
    gradient: (p, x, y, g, batch) => m.gradient(p, x, y, g, batch),
    sgdStep: (p, x, y, lr, batch) => interpretedSgdStep(m, precision, p, x, y, lr, batch),
  };
}

/** Each case lowered once, for both precisions. */
const lowered = new Map<Case, InterpretedNet>();
const netOf = (c: Case) => lowered.get(c) ?? lowered.set(c, new InterpretedNet(c.spec)).get(c)!;

for (const family of FAMILIES) {
  describe(`bpgen vs TF.js oracle: random ${family.kind} nets (interpreted kernel IR)`, () => {
    for (const c of familyCases(family)) {
      for (const precision of ["f64", "f32"] as const) {
        it(`seed ${c.seed} ${precision} (batch ${c.batch})`, () => checkAgainstOracle(c, precision, interpreted(netOf(c), precision), "bpgen's kernel IR"));
      }
    }
  });
}
