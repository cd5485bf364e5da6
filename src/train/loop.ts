/**
 * The training loop of `bpgen train`: seeded shuffle and validation split, mini-batches through the
 * module's trainStep, per-epoch evaluation and gradient-health statistics (and, for a network with recurrent
 * layers, the gradient over the steps: time.ts), the best parameters kept, and stops on request (Ctrl-C, checked
 * after every batch) or on divergence (a non-finite loss or gradient).
 */
import { makeRandom } from "../check/data.ts";
import { type AnyNetModule, type NetModule, type OptimizerConfig, bindState, isStatefulModule } from "./module-api.ts";
import { GradientTally, type HealthThresholds, type HealthWarning, type LayerStats, healthWarnings, layersOf } from "./stats.ts";
import type { Dataset } from "./data.ts";
import { type Cell, DEFAULT_TIME_RATIO, type StepNorms, type TimeWarning, timeProbe, timeWarnings } from "./time.ts";

export type Task = "softmax" | "binary" | "regression";

export interface TrainOptions {
  epochs: number;
  batch: number;
  /** Fraction of the rows held out for validation (0 for none). */
  validation: number;
  seed: number;
  optimizer: Partial<OptimizerConfig>;
  thresholds: HealthThresholds;
  task: Task;
  /** The cell of each recurrent layer, by its state's name ("h1" → "rnn"), where the network says it: the remedies name gated cells for a plain rnn. */
  cells?: ReadonlyMap<string, Cell>;
  /** Shift each training image by up to this many pixels, at random, every time it is used (needs data.image). */
  shift?: number;
  /** Starting parameters (e.g. loaded with --resume); initParams(seed) otherwise. */
  initial?: Float32Array;
  /** A network with state: its starting state (loaded with --resume); initState(seed) otherwise. */
  initialState?: Float32Array;
  /** Polled after every batch: true stops training after that batch. */
  shouldStop?: () => boolean;
  onBatch?: (epoch: number, done: number, total: number, meanLoss: number) => void;
  onEpoch?: (record: EpochRecord, warnings: readonly HealthWarning[], timeWarnings: readonly TimeWarning[]) => void;
}

export interface Metrics {
  loss: number;
  /** Fraction right, for classification. */
  accuracy?: number;
}

export interface EpochRecord {
  /** 0 is the starting point, before any step. */
  epoch: number;
  train: Metrics;
  validation?: Metrics;
  /** Seconds spent in this epoch (training and evaluation). */
  seconds: number;
  /** The epoch was cut short by a stop request. */
  partial?: boolean;
  layers: LayerStats[];
  /** A network with recurrent layers: mean ‖∂L/∂h_t‖ over a fixed batch of training rows, per layer and step t, with the parameters at the end of the epoch. */
  steps?: StepNorms[];
}

export interface Divergence {
  epoch: number;
  batch: number;
  loss: number;
  gradNorm: number;
}

export interface TrainResult {
  history: EpochRecord[];
  /** The parameters (and a network's state) of the epoch with the lowest validation loss (training loss without validation). */
  best: { epoch: number; params: Float32Array; state?: Float32Array };
  stopped: "finished" | "interrupted" | "diverged";
  divergence?: Divergence;
  warnings: HealthWarning[];
  /** A network with recurrent layers: gradients vanishing or exploding over the steps. */
  timeWarnings?: TimeWarning[];
  trainRows: number;
  validationRows: number;
  seconds: number;
}

