/**
 * The layers an ONNX import finds, before they have names, and how they become net.json: each layer's entry and its
 * tensors under bpgen's names (W3, b3, g3_1, m2, …), and the text `bpgen import` writes.
 */
import { REVERSE_SUFFIX } from "../../frontend/layers/layer.ts";
import type { Padding } from "../../spec/types.ts";
import type { NamedTensor } from "../safetensors.ts";

/** A layer found in the graph, its weights already in bpgen's layouts. */
export type Layer =
  | { kind: "dense"; units: number; W: Float64Array; inputs: number; bias?: Float64Array; activation?: string }
  | { kind: "conv"; n: number; filters: number; kernel: number[]; stride: number[]; dilation: number[]; padding: Padding; W: Float64Array; wShape: number[]; bias?: Float64Array; activation?: string }
  | { kind: "pool"; op: "max" | "avg"; n: number; size: number[]; stride: number[]; padding: Padding }
  | { kind: "global_avg_pool" }
  | { kind: "flatten" }
  | { kind: "activation"; activation: string }
  | { kind: "layernorm"; eps: number; g: Float64Array; b: Float64Array }
  | { kind: "batchnorm"; eps: number; momentum: number; g: Float64Array; b: Float64Array; m: Float64Array; v: Float64Array }
  | { kind: "dropout"; rate: number }
  | { kind: "residual"; layers: Layer[]; projection?: { to: number; from: number; P: Float64Array } }
  | ({ kind: "recurrent"; cell: "rnn" | "lstm" | "gru"; units: number; inputs: number; everyStep: boolean; activation?: "relu"; reverse?: DirectionWeights } & DirectionWeights);

/**
 * A recurrent layer's weights in one direction, in bpgen's layouts (PyTorch's gate order), with its learned initial
 * state; a bidirectional layer has its reverse direction's as well (`reverse`).
 */
export interface DirectionWeights {
  readonly W: Float64Array;
  readonly R: Float64Array;
  readonly bW: Float64Array;
  readonly bR: Float64Array;
  readonly h0?: Float64Array;
  readonly c0?: Float64Array;
}

/**
 * The net.json's text as a person would write it: one line per top-level entry, and one per layer, parameter or
 * equation (a residual block's layers on lines of their own, indented).
 */
