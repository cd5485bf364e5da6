/**
 * bpgen as users get it: the JavaScript target running in plain Node (main thread and a worker, no tsx), its
 * .d.ts typing it exactly as the TypeScript module is typed, `import { compile } from "bpgen"` from a plain ES
 * module, and the `npm pack` tarball installed into a fresh project.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compileFile } from "../src/pipeline.ts";
import { ROOT, bpgen, tempDir } from "./helpers/cli.ts";
import { bpgenInProcess } from "./helpers/in-process.ts";
import { example, exampleText, tempProject, xorResult, xorTrainer } from "./helpers/project.ts";

/** Plain node, no loader: exactly what a user's `node file.mjs` does. */
function node(script: string, cwd: string) {
  const r = spawnSync(process.execPath, [script], { cwd, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The environment of a user's shell: none of the npm_* variables of the `npm test` running this suite. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
}

/**
 * The files a Markdown document in this repository links to, as paths from the repository root (anchors dropped;
 * web addresses and links within the document left out).
 */
function localLinks(doc: string): string[] {
  const text = readFileSync(join(ROOT, doc), "utf8");
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1].split("#")[0]).filter((t) => t !== "" && !/^[a-z][a-z0-9+.-]*:/i.test(t));
  return [...new Set(targets.map((t) => posix.normalize(posix.join(posix.dirname(doc), t))))];
}

/** Runs `f` once, when first asked, and gives every later caller the same value. */
function once<T>(f: () => T): () => T {
  let result: { value: T } | undefined;
  return () => (result ??= { value: f() }).value;
}

/** The package.json `npm init -y` writes (npm 11 writes `"type": "commonjs"` into it): npm runs once for all the tests. */
const npmInitPackageJson = once(() => {
  const dir = tempDir();
  const init = spawnSync("npm", ["init", "-y"], { cwd: dir, encoding: "utf8", env: userEnv() });
  expect(init.status, init.stderr).toBe(0);
  return readFileSync(join(dir, "package.json"), "utf8");
});

/** A fresh project as a user makes one with `npm init -y`: a folder holding only the package.json that npm wrote. */
function npmInitProject(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "package.json"), npmInitPackageJson());
  return dir;
}

interface Packed {
  /** The tarball. */
  file: string;
  /** The paths in it. */
  paths: string[];
}

/**
 * `npm pack` of this repository, once for the tests that read its file list and the one that installs it. dist/ is
 * current: `npm test` builds it first (pretest), so the pack skips its own prepack build.
 */
const packed = once((): Packed => {
  const packs = tempDir();
  const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packs], { cwd: ROOT, encoding: "utf8", env: userEnv() });
  expect(pack.status, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  return { file: join(packs, info.filename), paths: info.files.map((f) => f.path) };
});

/** A plain CommonJS script (a `.js` file in a CommonJS package) that runs `trainer` in a worker_threads worker. */
const workerLauncher = `const { Worker } = require("node:worker_threads");
const worker = new Worker(require("node:path").join(__dirname, "train.mjs"));
worker.on("message", (m) => console.log(JSON.stringify({ ...m, worker: true })));
worker.on("error", (e) => { console.error(e); process.exitCode = 1; });
`;

