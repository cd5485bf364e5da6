/**
 * A generated module with threads (`--threads`) in headless Chromium. An MLP large enough that a batch of 64 runs
 * forward and gradient on 2 threads is compiled to JavaScript, and a page (test/helpers/threads-page.ts serves it
 * cross-origin isolated, then without the isolation headers) runs the same script twice: on its main thread, where
 * a call waits for the workers by spinning, then in a module worker, where it sleeps. The script calls gradient and
 * forward on one thread, starts 2 threads, calls them again (200 times: a race shows in some calls only), stops the
 * threads and calls them once more. The results on the threads and after them must be the bits of the one thread's,
 * and those the bits Node gets from the same module and script.
 * Without isolation the module cannot share its memory: startThreads(2) resolves 1 and the results stay the same.
 * One Chromium run: the isolated page goes on to the plain one when it is done.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { compile } from "../src/pipeline.ts";
import type { LayerNetSpec, LayerSpec } from "../src/spec/types.ts";
import "./helpers/chromium.ts";
import { type PageServer, type ServedFile, consoleLines, serveIsolatedAndPlain } from "./helpers/threads-page.ts";

const BATCH = 64;
const THREADS = 2;
/** Calls on the threads, each compared with the one thread's: a race between the threads shows in some calls only. */
const ROUNDS = 200;
const INPUT = 64;
const HIDDEN = 128;

const NET: LayerNetSpec<LayerSpec> = {
  name: "threads_mlp",
  input: INPUT,
  layers: [
    { type: "dense", units: HIDDEN, activation: "relu" },
    { type: "dense", units: HIDDEN, activation: "relu" },
    { type: "dense", units: 10 },
  ],
  loss: "softmax_cross_entropy",
};

/** One run of the calls: J's bits and value, and SHA-256 digests of the gradient's and the outputs' bits. */
interface Calls {
  J: string;
  value: number;
  grads: string;
  out: string;
}

/**
 * What the script reports: the calls on one thread, on the threads startThreads gave (the first round) and after
 * stopThreads; how many elements of the first round differ from the one thread's, and in how many of the rounds on
 * the threads J, the gradient or the outputs differ from the one thread's.
 */
interface Report {
  isolated: boolean | null;
  threads: number;
  one: Calls;
  many: Calls;
  /** After stopThreads: one thread again. */
  after: Calls;
  differing: { grads: number; out: number };
  differingRounds: { J: number; grads: number; out: number };
  /** Elements of the one thread's gradient that are not zero, and whether all are finite. */
  nonzero: number;
  finite: boolean;
}

/**
 * The script, beside the module (./net.mjs): the same text runs on a page, in its worker and in Node. Its data come
 * from integer arithmetic, exact in every engine; the parameters from the module's seeded initParams.
 */
const RUN = `import * as net from "./net.mjs";

const BATCH = ${BATCH};
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
const digest = async (array) => hex(await crypto.subtle.digest("SHA-256", array));
const bitsOf = (x) => hex(new Float64Array([x]).buffer);
const differing = (a, b) => {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
};

const { inputSize, targetSize, outputSize, paramCount } = net.meta;
const params = net.initParams(7);
const inputs = Float32Array.from({ length: BATCH * inputSize }, (_, i) => ((i * 37) % 101) / 50 - 1);
const targets = Float32Array.from({ length: BATCH * targetSize }, (_, i) => (i % targetSize === (Math.floor(i / targetSize) * 7) % targetSize ? 1 : 0));

function calls() {
  const grads = new Float32Array(paramCount);
  const out = new Float32Array(BATCH * outputSize);
  const J = net.gradient(params, inputs, targets, grads, BATCH);
  net.forward(params, inputs, out, BATCH);
  return { J, grads, out };
}
const summary = async (r) => ({ J: bitsOf(r.J), value: r.J, grads: await digest(r.grads), out: await digest(r.out) });

export async function run(threads) {
  const one = calls();
  const started = await net.startThreads(threads);
  const many = calls();
  const differingRounds = { J: 0, grads: 0, out: 0 };
  for (let round = 0; round < ${ROUNDS}; round++) {
    const again = round === 0 ? many : calls();
    if (!Object.is(again.J, one.J)) differingRounds.J++;
    if (differing(one.grads, again.grads) > 0) differingRounds.grads++;
    if (differing(one.out, again.out) > 0) differingRounds.out++;
  }
  await net.stopThreads();
  const after = calls();
  return {
    isolated: globalThis.crossOriginIsolated ?? null,
    threads: started,
    one: await summary(one),
    many: await summary(many),
    after: await summary(after),
    differing: { grads: differing(one.grads, many.grads), out: differing(one.out, many.out) },
    differingRounds,
    nonzero: one.grads.filter((g) => g !== 0).length,
    finite: one.grads.every(Number.isFinite) && Number.isFinite(one.J),
  };
}
`;

/**
 * The page: the script on the main thread, then in a module worker, each report in a console line
 * `bpgen-threads-module <isolated|plain>-<page|worker> <json>`; then the page named by `?next=`, if any.
 */
