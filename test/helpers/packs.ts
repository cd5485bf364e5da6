/**
 * Many small equation networks compiled as one (a pack), so that a test can hold a generated module of each
 * kernel back end to the interpreter on all of them at the cost of a few compiles. The pack's net holds each
 * unit's parameters, inputs, targets, functions and equations under a prefix (`u12_x`); its loss is the sum of
 * the units' losses, its output the sum of those that read no targets. The units share nothing, so the pack's gradient is every unit's own,
 * side by side, and its flat arrays are the units' arrays concatenated in order.
 */
import type { EquationNetSpec } from "../../src/spec/types.ts";
import { renameIn } from "../peers/harness.ts";

/** One network of a pack and a point to evaluate it at (one sample), drawn from `next` (uniform in [0, 1)). */
export interface PackUnit {
  readonly name: string;
  readonly spec: EquationNetSpec;
  /** Flat parameters, one sample's inputs and targets, each in the spec's order. */
  draw(next: () => number): { readonly params: readonly number[]; readonly inputs: readonly number[]; readonly targets: readonly number[] };
}

const PREFIX = (i: number) => `u${i}_`;

/** The names a unit defines: parameters, inputs, targets, equation results, its functions. */
function localNames(spec: EquationNetSpec): string[] {
  const lhs = spec.equations.map((e) => e.slice(0, e.indexOf("=")).trim());
  return [...Object.keys(spec.params), ...Object.keys(spec.inputs), ...Object.keys(spec.targets), ...lhs, ...Object.keys(spec.functions ?? {})];
}

/** The units as one equation network named `name`. */
export function packSpec(name: string, units: readonly PackUnit[]): EquationNetSpec {
  const pack: Required<Pick<EquationNetSpec, "params" | "inputs" | "targets" | "functions" | "equations">> = {
    params: {},
    inputs: {},
    targets: {},
    functions: {},
    equations: [],
  };
  units.forEach(({ spec }, i) => {
    const names = new Map(localNames(spec).map((n) => [n, PREFIX(i) + n]));
    for (const [n, p] of Object.entries(spec.params)) pack.params[PREFIX(i) + n] = structuredClone(p);
    for (const [n, shape] of Object.entries(spec.inputs)) pack.inputs[PREFIX(i) + n] = structuredClone(shape);
    if (spec.regularizer !== undefined) throw new Error(`${units[i].name}: a unit with a regularizer cannot be packed`);
    for (const [n, shape] of Object.entries(spec.targets)) pack.targets[PREFIX(i) + n] = structuredClone(shape);
    // a function's body names its own arguments only
    for (const [n, body] of Object.entries(spec.functions ?? {})) pack.functions[PREFIX(i) + n] = body;
    for (const e of spec.equations) pack.equations.push(renameIn(e, names));
    pack.equations.push(`${PREFIX(i)}L = ${renameIn(spec.loss, names)}`);
  });
  pack.equations.push(`pack_total = ${units.map((_, i) => `${PREFIX(i)}L`).join(" + ")}`);
  // forward has no targets: the output sums the losses that read none (bpgen accepts an output that reads
  // targets, and forward then fails with a ReferenceError)
  const free = units.flatMap((u, i) => (Object.keys(u.spec.targets).length === 0 ? [`${PREFIX(i)}L`] : []));
  if (free.length === 0) throw new Error("a pack needs a unit without targets for its output");
  pack.equations.push(`pack_out = ${free.join(" + ")}`);
  const { functions, ...rest } = pack;
  return { name, ...rest, ...(Object.keys(functions).length > 0 ? { functions } : {}), output: "pack_out", loss: "pack_total" };
}

/** A point of the pack for `batch` samples: every unit's draw, concatenated (inputs and targets sample by sample). */
export function packPoint(units: readonly PackUnit[], batch: number, next: () => number): { params: number[]; inputs: number[]; targets: number[] } {
  const samples = Array.from({ length: batch }, () => units.map((u) => u.draw(next)));
  return {
    params: samples[0].flatMap((d) => [...d.params]),
    inputs: samples.flatMap((s) => s.flatMap((d) => [...d.inputs])),
    targets: samples.flatMap((s) => s.flatMap((d) => [...d.targets])),
  };
}

/** `items` in consecutive groups of at most `size`. */
export function groups<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
