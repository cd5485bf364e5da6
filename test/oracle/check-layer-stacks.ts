/**
 * The oracle's layer-stack families: random stacks of every layer type (test/oracle/random-layer-stacks.ts)
 * against TF.js's own layers (test/oracle/tf-layer-stacks.ts), run by test/oracle-layer-stacks.test.ts. TF.js
 * computes in float32, so both precisions are held to float32's accuracy: values within 2e-4, gradients within
 * 2e-3 (relative, with a floor of 1e-2), running statistics within 1e-4.
 * - stacks without modes, of 1, 2 and 3 spatial axes: lowered to kernel IR and run by the interpreter in f64 and
 *   f32 — loss (the gradient's J), forward, and the gradient of every parameter;
 * - stacks with batchnorm and dropout, of 1 and 2 spatial axes: compiled with the TypeScript and the WebAssembly
 *   kernels, in f64 and f32 — training mode (trainingLoss, trainingForward, the gradient, the state after the
 *   step) and inference mode (forward, loss).
 * Reproduce a failure from its seed: `makeRng(seed)`, then `randomStack(rng, axes, name)` or
 * `randomModalStack(rng, axes, name)`, then the data as `stackPoint` and `checkModalStack` draw them.
 */
import type { FloatArray, StatefulNetModule } from "../../src/module-api.ts";
import type { Kernels, Precision } from "../../src/pipeline.ts";
import { InterpretedNet } from "../helpers/interpreted.ts";
import { mismatch, normalisedRows } from "../helpers/ir-util.ts";
import { compileStateful } from "../helpers/stateful-nets.ts";
import { ORACLE_LONG } from "./check.ts";
import { type Rng, makeRng, toF32Values } from "./random-nets.ts";
import { type Axes, type StackSpec, buildStack, randomModalStack, randomStack } from "./random-layer-stacks.ts";
import { type StackPoint, type TrainingResult, tfInference, tfTraining } from "./tf-layer-stacks.ts";

export interface StackFamily {
  readonly kind: string;
  readonly axes: Axes;
  /** Stacks with batchnorm and dropout, compiled and compared in both modes. */
  readonly modal: boolean;
  readonly count: number;
  readonly seed0: number;
}

/** The stack families `npm test` checks: seeds seed0 … seed0 + count − 1 (count × ORACLE_LONG when it is set). */
export const LAYER_STACK_FAMILIES: readonly StackFamily[] = ([
  { kind: "2-D stacks", axes: 2, modal: false, count: 12, seed0: 70_000 },
  { kind: "1-D stacks", axes: 1, modal: false, count: 6, seed0: 71_000 },
  { kind: "3-D stacks", axes: 3, modal: false, count: 7, seed0: 72_000 },
  { kind: "2-D stacks with modes", axes: 2, modal: true, count: 4, seed0: 73_000 },
  { kind: "1-D stacks with modes", axes: 1, modal: true, count: 3, seed0: 74_000 },
] as const satisfies readonly StackFamily[]).map((f) => (ORACLE_LONG > 0 ? { ...f, count: f.count * ORACLE_LONG } : f));

/** Values (loss, outputs) within 2e-4, gradients within 2e-3 relative with a floor of 1e-2, running statistics within 1e-4. */
const VALUES = 2e-4;
const GRADIENTS = 2e-3;
const GRADIENT_FLOOR = 1e-2;
const STATE = 1e-4;

/** The stack of `family` at `seed`, and the generator left where the stack's data is drawn from. */
export function familyStack(family: StackFamily, seed: number): { spec: StackSpec; rng: Rng } {
  const rng = makeRng(seed);
  const name = `stack_${family.axes}d_${seed}`;
  const spec = family.modal ? randomModalStack(rng, family.axes as 1 | 2, name) : randomStack(rng, family.axes, name);
  return { spec, rng };
}

const uniform = (rng: Rng, length: number, lo = -1, hi = 1) => toF32Values(Float64Array.from({ length }, () => lo + (hi - lo) * rng.next()));

/** Targets in [0, 1); each row summing to 1 under a softmax cross-entropy. */
function targets(rng: Rng, spec: StackSpec, batch: number, size: number): Float64Array {
  const raw = uniform(rng, batch * size, 0, 1);
  return spec.loss === "softmax_cross_entropy" ? normalisedRows(raw, size) : raw;
}

/** Collects every disagreement with the oracle, then fails once naming the stack. */
class Problems {
  private readonly list: string[] = [];
  constructor(private readonly what: string) {}
  check(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, floor?: number): void {
    const problem = mismatch(got, want, tol, floor);
    if (problem) this.list.push(`${label}: ${problem}`);
  }
  finish(): void {
    if (this.list.length > 0) throw new Error(`${this.list.join("\n")}\ndisagrees with the TF.js oracle on ${this.what}`);
  }
}

