/**
 * One network through every peer: compile bpgen's module(s), set up the other peers on the same parameters and
 * batch, check that they agree with bpgen (step-0 loss, forward output) and do not leak, then time the training
 * step and the forward pass.
 */
import { compileVariants, type CompiledVariants } from "./compile.ts";
import { benchParams, forwardFlopsPerSample, makeBatch, trainFlopsPerSample, type RefNet } from "./nets.ts";
import { bpgenRun } from "./peers/bpgen.ts";
import { createHandwritten, f32, handRun } from "./peers/handwritten.ts";
import { jaxRun } from "./peers/jax.ts";
import { ortRun } from "./peers/ort.ts";
import { tfRun } from "./peers/tfjs.ts";
import { PEER_LABEL, type PeerId, type PeerRun } from "./peers/types.ts";
import type { NetResult } from "./report-types.ts";
import { ratio, us } from "./report-tables.ts";
import { measure, stats, type CellStats, type Mode, type TimingOptions } from "./timing.ts";

export const LOSS_TOLERANCE = 1e-4;
/** max |peer output − bpgen output| ≤ this × max |bpgen output|. */
export const OUTPUT_TOLERANCE = 1e-4;

export interface NetBench {
  readonly result: NetResult;
  readonly compiled: CompiledVariants;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a − b| / max |b| (NaN anywhere counts as an infinite difference). */
function outputDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
  }
  return d / (maxAbs(b) || 1);
}

async function setUp(net: RefNet, compiled: CompiledVariants): Promise<PeerRun[]> {
  const m = compiled.base.module;
  const params = benchParams(m.initParams(1));
  const data = makeBatch(net.spec, net.batch);
  const runs: PeerRun[] = [bpgenRun(m, params, data, "bpgen")];
  if (compiled.js) runs.push(bpgenRun(compiled.js.module, params, data, "bpgen-js"));
  if (compiled.wasm) runs.push(bpgenRun(compiled.wasm.module, params, data, "bpgen-wasm"));
  runs.push(handRun(createHandwritten(net.spec, net.batch, f32), params, data));
  runs.push(await jaxRun(net.spec, params, data));
  runs.push(await tfRun("cpu", net.spec, params, data));
  runs.push(await tfRun("wasm", net.spec, params, data));
  const ort = await ortRun(net.spec, params, data);
  if (ort) runs.push(ort);
  return runs;
}

/** Losses and outputs against bpgen's, then the peers' own leak checks; throws on any disagreement. */
async function check(net: RefNet, runs: readonly PeerRun[]): Promise<{ losses: Partial<Record<PeerId, number>>; outputDiffs: Partial<Record<PeerId, number>> }> {
  const losses: Partial<Record<PeerId, number>> = {};
  const outputs = new Map<PeerId, Float32Array>();
  for (const run of runs) {
    await run.activate();
    if (run.loss) losses[run.id] = run.loss();
    outputs.set(run.id, await run.output());
  }
  const J = losses.bpgen ?? NaN;
  const base = outputs.get("bpgen");
  if (!base) throw new Error("no bpgen output");
  const outputDiffs: Partial<Record<PeerId, number>> = {};
  const bad: string[] = [];
  for (const run of runs) {
    const l = losses[run.id];
    if (l !== undefined && !(Math.abs(l - J) <= LOSS_TOLERANCE * Math.abs(J))) bad.push(`${PEER_LABEL[run.id]} loss ${l} (bpgen ${J})`);
    const out = outputs.get(run.id);
    const d = out ? outputDiff(out, base) : Infinity;
    outputDiffs[run.id] = d;
    if (!(d <= OUTPUT_TOLERANCE)) bad.push(`${PEER_LABEL[run.id]} output differs by ${d.toExponential(2)} of max |output|`);
  }
  if (bad.length) throw new Error(`${net.id}: peers disagree with bpgen before timing: ${bad.join("; ")}`);
  for (const run of runs) {
    if (!run.verifyMemory) continue;
    await run.activate();
    await run.verifyMemory();
  }
  return { losses, outputDiffs };
}

export async function benchNet(net: RefNet, timing: TimingOptions, log: (line: string) => void): Promise<NetBench> {
  const compiled = await compileVariants(net.spec);
  const runs = await setUp(net, compiled);
  const { losses, outputDiffs } = await check(net, runs);
  const cells = {} as Record<Mode, Map<PeerId, CellStats>>;
  for (const mode of ["train", "forward"] as const) {
    const measured = await measure(runs, mode, timing);
    const baseCell = measured.get("bpgen");
    if (!baseCell) throw new Error("no bpgen cell");
    cells[mode] = new Map([...measured].map(([id, cell]) => [id, stats(cell, baseCell)]));
    log(`  ${net.id} ${mode}: ${[...cells[mode]].map(([p, c]) => `${PEER_LABEL[p]} ${us(c.median)} µs (${ratio(c.ratio)})`).join(", ")}`);
  }
  for (const run of runs) {
    await run.activate();
    run.dispose();
  }
  const base = compiled.base;
  return {
    compiled,
    result: {
      net,
      compileMillis: base.compileMillis,
      bytes: base.result.stats.bytes,
      forwardFlops: forwardFlopsPerSample(net.spec),
      trainFlops: trainFlopsPerSample(net.spec),
      losses,
      outputDiffs,
      forwardOps: base.result.stats.lossOps.perSample,
      gradientOps: base.result.stats.gradientOps.perSample,
      train: cells.train,
      forward: cells.forward,
    },
  };
}
