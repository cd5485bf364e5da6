/**
 * The interpreter against the TypeScript renderer on hand-made kernel IR: every elementwise op on special
 * values (±0, ±∞, NaN, halves, huge and tiny numbers), every statement kind and update mode, and the three
 * contraction patterns at sizes that leave the library kernels' tiles ragged. The rendered body runs as the
 * module would run it (TypeScript transpiled, the template helpers it calls passed in); both must leave every
 * array bit-equal, in f64 and in f32. The examples (test/interp.test.ts) do not use every op or every mode.
 */
import { describe, expect, it } from "vitest";
import { ts } from "ts-morph";
import * as dense from "../templates/dense.ts";
import * as math from "../templates/math.ts";
import * as rng from "../templates/rng.ts";
import { Graph } from "../src/ir/graph.ts";
import { ELEMENTWISE_OPS, type ElementwiseOp } from "../src/ir/node.ts";
import { type Buffer, type Expr, type Stmt, arg, get, load, num, op } from "../src/lower/kernel.ts";
import { IrNames, Namer, NodeNames } from "../src/lower/names.ts";
import { renderBody } from "../src/render/ts/statements.ts";
import { type FloatArray, type Precision, type Workspace, arrayType, interpret } from "../src/render/interp/interpret.ts";
import { declare, idx, localVar, loop, loopVar, ret, store } from "./helpers/kernel-ir.ts";

const SPECIAL = [0, -0, 1, -1, 0.5, -0.5, 2.5, -2.5, 3, 0.7, -1.3, 1e-300, 1e300, 88.5, -745.2, Infinity, -Infinity, Number.NaN];

const CALLER = ["params", "inputs", "targets", "out", "grads"] as const;
type Arrays = Record<(typeof CALLER)[number], FloatArray> & { work: Map<Buffer, FloatArray> };

interface Case {
  readonly body: Stmt[];
  readonly sizes: { params: number; inputs: number; targets: number; out: number; grads: number };
  readonly work: readonly Buffer[];
  readonly fill: (role: (typeof CALLER)[number], i: number) => number;
}

/** Workspace buffers of hand-made IR need a value to be named after. */
const graph = new Graph();
let workCount = 0;
function workBuffer(size: number, perSample = false): Buffer {
  return { role: "work", size, perSample, node: graph.input(`w${workCount++}`, [size]) };
}

function arraysFor(c: Case, precision: Precision, batch: number): Arrays {
  const A = arrayType(precision);
  const make = (role: (typeof CALLER)[number], n: number) => {
    const a = new A(n);
    for (let i = 0; i < n; i++) a[i] = c.fill(role, i);
    return a;
  };
  const perSample = (role: "inputs" | "targets" | "out") => make(role, batch * c.sizes[role]);
  return {
    params: make("params", c.sizes.params),
    inputs: perSample("inputs"),
    targets: perSample("targets"),
    out: perSample("out"),
    grads: make("grads", c.sizes.grads),
    work: new Map(c.work.map((b) => [b, new A(b.perSample ? batch * b.size : b.size).fill(0.25)])),
  };
}

/** The body as the TypeScript renderer writes it, run as a function of the arrays. */
function runRendered(c: Case, arrays: Arrays, batch: number, lr: number): number | undefined {
  const names = new IrNames(new NodeNames(graph, new Namer()));
  const lines = renderBody(c.body, names);
  const work = c.work.map((b) => names.buffer(b));
  const source = `const kernel = function (${[...CALLER, "batch", "lr", ...work].join(", ")}) {\n${lines.join("\n")}\n};`;
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  const helpers = { ...math, ...dense, ...rng };
  const kernel = new Function(...Object.keys(helpers), `${js}\nreturn kernel;`)(...Object.values(helpers)) as (...args: unknown[]) => number | undefined;
  return kernel(...CALLER.map((r) => arrays[r]), batch, lr, ...c.work.map((b) => arrays.work.get(b)));
}

function runInterpreted(c: Case, arrays: Arrays, batch: number, lr: number, precision: Precision): number | undefined {
  const workspace: Workspace = { reserve: () => undefined, bind: (b) => ({ array: arrays.work.get(b) as FloatArray, map: null }) };
  return interpret({ name: "case", body: c.body }, arrays, { batch, precision, lr, workspace });
}

