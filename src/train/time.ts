/**
 * Gradients over time, for a network with recurrent layers: once per epoch, on a fixed batch of training rows,
 * the module's stateGradientNorms gives ‖∂L/∂h_t‖ per sample, recurrent layer and step; their mean over the rows
 * is the picture of how far back through the steps the loss still moves the state. A ratio
 * ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ far below 1 is a gradient vanishing over the sequence (the first steps learn nothing),
 * far above 1 one exploding. A recurrence that runs backwards (a bidirectional layer's second direction) starts at
 * step T − 1: its ratio is ‖∂L/∂h_{T−1}‖ / ‖∂L/∂h_0‖.
 */
import { RECURRENT_KINDS } from "../frontend/layers/recurrent.ts";
import type { Net, NetLayer } from "../ir/net.ts";
import { isLoopOutput, recurrenceOf } from "../ir/node.ts";
import type { RecurrentLayerSpec } from "../spec/types.ts";
import type { NetModule } from "./module-api.ts";

/** Rows of the fixed batch (the first of the shuffled training rows). */
export const TIME_BATCH = 64;

/** The default of `--time-ratio`: vanishing below it, exploding above its inverse. */
export const DEFAULT_TIME_RATIO = 1e-3;

/** The cell of a recurrent layer, when the network says it (the layer form). */
export type Cell = RecurrentLayerSpec["type"];

/**
 * The cell of each recurrent layer of a layer-form net, by the name of its state (its recurrence's first carry, as
 * meta.recurrences names it: "h1").
 */
export function recurrentCells(net: Net): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  const visit = (list: readonly NetLayer[]) =>
    list.forEach((l) => {
      const kind = RECURRENT_KINDS.find((k) => k.type === l.type);
      // a bidirectional layer's output joins its two directions' outputs, each a recurrence's
      const outputs = l.output.op === "concat" ? l.output.inputs : [l.output];
      for (const output of kind && outputs.every(isLoopOutput) ? outputs : []) {
        const state = net.graph.hint(recurrenceOf(output).carries[0].leaf);
        if (kind && state) cells.set(state, kind.type);
      }
      visit(l.inner);
    });
  visit(net.layers ?? []);
  return cells;
}

export interface StepNorms {
  /** The layer's state, as the network names it ("h1"). */
  layer: string;
  /** Mean over the fixed batch of ‖∂L/∂h_t‖, for t = 0 … T − 1. */
  norms: number[];
  /** The recurrence runs from step T − 1 down to 0 (meta.recurrences' reverse). */
  reverse?: boolean;
}

/** ‖∂L/∂h‖ at the step a recurrence starts from and at the one it ends with: t = 0 and T − 1, reversed backwards. */
export function endsOf(s: Pick<StepNorms, "norms" | "reverse">): { first: number; last: number } {
  const [start, end] = [s.norms[0] ?? NaN, s.norms[s.norms.length - 1] ?? NaN];
  return s.reverse ? { first: end, last: start } : { first: start, last: end };
}

/** The stateGradientNorms of a module, over its recurrences (undefined for a network without them). */
export interface TimeProbe {
  /** Mean ‖∂L/∂h_t‖ over the rows, per recurrent layer. */
  measure(params: Float32Array): StepNorms[];
}

/** A probe of `m` on `count` rows of `x`, `y`; undefined when the module has no recurrences. */
export function timeProbe(m: NetModule<Float32Array>, x: Float32Array, y: Float32Array, count: number): TimeProbe | undefined {
  const recurrences = m.meta.recurrences ?? [];
  const norms = m.stateGradientNorms;
  if (recurrences.length === 0 || !norms || count === 0) return undefined;
  const rows = Math.min(count, TIME_BATCH);
  const { inputSize: nx, targetSize: ny } = m.meta;
  const xs = x.slice(0, rows * nx);
  const ys = y.slice(0, rows * ny);
  const width = recurrences.reduce((n, r) => n + r.steps, 0);
  const out = new Float32Array(rows * width);
  return {
    measure(params) {
      norms(params, xs, ys, out, rows);
      return recurrences.map((r) => ({
        layer: r.name,
        ...(r.reverse ? { reverse: true } : {}),
        norms: Array.from({ length: r.steps }, (_, t) => {
          let sum = 0;
          for (let s = 0; s < rows; s++) sum += out[s * width + r.offset + t];
          return sum / rows;
        }),
      }));
    },
  };
}

