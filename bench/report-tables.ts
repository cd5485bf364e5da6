/** Number formats and the markdown tables of the report. */
import { PEER_ORDER, isPeerId, peerLabel, type PeerId } from "./peers/types.ts";
import type { MemoryReport } from "./probes.ts";
import { callFlops, cellsOf, gflopsOf, speedup, type NetResult, type ScalingRow } from "./report-types.ts";
import type { Mode } from "./timing.ts";

// ---- number formats ----------------------------------------------------------------------------------

export function us(x: number): string {
  if (x < 1) return x.toFixed(3);
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return Math.round(x).toLocaleString("en-US");
}

function rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M`;
  if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} k`;
  return x.toPrecision(3);
}

export function gflops(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 0.01 ? x.toFixed(2) : x.toPrecision(2);
}

export function ratio(x: number): string {
  if (!Number.isFinite(x)) return "–";
  return x >= 100 ? `${Math.round(x)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

export function percent(x: number): string {
  return x >= 0.1 ? `${Math.round(x * 100)}%` : `${(x * 100).toFixed(1)}%`;
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const int = (x: number): string => x.toLocaleString("en-US");

// ---- timing tables -----------------------------------------------------------------------------------

/** The peers with a cell in this mode for any of the nets, in table order. */
export function peersIn(nets: readonly NetResult[], mode: Mode): PeerId[] {
  return PEER_ORDER.filter((p) => nets.some((r) => cellsOf(r, mode).has(p)));
}

function fastestOf(r: NetResult, mode: Mode, variants: boolean): string {
  let best: PeerId = "bpgen";
  for (const [p, c] of cellsOf(r, mode)) if (c.median < (cellsOf(r, mode).get(best)?.median ?? Infinity)) best = p;
  return peerLabel(best, variants);
}

/** One row per net: bpgen's time, then every other peer's time / bpgen's. */
export function summaryTable(nets: readonly NetResult[], mode: Mode, variants: boolean): string {
  const unit = mode === "train" ? "step" : "pass";
  const others = peersIn(nets, mode).filter((p) => p !== "bpgen");
  const lines = [
    `| net | batch | ${peerLabel("bpgen", variants)} µs/${unit} | ${others.map((p) => `${peerLabel(p, variants)} / ${peerLabel("bpgen", variants)}`).join(" | ")} | fastest |`,
    `| --- | ---: | ---: | ${others.map(() => "---:").join(" | ")} | --- |`,
  ];
  for (const r of nets) {
    const base = cellsOf(r, mode).get("bpgen");
    if (!base) continue;
    lines.push(`| ${r.net.id} | ${r.net.batch} | ${us(base.median)} | ${others.map((p) => ratio(speedup(r, mode, p))).join(" | ")} | ${fastestOf(r, mode, variants)} |`);
  }
  return lines.join("\n");
}

/** One row per net and peer: median and range, throughput, GFLOP/s (and % of the ceiling), ratio, sample counts. */
export function detailTable(nets: readonly NetResult[], mode: Mode, variants: boolean, ceiling: number | null): string {
  const unit = mode === "train" ? "step" : "pass";
  const lines = [
    `| net | batch | peer | median µs/${unit} | min–max µs | samples/s | GFLOP/s |${ceiling ? " % of SIMD128 ceiling |" : ""} time / bpgen | samples × calls |`,
    `| --- | ---: | --- | ---: | ---: | ---: | ---: |${ceiling ? " ---: |" : ""} ---: | ---: |`,
  ];
  for (const r of nets) {
    const cells = cellsOf(r, mode);
    for (const p of PEER_ORDER) {
      const c = cells.get(p);
      if (!c) continue;
      const perSecond = (r.net.batch * 1e6) / c.median;
      const differs = Math.abs(c.ratioOfMedians / c.ratio - 1) > 0.05;
      const g = gflopsOf(r, mode, c);
      lines.push(
        `| ${r.net.id} | ${r.net.batch} | ${peerLabel(p, variants)} | ${us(c.median)} | ${us(c.min)}–${us(c.max)} | ${rate(perSecond)} | ${gflops(g)} |${ceiling ? ` ${percent(g / ceiling)} |` : ""} ${ratio(c.ratio)}${differs ? ` (${ratio(c.ratioOfMedians)})` : ""} | ${c.samples} × ${int(c.reps)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The large products: GFLOP/s and share of the SIMD128 ceiling of every peer, one row per product and mode. */
export function productTable(products: readonly NetResult[], variants: boolean, ceiling: number): string {
  const peers = PEER_ORDER.filter((p) => products.some((r) => r.forward.has(p) || r.train.has(p)));
  const lines = [
    `| product | batch | timed | FLOP / call | ${peers.map((p) => peerLabel(p, variants)).join(" | ")} |`,
    `| --- | ---: | --- | ---: | ${peers.map(() => "---:").join(" | ")} |`,
  ];
  for (const r of products) {
    for (const mode of ["forward", "train"] as const) {
      const cells = cellsOf(r, mode);
      const row = peers.map((p) => {
        const c = cells.get(p);
        if (!c) return "–";
        const g = gflopsOf(r, mode, c);
        return `${gflops(g)} (${percent(g / ceiling)})`;
      });
      const what = mode === "forward" ? "forward (X·Wᵀ)" : "training step (X·Wᵀ, dZᵀ·X)";
      lines.push(`| ${r.net.id} | ${r.net.batch} | ${what} | ${(callFlops(r, mode) / 1e6).toFixed(1)} M | ${row.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

// ---- other tables --------------------------------------------------------------------------------------

function worstDiff(values: Partial<Record<PeerId, number>>, relativeTo: number | null): string {
  const diffs = PEER_ORDER.filter((p) => p !== "bpgen" && values[p] !== undefined).map((p) => {
    const v = values[p] ?? NaN;
    return relativeTo === null ? v : Math.abs(v - relativeTo) / Math.abs(relativeTo);
  });
  return diffs.length ? Math.max(...diffs).toExponential(1) : "–";
}

export function netTable(nets: readonly NetResult[]): string {
  const lines = [
    "| net | source | shape | batch | FLOP/sample (fwd / train) | step-0 loss (bpgen) | max rel. loss diff of the peers | max rel. output diff of the peers | compile ms | module bytes | ops fwd+bwd / fwd |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of nets) {
    const base = r.losses.bpgen ?? NaN;
    lines.push(
      `| ${r.net.id} | ${r.net.source} | ${r.net.shape} | ${r.net.batch} | ${int(r.forwardFlops)} / ${int(r.trainFlops)} | ${base.toPrecision(7)} | ${worstDiff(r.losses, base)} | ${worstDiff(r.outputDiffs, null)} | ${Math.round(r.compileMillis)} | ${int(r.bytes)} | ${(r.gradientOps / r.forwardOps).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

export function scalingTable(rows: readonly ScalingRow[]): string {
  const lines = [
    "| layers × width | parameters | compile ms, cold | compile ms, warm | module bytes | lines | DAG nodes | bytes / layer | ops fwd+bwd / fwd |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.depth} × ${r.width} | ${int(r.params)} | ${Math.round(r.coldMillis)} | ${Math.round(r.millis)} | ${int(r.bytes)} | ${int(r.lines)} | ${r.nodes} | ${int(Math.round(r.bytes / r.depth))} | ${r.opRatio.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

export function memoryTable(rows: readonly MemoryReport[], variants: boolean): string {
  const label = (peer: string): string => (peer === "none" ? "bare process (loader only)" : isPeerId(peer) ? peerLabel(peer, variants) : peer);
  const base = rows.find((r) => r.peer === "none");
  const lines = [
    "| peer | steps (warm-up + measured) | peak RSS while training MB | RSS MB | heapUsed MB | arrayBuffers MB | heapUsed + arrayBuffers MB | external MB (incl. wasm heap) | heapUsed + external MB | peak heapUsed + external MB | RSS − bare MB | heapUsed + external − bare MB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const he = r.heapUsed + r.external;
    lines.push(
      `| ${label(r.peer)} | ${r.warmupSteps} + ${r.measuredSteps} | ${r.peer === "none" ? "–" : mb(r.peakRss)} | ${mb(r.rss)} | ${mb(r.heapUsed)} | ${mb(r.arrayBuffers)} | ${mb(r.heapUsed + r.arrayBuffers)} | ${mb(r.external)} | ${mb(he)} | ${mb(r.peakHeapUsed + r.peakExternal)} | ${base ? mb(r.rss - base.rss) : "–"} | ${base ? mb(he - base.heapUsed - base.external) : "–"} |`,
    );
  }
  return lines.join("\n");
}
