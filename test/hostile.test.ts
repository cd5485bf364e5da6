/**
 * Bad and hostile input through the command line. Every malformed file must exit 2 with a message that
 * names the file, the line:column, the path or equation, and what was expected; print no stack trace;
 * and leave the existing output (and everything else in its folder) byte for byte as it was. Hostile names
 * and text that bpgen accepts must compile to a module that loads, runs, and computes exactly what the
 * same network with plain names computes — without ever running any of the text (proved with a payload
 * that would set a global, pollute Object.prototype and write a marker file).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FloatArray, loadModule, type NetModule } from "./helpers/load-module.ts";
import { compile } from "../src/pipeline.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";
import { ROOT, tempDir } from "./helpers/cli.ts";
import { type BadInput, EQUATION_INPUTS, JSON_INPUTS, SCHEMA_INPUTS } from "./helpers/fuzz-bad-inputs.ts";
import { MARKER, PAYLOAD, STACK_TRACE, assertNoTrace, importInChild, positionOf, runCli, snapshot } from "./helpers/fuzz-cli.ts";

const PREVIOUS = "// the previous output, which a failed run must leave alone\n";
/** Characters that must never reach the terminal raw: C0/C1 controls (but \n), line separators, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const BAD_INPUTS = [...JSON_INPUTS, ...SCHEMA_INPUTS, ...EQUATION_INPUTS];

beforeAll(() => assertNoTrace());
afterAll(() => assertNoTrace());

/** Runs `bpgen input.json -o out.ts` over an existing out.ts and checks everything a bad input must do. */
async function expectRejected(c: BadInput): Promise<string> {
  const dir = tempDir();
  const file = join(dir, "input.json");
  writeFileSync(file, c.text);
  writeFileSync(join(dir, "out.ts"), PREVIOUS);
  const before = snapshot(dir);
  const run = await runCli([file, "-o", join(dir, "out.ts")]);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe("");
  const firstLine = run.stderr.split("\n")[0];
  if (c.at) expect(firstLine).toMatch(new RegExp(`^${escape(file)}:${positionOf(c.text, c.at.needle, c.at.nth, c.at.shift)}: error: `));
  for (const say of c.says) typeof say === "string" ? expect(run.stderr).toContain(say) : expect(run.stderr).toMatch(say);
  for (const not of c.never ?? []) typeof not === "string" ? expect(run.stderr).not.toContain(not) : expect(run.stderr).not.toMatch(not);
  // every error names the file and position, and says what was expected
  const errors = run.stderr.split("\n").filter((line) => / error: /.test(line) && !line.startsWith(" "));
  for (const line of errors) expect(line).toMatch(new RegExp(`^${escape(file)}:\\d+:\\d+: error: `));
  expect(run.stderr.match(/\n {2}expected: /g)?.length ?? 0).toBeGreaterThanOrEqual(errors.length);
  if (c.errors !== undefined) expect(errors).toHaveLength(c.errors);
  expect(run.stderr).not.toMatch(STACK_TRACE);
  expect(run.stderr).not.toContain("internal error");
  expect(run.stderr).not.toMatch(RAW_CONTROL);
  expect(snapshot(dir)).toEqual(before);
  assertNoTrace(dir);
  return run.stderr;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("malformed and hostile net.json files are rejected clearly, and nothing is written", () => {
  it(`covers at least 40 inputs (${BAD_INPUTS.length})`, () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(BAD_INPUTS.map((c) => c.label)).size).toBe(BAD_INPUTS.length);
  });
  describe("JSON", () => JSON_INPUTS.forEach((c) => it(c.label, () => expectRejected(c))));
  describe("schema and names", () => SCHEMA_INPUTS.forEach((c) => it(c.label, () => expectRejected(c))));
  describe("equations, functions and activations", () => EQUATION_INPUTS.forEach((c) => it(c.label, () => expectRejected(c))));

  it("draws a caret under the character an equation error is about", async () => {
    const stderr = await expectRejected(EQUATION_INPUTS[0]);
    const lines = stderr.split("\n");
    const shown = lines.findIndex((l) => l.startsWith('  in "h = sigmoud('));
    expect(lines[shown + 1]).toBe(`${" ".repeat(lines[shown].indexOf("sigmoud"))}^`);
  });
});

