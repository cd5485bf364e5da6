/**
 * The errors of a recurrence in the equation form: each names the file, the line:column of what it is about, its
 * JSON path, what was expected and what was found — from the schema (unknown and missing keys) and from the builder
 * (names, assignments, shapes, lengths).
 */
import { describe, expect, it } from "vitest";
import { BpgenError, type ErrorDetail } from "../src/errors.ts";
import { compile } from "../src/pipeline.ts";

/** An Elman cell over x [4, 2], with `block` merged into its recurrence and `equations` after it. */
function net(block: Record<string, unknown> = {}, after: string[] = ["y = Wy * hT"], inputs: Record<string, number[]> = { x: [4, 2] }): string {
  const recurrence = { over: { x_t: "x" }, carry: { h: "zeros(3)" }, equations: ["h = tanh(Wx * x_t + Wh * h + b)"], final: { hT: "h" }, ...block };
  const spec = {
    name: "elman",
    params: { Wx: { shape: [3, 2] }, Wh: { shape: [3, 3] }, b: { shape: [3] }, Wy: { shape: [1, 3] } },
    inputs,
    targets: { t: [1] },
    equations: [{ recurrence }, ...after],
    output: "y",
    loss: "0.5 * sum((y - t).^2)",
  };
  return JSON.stringify(spec, null, 2);
}

async function errorsOf(text: string): Promise<readonly ErrorDetail[]> {
  try {
    await compile(text, { sourceFile: "net.json" });
  } catch (e) {
    if (e instanceof BpgenError) return e.details;
    throw e;
  }
  throw new Error("expected the network not to compile");
}

/** The only error of `text`. */
async function errorOf(text: string): Promise<ErrorDetail> {
  const errors = await errorsOf(text);
  expect(errors.map((d) => d.message)).toHaveLength(1);
  return errors[0];
}

/** The line:column of `needle` (its `nth` occurrence) in `text`, moved `shift` characters on. */
function where(text: string, needle: string, shift = 0, nth = 0): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i <= nth; i++) offset = text.indexOf(needle, offset + 1);
  if (offset < 0) throw new Error(`${needle} not in the text`);
  const before = text.slice(0, offset + shift).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

describe("a recurrence that compiles", () => {
  it("the network above compiles as it is", async () => {
    const { source } = await compile(net(), { sourceFile: "net.json" });
    expect(source).toContain("export function gradient");
  });

  it("an output that does not change from step to step is no error (test/equation-recurrence.test.ts checks its values)", async () => {
    const { source } = await compile(net({ outputs: { bs: "2 * b" } }), { sourceFile: "net.json" });
    expect(source).toContain("export function gradient");
  });
});

describe("errors of a recurrence's names", () => {
  it("an unknown name in a step equation: pointed at, with the name meant", async () => {
    const text = net({ equations: ["h = tanh(Wx * x_t + Whh * h + b)"] });
    const e = await errorOf(text);
    expect(e).toMatchObject({ file: "net.json", path: "equations[0].recurrence.equations[0]", message: 'unknown name "Whh"', suggestion: '"Wh"', ...where(text, "Whh") });
  });

  it("a step name read outside the recurrence: hand it out with outputs or final", async () => {
    const text = net({}, ["y = Wy * h"]);
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[1]", message: '"h" is a name inside the recurrence of equations[0]', ...where(text, "Wy * h", 5) });
    expect(e.expected).toContain("outputs");
  });

  it("a name of the recurrence's inside defined again below it: one error, not its echoes where it is used", async () => {
    const text = net({}, ["h = Wy * hT", "y = 2 * h"]);
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[1]", message: '"h" is already defined (by equations[0] (a recurrence))', ...where(text, '"h = Wy', 1) });
  });

  it("final reads a value of one step: carry it, or collect it in outputs", async () => {
    const text = net({ equations: ["z = Wx * x_t + Wh * h + b", "h = tanh(z)"], final: { hT: "h", zT: "z" } });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.final.zT", message: 'final reads "z", a value of one step' });
  });

  it("a carried name that is already a name of the network", async () => {
    const text = net({ carry: { b: "zeros(3)" }, equations: ["b = tanh(Wx * x_t + Wh * b)"], final: { hT: "b" } });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.carry.b", message: '"b" is already defined (in params)' });
  });

  it("a step name read before the step equation that defines it", async () => {
    const text = net({ equations: ["h = tanh(z)", "z = Wx * x_t + Wh * h + b"] });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.equations[0]", message: '"z" is used before it is defined in the step', ...where(text, "tanh(z)", 5) });
  });
});

