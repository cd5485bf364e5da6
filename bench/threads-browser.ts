/**
 * bench/threads.ts in headless Chromium: a small HTTP server serves a page with the headers that make it cross-origin
 * isolated (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`), the three
 * modules of each network (the threaded build twice, the plain build; the transpiled files bench/threads.ts wrote),
 * and each network's parameters and batch. The page's script, on its main thread (where the caller spins while
 * the worker takes its share), starts 2 threads in one threaded module, starts and stops them in the other, checks
 * that J, gradient and forward output are bit for bit those of 1 thread, then times the three modules in rotating
 * rounds as bench/timing.ts does (warm-up, calls per sample calibrated to a sample's length, a minor GC before each
 * sample), and posts each network's samples back. Chromium is found as the browser tests find it
 * (test/helpers/chromium.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { findChromium } from "../test/helpers/chromium.ts";
import { importModule } from "./module-import.ts";
import type { Bits, Builds, ThreadNet } from "./threads.ts";
import type { TimingOptions } from "./timing.ts";

/** The three modules, as bench/threads.ts names them. */
export type Build = "two" | "one" | "plain";
export const BUILDS: readonly Build[] = ["two", "one", "plain"];

/** One build's samples in one mode: µs per call, the round of each, the calls per sample. */
export interface Samples {
  readonly reps: number;
  readonly samples: number[];
  readonly rounds: number[];
}

export interface BrowserNetResult {
  readonly id: string;
  /** What the bit-for-bit check found. */
  readonly bits: Bits;
  /** What startThreads(2) resolved with on the page. */
  readonly started: number;
  readonly train: Readonly<Record<Build, Samples>>;
  readonly forward: Readonly<Record<Build, Samples>>;
}

export interface BrowserRun {
  readonly version: string;
  readonly userAgent: string;
  readonly nets: BrowserNetResult[];
}

/** The page: imports its script, which posts each network's result to /result and, at the end, a `done` line. */
const PAGE = `<!doctype html><html><body><script type="module" src="./run.mjs"></script></body></html>`;

/**
 * The page's script. For each network of /config.json: the modules imported, the pool started (2 threads) in one
 * and started then stopped in the other, the bits checked, then each mode timed in rounds. Plain JavaScript, so
 * that the browser runs it as served.
 */
