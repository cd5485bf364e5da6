/**
 * A plain float64 implementation of the recurrent stacks of tf-recurrent.ts (same specs, same flat parameter
 * layout, same losses; its header gives the equations), with the backward pass written by hand: backpropagation
 * through time, no autodiff and no TF.js. It cross-checks the TF.js oracle's mapping of PyTorch's parameters onto
 * Keras's weights (test/oracle-recurrent-self.test.ts).
 *
 * Each cell computes, per step, from a = W_ih x_t + b_ih and u = W_hh h_{t−1} + b_hh (both [G·H]), its state; its
 * backward step turns the cotangents of h_t (and c_t) into those of a, u and of the state before. The layer
 * driver does the products: dW_ih += da x_tᵀ, db_ih += da, dW_hh += du h_{t−1}ᵀ, db_hh += du, dx_t = W_ihᵀ da and
 * dh_{t−1} += W_hhᵀ du, walking the steps backwards. A bidirectional layer runs its second cell on the input's rows
 * reversed, reverses its rows back, and places them after the first cell's in each row.
 */
import type { OracleResult } from "./tf-equations.ts";
import { OracleError } from "./tf-equations.ts";
import { recurrentLayout, type CellLayout, type DenseLayout, type RecurrentNetSpec, type StageLayout } from "./tf-recurrent.ts";

const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

/** An elementwise activation with its derivative, written in terms of its input z and output a. */
interface Activation {
  f(z: number): number;
  df(z: number, a: number): number;
}
const ACTIVATIONS: Record<string, Activation> = {
  linear: { f: (z) => z, df: () => 1 },
  tanh: { f: Math.tanh, df: (_, a) => 1 - a * a },
  sigmoid: { f: sigmoid, df: (_, a) => a * (1 - a) },
  relu: { f: (z) => Math.max(z, 0), df: (z) => (z > 0 ? 1 : 0) },
  softplus: { f: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), df: (z) => sigmoid(z) },
};
function activation(name: string): Activation {
  const act = ACTIVATIONS[name];
  if (!act) throw new OracleError(`the recurrent reference has no activation ${name} (it has ${Object.keys(ACTIVATIONS).join(", ")})`);
  return act;
}

// ---- cells -------------------------------------------------------------------------------------------------

interface CellBackward {
  da: Float64Array;
  du: Float64Array;
  /** The part of dh_{t−1} that does not go through W_hh (GRU's z ⊙ h_{t−1}); W_hhᵀ du is added by the driver. */
  dhPrev: Float64Array;
  dcPrev: Float64Array;
}
interface CellStep {
  h: Float64Array;
  c: Float64Array;
  backward(dh: Float64Array, dc: Float64Array): CellBackward;
}
type Cell = (a: Float64Array, u: Float64Array, hPrev: Float64Array, cPrev: Float64Array) => CellStep;

const sum = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);

function rnnCell(act: Activation): Cell {
  return (a, u, hPrev) => {
    const pre = sum(a, u);
    const h = pre.map((z) => act.f(z));
    return {
      h,
      c: new Float64Array(0),
      backward(dh) {
        const dpre = dh.map((d, j) => d * act.df(pre[j], h[j]));
        return { da: dpre, du: dpre, dhPrev: new Float64Array(hPrev.length), dcPrev: new Float64Array(0) };
      },
    };
  };
}

/** Blocks i, f, g, o. */
const lstmCell: Cell = (a, u, hPrev, cPrev) => {
  const H = hPrev.length;
  const pre = sum(a, u);
  const i = pre.subarray(0, H).map(sigmoid);
  const f = pre.subarray(H, 2 * H).map(sigmoid);
  const g = pre.subarray(2 * H, 3 * H).map(Math.tanh);
  const o = pre.subarray(3 * H, 4 * H).map(sigmoid);
  const c = cPrev.map((cp, j) => f[j] * cp + i[j] * g[j]);
  const tc = c.map(Math.tanh);
  const h = o.map((oj, j) => oj * tc[j]);
  return {
    h,
    c,
    backward(dh, dc) {
      const dpre = new Float64Array(4 * H);
      const dcPrev = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dcTotal = dc[j] + dh[j] * o[j] * (1 - tc[j] * tc[j]);
        dpre[j] = dcTotal * g[j] * i[j] * (1 - i[j]);
        dpre[H + j] = dcTotal * cPrev[j] * f[j] * (1 - f[j]);
        dpre[2 * H + j] = dcTotal * i[j] * (1 - g[j] * g[j]);
        dpre[3 * H + j] = dh[j] * tc[j] * o[j] * (1 - o[j]);
        dcPrev[j] = dcTotal * f[j];
      }
      return { da: dpre, du: dpre, dhPrev: new Float64Array(H), dcPrev };
    },
  };
};

