/**
 * What bpgen says about a function it does not have (src/frontend/elsewhere.ts): suggestions go by meaning. A name
 * another library defines gets the bpgen spelling of the same function, or a reason and nothing else; only a name
 * nobody defines gets the nearest spelling. Every alternative the table offers compiles.
 */
import * as mathjs from "mathjs";
import { describe, expect, it } from "vitest";
import { BpgenError } from "../src/errors.ts";
import { ELSEWHERE } from "../src/frontend/elsewhere.ts";
import { BUILTINS } from "../src/frontend/functions.ts";
import { compile } from "../src/pipeline.ts";
import type { EquationNetSpec, LayerNetSpec } from "../src/spec/types.ts";

/**
 * The names an alternative may use: as tensors (vectors, matrices A and B, scalar bounds, an image X with two
 * channels and a 3×3 filter W from two channels to two), or all as scalars.
 */
const TENSORS = { x: [3], y: [3], a: [3], b: [3], p: [3], q: [3], A: [3, 3], B: [3, 3], alpha: [], lo: [], hi: [], c: [3], X: [4, 4, 2], W: [3, 3, 2, 2] } as const;
const SCALARS = Object.fromEntries(Object.keys(TENSORS).map((n) => [n, []]));

function net(equation: string, shapes: Readonly<Record<string, readonly number[]>> = TENSORS): EquationNetSpec {
  return {
    name: "suggestion_case",
    params: Object.fromEntries(Object.entries(shapes).map(([n, shape]) => [n, { shape: [...shape], init: 0.5 }])),
    inputs: {},
    targets: {},
    equations: [`e = ${equation}`],
    output: "e",
    loss: "e",
  };
}

async function errorOf(equation: string): Promise<{ message: string; suggestion?: string }> {
  try {
    await compile(net(equation), { precision: "f64", kernels: "js", format: false });
  } catch (e) {
    if (!(e instanceof BpgenError)) throw e;
    const [d] = e.details;
    return { message: d.message, ...(d.suggestion === undefined ? {} : { suggestion: d.suggestion }) };
  }
  throw new Error(`${equation} compiled`);
}

/** mathjs's functions that its parser reads as calls (`not`, `and`, `or`, `xor` are operators). */
const mathjsFunctions = Object.keys(mathjs).filter(
  (k) =>
    /^[a-z]/.test(k) && typeof (mathjs as Record<string, unknown>)[k] === "function" && !k.endsWith("Dependencies") && mathjs.parse(`${k}(x)`).type === "FunctionNode",
);

describe("suggestions for unknown functions", () => {
  it("never propose a bpgen function by spelling for a name mathjs defines", async () => {
    const missing = mathjsFunctions.filter((n) => !BUILTINS.has(n));
    expect(missing.length).toBeGreaterThan(100);
    const wrong: string[] = [];
    for (const name of missing) {
      const { message, suggestion } = await errorOf(`sum(${name}(x))`);
      expect(message, name).toContain(`unknown function "${name}"`);
      const meant = ELSEWHERE.get(name)?.instead;
      if (suggestion !== (meant === undefined ? undefined : JSON.stringify(meant))) wrong.push(`${name} → ${suggestion}`);
    }
    expect(wrong).toEqual([]);
  });

  it("give the same function under bpgen's name, and the reason where there is none", async () => {
    expect(await errorOf("sum(arctan(x))")).toEqual({ message: 'unknown function "arctan"', suggestion: '"atan(x)"' });
    expect(await errorOf("sum(logistic(x))")).toEqual({ message: 'unknown function "logistic"', suggestion: '"sigmoid(x)"' });
    expect(await errorOf("sum(gamma(x))")).toEqual({ message: 'unknown function "gamma" (the gamma family is not an op yet)' });
    // numpy's var divides by n, mathjs's variance (a bpgen function) by n − 1: the advice keeps numpy's meaning
    expect(await errorOf("var(x)")).toEqual({ message: 'unknown function "var" (numpy\'s default divides by n)', suggestion: '"mean((x - mean(x)) .^ 2)"' });
  });

  it("suggest the nearest spelling only for a name no library defines", async () => {
    expect(await errorOf("sum(sigmoud(x))")).toEqual({ message: 'unknown function "sigmoud"', suggestion: '"sigmoid"' });
    expect(await errorOf("sum(sofplus(x))")).toEqual({ message: 'unknown function "sofplus"', suggestion: '"softplus"' });
    expect((await errorOf("sum(qwertyuiop(x))")).suggestion).toBeUndefined();
  });

  it("sin, pow, cot and erf are functions of their own (once suggested as sign, log, dot and exp)", async () => {
    for (const f of ["sin(x)", "pow(alpha, 2)", "cot(x)", "erf(x)"]) {
      const result = await compile(net(`sum(${f})`), { precision: "f64", kernels: "js", format: false });
      expect(result.source, f).toContain("export function gradient");
    }
  });

  it("every alternative the table offers compiles (n is a size: 3)", async () => {
    for (const [name, { instead }] of ELSEWHERE) {
      if (instead === undefined) continue;
      const text = instead.replace(/\bn\b/g, "3");
      const attempt = (shapes: Readonly<Record<string, readonly number[]>>) =>
        compile(net(`sum(${text})`, shapes), { precision: "f64", kernels: "js", format: false }).then(
          (r) => r.source.includes("export function gradient"),
          (e: unknown) => `${name}: ${instead}: ${e instanceof Error ? e.message : String(e)}`,
        );
      const asTensors = await attempt(TENSORS);
      expect(asTensors === true || (await attempt(SCALARS)) === true, String(asTensors)).toBe(true);
    }
  });

  it("layer activations get the same advice", async () => {
    const spec: LayerNetSpec = { name: "act", input: 2, layers: [{ type: "dense", units: 2, activation: "expit" }], loss: "mse" };
    const error = await compile(spec, { precision: "f64", kernels: "js", format: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BpgenError);
    const [d] = (error as BpgenError).details;
    expect(d).toMatchObject({ message: 'unknown activation "expit"', suggestion: '"sigmoid(x)"' });
  });
});
