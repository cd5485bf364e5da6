/**
 * The inline pass: a value stored once and read once, element for element, is computed where it is read.
 * It reorders no arithmetic, so results are bit-equal in f64; in f32 the inlined value is no longer rounded
 * to f32 where it was stored, so f32 results are close, not equal.
 */
import { describe, expect, it } from "vitest";
import { Graph } from "../../src/ir/graph.ts";
import type { Node } from "../../src/ir/node.ts";
import { inline } from "../../src/lower/passes/inline.ts";
import { type Stmt, load, op } from "../../src/lower/kernel.ts";
import { HandBuffers, countStmts, expectAgree, expectPassPreserves, idx, loop, loopVar, run } from "../helpers/kernel-ir.ts";

const N = 8;

/** y = −tanh(x) over 8 elements, with tanh(x) stored in a workspace buffer `t` first. */
function twoStep(readTwice: boolean) {
  const g = new Graph();
  const x = g.input("x", [N]);
  const t = g.tanh(x);
  const y = readTwice ? g.make("mul", [t, t]) : g.neg(t);
  const b = new HandBuffers({ paramCount: 0, inputSize: N, targetSize: 0, outputSize: N });
  const tBuf = b.work(N);
  const [s, i, j] = [loopVar("s", "batch"), loopVar("i", N), loopVar("j", N)];
  const tRead = load(tBuf, idx(0, [j, 1]));
  const body: Stmt[] = [
    loop(
      s,
      [
        loop(i, [{ k: "store", buf: tBuf, index: idx(0, [i, 1]), value: op("tanh", load(b.inputs, idx(0, [s, N], [i, 1]))), mode: "=", node: t }]),
        loop(j, [{ k: "store", buf: b.out, index: idx(0, [s, N], [j, 1]), value: readTwice ? op("mul", tRead, tRead) : op("neg", tRead), mode: "=", node: y }]),
      ],
      "samples",
    ),
  ];
  return { body, sizes: b.sizes, tBuf, isRoot: (n: Node) => n === y };
}

describe("inline", () => {
  it("computes a value read once where it is read: no store, no buffer, the same results", () => {
    const { body, sizes, tBuf, isRoot } = twoStep(false);
    const after = inline(body, isRoot);
    expect(countStmts(body, (s) => s.k === "store" && s.buf === tBuf)).toBe(1);
    expect(countStmts(after, (s) => s.k === "store" && s.buf === tBuf)).toBe(0);
    for (const batch of [1, 3]) {
      const options = { batch, precision: "f64", seed: batch } as const;
      expectAgree("y = −tanh(x)", run(after, sizes, options), run(body, sizes, options), "bits");
    }
  });

  it("keeps a value read twice in its buffer", () => {
    const { body, isRoot, tBuf } = twoStep(true);
    expect(countStmts(inline(body, isRoot), (s) => s.k === "store" && s.buf === tBuf)).toBe(1);
  });

  it("keeps a root: the value a function returns is never inlined away", () => {
    const { body, tBuf } = twoStep(false);
    const t = (body[0] as Extract<Stmt, { k: "loop" }>).body[0] as Extract<Stmt, { k: "loop" }>;
    const tNode = (t.body[0] as Extract<Stmt, { k: "store" }>).node;
    expect(countStmts(inline(body, (n) => n === tNode), (s) => s.k === "store" && s.buf === tBuf)).toBe(1);
  });

  it("computes an elementwise value read only by a concat straight into its part of the concat (as an LSTM's gate deltas)", () => {
    // y = concat(tanh(x), x): tanh(x) stored in `t`, then copied into the first half of y
    const g = new Graph();
    const x = g.input("x", [N]);
    const t = g.tanh(x);
    const y = g.concat([t, x], 0);
    const b = new HandBuffers({ paramCount: 0, inputSize: N, targetSize: 0, outputSize: 2 * N });
    const tBuf = b.work(N);
    const [s, i, j, k] = [loopVar("s", "batch"), loopVar("i", N), loopVar("j", N), loopVar("k", N)];
    const body: Stmt[] = [
      loop(
        s,
        [
          loop(i, [{ k: "store", buf: tBuf, index: idx(0, [i, 1]), value: op("tanh", load(b.inputs, idx(0, [s, N], [i, 1]))), mode: "=", node: t }]),
          loop(j, [{ k: "store", buf: b.out, index: idx(0, [s, 2 * N], [j, 1]), value: load(tBuf, idx(0, [j, 1])), mode: "=", node: y }]),
          loop(k, [{ k: "store", buf: b.out, index: idx(N, [s, 2 * N], [k, 1]), value: load(b.inputs, idx(0, [s, N], [k, 1])), mode: "=", node: y }]),
        ],
        "samples",
      ),
    ];
    const after = inline(body, (n) => n === y);
    expect(countStmts(after, (st) => st.k === "store" && st.buf === tBuf)).toBe(0);
    for (const batch of [1, 3]) {
      const options = { batch, precision: "f32", seed: batch } as const;
      // the value was rounded to the array's type where it was stored, and is where it is stored now: the same bits in f32
      expectAgree("y = concat(tanh(x), x)", run(after, b.sizes, options), run(body, b.sizes, options), "bits");
    }
  });

  it("preserves results on random networks (f64 bit-equal, f32 within 1e-5)", () => {
    const meaningful = expectPassPreserves("inline", { f64: "bits", f32: { tolerance: 1e-5 } });
    expect(meaningful).toBeGreaterThan(100);
  });
});