describe("command-line misuse exits 2 and writes nothing", () => {
  const good = readFileSync(join(ROOT, "examples", "chain3.json"), "utf8");

  /** A folder with a good input, a bad input and existing outputs for both. */
  function setup(): { dir: string; good: string; bad: string; out: string } {
    const dir = tempDir();
    const out = join(dir, "generated");
    mkdirSync(out);
    writeFileSync(join(dir, "good.json"), good);
    const bad = good.replace('"z = w2 * y"', '"z = w2 * yy"');
    expect(bad).not.toBe(good);
    writeFileSync(join(dir, "bad.json"), bad);
    writeFileSync(join(out, "chain3.ts"), PREVIOUS);
    return { dir, good: join(dir, "good.json"), bad: join(dir, "bad.json"), out };
  }

  it("with several inputs, one bad input means none is written and no output is touched", async () => {
    const { dir, good: g, bad, out } = setup();
    const before = snapshot(dir);
    const run = await runCli([g, bad, g, "-o", out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^${escape(bad)}:\\d+:\\d+: error: unknown name "yy"`));
    expect(run.stderr).toContain('did you mean "y"?');
    expect(snapshot(dir)).toEqual(before);
  });

  it("two inputs that would write the same file are an error, not an overwrite", async () => {
    const { dir, good: g, out } = setup();
    const twin = join(dir, "twin.json");
    writeFileSync(twin, good);
    const before = snapshot(dir);
    const run = await runCli([g, twin, "-o", out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${twin} and ${g} would both write ${join(out, "chain3.ts")}`);
    expect(snapshot(dir)).toEqual(before);
  });

  it("--out naming one file for several inputs", async () => {
    const { dir, good: g, bad } = setup();
    const before = snapshot(dir);
    const run = await runCli([g, bad, "-o", join(dir, "one.ts")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--out names one file but several inputs were given");
    expect(run.stderr).toContain(`found: ${join(dir, "one.ts")}`);
    expect(snapshot(dir)).toEqual(before);
  });

  it("an output folder that cannot be created", async () => {
    const { dir, good: g } = setup();
    const before = snapshot(dir);
    const run = await runCli([g, "-o", join(dir, "good.json", "sub")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot write ${join(dir, "good.json", "sub", "chain3.ts")}`);
    expect(run.stderr).not.toMatch(STACK_TRACE);
    expect(snapshot(dir)).toEqual(before);
  });

  it("the same input named twice is compiled and written once", async () => {
    const { dir, good: g, out } = setup();
    const run = await runCli([g, join(dir, ".", "good.json"), "-o", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/^wrote /gm)).toHaveLength(1);
    expect(readFileSync(join(out, "chain3.ts"), "utf8")).toMatch(/^\/\/ @generated by bpgen/);
  });

  it("a missing input file", async () => {
    const { dir } = setup();
    const run = await runCli([join(dir, "missing.json"), "-o", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(dir, "missing.json")}: error: cannot read ${join(dir, "missing.json")}: no such file`);
  });

  it("an unknown option and a bad --precision", async () => {
    const { dir, good: g } = setup();
    const before = snapshot(dir);
    const unknown = await runCli([g, "--frobnicate", "-o", dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--frobnicate'");
    const precision = await runCli([g, "--precision", "f16", "-o", dir]);
    expect(precision.code).toBe(2);
    expect(precision.stderr).toMatch(/argument 'f16' is invalid.*Allowed choices are f32, f64/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("gradcheck with a bad --batch, and with a bad input among good ones", async () => {
    const { good: g, bad } = setup();
    const batch = await runCli(["gradcheck", g, "--batch", "0"]);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain("--batch must be an integer of at least 1");
    expect(batch.stderr).toContain("found: 0");
    const mixed = await runCli(["gradcheck", g, bad]);
    expect(mixed.code).toBe(2);
    expect(mixed.stdout).toBe("");
    expect(mixed.stderr).toMatch(new RegExp(`^${escape(bad)}:\\d+:\\d+: error: unknown name "yy"`));
  });

  it("--debug adds a stack trace, and only then", async () => {
    const { dir, bad } = setup();
    const plain = await runCli([bad, "-o", dir]);
    const debug = await runCli([bad, "-o", dir, "--debug"]);
    expect(plain.code).toBe(2);
    expect(debug.code).toBe(2);
    expect(plain.stderr).not.toMatch(STACK_TRACE);
    expect(debug.stderr).toMatch(STACK_TRACE);
    expect(debug.stderr.startsWith(plain.stderr.trimEnd())).toBe(true);
  });
});

describe("limits", () => {
  it("a network just under the depth limit compiles and runs", async () => {
    // 996 operations to y497 and 2 more in the loss (the limit is 1000). The parameter is used once: a
    // parameter used in ~500 equations makes a ~500-term sum in its gradient, which prettier cannot format.
    const equations = ["y0 = w * x", ...Array.from({ length: 497 }, (_, i) => `y${i + 1} = tanh(y${i}) + 0.5`)];
    const spec: EquationNetSpec = { name: "deep", params: { w: { shape: [] } }, inputs: { x: [] }, targets: { t: [] }, equations, output: "y497", loss: "(y497 - t)^2" };
    const m = loadModule((await compile(spec, { precision: "f64", format: false })).source);
    const g = new Float64Array(1);
    expect(Number.isFinite(m.gradient(Float64Array.of(0.9), Float64Array.of(0.5), Float64Array.of(0.1), g, 1))).toBe(true);
    expect(Number.isFinite(g[0])).toBe(true);
  });
});

// ---- hostile input that bpgen accepts ------------------------------------------------------------------------

interface Names {
  net: string;
  W1: string;
  b1: string;
  W2: string;
  c: string;
  x: string;
  t: string;
  f: string;
  h: string;
  o: string;
  p: string;
  /** A chain of scalar equations, one per name. */
  chain: string[];
}

/** One network under any names: a layer through a user function, softmax output, and a chain of scalars. */
function network(n: Names): EquationNetSpec {
  const chain = n.chain.map((name, i) => `${name} = ${i === 0 ? `sum(${n.h} .* ${n.h})` : `tanh(${n.chain[i - 1]}) * ${n.c} + ${n.chain[i - 1]}`}`);
  const last = n.chain[n.chain.length - 1];
  return {
    name: n.net,
    params: { [n.W1]: { shape: [3, 2] }, [n.b1]: { shape: [3] }, [n.W2]: { shape: [2, 3] }, [n.c]: { shape: [] } },
    inputs: { [n.x]: [2] },
    targets: { [n.t]: [2] },
    functions: { [n.f]: "x / (1 + abs(x))" },
    equations: [`${n.h} = ${n.f}(${n.W1} * ${n.x} + ${n.b1})`, `${n.o} = ${n.W2} * ${n.h}`, `${n.p} = softmax(${n.o})`, ...chain],
    output: n.p,
    loss: `logsumexp(${n.o}) - sum(${n.t} .* ${n.o}) + 0.01 * ${last}^2`,
  };
}

const INTERNAL = ["meta", "checkBatch", "acc", "i", "s", "invB", "Math", "J", "L", "R", "meanL", "t1", "d_exports", "sgdGrads", "capacity"];
const MORE = ["reserveBatch", "initParams", "forward", "loss", "gradient", "sgdStep", "rngSeed", "checkLength", "Float32Array", "xRow", "out", "lr", "batch", "seed"];
const PLAIN: Names = {
  net: "plain",
  ...{ W1: "W1", b1: "b1", W2: "W2", c: "c", x: "x", t: "t", f: "soft", h: "h", o: "o", p: "p" },
  chain: [...INTERNAL, ...MORE, "long"].map((_, i) => `e${i}`),
};
/** Names that are keys of Object.prototype, names the generated code uses itself, globals, and a 3000-character name. */
const HOSTILE: Names = {
  net: "__proto__",
  // h, o and p are vectors kept in module-level buffers: a top-level `const exports` would break CommonJS
  ...{ W1: "toString", b1: "valueOf", W2: "hasOwnProperty", c: "isPrototypeOf", x: "params", t: "grads", f: "sigmoid", h: "exports", o: "require", p: "module" },
  chain: [...INTERNAL, ...MORE, `n${"_long".repeat(600)}`],
};

describe("hostile names that bpgen accepts", () => {
  it("the payload leaves traces when it does run (so their absence proves it did not)", () => {
    const dir = tempDir();
    const run = spawnSync(process.execPath, ["-e", `${PAYLOAD}; console.log(globalThis.__pwned, ({}).polluted)`], { cwd: dir, encoding: "utf8" });
    expect(run.stdout.trim()).toBe("1 1");
    expect(existsSync(join(dir, MARKER))).toBe(true);
  });

  it("compile to modules that compute exactly what the plain network computes (f64 and f32)", async () => {
    for (const precision of ["f64", "f32"] as const) {
      const plain = loadModule((await compile(network(PLAIN), { precision, format: false })).source);
      const hostile = loadModule((await compile(network(HOSTILE), { precision, format: false })).source);
      expect(hostile.meta.name).toBe("__proto__");
      expect(hostile.meta.params.map((p) => p.name)).toEqual(["toString", "valueOf", "hasOwnProperty", "isPrototypeOf"]);
      expect(run(hostile)).toEqual(run(plain));
      expect(run(hostile).every((v) => Number.isFinite(v))).toBe(true);
    }
    assertNoTrace();
  });

  it("a user function named like a builtin (sigmoid) is the user's function", async () => {
    const m = loadModule((await compile(network(HOSTILE), { precision: "f64", format: false })).source);
    const softsign = loadModule((await compile({ ...network(PLAIN), functions: { soft: "x / (1 + abs(x))" } }, { precision: "f64", format: false })).source);
    const sigmoid = loadModule((await compile({ ...network(PLAIN), functions: { soft: "1 / (1 + exp(-x))" } }, { precision: "f64", format: false })).source);
    expect(run(m)).toEqual(run(softsign));
    expect(run(m)).not.toEqual(run(sigmoid));
  });

  it("a file path that closes the header comment, with line separators and a payload, stays in the comment", async () => {
    const dir = tempDir();
    // a file name cannot hold "/", so "*/" ends the folder name
    mkdirSync(join(dir, "evil*"));
    // the header names the input relative to its project root (the folder of this package.json)
    writeFileSync(join(dir, "package.json"), "{}\n");
    const input = join(dir, "evil*", `\n\u2028${PAYLOAD};\u2029'"\`\${globalThis.__pwned = 1}.json`);
    writeFileSync(input, JSON.stringify(network({ ...HOSTILE, net: "evil_path" })));
    const out = join(dir, "out");
    const run = await runCli([input, "-o", out]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const source = readFileSync(join(out, "evil_path.ts"), "utf8");
    const header = source.split("\n").slice(0, 2);
    expect(header.every((line) => line.startsWith("// "))).toBe(true);
    expect(header[0]).toContain("evil*");
    expect(header[0]).toContain("globalThis.__pwned = 1");
    expect(source).not.toMatch(/[\u2028\u2029]/);
    loadModule(source).initParams(1);
    assertNoTrace(dir);
  });

  it("write modules that a fresh Node process imports and runs, with no trace of any payload", async () => {
    const dir = tempDir();
    const files: string[] = [];
    for (const [label, spec] of [
      ["plain", network(PLAIN)],
      ["hostile", network({ ...HOSTILE, net: "constructor" })],
    ] as const) {
      const input = join(dir, `${label}.json`);
      writeFileSync(input, JSON.stringify({ ...spec, description: `*/ ${PAYLOAD} /*`, comment: `"; ${PAYLOAD}; "` }));
      const run = await runCli([input, "-o", dir, "--precision", "f64"]);
      expect(run.code, run.stderr).toBe(0);
      files.push(`${spec.name}.ts`);
    }
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(files));
    const { results } = importInChild(dir, files);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(results.every((r) => r.ok && r.gradFinite && !r.pwned)).toBe(true);
    expect(results[1].J).toBe(results[0].J);
    expect(existsSync(join(dir, MARKER))).toBe(false);
    assertNoTrace(dir);
  });
});

/** Everything a module computes on one fixed batch, as plain numbers. */
function run(m: NetModule): number[] {
  const f64 = m.initParams(1) instanceof Float64Array;
  const array = (values: number[]): FloatArray => (f64 ? Float64Array.from(values) : Float32Array.from(values));
  const batch = 3;
  const p = array(Array.from({ length: m.meta.paramCount }, (_, i) => Math.sin(1 + i) * 0.7));
  const x = array(Array.from({ length: batch * m.meta.inputSize }, (_, i) => Math.cos(2 + i)));
  const y = array(Array.from({ length: batch * m.meta.targetSize }, (_, i) => (i % 2 === 0 ? 1 : 0)));
  const out = array(new Array<number>(batch * m.meta.outputSize).fill(0));
  const g = array(new Array<number>(m.meta.paramCount).fill(0));
  m.forward(p, x, out, batch);
  const J = m.gradient(p, x, y, g, batch);
  const L = m.loss(p, x, y, batch);
  m.sgdStep(p, x, y, 0.1, batch);
  return [J, L, ...out, ...g, ...p, ...m.initParams(7)];
}