/** Blocks r, z, n; the reset gate multiplies u_n = W_hn h + b_hn (PyTorch's GRU). */
const gruCell: Cell = (a, u, hPrev) => {
  const H = hPrev.length;
  const r = new Float64Array(H);
  const z = new Float64Array(H);
  const n = new Float64Array(H);
  const h = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    r[j] = sigmoid(a[j] + u[j]);
    z[j] = sigmoid(a[H + j] + u[H + j]);
    n[j] = Math.tanh(a[2 * H + j] + r[j] * u[2 * H + j]);
    h[j] = (1 - z[j]) * n[j] + z[j] * hPrev[j];
  }
  return {
    h,
    c: new Float64Array(0),
    backward(dh) {
      const da = new Float64Array(3 * H);
      const du = new Float64Array(3 * H);
      const dhPrev = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dn = dh[j] * (1 - z[j]);
        const dz = dh[j] * (hPrev[j] - n[j]);
        dhPrev[j] = dh[j] * z[j];
        const dpn = dn * (1 - n[j] * n[j]);
        const dpr = dpn * u[2 * H + j] * r[j] * (1 - r[j]);
        const dpz = dz * z[j] * (1 - z[j]);
        da[j] = du[j] = dpr;
        da[H + j] = du[H + j] = dpz;
        da[2 * H + j] = dpn;
        du[2 * H + j] = dpn * r[j];
      }
      return { da, du, dhPrev, dcPrev: new Float64Array(0) };
    },
  };
};

function cellOf(layer: CellLayout): { cell: Cell; stateSize: number } {
  switch (layer.activation) {
    case "lstm":
      return { cell: lstmCell, stateSize: layer.units };
    case "gru":
      return { cell: gruCell, stateSize: 0 };
    default:
      return { cell: rnnCell(activation(layer.activation)), stateSize: 0 };
  }
}

// ---- linear algebra on the flat vector -------------------------------------------------------------------

/** W [rows, cols] at `offset` of p, times v (from `start`), plus b [rows] at `bOffset` (or none). */
function affine(
  p: Float64Array,
  offset: number,
  rows: number,
  cols: number,
  v: ArrayLike<number>,
  start: number,
  bOffset: number | null,
): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = bOffset === null ? 0 : p[bOffset + r];
    for (let k = 0; k < cols; k++) acc += p[offset + r * cols + k] * v[start + k];
    out[r] = acc;
  }
  return out;
}

/** grad[W] += d vᵀ (d [rows], v from `start`, [cols]). */
function addOuter(grad: Float64Array, offset: number, d: Float64Array, v: ArrayLike<number>, start: number, cols: number): void {
  for (let r = 0; r < d.length; r++) for (let k = 0; k < cols; k++) grad[offset + r * cols + k] += d[r] * v[start + k];
}

/** out[start..] += Wᵀ d. */
function addTransposedProduct(out: Float64Array, start: number, p: Float64Array, offset: number, d: Float64Array, cols: number): void {
  for (let r = 0; r < d.length; r++) for (let k = 0; k < cols; k++) out[start + k] += p[offset + r * cols + k] * d[r];
}

function addInto(grad: Float64Array, offset: number, d: Float64Array): void {
  for (let i = 0; i < d.length; i++) grad[offset + i] += d[i];
}

// ---- layers ----------------------------------------------------------------------------------------------

/** A value between layers: `steps` rows of `width` (a vector is one row). */
interface Value {
  steps: number;
  width: number;
  data: Float64Array;
}
interface Forward {
  out: Value;
  /** From the cotangent of the output, accumulates into grad and returns the cotangent of the input. */
  backward(dOut: Float64Array, grad: Float64Array): Float64Array;
}

