/**
 * An LSTM written out over `steps` time steps as an equation net.json: the compile-time benchmark's network that
 * grows linearly with its length (about 57 DAG nodes a step), so that the compiler's own scaling shows, and the
 * bpgen side of the LSTM benchmark (bench/lstm.ts) until the layer form has an lstm layer.
 *
 *   z_t = Wi x[t, :] + Wh h_{t−1} + b          (4H rows: 4 gates × H units, PyTorch's order i, f, g, o)
 *   i, f, g, o = σ(z_t[1:H]), σ(z_t[H+1:2H]), tanh(z_t[2H+1:3H]), σ(z_t[3H+1:4H])
 *   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 *   yh = V h_T + d,   loss = Σ (yh − y)²   (or ½ Σ (yh − y)², the layer form's "mse", with loss: "mse")
 *
 * Run directly (`npx tsx bench/lstm-unrolled.ts 16 [units]`) it prints the net.json.
 */
import type { EquationNetSpec } from "../src/spec/types.ts";

export interface LstmUnrolledOptions {
  /** Hidden units H (64 unless given). */
  readonly units?: number;
  /** Features per time step (8). */
  readonly input?: number;
  /** Outputs of the linear read-out (4). */
  readonly output?: number;
  /** "sum": Σ (yh − y)² (the compile-time benchmark's loss); "mse": ½ Σ (yh − y)², as the layer form's "mse". */
  readonly loss?: "sum" | "mse";
}

/** One gate's rows of z_t, one-based and inclusive as equations slice. */
function gate(z: string, k: number, units: number): string {
  return `${z}[${k * units + 1}:${(k + 1) * units}]`;
}

function stepEquations(t: number, units: number): string[] {
  const h = t === 1 ? "h0" : `h${t - 1}`;
  const c = t === 1 ? "c0" : `c${t - 1}`;
  return [
    `z${t} = Wi * x[${t}, :] + Wh * ${h} + b`,
    `i${t} = sigmoid(${gate(`z${t}`, 0, units)})`,
    `f${t} = sigmoid(${gate(`z${t}`, 1, units)})`,
    `g${t} = tanh(${gate(`z${t}`, 2, units)})`,
    `o${t} = sigmoid(${gate(`z${t}`, 3, units)})`,
    `c${t} = f${t} .* ${c} + i${t} .* g${t}`,
    `h${t} = o${t} .* tanh(c${t})`,
  ];
}

export function lstmUnrolled(steps: number, options: LstmUnrolledOptions = {}): EquationNetSpec {
  const { units = 64, input = 8, output = 4, loss = "sum" } = options;
  const equations = [`h0 = zeros(${units})`, `c0 = zeros(${units})`];
  for (let t = 1; t <= steps; t++) equations.push(...stepEquations(t, units));
  equations.push(`yh = V * h${steps} + d`);
  const suffix = units === 64 ? "" : `_h${units}`;
  return {
    name: `lstm_unrolled_${steps}${suffix}`,
    params: {
      Wi: { shape: [4 * units, input] },
      Wh: { shape: [4 * units, units] },
      b: { shape: [4 * units], init: "zeros" },
      V: { shape: [output, units] },
      d: { shape: [output], init: "zeros" },
    },
    inputs: { x: [steps, input] },
    targets: { y: [output] },
    equations,
    output: "yh",
    loss: loss === "mse" ? "0.5 * sum((yh - y).^2)" : "sum((yh - y).^2)",
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const steps = Number(process.argv[2] ?? 4);
  const units = Number(process.argv[3] ?? 64);
  process.stdout.write(`${JSON.stringify(lstmUnrolled(steps, { units }), null, 2)}\n`);
}
