/**
 * Contractions (the dense layers' products for every sample at once) as register-tiled SIMD loops,
 * specialised to the network's constant sizes, with the tile the tile pass chose. Two forms cover the three
 * patterns, read off the operands' strides:
 *   dot  — both operands contiguous along the reduction (forward W·x): a tile of rows × samples of vector
 *          accumulators, each the dot product of a weight row and an input row, summed across lanes at the end
 *          (four rows at once, by a transpose in shuffles, where their outputs lie side by side);
 *   axpy — the output and one operand contiguous along an output variable j (transposed Wᵀ·δ, weight
 *          gradient δ ⊗ x): a tile of rows × vectors of j, each accumulating splat(scalar) · vector.
 * Edges that do not fill a tile run with smaller tiles (down to one element), never past an array's end.
 * Multiply and add are separate instructions unless relaxed SIMD was opted into (fused, machine-dependent).
 */
import type { Access, Buffer, Contraction, Expr, Index, Var } from "../../lower/kernel.ts";
import { coefficient } from "../../lower/kernel.ts";
import type { FunctionBuilder, Local as WasmLocal } from "./encoder.ts";
import type { Numeric } from "./numeric.ts";

/**
 * What a contraction needs from the function body it is written into. function.ts's FunctionEmitter
 * provides it; the interface lives here, with its one user, so that this module does not import
 * function.ts (which imports renderContraction).
 */
export interface ContractionEmitter {
  readonly f: FunctionBuilder;
  /** Elementwise arithmetic (f64): the scale is computed in it. */
  readonly num: Numeric;
  /** The contraction's arithmetic (the storage type), and whether fused multiply-add was opted into. */
  readonly ctx: { readonly kernelNum: Numeric; readonly relaxed: boolean };
  readonly batch: WasmLocal;
  /** Pushes the variable part of an address (`skip` left out) and returns the constant part. */
  address(buf: Buffer, index: Index, skip?: Var): number;
  /** A fresh i32 local for a loop variable, found by the addresses that use it. */
  bindVar(v: Var, name?: string): WasmLocal;
  /** `for v = from; v < n; v += step`, n ≥ 1. */
  countedLoop(v: Var, n: number | WasmLocal, body: () => void, step?: number, from?: number): void;
  /** Pushes the value of an elementwise expression. */
  scalar(e: Expr): void;
  /** A scratch local of `type` for the duration of `use`. */
  withTemp(type: "i32" | "f32" | "f64" | "v128", use: (t: WasmLocal) => void): void;
  /** This thread's share of `v`'s range, where several threads run the function. */
  share(v: Var): { from: WasmLocal; to: WasmLocal } | undefined;
}

/** A run-time range of a variable: a thread's share, or the whole batch (from 0). */
type Range = { readonly from: WasmLocal | number; readonly to: WasmLocal };

/** Register tiles when the tile pass chose none. */
const DEFAULT_DOT = { rows: 4, cols: 2 };
const DEFAULT_AXPY = { rows: 2, cols: 4 };

/** Which SIMD form a contraction takes, read off its strides: dot, or axpy with vectors along one output variable. */
export type ContractionForm = { readonly kind: "dot" } | { readonly kind: "axpy"; readonly vector: "out0" | "out1" };

export function contractionForm(c: Contraction): ContractionForm {
  const [o0, o1] = c.outVars;
  const contiguous = (a: Access, v: Var) => coefficient(a.index, v) === 1;
  if (contiguous(c.a, c.reduce) && contiguous(c.b, c.reduce)) return { kind: "dot" };
  if (coefficient(c.out.index, o1) === 1 && (contiguous(c.a, o1) || contiguous(c.b, o1))) return { kind: "axpy", vector: "out1" };
  if (coefficient(c.out.index, o0) === 1 && (contiguous(c.a, o0) || contiguous(c.b, o0))) return { kind: "axpy", vector: "out0" };
  throw new Error(`internal: no SIMD form for the ${c.pattern} contraction`);
}

