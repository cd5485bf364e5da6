/**
 * From plan to kernel IR (src/lower/build.ts, functions.ts), before any pass: where each phase's statements
 * go, how values are addressed, and — run by the interpreter — that the functions compute what the op
 * table's reference evaluation of the DAG (src/ir/interpret.ts) computes, on random inputs.
 */
import { describe, expect, it } from "vitest";
import { type Node, sizeOf } from "../../src/ir/node.ts";
import type { Buffer, Stmt } from "../../src/lower/kernel.ts";
import { visitStmts } from "../../src/lower/walk.ts";
import { PASS_SEEDS, countStmts, randomLowered } from "../helpers/kernel-ir.ts";
import { lowerSpec } from "../helpers/interp.ts";
import { expectMatchesReference } from "../helpers/dag-reference.ts";
import { PHASES, denseSpec, named } from "../helpers/small-nets.ts";

// ---- structure -------------------------------------------------------------------------------------

/** Position of the first top-level statement computing `n` (itself or in its loops). */
function topLevelPosition(body: readonly Stmt[], n: Node): number {
  return body.findIndex((s) => countStmts([s], (x) => "node" in x && x.node === n && x.k !== "note") > 0);
}

/** The statements that write `n` (stores, lets, updates, contractions). */
function writesOf(body: readonly Stmt[], n: Node): Stmt[] {
  const found: Stmt[] = [];
  visitStmts(body, (s) => s.k !== "note" && "node" in s && s.node === n && found.push(s));
  return found;
}

const bufferOf = (s: Stmt): Buffer | undefined => (s.k === "store" ? s.buf : s.k === "contract" ? s.c.out.buf : undefined);

describe("lowering: phases in the body", () => {
  const lowered = lowerSpec(PHASES);
  const body = lowered.materialized.functions.gradient.body;
  const loopAt = body.findIndex((s) => s.k === "loop" && s.kind === "samples");

  it("has one sample loop, parameter-only values before it, what follows the batch means after it", () => {
    expect(body.filter((s) => s.k === "loop" && s.kind === "samples")).toHaveLength(1);
    for (const name of ["V", "R"]) expect(topLevelPosition(body, named(lowered, "gradient", name)), name).toBeLessThan(loopAt);
    for (const name of ["h", "L", "d_e"]) expect(topLevelPosition(body, named(lowered, "gradient", name)), name).toBe(loopAt);
    for (const name of ["J", "d_W"]) expect(topLevelPosition(body, named(lowered, "gradient", name)), name).toBeGreaterThan(loopAt);
  });

  it("declares 1/batch once after the loop, and returns J last", () => {
    const invB = body.findIndex((s) => s.k === "let" && s.local.hint === "invB");
    expect(invB).toBeGreaterThan(loopAt);
    expect(body[body.length - 1].k).toBe("return");
  });
});

describe("lowering: storage in the kernel IR", () => {
  const lowered = lowerSpec(denseSpec(32));
  const { forward, gradient } = lowered.materialized.functions;

  it("addresses a value stored per sample by rows: s · size + element", () => {
    const a = named(lowered, "forward", "a");
    const [store] = writesOf(forward.body, a);
    expect(store.k === "store" && store.buf.perSample && store.buf.role === "work").toBe(true);
    const sample = store.k === "store" ? store.index.terms.find((t) => t.v.extent === "batch") : undefined;
    expect(sample?.k).toBe(sizeOf(a.shape));
  });

  it("keeps a scalar in a local, never a buffer", () => {
    const L = named(lowered, "gradient", "L");
    const writes = writesOf(gradient.body, L);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((s) => s.k === "let" || s.k === "update")).toBe(true);
  });

  it("writes the output into out and each gradient into grads, the dense one by a contraction", () => {
    expect(writesOf(forward.body, named(lowered, "forward", "y")).map((s) => bufferOf(s)?.role)).toEqual(["out"]);
    const [W1, W2] = lowered.net.params.map((p) => lowered.grads.byParam.get(p.node) as Node);
    expect(writesOf(gradient.body, W1).map((s) => [s.k, bufferOf(s)?.role])).toEqual([["contract", "grads"]]);
    expect(writesOf(gradient.body, W2).every((s) => bufferOf(s)?.role === "grads")).toBe(true);
  });

  it("stores no transpose: Wᵀ·δ reads W's elements in place", () => {
    expect(countStmts(gradient.body, (s) => s.k !== "note" && "node" in s && s.node?.op === "transpose")).toBe(0);
  });
});

describe("lowering: the functions compute the DAG's values", () => {
  it("on the small nets", () => {
    expect(expectMatchesReference("phases", lowerSpec(PHASES), 1e-12)).toBe(true);
    expect(expectMatchesReference("dense 32", lowerSpec(denseSpec(32)), 1e-12)).toBe(true);
    expect(expectMatchesReference("dense 8", lowerSpec(denseSpec(8)), 1e-12)).toBe(true);
  });

  it("on random networks", () => {
    let finite = 0;
    for (const seed of PASS_SEEDS) if (expectMatchesReference(`random net ${seed}`, randomLowered(seed), 1e-9)) finite++;
    expect(finite).toBeGreaterThan(PASS_SEEDS.length / 2);
  });
});
