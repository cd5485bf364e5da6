/**
 * Pages for the thread tests in headless Chromium. A page can use threads only when it is cross-origin isolated:
 * served with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`. The
 * server here serves the same files twice, under /isolated/ with those headers and under /plain/ without them.
 * A page reports what it found in console lines (`<prefix> <id> <text>`), which Chromium logs on stderr; they are
 * read as they arrive, in real time (a virtual time budget would stop the clocks pages time things with), and the
 * browser is killed as soon as every expected line is in: headless Chromium leaves a page open for good.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ServedFile {
  readonly type: string;
  readonly body: string;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>`: pages are at `<origin>/isolated/<name>` and `<origin>/plain/<name>`. */
  readonly origin: string;
  readonly close: () => Promise<void>;
}

/** The two headers that make a page cross-origin isolated. */
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/** Serves `files` (by path, e.g. "/page.html") under /isolated/ with the isolation headers and under /plain/ without. */
export async function serveIsolatedAndPlain(files: ReadonlyMap<string, ServedFile>): Promise<PageServer> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const [, mode, name] = /^\/(isolated|plain)(\/.*)$/.exec(url.pathname) ?? [];
    const file = files.get(name ?? "");
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { "Content-Type": file.type, "Cache-Control": "no-store" };
    if (mode === "isolated") Object.assign(headers, ISOLATION);
    response.writeHead(200, headers).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--enable-logging=stderr",
  "--v=0",
];

/**
 * Opens `url` in headless Chromium (a fresh profile, removed afterwards) and resolves with the text of each console
 * line `<prefix> <id> <text>` for every id of `ids` (the last line of an id wins), once all have been logged; rejects
 * with the end of Chromium's log when the browser ends, or is killed after `timeout` ms, without them.
 */
export function consoleLines<Id extends string>(binary: string, url: string, prefix: string, ids: readonly Id[], timeout = 60_000): Promise<Record<Id, string>> {
  const profile = mkdtempSync(join(tmpdir(), "bpgen-threads-profile-"));
  const line = new RegExp(`"${prefix} (\\S+) (.*)", source:`, "g");
  return new Promise<Record<Id, string>>((resolve, reject) => {
    const child = spawn(binary, [...FLAGS, `--user-data-dir=${profile}`, url], { stdio: ["ignore", "ignore", "pipe"] });
    const lines: Partial<Record<string, string>> = {};
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const [, id, text] of stderr.matchAll(line)) lines[id] = text;
      if (ids.every((id) => id in lines)) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
      const missing = ids.filter((id) => !(id in lines));
      if (missing.length > 0) reject(new Error(`no ${missing.join(", ")} from the page: ${stderr.slice(-2000)}`));
      else resolve(Object.fromEntries(ids.map((id) => [id, lines[id] as string])) as Record<Id, string>);
    });
  });
}
