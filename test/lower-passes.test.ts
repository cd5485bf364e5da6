import { describe, expect, it } from "vitest";
import { reverse } from "../src/autodiff/reverse.ts";
import type { Buffer, Expr, Index, Stmt, Var } from "../src/lower/kernel.ts";
import { lowerModule } from "../src/lower/functions.ts";
import { fuse } from "../src/lower/passes/fuse.ts";
import { inline } from "../src/lower/passes/inline.ts";
import { visitStmts } from "../src/lower/walk.ts";
import { buildNet } from "../src/pipeline.ts";
import type { EquationNetSpec } from "../src/spec/types.ts";

// ---- fuse ----------------------------------------------------------------------------------------------

const N = 32;
const buffer = (): Buffer => ({ role: "work", size: N + 1, perSample: false });
const at = (v: Var, c = 0): Index => ({ c, terms: [{ v, k: 1 }] });
const load = (buf: Buffer, index: Index): Expr => ({ k: "load", buf, index });
const note = (text: string): Stmt => ({ k: "note", note: { lhs: text, op: "=", rhs: null } });

/** `loop i < N: to[i + shift] = from[i] + 1`, with a comment. */
function step(name: string, from: Buffer, to: Buffer, shift = 0): Stmt {
  const v: Var = { name, extent: N };
  const value: Expr = { k: "op", op: "add", args: [load(from, at(v)), { k: "num", value: 1 }] };
  return { k: "loop", v, kind: "elements", body: [note(name), { k: "store", buf: to, index: at(v, shift), value, mode: "=" }] };
}

const loops = (body: readonly Stmt[]) => body.filter((s): s is Extract<Stmt, { k: "loop" }> => s.k === "loop");

describe("fuse", () => {
  it("runs a chain of loops that read what the one before wrote, element for element, as one loop", () => {
    const [a, b, c, d] = [buffer(), buffer(), buffer(), buffer()];
    const body = fuse([step("i", a, b), note("between"), step("j", b, c), step("k", c, d)], 16);
    expect(body.map((s) => s.k)).toEqual(["note", "loop"]);
    const [loop] = loops(body);
    // the comments first, then the stores in their order, all on the first loop's variable
    expect(loop.body.map((s) => (s.k === "note" ? s.note.lhs : s.k))).toEqual(["i", "j", "k", "store", "store", "store"]);
    const stores = loop.body.filter((s): s is Extract<Stmt, { k: "store" }> => s.k === "store");
    expect(stores.map((s) => s.buf)).toEqual([b, c, d]);
    for (const s of stores) expect(s.index.terms.map((t) => t.v)).toEqual([loop.v]);
  });

  it("ends the chain at a loop that reads an element another iteration writes", () => {
    const [a, b, c, d] = [buffer(), buffer(), buffer(), buffer()];
    // the third loop writes c one element further on than the second wrote it: c is touched at two elements
    const body = fuse([step("i", a, b), step("j", b, c), step("k", b, c, 1), step("l", d, a)], 16);
    const [first, second] = loops(body);
    expect(loops(body)).toHaveLength(2);
    expect(first.body.filter((s) => s.k === "store")).toHaveLength(2);
    // the loop that broke the chain starts the next one, and the last loop (touching neither b nor c) joins it
    expect(second.body.filter((s) => s.k === "store")).toHaveLength(2);
  });

  it("leaves loops short enough to be written out alone", () => {
    const [a, b, c] = [buffer(), buffer(), buffer()];
    expect(loops(fuse([step("i", a, b), step("j", b, c)], N))).toHaveLength(2);
  });
});

// ---- inline --------------------------------------------------------------------------------------------

const NET: EquationNetSpec = {
  name: "inline_net",
  params: { W: { shape: [4, 3] }, b: { shape: [4] } },
  inputs: { x: [3] },
  targets: { t: [4] },
  equations: ["z = W * x + b", "a = tanh(z)"],
  output: "a",
  loss: "sum((a - t).^2)",
};

/** The nodes whose values the body stores into the workspace. */
function storedNodes(body: readonly Stmt[]) {
  const out = new Set<unknown>();
  visitStmts(body, (s) => s.k === "store" && s.buf.role === "work" && s.node && out.add(s.node));
  return out;
}

describe("inline", () => {
  it("does again what it did on a body it has seen, and follows a change of roots", () => {
    const net = buildNet(NET);
    const lowered = lowerModule(net, reverse(net.graph, net.objective, net.params.map((p) => p.node)));
    const { body } = lowered.functions.forward;
    const roots = new Set(lowered.plans.forward.roots);
    const first = inline(body, (n) => roots.has(n));
    expect(inline(body, (n) => roots.has(n))).toEqual(first);
    // some value that went into its reader: made a root, it must be stored again
    const inlined = [...storedNodes(body)].find((n) => !storedNodes(first).has(n));
    expect(inlined).toBeDefined();
    const withRoot = inline(body, (n) => roots.has(n) || n === inlined);
    expect(storedNodes(withRoot).has(inlined)).toBe(true);
  });
});
