/** The operation counts as a table: the module's forward and backward passes against the naive count. */
import type { OpCounts } from "../lower/stats.ts";
import { type Block, type Inline, code, math, para, text } from "./blocks.ts";
import type { Derivation } from "./derivation.ts";

export function countBlocks(d: Derivation): Block[] {
  const { forward, backward, total, naive } = d.counts;
  const row = (label: Inline[], c: OpCounts): Inline[][] => [label, [text(String(c.perSample))], [text(String(c.perCall))]];
  const rows: Inline[][][] = [
    row([text("forward pass to the loss ("), code("loss"), text(")")], forward),
    row([text("backward sweep (what "), code("gradient"), text(" adds)")], backward),
    row([text("forward + backward ("), code("gradient"), text(")")], total),
    row([text("naive: each parameter's derivative as its own expression tree, plus the forward pass")], naive.total),
    ...naive.perParam.map((p) => row([text("of which "), math(`\\partial J/\\partial ${d.names.latex(d.compiled.net.params.find((q) => q.name === p.name)?.node ?? d.compiled.net.objective, true)}`)], p.ops)),
  ];
  return [
    para(text("Arithmetic operations, counted from the op table as "), code("bpgen --stats"), text(" counts them (a batch mean costs one addition per element per sample):")),
    { b: "table", head: ["", "per sample", "once per call"], rows },
    para(...summary(d)),
  ];
}

function summary(d: Derivation): Inline[] {
  const { forward, backward, total, naive } = d.counts;
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "-");
  return [
    text(`Per sample, the backward sweep costs ${ratio(backward.perSample, forward.perSample)}× the forward pass, and forward + backward ${ratio(total.perSample, forward.perSample)}×. `),
    text(`Without sharing, evaluating each parameter's derivative on its own would cost ${naive.total.perSample} operations per sample, ${ratio(naive.total.perSample, total.perSample)}× what the shared sweep costs.`),
  ];
}