export function netJsonText(spec: Readonly<Record<string, unknown>>): string {
  const one = (v: unknown) => JSON.stringify(v).replace(/":/g, '": ').replace(/,(?=["{\[\d-])/g, ", ");
  const layer = (l: unknown, indent: string): string => {
    const { layers, ...rest } = l as { layers?: unknown[] };
    if (!layers) return `${indent}${one(l)}`;
    const head = one(rest).slice(0, -1);
    return `${indent}${head}, "layers": [\n${layers.map((i) => layer(i, `${indent}  `)).join(",\n")}\n${indent}] }`;
  };
  const entry = ([key, value]: [string, unknown]): string => {
    if (key === "layers" && Array.isArray(value)) return `  "layers": [\n${value.map((l) => layer(l, "    ")).join(",\n")}\n  ]`;
    if (key === "equations" && Array.isArray(value)) return `  "equations": [\n${value.map((e) => `    ${one(e)}`).join(",\n")}\n  ]`;
    if (key === "params" && value && typeof value === "object") return `  "params": {\n${Object.entries(value).map(([k, v]) => `    ${one(k)}: ${one(v)}`).join(",\n")}\n  }`;
    return `  ${one(key)}: ${one(value)}`;
  };
  return `{\n${Object.entries(spec).map(entry).join(",\n")}\n}\n`;
}


/** Each layer as net.json and its tensors under bpgen's names (W3, b3, g3_1, m2, …). */
export function named(list: readonly Layer[], prefix = ""): { specs: Record<string, unknown>[]; tensors: NamedTensor[]; state: NamedTensor[] } {
  const specs: Record<string, unknown>[] = [];
  const tensors: NamedTensor[] = [];
  const state: NamedTensor[] = [];
  const tensor = (name: string, shape: number[], data: Float64Array, into = tensors) => into.push({ name, dtype: "F32", shape, data: Float32Array.from(data) });
  list.forEach((layer, k) => {
    const label = `${prefix}${k + 1}`;
    switch (layer.kind) {
      case "dense":
        specs.push({ type: "dense", units: layer.units, ...(layer.activation ? { activation: layer.activation } : {}), ...(layer.bias ? {} : { bias: false }) });
        tensor(`W${label}`, [layer.units, layer.inputs], layer.W);
        if (layer.bias) tensor(`b${label}`, [layer.units], layer.bias);
        break;
      case "conv":
        specs.push({
          type: `conv${layer.n}d`,
          filters: layer.filters,
          kernel: uniform(layer.kernel),
          ...(layer.stride.every((s) => s === 1) ? {} : { stride: uniform(layer.stride) }),
          ...(layer.padding === "valid" ? {} : { padding: layer.padding }),
          ...(layer.dilation.every((d) => d === 1) ? {} : { dilation: uniform(layer.dilation) }),
          ...(layer.activation ? { activation: layer.activation } : {}),
          ...(layer.bias ? {} : { bias: false }),
        });
        tensor(`W${label}`, layer.wShape, layer.W);
        if (layer.bias) tensor(`b${label}`, [layer.filters], layer.bias);
        break;
      case "pool":
        specs.push({
          type: `${layer.op}_pool${layer.n}d`,
          size: uniform(layer.size),
          ...(layer.stride.join() === layer.size.join() ? {} : { stride: uniform(layer.stride) }),
          ...(layer.padding === "valid" ? {} : { padding: layer.padding }),
        });
        break;
      case "global_avg_pool":
      case "flatten":
        specs.push({ type: layer.kind });
        break;
      case "activation":
        specs.push({ type: "activation", activation: layer.activation });
        break;
      case "layernorm":
        specs.push({ type: "layernorm", ...(Math.fround(layer.eps) === Math.fround(1e-5) ? {} : { eps: shortFloat(layer.eps) }) });
        tensor(`g${label}`, [layer.g.length], layer.g);
        tensor(`b${label}`, [layer.b.length], layer.b);
        break;
      case "batchnorm":
        specs.push({ type: "batchnorm", ...(layer.momentum === 0.1 ? {} : { momentum: layer.momentum }), ...(Math.fround(layer.eps) === Math.fround(1e-5) ? {} : { eps: shortFloat(layer.eps) }) });
        tensor(`g${label}`, [layer.g.length], layer.g);
        tensor(`b${label}`, [layer.b.length], layer.b);
        tensor(`m${label}`, [layer.m.length], layer.m, state);
        tensor(`v${label}`, [layer.v.length], layer.v, state);
        break;
      case "dropout":
        specs.push({ type: "dropout", rate: layer.rate });
        break;
      case "recurrent": {
        specs.push({
          type: layer.cell,
          units: layer.units,
          ...(layer.everyStep ? { return_sequences: true } : {}),
          ...(layer.activation ? { activation: layer.activation } : {}),
          ...(layer.h0 ? { initial_state: "learned" } : {}),
          ...(layer.reverse ? { bidirectional: true } : {}),
        });
        const rows = layer.W.length / layer.inputs;
        // each direction's parameters in turn, the reverse one's named with PyTorch's suffix (W_ih1_reverse)
        const direction = (w: DirectionWeights, suffix: string) => {
          tensor(`W_ih${label}${suffix}`, [rows, layer.inputs], w.W);
          tensor(`W_hh${label}${suffix}`, [rows, layer.units], w.R);
          tensor(`b_ih${label}${suffix}`, [rows], w.bW);
          tensor(`b_hh${label}${suffix}`, [rows], w.bR);
          if (w.h0) tensor(`h0_${label}${suffix}`, [layer.units], w.h0);
          if (w.c0) tensor(`c0_${label}${suffix}`, [layer.units], w.c0);
        };
        direction(layer, "");
        if (layer.reverse) direction(layer.reverse, REVERSE_SUFFIX);
        break;
      }
      case "residual": {
        const inner = named(layer.layers, `${label}_`);
        specs.push({ type: "residual", layers: inner.specs, ...(layer.projection ? { projection: true } : {}) });
        tensors.push(...inner.tensors);
        if (layer.projection) tensor(`P${label}`, [layer.projection.to, layer.projection.from], layer.projection.P);
        state.push(...inner.state);
        break;
      }
    }
  });
  return { specs, tensors, state };
}

export function lastActivation(list: readonly Layer[]): string | undefined {
  const last = list[list.length - 1];
  if (!last) return undefined;
  if (last.kind === "dense" || last.kind === "conv") return last.activation;
  if (last.kind === "activation") return last.activation;
  return undefined;
}

export const uniform = (xs: readonly number[]): number | number[] => (xs.every((x) => x === xs[0]) ? xs[0] : [...xs]);

/** A float32 attribute as the shortest decimal that reads back as it (0.1 rather than 0.10000000149). */
export function shortFloat(v: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const n = Number(v.toPrecision(digits));
    if (Math.fround(n) === Math.fround(v)) return n;
  }
  return v;
}