function expectSameAsRendered(what: string, c: Case, batches: readonly number[] = [1, 3]): void {
  for (const precision of ["f64", "f32"] as const) {
    for (const batch of batches) {
      const [mine, theirs] = [arraysFor(c, precision, batch), arraysFor(c, precision, batch)];
      const results = [runInterpreted(c, mine, batch, 0.125, precision), runRendered(c, theirs, batch, 0.125)];
      const at = `${what} (${precision}, batch ${batch})`;
      expect(Object.is(results[0], results[1]), `${at}: returned ${results[0]} interpreted, ${results[1]} rendered`).toBe(true);
      const pairs: [string, FloatArray, FloatArray][] = [
        ...CALLER.map((r): [string, FloatArray, FloatArray] => [r, mine[r], theirs[r]]),
        ...c.work.map((b, k): [string, FloatArray, FloatArray] => [`work ${k}`, mine.work.get(b) as FloatArray, theirs.work.get(b) as FloatArray]),
      ];
      for (const [name, a, b] of pairs) {
        const i = a.findIndex((x, k) => !Object.is(x, b[k]));
        expect(i, `${at}: ${name}[${i}] is ${a[i]} interpreted, ${b[i]} rendered`).toBe(-1);
      }
    }
  }
}

// ---- elementwise ops ---------------------------------------------------------------------------------

const ARITY: Partial<Record<ElementwiseOp, number>> = { add: 2, sub: 2, mul: 2, div: 2, pow: 2, atan2: 2, mod: 2, max: 2, min: 2, gt: 2, ge: 2, eq: 2, ne: 2, select: 3 };

/** grads[i·n + j] = op(params[i], params[j]) over all pairs of special values (one operand: params[i]). */
function opCase(name: ElementwiseOp): Case {
  const n = SPECIAL.length;
  const arity = ARITY[name] ?? 1;
  const [i, j] = [loopVar("i", n), loopVar("j", n)];
  const x = load(handParams, idx(0, [i, 1]));
  const y = load(handParams, idx(0, [j, 1]));
  const args: Expr[] = arity === 1 ? [x] : arity === 2 ? [x, y] : [x, y, num(-7)];
  const body = arity === 1 ? [loop(i, [store(handGrads(n), idx(0, [i, 1]), op(name, ...args))])] : [loop(i, [loop(j, [store(handGrads(n * n), idx(0, [i, n], [j, 1]), op(name, ...args))])])];
  return { body, sizes: { params: n, inputs: 0, targets: 0, out: 0, grads: arity === 1 ? n : n * n }, work: [], fill: (role, k) => (role === "params" ? SPECIAL[k] : 0) };
}

const handParams: Buffer = { role: "params", size: SPECIAL.length, perSample: false };
const handGrads = (size: number): Buffer => ({ role: "grads", size, perSample: false });

describe("the interpreter computes each elementwise op as its TypeScript line", () => {
  for (const name of ELEMENTWISE_OPS) it(name, () => expectSameAsRendered(name, opCase(name), [1]));

  it("pow with the literal 2 (a product in TypeScript) and select on a comparison (tested in place)", () => {
    const n = SPECIAL.length;
    const i = loopVar("i", n);
    const x = load(handParams, idx(0, [i, 1]));
    const grads = handGrads(2 * n);
    const body = [
      loop(i, [store(grads, idx(0, [i, 1]), op("pow", x, num(2))), store(grads, idx(n, [i, 1]), op("select", op("gt", x, num(0.5)), x, op("neg", x)))]),
    ];
    expectSameAsRendered("pow 2, select", { body, sizes: { params: n, inputs: 0, targets: 0, out: 0, grads: 2 * n }, work: [], fill: (role, k) => (role === "params" ? SPECIAL[k] : 0) }, [1]);
  });
});

// ---- statements --------------------------------------------------------------------------------------

/** Numbers that differ in f32 and f64, of both signs, a NaN among the inputs. */
const varied = (role: string, i: number) => (role === "inputs" && i === 5 ? Number.NaN : Math.sin(1.7 * i + role.length) * (1 + i / 3));

