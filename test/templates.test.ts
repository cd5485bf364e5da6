import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type InterfaceDeclaration, type JSDocableNode, Node, Project, type SourceFile, type Type } from "ts-morph";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { API_DECLARATIONS, apiDeclarations } from "../src/emit/api-types.ts";
import { initConstant, initHeNormal, initXavierUniform } from "../templates/init.ts";
import * as rng from "../templates/rng.ts";
import { rngNext, rngNormal, rngSeed } from "../templates/rng.ts";

const N = 100_000;
type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const ARRAYS: [string, Ctor][] = [
  ["Float32Array", Float32Array],
  ["Float64Array", Float64Array],
];

function draws(seed: number, n: number, next: (s: Uint32Array) => number = rngNext): Float64Array {
  const state = rngSeed(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = next(state);
  return out;
}

function moments(xs: ArrayLike<number>, from = 0, to = xs.length): { mean: number; variance: number } {
  let sum = 0;
  for (let i = from; i < to; i++) sum += xs[i];
  const mean = sum / (to - from);
  let sq = 0;
  for (let i = from; i < to; i++) sq += (xs[i] - mean) ** 2;
  return { mean, variance: sq / (to - from - 1) };
}

describe("rng", () => {
  it("is deterministic for a seed, and different seeds give different streams", () => {
    expect(draws(42, 1000)).toEqual(draws(42, 1000));
    expect(draws(0, 1000)).not.toEqual(draws(1, 1000));
    const firsts = new Set(Array.from({ length: 100 }, (_, s) => draws(s, 1)[0]));
    expect(firsts.size).toBe(100);
  });

  it("gives unrelated streams for seeds 0, 1, 2 (no correlation, no small shift of one another)", () => {
    const n = 10_000;
    const [a, b, c] = [0, 1, 2].map((s) => draws(s, n));
    for (const [x, y] of [
      [a, b],
      [a, c],
      [b, c],
    ]) {
      const mx = moments(x).mean;
      const my = moments(y).mean;
      let cov = 0;
      for (let i = 0; i < n; i++) cov += (x[i] - mx) * (y[i] - my);
      const corr = cov / (n - 1) / Math.sqrt(moments(x).variance * moments(y).variance);
      expect(Math.abs(corr)).toBeLessThan(5 / Math.sqrt(n));
      expect(Array.from(x)).not.toContain(y[0]);
    }
  });

  it("keeps its stream fixed (golden values: same numbers on every platform)", () => {
    // changing these changes every generated module's initParams(seed): do it on purpose only
    expect(Array.from(rngSeed(1))).toEqual([3696427742]);
    expect(Array.from(draws(1, 4))).toEqual([
      0.9447598373517394, 0.22643660265021026, 0.9495679587125778, 0.6726396435406059,
    ]);
  });

  it("draws uniforms in [0, 1) with mean 1/2 and variance 1/12", () => {
    const u = draws(7, N);
    let min = Infinity;
    let max = -Infinity;
    for (const v of u) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const { mean, variance } = moments(u);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    // Var((U − ½)²) = 1/80 − 1/144 = 1/180
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / N));
  });

  it("draws standard normals with mean 0 and variance 1, all finite", () => {
    const z = draws(11, N, rngNormal);
    expect(z.every(Number.isFinite)).toBe(true);
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    const within1 = z.filter((v) => Math.abs(v) < 1).length / N; // P(|Z| < 1) ≈ 0.6827
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(5 * Math.sqrt((0.6827 * 0.3173) / N));
  });

  it("accepts any number as a seed, deterministically, and tells odd seeds apart", () => {
    const seeds = [
      0,
      1,
      -1,
      0.5,
      1.5,
      -0.5,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 40,
      2 ** 53,
      -(2 ** 40),
      1e300,
      Number.MIN_VALUE,
    ];
    const states = seeds.map((s) => {
      const st = rngSeed(s);
      expect(st).toBeInstanceOf(Uint32Array);
      expect(st.length).toBe(1);
      expect(rngSeed(s)).toEqual(st);
      expect(draws(s, 100)).toEqual(draws(s, 100));
      return st[0];
    });
    expect(new Set(states.slice(0, -2)).size).toBe(seeds.length - 2); // 1e300 and MIN_VALUE need not differ from the rest
    for (const s of [NaN, Infinity, -Infinity, -0]) {
      expect(rngSeed(s)).toEqual(rngSeed(0));
      expect(draws(s, 10).every((v) => v >= 0 && v < 1)).toBe(true);
    }
  });
});

