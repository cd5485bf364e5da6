/**
 * The training report: one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) with
 * the loss and accuracy curves, per-layer gradient and parameter norms per epoch (the picture of vanishing
 * or exploding gradients), a heat map and table of the same numbers, and the warnings with their remedies. For a
 * network with recurrent layers, the gradient over the steps: ‖∂L/∂h_t‖ per layer, epoch and step (time.ts).
 */
import type { EpochRecord, TrainResult } from "./loop.ts";
import { REMEDIES, type HealthThresholds, type HealthWarning } from "./stats.ts";
import { fmt, heatMap, lineChart, ramp, type Series } from "./svg.ts";
import { DEFAULT_TIME_RATIO, TIME_BATCH, type TimeWarning, endsOf, layerName, spans, timeRatio, timeRemedies } from "./time.ts";

export interface RunInfo {
  net: string;
  source: string;
  data: string;
  /** e.g. "adam lr 0.001, clip norm 1" */
  optimizer: string;
  epochs: number;
  batch: number;
  seed: number;
  thresholds: HealthThresholds;
}

/** The charts' own style (their SVG reads these classes): also what an SVG taken out of the report needs. */
export const CHART_STYLE = `.chart text { font-size: 11px; fill: #333; } .chart .title { font-size: 13px; font-weight: 600; } .chart .cell { font-size: 9.5px; fill: #111; } .chart .cell.on-dark { fill: #fff; }
.chart .grid { stroke: #eee; } .chart .axis { stroke: #999; }`;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const pct = (v: number | undefined) => (v === undefined ? "–" : `${(100 * v).toFixed(2)}%`);