/** A stack without modes: loss, output and gradient of the interpreted kernel IR, in f64 and f32, against TF.js. */
export function checkStack(family: StackFamily, seed: number): void {
  const { spec, rng } = familyStack(family, seed);
  const subject = new InterpretedNet(JSON.stringify(spec, null, 2));
  const batch = 2;
  const m64 = subject.module<Float64Array>("f64");
  const point: StackPoint = {
    spec,
    net: subject.net,
    params: uniform(rng, m64.meta.paramCount, -0.7, 0.7),
    paramLayout: subject.params(),
    state: new Float64Array(0),
    stateLayout: [],
    x: uniform(rng, batch * m64.meta.inputSize),
    y: targets(rng, spec, batch, m64.meta.targetSize),
    batch,
  };
  const want = tfTraining(point);
  const problems = new Problems(`seed ${seed}: ${JSON.stringify(spec)}`);
  for (const precision of ["f64", "f32"] as const) {
    const m = subject.module<FloatArray>(precision);
    const A = precision === "f64" ? Float64Array : Float32Array;
    const grads = new A(m.meta.paramCount);
    const out = new A(batch * m.meta.outputSize);
    const J = m.gradient(A.from(point.params), A.from(point.x), A.from(point.y), grads, batch);
    m.forward(A.from(point.params), A.from(point.x), out, batch);
    problems.check(`${precision} loss`, [J], [want.loss], VALUES);
    problems.check(`${precision} output`, out, want.output, VALUES);
    problems.check(`${precision} gradient`, grads, want.grad, GRADIENTS, GRADIENT_FLOOR);
  }
  problems.finish();
}

type Module = StatefulNetModule<FloatArray>;

/** The builds a stack with modes is compiled for: both kernel back ends, both precisions. */
const BUILDS: readonly [Kernels, Precision][] = [
  ["js", "f64"],
  ["wasm", "f32"],
  ["js", "f32"],
  ["wasm", "f64"],
];

/**
 * The numbers of a stack with modes, from its first module's layout: parameters, a state whose running variances
 * are away from their start (inference reads them) and whose running means lie within a standard deviation of the
 * batch's, as after a few training steps — the batch moments are taken about them, which keeps f32's digits (from
 * far away, f32 loses |mean − shift|²/var of them).
 */
function modalPoint(rng: Rng, spec: StackSpec, m: Module): StackPoint {
  const batch = rng.int(3, 5);
  const state = Float64Array.from(m.initState(rng.int(1, 1000)));
  for (const s of m.meta.state) if (s.name.startsWith("v")) state.set(uniform(rng, s.size, 0.5, 1.5), s.offset);
  const y = targets(rng, spec, batch, m.meta.targetSize);
  const point: StackPoint = {
    spec,
    net: buildStack(spec),
    params: uniform(rng, m.meta.paramCount, -0.7, 0.7),
    paramLayout: m.meta.params,
    state,
    stateLayout: m.meta.state,
    x: uniform(rng, batch * m.meta.inputSize),
    y,
    batch,
  };
  for (const [name, { mean, std }] of tfTraining(point).batchnormInputs) {
    const s = m.meta.state.find((q) => q.name === name);
    if (!s) throw new Error(`no state ${name}`);
    state.set(toF32Values(Float64Array.from(mean, (v, i) => v + std[i] * (2 * rng.next() - 1))), s.offset);
  }
  return point;
}

/**
 * A stack with modes, compiled for each build: trainingLoss, trainingForward and the gradient (training mode),
 * the state after the gradient's step, forward and loss (inference mode) against TF.js.
 */
export async function checkModalStack(family: StackFamily, seed: number): Promise<void> {
  const { spec, rng } = familyStack(family, seed);
  const net = buildStack(spec);
  const problems = new Problems(`seed ${seed}: ${JSON.stringify(spec)}`);
  let point: StackPoint | undefined;
  let training: TrainingResult | undefined;
  let inference: ReturnType<typeof tfInference> | undefined;
  for (const [kernels, precision] of BUILDS) {
    const { module: m } = await compileStateful<FloatArray>(net, precision, kernels);
    if (!point || !training || !inference) {
      point = modalPoint(rng, spec, m);
      training = tfTraining(point);
      inference = tfInference(point);
    }
    const { batch } = point;
    const A = precision === "f64" ? Float64Array : Float32Array;
    const [params, x, y] = [A.from(point.params), A.from(point.x), A.from(point.y)];
    const label = `${kernels} ${precision}`;
    const out = new A(batch * m.meta.outputSize);
    problems.check(`training loss, ${label}`, [m.trainingLoss(params, A.from(point.state), x, y, batch)], [training.loss], VALUES);
    m.trainingForward(params, A.from(point.state), x, out, batch);
    problems.check(`training output, ${label}`, out, training.output, VALUES);
    m.forward(params, A.from(point.state), x, out, batch);
    problems.check(`inference output, ${label}`, out, inference.output, VALUES);
    problems.check(`inference loss, ${label}`, [m.loss(params, A.from(point.state), x, y, batch)], [inference.loss], VALUES);
    const grads = new A(m.meta.paramCount);
    const state = A.from(point.state);
    m.gradient(params, state, x, y, grads, batch);
    problems.check(`gradient, ${label}`, grads, training.grad, GRADIENTS, GRADIENT_FLOOR);
    for (const [name, values] of training.state) {
      const s = m.meta.state.find((q) => q.name === name);
      if (!s) throw new Error(`no state ${name}`);
      problems.check(`${name} after the step, ${label}`, state.subarray(s.offset, s.offset + s.size), values, STATE);
    }
  }
  problems.finish();
}
