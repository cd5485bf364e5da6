/**
 * Recurrences in the equation form (docs/net-json.md#recurrences): a cell written as equations computes what the
 * same cell written out step by step computes — forward values, loss and every gradient — on the interpreter, passes
 * `bpgen gradcheck`, and compiles to a loop whose code does not grow with the number of steps.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../src/pipeline.ts";
import type { EquationEntry, EquationNetSpec } from "../src/spec/types.ts";
import { tempDir } from "./helpers/cli.ts";
import { bpgenInProcess } from "./helpers/in-process.ts";
import { InterpretedNet } from "./helpers/interpreted.ts";

type Spec = EquationNetSpec<EquationEntry>;

const [T, F, H] = [4, 3, 5];
const range = (n: number) => Array.from({ length: n }, (_, k) => k + 1);

/** What both forms of a network share: everything but the equations, which compute h_t for t = 1..T. */
function frame(name: string, params: Spec["params"], equations: EquationEntry[], loss: string): Spec {
  return { name, params, inputs: { x: [T, F] }, targets: { t: [1], s: [T, H] }, equations, output: "y", loss };
}

// ---- Elman: h_t = tanh(Wx x_t + Wh h_{t−1} + b), y = Wy h_T

const ELMAN_PARAMS: Spec["params"] = { Wx: { shape: [H, F] }, Wh: { shape: [H, H] }, b: { shape: [H], init: 0.1 }, Wy: { shape: [1, H] } };

/** The Elman recurrence; `reverse` runs it from row T to row 1 (hs row k its state after row k, hT after row 1). */
function elmanRecurrence(reverse = false): Spec {
  const block = {
    recurrence: {
      over: { x_t: "x" },
      ...(reverse ? { reverse } : {}),
      carry: { h: "zeros(5)" },
      equations: ["h = tanh(Wx * x_t + Wh * h + b)"],
      outputs: { hs: "h" },
      final: { hT: "h" },
    },
  };
  return frame(reverse ? "elman_reverse_rec" : "elman_rec", ELMAN_PARAMS, [block, "y = Wy * hT"], "0.5 * sum((y - t).^2) + 0.5 * sum((hs - s).^2)");
}

function elmanUnrolled(): Spec {
  const steps = range(T).map((k) => `h${k} = tanh(Wx * x[${k}, :] + Wh * h${k - 1} + b)`);
  const sequenceLoss = range(T).map((k) => `0.5 * sum((h${k} - s[${k}, :]).^2)`).join(" + ");
  return frame("elman_unrolled", ELMAN_PARAMS, ["h0 = zeros(5)", ...steps, `y = Wy * h${T}`], `0.5 * sum((y - t).^2) + ${sequenceLoss}`);
}

// ---- the same Elman cell run backwards ("reverse": true): from row T to row 1

const elmanReverseRecurrence = () => elmanRecurrence(true);

function elmanReverseUnrolled(): Spec {
  const steps = range(T)
    .reverse()
    .map((k) => `g${k} = tanh(Wx * x[${k}, :] + Wh * g${k + 1} + b)`);
  const sequenceLoss = range(T).map((k) => `0.5 * sum((g${k} - s[${k}, :]).^2)`).join(" + ");
  return frame("elman_reverse_unrolled", ELMAN_PARAMS, [`g${T + 1} = zeros(5)`, ...steps, "y = Wy * g1"], `0.5 * sum((y - t).^2) + ${sequenceLoss}`);
}

// ---- a peephole LSTM (Gers and Schmidhuber): the gates read the cell state, o the new one

const GATES = ["i", "f", "c", "o"];
const PEEPHOLE_PARAMS: Spec["params"] = Object.fromEntries(
  GATES.flatMap((g) => [
    [`W${g}`, { shape: [H, F] }],
    [`U${g}`, { shape: [H, H] }],
    [`b${g}`, { shape: [H], init: 0.05 }],
    ...(g === "c" ? [] : [[`p${g}`, { shape: [H] }]]),
  ]),
);
Object.assign(PEEPHOLE_PARAMS, { Wy: { shape: [1, H] }, c0: { shape: [H], init: 0.3 } });

