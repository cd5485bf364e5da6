/**
 * The performance targets, each checked against this run's paired ratios (peer time / bpgen time, so a target
 * "≥ 1.5× jax-js" asks that jax-js take 1.5 times as long as bpgen). A miss says how far it falls short: the
 * factor by which bpgen would have to get faster to meet it.
 */
import { peerLabel, type PeerId } from "./peers/types.ts";
import { percent, ratio } from "./report-tables.ts";
import { gflopsOf, speedup, type NetResult, type Report } from "./report-types.ts";
import type { Mode } from "./timing.ts";

export interface Target {
  readonly text: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface Value {
  readonly label: string;
  readonly value: number;
}

/** A ratio, with three decimals when it is within 1% of 1 (so a narrow miss does not read "1.00×"). */
function fine(x: number): string {
  return Math.abs(x - 1) < 0.01 ? `${x.toFixed(3)}×` : ratio(x);
}

/** " ✗ MISS by 2.3×" for a value that falls short of `min`: min / value, how much faster bpgen must get. */
function shortfall(value: number, min: number): string {
  return Number.isFinite(value) && value > 0 ? ` ✗ MISS by ${fine(min / value)}` : " ✗ MISS (not measured)";
}

function atLeast(text: string, values: readonly Value[], min: number, show: (v: number) => string = fine): Target | null {
  if (values.length === 0) return null;
  const ok = values.every((v) => v.value >= min);
  const detail = values.map((v) => `${v.label} ${show(v.value)}${v.value >= min ? "" : shortfall(v.value, min)}`).join(", ");
  return { text, ok, detail };
}

const SMALL = ["chain3", "softmax_10_20_2", "xor_sigmoid"];
const LARGE = ["mnist_mlp", "wide", "deep_narrow"];
const MODE_TEXT: Record<Mode, string> = { train: "training step", forward: "forward pass" };

/** The targets of the benchmark brief, first; then the standing targets of earlier reports. */
export function targets(report: Report): { main: Target[]; other: Target[] } {
  const byId = new Map(report.nets.map((r) => [r.net.id, r]));
  const pick = (ids: readonly string[]): NetResult[] => ids.map((id) => byId.get(id)).filter((r): r is NetResult => r !== undefined);
  const versus = (peer: PeerId, ids: readonly string[], mode: Mode): Value[] =>
    pick(ids)
      .filter((r) => r.train.has(peer) || r.forward.has(peer))
      .map((r) => ({ label: r.net.id, value: speedup(r, mode, peer) }));
  const main: (Target | null)[] = [
    atLeast("training step ≥ 1.5× jax-js on mnist_mlp (b=64), wide (b=32), deep_narrow (b=16)", versus("jax", LARGE, "train"), 1.5),
    atLeast("forward pass ≥ 1.0× TF.js wasm on mnist_mlp and wide", versus("tf-wasm", ["mnist_mlp", "wide"], "forward"), 1),
    atLeast("forward pass ≥ 1.0× onnxruntime-web on mnist_mlp and wide", versus("ort", ["mnist_mlp", "wide"], "forward"), 1),
  ];
  for (const mode of ["train", "forward"] as const) {
    for (const peer of ["tf-cpu", "tf-wasm"] as const) {
      main.push(atLeast(`small networks ≥ 100× ${peer === "tf-cpu" ? "TF.js cpu" : "TF.js wasm"} (${MODE_TEXT[mode]})`, versus(peer, SMALL, mode), 100));
    }
    main.push(atLeast(`small networks ≥ 1.0× the hand-written baseline (${MODE_TEXT[mode]})`, versus("hand", SMALL, mode), 1));
  }
  const ceiling = report.machine.ceiling;
  const products: Value[] = [];
  const variants = report.peers.bpgenVariants;
  for (const r of report.products) {
    for (const mode of ["forward", "train"] as const) {
      for (const id of ["bpgen", "bpgen-js", "bpgen-wasm"] as const) {
        const c = (mode === "train" ? r.train : r.forward).get(id);
        const who = variants ? `${peerLabel(id, true)} ` : "";
        if (c) products.push({ label: `${who}${r.net.id} ${MODE_TEXT[mode]}`, value: gflopsOf(r, mode, c) / ceiling });
      }
    }
  }
  main.push(atLeast(`large products (bpgen) ≥ 60% of the SIMD128 ceiling (${ceiling.toFixed(1)} GFLOP/s)`, products, 0.6, percent));

  const other: (Target | null)[] = [
    atLeast("bpgen ≥ 1.0× the hand-written baseline on every net (training step)", versus("hand", [...byId.keys()], "train"), 1),
    atLeast("bpgen ≥ 1.0× TF.js wasm on mnist_mlp, deep_narrow, wide (training step)", versus("tf-wasm", ["mnist_mlp", "deep_narrow", "wide"], "train"), 1),
  ];
  if (report.scaling) {
    const ten = report.scaling.find((r) => r.depth === 10 && r.width === 256);
    if (ten)
      other.push({
        text: "compile time < 2 s for the 10-layer MLP (width 256)",
        ok: ten.coldMillis < 2000,
        detail: `${Math.round(ten.coldMillis)} ms cold (first compile() in a fresh process; loading the compiler before it takes ${Math.round(ten.loadMillis)} ms), ${Math.round(ten.millis)} ms warm`,
      });
    const widths = report.scaling.filter((r) => r.depth === 5);
    const depths = report.scaling.filter((r) => r.width === 256).sort((a, b) => a.depth - b.depth);
    if (widths.length >= 2 && depths.length >= 2) {
      const lo = Math.min(...widths.map((r) => r.bytes));
      const hi = Math.max(...widths.map((r) => r.bytes));
      const first = depths[0];
      const last = depths[depths.length - 1];
      const perLayer = (last.bytes - first.bytes) / (last.depth - first.depth);
      const paramGrowth = Math.max(...widths.map((r) => r.params)) / Math.min(...widths.map((r) => r.params));
      other.push({
        text: "generated size grows with the number of layers, not parameters",
        ok: hi / lo <= 1.1 && perLayer > 0,
        detail: `5 layers at widths ${widths.map((r) => r.width).join("/")}: ${widths.map((r) => r.bytes.toLocaleString("en-US")).join(" / ")} bytes (${paramGrowth.toFixed(0)}× the parameters, ${((hi / lo - 1) * 100).toFixed(1)}% more bytes); ≈ ${Math.round(perLayer).toLocaleString("en-US")} bytes per added layer at width 256`,
      });
    }
  }
  if (report.nets.length > 0) {
    const values = report.nets.map((r) => ({ id: r.net.id, v: r.gradientOps / r.forwardOps }));
    other.push({
      text: "forward+backward / forward operations ≤ 3 (compile() stats, per sample)",
      ok: values.every((x) => x.v <= 3),
      detail: values.map((x) => `${x.id} ${x.v.toFixed(2)}${x.v <= 3 ? "" : " ✗"}`).join(", "),
    });
  }
  return { main: main.filter((t): t is Target => t !== null), other: other.filter((t): t is Target => t !== null) };
}

export function targetLines(list: readonly Target[]): string {
  return list.map((t) => `- **${t.ok ? "PASS" : "MISS"}** ${t.text}: ${t.detail}`).join("\n");
}
