/**
 * The activations of the layer form as torch.nn modules: the builtin names whose definition PyTorch's module
 * computes exactly (docs/functions.md gives ours; the constants are PyTorch's defaults where they equal ours).
 * An activation written as an expression in x, or a builtin PyTorch has no module for, is written as torch
 * operations (equations.ts); the names of the tensors do not depend on activations.
 */
import { buildNet } from "../../pipeline.ts";
import type { PathSegment } from "../../spec/paths.ts";
import type { NetSpec } from "../../spec/types.ts";
import { elementwiseFunction } from "./equations.ts";

/** Something the exporter cannot write, at its JSON path. */
export interface ExportProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
}

/** Our builtin name → the Python expression of the module (torch.nn imported as nn). */
const MODULES: Readonly<Record<string, string>> = {
  sigmoid: "nn.Sigmoid()",
  log_sigmoid: "nn.LogSigmoid()",
  tanh: "nn.Tanh()",
  relu: "nn.ReLU()",
  relu6: "nn.ReLU6()",
  leaky_relu: "nn.LeakyReLU(0.01)",
  elu: "nn.ELU(1.0)",
  selu: "nn.SELU()",
  celu: "nn.CELU(1.0)",
  softplus: "nn.Softplus()",
  softsign: "nn.Softsign()",
  // ours is the tanh form; gelu_exact is PyTorch's default
  gelu: 'nn.GELU(approximate="tanh")',
  gelu_tanh: 'nn.GELU(approximate="tanh")',
  gelu_exact: "nn.GELU()",
  swish: "nn.SiLU()",
  silu: "nn.SiLU()",
  mish: "nn.Mish()",
  hard_sigmoid: "nn.Hardsigmoid()",
  hard_swish: "nn.Hardswish()",
};

export const TORCH_ACTIVATIONS: readonly string[] = Object.keys(MODULES);

/**
 * The module of an activation: undefined for the identity (`linear` or none); a torch.nn module for the builtins
 * above; otherwise (an expression in x, another builtin) its graph as bpgen builds it, written in torch operations
 * as the Python function `functionName` (`function`), in an Activation module. One that is not elementwise is a
 * problem, reported at `where`.
 */
export function activationModule(activation: string | undefined, where: readonly PathSegment[], functionName: string): { code: string; function?: string } | { problem: ExportProblem } | undefined {
  const name = (activation ?? "linear").trim();
  if (name === "linear") return undefined;
  const code = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  if (code !== undefined) return { code };
  // the activation as the layer form builds it (its simplifications included), on one value
  const net = buildNet({ name: "activation", input: 1, layers: [{ type: "activation", activation }], loss: "mse" } as unknown as NetSpec);
  const written = elementwiseFunction(net, functionName);
  const [problem] = written.problems;
  if (problem) return { problem: { path: where, message: problem.message, expected: "an elementwise expression in x such as \"x / (1 + abs(x))\"", found: JSON.stringify(activation) } };
  return { code: `Activation(${functionName})`, function: written.text };
}
