/**
 * Gradient health: per layer, the norm and range of the gradient (over the epoch's batches) and of the
 * parameters (at the end of the epoch). A layer is the parameters sharing a number (W3 and b3 are layer 3);
 * parameters of an equation-form network without such numbers are each their own layer.
 */
import type { FloatArray, NetMeta } from "../check/module.ts";

export interface Layer {
  name: string;
  /** [offset, size] regions of the flat parameter vector. */
  regions: [number, number][];
}

export interface Range {
  norm: number;
  min: number;
  max: number;
}

export interface LayerStats {
  layer: string;
  /** Mean over the epoch's batches of the layer's gradient norm; the min and max of any entry. Absent at epoch 0. */
  grad?: Range;
  param: Range;
}

export function layersOf(meta: NetMeta): Layer[] {
  const numbered = meta.params.map((p) => /^[A-Za-z_]+?(\d+)$/.exec(p.name)?.[1]);
  if (numbered.some((n) => n === undefined)) return meta.params.map((p) => ({ name: p.name, regions: [[p.offset, p.size]] }));
  const layers = new Map<string, Layer>();
  meta.params.forEach((p, i) => {
    const key = numbered[i] as string;
    const layer = layers.get(key) ?? { name: `layer ${Number(key)}`, regions: [] };
    layer.regions.push([p.offset, p.size]);
    layers.set(key, layer);
  });
  return [...layers.values()];
}

export function rangeOf(a: FloatArray, layer: Layer): Range {
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const [offset, size] of layer.regions) {
    for (let i = offset; i < offset + size; i++) {
      const v = a[i];
      sq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v !== v) min = max = NaN;
    }
  }
  return { norm: Math.sqrt(sq), min, max };
}

/** Sums each layer's gradient norm and range over the batches of an epoch. */
export class GradientTally {
  private readonly sums: number[];
  private readonly mins: number[];
  private readonly maxs: number[];
  private batches = 0;

  constructor(private readonly layers: readonly Layer[]) {
    this.sums = layers.map(() => 0);
    this.mins = layers.map(() => Infinity);
    this.maxs = layers.map(() => -Infinity);
  }

  add(grads: FloatArray): void {
    this.layers.forEach((layer, k) => {
      const r = rangeOf(grads, layer);
      this.sums[k] += r.norm;
      this.mins[k] = r.min !== r.min ? NaN : Math.min(this.mins[k], r.min);
      this.maxs[k] = r.max !== r.max ? NaN : Math.max(this.maxs[k], r.max);
    });
    this.batches++;
  }

  /** The epoch's statistics, with the parameters as they are now. */
  finish(params: FloatArray): LayerStats[] {
    return this.layers.map((layer, k) => ({
      layer: layer.name,
      grad: this.batches > 0 ? { norm: this.sums[k] / this.batches, min: this.mins[k], max: this.maxs[k] } : undefined,
      param: rangeOf(params, layer),
    }));
  }
}

export interface HealthThresholds {
  /** A layer whose mean gradient norm falls below this is vanishing. */
  low: number;
  /** A layer whose mean gradient norm rises above this is exploding. */
  high: number;
  /** A layer whose mean gradient norm is below this fraction of the largest layer's is vanishing too. */
  ratio: number;
  /**
   * A recurrent layer whose ‖∂L/∂h_0‖ is below this fraction of its ‖∂L/∂h_{T−1}‖ is vanishing over the steps,
   * above its inverse exploding (time.ts; default DEFAULT_TIME_RATIO).
   */
  time?: number;
}

export interface HealthWarning {
  kind: "vanishing" | "exploding";
  layer: string;
  epoch: number;
  norm: number;
  /** The largest layer's gradient norm in the same epoch. */
  largest: number;
}

/**
 * The layers of one epoch whose gradient norm is outside the thresholds: below `low` or below `ratio` times
 * the largest layer's norm is vanishing; above `high` (or NaN) is exploding.
 */
export function healthWarnings(epoch: number, stats: readonly LayerStats[], t: HealthThresholds): HealthWarning[] {
  const largest = Math.max(...stats.map((s) => s.grad?.norm ?? 0));
  return stats.flatMap((s): HealthWarning[] => {
    const norm = s.grad?.norm;
    if (norm === undefined) return [];
    if (norm < t.low || norm < t.ratio * largest) return [{ kind: "vanishing", layer: s.layer, epoch, norm, largest }];
    if (!(norm <= t.high)) return [{ kind: "exploding", layer: s.layer, epoch, norm, largest }];
    return [];
  });
}

export const REMEDIES: Record<HealthWarning["kind"], string[]> = {
  vanishing: [
    "a ReLU-like activation (relu, leaky_relu, elu) with He init, or tanh with Xavier init, instead of sigmoid",
    "fewer layers",
    "an adaptive optimizer (--optimizer adam), which rescales small gradients",
  ],
  exploding: [
    "clip the gradient (--clip-norm 1, or --clip-value 0.5)",
    "a smaller learning rate (--lr)",
    "a smaller initialisation (xavier instead of a large constant)",
  ],
};

/**
 * Why a warning was given, with the bound it crossed and the option that sets the bound, e.g.
 * "gradient norm 2.9e-5 = 6.4e-5 × the largest layer's (0.45); 6.4e-5 < 0.001 (--grad-ratio)".
 */
export function warningReason(w: HealthWarning, t: HealthThresholds, fmt: (v: number) => string): string {
  if (w.kind === "exploding") return `gradient norm ${fmt(w.norm)} > ${fmt(t.high)} (--grad-high)`;
  if (w.norm < t.low) return `gradient norm ${fmt(w.norm)} < ${fmt(t.low)} (--grad-low)`;
  const r = fmt(w.norm / w.largest);
  return `gradient norm ${fmt(w.norm)} = ${r} × the largest layer's (${fmt(w.largest)}); ${r} < ${fmt(t.ratio)} (--grad-ratio)`;
}