describe("the interpreter runs each statement as the TypeScript renderer writes it", () => {
  it("stores with =, +=, *= and max=, in per-sample rows and one-per-call buffers", () => {
    const K = 4;
    const rows = workBuffer(K, true);
    const acc = workBuffer(K);
    const [s, i, j] = [loopVar("s", "batch"), loopVar("i", K), loopVar("j", K)];
    // one Buffer object per caller array, as the lowering makes them (the renderer names rows per object)
    const xs = inputs(K);
    const x = (v: typeof i) => load(xs, idx(0, [s, K], [v, 1]));
    const body: Stmt[] = [
      { k: "fill", buf: acc, index: idx(0), count: K, value: -Infinity },
      { k: "fill", buf: rows, index: idx(0), count: K, value: 1 },
      loop(
        s,
        [
          loop(i, [store(rows, idx(0, [s, K], [i, 1]), x(i), "+="), store(rows, idx(0, [s, K], [i, 1]), num(0.1), "*="), store(acc, idx(0, [i, 1]), x(i), "max=")]),
          loop(j, [store(out(K), idx(0, [s, K], [j, 1]), op("sub", load(rows, idx(0, [s, K], [j, 1])), load(acc, idx(0, [j, 1]))))]),
        ],
        "samples",
      ),
      { k: "fill", buf: grads(8), index: idx(2), count: 3, value: 0.5 },
    ];
    expectSameAsRendered("stores", { body, sizes: { params: 0, inputs: K, targets: 0, out: K, grads: 8 }, work: [rows, acc], fill: varied });
  });

  it("locals with let, +=, *= and max=; ifBatch; the batch and lr arguments; return", () => {
    const K = 6;
    const [sum, top, prod] = [localVar("sum"), localVar("top"), localVar("prod")];
    const [s, i] = [loopVar("s", "batch"), loopVar("i", K)];
    const x = load(inputs(K), idx(0, [s, K], [i, 1]));
    const body: Stmt[] = [
      declare(sum, num(0), true),
      declare(top, num(-Infinity), true),
      declare(prod, num(1), true),
      loop(s, [loop(i, [{ k: "update", local: sum, value: x, mode: "+=" }, { k: "update", local: top, value: x, mode: "max=" }, { k: "update", local: prod, value: op("add", num(1), op("mul", x, num(0.01))), mode: "*=" }], "structure")], "samples"),
      { k: "ifBatch", body: [{ k: "update", local: sum, value: op("div", num(1), arg("batch")), mode: "*=" }] },
      store(grads(3), idx(0), get(top)),
      store(grads(3), idx(1), op("mul", get(prod), arg("lr"))),
      ret(op("add", get(sum), arg("batch"))),
    ];
    expectSameAsRendered("locals", { body, sizes: { params: 0, inputs: K, targets: 0, out: 0, grads: 3 }, work: [], fill: (role, k) => (role === "inputs" && k === 5 ? 2 : varied(role, k)) });
  });

  it("the three contractions, at sizes that leave the library tiles ragged", () => {
    // m = 5 rows, k = 7 columns (odd, not a multiple of 4); inputs rows of 9 with x at offset 2
    const [m, k, xSize, xOff, wOff, gOff] = [5, 7, 9, 2, 3, 1];
    const s = loopVar("s", "batch");
    const [i, t, j, i2, j2] = [loopVar("i", m), loopVar("t", k), loopVar("j", k), loopVar("i", m), loopVar("j", k)];
    const [fwd, back, delta] = [workBuffer(m, true), workBuffer(k, true), workBuffer(m, true)];
    const params: Buffer = { role: "params", size: wOff + m * k, perSample: false };
    const g = grads(gOff + m * k);
    const x = inputs(xSize);
    const body: Stmt[] = [
      {
        k: "contract",
        c: { pattern: "forward", out: { buf: fwd, index: idx(0, [s, m], [i, 1]) }, a: { buf: params, index: { c: wOff, terms: [{ v: i, k }, { v: t, k: 1 }], base: wOff } }, b: { buf: x, index: idx(xOff, [s, xSize], [t, 1]) }, outVars: [s, i], reduce: t, mode: "=", tile: { rows: 2, cols: 4, library: true } },
      },
      ...deltaRows(delta, fwd, m, s),
      {
        k: "contract",
        c: { pattern: "transposed", out: { buf: back, index: idx(0, [s, k], [j, 1]) }, a: { buf: params, index: { c: wOff, terms: [{ v: i2, k }, { v: j, k: 1 }], base: wOff } }, b: { buf: delta, index: idx(0, [s, m], [i2, 1]) }, outVars: [s, j], reduce: i2, mode: "=", tile: { rows: 2, cols: 4, library: true } },
      },
      {
        k: "contract",
        c: {
          pattern: "weightGradient",
          out: { buf: g, index: { c: gOff, terms: [{ v: i, k }, { v: j2, k: 1 }], base: gOff } },
          a: { buf: delta, index: idx(0, [s, m], [i, 1]) },
          b: { buf: x, index: idx(xOff, [s, xSize], [j2, 1]) },
          outVars: [i, j2],
          reduce: s,
          scale: op("div", num(1), arg("batch")),
          mode: "=",
          tile: { rows: 2, cols: 4, library: true },
        },
      },
    ];
    const c: Case = { body, sizes: { params: wOff + m * k, inputs: xSize, targets: 0, out: 0, grads: gOff + m * k }, work: [fwd, back, delta], fill: varied };
    expectSameAsRendered("contractions", c, [1, 2, 3, 5]);
  });
});

/** delta[s] = tanh(fwd[s]) for every sample: a per-sample value between the contractions. */
function deltaRows(delta: Buffer, fwd: Buffer, m: number, s: ReturnType<typeof loopVar>): Stmt[] {
  const i = loopVar("i", m);
  return [loop(s, [loop(i, [store(delta, idx(0, [s, m], [i, 1]), op("tanh", load(fwd, idx(0, [s, m], [i, 1]))))])], "samples")];
}

const inputs = (size: number): Buffer => ({ role: "inputs", size, perSample: true });
const out = (size: number): Buffer => ({ role: "out", size, perSample: true });
const grads = (size: number): Buffer => ({ role: "grads", size, perSample: false });