function denseForward(layer: DenseLayout, p: Float64Array, input: Value): Forward {
  const act = activation(layer.activation);
  const bOffset = layer.b ? layer.b.offset : null;
  const z = new Float64Array(input.steps * layer.units);
  for (let t = 0; t < input.steps; t++)
    z.set(affine(p, layer.W.offset, layer.units, layer.fanIn, input.data, t * layer.fanIn, bOffset), t * layer.units);
  const a = z.map((v) => act.f(v));
  return {
    out: { steps: input.steps, width: layer.units, data: a },
    backward(dOut, grad) {
      const dIn = new Float64Array(input.data.length);
      for (let t = 0; t < input.steps; t++) {
        const dz = new Float64Array(layer.units);
        for (let j = 0; j < layer.units; j++) dz[j] = dOut[t * layer.units + j] * act.df(z[t * layer.units + j], a[t * layer.units + j]);
        addOuter(grad, layer.W.offset, dz, input.data, t * layer.fanIn, layer.fanIn);
        if (layer.b) addInto(grad, layer.b.offset, dz);
        addTransposedProduct(dIn, t * layer.fanIn, p, layer.W.offset, dz, layer.fanIn);
      }
      return dIn;
    },
  };
}

function cellForward(layer: CellLayout, p: Float64Array, input: Value): Forward {
  const { cell, stateSize } = cellOf(layer);
  const H = layer.units;
  const rows = layer.W_ih.shape[0];
  const T = input.steps;
  const hs: Float64Array[] = [new Float64Array(H)];
  const steps: CellStep[] = [];
  let c: Float64Array = new Float64Array(stateSize);
  for (let t = 0; t < T; t++) {
    const a = affine(p, layer.W_ih.offset, rows, layer.fanIn, input.data, t * layer.fanIn, layer.b_ih.offset);
    const u = affine(p, layer.W_hh.offset, rows, H, hs[t], 0, layer.b_hh.offset);
    const step = cell(a, u, hs[t], c);
    steps.push(step);
    hs.push(step.h);
    c = step.c;
  }
  const data = new Float64Array(layer.returnSequences ? T * H : H);
  if (layer.returnSequences) hs.slice(1).forEach((h, t) => data.set(h, t * H));
  else data.set(hs[T]);
  return {
    out: { steps: layer.returnSequences ? T : 1, width: H, data },
    backward(dOut, grad) {
      const dIn = new Float64Array(input.data.length);
      let dh: Float64Array = new Float64Array(H);
      let dc: Float64Array = new Float64Array(stateSize);
      for (let t = T - 1; t >= 0; t--) {
        if (layer.returnSequences) addInto(dh, 0, dOut.subarray(t * H, (t + 1) * H));
        else if (t === T - 1) addInto(dh, 0, dOut);
        const back = steps[t].backward(dh, dc);
        addOuter(grad, layer.W_ih.offset, back.da, input.data, t * layer.fanIn, layer.fanIn);
        addInto(grad, layer.b_ih.offset, back.da);
        addOuter(grad, layer.W_hh.offset, back.du, hs[t], 0, H);
        addInto(grad, layer.b_hh.offset, back.du);
        addTransposedProduct(dIn, t * layer.fanIn, p, layer.W_ih.offset, back.da, layer.fanIn);
        dh = back.dhPrev;
        addTransposedProduct(dh, 0, p, layer.W_hh.offset, back.du, H);
        dc = back.dcPrev;
      }
      return dIn;
    },
  };
}

function stageForward(layer: StageLayout, p: Float64Array, input: Value): Forward {
  if (layer.kind === "dense") return denseForward(layer, p, input);
  return layer.backward ? bidirectionalForward(cellForward(layer, p, input), (v) => cellForward(layer.backward as CellLayout, p, v), input) : cellForward(layer, p, input);
}

/** `rows` rows of `width` in the opposite order. */
function reversedRows(data: Float64Array, rows: number, width: number): Float64Array {
  const out = new Float64Array(data.length);
  for (let t = 0; t < rows; t++) out.set(data.subarray(t * width, (t + 1) * width), (rows - 1 - t) * width);
  return out;
}

/**
 * A bidirectional layer: the backward cell on the input's rows in reverse order, its rows reversed back (a
 * sequence) so that row t holds what it computed after reading x_{T−1} … x_t; each row the forward cell's values,
 * then the backward cell's. The cotangent splits the same way, and the backward cell's input cotangent is reversed.
 */