export function renderContraction(e: ContractionEmitter, c: Contraction): void {
  const [o0, o1] = c.outVars;
  const form = contractionForm(c);
  if (form.kind === "dot") return dot(e, c);
  return form.vector === "out1" ? axpy(e, c, o1, o0) : axpy(e, c, o0, o1);
}

/**
 * The output variable a shared contraction splits among threads: the samples where they are an output variable (each
 * thread's rows then stay its own), else the one its tiles do not run in SIMD lanes (the rows of a weight gradient).
 */
function splitVar(c: Contraction, lanes: Var | undefined): Var | undefined {
  if (c.shared === "samples") return c.outVars.find((v) => v.extent === "batch");
  if (c.shared === "outputs") return c.outVars.find((v) => v.extent !== "batch" && v !== lanes);
  return undefined;
}

/**
 * A loop over `extent` (a constant or the batch) in steps of `tile`, then the rest one at a time; over this thread's
 * share of it where `range` is given.
 */
function blocks(e: ContractionEmitter, v: Var, tile: number, body: (size: number) => void, range?: Range): void {
  const { f } = e;
  if (range) return rangeBlocks(e, v, tile, body, range);
  if (typeof v.extent === "number") {
    const whole = v.extent - (v.extent % tile);
    if (whole > 0) e.countedLoop(v, whole, () => body(tile), tile);
    if (whole < v.extent) {
      const rest = e.bindVar(v, `${v.name}_rest`);
      f.i32Const(whole).localSet(rest);
      body(v.extent - whole);
    }
    return;
  }
  // the batch: whole tiles while they fit, then single samples
  rangeBlocks(e, v, tile, body, { from: 0, to: e.batch });
}

/**
 * Whole tiles from `range.from` while they fit before `range.to`, then single rows; nothing for an empty range (a
 * thread's share, or the batch from 0).
 */
function rangeBlocks(e: ContractionEmitter, v: Var, tile: number, body: (size: number) => void, range: Range): void {
  const { f } = e;
  const i = e.bindVar(v, `${v.name}0`);
  if (typeof range.from === "number") f.i32Const(range.from);
  else f.localGet(range.from);
  f.localSet(i);
  f.block((done) =>
    f.loop((next) => {
      f.localGet(i).i32Const(tile).i32Add().localGet(range.to).i32GtS().brIf(done);
      body(tile);
      f.localGet(i).i32Const(tile).i32Add().localSet(i).br(next);
    }),
  );
  if (tile > 1) {
    f.block((done) =>
      f.loop((next) => {
        f.localGet(i).localGet(range.to).i32GeS().brIf(done);
        body(1);
        f.localGet(i).i32Const(1).i32Add().localSet(i).br(next);
      }),
    );
  }
}

/** Pushes acc + x·y (x, y, acc on the stack in that order), fused when relaxed SIMD was opted into. */
function multiplyAdd(e: ContractionEmitter, vector: boolean): void {
  const { f } = e;
  const num = e.ctx.kernelNum;
  if (vector && e.ctx.relaxed) {
    if (num.storage === "f32") f.f32x4RelaxedMadd();
    else f.f64x2RelaxedMadd();
    return;
  }
  // x·y, then + acc: the stack holds x y acc; rotate through a local
  e.withTemp(vector ? "v128" : num.scalar, (t) => {
    f.localSet(t);
    vector ? num.v(f, "mul") : num.s(f, "mul");
    f.localGet(t);
    vector ? num.v(f, "add") : num.s(f, "add");
  });
}

/** The scale of the result (1/batch for a weight gradient), evaluated once. */
function scaleLocal(e: ContractionEmitter, c: Contraction): { scalar: WasmLocal; vector: WasmLocal } | undefined {
  if (!c.scale) return undefined;
  const num = e.ctx.kernelNum;
  const scalar = e.f.local(num.scalar, "scale");
  // computed like every elementwise value (in f64), then in the contraction's type
  e.scalar(c.scale);
  if (e.num.scalar !== num.scalar) e.f.f32DemoteF64();
  e.f.localSet(scalar);
  const vector = e.f.local("v128", "scale_v");
  e.f.localGet(scalar);
  num.splat(e.f).localSet(vector);
  return { scalar, vector };
}

