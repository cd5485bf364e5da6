/**
 * The activations of the layer form as torch.nn modules: the builtin names whose definition PyTorch's module
 * computes exactly (docs/functions.md gives ours; the constants are PyTorch's defaults where they equal ours).
 * An activation written as an expression in x, or a builtin PyTorch has no module for, is a problem the exporter
 * reports (the names of the tensors do not depend on it: bpgen train still writes them).
 */
import type { PathSegment } from "../../spec/paths.ts";

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
 * The module of an activation: undefined for the identity (`linear` or none), else its code, or the problem of one
 * PyTorch has no module for (reported at `where`).
 */
export function activationModule(activation: string | undefined, where: readonly PathSegment[]): { code: string } | { problem: ExportProblem } | undefined {
  const name = (activation ?? "linear").trim();
  if (name === "linear") return undefined;
  const code = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  if (code !== undefined) return { code };
  return {
    problem: {
      path: where,
      message: `the PyTorch exporter has no torch.nn module for the activation ${JSON.stringify(name)}`,
      expected: `linear or one of ${TORCH_ACTIVATIONS.join(", ")}`,
      found: JSON.stringify(activation),
    },
  };
}