const SCRIPT = String.raw`
let CHECK_CALLS = 1;
let KERNEL_ARRAYS = false;
const post = (body) => fetch("./result", { method: "POST", body: JSON.stringify(body) });
const f32 = async (url) => new Float32Array(await (await fetch(url)).arrayBuffer());
const minorGc = () => { if (typeof globalThis.gc === "function") globalThis.gc({ type: "minor" }); };
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const same = (a, b) => { if (a.length !== b.length) return 0; for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i; return -1; };

function results(m, net, params) {
  const p = Float32Array.from(params);
  const grads = new Float32Array(m.meta.paramCount);
  const J = m.gradient(p, net.x, net.y, grads, net.batch);
  const out = new Float32Array(net.batch * m.meta.outputSize);
  m.forward(p, net.x, out, net.batch);
  return { J, grads, out };
}

/** As bench/threads.ts checkBits: 2 threads against 1 thread's bits, CHECK_CALLS times, and the plain build once. */
function checkBits(net, params, one, two, plain) {
  const a = results(one, net, params);
  const found = new Map();
  const note = (what, first) => { const f = found.get(what); if (f) f.calls++; else found.set(what, { calls: 1, first }); };
  const samples = new Set();
  for (let call = 0; call < CHECK_CALLS; call++) {
    const b = results(two, net, params);
    if (!Object.is(a.J, b.J)) note("J", b.J + " on 2 threads, " + a.J + " on 1");
    const g = same(a.grads, b.grads);
    if (g >= 0) note("the gradient", "[" + g + "] " + b.grads[g] + " on 2 threads, " + a.grads[g] + " on 1");
    const o = same(a.out, b.out);
    if (o >= 0) note("the forward output", "[" + o + "] " + b.out[o] + " on 2 threads, " + a.out[o] + " on 1");
    for (let i = 0; i < a.out.length; i++) if (!Object.is(a.out[i], b.out[i])) samples.add(Math.floor(i / one.meta.outputSize));
  }
  const c = results(plain, net, params);
  const alike = Object.is(a.J, c.J) && same(a.grads, c.grads) < 0 && same(a.out, c.out) < 0;
  const plainText = alike ? "the plain build gives the same bits" : "the plain build's differ in the last bits (J " + c.J + " against " + a.J + ")";
  if (found.size === 0) return { wrong: null, plain: plainText };
  const parts = [...found].map(([what, f]) => what + " in " + f.calls + " of " + CHECK_CALLS + " calls (first: " + f.first + ")");
  const which = samples.size > 0 ? "; the outputs that differ are those of samples " + [...samples].sort((x, y) => x - y).join(", ") : "";
  return { wrong: "2 threads differ from 1 thread: " + parts.join("; ") + which, plain: plainText };
}

/** A module's training step (sgdStep) and forward pass on its own copy of the parameters. */
function calls(m, net, params) {
  const sink = new Float64Array(1);
  if (KERNEL_ARRAYS) {
    const a = m.kernelArrays(net.batch);
    a.params.set(params);
    a.inputs.set(net.x);
    a.targets.set(net.y);
    return {
      train: () => { sink[0] += m.sgdStep(a.params, a.inputs, a.targets, net.lr, net.batch); },
      forward: () => { m.forward(a.params, a.inputs, a.out, net.batch); },
    };
  }
  const p = Float32Array.from(params);
  const out = new Float32Array(net.batch * m.meta.outputSize);
  return {
    train: () => { sink[0] += m.sgdStep(p, net.x, net.y, net.lr, net.batch); },
    forward: () => { m.forward(p, net.x, out, net.batch); },
  };
}

/** As bench/timing.ts: warm-up, calls per sample calibrated, then one sample of each per round, the first rotating. */
function measure(fns, opts) {
  const plans = fns.map((fn) => {
    const loop = new Function("fn", "reps", "for (let i = 0; i < reps; i++) fn();");
    const time = (reps) => { const t0 = performance.now(); loop(fn, reps); return performance.now() - t0; };
    const started = performance.now();
    for (let n = 0; n < opts.warmupCalls || performance.now() - started < opts.warmupMs; n++) time(1);
    let n = 1;
    let t = time(n);
    while (t < 2 && n < 1 << 24) { n *= 2; t = time(n); }
    const perCall = t / n;
    const reps = Math.max(1, Math.round(opts.sampleMs / perCall));
    const cap = Math.max(opts.minSamples, Math.min(opts.rounds, Math.floor(opts.cellBudgetMs / (reps * perCall))));
    return { time, reps, cap, samples: [], rounds: [] };
  });
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[(i + r) % plans.length];
      if (p.samples.length >= p.cap) continue;
      minorGc();
      const ms = p.time(p.reps);
      p.samples.push((ms * 1000) / p.reps);
      p.rounds.push(r);
    }
  }
  return plans.map(({ reps, samples, rounds }) => ({ reps, samples, rounds }));
}

async function benchNet(net) {
  const [two, one, plain] = await Promise.all(net.modules.map((url) => import(url)));
  net.x = await f32(net.data + "/x");
  net.y = await f32(net.data + "/y");
  const params = await f32(net.data + "/params");
  const started = await two.startThreads(2);
  await one.startThreads(2);
  await one.stopThreads();
  const bits = checkBits(net, params, one, two, plain);
  if (bits.wrong) console.log("bpgen-threads " + net.id + ": WRONG RESULTS: " + bits.wrong);
  const modules = [two, one, plain].map((m) => calls(m, net, params));
  const result = { id: net.id, bits, started };
  for (const mode of ["train", "forward"]) {
    const [a, b, c] = measure(modules.map((m) => m[mode]), net.timing);
    result[mode] = { two: a, one: b, plain: c };
    console.log("bpgen-threads " + net.id + " " + mode + ": 2 threads " + median(a.samples).toFixed(0) + " µs, 1 thread " + median(b.samples).toFixed(0) + " µs, plain " + median(c.samples).toFixed(0) + " µs");
  }
  await two.stopThreads();
  return result;
}

try {
  if (!globalThis.crossOriginIsolated) throw new Error("the page is not cross-origin isolated");
  const config = await (await fetch("./config.json")).json();
  CHECK_CALLS = config.checkCalls;
  KERNEL_ARRAYS = config.kernelArrays;
  for (const net of config.nets) await post({ net: await benchNet(net) });
  await post({ done: navigator.userAgent });
} catch (error) {
  await post({ error: String(error && error.stack ? error.stack : error) });
}
`;

/** The timing options the page uses: bench/timing.ts's, as bench/threads.ts's in Node. */
export type PageTiming = TimingOptions;

