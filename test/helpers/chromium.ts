/**
 * Finding headless Chromium for the browser tests. test/setup/chromium.ts runs this once before the suite (and
 * installs Debian's `chromium` when it is missing and it may); the tests read what it found with `inject`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Set by the global setup: the binary, or why there is none. */
declare module "vitest" {
  export interface ProvidedContext {
    chromium: { binary?: string; problem?: string };
  }
}

export const CHROMIUM_MISSING =
  "headless Chromium is needed for the browser tests: install Debian's `chromium` (apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary";

/** $CHROMIUM_PATH, $CHROME_PATH or $CHROMIUM, else chromium, chromium-browser or google-chrome on the PATH, else /usr/bin/chromium. */
export function findChromium(): string | undefined {
  for (const variable of ["CHROMIUM_PATH", "CHROME_PATH", "CHROMIUM"]) {
    const value = process.env[variable];
    if (value) return value;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined;
}