const PAGE = `<!doctype html><html><body>
<script type="module">
const mode = location.pathname.split("/")[1];
const show = (id, value) => console.log("bpgen-threads-module " + mode + "-" + id + " " + (typeof value === "string" ? value : JSON.stringify(value)));
try {
  const { run } = await import("./run.mjs");
  show("page", await run(${THREADS}));
} catch (error) {
  show("page", "error: " + (error && error.stack ? error.stack : error));
}
const fromWorker = await new Promise((resolve) => {
  const worker = new Worker("./worker.mjs", { type: "module" });
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => resolve("error: " + event.message);
});
show("worker", fromWorker);
const next = new URLSearchParams(location.search).get("next");
if (next !== null) location.href = next;
</script></body></html>`;

const WORKER = `import("./run.mjs")
  .then(({ run }) => run(${THREADS}))
  .then((report) => postMessage(report), (error) => postMessage("error: " + (error && error.stack ? error.stack : error)));`;

const LINES = ["isolated-page", "isolated-worker", "plain-page", "plain-worker"] as const;

/**
 * The module's JavaScript: compiled with threads, f32, and transpiled as the JavaScript target transpiles it
 * (TypeScript's transpile to ES2022) but unformatted: prettier would take seconds of the test for whitespace.
 */
async function threadedModule(): Promise<string> {
  const { source } = await compile(NET, { threads: true, precision: "f32", format: false, sourceFile: "threads_mlp.json" });
  const options = { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, isolatedModules: true };
  return ts.transpileModule(source, { fileName: "threads_mlp.ts", compilerOptions: options }).outputText;
}

/** A constant of the module's glue: the JSON after `const <name> = `. */
function glueConstant(js: string, name: string): unknown {
  const found = new RegExp(`^const ${name} = (.*);$`, "m").exec(js);
  if (found === null) throw new Error(`the module has no ${name}`);
  return JSON.parse(found[1]);
}

describe("a generated module with threads in headless Chromium", () => {
  const { binary, problem } = inject("chromium");
  const dir = mkdtempSync(join(tmpdir(), "bpgen-threads-module-"));
  let js = "";
  let server: PageServer;
  let node: Report;

  beforeAll(async () => {
    js = await threadedModule();
    const files = new Map<string, ServedFile>([
      ["/page.html", { type: "text/html", body: PAGE }],
      ["/run.mjs", { type: "text/javascript", body: RUN }],
      ["/worker.mjs", { type: "text/javascript", body: WORKER }],
      ["/net.mjs", { type: "text/javascript", body: js }],
    ]);
    server = await serveIsolatedAndPlain(files);
    writeFileSync(join(dir, "net.mjs"), js);
    writeFileSync(join(dir, "run.mjs"), RUN);
    const { run } = (await import(pathToFileURL(join(dir, "run.mjs")).href)) as { run: (threads: number) => Promise<Report> };
    // one thread: the reference, and no pool in this process (threads that hung would hang it, where a page is killed)
    node = await run(1);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("splits a batch of 64 of forward and gradient among 2 threads (the glue's work per job and per thread)", () => {
    const jobs = glueConstant(js, "KERNEL_JOBS") as string[];
    const work = glueConstant(js, "JOB_WORK") as number[];
    const perThread = glueConstant(js, "WORK_PER_THREAD") as number;
    for (const name of ["forward", "gradient"]) {
      const job = jobs.indexOf(name);
      expect(job, `${name} among ${jobs.join(", ")}`).toBeGreaterThanOrEqual(0);
      expect(Math.floor((BATCH * work[job]) / perThread), `threads ${name} has work for`).toBeGreaterThanOrEqual(THREADS);
    }
    // the reference: Node runs the same script on the same module (on one thread), and its gradient is one to compare with
    expect(node.threads).toBe(1);
    expect(node.finite).toBe(true);
    expect(node.nonzero, "gradient elements that are not zero").toBeGreaterThan(INPUT * HIDDEN * 0.5);
    expect(node.one.value).toBeGreaterThan(0);
  });

  it("gives the one thread's bits on 2 threads, on a cross-origin isolated page's main thread and in its worker; without isolation, 1 thread and the same bits", async () => {
    expect(problem, problem).toBeUndefined();
    const lines = await consoleLines(binary as string, `${server.origin}/isolated/page.html?next=/plain/page.html`, "bpgen-threads-module", LINES, 40_000);
    const reports = Object.fromEntries(
      LINES.map((id) => {
        expect(lines[id].startsWith("{"), `${id}: ${lines[id].slice(0, 2000)}`).toBe(true);
        return [id, JSON.parse(lines[id]) as Report];
      }),
    ) as Record<(typeof LINES)[number], Report>;
    for (const id of LINES) {
      const r = reports[id];
      const isolated = id.startsWith("isolated");
      expect(r.isolated, id).toBe(isolated);
      expect(r.threads, `${id}: startThreads(${THREADS}) resolved`).toBe(isolated ? THREADS : 1);
      expect(r.many, `${id}: after startThreads, the same bits`).toEqual(r.one);
      expect(r.after, `${id}: after stopThreads, the same bits`).toEqual(r.one);
      expect(r.differing, `${id}: elements whose bits differ`).toEqual({ grads: 0, out: 0 });
      expect(r.differingRounds, `${id}: of ${ROUNDS} rounds, those whose bits differ`).toEqual({ J: 0, grads: 0, out: 0 });
      expect(r.one, `${id}: one thread, the bits Node gets`).toEqual(node.one);
    }
    expect(reports["plain-page"].one, "without isolation, the isolated page's bits").toEqual(reports["isolated-page"].one);
  });
});
