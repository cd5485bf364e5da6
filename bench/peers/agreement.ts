/**
 * The agreement checks of the LSTM and CNN benchmarks (bench/lstm.ts, bench/cnn.ts, their tests): every peer's loss
 * and output against a reference peer's (the hand-written LSTM, bpgen's CNN), before training and after one step.
 */
import { PEER_LABEL, type PeerRun } from "./types.ts";

/** The loss and the outputs of every peer agree with bpgen's to this relative tolerance. */
export const LOSS_TOLERANCE = 1e-4;
export const OUTPUT_TOLERANCE = 1e-4;

export const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The largest differences a check found, relative (loss: to the reference's loss; output: to its largest |output|). */
export interface Agreement {
  readonly loss: number;
  readonly lossDiff: number;
  readonly outputDiff: number;
}

/**
 * Each peer's loss and output against the reference run's; `when` names the moment for the message.
 * `trained`: after a training step, where the inference-only peers (whose weights did not move) sit out.
 */
export async function checkAgainst(runs: readonly PeerRun[], reference: PeerRun, when: string, trained = false): Promise<Agreement> {
  await reference.activate();
  const J = reference.loss?.() ?? NaN;
  const out = await reference.output();
  let lossDiff = 0;
  let outputDiff = 0;
  for (const r of runs) {
    if (r === reference || (trained && !r.step)) continue;
    await r.activate();
    if (r.loss) {
      const Jr = r.loss();
      const rel = Math.abs(Jr - J) / Math.abs(J);
      if (!(rel <= LOSS_TOLERANCE)) throw new Error(`${PEER_LABEL[r.id]} ${when}: loss ${Jr}, ${PEER_LABEL[reference.id]} ${J} (relative tolerance ${LOSS_TOLERANCE})`);
      lossDiff = Math.max(lossDiff, rel);
    }
    const rel = maxDiff(await r.output(), out) / maxAbs(out);
    if (!(rel <= OUTPUT_TOLERANCE)) throw new Error(`${PEER_LABEL[r.id]} ${when}: output differs from ${PEER_LABEL[reference.id]}'s by ${rel} of its largest |output| ${maxAbs(out)}`);
    outputDiff = Math.max(outputDiff, rel);
  }
  return { loss: J, lossDiff, outputDiff };
}

/** One training step of every peer that trains (untimed), for the second check. */
export async function stepAll(runs: readonly PeerRun[]): Promise<void> {
  for (const r of runs) {
    await r.activate();
    if (r.step?.sync) r.step.run();
    else if (r.step) await r.step.run();
  }
}

