/**
 * dropout: inverted dropout while training, x ⊙ mask with mask 1/(1 − rate) where the element's counter-based
 * uniform number (ir/random.ts) is at least `rate`, 0 elsewhere; identity in inference (PyTorch's Dropout).
 * Each dropout layer hashes its own stream of the network's one generator (its seed and step are state).
 */
import { dropoutMask } from "../../ir/random.ts";
import type { DropoutLayerSpec } from "../../spec/types.ts";
import type { LayerKind } from "./layer.ts";

export const DEFAULT_RATE = 0.5;

export const dropout: LayerKind<DropoutLayerSpec> = {
  type: "dropout",
  title: "dropout",
  description: "While training, each value set to 0 with probability rate and the others divided by 1 − rate; in inference, the input as it is.",
  fields: {
    rate: {
      schema: { type: "number", minimum: 0, exclusiveMaximum: 1, default: DEFAULT_RATE, description: "The probability of dropping each value while training. Default 0.5." },
      what: "dropout rate",
      rule: "must be a number from 0 up to (not including) 1",
      expected: "a number in [0, 1) such as 0.5",
      default: "0.5",
    },
  },
  required: [],
  modal: true,
  outputShape: (_spec, input) => input,
  paramsOf: () => [],
  // applied to every value: a sequence stays one
  sequenceOut: (_spec, sequenceIn) => sequenceIn,
  build(ctx, spec, x) {
    const rate = spec.rate ?? DEFAULT_RATE;
    if (ctx.mode === "inference" || rate === 0) return { output: x };
    const { rng, stream } = ctx.state.random();
    return { output: ctx.g.mul(x, dropoutMask(ctx.g, rng, x.shape, rate, stream)) };
  },
  describe: (spec) => `dropout ${spec.rate ?? DEFAULT_RATE}`,
  torch: {
    module: "torch.nn.Dropout",
    args: { p: "rate" },
    params: [],
    note: "The masks differ from PyTorch's (another generator): the same in distribution, a function of the state's seed and step, each layer's stream and each value's place in the batch.",
  },
};