export interface TimeWarning {
  kind: "vanishing" | "exploding";
  /** The recurrent layer's state ("h1"). */
  layer: string;
  cell?: Cell;
  epoch: number;
  /** Mean ‖∂L/∂h‖ over the fixed batch at the step the recurrence starts from (t = 0) and at its last (T − 1). */
  first: number;
  last: number;
  steps: number;
  /** It runs backwards: its first step is T − 1, its last 0. */
  reverse?: boolean;
}

/** A recurrent layer by its state's name, with its cell when known: "h1 (rnn)". */
export const layerName = (w: Pick<TimeWarning, "layer" | "cell">): string => (w.cell ? `${w.layer} (${w.cell})` : w.layer);

/** first / last: how much of the gradient at the last step reaches the first. */
export const timeRatio = (w: Pick<TimeWarning, "first" | "last">): number => w.first / w.last;

/**
 * The recurrent layers of one epoch whose gradient over the steps shrinks below `ratio` (vanishing) or grows
 * beyond 1 / `ratio` (exploding, or not finite) from the last step to the first. A layer whose last step has no
 * gradient at all (the loss does not read it) is left out.
 */
export function timeWarnings(epoch: number, steps: readonly StepNorms[], ratio: number, cells: ReadonlyMap<string, Cell> = new Map()): TimeWarning[] {
  return steps.flatMap((s): TimeWarning[] => {
    const { first, last } = endsOf(s);
    if (s.norms.length < 2 || last === 0) return [];
    const r = first / last;
    const cell = cells.get(s.layer);
    const base = { layer: s.layer, ...(cell ? { cell } : {}), epoch, first, last, steps: s.norms.length, ...(s.reverse ? { reverse: true } : {}) };
    if (r < ratio) return [{ kind: "vanishing", ...base }];
    if (!(r <= 1 / ratio)) return [{ kind: "exploding", ...base }];
    return [];
  });
}

/** What to do about it; gated cells only where the layer is not one already. */
export function timeRemedies(kind: TimeWarning["kind"], cells: readonly (Cell | undefined)[]): string[] {
  const plain = cells.some((c) => c === undefined || c === "rnn");
  const gated = plain ? ["gated cells (lstm or gru) instead of a plain rnn, whose state passes through an additive path"] : [];
  const shorter = "shorter sequences (bpgen has no truncated backpropagation through time: cut the rows into shorter windows)";
  return kind === "vanishing"
    ? [...gated, shorter]
    : ["clip the gradient (--clip-norm 1, or --clip-value 0.5)", "a smaller learning rate (--lr)", ...gated, shorter];
}

/**
 * Why a warning was given, the ratio against the bound it crossed and the option that sets the bound, e.g.
 * "‖∂L/∂h_0‖ 2.1e-9 = 3.3e-8 × ‖∂L/∂h_49‖ (0.064); 3.3e-8 < 0.001 (--time-ratio)".
 */
export function timeWarningReason(w: TimeWarning, ratio: number, fmt: (v: number) => string): string {
  const r = fmt(timeRatio(w));
  const bound = w.kind === "vanishing" ? `${r} < ${fmt(ratio)} (--time-ratio)` : `${r} > ${fmt(1 / ratio)} (1 / --time-ratio)`;
  // a recurrence that runs backwards starts at step T − 1 and ends at 0
  const [first, last] = w.reverse ? [w.steps - 1, 0] : [0, w.steps - 1];
  return `‖∂L/∂h_${first}‖ ${fmt(w.first)} = ${r} × ‖∂L/∂h_${last}‖ (${fmt(w.last)}); ${bound}${w.reverse ? " (it runs from the last step to the first)" : ""}`;
}

/** 1, 2, 3, 5, 7, 8 → "1–3, 5, 7–8". */
export function spans(epochs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < epochs.length; i++) {
    let j = i;
    while (j + 1 < epochs.length && epochs[j + 1] === epochs[j] + 1) j++;
    parts.push(j > i ? `${epochs[i]}–${epochs[j]}` : `${epochs[i]}`);
    i = j;
  }
  return parts.join(", ");
}