/** How many rows a reduction over the batch runs: the batch, or batch × steps over a recurrence's steps. */
function reductionRows(e: ContractionEmitter, c: Contraction): WasmLocal {
  if (c.steps === undefined) return e.batch;
  const rows = e.f.local("i32", "rows");
  e.f.localGet(e.batch).i32Const(c.steps).i32Mul().localSet(rows);
  return rows;
}

/** Pushes the sum of the lanes of `v` (in the contraction's type). */
function lanesSum(e: ContractionEmitter, v: WasmLocal): void {
  const num = e.ctx.kernelNum;
  e.f.localGet(v);
  num.extract(e.f, 0);
  for (let lane = 1; lane < num.lanes; lane++) {
    e.f.localGet(v);
    num.extract(e.f, lane);
    num.s(e.f, "add");
  }
}

/**
 * Pushes the vector whose lane r is the sum of the lanes of `accs[r]` (four f32x4 accumulators): a 4 × 4 transpose in
 * shuffles, then the transposed rows added in lane order, ((l0 + l1) + l2) + l3, the order lanesSum adds a lane at a
 * time, so each sum has the same bits, for 11 instructions instead of 28.
 */
function rowSums(e: ContractionEmitter, accs: readonly WasmLocal[]): void {
  const { f } = e;
  const lanes = (...picks: number[]) => picks.flatMap((lane) => [0, 1, 2, 3].map((b) => lane * 4 + b));
  const interleave = (x: WasmLocal, y: WasmLocal, picks: number[]) => f.localGet(x).localGet(y).i8x16Shuffle(lanes(...picks));
  const [a, b, c, d] = accs;
  e.withTemp("v128", (abLow) =>
    e.withTemp("v128", (cdLow) =>
      e.withTemp("v128", (abHigh) =>
        e.withTemp("v128", (cdHigh) => {
          // (a0 b0 a1 b1), (c0 d0 c1 d1), (a2 b2 a3 b3), (c2 d2 c3 d3)
          interleave(a, b, [0, 4, 1, 5]).localSet(abLow);
          interleave(c, d, [0, 4, 1, 5]).localSet(cdLow);
          interleave(a, b, [2, 6, 3, 7]).localSet(abHigh);
          interleave(c, d, [2, 6, 3, 7]).localSet(cdHigh);
          // lane 0 of every accumulator, + lane 1, + lane 2, + lane 3
          interleave(abLow, cdLow, [0, 1, 4, 5]);
          interleave(abLow, cdLow, [2, 3, 6, 7]).f32x4Add();
          interleave(abHigh, cdHigh, [0, 1, 4, 5]).f32x4Add();
          interleave(abHigh, cdHigh, [2, 3, 6, 7]).f32x4Add();
        }),
      ),
    ),
  );
}

// ---- dot form ---------------------------------------------------------------------------------------------