describe("init", () => {
  const SENTINEL = 7;

  it.each(ARRAYS)("initConstant fills only its region (%s)", (_, Arr) => {
    const p = new Arr(10).fill(SENTINEL);
    initConstant(p, 3, 4, -0.25);
    expect(Array.from(p)).toEqual([7, 7, 7, -0.25, -0.25, -0.25, -0.25, 7, 7, 7]);
    initConstant(p, 0, 0, 1);
    expect(p[0]).toBe(SENTINEL);
  });

  it.each(ARRAYS)("initXavierUniform respects its bounds, region and variance 2/(fanIn+fanOut) (%s)", (_, Arr) => {
    const [fanIn, fanOut, offset] = [300, 100, 5];
    const p = new Arr(offset + N + 5).fill(SENTINEL);
    initXavierUniform(p, offset, N, fanIn, fanOut, rngSeed(3));
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const bound = Arr === Float32Array ? Math.fround(limit) : limit;
    let maxAbs = 0;
    for (let i = offset; i < offset + N; i++) maxAbs = Math.max(maxAbs, Math.abs(p[i]));
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.99 * limit);
    expect([...p.subarray(0, offset), ...p.subarray(offset + N)]).toEqual(Array(10).fill(SENTINEL));
    const { mean, variance } = moments(p, offset, offset + N);
    const v = 2 / (fanIn + fanOut); // = limit² / 3
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(v / N));
    // for U(−L, L): Var(X²) = L⁴/5 − L⁴/9 = 4L⁴/45
    expect(Math.abs(variance - v)).toBeLessThan(5 * Math.sqrt((4 * limit ** 4) / 45 / N));
  });

  it.each(ARRAYS)("initHeNormal respects its region and has std √(2/fanIn) (%s)", (_, Arr) => {
    const [fanIn, offset] = [50, 2];
    const p = new Arr(offset + N + 3).fill(SENTINEL);
    initHeNormal(p, offset, N, fanIn, rngSeed(5));
    expect([...p.subarray(0, offset), ...p.subarray(offset + N)]).toEqual(Array(5).fill(SENTINEL));
    expect(p.subarray(offset, offset + N).every(Number.isFinite)).toBe(true);
    const { mean, variance } = moments(p, offset, offset + N);
    const v = 2 / fanIn;
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(v / N));
    expect(Math.abs(variance - v)).toBeLessThan(5 * v * Math.sqrt(2 / N));
  });

  it("is deterministic, and the Float32 result is the rounded Float64 result", () => {
    const fill = <A extends Float32Array | Float64Array>(p: A, seed: number): A => {
      const state = rngSeed(seed);
      initXavierUniform(p, 0, 100, 20, 30, state);
      initConstant(p, 100, 10, 0.1);
      initHeNormal(p, 110, 100, 20, state);
      return p;
    };
    for (const seed of [0, -1, 2 ** 40, 0.5]) {
      const f64 = fill(new Float64Array(210), seed);
      expect(fill(new Float64Array(210), seed)).toEqual(f64);
      expect(fill(new Float32Array(210), seed)).toEqual(Float32Array.from(f64));
    }
    expect(fill(new Float64Array(210), 1)).not.toEqual(fill(new Float64Array(210), 2));
  });
});

