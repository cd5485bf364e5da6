/**
 * `bpgen --watch`: builds every input, then rebuilds an input whenever it changes (and everything when the
 * project's config changes), printing one line per build: `rebuilt <file> in <n> ms`, `unchanged <file>`, or
 * the error, after which it keeps watching. Each input is built on its own here, so one broken file does not
 * hold the others back. Ctrl-C (or SIGTERM) stops it with exit code 0.
 *
 * It watches folders, not files (fs.watch on the input's folder, filtered by name): an editor that saves by
 * writing a new file and renaming it over the old one replaces the file a per-file watch would follow.
 */
import { type FSWatcher, existsSync, watch } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isDynamicPattern } from "tinyglobby";
import { BpgenError } from "../errors.ts";
import { writeAllAtomically } from "../files.ts";
import { type BuildFlags, type BuildSettings, buildInput, formatStats, prepare } from "./build.ts";
import { CONFIG_FILE, findProjectRoot } from "./project.ts";

/** Changes closer together than this are one change (editors write a file in several steps). */
const SETTLE_MS = 60;

interface State {
  inputs: string[];
  settings?: BuildSettings;
}

export function watchBuild(files: readonly string[], flags: BuildFlags): Promise<number> {
  const root = findProjectRoot(process.cwd());
  const configFiles = new Set(root === undefined ? [] : [join(root, CONFIG_FILE), join(root, "package.json")]);
  const hasPatterns = files.length === 0 || files.some((f) => isDynamicPattern(f));
  const watchers = new Map<string, FSWatcher>();
  const pending = new Set<string>();
  let state: State = { inputs: [] };
  let reload = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let first = true;

  const report = (e: unknown) => {
    if (e instanceof BpgenError && e.kind === "input") process.stderr.write(`${e.message}\n`);
    else process.stderr.write(`bpgen: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  };

  const load = () => {
    try {
      const { inputs, settings } = prepare(files, flags);
      state = { inputs, settings };
    } catch (e) {
      report(e);
      state = { inputs: state.inputs, settings: undefined };
    }
    for (const input of state.inputs) watchFolder(dirname(resolve(input)));
    // a new file matching a pattern appears in the pattern's own folder
    const patterns = files.length > 0 ? files.map((f) => ({ pattern: f, base: process.cwd() })) : (state.settings?.config?.config.inputs ?? []).map((f) => ({ pattern: f, base: state.settings?.config?.dir ?? process.cwd() }));
    for (const { pattern, base } of patterns) if (isDynamicPattern(pattern)) watchFolder(resolve(base, staticPrefix(pattern)));
  };

  const buildOne = async (input: string) => {
    const settings = state.settings;
    if (!settings) return;
    const started = performance.now();
    try {
      const built = await buildInput(input, settings);
      const statuses = writeAllAtomically(built.outputs);
      const targets = statuses.map((s) => s.target).join(", ");
      const millis = Math.round(performance.now() - started);
      if (statuses.some((s) => s.changed)) process.stdout.write(`${first ? "built" : "rebuilt"} ${targets} in ${millis} ms\n`);
      else process.stdout.write(`unchanged ${targets}\n`);
      if (flags.stats) process.stdout.write(formatStats(built.result));
    } catch (e) {
      report(e);
    }
  };

  const run = async () => {
    const all = reload;
    const changed = [...pending];
    reload = false;
    pending.clear();
    if (all) load();
    const inputs = all ? state.inputs : state.inputs.filter((i) => changed.includes(resolve(i)));
    for (const input of inputs) {
      if (stopped) return;
      await buildOne(input);
    }
    if (first) {
      first = false;
      process.stdout.write(`watching ${state.inputs.length} input(s) for changes (Ctrl-C to stop)\n`);
    }
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(run);
    }, SETTLE_MS);
  };

  const onEvent = (dir: string, filename: string | Buffer | null) => {
    if (stopped) return;
    if (filename === null) {
      reload = true;
      return schedule();
    }
    const path = join(dir, filename.toString());
    if (configFiles.has(path)) reload = true;
    else if (state.inputs.some((i) => resolve(i) === path)) pending.add(path);
    else if (hasPatterns && path.endsWith(".json")) reload = true;
    else return;
    schedule();
  };

  const watchFolder = (dir: string) => {
    if (watchers.has(dir) || !existsSync(dir)) return;
    try {
      const watcher = watch(dir, { persistent: true }, (_event, filename) => onEvent(dir, filename));
      watcher.on("error", (e) => process.stderr.write(`bpgen: cannot watch ${dir}: ${e.message}\n`));
      watchers.set(dir, watcher);
    } catch (e) {
      process.stderr.write(`bpgen: cannot watch ${dir}: ${(e as Error).message}\n`);
    }
  };

  if (root !== undefined) watchFolder(root);
  running = running.then(run);

  return new Promise<number>((done) => {
    const stop = () => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void running.then(() => {
        for (const watcher of watchers.values()) watcher.close();
        process.stdout.write("stopped watching\n");
        done(0);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** The folders of a glob pattern before its first segment with a wildcard (`nets/v1/*.json` → `nets/v1`). */
function staticPrefix(pattern: string): string {
  const segments = pattern.split(/[\\/]/);
  const at = segments.findIndex((s) => isDynamicPattern(s));
  return at <= 0 ? (at === 0 ? "." : dirname(pattern)) : segments.slice(0, at).join("/");
}
