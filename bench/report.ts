/** The benchmark's results as markdown: the tables printed by `npm run bench` and kept in BENCHMARKS.md. */
import type { MemoryReport } from "./probes.ts";
import type { RefNet } from "./nets.ts";
import { PEER_LABEL, type PeerId } from "./peers/types.ts";
import type { CellStats, Mode } from "./timing.ts";

export const PEERS: readonly PeerId[] = ["bpgen", "hand", "tf-cpu", "tf-wasm"];

export interface Machine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly os: string;
  readonly node: string;
  readonly tfjs: string;
  readonly wasmVariant: string;
  readonly loadAverage: string;
}

export interface NetResult {
  readonly net: RefNet;
  readonly compileMillis: number;
  readonly bytes: number;
  readonly forwardFlops: number;
  readonly trainFlops: number;
  /** Step-0 loss of every peer (all within 1e-4 of bpgen's, checked before timing). */
  readonly losses: Readonly<Record<PeerId, number>>;
  readonly forwardOps: number;
  readonly gradientOps: number;
  readonly train: ReadonlyMap<PeerId, CellStats>;
  readonly forward: ReadonlyMap<PeerId, CellStats>;
}

export interface ScalingRow {
  readonly depth: number;
  readonly width: number;
  readonly params: number;
  /** compile() wall time, median of `runs` in a warm process. */
  readonly millis: number;
  readonly runs: number;
  /** The first compile() in a fresh process, and loading the compiler's modules before it. */
  readonly coldMillis: number;
  readonly loadMillis: number;
  readonly bytes: number;
  readonly lines: number;
  readonly nodes: number;
  readonly opRatio: number;
}

export interface Options {
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly timing: string;
}

export interface Report {
  readonly machine: Machine;
  readonly options: Options;
  readonly nets: readonly NetResult[];
  readonly scaling: readonly ScalingRow[] | null;
  readonly memory: readonly MemoryReport[] | null;
  readonly totalSeconds: number;
}

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

function gflops(x: number): string {
  return x >= 10 ? x.toFixed(1) : x >= 0.01 ? x.toFixed(2) : x.toPrecision(2);
}

export function ratio(x: number): string {
  return x >= 100 ? `${Math.round(x)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

// ---- tables ------------------------------------------------------------------------------------------

function cellsOf(r: NetResult, mode: Mode): ReadonlyMap<PeerId, CellStats> {
  return mode === "train" ? r.train : r.forward;
}

/** Peer time / bpgen time (> 1: bpgen is faster), paired by round. */
export function speedup(r: NetResult, mode: Mode, peer: PeerId): number {
  return cellsOf(r, mode).get(peer)?.ratio ?? NaN;
}

function summaryTable(nets: readonly NetResult[], mode: Mode): string {
  const unit = mode === "train" ? "step" : "pass";
  const lines = [
    `| net | batch | bpgen µs/${unit} | hand-written / bpgen | TF.js cpu / bpgen | TF.js wasm / bpgen | fastest |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of nets) {
    const cells = cellsOf(r, mode);
    const base = cells.get("bpgen");
    if (!base) continue;
    let fastest: PeerId = "bpgen";
    for (const p of PEERS) {
      const c = cells.get(p);
      const f = cells.get(fastest);
      if (c && f && c.median < f.median) fastest = p;
    }
    lines.push(
      `| ${r.net.id} | ${r.net.batch} | ${us(base.median)} | ${ratio(speedup(r, mode, "hand"))} | ${ratio(speedup(r, mode, "tf-cpu"))} | ${ratio(speedup(r, mode, "tf-wasm"))} | ${PEER_LABEL[fastest]} |`,
    );
  }
  return lines.join("\n");
}

function detailTable(nets: readonly NetResult[], mode: Mode): string {
  const unit = mode === "train" ? "step" : "pass";
  const lines = [
    `| net | batch | peer | median µs/${unit} | min–max µs | samples/s | GFLOP/s | time / bpgen | samples × calls |`,
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of nets) {
    const cells = cellsOf(r, mode);
    const flops = (mode === "train" ? r.trainFlops : r.forwardFlops) * r.net.batch;
    for (const p of PEERS) {
      const c = cells.get(p);
      if (!c) continue;
      const perSecond = (r.net.batch * 1e6) / c.median;
      const differs = Math.abs(c.ratioOfMedians / c.ratio - 1) > 0.05;
      lines.push(
        `| ${r.net.id} | ${r.net.batch} | ${PEER_LABEL[p]} | ${us(c.median)} | ${us(c.min)}–${us(c.max)} | ${rate(perSecond)} | ${gflops(flops / (c.median * 1e3))} | ${ratio(c.ratio)}${differs ? ` (${ratio(c.ratioOfMedians)})` : ""} | ${c.samples} × ${c.reps.toLocaleString("en-US")} |`,
      );
    }
  }
  return lines.join("\n");
}

