/**
 * The reuse layout: workspace buffers whose lifetimes do not overlap share memory (the WebAssembly kernels'
 * workspace). Checked by running functions with their workspace laid out so (LayoutWorkspace: one array,
 * shared bytes really shared, filled with NaN beforehand so a read before a write shows) against one array
 * per buffer: no arithmetic changes, so results are bit-equal in f64 and f32.
 */
import { describe, expect, it } from "vitest";
import type { Buffer, KernelFunction, Stmt } from "../../src/lower/kernel.ts";
import { load, op } from "../../src/lower/kernel.ts";
import { reuse, type WorkspaceLayout } from "../../src/lower/passes/reuse.ts";
import { LayoutWorkspace } from "../../src/render/interp/layout-workspace.ts";
import { exampleSpec } from "../helpers/examples-support.ts";
import { DENSE, FUNCTION_NAMES, HandBuffers, PASS_SEEDS, type Sizes, expectAgree, hasFinite, idx, loop, loopVar, randomLowered, run, store } from "../helpers/kernel-ir.ts";
import { type Lowered, lowerSpec } from "../helpers/interp.ts";

const N = 8;
const b = new HandBuffers({ paramCount: N, inputSize: N, targetSize: 0, outputSize: N });

/** Three workspace buffers: `first` dies before `second` is born; `overlap` is alive while `first` is. */
function threeBuffers(perSample: boolean) {
  const [first, second, overlap] = [b.work(N, perSample), b.work(N, perSample), b.work(N, perSample)];
  const s = loopVar("s", "batch");
  const row = (buf: Buffer, v: ReturnType<typeof loopVar>) => (perSample ? idx(0, [s, buf.size], [v, 1]) : idx(0, [v, 1]));
  const each = (f: (v: ReturnType<typeof loopVar>) => Stmt) => {
    const v = loopVar("i", N);
    return loop(v, [f(v)]);
  };
  const x = (v: ReturnType<typeof loopVar>) => load(b.inputs, idx(0, [s, N], [v, 1]));
  const body: Stmt[] = [
    each((v) => store(first, row(first, v), op("exp", x(v)))),
    each((v) => store(overlap, row(overlap, v), op("neg", x(v)))),
    each((v) => store(b.out, idx(0, [s, N], [v, 1]), load(first, row(first, v)))),
    each((v) => store(second, row(second, v), op("tanh", load(overlap, row(overlap, v))))),
    each((v) => store(b.out, idx(0, [s, N], [v, 1]), op("add", load(b.out, idx(0, [s, N], [v, 1])), load(second, row(second, v))))),
  ];
  return { body: [loop(s, body, "samples")], first, second, overlap };
}

const placeOf = (layout: WorkspaceLayout, buf: Buffer) => (buf.perSample ? layout.rows : layout.fixed).get(buf);

/** Runs `fn` with its workspace laid out by reuse and with one array per buffer: bit-equal. */
function expectLayoutPreserves(what: string, fn: KernelFunction, sizes: Sizes, layout: WorkspaceLayout): boolean {
  let finite = false;
  for (const precision of ["f64", "f32"] as const) {
    for (const batch of [1, 3]) {
      const options = { batch, precision, seed: batch };
      const separate = run(fn.body, sizes, options);
      const shared = run(fn.body, sizes, { ...options, workspace: new LayoutWorkspace(layout, precision, Number.NaN) });
      expectAgree(`${what} ${precision} batch ${batch}`, shared, separate, "bits");
      finite ||= hasFinite(separate);
    }
  }
  return finite;
}

/** Pairs of buffers given overlapping memory by `layout`. */
function sharingPairs(layout: WorkspaceLayout, buffers: readonly Buffer[]): number {
  let pairs = 0;
  for (const [i, a] of buffers.entries()) {
    for (const c of buffers.slice(i + 1)) {
      const [pa, pc] = [placeOf(layout, a), placeOf(layout, c)];
      if (a.perSample === c.perSample && pa !== undefined && pc !== undefined && pa < pc + c.size && pc < pa + a.size) pairs++;
    }
  }
  return pairs;
}

function workBuffers(body: readonly Stmt[]): Buffer[] {
  const found = new Set<Buffer>();
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.k === "store" && s.buf.role === "work") found.add(s.buf);
      if (s.k === "contract" && s.c.out.buf.role === "work") found.add(s.c.out.buf);
      if (s.k === "loop" || s.k === "ifBatch") visit(s.body);
    }
  };
  visit(body);
  return [...found];
}

describe("reuse", () => {
  for (const perSample of [false, true]) {
    it(`gives buffers of disjoint lifetimes the same memory and overlapping ones different memory (${perSample ? "rows per sample" : "one value per call"})`, () => {
      const { body, first, second, overlap } = threeBuffers(perSample);
      const layout = reuse({ name: "test", body }, 2);
      expect(placeOf(layout, second)).toBe(placeOf(layout, first));
      const [f, o] = [placeOf(layout, first) as number, placeOf(layout, overlap) as number];
      expect(f + N <= o || o + N <= f).toBe(true);
      expect(perSample ? layout.rowsSize : layout.fixedSize).toBe(2 * N);
      expectLayoutPreserves("three buffers", { name: "test", body }, b.sizes, layout);
    });
  }

  it("lets no random network's function read another buffer's bytes", () => {
    let shared = 0;
    let finite = 0;
    const check = (what: string, lowered: Lowered) => {
      for (const name of FUNCTION_NAMES) {
        const fn = lowered.passed.functions[name];
        for (const align of [2, 4]) {
          const layout = reuse(fn, align);
          shared += sharingPairs(layout, workBuffers(fn.body));
          if (expectLayoutPreserves(`${what} ${name} align ${align}`, fn, lowered.passed.layout, layout)) finite++;
        }
      }
    };
    for (const seed of PASS_SEEDS) check(`random net ${seed}`, randomLowered(seed));
    check("iris_softmax", lowerSpec(exampleSpec("iris_softmax")));
    check("dense_32", lowerSpec(DENSE));
    // the layouts did share memory somewhere, and the comparisons were of numbers
    expect(shared).toBeGreaterThan(0);
    expect(finite).toBeGreaterThan(30);
  });
});