/** How many calls on 2 threads the page checks against 1 thread's bits, and whether it times calls on kernelArrays. */
export interface PageOptions {
  readonly checkCalls: number;
  readonly kernelArrays: boolean;
}

interface Served {
  readonly type: string;
  readonly body: string | Uint8Array;
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Everything the page fetches, by path. */
async function servedFiles(nets: readonly { net: ThreadNet; builds: Builds; timing: PageTiming }[], options: PageOptions): Promise<Map<string, Served>> {
  const files = new Map<string, Served>([
    ["/page.html", { type: "text/html", body: PAGE }],
    ["/run.mjs", { type: "text/javascript", body: SCRIPT }],
  ]);
  const config = [];
  for (const { net, builds, timing } of nets) {
    const modules = [builds.threaded, builds.threadedAgain, builds.plain].map((file) => {
      const path = `/m/${basename(file)}`;
      files.set(path, { type: "text/javascript", body: readFileSync(file, "utf8") });
      return `.${path}`;
    });
    // the parameters as the net's peers start from them, from the plain module (the same layout as the threaded one)
    const params = net.params(await importModule(builds.plain));
    files.set(`/data/${net.id}/params`, { type: "application/octet-stream", body: bytesOf(params) });
    files.set(`/data/${net.id}/x`, { type: "application/octet-stream", body: bytesOf(net.x) });
    files.set(`/data/${net.id}/y`, { type: "application/octet-stream", body: bytesOf(net.y) });
    config.push({ id: net.id, batch: net.batch, lr: net.lr, modules, data: `./data/${net.id}`, timing });
  }
  files.set("/config.json", { type: "application/json", body: JSON.stringify({ nets: config, ...options }) });
  return files;
}

/** Serves the files with the isolation headers; POSTs to /result go to `onResult`. */
function serve(files: ReadonlyMap<string, Served>, onResult: (body: string) => void): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cache-Control": "no-store" };
    if (request.method === "POST" && path === "/result") {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        response.writeHead(204, isolation).end();
        onResult(body);
      });
      return;
    }
    const file = files.get(path);
    if (!file) {
      response.writeHead(404, isolation).end();
      return;
    }
    response.writeHead(200, { ...isolation, "Content-Type": file.type }).end(file.body);
  });
}

function chromiumVersion(binary: string): string {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return /[\d.]{5,}/.exec(r.stdout ?? "")?.[0] ?? "(version unknown)";
}

/**
 * Runs the page in headless Chromium until it posts `done` (or an error, or `limitMs` passes) and returns each
 * network's samples.
 */
export async function runBrowser(nets: readonly { net: ThreadNet; builds: Builds; timing: PageTiming }[], options: PageOptions, limitMs: number): Promise<BrowserRun> {
  const binary = findChromium();
  if (!binary) throw new Error("no Chromium: set CHROMIUM_PATH, or install Debian's chromium");
  const files = await servedFiles(nets, options);
  const results: BrowserNetResult[] = [];
  let finish: (value: string) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const finished = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const server = serve(files, (body) => {
    const message = JSON.parse(body) as { net?: BrowserNetResult; done?: string; error?: string };
    if (message.net) {
      results.push(message.net);
      console.error(`threads: Chromium ${message.net.id} done`);
    } else if (message.done !== undefined) finish(message.done);
    else fail(new Error(`the page failed: ${message.error ?? body}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), "bpgen-threads-bench-"));
  const flags = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--js-flags=--expose-gc",
    "--enable-logging=stderr",
    "--v=0",
    `--user-data-dir=${profile}`,
  ];
  const child = spawn(binary, [...flags, `${origin}/page.html`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const line of chunk.toString().split("\n")) {
      const m = /"bpgen-threads (.*)", source:/.exec(line);
      if (m) console.error(`threads: Chromium ${m[1]}`);
    }
  });
  const exited = new Promise<void>((resolve) =>
    child.on("close", () => {
      fail(new Error(`Chromium exited before the page was done: ${stderr.slice(-2000)}`));
      resolve();
    }),
  );
  const timer = setTimeout(() => fail(new Error(`the page was not done within ${limitMs / 1000} s`)), limitMs);
  try {
    const userAgent = await finished;
    return { version: chromiumVersion(binary), userAgent, nets: results };
  } finally {
    clearTimeout(timer);
    child.kill("SIGKILL");
    // Chromium's profile is written to until it has exited
    await exited;
    await new Promise((resolve) => server.close(resolve));
    rmSync(profile, { recursive: true, force: true });
  }
}
