/**
 * The training report renders in a real browser: headless Chromium (Debian's `chromium`) loads the HTML
 * written by `bpgen train`, its DOM holds the charts, and a screenshot (kept in test/artifacts/) shows
 * coloured curves on the page, not a blank or broken one. Fails, never skips, when Chromium is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, inject, it } from "vitest";
import { CHROMIUM_MISSING } from "./helpers/chromium.ts";
import { ROOT } from "./helpers/cli.ts";
import { bpgenInProcess } from "./helpers/in-process.ts";
import { RUN_INFO, syntheticRun } from "./helpers/synthetic-run.ts";
import { reportHtml } from "../src/train/report.ts";

const ARTIFACTS = join(ROOT, "test", "artifacts");
const SIZE = [1200, 1600] as const;

/** The binary the global setup (test/setup/chromium.ts) found or installed. */
function chromium(): string {
  const { binary, problem } = inject("chromium");
  if (!binary) throw new Error(problem ?? CHROMIUM_MISSING);
  return binary;
}

function browse(args: string[], url: string): string {
  const profile = mkdtempSync(join(tmpdir(), "bpgen-chromium-"));
  const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`];
  const r = spawnSync(chromium(), [...flags, ...args, url], { encoding: "utf8", timeout: 60_000 });
  rmSync(profile, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`chromium failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** Decodes an 8-bit RGB or RGBA PNG (what Chromium writes) into RGBA pixels. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString("latin1");
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8);
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels, "RGB or RGBA").toBeGreaterThan(0);
    } else if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const line = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      line[i] = (x + [0, a, b, (a + b) >> 1, paeth][filter]) & 255;
    }
    for (let px = 0; px < width; px++) {
      for (let k = 0; k < 3; k++) out[(y * width + px) * 4 + k] = line[px * channels + k];
      out[(y * width + px) * 4 + 3] = channels === 4 ? line[px * channels + 3] : 255;
    }
    prev.set(line);
  }
  return { width, height, rgba: out };
}

describe("the training report in headless Chromium", () => {
  it.each(["deep_sigmoid10", "deep_relu10"])("%s: the DOM has the charts, and the screenshot shows coloured curves", async (net) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const out = join(ARTIFACTS, net);
    // the training runs in this process: the report is the subject here (test/train.test.ts runs the real command)
    const run = await bpgenInProcess(["train", join(ROOT, "examples", `${net}.json`), "--data", join(ROOT, "examples", "data", "iris.csv"), "--epochs", "20", "--batch", "16", "--validation", "0.2", "--out", out, "--no-progress"]);
    expect(run.code, run.stderr).toBe(0);
    const url = `file://${join(out, "report.html")}`;
    const png = join(ARTIFACTS, `report-${net}.png`);
    rmSync(png, { force: true });

    // one browser run dumps the DOM and takes the screenshot
    const dom = browse(["--dump-dom", `--screenshot=${png}`, `--window-size=${SIZE.join(",")}`, "--hide-scrollbars"], url);
    expect(dom.match(/<svg /g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(dom).toContain("Gradient norm ‖∂J/∂θ‖ per layer");
    if (net === "deep_sigmoid10") expect(dom).toContain("Vanishing gradients");
    else expect(dom).toContain("No layer's gradient norm left");

    expect(existsSync(png)).toBe(true);
    const { width, height, rgba } = decodePng(readFileSync(png));
    expect([width, height]).toEqual([...SIZE]);
    // saturated pixels: the curves, legends and heat map cells (a blank or unstyled page has almost none)
    let coloured = 0;
    for (let i = 0; i < rgba.length; i += 4) {
      const [r, g, b] = [rgba[i], rgba[i + 1], rgba[i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
    }
    expect(coloured / (width * height)).toBeGreaterThan(0.005);
  });
});

/**
 * Appended to a copy of a report: measures every text of every chart as laid out (its box on the page, rotated
 * labels included) and writes the ones reaching outside their SVG, the legend labels that overlap, and how many texts were
 * measured into a <pre id="measured">.
 */
const MEASURE = `<script>
const outside = [];
const overlapping = [];
let texts = 0;
for (const svg of document.querySelectorAll("svg.chart")) {
  const s = svg.getBoundingClientRect();
  const legend = [];
  for (const t of svg.querySelectorAll("text")) {
    texts++;
    const b = t.getBoundingClientRect();
    const box = { text: t.textContent, left: b.left - s.left, right: b.right - s.left, top: b.top - s.top, bottom: b.bottom - s.top };
    if (box.left < -0.5 || box.right > s.width + 0.5 || box.top < -0.5 || box.bottom > s.height + 0.5) outside.push({ ...box, width: s.width, height: s.height });
    if (t.classList.contains("legend")) legend.push(box);
  }
  for (let i = 1; i < legend.length; i++) if (legend[i].left < legend[i - 1].right + 4) overlapping.push([legend[i - 1].text, legend[i].text]);
}
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify({ outside, overlapping, texts });
document.body.append(pre);
</script>`;

describe("the training report's text as Chromium lays it out", () => {
  // the layout depends on the number of epochs and layers, not on what was learnt: a made-up run of each length
  it.each([1, 3, 50, 500])("stays inside its charts at %i epoch(s), the heat map's caption and legend included", (epochs) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const report = reportHtml({ ...RUN_INFO, epochs }, syntheticRun(epochs));
    expect(report).toContain("Gradient norm per layer (rows)");
    const page = join(ARTIFACTS, `report-${epochs}-epochs.html`);
    writeFileSync(page, report.replace("</body>", `${MEASURE}</body>`));
    const dom = browse(["--dump-dom"], `file://${page}`);
    const json = /<pre id="measured">([^<]*)<\/pre>/.exec(dom)?.[1] ?? "";
    const measured = JSON.parse(json.replace(/&quot;/g, '"').replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")) as { outside: unknown[]; overlapping: unknown[]; texts: number };
    expect(measured.texts).toBeGreaterThan(40);
    expect(measured.outside).toEqual([]);
    expect(measured.overlapping).toEqual([]);
  });
});