describe("templates/*.ts can be spliced by the generator", () => {
  const dir = fileURLToPath(new URL("../templates/", import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort();
  const parsed = files.map((f) => ts.createSourceFile(f, readFileSync(dir + f, "utf8"), ts.ScriptTarget.ES2022, true));
  const functions = parsed.flatMap((sf) => sf.statements.filter(ts.isFunctionDeclaration));
  const names = new Set(functions.map((f) => f.name?.text));

  it("includes rng.ts and init.ts", () => {
    expect(files).toEqual(expect.arrayContaining(["rng.ts", "init.ts"]));
  });

  it.each(files)("%s holds only exported, documented function declarations (imports only of other templates)", (file) => {
    const sf = parsed[files.indexOf(file)];
    for (const st of sf.statements) {
      const where = `${file}: ${st.getText(sf).split("\n")[0]}`;
      if (ts.isImportDeclaration(st)) {
        // the generator copies functions, never imports: only other template files may be imported
        expect((st.moduleSpecifier as ts.StringLiteral).text, where).toMatch(/^\.\/[a-z]+\.ts$/);
        continue;
      }
      expect(ts.isImportEqualsDeclaration(st), where).toBe(false);
      expect(ts.isFunctionDeclaration(st), where).toBe(true);
      const fn = st as ts.FunctionDeclaration;
      expect(fn.name, where).toBeDefined();
      expect(fn.body, where).toBeDefined();
      expect(
        ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword),
        where,
      ).toBe(true);
      expect(ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword) ?? false, where).toBe(false);
      expect(ts.getJSDocCommentsAndTags(fn).length, `${where} needs a doc comment`).toBeGreaterThan(0);
    }
  });

  it("has unique function names across files", () => {
    expect(names.size).toBe(functions.length);
  });

  it("types float array parameters as Float32Array | Float64Array (or Float64Array for f64 scratch, or either constructor)", () => {
    for (const fn of functions)
      for (const param of fn.parameters) {
        const type = (param.type?.getText() ?? "").replace(/\s/g, "");
        if (/Float(32|64)Array/.test(type))
          expect(["Float32Array|Float64Array", "Float64Array", "Float32ArrayConstructor|Float64ArrayConstructor"], `${fn.name?.text}(${param.name.getText()})`).toContain(type);
      }
  });

  it("documents calls to other templates in a `// uses:` comment that matches the code", () => {
    for (const fn of functions) {
      const sf = fn.getSourceFile();
      const called = new Set<string>();
      const visit = (node: ts.Node): void => {
        if (ts.isIdentifier(node) && names.has(node.text) && node.text !== fn.name?.text) called.add(node.text);
        ts.forEachChild(node, visit);
      };
      visit(fn.body!);
      const leading = sf.getFullText().slice(fn.getFullStart(), fn.getStart(sf));
      const uses = /\/\/ uses: *(.*)/.exec(leading)?.[1] ?? "";
      const listed = uses
        .split(/[,\s]+/)
        .filter(Boolean)
        .sort();
      expect(listed, `// uses: above ${fn.name?.text}`).toEqual([...called].sort());
    }
  });

  it("runs spliced into one scope without imports or globals, giving the same numbers", () => {
    const body = functions.map((fn) => fn.getText().replace(/^export\s+/, "")).join("\n");
    const source = `function spliced() {\n${body}\nreturn { rngSeed, initXavierUniform, initHeNormal };\n}`;
    const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
    const t = new Function(`${js}\nreturn spliced();`)() as typeof rng & typeof import("../templates/init.ts");
    const [a, b] = [new Float64Array(40), new Float64Array(40)];
    const [sa, sb] = [t.rngSeed(9), rngSeed(9)];
    t.initXavierUniform(a, 0, 20, 3, 4, sa);
    t.initHeNormal(a, 20, 20, 3, sa);
    initXavierUniform(b, 0, 20, 3, 4, sb);
    initHeNormal(b, 20, 20, 3, sb);
    expect(a).toEqual(b);
    expect(sa).toEqual(sb);
  });
});