/** out[s, i] = Σ_t a[i, t]·b[s, t]: rows of `a` × rows of `b`, vectors along t. */
function dot(e: ContractionEmitter, c: Contraction): void {
  const { f } = e;
  const num = e.ctx.kernelNum;
  const t = c.reduce;
  const rowVar = c.outVars.find((v) => coefficient(c.a.index, v) !== 0) ?? c.outVars[1];
  const colVar = c.outVars.find((v) => v !== rowVar) as Var;
  const tile = c.tile ?? DEFAULT_DOT;
  const K = t.extent as number;
  const whole = K - (K % num.lanes);
  const bytes = num.bytes;
  const aRow = coefficient(c.a.index, rowVar) * bytes;
  const bRow = coefficient(c.b.index, colVar) * bytes;
  const outRow = coefficient(c.out.index, rowVar) * bytes;
  const outCol = coefficient(c.out.index, colVar) * bytes;
  const scale = scaleLocal(e, c);
  const pA = f.local("i32", "pa");
  const pB = f.local("i32", "pb");
  const step = f.local("i32", "t");
  const split = splitVar(c, undefined);
  const rangeOf = (v: Var) => (v === split ? e.share(v) : undefined);
  const rowRange = rangeOf(rowVar);
  const colRange = rangeOf(colVar);
  blocks(e, rowVar, tile.rows, (rows) =>
    blocks(e, colVar, tile.cols, (cols) => {
      // pointers to the first element of the tile's rows (the reduction variable at 0)
      e.bindVar(t, "t0");
      const offA = e.address(c.a.buf, c.a.index, t);
      f.localSet(pA);
      const offB = e.address(c.b.buf, c.b.index, t);
      f.localSet(pB);
      const acc = grid(rows, cols, () => f.local("v128", "acc"));
      for (const a of acc.flat()) num.constV(f, 0).localSet(a);
      if (whole > 0) {
        const av = Array.from({ length: rows }, () => f.local("v128", "av"));
        const bv = Array.from({ length: cols }, () => f.local("v128", "bv"));
        f.i32Const(0).localSet(step);
        f.loop((next) => {
          av.forEach((v, r) => num.loadV(f.localGet(pA), offA + r * aRow).localSet(v));
          bv.forEach((v, q) => num.loadV(f.localGet(pB), offB + q * bRow).localSet(v));
          for (let r = 0; r < rows; r++) {
            for (let q = 0; q < cols; q++) {
              f.localGet(av[r]).localGet(bv[q]).localGet(acc[r][q]);
              multiplyAdd(e, true);
              f.localSet(acc[r][q]);
            }
          }
          f.localGet(pA).i32Const(num.lanes * bytes).i32Add().localSet(pA);
          f.localGet(pB).i32Const(num.lanes * bytes).i32Add().localSet(pB);
          f.localGet(step).i32Const(num.lanes).i32Add().localTee(step).i32Const(whole).i32LtS().brIf(next);
        });
      }
      // each accumulator's lanes, the last few terms, then one store per output element
      const offOut = e.address(c.out.buf, c.out.index);
      const pOut = f.local("i32", "po");
      f.localSet(pOut);
      // four rows' sums side by side in the output: summed as one vector, each lane as lanesSum adds it
      if (rows === num.lanes && num.lanes === 4 && whole === K && outRow === bytes) {
        for (let q = 0; q < cols; q++) {
          f.localGet(pOut);
          rowSums(e, acc.map((row) => row[q]));
          if (scale) num.v(f.localGet(scale.vector), "mul");
          if (c.mode === "+=") num.v(num.loadV(f.localGet(pOut), offOut + q * outCol), "add");
          num.storeV(f, offOut + q * outCol);
        }
        return;
      }
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) {
          f.localGet(pOut);
          lanesSum(e, acc[r][q]);
          for (let k = whole; k < K; k++) {
            num.load(f.localGet(pA), offA + r * aRow + (k - whole) * bytes);
            num.load(f.localGet(pB), offB + q * bRow + (k - whole) * bytes);
            num.s(f, "mul");
            num.s(f, "add");
          }
          if (scale) {
            f.localGet(scale.scalar);
            num.s(f, "mul");
          }
          storeResult(e, c, offOut + r * outRow + q * outCol, pOut);
        }
      }
    }, colRange),
    rowRange,
  );
}

// ---- axpy form --------------------------------------------------------------------------------------------

/**
 * out[u, j] = Σ_r s[u, r]·v[r, j] with `v` and `out` contiguous in j: rows of u × vectors of j, each term a
 * splat of s times a vector of v. Columns left over after the vectors run one at a time.
 */
