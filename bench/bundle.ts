/**
 * Bundle sizes: an app importing one generated module, two, and `meta` alone, bundled and minified by esbuild
 * (ES module, every function the app calls). Each module carries its own helpers (a module has no imports),
 * so two modules cost about twice one; an app that calls nothing of a module pays only for what it reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { compileFile } from "../src/pipeline.ts";
import { ROOT } from "./nets.ts";

export interface BundleRow {
  readonly app: string;
  readonly bytes: number;
  readonly gzip: number;
}

const USE = (ns: string) => `${ns}.sgdStep(${ns}.initParams(1), new Float32Array(${ns}.meta.inputSize), new Float32Array(${ns}.meta.targetSize), 0.1, 1);`;

const APPS: { app: string; modules: string[]; code: string }[] = [
  { app: "xor_sigmoid (TypeScript kernels)", modules: ["xor_sigmoid"], code: `import * as a from "./xor_sigmoid.ts";\n${USE("a")}` },
  { app: "chain3 (TypeScript kernels)", modules: ["chain3"], code: `import * as a from "./chain3.ts";\n${USE("a")}` },
  {
    app: "xor_sigmoid + chain3",
    modules: ["xor_sigmoid", "chain3"],
    code: `import * as a from "./xor_sigmoid.ts";\nimport * as b from "./chain3.ts";\n${USE("a")}\n${USE("b")}`,
  },
  { app: "mnist_mlp (WebAssembly kernels, TypeScript fallback)", modules: ["mnist_mlp"], code: `import * as a from "./mnist_mlp.ts";\n${USE("a")}` },
  { app: "mnist_mlp, meta only", modules: ["mnist_mlp"], code: `import { meta } from "./mnist_mlp.ts";\nconsole.log(meta.paramCount);` },
];

export async function measureBundles(): Promise<BundleRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bpgen-bundle-"));
  try {
    const rows: BundleRow[] = [];
    for (const { app, modules, code } of APPS) {
      for (const m of modules) writeFileSync(join(dir, `${m}.ts`), (await compileFile(join(ROOT, "examples", `${m}.json`))).source);
      writeFileSync(join(dir, "app.ts"), code);
      const out = await build({ entryPoints: [join(dir, "app.ts")], bundle: true, format: "esm", platform: "neutral", minify: true, write: false, logLevel: "silent" });
      const text = out.outputFiles[0]?.contents ?? new Uint8Array();
      rows.push({ app, bytes: text.length, gzip: gzipSync(text).length });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function bundleMarkdown(rows: readonly BundleRow[]): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  return [
    "| app | minified | gzip |",
    "| --- | ---: | ---: |",
    ...rows.map((r) => `| ${r.app} | ${kb(r.bytes)} | ${kb(r.gzip)} |`),
    "",
    "esbuild, ES module, minified; each app calls `initParams` and `sgdStep` of every module it imports.",
    "",
  ].join("\n");
}

if (process.argv[1]?.endsWith("bundle.ts")) process.stdout.write(bundleMarkdown(await measureBundles()));