function bidirectionalForward(forward: Forward, backwardOn: (v: Value) => Forward, input: Value): Forward {
  const backward = backwardOn({ ...input, data: reversedRows(input.data, input.steps, input.width) });
  const rows = forward.out.steps;
  const [wf, wb] = [forward.out.width, backward.out.width];
  const backRows = rows > 1 ? reversedRows(backward.out.data, rows, wb) : backward.out.data;
  const data = new Float64Array(rows * (wf + wb));
  for (let t = 0; t < rows; t++) {
    data.set(forward.out.data.subarray(t * wf, (t + 1) * wf), t * (wf + wb));
    data.set(backRows.subarray(t * wb, (t + 1) * wb), t * (wf + wb) + wf);
  }
  return {
    out: { steps: rows, width: wf + wb, data },
    backward(dOut, grad) {
      const [df, db] = [new Float64Array(rows * wf), new Float64Array(rows * wb)];
      for (let t = 0; t < rows; t++) {
        df.set(dOut.subarray(t * (wf + wb), t * (wf + wb) + wf), t * wf);
        db.set(dOut.subarray(t * (wf + wb) + wf, (t + 1) * (wf + wb)), t * wb);
      }
      const dIn = forward.backward(df, grad);
      const dBack = reversedRows(backward.backward(rows > 1 ? reversedRows(db, rows, wb) : db, grad), input.steps, input.width);
      return dIn.map((v, i) => v + dBack[i]);
    },
  };
}

// ---- losses ----------------------------------------------------------------------------------------------

/** One sample's loss, the output the network reports, and dLoss/d(last layer's output). */
function sampleLoss(loss: RecurrentNetSpec["loss"], a: Value, y: Float64Array): { loss: number; output: Float64Array; dOut: Float64Array } {
  if (loss === "mse") {
    const dOut = a.data.map((v, i) => v - y[i]);
    return { loss: 0.5 * dOut.reduce((s, d) => s + d * d, 0), output: a.data, dOut };
  }
  if (loss !== "softmax_cross_entropy") throw new OracleError(`unknown loss ${String(loss)}`);
  // per step: −Σ y log softmax(a) = Σ y · (lse − a); its gradient (Σ y) softmax(a) − y
  const K = a.width;
  const output = new Float64Array(a.data.length);
  const dOut = new Float64Array(a.data.length);
  let total = 0;
  for (let t = 0; t < a.steps; t++) {
    const row = a.data.subarray(t * K, (t + 1) * K);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    let ySum = 0;
    for (let k = 0; k < K; k++) {
      total += y[t * K + k] * (lse - row[k]);
      ySum += y[t * K + k];
    }
    for (let k = 0; k < K; k++) {
      output[t * K + k] = Math.exp(row[k] - lse);
      dOut[t * K + k] = ySum * output[t * K + k] - y[t * K + k];
    }
  }
  return { loss: total, output, dOut };
}

// ---- the network -----------------------------------------------------------------------------------------

/** The recurrent network in float64, gradient by hand-written BPTT; same arguments and result as tfRecurrentNet. */
export function referenceRecurrentNet(spec: RecurrentNetSpec, params: Float64Array, x: Float64Array, y: Float64Array, batch: number): OracleResult {
  const layout = recurrentLayout(spec);
  if (params.length !== layout.paramCount) throw new OracleError(`params: expected ${layout.paramCount}, found ${params.length}`);
  if (x.length !== batch * layout.inputSize || y.length !== batch * layout.targetSize) throw new OracleError("x or y: wrong size for the batch");
  const grad = new Float64Array(layout.paramCount);
  const output = new Float64Array(batch * layout.outputSize);
  let loss = 0;
  for (let s = 0; s < batch; s++) {
    let value: Value = { steps: layout.steps, width: layout.features, data: x.slice(s * layout.inputSize, (s + 1) * layout.inputSize) };
    const tape: Forward[] = [];
    for (const layer of layout.layers) {
      const f = stageForward(layer, params, value);
      tape.push(f);
      value = f.out;
    }
    const sample = sampleLoss(spec.loss, value, y.subarray(s * layout.targetSize, (s + 1) * layout.targetSize));
    loss += sample.loss / batch;
    output.set(sample.output, s * layout.outputSize);
    let d: Float64Array = sample.dOut.map((v) => v / batch);
    for (let i = tape.length - 1; i >= 0; i--) d = tape[i].backward(d, grad);
  }
  if (spec.l2) {
    const lambda = spec.l2;
    const weights = layout.layers.flatMap((layer) =>
      layer.kind === "dense" ? [layer.W] : [layer.W_ih, layer.W_hh, ...(layer.backward ? [layer.backward.W_ih, layer.backward.W_hh] : [])],
    );
    for (const w of weights) {
      for (let i = w.offset; i < w.offset + w.size; i++) {
        loss += (lambda / 2) * params[i] * params[i];
        grad[i] += lambda * params[i];
      }
    }
  }
  return { loss, grad, output };
}