interface Split {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

export async function train(module: AnyNetModule<Float32Array>, data: Dataset, o: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  // a network with state trains on one state array, which its steps update and its evaluations read
  const netState = isStatefulModule(module) ? (o.initialState ? Float32Array.from(o.initialState) : module.initState(o.seed)) : undefined;
  const m: NetModule<Float32Array> = isStatefulModule(module) && netState ? bindState(module, netState) : (module as NetModule<Float32Array>);
  const snapshot = () => (netState ? { state: Float32Array.from(netState) } : {});
  const { inputSize: nx, targetSize: ny } = m.meta;
  const rand = makeRandom(o.seed);
  const order = shuffle(Array.from({ length: data.count }, (_, i) => i), rand);
  const held = Math.round(data.count * o.validation);
  const validation = held > 0 ? gather(data, order.slice(data.count - held), nx, ny) : undefined;
  const trainSet = gather(data, order.slice(0, data.count - held), nx, ny);

  const params = o.initial ? Float32Array.from(o.initial) : m.initParams(o.seed);
  const state = m.createOptimizer(o.optimizer);
  const layers = layersOf(m.meta);
  const xb = new Float32Array(o.batch * nx);
  const yb = new Float32Array(o.batch * ny);
  const history: EpochRecord[] = [];
  const warnings: HealthWarning[] = [];
  const overTime: TimeWarning[] = [];
  // the first rows of the shuffled training set, the same every epoch
  const probe = timeProbe(m, trainSet.x, trainSet.y, trainSet.count);
  const timeRatio = o.thresholds.time ?? DEFAULT_TIME_RATIO;
  let best: { epoch: number; params: Float32Array; state?: Float32Array; score: number } = { epoch: 0, params: Float32Array.from(params), ...snapshot(), score: Infinity };
  let stopped: TrainResult["stopped"] = "finished";
  let divergence: Divergence | undefined;

  const finishEpoch = (epoch: number, tally: GradientTally, since: number, partial: boolean) => {
    const record: EpochRecord = {
      epoch,
      train: evaluate(m, params, trainSet, o.task),
      validation: validation && evaluate(m, params, validation, o.task),
      seconds: (performance.now() - since) / 1000,
      ...(partial ? { partial } : {}),
      layers: tally.finish(params),
      ...(probe ? { steps: probe.measure(params) } : {}),
    };
    history.push(record);
    const score = (record.validation ?? record.train).loss;
    if (score < best.score) best = { epoch, params: Float32Array.from(params), ...snapshot(), score };
    const found = healthWarnings(epoch, record.layers, o.thresholds);
    warnings.push(...found);
    const foundOverTime = record.steps ? timeWarnings(epoch, record.steps, timeRatio, o.cells) : [];
    overTime.push(...foundOverTime);
    o.onEpoch?.(record, found, foundOverTime);
  };

  finishEpoch(0, new GradientTally(layers), performance.now(), false);
  const rows = Array.from({ length: trainSet.count }, (_, i) => i);
  const shift = o.shift ?? 0;
  const batches = Math.ceil(trainSet.count / o.batch);
  training: for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const since = performance.now();
    const tally = new GradientTally(layers);
    shuffle(rows, rand);
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      const n = Math.min(o.batch, trainSet.count - b * o.batch);
      for (let s = 0; s < n; s++) {
        const r = rows[b * o.batch + s];
        if (shift > 0 && data.image) shiftInto(xb, s * nx, trainSet.x, r * nx, data.image, shift, rand);
        else xb.set(trainSet.x.subarray(r * nx, (r + 1) * nx), s * nx);
        yb.set(trainSet.y.subarray(r * ny, (r + 1) * ny), s * ny);
      }
      const J = m.trainStep(params, state, xb, yb, n);
      if (!Number.isFinite(J) || !Number.isFinite(state.gradNorm)) {
        divergence = { epoch, batch: b + 1, loss: J, gradNorm: state.gradNorm };
        tally.add(state.grads);
        const record: EpochRecord = { epoch, train: { loss: J }, seconds: (performance.now() - since) / 1000, partial: true, layers: tally.finish(params) };
        history.push(record);
        const found = healthWarnings(epoch, record.layers, o.thresholds);
        warnings.push(...found);
        o.onEpoch?.(record, found, []);
        stopped = "diverged";
        break training;
      }
      tally.add(state.grads);
      sum += J;
      o.onBatch?.(epoch, b + 1, batches, sum / (b + 1));
      // let signal handlers run (Ctrl-C) between batches
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (o.shouldStop?.()) {
        finishEpoch(epoch, tally, since, b + 1 < batches);
        stopped = "interrupted";
        break training;
      }
    }
    finishEpoch(epoch, tally, since, false);
  }
  return {
    history,
    best: { epoch: best.epoch, params: best.params, ...(best.state ? { state: best.state } : {}) },
    stopped,
    divergence,
    warnings,
    ...(probe ? { timeWarnings: overTime } : {}),
    trainRows: trainSet.count,
    validationRows: validation?.count ?? 0,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Fisher–Yates, in place, from the seeded generator. */
function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Copies one h×w image shifted by a random (dx, dy) in [−max, max]², filling with zeros. */
function shiftInto(out: Float32Array, at: number, x: Float32Array, from: number, [h, w]: [number, number], max: number, rand: () => number): void {
  const dx = Math.floor(rand() * (2 * max + 1)) - max;
  const dy = Math.floor(rand() * (2 * max + 1)) - max;
  for (let i = 0; i < h; i++) {
    const si = i - dy;
    for (let j = 0; j < w; j++) {
      const sj = j - dx;
      out[at + i * w + j] = si >= 0 && si < h && sj >= 0 && sj < w ? x[from + si * w + sj] : 0;
    }
  }
}

function gather(data: Dataset, rows: number[], nx: number, ny: number): Split {
  const x = new Float32Array(rows.length * nx);
  const y = new Float32Array(rows.length * ny);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * nx, (r + 1) * nx), i * nx);
    y.set(data.y.subarray(r * ny, (r + 1) * ny), i * ny);
  });
  return { x, y, count: rows.length };
}

const CHUNK = 500;

/** Loss (J over the whole split, regularizer included) and, for classification, accuracy. */
export function evaluate(m: NetModule<Float32Array>, params: Float32Array, split: Split, task: Task): Metrics {
  const { inputSize: nx, targetSize: ny, outputSize: no } = m.meta;
  const out = new Float32Array(CHUNK * no);
  let loss = 0;
  let right = 0;
  for (let start = 0; start < split.count; start += CHUNK) {
    const n = Math.min(CHUNK, split.count - start);
    const x = split.x.subarray(start * nx, (start + n) * nx);
    const y = split.y.subarray(start * ny, (start + n) * ny);
    loss += m.loss(params, x, y, n) * n;
    if (task === "regression") continue;
    m.forward(params, x, out, n);
    for (let s = 0; s < n; s++) {
      if (task === "softmax") right += argmax(out, s * no, no) === argmax(y, s * ny, ny) ? 1 : 0;
      else for (let i = 0; i < no; i++) right += (out[s * no + i] > 0.5) === (y[s * ny + i] > 0.5) ? 1 / no : 0;
    }
  }
  return task === "regression" ? { loss: loss / split.count } : { loss: loss / split.count, accuracy: right / split.count };
}

function argmax(a: Float32Array, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[offset + i] > a[offset + best]) best = i;
  return best;
}