/** One step, with `h`, `c` the previous values, `hn`, `cn` the new ones and `x_t` the row. */
const peepholeStep = (x: string, h: string, c: string, hn: string, cn: string, k: string) => [
  `i${k} = sigmoid(Wi * ${x} + Ui * ${h} + pi .* ${c} + bi)`,
  `f${k} = sigmoid(Wf * ${x} + Uf * ${h} + pf .* ${c} + bf)`,
  `${cn} = f${k} .* ${c} + i${k} .* tanh(Wc * ${x} + Uc * ${h} + bc)`,
  `o${k} = sigmoid(Wo * ${x} + Uo * ${h} + po .* ${cn} + bo)`,
  `${hn} = o${k} .* tanh(${cn})`,
];

const PEEPHOLE_LOSS = "0.5 * sum((y - t).^2) + 0.1 * sum(cT)";

function peepholeRecurrence(): Spec {
  const block = {
    recurrence: {
      over: { x_t: "x" },
      // the initial cell state is a parameter: its gradient flows back through every step
      carry: { h: "zeros(5)", c: "c0" },
      // within the step, c on the right of its own assignment and above it is the previous value, below it the new one
      equations: peepholeStep("x_t", "h", "c", "h", "c", ""),
      outputs: { hs: "h" },
      final: { y: "Wy * h", cT: "c" },
    },
  };
  return frame("peephole_rec", PEEPHOLE_PARAMS, [block], `${PEEPHOLE_LOSS} + 0.5 * sum((hs - s).^2)`);
}

function peepholeUnrolled(): Spec {
  // step 1 reads c0, the parameter
  const steps = range(T).flatMap((k) => peepholeStep(`x[${k}, :]`, `h${k - 1}`, `c${k - 1}`, `h${k}`, `c${k}`, `_${k}`));
  const sequenceLoss = range(T).map((k) => `0.5 * sum((h${k} - s[${k}, :]).^2)`).join(" + ");
  return frame("peephole_unrolled", PEEPHOLE_PARAMS, ["h0 = zeros(5)", ...steps, `y = Wy * h${T}`, `cT = c${T}`], `${PEEPHOLE_LOSS} + ${sequenceLoss}`);
}

/**
 * An Elman recurrence, then a minimal gated unit (Zhou et al.) over its every-step output:
 * f = σ(Wf h1_t + Uf h + bf), h = (1 − f) ⊙ h + f ⊙ tanh(Wh h1_t + Uh (f ⊙ h) + bh); the sequence's loss on both.
 */
function stackedMinimalGatedUnit(): Spec {
  const elman = {
    recurrence: { over: { x_t: "x" }, carry: { h1: "zeros(5)" }, equations: ["h1 = tanh(Wx * x_t + Wh * h1 + b)"], outputs: { hs1: "h1" } },
  };
  const mgu = {
    recurrence: {
      over: { u_t: "hs1" },
      carry: { h2: "zeros(4)" },
      equations: ["f = sigmoid(Wf2 * u_t + Uf2 * h2 + bf2)", "h2 = (1 - f) .* h2 + f .* tanh(Wh2 * u_t + Uh2 * (f .* h2) + bh2)"],
      outputs: { hs: "h2" },
      final: { y: "Wy * h2" },
    },
  };
  const params: Spec["params"] = {
    ...ELMAN_PARAMS,
    Wf2: { shape: [4, H] },
    Uf2: { shape: [4, 4] },
    bf2: { shape: [4] },
    Wh2: { shape: [4, H] },
    Uh2: { shape: [4, 4] },
    bh2: { shape: [4] },
    Wy: { shape: [1, 4] },
  };
  return { ...frame("stacked_mgu", params, [elman, mgu], "0.5 * sum((y - t).^2) + 0.5 * sum((hs - s).^2)"), targets: { t: [1], s: [T, 4] } };
}

/** A recurrence that reads no sequence: h from a learned h0 through `steps` steps, the input only after it. */
function stepsAlone(): Spec {
  const block = { recurrence: { steps: 6, carry: { h: "h0" }, equations: ["h = tanh(Wh * h + b)"], final: { hT: "h" } } };
  const params: Spec["params"] = { h0: { shape: [H], init: 0.5 }, Wh: { shape: [H, H] }, b: { shape: [H] }, Wy: { shape: [1, H] } };
  return { ...frame("steps_alone", params, [block, "y = Wy * hT + sum(x)"], "0.5 * sum((y - t).^2)"), targets: { t: [1] } };
}

