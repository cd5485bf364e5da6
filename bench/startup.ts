/**
 * `npx tsx bench/startup.ts [--runs N]`: how long the installed command takes in a cold process, against a bare
 * `node -e 0`: `bpgen --version`, and compiling examples/xor_sigmoid.json and examples/mnist_mlp.json (ts and
 * js targets). Each case runs N times (default 7) as a fresh `node bin/bpgen.js …` (the compiled dist/, as a
 * user runs it); the table gives the median and the range. `measureStartup()` returns the numbers for the
 * main benchmark.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "bpgen.js");

export interface StartupCase {
  /** What was run, as a user would type it. */
  readonly label: string;
  /** The target the issue set, in milliseconds (a multiple of bare node for --version). */
  readonly target: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly met: boolean;
}

export interface StartupReport {
  readonly runs: number;
  readonly nodeMs: number;
  readonly cases: readonly StartupCase[];
}

interface Spec {
  label: string;
  args: (out: string) => string[];
  /** The limit, from the bare node time. */
  limit: (nodeMs: number) => number;
  target: string;
}

const SPECS: readonly Spec[] = [
  { label: "bpgen --version", args: () => ["--version"], limit: (n) => 3 * n, target: "≤ 3× node -e 0" },
  { label: "bpgen examples/xor_sigmoid.json", args: (out) => [join(ROOT, "examples", "xor_sigmoid.json"), "-o", out], limit: () => 500, target: "< 500 ms" },
  { label: "bpgen examples/xor_sigmoid.json --target js", args: (out) => [join(ROOT, "examples", "xor_sigmoid.json"), "--target", "js", "-o", out], limit: () => 500, target: "< 500 ms" },
  { label: "bpgen examples/mnist_mlp.json", args: (out) => [join(ROOT, "examples", "mnist_mlp.json"), "-o", out], limit: () => 1500, target: "< 1500 ms" },
  { label: "bpgen examples/mnist_mlp.json --target js", args: (out) => [join(ROOT, "examples", "mnist_mlp.json"), "--target", "js", "-o", out], limit: () => 1500, target: "< 1500 ms" },
];

/** Wall-clock milliseconds of one fresh process. */
function time(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

function summary(samples: number[]): { medianMs: number; minMs: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1] };
}

export function measureStartup(runs = 7): StartupReport {
  const out = mkdtempSync(join(tmpdir(), "bpgen-startup-"));
  try {
    // one unmeasured run of each warms the file-system cache, as on any machine that has run bpgen before
    time(["-e", "0"]);
    for (const spec of SPECS) time([BIN, ...spec.args(out)]);
    const samples = SPECS.map(() => [] as number[]);
    const node: number[] = [];
    // interleaved, so a burst of load on the machine does not fall on one case only
    for (let i = 0; i < runs; i++) {
      node.push(time(["-e", "0"]));
      SPECS.forEach((spec, k) => samples[k].push(time([BIN, ...spec.args(out)])));
    }
    const nodeMs = summary(node).medianMs;
    const cases = SPECS.map((spec, k): StartupCase => {
      const s = summary(samples[k]);
      return { label: spec.label, target: spec.target, ...s, met: s.medianMs <= spec.limit(nodeMs) };
    });
    return { runs, nodeMs, cases };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function startupMarkdown(report: StartupReport): string {
  const ms = (v: number) => `${Math.round(v)} ms`;
  const rows = [
    "| command (cold process) | median | range | × node -e 0 | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
    `| node -e 0 | ${ms(report.nodeMs)} | | 1.0× | | |`,
    ...report.cases.map((c) => `| ${c.label} | ${ms(c.medianMs)} | ${ms(c.minMs)}–${ms(c.maxMs)} | ${(c.medianMs / report.nodeMs).toFixed(1)}× | ${c.target} | ${c.met ? "yes" : "no"} |`),
  ];
  return `${rows.join("\n")}\n\n${report.runs} runs of each, interleaved; median and range.\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--runs");
  const runs = at > 0 ? Number(process.argv[at + 1]) : 7;
  process.stdout.write(startupMarkdown(measureStartup(runs)));
}