describe("the JavaScript target", () => {
  const projects = [
    { kind: 'made by `npm init -y` ("type": "commonjs")', make: npmInitProject, files: ["xor_sigmoid.d.mts", "xor_sigmoid.mjs"] },
    { kind: "in no package", make: tempDir, files: ["xor_sigmoid.d.mts", "xor_sigmoid.mjs"] },
    { kind: 'saying "type": "module"', make: () => tempProject(), files: ["xor_sigmoid.d.ts", "xor_sigmoid.js"] },
  ];
  it.each(projects)("trains XOR from plain node, on the main thread and inside a worker_threads worker, in a project $kind", async ({ make, files }) => {
    const dir = make();
    // the command in this process (the warning test below runs it as a process): what Node does with its output is the subject
    const run = await bpgenInProcess([example("xor_sigmoid"), "--target", "js", "-o", "gen/"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(readdirSync(join(dir, "gen")).sort()).toEqual(files);
    writeFileSync(join(dir, "train.mjs"), xorTrainer(`./gen/${files[1]}`));
    // the launcher is CommonJS in a CommonJS package and an ES module elsewhere, as Node reads a .cjs or .mjs file
    const commonJs = files[1].endsWith(".mjs");
    const launcher = commonJs ? "main.cjs" : "main.mjs";
    writeFileSync(join(dir, launcher), commonJs ? workerLauncher : workerLauncher.replace(/^const \{ Worker \} = require\("node:worker_threads"\);/, 'import { Worker } from "node:worker_threads";').replace('require("node:path").join(__dirname, "train.mjs")', 'new URL("./train.mjs", import.meta.url)'));
    for (const script of ["train.mjs", launcher]) {
      const r = node(script, dir);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const result = xorResult(r.stdout);
      expect(result.name).toBe("xor_sigmoid");
      expect(result.correct).toBe(4);
      expect(result.after).toBeLessThan(0.05);
      expect(result.after).toBeLessThan(result.before);
      if (script === launcher) expect(r.stdout).toContain('"worker":true');
    }
  });

  it("warns when -o names a .js file that Node would load as CommonJS, which node then indeed fails to import", async () => {
    const dir = npmInitProject();
    const run = bpgen([example("xor_sigmoid"), "-o", "gen/xor.js"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("warning: gen/xor.js is an ES module, but Node loads .js files there as CommonJS");
    expect(run.stderr).toContain("name it gen/xor.mjs");
    expect(readdirSync(join(dir, "gen")).sort()).toEqual(["xor.d.ts", "xor.js"]);
    writeFileSync(join(dir, "train.mjs"), xorTrainer("./gen/xor.js"));
    const r = node("train.mjs", dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SyntaxError/);
    // the same name in a "type": "module" project gets no warning
    const esm = tempProject();
    const quiet = await bpgenInProcess([example("xor_sigmoid"), "-o", "gen/xor.js"], esm);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe("");
  });

  it("in a project made by `npm init -y`, TypeScript types the .mjs by its .d.mts, from an ES module and from CommonJS", async () => {
    const dir = npmInitProject();
    expect((await bpgenInProcess([example("xor_sigmoid"), "--target", "js"], dir)).code).toBe(0);
    writeFileSync(join(dir, "esm.mts"), 'import { initParams } from "./generated/xor_sigmoid.mjs";\nexport const p: Float32Array = initParams(1);\n');
    // a .ts file is CommonJS in this package: it reaches the ES module through import()
    writeFileSync(
      join(dir, "cjs.ts"),
      'export async function params(): Promise<Float32Array> {\n  const m = await import("./generated/xor_sigmoid.mjs");\n  return m.initParams(1);\n}\n// @ts-expect-error the module takes a seed, not a string\nexport const wrong = import("./generated/xor_sigmoid.mjs").then((m) => m.initParams("1"));\n',
    );
    const program = ts.createProgram([join(dir, "esm.mts"), join(dir, "cjs.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts"],
      types: [],
      // TypeScript's own lib files are not under test; the generated declaration files are
      skipDefaultLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
    expect(program.getSourceFile(join(dir, "generated", "xor_sigmoid.d.mts"))).toBeDefined();
    expect(program.getSourceFile(join(dir, "generated", "xor_sigmoid.mjs"))).toBeUndefined();
  });

  it("has a .d.ts that types it exactly as the TypeScript module is typed (strict project)", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    const exported: Record<string, string[]> = {};
    mkdirSync(join(dir, "ts"));
    mkdirSync(join(dir, "js"));
    for (const name of ["xor_sigmoid", "mnist_mlp"]) {
      // the TypeScript module's text is not the subject, its types are: it compiles unformatted (the JavaScript target's files are formatted regardless)
      const { source, files } = await compileFile(example(name), { target: "js", format: false });
      writeFileSync(join(dir, "ts", `${name}.ts`), source);
      for (const f of files) writeFileSync(join(dir, "js", f.fileName), f.text);
      exported[name] = [...source.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]);
      expect(exported[name]).toContain("OptimizerState");
    }
    // a wrong declaration file, to show the checks below can fail
    mkdirSync(join(dir, "wrong"));
    writeFileSync(join(dir, "wrong", "xor_sigmoid.js"), readFileSync(join(dir, "js", "xor_sigmoid.js")));
    const dts = readFileSync(join(dir, "js", "xor_sigmoid.d.ts"), "utf8");
    const wrong = dts.replace("initParams(seed?: number): Float32Array", "initParams(seed?: number): Float64Array");
    expect(wrong).not.toBe(dts);
    writeFileSync(join(dir, "wrong", "xor_sigmoid.d.ts"), wrong);

    const equal = "type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;";
    const consumer = (name: string, jsFolder: string) =>
      [
        `import * as J from "./${jsFolder}/${name}.js";`,
        `import * as T from "./ts/${name}.ts";`,
        equal,
        "export const sameValues: Equal<typeof J, typeof T> = true;",
        ...exported[name].map((t) => `export const same${t}: Equal<J.${t}, T.${t}> = true;`),
        "const p: Float32Array = J.initParams(1);",
        "const opt: J.OptimizerState = J.createOptimizer({ type: \"adam\", lr: 0.01 });",
        "export const step: number = J.trainStep(p, opt, new Float32Array(J.meta.inputSize), new Float32Array(J.meta.targetSize), 1);",
        "// @ts-expect-error the f32 module takes Float32Array",
        "J.forward(new Float64Array(p.length), p, p, 1);",
        "",
      ].join("\n");
    writeFileSync(join(dir, "xor.ts"), consumer("xor_sigmoid", "js"));
    writeFileSync(join(dir, "mnist.ts"), consumer("mnist_mlp", "js"));
    writeFileSync(join(dir, "wrong.ts"), consumer("xor_sigmoid", "wrong"));
    const program = ts.createProgram([join(dir, "xor.ts"), join(dir, "mnist.ts"), join(dir, "wrong.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      noUnusedLocals: true,
      lib: ["lib.es2022.d.ts"],
      types: [],
      // TypeScript's own lib files are not under test; the generated declaration files are
      skipDefaultLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ({
      file: d.file ? d.file.fileName.slice(dir.length + 1) : "",
      line: d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0,
      text: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
    }));
    // the JavaScript files are typed by their .d.ts, not inferred: TypeScript resolved them there
    expect(program.getSourceFile(join(dir, "js", "xor_sigmoid.d.ts"))).toBeDefined();
    expect(program.getSourceFile(join(dir, "js", "xor_sigmoid.js"))).toBeUndefined();
    expect(diagnostics.filter((d) => d.file !== "wrong.ts")).toEqual([]);
    // the altered declaration breaks the equality of the namespaces (line 4) and the Float32Array use after the type checks
    expect(diagnostics.filter((d) => d.file === "wrong.ts").map((d) => d.line)).toEqual([4, 5 + exported.xor_sigmoid.length]);
  });
});

describe("the package", () => {
  it('is importable as `import { compile } from "bpgen"` from a plain ES module (dist/, no tsx)', () => {
    const dir = tempProject({
      "use.mjs": `import { compile, compileFile, BpgenError, VERSION } from "bpgen";
import { writeFileSync } from "node:fs";
const text = process.argv[2] ?? "";
const result = await compile(${JSON.stringify(exampleText("xor_sigmoid"))}, { target: "js", sourceFile: "xor.json" });
for (const f of result.files) writeFileSync(f.fileName, f.text);
const m = await import("./xor_sigmoid.js");
let error;
try {
  await compile({ name: "bad", input: 3, layers: [{ type: "dense", units: 0 }], loss: "mse" });
} catch (e) {
  error = e;
}
console.log(JSON.stringify({
  version: VERSION,
  files: result.files.map((f) => f.fileName),
  paramCount: m.meta.paramCount,
  fromFile: typeof compileFile,
  error: { isBpgenError: error instanceof BpgenError, kind: error?.kind, exitCode: error?.exitCode, message: error?.message },
}));
`,
    });
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(ROOT, join(dir, "node_modules", "bpgen"), "dir");
    const r = node("use.mjs", dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { version: string; files: string[]; paramCount: number; fromFile: string; error: { isBpgenError: boolean; kind: string; exitCode: number; message: string } };
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(out.version).toBe(pkg.version);
    expect(out.files).toEqual(["xor_sigmoid.js", "xor_sigmoid.d.ts"]);
    expect(out.paramCount).toBe(17);
    expect(out.fromFile).toBe("function");
    expect(out.error).toEqual({ isBpgenError: true, kind: "input", exitCode: 2, message: expect.stringContaining("layers[0].units") });
    expect(out.error.message).not.toMatch(/SyntaxError|Expression expected/);
  });

  it("ships every file that README.md and the documents it ships link to (docs/, examples/, BENCHMARKS.md)", () => {
    const shipped = new Set(packed().paths);
    const documents = [...shipped].filter((p) => p.endsWith(".md"));
    expect(documents).toEqual(expect.arrayContaining(["README.md", "BENCHMARKS.md", "docs/cli.md", "docs/net-json.md", "docs/module-api.md"]));
    const broken: string[] = [];
    const readmeLinks = new Set<string>();
    for (const doc of documents) {
      for (const target of localLinks(doc)) {
        if (doc === "README.md") readmeLinks.add(target);
        if (!shipped.has(target)) broken.push(`${doc} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
    // the README's links were found (so the check above checked something): the documents and an example
    expect([...readmeLinks]).toEqual(expect.arrayContaining(["docs/cli.md", "docs/module-api.md", "docs/ARCHITECTURE.md", "examples/chain3.json", "BENCHMARKS.md"]));
    // the data the README's training commands read
    expect(shipped.has("examples/data/iris.csv")).toBe(true);
  });

  it("packs a tarball that installs into a fresh project, where `npx bpgen net.json --target js` writes a module that trains", () => {
    const { file: tarball, paths } = packed();
    for (const wanted of ["LICENSE", "README.md", "package.json", "bin/bpgen.js", "dist/index.js", "dist/index.d.ts", "dist/cli.js", "dist/emit/targets.js", "schema/net.schema.json", "templates/rng.ts"]) {
      expect(paths).toContain(wanted);
    }
    expect(paths.filter((p) => /^(src|test|bench|generated|scratch)\//.test(p))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain("tsx");

    const project = tempProject({ "net.json": exampleText("xor_sigmoid"), "train.mjs": xorTrainer("./generated/xor_sigmoid.js") });
    const install = spawnSync("npm", ["install", "--save-dev", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project, encoding: "utf8", env: userEnv() });
    expect(install.status, install.stderr).toBe(0);
    const build = spawnSync("npx", ["--no", "bpgen", "net.json", "--target", "js"], { cwd: project, encoding: "utf8", env: userEnv() });
    expect(build.stderr).toBe("");
    expect(build.status).toBe(0);
    expect(build.stdout).toBe(`wrote ${join("generated", "xor_sigmoid.js")}\nwrote ${join("generated", "xor_sigmoid.d.ts")}\n`);
    const header = readFileSync(join(project, "generated", "xor_sigmoid.js"), "utf8").split("\n").slice(0, 2);
    expect(header[1]).toBe("// Regenerate with: npx bpgen net.json --target js");
    const r = node("train.mjs", project);
    expect(r.stderr).toBe("");
    expect(xorResult(r.stdout).correct).toBe(4);
    // the README's relative links resolve inside the installed package
    const installed = join(project, "node_modules", "bpgen");
    const links = localLinks("README.md");
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !existsSync(join(installed, l)))).toEqual([]);
    // the installed command is the compiled one: no tsx was installed with it
    expect(readdirSync(join(project, "node_modules"))).not.toContain("tsx");
  }, 300_000);
});