/** A deterministic spread of values in (−1, 1). */
function values(n: number, seed: number): Float64Array {
  let state = seed;
  return Float64Array.from({ length: n }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 2 - 1;
  });
}

/** forward, loss and gradient of a network at one point, on the interpreter in f64. */
function evaluate(spec: Spec, batch: number) {
  const net = new InterpretedNet(JSON.stringify(spec));
  const m = net.module<Float64Array>("f64");
  const { paramCount, inputSize, targetSize, outputSize } = m.meta;
  const params = values(paramCount, 11);
  const inputs = values(inputSize * batch, 23);
  const targets = values(targetSize * batch, 37);
  const out = new Float64Array(outputSize * batch);
  m.forward(params, inputs, out, batch);
  const grads = new Float64Array(paramCount);
  const J = m.gradient(params, inputs, targets, grads, batch);
  return { out, loss: m.loss(params, inputs, targets, batch), J, grads, layout: net.params().map((p) => `${p.name} ${p.offset}`) };
}

function expectClose(actual: Float64Array, expected: Float64Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  const worst = Math.max(0, ...actual.map((a, k) => Math.abs(a - expected[k])));
  expect(worst / scale, what).toBeLessThan(1e-12);
}

describe("a recurrence in equations computes what its steps written out compute", () => {
  for (const [cell, recurrent, unrolled] of [
    ["Elman", elmanRecurrence, elmanUnrolled],
    ["Elman backwards (reverse)", elmanReverseRecurrence, elmanReverseUnrolled],
    ["peephole LSTM", peepholeRecurrence, peepholeUnrolled],
  ] as const) {
    it(`${cell}: forward, loss and every gradient (T = ${T}, a batch of 3)`, () => {
      const [a, b] = [evaluate(recurrent(), 3), evaluate(unrolled(), 3)];
      expect(a.layout).toEqual(b.layout);
      expectClose(a.out, b.out, "forward");
      expect(a.loss).toBeCloseTo(b.loss, 12);
      expect(a.J).toBeCloseTo(b.J, 12);
      expectClose(a.grads, b.grads, "gradient");
      // a gradient that is zero everywhere would agree too
      expect(Math.max(...a.grads.map(Math.abs))).toBeGreaterThan(1e-3);
    });
  }

  it("bpgen gradcheck passes on them and on stacked cells and a recurrence of steps alone (the generated modules, f64 against central differences, f32 against f64)", async () => {
    const dir = tempDir();
    const files = [elmanRecurrence(), elmanReverseRecurrence(), peepholeRecurrence(), stackedMinimalGatedUnit(), stepsAlone()].map((spec) => {
      const file = join(dir, `${spec.name}.json`);
      writeFileSync(file, JSON.stringify(spec, null, 2));
      return file;
    });
    const run = await bpgenInProcess(["gradcheck", ...files]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.match(/gradcheck passed/g)?.length).toBe(files.length);
    for (const name of ["Wh", "Uc", "pf", "c0", "Uf2", "h0"]) expect(run.stdout).toMatch(new RegExp(`^${name}\\s+\\[`, "m"));
  });
});