describe("the module API's types, printed from their description (src/emit/api-types.ts)", () => {
  // the printed declarations beside the hand-written ones of src/module-api.ts, compared by the TypeScript
  // compiler: same declarations, docs, members, modifiers, and types assignable both ways
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, target: ts.ScriptTarget.ES2022, exactOptionalPropertyTypes: true } });
  const handWritten = project.createSourceFile("/module-api.ts", readFileSync(fileURLToPath(new URL("../src/module-api.ts", import.meta.url)), "utf8"));
  const printedText = [...apiDeclarations("FloatArray").values()].join("\n\n");
  const printed = project.createSourceFile("/printed.ts", `import type { FloatArray } from "./module-api.ts";\n\n${printedText}\n`);
  const checker = project.getTypeChecker().compilerObject;
  const sameType = (a: Type, b: Type) => checker.isTypeAssignableTo(a.compilerType, b.compilerType) && checker.isTypeAssignableTo(b.compilerType, a.compilerType);
  const docOf = (node: JSDocableNode) => node.getJsDocs().map((d) => d.getDescription().trim());
  const TOOL_ONLY = ["FloatArray", "NetModule", "StatefulNetModule", "AnyNetModule", "DirectedRecurrenceLayout"];

  it("prints valid TypeScript, for both array types", () => {
    expect(printed.getPreEmitDiagnostics().map((d) => d.getMessageText())).toEqual([]);
    for (const array of ["Float32Array", "Float64Array"]) {
      const alone = project.createSourceFile(`/alone-${array}.ts`, [...apiDeclarations(array).values()].join("\n\n"));
      expect(alone.getPreEmitDiagnostics().map((d) => d.getMessageText()), array).toEqual([]);
      const arrays = alone.getInterfaceOrThrow("KernelArrays").getProperties().map((p) => p.getType().getSymbol()?.getName());
      expect(new Set(arrays), array).toEqual(new Set([array]));
    }
  });

  it("declares every type of src/module-api.ts a module carries, in the same order, and no other", () => {
    const declared = (sf: SourceFile) => [...sf.getInterfaces(), ...sf.getTypeAliases()].filter((d) => d.isExported()).sort((a, b) => a.getPos() - b.getPos()).map((d) => d.getName());
    expect(declared(printed)).toEqual(declared(handWritten).filter((name) => !TOOL_ONLY.includes(name)));
    expect(API_DECLARATIONS.map((d) => d.name)).toEqual(declared(printed));
  });

  it("declares each the same: doc, members, readonly and optional modifiers, member docs, types", () => {
    for (const alias of printed.getTypeAliases()) {
      const twin = handWritten.getTypeAliasOrThrow(alias.getName());
      expect(docOf(alias), alias.getName()).toEqual(docOf(twin));
      expect(sameType(alias.getType(), twin.getType()), alias.getName()).toBe(true);
    }
    for (const decl of printed.getInterfaces()) {
      const name = decl.getName();
      const twin = handWritten.getInterfaceOrThrow(name);
      expect(docOf(decl), name).toEqual(docOf(twin));
      const shape = (i: InterfaceDeclaration) => i.getMembers().map((m) => `${m.getKindName()} ${Node.isPropertySignature(m) ? m.getName() : m.getText()}`);
      expect(shape(decl), name).toEqual(shape(twin));
      for (const prop of decl.getProperties()) {
        const other = twin.getPropertyOrThrow(prop.getName());
        const where = `${name}.${prop.getName()}`;
        expect([prop.isReadonly(), prop.hasQuestionToken()], where).toEqual([other.isReadonly(), other.hasQuestionToken()]);
        expect(docOf(prop), where).toEqual(docOf(other));
        expect(sameType(prop.getType(), other.getType()), `${where}: ${prop.getType().getText()} vs ${other.getType().getText()}`).toBe(true);
      }
      expect(sameType(decl.getType(), twin.getType()), name).toBe(true);
    }
  });
});
