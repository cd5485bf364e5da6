/**
 * The thread pool in headless Chromium: a tiny HTTP server (test/helpers/threads-page.ts) serves a page with the
 * headers that make it cross-origin isolated (`Cross-Origin-Opener-Policy: same-origin`, `Cross-Origin-Embedder-Policy: require-corp`),
 * the runtime of templates/threads.ts transpiled to JavaScript, and a script that runs the test kernel
 * (test/helpers/threads-kernel.ts) on 2 threads: once from the page's main thread, where the caller may not block
 * and spins, and once from a worker, where it sleeps in `Atomics.wait`. Both must give the bits of the JavaScript
 * reference with both threads taking part. The same page served without the headers is not isolated: the pool is
 * null and the kernel runs on one thread. Results come back as console lines (Chromium logs them on stderr), read
 * as they arrive, in real time (a virtual time budget would stop the clock the round trip is timed with); the time
 * per empty job's round trip is printed, not asserted.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import "./helpers/chromium.ts";
import { rowSumsReference } from "./helpers/threads-kernel.ts";
import { type PageServer, type ServedFile, consoleLines, serveIsolatedAndPlain } from "./helpers/threads-page.ts";
import { kernelScript, runtimeJavaScript } from "./helpers/threads-runtime.ts";

const ROWS = 64;
const COLUMNS = 400;
const ROUNDS = 2000;

interface Result {
  supported: boolean;
  pool: boolean;
  total: number;
  mask: number;
  microseconds: number;
  callerSleeps: boolean | null;
}

/**
 * The page: runs the kernel script on its main thread, then in a module worker, each result in a console line named
 * after the page's kind (`isolated-page`, `plain-worker`, …); then goes on to the page named by `?next=`, if any, so
 * that one Chromium run sees both kinds.
 */
const PAGE = `<!doctype html><html><body>
<script type="module">
const kind = location.pathname.startsWith("/isolated/") ? "isolated" : "plain";
const show = (id, value) => console.log("bpgen-threads " + kind + "-" + id + " " + (typeof value === "string" ? value : JSON.stringify(value)));
show("isolated", String(globalThis.crossOriginIsolated));
try {
  const { result } = await import("./run.mjs");
  show("page", result);
} catch (error) {
  show("page", "error: " + error);
}
const worker = new Worker("./worker.mjs", { type: "module" });
const next = new URLSearchParams(location.search).get("next");
const done = () => {
  if (next !== null) location.href = next;
};
worker.onmessage = (event) => (show("worker", event.data), done());
worker.onerror = (event) => (show("worker", "error: " + event.message), done());
</script></body></html>`;

const WORKER = `import("./run.mjs").then(({ result }) => postMessage(result), (error) => postMessage("error: " + error));`;

/** The page and its scripts. */
function files(): Map<string, ServedFile> {
  const script = `${kernelScript("./threads.mjs", 2, ROWS, COLUMNS, ROUNDS)}export { result };\n`;
  return new Map([
    ["/page.html", { type: "text/html", body: PAGE }],
    ["/run.mjs", { type: "text/javascript", body: script }],
    ["/worker.mjs", { type: "text/javascript", body: WORKER }],
    ["/threads.mjs", { type: "text/javascript", body: runtimeJavaScript(false) }],
  ]);
}

describe("the thread pool in headless Chromium", () => {
  const { binary, problem } = inject("chromium");
  const reference = rowSumsReference(ROWS, COLUMNS);
  let server: PageServer;

  beforeAll(async () => {
    server = await serveIsolatedAndPlain(files());
  });
  afterAll(() => server.close());

  /** One Chromium run: the isolated page, then the plain one, until each has logged its three lines. */
  const LINES = ["isolated", "page", "worker"].flatMap((id) => [`isolated-${id}`, `plain-${id}`]);
  let lines: Promise<Record<string, string>> | undefined;
  const open = async (mode: "isolated" | "plain") => {
    lines ??= consoleLines(binary as string, `${server.origin}/isolated/page.html?next=/plain/page.html`, "bpgen-threads", LINES);
    const all = await lines;
    return { isolated: all[`${mode}-isolated`], page: all[`${mode}-page`] as string, worker: all[`${mode}-worker`] as string };
  };

  const parse = (where: string, text: string): Result => {
    expect(text.startsWith("{"), `${where}: ${text.slice(0, 300)}`).toBe(true);
    return JSON.parse(text) as Result;
  };

  it("runs the kernel on 2 threads from a cross-origin isolated page's main thread (spinning) and from a worker (sleeping)", async () => {
    expect(problem, problem).toBeUndefined();
    const dom = await open("isolated");
    expect(dom.isolated).toBe("true");
    const page = parse("page", dom.page);
    const worker = parse("worker", dom.worker);
    for (const [where, r] of [
      ["main thread", page],
      ["worker", worker],
    ] as const) {
      expect(r.supported, where).toBe(true);
      expect(r.pool, where).toBe(true);
      expect(r.mask, `${where}: both threads took part`).toBe(3);
      expect(Object.is(r.total, reference.total), `${where}: ${r.total} vs ${reference.total}`).toBe(true);
      console.log(`threads: Chromium ${where}, 2 threads: ${r.microseconds.toFixed(1)} µs per empty job`);
    }
    expect(page.callerSleeps, "the page's main thread may not block").toBe(false);
    expect(worker.callerSleeps, "a worker may").toBe(true);
  });

  it("falls back to one thread on a page that is not cross-origin isolated", async () => {
    expect(problem, problem).toBeUndefined();
    const dom = await open("plain");
    expect(dom.isolated).toBe("false");
    for (const [where, text] of [
      ["main thread", dom.page],
      ["worker", dom.worker],
    ] as const) {
      const r = parse(where, text);
      expect(r.supported, where).toBe(false);
      expect(r.pool, where).toBe(false);
      expect(r.mask, where).toBe(1);
      expect(Object.is(r.total, reference.total), where).toBe(true);
    }
  });
});