export function reportHtml(info: RunInfo, r: TrainResult): string {
  const h = r.history;
  const layers = h[0]?.layers.map((l) => l.layer) ?? [];
  const best = h.find((e) => e.epoch === r.best.epoch && !e.partial) ?? h[0];
  const at = (get: (e: EpochRecord) => number | undefined): [number, number][] =>
    h.flatMap((e) => {
      const v = get(e);
      return v === undefined ? [] : [[e.epoch, v] as [number, number]];
    });
  const perLayer = (get: (l: EpochRecord["layers"][number]) => number | undefined): Series[] =>
    layers.map((name, k) => ({ name, color: ramp(k, layers.length), points: at((e) => get(e.layers[k])) }));

  const losses = h.flatMap((e) => [e.train.loss, e.validation?.loss ?? NaN]).filter((v) => Number.isFinite(v) && v > 0);
  const wide = Math.max(...losses) > 20 * Math.min(...losses);
  const charts = [
    lineChart({
      title: "Loss J per epoch",
      xLabel: "epoch",
      yLabel: wide ? "J (log scale)" : "J",
      log: wide,
      series: [
        { name: "training", color: "#1f5fbf", points: at((e) => e.train.loss) },
        ...(r.validationRows > 0 ? [{ name: "validation", color: "#d9480f", dashed: true, points: at((e) => e.validation?.loss) }] : []),
      ],
    }),
    ...(h[0]?.train.accuracy !== undefined
      ? [
          lineChart({
            title: "Accuracy per epoch",
            xLabel: "epoch",
            yLabel: "accuracy",
            series: [
              { name: "training", color: "#1f5fbf", points: at((e) => e.train.accuracy) },
              ...(r.validationRows > 0 ? [{ name: "validation", color: "#d9480f", dashed: true, points: at((e) => e.validation?.accuracy) }] : []),
            ],
          }),
        ]
      : []),
    lineChart({ title: "Gradient norm ‖∂J/∂θ‖ per layer (mean over the epoch's batches)", xLabel: "epoch", yLabel: "norm (log scale)", log: true, series: perLayer((l) => l.grad?.norm) }),
    lineChart({
      title: "Largest gradient entry |∂J/∂θ| per layer",
      xLabel: "epoch",
      yLabel: "max |entry| (log scale)",
      log: true,
      series: perLayer((l) => (l.grad ? Math.max(Math.abs(l.grad.min), Math.abs(l.grad.max)) : undefined)),
    }),
    lineChart({ title: "Parameter norm ‖θ‖ per layer (end of epoch)", xLabel: "epoch", yLabel: "norm (log scale)", log: true, series: perLayer((l) => l.param.norm) }),
  ];
  const trained = h.filter((e) => e.epoch > 0);
  const heat = heatMap({
    title: "Gradient norm per layer (rows) and epoch (columns)",
    rows: layers,
    columns: trained.map((e) => `${e.epoch}${e.partial ? "*" : ""}`),
    values: layers.map((_, k) => trained.map((e) => e.layers[k].grad?.norm)),
    domain: [info.thresholds.low / 10, info.thresholds.high],
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bpgen train: ${esc(info.net)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.summary td { padding: 1px 12px 1px 0; } .summary td:first-child { color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 4px; }
.wide { overflow-x: auto; }
${CHART_STYLE}
.warn { background: #fff4e5; border-left: 4px solid #e8590c; padding: 8px 12px; margin: 8px 0; }
.ok { background: #ebfbee; border-left: 4px solid #2b8a3e; padding: 8px 12px; margin: 8px 0; }
.bad { background: #fff0f0; border-left: 4px solid #c92a2a; padding: 8px 12px; margin: 8px 0; }
table.stats { border-collapse: collapse; font-size: 12px; } table.stats th, table.stats td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
table.stats th { background: #f6f6f6; }
</style></head><body>
<h1>bpgen train: ${esc(info.net)}</h1>
${summary(info, r, best)}
${outcome(r)}
${warningsHtml(r.warnings, info.thresholds)}
${r.timeWarnings ? timeWarningsHtml(r.timeWarnings, info.thresholds.time ?? DEFAULT_TIME_RATIO) : ""}
<h2>Curves</h2>
<div class="charts">
${charts.join("\n")}
</div>
${overTimeSection(info, r)}
<h2>Gradient norm, layer by epoch</h2>
<div class="wide">${heat}</div>
<h2>Per layer and epoch</h2>
${statsTable(h)}
</body></html>
`;
}

function summary(info: RunInfo, r: TrainResult, best: EpochRecord): string {
  const opt = info.optimizer;
  const rows: [string, string][] = [
    ["network", `${info.net} (${info.source})`],
    ["data", `${info.data}: ${r.trainRows} training rows, ${r.validationRows} validation rows (seed ${info.seed})`],
    ["training", `${info.epochs} epochs of batches of ${info.batch}; ${opt}`],
    ["time", `${r.seconds.toFixed(1)} s`],
    [
      "best epoch",
      `${best.epoch}: training loss ${fmt(best.train.loss)}${best.validation ? `, validation loss ${fmt(best.validation.loss)}` : ""}${
        best.train.accuracy !== undefined ? `, training accuracy ${pct(best.train.accuracy)}` : ""
      }${best.validation?.accuracy !== undefined ? `, validation accuracy ${pct(best.validation.accuracy)}` : ""}`,
    ],
  ];
  return `<table class="summary">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${esc(v)}</td></tr>`).join("")}</table>`;
}

function outcome(r: TrainResult): string {
  if (r.stopped === "diverged" && r.divergence) {
    const d = r.divergence;
    return `<div class="bad"><b>Training diverged</b> at epoch ${d.epoch}, batch ${d.batch}: the loss became ${fmt(d.loss)} (gradient norm ${fmt(d.gradNorm)}). Training stopped there; the saved parameters are those of epoch ${r.best.epoch}. Remedies: ${REMEDIES.exploding.join("; ")}.</div>`;
  }
  if (r.stopped === "interrupted") return `<div class="warn"><b>Interrupted</b> (Ctrl-C) during epoch ${r.history.at(-1)?.epoch}; the saved parameters are those of epoch ${r.best.epoch}.</div>`;
  return "";
}

function warningsHtml(warnings: readonly HealthWarning[], t: HealthThresholds): string {
  if (warnings.length === 0) return `<div class="ok">No layer's gradient norm left [${fmt(t.low)}, ${fmt(t.high)}] or fell below ${fmt(t.ratio)} × the largest layer's.</div>`;
  const kinds = (["vanishing", "exploding"] as const).filter((k) => warnings.some((w) => w.kind === k));
  return kinds
    .map((kind) => {
      const list = warnings.filter((w) => w.kind === kind);
      const byLayer = [...new Set(list.map((w) => w.layer))].map((layer) => {
        const ws = list.filter((w) => w.layer === layer);
        return `${layer} (epochs ${spans(ws.map((w) => w.epoch))}; norm ${fmt(ws[0].norm)}${ws.length > 1 ? ` … ${fmt(ws.at(-1)?.norm ?? NaN)}` : ""})`;
      });
      const limit = kind === "vanishing" ? `below ${fmt(t.low)}, or ${fmt(t.ratio)} × the largest layer's` : `above ${fmt(t.high)}`;
      return `<div class="warn"><b>${kind === "vanishing" ? "Vanishing" : "Exploding"} gradients</b>: gradient norm ${limit} in ${esc(byLayer.join("; "))}.<br>Remedies: ${esc(REMEDIES[kind].join("; "))}.</div>`;
    })
    .join("\n");
}

/**
 * A network with recurrent layers: per layer, ‖∂L/∂h_t‖ over the steps at the first and last epoch (log scale),
 * a heat map of every epoch (rows) and step (columns), and the warnings over the steps with their remedies.
 */
function overTimeSection(info: RunInfo, r: TrainResult): string {
  const measured = r.history.filter((e) => e.steps !== undefined);
  const first = measured[0]?.steps;
  const last = measured.at(-1);
  if (!first || !last?.steps) return "";
  const rows = Math.min(TIME_BATCH, r.trainRows);
  const ratio = info.thresholds.time ?? DEFAULT_TIME_RATIO;
  const layers = first.map((s) => s.layer);
  const epochsShown = measured.length > 1 ? [measured[0], last] : [last];
  const curve = lineChart({
    title: `Gradient over the steps: ‖∂L/∂h_t‖ of each recurrent layer (mean over ${rows} training rows), at epoch ${epochsShown.map((e) => e.epoch).join(" and ")}`,
    xLabel: "step t",
    yLabel: "‖∂L/∂h_t‖ (log scale)",
    log: true,
    width: 640,
    series: layers.flatMap((layer, k) =>
      epochsShown.map((e) => ({
        name: `${layer}, epoch ${e.epoch}`,
        color: ramp(k, layers.length),
        dashed: e !== last,
        points: (e.steps?.[k]?.norms ?? []).map((v, t): [number, number] => [t, v]),
      })),
    ),
  });
  const maps = layers.map((layer, k) => {
    const steps = first[k].norms.length;
    const w = Math.max(5, Math.min(34, Math.floor(640 / steps)));
    return heatMap({
      title: `‖∂L/∂h_t‖ of ${layer} per epoch (rows) and step t (columns), mean over ${rows} training rows${first[k].reverse ? "; it runs from the last step to the first" : ""}`,
      rows: measured.map((e) => `epoch ${e.epoch}${e.partial ? "*" : ""}`),
      columns: Array.from({ length: steps }, (_, t) => String(t)),
      values: measured.map((e) => e.steps?.[k]?.norms ?? []),
      columnName: "step",
      cell: { w, h: measured.length > 20 ? 12 : 18 },
      columnLabelEvery: Math.ceil(24 / w),
      gradientId: `heat-scale-steps-${k}`,
    });
  });
  const backwards = last.steps?.some((s) => s.reverse) ?? false;
  const ratios = layers.map((layer, k) => {
    const s = last.steps?.[k];
    return `${layer}: ${fmt(timeRatio(endsOf({ norms: s?.norms ?? [], reverse: s?.reverse })))}`;
  });
  return `<h2 id="steps">Gradient over the steps (recurrent layers)</h2>
<p>How far back through the sequence the loss still moves each recurrent layer's state: ‖∂L/∂h_t‖, the gradient of a row's loss with respect to the state after step t, averaged over the same ${rows} training rows after every epoch. A gradient that falls by orders of magnitude from the last step to the first means the first steps learn nothing (warned below ${esc(fmt(ratio))} ×). ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖${backwards ? " (for a direction that runs backwards, a bidirectional layer's second, ‖∂L/∂h_{T−1}‖ / ‖∂L/∂h_0‖)" : ""} at epoch ${last.epoch}: ${esc(ratios.join(", "))}.</p>
<div class="charts">
${curve}
</div>
${maps.map((m) => `<div class="wide">${m}</div>`).join("\n")}`;
}

function timeWarningsHtml(warnings: readonly TimeWarning[], ratio: number): string {
  if (warnings.length === 0) return `<div class="ok">No recurrent layer's ‖∂L/∂h_0‖ fell below ${fmt(ratio)} × its ‖∂L/∂h_{T−1}‖ or rose above ${fmt(1 / ratio)} ×.</div>`;
  return (["vanishing", "exploding"] as const)
    .filter((kind) => warnings.some((w) => w.kind === kind))
    .map((kind) => {
      const list = warnings.filter((w) => w.kind === kind);
      const layers = [...new Map(list.map((w) => [w.layer, w])).values()];
      const byLayer = layers.map((w) => {
        const ws = list.filter((v) => v.layer === w.layer);
        return `${layerName(w)} (epochs ${spans(ws.map((v) => v.epoch))}; ratio ${fmt(timeRatio(ws[0]))}${ws.length > 1 ? ` … ${fmt(timeRatio(ws.at(-1) ?? ws[0]))}` : ""})`;
      });
      const limit = kind === "vanishing" ? `below ${fmt(ratio)}` : `above ${fmt(1 / ratio)}`;
      return `<div class="warn"><b>Gradient ${kind} over the steps</b>: ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ ${limit} in ${esc(byLayer.join("; "))}.<br>Remedies: ${esc(timeRemedies(kind, layers.map((w) => w.cell)).join("; "))}.</div>`;
    })
    .join("\n");
}

function statsTable(h: readonly EpochRecord[]): string {
  const head = "<tr><th>epoch</th><th>layer</th><th>‖grad‖</th><th>grad min</th><th>grad max</th><th>‖param‖</th><th>param min</th><th>param max</th></tr>";
  const rows = h.flatMap((e) =>
    e.layers.map(
      (l, k) =>
        `<tr>${k === 0 ? `<td rowspan="${e.layers.length}">${e.epoch}${e.partial ? "*" : ""}</td>` : ""}<td>${esc(l.layer)}</td><td>${l.grad ? fmt(l.grad.norm) : "–"}</td><td>${
          l.grad ? fmt(l.grad.min) : "–"
        }</td><td>${l.grad ? fmt(l.grad.max) : "–"}</td><td>${fmt(l.param.norm)}</td><td>${fmt(l.param.min)}</td><td>${fmt(l.param.max)}</td></tr>`,
    ),
  );
  return `<details${h.length * (h[0]?.layers.length ?? 0) <= 60 ? " open" : ""}><summary>${h.length} epochs (* = cut short); epoch 0 is the starting point</summary><table class="stats">${head}${rows.join("")}</table></details>`;
}