function axpy(e: ContractionEmitter, c: Contraction, j: Var, u: Var): void {
  const { f } = e;
  const num = e.ctx.kernelNum;
  const r = c.reduce;
  const [V, S] = coefficient(c.a.index, j) === 1 ? [c.a, c.b] : [c.b, c.a];
  const tile = c.tile ?? DEFAULT_AXPY;
  const bytes = num.bytes;
  const J = j.extent as number;
  const width = tile.cols * num.lanes;
  const sRow = coefficient(S.index, u) * bytes;
  const outRow = coefficient(c.out.index, u) * bytes;
  const vStep = coefficient(V.index, r) * bytes;
  const sStep = coefficient(S.index, r) * bytes;
  const scale = scaleLocal(e, c);
  const rowCount = reductionRows(e, c);
  const chunk = c.steps === undefined ? undefined : rowChunk(e, c);
  const pV = f.local("i32", "pv");
  const pS = f.local("i32", "ps");
  const pOut = f.local("i32", "po");

  /** One tile at (u, j): `rows` values of u, `vectors` vectors (or `columns` single columns) of j. */
  const tileAt = (rows: number, vectors: number, columns: number) => {
    const vector = vectors > 0;
    const width = vector ? vectors : columns;
    e.bindVar(r, "r0");
    // from the chunk's first row
    const fromRow = (step: number) => chunk && f.localGet(chunk.from).i32Const(step).i32Mul().i32Add();
    const offV = e.address(V.buf, V.index, r);
    fromRow(vStep);
    f.localSet(pV);
    const offS = e.address(S.buf, S.index, r);
    fromRow(sStep);
    f.localSet(pS);
    const acc = grid(rows, width, () => f.local(vector ? "v128" : num.scalar, "acc"));
    for (const a of acc.flat()) (vector ? num.constV(f, 0) : num.constS(f, 0)).localSet(a);
    const vv = Array.from({ length: width }, () => f.local(vector ? "v128" : num.scalar, "vv"));
    const ss = Array.from({ length: rows }, () => f.local(vector ? "v128" : num.scalar, "ss"));
    const counter = e.bindVar(r, "r");
    if (chunk) f.localGet(chunk.from);
    else f.i32Const(0);
    f.localSet(counter);
    f.loop((next) => {
      vv.forEach((v, k) => (vector ? num.loadV(f.localGet(pV), offV + k * num.lanes * bytes) : num.load(f.localGet(pV), offV + k * bytes)).localSet(v));
      ss.forEach((s, q) => (vector ? num.loadSplat(f.localGet(pS), offS + q * sRow) : num.load(f.localGet(pS), offS + q * sRow)).localSet(s));
      for (let q = 0; q < rows; q++) {
        for (let k = 0; k < width; k++) {
          f.localGet(ss[q]).localGet(vv[k]).localGet(acc[q][k]);
          multiplyAdd(e, vector);
          f.localSet(acc[q][k]);
        }
      }
      f.localGet(pV).i32Const(vStep).i32Add().localSet(pV);
      f.localGet(pS).i32Const(sStep).i32Add().localSet(pS);
      f.localGet(counter).i32Const(1).i32Add().localTee(counter);
      if (typeof r.extent === "number") f.i32Const(r.extent);
      else f.localGet(chunk ? chunk.to : rowCount);
      f.i32LtS().brIf(next);
    });
    const offOut = e.address(c.out.buf, c.out.index);
    f.localSet(pOut);
    for (let q = 0; q < rows; q++) {
      for (let k = 0; k < width; k++) {
        f.localGet(pOut).localGet(acc[q][k]);
        if (scale) {
          f.localGet(vector ? scale.vector : scale.scalar);
          vector ? num.v(f, "mul") : num.s(f, "mul");
        }
        const at = offOut + q * outRow + k * (vector ? num.lanes : 1) * bytes;
        if (chunk && c.mode === "=") {
          // the first chunk writes, the later ones add
          if (vector) num.v(num.loadV(f.localGet(pOut), at).localGet(chunk.keepV).v128And(), "add");
          else {
            num.load(f.localGet(pOut), at);
            num.constS(f, 0).localGet(chunk.keepS).select();
            num.s(f, "add");
          }
          vector ? num.storeV(f, at) : num.store(f, at);
        } else if (vector) {
          if (c.mode === "+=") num.v(num.loadV(f.localGet(pOut), at), "add");
          num.storeV(f, at);
        } else storeResult(e, c, at, pOut);
      }
    }
  };

  // whole tiles of columns, then the last vectors, then the last columns
  const wholeCols = J - (J % width);
  const vectorsLeft = Math.floor((J - wholeCols) / num.lanes);
  const columnsLeft = J - wholeCols - vectorsLeft * num.lanes;
  const split = splitVar(c, j);
  if (split !== undefined && split !== u) throw new Error("internal: a shared contraction split along its SIMD lanes");
  const uRange = split === u ? e.share(u) : undefined;
  const rowsOf = (run: (rows: number) => void) => blocks(e, u, tile.rows, run, uRange);
  const allTiles = () => {
    if (wholeCols > 0) e.countedLoop(j, wholeCols, () => rowsOf((rows) => tileAt(rows, tile.cols, 0)), width);
    if (vectorsLeft > 0) {
      f.i32Const(wholeCols).localSet(e.bindVar(j, "j_vec"));
      rowsOf((rows) => tileAt(rows, vectorsLeft, 0));
    }
    if (columnsLeft > 0) {
      f.i32Const(wholeCols + vectorsLeft * num.lanes).localSet(e.bindVar(j, "j_col"));
      rowsOf((rows) => tileAt(rows, 0, columnsLeft));
    }
  };
  if (chunk) chunkLoop(e, chunk, rowCount, allTiles);
  else allTiles();
}