describe("carried names whose previous value the step never reads (the step's last value, handed out by final)", () => {
  /** A net over x [T, F] whose loss reads y [H], with params a, b [H] and Wx [H, F]. */
  const lastValueNet = (name: string, equations: EquationEntry[]): Spec => ({
    name,
    params: { a: { shape: [H], init: 0.5 }, b: { shape: [H] }, Wx: { shape: [H, F] } },
    inputs: { x: [T, F] },
    targets: { t: [H] },
    equations,
    output: "y",
    loss: "0.5 * sum((y - t).^2)",
  });
  const block = (equations: string[]) => ({ recurrence: { over: { x_t: "x" }, carry: { v: "zeros(5)" }, equations, final: { vT: "v" } } });
  const cases: [string, string[], string][] = [
    ["a value of the last row", ["v = tanh(Wx * x_t) .* b"], `vT = tanh(Wx * x[${T}, :]) .* b`],
    ["read only by a value nothing uses", ["u = 2 * v", "v = tanh(Wx * x_t) .* b"], `vT = tanh(Wx * x[${T}, :]) .* b`],
    ["the same at every step", ["v = tanh(b)"], "vT = tanh(b)"],
  ];
  for (const [what, step, direct] of cases) {
    it(`${what}: the value and gradients of the same value written directly`, () => {
      const [a, b] = [evaluate(lastValueNet("last", [block(step), "y = vT + a"]), 2), evaluate(lastValueNet("direct", [direct, "y = vT + a"]), 2)];
      expectClose(a.out, b.out, "forward");
      expectClose(a.grads, b.grads, "gradient");
    });
  }
});

