import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileFile } from "../src/pipeline.ts";
import { ROOT, bpgen, tempDir } from "./helpers/cli.ts";

const example = (name: string) => join(ROOT, "examples", `${name}.json`);

describe("bpgen build", () => {
  it("writes generated/<name>.ts under the current directory, identical to compile()", async () => {
    const dir = tempDir();
    const run = bpgen([example("chain3")], dir);
    expect(run.code).toBe(0);
    const written = readFileSync(join(dir, "generated", "chain3.ts"), "utf8");
    expect(written).toBe((await compileFile(example("chain3"))).source);
  });

  it("honours -o for a file and for a folder, and several inputs", () => {
    const dir = tempDir();
    expect(bpgen([example("chain3"), "-o", join(dir, "one.ts")]).code).toBe(0);
    expect(existsSync(join(dir, "one.ts"))).toBe(true);
    expect(bpgen([example("chain3"), example("xor_sigmoid"), "--out", join(dir, "many")]).code).toBe(0);
    expect(readdirSync(join(dir, "many")).sort()).toEqual(["chain3.ts", "xor_sigmoid.ts"]);
  });

  it("emits Float64Array under --precision f64 and says so in the header", () => {
    const dir = tempDir();
    expect(bpgen([example("xor_sigmoid"), "--precision", "f64", "-o", dir]).code).toBe(0);
    const text = readFileSync(join(dir, "xor_sigmoid.ts"), "utf8");
    expect(text).toMatch(/--precision f64/);
    expect(text).toMatch(/export function gradient\(\s*params: Float64Array/);
    expect(text).not.toMatch(/new Float32Array|: Float32Array[,)]/);
  });

  it("prints operation counts with --stats", () => {
    const run = bpgen([example("mnist_mlp"), "-o", tempDir(), "--stats"]);
    expect(run.code).toBe(0);
    const counts = /arithmetic operations per sample: forward (\d+), loss (\d+), forward\+backward (\d+) \((\d+\.\d+)× the loss\)/.exec(run.stdout);
    expect(counts, run.stdout).not.toBeNull();
    const [forward, loss, gradient, ratio] = (counts ?? []).slice(1).map(Number);
    // the cheap-gradient principle: the whole gradient costs a small multiple of the loss
    expect(loss).toBeGreaterThanOrEqual(forward);
    expect(ratio).toBeCloseTo(gradient / loss, 2);
    expect(ratio).toBeLessThanOrEqual(3);
    expect(run.stdout).toMatch(/without sharing .*: \d+ per sample, \d+\.\d+× more/);
  });
});

describe("bpgen --verify", () => {
  it("passes on the committed generated/ folder (the golden files are current)", () => {
    const run = bpgen([...readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json")).map((f) => join("examples", f)), "--verify"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("exits 1 and names the file when it differs, writing nothing", () => {
    const dir = tempDir();
    const target = join(dir, "chain3.ts");
    writeFileSync(target, "// stale\n");
    const run = bpgen([example("chain3"), "-o", target, "--verify"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(target);
    expect(readFileSync(target, "utf8")).toBe("// stale\n");
  });
});

describe("bad input", () => {
  it("exits 2 with file, line:column and JSON path, no stack trace, and leaves the old output untouched", () => {
    const dir = tempDir();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{\n  "name": "bad",\n  "input": 3,\n  "layers": [{ "type": "dense", "units": 0 }],\n  "loss": "mse"\n}\n');
    const target = join(dir, "bad.ts");
    writeFileSync(target, "// previous\n");
    const run = bpgen([bad, "-o", target]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:4:`);
    expect(run.stderr).toContain("layers[0].units");
    expect(run.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(readFileSync(target, "utf8")).toBe("// previous\n");
  });

  it("names the equation of an error inside one", () => {
    const dir = tempDir();
    const bad = join(dir, "eq.json");
    const spec = {
      name: "eq",
      params: { W: { shape: [3, 2] } },
      inputs: { x: [3] },
      targets: {},
      equations: ["h = W * x"],
      output: "h",
      loss: "sum(h)",
    };
    writeFileSync(bad, JSON.stringify(spec, null, 2));
    const run = bpgen([bad, "-o", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("equations[0]");
    expect(run.stderr).toContain('"h = W * x"');
    expect(run.stderr).toMatch(/\[3, 2\] \* \[3\]/);
    expect(readdirSync(dir)).toEqual(["eq.json"]);
  });

  it("with several inputs, one bad input means none is written", () => {
    const dir = tempDir();
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ nope");
    const run = bpgen([example("chain3"), bad, "-o", dir]);
    expect(run.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["bad.json"]);
  });

  it("reports a missing file clearly", () => {
    const run = bpgen([join(tempDir(), "missing.json")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing\.json/);
  });
});

describe("bpgen gradcheck", () => {
  it("prints a table per parameter and passes on every example", () => {
    const files = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".json")).map((f) => join("examples", f));
    const run = bpgen(["gradcheck", ...files]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    for (const name of ["w1", "w2", "w3", "W1", "b1", "W5"]) expect(run.stdout).toMatch(new RegExp(`^${name}\\s+\\[`, "m"));
    expect(run.stdout.match(/gradcheck passed/g)?.length).toBe(files.length);
  });

  it("exits 1 when a gradient is wrong (checked through the same code path)", async () => {
    const { gradcheck } = await import("../src/check/gradcheck.ts");
    const { loadModule } = await import("../src/check/module.ts");
    const { source } = await compileFile(example("chain3"), { precision: "f64" });
    const good = loadModule<Float64Array>(source);
    const broken = { ...good, gradient: (p: Float64Array, x: Float64Array, y: Float64Array, g: Float64Array, b?: number) => {
      const J = good.gradient(p, x, y, g, b);
      g[1] *= 1.01;
      return J;
    } };
    const report = gradcheck(broken, undefined);
    expect(report.ok).toBe(false);
    expect(report.rows.map((r) => r.ok)).toEqual([true, false, true]);
  });
});