// ---- reductions over many rows --------------------------------------------------------------------------

/**
 * Rows of a reduction over every step of every sample taken at once: a tile sums them in registers, then adds into
 * the output. Summing all batch × steps rows in one go would stream the operands' columns from far caches for every
 * tile (the large LSTM's are 8 MiB of deltas); a chunk of rows of both operands stays in the second-level cache
 * while every tile of the output reads it.
 */
const CHUNK_BYTES = 128 * 1024;

interface RowChunk {
  readonly rows: number;
  /** The chunk's first row and the row after its last. */
  readonly from: WasmLocal;
  readonly to: WasmLocal;
  /** All ones after the first chunk, zeros in it (the output's old value kept, or not), as a vector and a flag. */
  readonly keepV: WasmLocal;
  readonly keepS: WasmLocal;
}

function rowChunk(e: ContractionEmitter, c: Contraction): RowChunk {
  const width = (c.outVars[0].extent as number) + (c.outVars[1].extent as number);
  const rows = Math.max(4, Math.floor(CHUNK_BYTES / (width * e.ctx.kernelNum.bytes)));
  const { f } = e;
  return { rows, from: f.local("i32", "chunk"), to: f.local("i32", "chunk_end"), keepV: f.local("v128", "keep"), keepS: f.local("i32", "keep_old") };
}

/** `body` for each chunk of `rows` rows, with the chunk's range and its keep masks set. */
function chunkLoop(e: ContractionEmitter, chunk: RowChunk, rowCount: WasmLocal, body: () => void): void {
  const { f } = e;
  f.i32Const(0).localSet(chunk.from);
  f.block((done) =>
    f.loop((next) => {
      f.localGet(chunk.from).localGet(rowCount).i32GeS().brIf(done);
      // to = min(from + rows, rowCount)
      f.localGet(chunk.from).i32Const(chunk.rows).i32Add().localGet(rowCount).localGet(chunk.from).i32Const(chunk.rows).i32Add().localGet(rowCount).i32LtS().select().localSet(chunk.to);
      f.localGet(chunk.from).i32Const(0).i32Ne().localSet(chunk.keepS);
      f.i32Const(0).localGet(chunk.keepS).i32Sub().i32x4Splat().localSet(chunk.keepV);
      body();
      f.localGet(chunk.to).localSet(chunk.from).br(next);
    }),
  );
}

/** Stores the scalar on the stack (above its address, `base`) at `offset`, or adds it there for an accumulation. */
function storeResult(e: ContractionEmitter, c: Contraction, offset: number, base: WasmLocal): void {
  const num = e.ctx.kernelNum;
  if (c.mode === "+=") num.s(num.load(e.f.localGet(base), offset), "add");
  num.store(e.f, offset);
}

function grid<T>(rows: number, cols: number, make: () => T): T[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, make));
}