function netTable(nets: readonly NetResult[]): string {
  const lines = [
    "| net | source | shape | batch | FLOP/sample (fwd) | step-0 loss (bpgen) | max rel. loss diff of the peers | compile ms | module bytes | ops fwd+bwd / fwd |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of nets) {
    const base = r.losses.bpgen;
    const worst = Math.max(...PEERS.map((p) => Math.abs(r.losses[p] - base) / Math.abs(base)));
    lines.push(
      `| ${r.net.id} | ${r.net.source} | ${r.net.shape} | ${r.net.batch} | ${r.forwardFlops.toLocaleString("en-US")} | ${base.toPrecision(7)} | ${worst.toExponential(1)} | ${Math.round(r.compileMillis)} | ${r.bytes.toLocaleString("en-US")} | ${(r.gradientOps / r.forwardOps).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

function scalingTable(rows: readonly ScalingRow[]): string {
  const lines = [
    "| layers × width | parameters | compile ms, cold | compile ms, warm | module bytes | lines | DAG nodes | bytes / layer | ops fwd+bwd / fwd |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.depth} × ${r.width} | ${r.params.toLocaleString("en-US")} | ${Math.round(r.coldMillis)} | ${Math.round(r.millis)} | ${r.bytes.toLocaleString("en-US")} | ${r.lines.toLocaleString("en-US")} | ${r.nodes} | ${Math.round(r.bytes / r.depth).toLocaleString("en-US")} | ${r.opRatio.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

const MEMORY_LABEL: Record<string, string> = { none: "bare process (loader only)", ...PEER_LABEL };

function memoryTable(rows: readonly MemoryReport[]): string {
  const base = rows.find((r) => r.peer === "none");
  const lines = [
    "| peer | steps (warm-up + measured) | peak RSS while training MB | RSS MB | heapUsed MB | arrayBuffers MB | heapUsed + arrayBuffers MB | external MB (incl. wasm heap) | heapUsed + external MB | peak heapUsed + external MB | RSS − bare MB | heapUsed + external − bare MB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const he = r.heapUsed + r.external;
    lines.push(
      `| ${MEMORY_LABEL[r.peer] ?? r.peer} | ${r.warmupSteps} + ${r.measuredSteps} | ${r.peer === "none" ? "–" : mb(r.peakRss)} | ${mb(r.rss)} | ${mb(r.heapUsed)} | ${mb(r.arrayBuffers)} | ${mb(r.heapUsed + r.arrayBuffers)} | ${mb(r.external)} | ${mb(he)} | ${mb(r.peakHeapUsed + r.peakExternal)} | ${base ? mb(r.rss - base.rss) : "–"} | ${base ? mb(he - base.heapUsed - base.external) : "–"} |`,
    );
  }
  return lines.join("\n");
}

// ---- targets -----------------------------------------------------------------------------------------

interface Target {
  readonly text: string;
  readonly ok: boolean;
  readonly detail: string;
}

function targets(report: Report): Target[] {
  const out: Target[] = [];
  const nets = report.nets;
  const byId = new Map(nets.map((r) => [r.net.id, r]));
  const vsPeer = (peer: PeerId, ids: readonly string[] | null, min: number, text: string) => {
    const chosen = ids ? ids.map((id) => byId.get(id)).filter((r): r is NetResult => r !== undefined) : [...nets];
    if (chosen.length === 0) return;
    const values = chosen.map((r) => ({ id: r.net.id, train: speedup(r, "train", peer), fwd: speedup(r, "forward", peer) }));
    out.push({
      text,
      ok: values.every((v) => v.train >= min),
      detail: values.map((v) => `${v.id} ${ratio(v.train)}${v.train >= min ? "" : " ✗"} (forward ${ratio(v.fwd)})`).join(", "),
    });
  };
  vsPeer("hand", null, 1, "bpgen ≥ 1.0× the hand-written baseline on every net (training step)");
  vsPeer("tf-cpu", ["chain3", "softmax_10_20_2", "xor_sigmoid"], 100, "bpgen ≥ 100× TF.js cpu on chain3, softmax_10_20_2, xor_sigmoid (training step)");
  vsPeer("tf-wasm", ["mnist_mlp", "deep_narrow", "wide"], 1, "bpgen ≥ 1.0× TF.js wasm on mnist_mlp, deep_narrow, wide (training step)");
  if (report.scaling) {
    const ten = report.scaling.find((r) => r.depth === 10 && r.width === 256);
    if (ten)
      out.push({
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
      out.push({
        text: "generated size grows with the number of layers, not parameters",
        ok: hi / lo <= 1.1 && perLayer > 0,
        detail: `5 layers at widths ${widths.map((r) => r.width).join("/")}: ${widths.map((r) => r.bytes.toLocaleString("en-US")).join(" / ")} bytes (${paramGrowth.toFixed(0)}× the parameters, ${((hi / lo - 1) * 100).toFixed(1)}% more bytes); ≈ ${Math.round(perLayer).toLocaleString("en-US")} bytes per added layer at width 256`,
      });
    }
  }
  if (nets.length > 0) {
    const values = nets.map((r) => ({ id: r.net.id, v: r.gradientOps / r.forwardOps }));
    out.push({
      text: "forward+backward / forward operations ≤ 3 (compile() stats, per sample)",
      ok: values.every((x) => x.v <= 3),
      detail: values.map((x) => `${x.id} ${x.v.toFixed(2)}${x.v <= 3 ? "" : " ✗"}`).join(", "),
    });
  }
  return out;
}

// ---- the document ------------------------------------------------------------------------------------

const HANDWRITTEN = `The baseline (\`bench/peers/handwritten.ts\`) is what an expert writes by hand for these networks in plain
TypeScript over \`Float32Array\`, in bpgen's parameter layout (W_l [out, in] row-major, then b_l; J = mean over the
batch + λ/2 Σ‖W‖²), so its gradient is compared with bpgen's element by element (\`test/bench-handwritten.test.ts\`:
f64 build equal to bpgen's f64 module to 1e-10 and to central finite differences, f32 build within 1e-4, for every
reference net).
- Layer at a time over the whole batch; every buffer (activations and deltas per layer, the gradient) is allocated
  once in the constructor; calls allocate nothing.
- The three products of a dense layer are register-tiled loops with no calls, closures or per-element dispatch:
  forward Z = A·Wᵀ + b on 4 samples × 2 weight rows (8 independent accumulators, both operands read along
  contiguous rows, the bias loaded into the accumulators); backward dA = dZ·W on 2 samples × 4 columns (8
  accumulators walking down W's rows); weight gradient dW = dZᵀ·A in i-k-j order, 2 rows of dW × 4 samples per
  pass, streaming rows of A and dW. Edges that do not fill a tile use 4 independent accumulators. These shapes were
  chosen by timing alternatives (a plain dot product with 4 accumulators was 2.3× slower on mnist's first layer;
  axpy without tiling 3–4× slower; 2×2 and 4×4 tiles within 10–40%).
- Activation (one loop per kind, picked once per layer), its derivative from the stored activation
  (σ' = a(1−a), tanh' = 1−a², relu' = [a > 0]), the loss and the output delta are fused passes; the output delta
  is scaled by 1/batch once, so no gradient is rescaled afterwards; λW initialises the dW rows (the l2 term costs
  one pass). Softmax-CE and sigmoid-BCE are computed from the logits (log-sum-exp, softplus).
- The SGD step is the full gradient, then p −= lr·g in one pass (like bpgen's sgdStep).
- chain3 is a single loop over the samples with the derivation written out.`;

export function markdown(report: Report): string {
  const m = report.machine;
  const partial = report.options.quick || report.options.only.length > 0;
  const parts: string[] = [];
  parts.push(`# Benchmarks

Generated by \`npm run bench\`${partial ? ` (partial run: ${report.options.quick ? "--quick " : ""}${report.options.only.length ? `--only ${report.options.only.join(",")}` : ""})` : ""} on ${m.date}; do not edit by hand.

- Machine: ${m.cpu}, ${m.cores} logical cores, ${m.memory}, ${m.os}; load average at start ${m.loadAverage}
- Node ${m.node}; TensorFlow.js ${m.tfjs}; WASM backend: ${m.wasmVariant}
- Timing: ${report.options.timing}. Total run ${report.totalSeconds.toFixed(0)} s.

All four peers compute the same step-0 loss on the same parameters (bpgen's \`initParams(1)\` plus seeded ±0.01
noise) and the same seeded batch: checked to 1e-4 relative before timing (the run fails otherwise).
Ratios are *peer time / bpgen time*: above 1 means bpgen is faster. Each is the median, over the rounds, of the
peer's sample divided by bpgen's sample in the same round, so a change of load on the machine that lasts longer than
a round (tens of ms) cancels out; the ratio of the two medians is given in brackets where it differs by more than 5%.`);
  parts.push(`## Training step (forward, loss, full gradient, SGD update)\n\n${summaryTable(report.nets, "train")}\n\n${detailTable(report.nets, "train")}`);
  parts.push(`## Forward pass\n\n${summaryTable(report.nets, "forward")}\n\n${detailTable(report.nets, "forward")}`);
  parts.push(`## Reference networks\n\n${netTable(report.nets)}\n\nFLOPs count 2·in·out per sample per dense layer for a forward pass and 3× that for a training step (forward, backward to each layer's input, weight gradients); activations, losses and the update are not counted. "ops fwd+bwd / fwd" is \`stats.gradientOps.perSample / stats.lossOps.perSample\` from \`compile()\`: the whole gradient against the forward pass to the loss (the cheap-gradient principle).`);
  const t = targets(report);
  parts.push(`## Targets\n\n${t.map((x) => `- ${x.ok ? "✓" : "✗"} ${x.text}: ${x.detail}`).join("\n")}`);
  if (report.scaling) {
    const loads = report.scaling.map((r) => r.loadMillis);
    parts.push(
      `## Compiler scaling\n\nMLPs of relu layers (the last linear, softmax-CE) on an input of the same width, compiled with \`compile()\` (f32). *Cold*: the first compile() in a fresh process (what \`bpgen --stats\` reports; loading the compiler's modules before it took ${Math.round(Math.min(...loads))}–${Math.round(Math.max(...loads))} ms). *Warm*: median of ${report.scaling[0]?.runs ?? 0} compiles in the benchmark process after the reference nets.\n\n${scalingTable(report.scaling)}`,
    );
  }
  if (report.memory) {
    parts.push(`## Memory: mnist_mlp training at batch 64

Each peer in a child process of its own (\`node --expose-gc --import tsx bench/memory-child.ts\`), loading only that peer
(the bpgen child imports the generated .mjs, not the compiler). After a warm-up of training steps (≥ 50 and ≥ 2 s),
${report.memory.find((r) => r.peer !== "none")?.measuredSteps ?? 0} more steps are taken with \`process.memoryUsage()\` sampled after each; then a full GC and the figures below.
*peak RSS while training* is the largest RSS sampled after any step (not the process-lifetime getrusage maximum: that
is ${mb(report.memory.find((r) => r.peer === "none")?.maxRss ?? 0)} MB already for the bare process, set by the TypeScript loader's start-up). *external*
includes arrayBuffers and the WASM heap (WebAssembly memory is not counted in arrayBuffers), so *heapUsed + external* is
what a peer holds in JS and native buffers. The last two columns subtract the bare process (same loader, nothing loaded).

${memoryTable(report.memory)}

The allocation side (no per-call allocation in \`forward\`, \`gradient\`, \`loss\`, \`sgdStep\`) is tested in
\`test/generated.test.ts\`: garbage collections counted under --trace-gc with a 1 MiB young generation over 300 000 calls
each (xor_sigmoid, softmax_10_20_2), 100 000 (deep_l2) and 300 (mnist_mlp).`);
  }
  parts.push(`## How the peers are run

- **bpgen (f32)**: each network is compiled at benchmark start with \`compile()\` from \`src/pipeline.ts\` (so the
  working tree's compiler is measured), transpiled to an ES module, written to a temporary \`.mjs\` and loaded with a
  real \`import()\`; a training step is \`sgdStep(p, x, y, lr, batch)\`, a forward pass \`forward(p, x, out, batch)\`.
- **hand-written**: see below.
- **TF.js cpu / wasm**: TensorFlow.js ${m.tfjs} in the same process (\`@tensorflow/tfjs\` and
  \`@tensorflow/tfjs-backend-wasm\`, \`setWasmPaths\` to the package's \`dist/\`); the peer's backend is made current
  before each of its samples (untimed), so tensors never move between backends. Variables hold the kernels
  ([in, out], as tf.layers.dense does) and biases; each layer is \`tf.fused.matMul({a, b, bias, activation})\`; the
  loss is \`tf.losses.softmaxCrossEntropy\` / \`sigmoidCrossEntropy\` / \`meanSquaredError\` scaled to bpgen's per-sample
  sums, plus λ/2 Σ‖W‖²; a step is \`tf.train.sgd(lr).minimize(f, false, vars)\` inside \`tf.tidy\` (J is not read back),
  a forward pass reads its output with \`dataSync()\`. Under Node, tfjs-backend-wasm 4.22 never enables threads.
  Its BatchMatMul uses XNNPACK only when neither operand is transposed; the matMul gradients (dA = dZ·Wᵀ,
  dW = Aᵀ·dZ) are transposed products and run in its plain blocked C++ loop, which is why the wasm backend is far
  faster at forward passes than at training steps.
- **Timing**: per network and mode, each peer is warmed up, then the number of calls per sample is calibrated so a
  sample lasts about the target time; samples are then taken in rounds, one per peer per round, with the starting
  peer rotating, and a minor GC (untimed) before each sample. Slow cells stop after their time budget (at least the
  minimum number of samples); the "samples × calls" column gives each cell's count. Training uses lr = 1e-3 so the
  parameters barely move.

## The hand-written baseline

${HANDWRITTEN}`);
  return parts.join("\n\n") + "\n";
}
