/**
 * The pictures and pages in a real browser: headless Chromium (Debian's `chromium`) opens the SVG that
 * `bpgen graph` writes and the HTML page that `bpgen explain` writes, from disk. A page passes when the browser
 * logs no console message from it (our pages run no script, so any message is an error), it loads no file but
 * itself (fonts and styles are inlined), and its DOM holds the drawing or the typeset formulas. Screenshots are kept
 * in test/artifacts/ (git-ignored) for a person to look at. The test fails, and is never skipped, when
 * Chromium is missing: the global setup (test/setup/chromium.ts) finds it or installs it. Set CHROMIUM_PATH to use another binary.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { explain } from "../src/explain/explain.ts";
import { compileForInspection } from "../src/graph/compiled.ts";
import { drawDag } from "../src/graph/draw.ts";
import "./helpers/chromium.ts";
import { ROOT } from "./helpers/cli.ts";

const ARTIFACTS = join(ROOT, "test", "artifacts", "pages");
const example = (name: string) => relative(process.cwd(), join(ROOT, "examples", `${name}.json`));

interface BrowserRun {
  stdout: string;
  /** Console messages the page produced (Chromium logs them as CONSOLE lines). */
  console: string[];
  /** Every file:// URL the browser loaded (verbose logging names each FileURLLoader start). */
  files: string[];
}

/** One headless Chromium run on a local file, in a fresh profile, with networking features off. */
function chromium(binary: string, file: string, action: string[]): BrowserRun {
  const profile = mkdtempSync(join(tmpdir(), "bpgen-chromium-"));
  try {
    const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=1", `--user-data-dir=${profile}`];
    const r = spawnSync(binary, [...flags, ...action, pathToFileURL(file).href], { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    expect(r.status, `chromium exited with ${r.status}: ${r.stderr.slice(-2000)}`).toBe(0);
    const log = r.stderr.split("\n");
    return {
      stdout: r.stdout,
      console: log.filter((line) => line.includes(":CONSOLE")),
      files: log.flatMap((line) => /FileURLLoader::Start: (\S+)/.exec(line)?.[1] ?? []),
    };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(0, 8).toString("hex"), `${file} is not a PNG`).toBe("89504e470d0a1a0a");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe("the SVG and HTML pages in headless Chromium", () => {
  const { binary, problem } = inject("chromium");
  const pages: { file: string; kind: "svg" | "html" }[] = [];
  /** The window every page is shot at; the HTML pages are also shot tall. */
  const WINDOW = "1200,900";
  const TALL = "1200,5200";
  const TALL_PAGE = "mnist_mlp.html";
  const screenshotOf = (file: string, suffix = "") => file.replace(/\.(svg|html)$/, `.$1${suffix}.png`);
  /** Chromium on `file`, shooting it at `size` into `png` (removed first, so an old one cannot pass). */
  const shoot = (file: string, png: string, size: string, also: string[] = []): BrowserRun => {
    rmSync(png, { force: true });
    return chromium(binary as string, file, [...also, `--screenshot=${png}`, `--window-size=${size}`]);
  };
  /**
   * Each page opened once for both tests: Chromium dumps its DOM and takes its screenshot in the same run (each
   * browser start costs seconds).
   */
  const opened = new Map<string, BrowserRun>();
  const open = (file: string): BrowserRun => {
    const run = opened.get(file) ?? shoot(file, screenshotOf(file), WINDOW, ["--dump-dom"]);
    opened.set(file, run);
    return run;
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const write = (name: string, text: string, kind: "svg" | "html") => {
      const file = join(ARTIFACTS, name);
      writeFileSync(file, text);
      pages.push({ file, kind });
    };
    // each page costs a browser start: an equation net's explanation, and a layer net's drawings (full and by layer)
    // and explanation
    const chain3 = await compileForInspection(example("chain3"));
    const mnist = await compileForInspection(example("mnist_mlp"));
    write("mnist_mlp.svg", (await drawDag(mnist)).svg, "svg");
    write("mnist_mlp.layers.svg", (await drawDag(mnist, { collapse: true })).svg, "svg");
    write("chain3.html", (await explain(chain3)).html, "html");
    write("mnist_mlp.html", (await explain(mnist)).html, "html");
  }, 120_000);

  it("finds Chromium (install Debian's chromium, or set CHROMIUM)", () => {
    expect(binary, problem).toBeDefined();
  });

  it("opens each page without a console error or any file but itself, with the drawing or the formulas in its DOM", () => {
    for (const { file, kind } of pages) {
      const run = open(file);
      expect(run.console, `${file}: console messages`).toEqual([]);
      expect(run.files, `${file}: files loaded`).toEqual([pathToFileURL(file).href]);
      if (kind === "svg") {
        expect(run.stdout, file).toContain("<svg");
        expect(run.stdout, file).toContain('class="node"');
      } else {
        expect(run.stdout, file).toContain('class="katex"');
        expect(run.stdout, file).toContain('class="katex-display"');
        expect(run.stdout, file).not.toContain("katex-error");
        expect(run.stdout, file).toContain("<svg");
      }
    }
  }, 300_000);

  it("keeps a screenshot of each page in test/artifacts/pages/ (the longest HTML page also as a tall one)", () => {
    for (const { file } of pages) {
      const shots = [{ png: screenshotOf(file), size: WINDOW, run: open(file) }];
      // one more browser start: only for the page whose formulas run furthest below the window
      if (file.endsWith(TALL_PAGE)) shots.push({ png: screenshotOf(file, ".full"), size: TALL, run: shoot(file, screenshotOf(file, ".full"), TALL) });
      for (const { png, size, run } of shots) {
        expect(run.console, `${file}: console messages`).toEqual([]);
        const [width, height] = size.split(",").map(Number);
        expect(pngSize(png)).toEqual({ width, height });
        // a blank page compresses to almost nothing; a drawing or a page of formulas does not
        expect(statSync(png).size, png).toBeGreaterThan(20_000);
      }
    }
  }, 300_000);
});
