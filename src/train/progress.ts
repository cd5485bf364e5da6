/**
 * What `bpgen train` shows in the terminal: a progress bar per epoch (stderr, only on a TTY), one line per
 * epoch on stdout, gradient-health warnings on stderr (once per layer and kind, then when it changes; for a
 * recurrent layer also over its steps), and a closing summary with the remedies that apply.
 */
import cliProgress from "cli-progress";
import type { EpochRecord, TrainResult } from "./loop.ts";
import { REMEDIES, type HealthThresholds, type HealthWarning, warningReason } from "./stats.ts";
import { fmt } from "./svg.ts";
import { DEFAULT_TIME_RATIO, type TimeWarning, layerName, spans, timeRemedies, timeWarningReason } from "./time.ts";

const pct = (v: number | undefined) => (v === undefined ? "" : `${(100 * v).toFixed(2)}%`);

/** The width of a loss column: "-99.9999", "1.23e-45" (an f32 goes no smaller) and "Infinity" fit. */
const LOSS_WIDTH = 8;

/**
 * A loss for the per-epoch lines: four decimals from 0.001 up to 100, three significant digits with an exponent
 * beyond, padded to one width, so that the columns of successive lines stay put (0.4900 under 0.5660).
 */
export function lossColumn(v: number): string {
  const a = Math.abs(v);
  const text = !Number.isFinite(v) ? String(v) : v === 0 || (a >= 1e-3 && a < 100) ? v.toFixed(4) : v.toExponential(2).replace("e+", "e");
  return text.padStart(LOSS_WIDTH);
}

/** An accuracy for the per-epoch lines: two decimals, padded to the width of 100.00%. */
const accuracyColumn = (v: number) => pct(v).padStart("100.00%".length);

/**
 * One epoch's line: every field at the same column on every line of a run (epoch numbers padded to the run's
 * length, a space where a cut-short epoch has its `*`, fixed decimals and widths).
 */
export function epochLine(r: EpochRecord, epochs: number): string {
  const width = String(epochs).length;
  return [
    `epoch ${String(r.epoch).padStart(width)}/${epochs}${r.partial ? "*" : " "}`,
    `loss ${lossColumn(r.train.loss)}`,
    ...(r.validation ? [`val_loss ${lossColumn(r.validation.loss)}`] : []),
    ...(r.train.accuracy !== undefined ? [`acc ${accuracyColumn(r.train.accuracy)}`] : []),
    ...(r.validation?.accuracy !== undefined ? [`val_acc ${accuracyColumn(r.validation.accuracy)}`] : []),
    // hundredths: an epoch of a small net takes tens of milliseconds, which tenths would show as 0.0 s
    `${r.seconds.toFixed(2).padStart(6)} s`,
  ].join("  ");
}

export class TerminalProgress {
  private bar: cliProgress.SingleBar | undefined;
  private barEpoch = -1;
  private readonly warned = new Set<string>();

  constructor(
    private readonly epochs: number,
    private readonly showBar: boolean,
  ) {}

  batch(epoch: number, done: number, total: number, loss: number): void {
    if (!this.showBar) return;
    if (this.barEpoch !== epoch) {
      this.stop();
      this.bar = new cliProgress.SingleBar(
        { format: `epoch ${epoch}/${this.epochs} [{bar}] {value}/{total} batches | loss {loss} | {eta_formatted}`, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { loss: "…" });
      this.barEpoch = epoch;
    }
    this.bar?.update(done, { loss: fmt(loss) });
  }

  epoch(r: EpochRecord, warnings: readonly HealthWarning[], t: HealthThresholds, overTime: readonly TimeWarning[] = []): void {
    this.stop();
    process.stdout.write(`${epochLine(r, this.epochs)}\n`);
    for (const w of warnings) {
      const key = `${w.kind} ${w.layer}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      process.stderr.write(`warning: ${w.kind} gradients in ${w.layer} (epoch ${w.epoch}): ${warningReason(w, t, fmt)}\n`);
    }
    for (const w of overTime) {
      const key = `${w.kind} steps ${w.layer}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      process.stderr.write(`warning: gradient ${w.kind} over the ${w.steps} steps of ${layerName(w)} (epoch ${w.epoch}): ${timeWarningReason(w, t.time ?? DEFAULT_TIME_RATIO, fmt)}\n`);
    }
  }

  note(text: string): void {
    this.stop();
    process.stderr.write(`${text}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.barEpoch = -1;
  }

  /** The closing lines: outcome, best epoch, and the remedies for any warnings. */
  summary(r: TrainResult, t: HealthThresholds): string {
    const lines: string[] = [];
    const best = r.history.find((e) => e.epoch === r.best.epoch && !e.partial);
    if (r.stopped === "diverged" && r.divergence) {
      const d = r.divergence;
      lines.push(
        `error: training diverged at epoch ${d.epoch}, batch ${d.batch}: loss ${fmt(d.loss)}, gradient norm ${fmt(d.gradNorm)}; stopped instead of carrying on`,
        `  remedies: ${REMEDIES.exploding.join("; ")}`,
      );
    }
    if (r.stopped === "interrupted") lines.push(`interrupted: stopped after the current batch`);
    if (best) {
      const metrics = [
        `loss ${fmt(best.train.loss)}`,
        ...(best.validation ? [`val_loss ${fmt(best.validation.loss)}`] : []),
        ...(best.validation?.accuracy !== undefined ? [`val_acc ${pct(best.validation.accuracy)}`] : best.train.accuracy !== undefined ? [`acc ${pct(best.train.accuracy)}`] : []),
      ];
      lines.push(`best epoch ${best.epoch}: ${metrics.join(", ")}; ${r.seconds.toFixed(1)} s in all`);
    }
    for (const kind of ["vanishing", "exploding"] as const) {
      const layers = [...new Set(r.warnings.filter((w) => w.kind === kind).map((w) => w.layer))];
      if (layers.length === 0) continue;
      const limit = kind === "vanishing" ? `below ${fmt(t.low)}, or ${fmt(t.ratio)} × the largest layer's` : `above ${fmt(t.high)}`;
      lines.push(`warning: ${kind} gradients (norm ${limit}) in ${layers.join(", ")}`, `  remedies: ${REMEDIES[kind].join("; ")}`);
    }
    const ratio = t.time ?? DEFAULT_TIME_RATIO;
    for (const kind of ["vanishing", "exploding"] as const) {
      const found = (r.timeWarnings ?? []).filter((w) => w.kind === kind);
      const layers = [...new Map(found.map((w) => [w.layer, w])).values()];
      if (layers.length === 0) continue;
      const limit = kind === "vanishing" ? `below ${fmt(ratio)}` : `above ${fmt(1 / ratio)}`;
      lines.push(
        `warning: gradient ${kind} over the steps (‖∂L/∂h_0‖ ${limit} × ‖∂L/∂h_{T−1}‖) in ${layers.map((w) => `${layerName(w)} at epochs ${spans(found.filter((v) => v.layer === w.layer).map((v) => v.epoch))}`).join(", ")}`,
        `  remedies: ${timeRemedies(kind, layers.map((w) => w.cell)).join("; ")}`,
      );
    }
    return lines.map((l) => `${l}\n`).join("");
  }
}
