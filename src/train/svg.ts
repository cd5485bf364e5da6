/** Small SVG charts for the training report: line charts (linear or log y) and heat maps (layer × epoch, epoch × step). */

export interface Series {
  name: string;
  color: string;
  /** [x, y] points; non-finite y values are left out (a gap). */
  points: [number, number][];
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  log?: boolean;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1).replace("e+", "e") : Number(v.toPrecision(3)).toString();
}

/** A distinct colour for item k of n: from blue (first layer) to red (last). */
export function ramp(k: number, n: number): string {
  const t = n <= 1 ? 0 : k / (n - 1);
  return `hsl(${Math.round(230 - 230 * t)}, 70%, 45%)`;
}

/** Wider than any character's advance in the report's fonts, in ems (bold titles, then plain labels). */
const TITLE_EM = 0.62;
const LABEL_EM = 0.6;
const TITLE_PX = 13;
const LABEL_PX = 11;

/** `text` broken at spaces into lines that fit `width` pixels, judged by a generous width per character. */
export function wrapText(text: string, width: number, charPx: number): string[] {
  const most = Math.max(1, Math.floor(width / charPx));
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > most) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A title as `<text>` lines from (x, y), each line 16 px below the last. */
function titleLines(lines: readonly string[], x: number, y: number): string {
  return lines.map((l, k) => `<text x="${x}" y="${y + 16 * k}" class="title">${esc(l)}</text>`).join("\n");
}

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= step0) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export function lineChart(c: LineChart): string {
  const W = c.width ?? 560;
  const title = wrapText(c.title, W - 20, TITLE_PX * TITLE_EM);
  const extra = 16 * (title.length - 1);
  const H = (c.height ?? 300) + extra;
  const m = { l: 64, r: 130, t: 30 + extra, b: 42 };
  const tf = (y: number) => (c.log ? Math.log10(y) : y);
  const usable = (y: number) => Number.isFinite(y) && (!c.log || y > 0);
  const pts = c.series.flatMap((s) => s.points.filter(([, y]) => usable(y)));
  const xs = c.series.flatMap((s) => s.points.map(([x]) => x));
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  let y0 = pts.length ? Math.min(...pts.map(([, y]) => tf(y))) : 0;
  let y1 = pts.length ? Math.max(...pts.map(([, y]) => tf(y))) : 1;
  if (c.log) {
    y0 = Math.floor(y0);
    y1 = Math.max(Math.ceil(y1), y0 + 1);
  } else {
    const pad = (y1 - y0) * 0.05 || Math.abs(y1) * 0.1 || 1;
    y0 = Math.min(0, y0 - pad) === 0 && y0 >= 0 ? 0 : y0 - pad;
    y1 += pad;
  }
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const Y = (y: number) => H - m.b - ((tf(y) - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const Yt = (t: number) => H - m.b - ((t - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const yTicks = c.log ? Array.from({ length: y1 - y0 + 1 }, (_, k) => y0 + k).filter((_, k, a) => a.length <= 9 || k % Math.ceil(a.length / 8) === 0) : niceTicks(y0, y1, 5);
  const xTicks = niceTicks(x0, x1, Math.min(10, x1 - x0)).filter((t) => Number.isInteger(t));
  const grid = [
    ...yTicks.map((t) => `<line x1="${m.l}" x2="${W - m.r}" y1="${Yt(t)}" y2="${Yt(t)}" class="grid"/><text x="${m.l - 6}" y="${Yt(t) + 4}" text-anchor="end">${c.log ? `1e${t}` : fmt(t)}</text>`),
    ...xTicks.map((t) => `<text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`),
  ];
  const lines = c.series.map((s) => {
    const segments: string[] = [];
    let d = "";
    for (const [x, y] of s.points) {
      if (!usable(y)) {
        if (d) segments.push(d);
        d = "";
        continue;
      }
      d += `${d ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
    }
    if (d) segments.push(d);
    const dots = s.points.filter(([, y]) => usable(y)).map(([x, y]) => `<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    return `<g><title>${esc(s.name)}</title>${segments.map((p) => `<path d="${p}" stroke="${s.color}" fill="none" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`).join("")}${dots.join("")}</g>`;
  });
  const legend = c.series.map(
    (s, k) => `<g transform="translate(${W - m.r + 12},${m.t + 4 + k * 16})"><line x1="0" x2="18" y1="0" y2="0" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/><text x="24" y="4">${esc(s.name)}</text></g>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" class="chart">
${titleLines(title, 10, 18)}
${grid.join("\n")}
<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" class="axis"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="axis"/>
<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(c.xLabel)}</text>
<text transform="translate(14,${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>
${lines.join("\n")}
${legend.join("\n")}
</svg>`;
}

export interface HeatMap {
  title: string;
  rows: string[];
  columns: string[];
  /** values[row][column]; log10 is taken for the colour; non-finite or ≤ 0 shows as grey. */
  values: (number | undefined)[][];
  /** The least range of values the colours span (so a healthy run does not look alarming). */
  domain?: [number, number];
  /** What a column is, in each cell's tooltip ("epoch" unless given). */
  columnName?: string;
  /** The cells' size in pixels (default: 34 to 64 wide, to fit 640 pixels; 22 high). */
  cell?: { readonly w: number; readonly h: number };
  /** Label every k-th column only (narrow cells). Default 1. */
  columnLabelEvery?: number;
  /** The id of the colour bar's gradient, unique in a page that holds several maps. Default "heat-scale". */
  gradientId?: string;
}

/**
 * The heat map's colour at t ∈ [0, 1], the place of a value's log10 between the smallest and the largest: the
 * hue turns from blue (230°) through green (115°) to red (0°), lightest in the middle, so the middle of the
 * range (a healthy gradient) is light green and both ends are dark.
 */
export function heatColour(t: number): string {
  return `hsl(${Math.round(230 - 230 * t)}, 75%, ${Math.round(35 + 45 * (1 - Math.abs(2 * t - 1)))}%)`;
}

/** The colours the legend names, at their places on the scale (test/train.test.ts checks the hues). */
export const HEAT_LEGEND: readonly { readonly t: number; readonly name: string }[] = [
  { t: 0, name: "blue" },
  { t: 0.5, name: "green" },
  { t: 1, name: "red" },
];
export const NOT_FINITE_COLOUR = "#888";
const NO_VALUE_COLOUR = "#f4f4f4";

/** The legend's width: a 240 px colour bar and the grey swatch with its label. */
const LEGEND_BAR = 240;
const LEGEND_WIDTH = LEGEND_BAR + 16 + 14 + Math.ceil("NaN or ∞".length * LABEL_PX * LABEL_EM);

/**
 * A layer × epoch heat map, coloured by log10 of the value (`heatColour`), each cell labelled with its value when it
 * is wide enough. The title wraps to the map's width, which is at least the legend's; below it the legend shows
 * the whole scale with the values at its ends and middle, and the grey of a NaN or infinite value.
 */
export function heatMap(h: HeatMap): string {
  const cell = h.cell ?? { w: Math.max(34, Math.min(64, 640 / Math.max(1, h.columns.length))), h: 22 };
  const every = h.columnLabelEvery ?? 1;
  const columnName = h.columnName ?? "epoch";
  const textY = Math.round(cell.h / 2 + 4);
  const pad = 10;
  const left = Math.max(80, pad + Math.ceil(Math.max(0, ...h.rows.map((r) => r.length)) * LABEL_PX * LABEL_EM) + 6);
  const W = Math.max(left + cell.w * h.columns.length + pad, 2 * pad + LEGEND_WIDTH);
  const title = wrapText(h.title, W - 2 * pad, TITLE_PX * TITLE_EM);
  const legendTop = 18 + 16 * (title.length - 1) + 12;
  const top = legendTop + 68;
  const H = top + cell.h * h.rows.length + pad;
  const logs = h.values.flat().filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0).map(Math.log10);
  const [dLo, dHi] = h.domain ? h.domain.map(Math.log10) : [-1, 1];
  const lo = Math.min(...logs, dLo);
  const hi = Math.max(...logs, dHi);
  const place = (v: number) => (Math.log10(v) - lo) / (hi - lo || 1);
  const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  const colour = (v: number | undefined) => (v === undefined ? NO_VALUE_COLOUR : finite(v) ? heatColour(place(v)) : NOT_FINITE_COLOUR);
  // white labels on the dark ends of the scale (where heatColour's lightness is below 50%)
  const onDark = (v: number | undefined) => finite(v) && Math.abs(2 * place(v) - 1) > 2 / 3;
  const cells = h.values.flatMap((row, r) =>
    row.map((v, c) => {
      const x = left + c * cell.w;
      const y = top + r * cell.h;
      const label = v === undefined ? "" : fmt(v);
      return `<rect x="${x}" y="${y}" width="${cell.w - 1}" height="${cell.h - 1}" fill="${colour(v)}"><title>${esc(`${h.rows[r]}, ${columnName} ${h.columns[c]}: ${label}`)}</title></rect>${cell.w >= 44 ? `<text x="${x + cell.w / 2}" y="${y + 15}" text-anchor="middle" class="cell${onDark(v) ? " on-dark" : ""}">${label}</text>` : ""}`;
    }),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" class="chart">
${titleLines(title, pad, 18)}
${heatLegend(pad, legendTop, lo, hi, h.gradientId ?? "heat-scale")}
${h.columns.map((c, k) => (k % every === 0 ? `<text x="${left + k * cell.w + cell.w / 2}" y="${top - 6}" text-anchor="middle">${esc(c)}</text>` : "")).join("")}
${h.rows.map((r, k) => `<text x="${left - 6}" y="${top + k * cell.h + textY}" text-anchor="end">${esc(r)}</text>`).join("")}
${cells.join("\n")}
</svg>`;
}

/** The colour bar from `heatColour` itself (a stop every tenth), its named colours with their values, and the grey. */
function heatLegend(x: number, y: number, lo: number, hi: number, id: string): string {
  const stops = Array.from({ length: 11 }, (_, k) => `<stop offset="${k * 10}%" stop-color="${heatColour(k / 10)}"/>`).join("");
  const anchor = (t: number) => (t === 0 ? "start" : t === 1 ? "end" : "middle");
  const labels = HEAT_LEGEND.map(
    ({ t, name }) => `<text x="${x + t * LEGEND_BAR}" y="${y + 24}" text-anchor="${anchor(t)}" class="legend" data-t="${t}">${name} ${esc(fmt(10 ** (lo + t * (hi - lo))))}</text>`,
  ).join("");
  const grey = x + LEGEND_BAR + 16;
  return `<defs><linearGradient id="${id}">${stops}</linearGradient></defs>
<rect x="${x}" y="${y}" width="${LEGEND_BAR}" height="10" fill="url(#${id})"/>${labels}
<rect x="${grey}" y="${y}" width="10" height="10" fill="${NOT_FINITE_COLOUR}"/><text x="${grey + 14}" y="${y + 9}">NaN or ∞</text>
<text x="${x}" y="${y + 40}">${esc(`log scale: ${HEAT_LEGEND.map((c) => c.name).join(" → ")} from small to large`)}</text>`;
}