describe("every carried name is carried and every output collected, whatever the step reads", () => {
  /** The value of parameter `name` in the flat layout `params` of `net`. */
  const param = (net: InterpretedNet, params: Float64Array, name: string) => {
    const place = net.params().find((p) => p.name === name);
    if (!place) throw new Error(`no parameter ${name}`);
    return params.subarray(place.offset, place.offset + place.size);
  };
  const onePoint = (spec: Spec, batch: number) => {
    const net = new InterpretedNet(JSON.stringify(spec));
    const m = net.module<Float64Array>("f64");
    const params = values(m.meta.paramCount, 11);
    const inputs = values(m.meta.inputSize * batch, 23);
    const out = new Float64Array(m.meta.outputSize * batch);
    m.forward(params, inputs, out, batch);
    return { net, params, inputs, out };
  };

  /** m is assigned x_t .* b and its previous value never read: after the last step it is the last row times b. */
  const unreadCarry: Spec = {
    name: "unread_carry",
    params: { b: { shape: [F] } },
    inputs: { x: [T, F] },
    targets: { t: [F] },
    equations: [{ recurrence: { over: { x_t: "x" }, carry: { m: "zeros(3)" }, equations: ["m = x_t .* b"], final: { mT: "m" } } }, "y = tanh(mT)"],
    output: "y",
    loss: "0.5 * sum((y - t).^2)",
  };

  /** bs is 2b at every step: the stack [T, H] is 2b repeated T times, next to the carried h's stack. */
  const invariantOutput: Spec = {
    name: "invariant_output",
    params: { b: { shape: [H] }, Wx: { shape: [H, F] } },
    inputs: { x: [T, F] },
    targets: { s: [T, H] },
    equations: [{ recurrence: { over: { x_t: "x" }, carry: { h: "zeros(5)" }, equations: ["h = tanh(Wx * x_t + h)"], outputs: { bs: "2 * b", hs: "h" } } }, "y = bs .* hs"],
    output: "bs",
    loss: "0.5 * sum((y - s).^2)",
  };

  it("a carried name whose previous value is never read: its final value is the last step's, x_T ⊙ b, per sample", () => {
    const batch = 2;
    const { net, params, inputs, out } = onePoint(unreadCarry, batch);
    const b = param(net, params, "b");
    for (let s = 0; s < batch; s++) {
      for (let j = 0; j < F; j++) expect(out[s * F + j]).toBeCloseTo(Math.tanh(inputs[s * T * F + (T - 1) * F + j] * b[j]), 14);
    }
  });

  it("an output the same at every step: 2b in each of its T rows", () => {
    const { net, params, out } = onePoint(invariantOutput, 2);
    const b = param(net, params, "b");
    expect(out).toHaveLength(2 * T * H);
    out.forEach((v, k) => expect(v).toBeCloseTo(2 * b[k % H], 14));
  });

  it("bpgen gradcheck passes on both (the generated modules, f64 against central differences, f32 against f64)", async () => {
    const dir = tempDir();
    const files = [unreadCarry, invariantOutput].map((spec) => {
      const file = join(dir, `${spec.name}.json`);
      writeFileSync(file, JSON.stringify(spec, null, 2));
      return file;
    });
    const run = await bpgenInProcess(["gradcheck", ...files]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.match(/gradcheck passed/g)?.length).toBe(2);
    expect(run.stdout).toMatch(/^Wx\s+\[/m);
  });
});

describe("the other commands take a recurrence", () => {
  it("bpgen explain and bpgen graph write their files", async () => {
    const dir = tempDir();
    const file = join(dir, "elman.json");
    writeFileSync(file, JSON.stringify(elmanRecurrence(), null, 2));
    for (const command of ["explain", "graph"]) {
      const run = await bpgenInProcess([command, file, "-o", dir]);
      expect(run.stderr, command).toBe("");
      expect(run.code, command).toBe(0);
    }
    expect(readdirSync(dir).sort()).toEqual(["elman.json", "elman_rec.dot", "elman_rec.html", "elman_rec.md", "elman_rec.svg"]);
  });
});

describe("a recurrence compiles to one loop over its steps", () => {
  /** h_t = a ⊙ h_{t−1} + x_t over `steps` steps, every step's h in the loss. */
  const linear = (steps: number): Spec => ({
    name: "linear_recurrence",
    params: { a: { shape: [8], init: 0.5 } },
    inputs: { x: [steps, 8] },
    targets: { s: [steps, 8] },
    equations: [{ recurrence: { over: { x_t: "x" }, carry: { h: "zeros(8)" }, equations: ["h = a .* h + x_t"], outputs: { hs: "h" } } }],
    output: "hs",
    loss: "0.5 * sum((hs - s).^2)",
  });
  /** The module's text with every number made 0: what is left does not depend on sizes. */
  const withoutNumbers = (source: string) => source.replace(/\d+(\.\d+)?(e[+-]?\d+)?/g, "0");

  for (const kernels of ["js", "wasm"] as const) {
    // (a loop over the steps outside the cell, as the norms of ∂L/∂h_t over t, is written out up to 16 steps: the
    // lengths compared are above that)
    it(`T = 20, 200 and 2000 compile to code of one size (${kernels} kernels)`, async () => {
      const sources = await Promise.all([20, 200, 2000].map(async (steps) => (await compile(JSON.stringify(linear(steps)), { precision: "f64", kernels })).source));
      // the sizes differ only where T is written (in a WebAssembly binary, its encoding): by a few characters, not
      // ten and a hundred times as many
      for (const source of sources.slice(1)) expect(Math.abs(source.length - sources[0].length)).toBeLessThan(sources[0].length / 50);
      // TypeScript kernels: the same text but for the numbers
      if (kernels === "js") for (const source of sources) expect(withoutNumbers(source)).toBe(withoutNumbers(sources[0]));
    });
  }

  it("the same values as the recurrence run by hand", () => {
    const steps = 10;
    const net = new InterpretedNet(JSON.stringify(linear(steps)));
    const m = net.module<Float64Array>("f64");
    const a = values(8, 5);
    const x = values(steps * 8, 6);
    const out = new Float64Array(steps * 8);
    m.forward(a, x, out, 1);
    const h = new Float64Array(8);
    for (let t = 0; t < steps; t++) {
      for (let j = 0; j < 8; j++) {
        h[j] = a[j] * h[j] + x[t * 8 + j];
        expect(out[t * 8 + j]).toBeCloseTo(h[j], 13);
      }
    }
  });
});

describe("docs/net-json.md", () => {
  const doc = readFileSync(new URL("../docs/net-json.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("### Recurrences"), doc.indexOf("## Limits"));

  it("its recurrence example compiles, and computes the input's part before the loop as it suggests", async () => {
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toBeDefined();
    const { source } = await compile(example as string, { sourceFile: "elman.json" });
    expect(source).toContain("export function gradient");
    const spec = JSON.parse(example as string) as Spec;
    const block = spec.equations[0] as { recurrence: { over: Record<string, string>; equations: string[] } };
    spec.equations.unshift("zx = x * Wx'");
    block.recurrence.over = { zx_t: "zx" };
    block.recurrence.equations = ["h = tanh(zx_t + Wh * h + b)"];
    const [a, b] = [evaluate(JSON.parse(example as string) as Spec, 2), evaluate(spec, 2)];
    expectClose(b.out, a.out, "forward");
    expectClose(b.grads, a.grads, "gradient");
  });
});
