/**
 * An LSTM written out over `steps` time steps as an equation net.json: the compile-time benchmark's network that
 * grows linearly with its length (about 57 DAG nodes a step), so that the compiler's own scaling shows.
 *
 *   z_t = Wi x[t, :] + Wh h_{t−1} + b          (256 = 4 gates × 64 units)
 *   i, f, g, o = σ(z_t[1:64]), σ(z_t[65:128]), tanh(z_t[129:192]), σ(z_t[193:256])
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *   yh = V h_T + d,   loss = Σ (yh − y)²
 *
 * Run directly (`npx tsx bench/lstm-unrolled.ts 16`) it prints the net.json.
 */
import type { EquationNetSpec } from "../src/spec/types.ts";

const INPUT = 8;
const UNITS = 64;
const OUTPUT = 4;

/** One gate's rows of z_t, one-based and inclusive as equations slice. */
function gate(z: string, k: number): string {
  return `${z}[${k * UNITS + 1}:${(k + 1) * UNITS}]`;
}

function stepEquations(t: number): string[] {
  const h = t === 1 ? "h0" : `h${t - 1}`;
  const c = t === 1 ? "c0" : `c${t - 1}`;
  return [
    `z${t} = Wi * x[${t}, :] + Wh * ${h} + b`,
    `i${t} = sigmoid(${gate(`z${t}`, 0)})`,
    `f${t} = sigmoid(${gate(`z${t}`, 1)})`,
    `g${t} = tanh(${gate(`z${t}`, 2)})`,
    `o${t} = sigmoid(${gate(`z${t}`, 3)})`,
    `c${t} = f${t} .* ${c} + i${t} .* g${t}`,
    `h${t} = o${t} .* tanh(c${t})`,
  ];
}

export function lstmUnrolled(steps: number): EquationNetSpec {
  const equations = [`h0 = zeros(${UNITS})`, `c0 = zeros(${UNITS})`];
  for (let t = 1; t <= steps; t++) equations.push(...stepEquations(t));
  equations.push(`yh = V * h${steps} + d`);
  return {
    name: `lstm_unrolled_${steps}`,
    params: {
      Wi: { shape: [4 * UNITS, INPUT] },
      Wh: { shape: [4 * UNITS, UNITS] },
      b: { shape: [4 * UNITS], init: "zeros" },
      V: { shape: [OUTPUT, UNITS] },
      d: { shape: [OUTPUT], init: "zeros" },
    },
    inputs: { x: [steps, INPUT] },
    targets: { y: [OUTPUT] },
    equations,
    output: "yh",
    loss: "sum((yh - y).^2)",
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const steps = Number(process.argv[2] ?? 4);
  process.stdout.write(`${JSON.stringify(lstmUnrolled(steps), null, 2)}\n`);
}