describe("errors of a recurrence's carried values", () => {
  it("a carried name never assigned in the step", async () => {
    const text = net({ carry: { h: "zeros(3)", c: "zeros(3)" } });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.carry.c", message: 'carried "c" is never assigned in the step', ...where(text, '"c": "', 5) });
  });

  it("a next value whose shape is not the initial value's", async () => {
    const text = net({ equations: ["h = sum(tanh(Wx * x_t + Wh * h + b))"] });
    const e = await errorOf(text);
    expect(e).toMatchObject({
      path: "equations[0].recurrence.equations[0]",
      message: 'carried "h" starts as [3] (its value in carry) but this step assigns it []',
      found: "shape []",
      ...where(text, '"h = sum', 1),
    });
  });

  it("a carried name assigned twice in one step", async () => {
    const text = net({ equations: ["h = tanh(Wx * x_t + Wh * h + b)", "h = 2 * h"] });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.equations[1]", message: 'carried "h" is assigned twice in the step' });
  });
});

describe("errors of a recurrence's sequences", () => {
  it("a sequence whose length is not the stated number of steps", async () => {
    const text = net({ steps: 3 });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.over.x_t", message: 'x has 4 rows, but the recurrence runs 3 steps ("steps": 3)', found: "shape [4, 2]", expected: "a sequence of 3 rows, [3, ...]" });
  });

  it("two sequences of different lengths", async () => {
    const text = net({ over: { x_t: "x", u_t: "u" } }, undefined, { x: [4, 2], u: [5, 2] });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.over.u_t", message: 'u has 5 rows, but the recurrence runs 4 steps (the rows of x, read as "x_t")', ...where(text, '"u_t": "', 7) });
  });

  it("a scalar is not a sequence", async () => {
    const e = await errorOf(net({ over: { x_t: "sum(x)" } }));
    expect(e).toMatchObject({ path: "equations[0].recurrence.over.x_t", message: '"x_t" reads one row per step, but sum(x) is a scalar' });
  });

  it("a direction that is not true or false", async () => {
    const text = net({ reverse: "backwards" });
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[0].recurrence.reverse", message: "reverse must be true or false", expected: "a boolean", found: '"backwards"' });
  });

  it("no sequence and no number of steps", async () => {
    const e = await errorOf(net({ over: {}, equations: ["h = tanh(Wh * h + b)"] }));
    expect(e).toMatchObject({ path: "equations[0].recurrence", message: "a recurrence without sequences needs its number of steps" });
  });

  it("steps alone set the length when nothing is read per step", async () => {
    const { source } = await compile(net({ over: {}, steps: 5, equations: ["h = tanh(Wh * h + b)"] }), { sourceFile: "net.json" });
    expect(source).toContain("export function forward");
  });
});

describe("schema errors of a recurrence", () => {
  it("an unknown key: the near miss suggested, the missing key named", async () => {
    const text = net({ carry: undefined, cary: { h: "zeros(3)" } });
    const errors = await errorsOf(text);
    expect(errors).toHaveLength(2);
    expect(errors).toContainEqual(expect.objectContaining({ path: "equations[0].recurrence.cary", message: 'unknown key "cary"', suggestion: '"carry"', ...where(text, '"cary"') }));
    expect(errors).toContainEqual(expect.objectContaining({ path: "equations[0].recurrence.carry", message: 'missing required key "carry"' }));
  });

  it("an entry that is neither a string nor a recurrence", async () => {
    const text = net().replace('"y = Wy * hT"', "42");
    const e = await errorOf(text);
    expect(e).toMatchObject({ path: "equations[1]", message: "an equation must be a non-empty string", found: "42", ...where(text, "42") });
    expect(e.expected).toContain('{ "recurrence": { ... } }');
  });

  it("values of the wrong type, each described by its field", async () => {
    const text = net({ carry: { h: 3 }, steps: 0, outputs: { hs: "" } });
    const errors = await errorsOf(text);
    // in file order: steps and outputs come after final in this file
    expect(errors.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: "equations[0].recurrence.carry.h", message: "an initial value must be a non-empty string" },
      { path: "equations[0].recurrence.steps", message: "steps must be a positive integer" },
      { path: "equations[0].recurrence.outputs.hs", message: "an output must be a non-empty string" },
    ]);
    expect(errors[0]).toMatchObject(where(text, '"h": 3', 5));
  });

  it("a bad name for a carried value", async () => {
    const e = await errorOf(net({ carry: { "2h": "zeros(3)" } }));
    expect(e).toMatchObject({ path: 'equations[0].recurrence.carry["2h"]', message: 'invalid name "2h" in a recurrence: names must be identifiers' });
  });

  it("a step equation that is not a string", async () => {
    const e = await errorOf(net({ equations: [1] }));
    expect(e).toMatchObject({ path: "equations[0].recurrence.equations[0]", message: "a step equation must be a non-empty string" });
  });
});
