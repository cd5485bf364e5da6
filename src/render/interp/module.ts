/**
 * A lowered module run by the interpreter, with the generated module's signatures (module-api.ts NetModule's
 * forward, loss and gradient), so that a test can swap one for the other. The workspace lives as long as the
 * object, as the module's does.
 */
import type { LoweredModule } from "../../lower/functions.ts";
import { ArrayWorkspace, type FloatArray, type Precision, type Workspace, interpret } from "./interpret.ts";

export interface InterpretedModule<T extends FloatArray = FloatArray> {
  readonly meta: { readonly paramCount: number; readonly inputSize: number; readonly targetSize: number; readonly outputSize: number };
  forward(params: T, inputs: T, out: T, batch?: number): void;
  loss(params: T, inputs: T, targets: T, batch?: number): number;
  gradient(params: T, inputs: T, targets: T, grads: T, batch?: number): number;
}

export function interpretModule<T extends FloatArray = FloatArray>(
  lowered: LoweredModule,
  precision: Precision,
  workspace: Workspace = new ArrayWorkspace(precision),
): InterpretedModule<T> {
  const { layout, functions } = lowered;
  const meta = { paramCount: layout.paramCount, inputSize: layout.inputSize, targetSize: layout.targetSize, outputSize: layout.outputSize };
  // as the module's default: the number of samples the inputs hold (1 without inputs)
  const batchOf = (inputs: T, batch: number | undefined) => batch ?? (meta.inputSize === 0 ? 1 : inputs.length / meta.inputSize);
  const returned = (name: string, value: number | undefined) => {
    if (value === undefined) throw new Error(`interpret ${name}: the function returned nothing`);
    return value;
  };
  return {
    meta,
    forward(params, inputs, out, batch) {
      interpret(functions.forward, { params, inputs, out }, { batch: batchOf(inputs, batch), precision, workspace });
    },
    loss(params, inputs, targets, batch) {
      return returned("loss", interpret(functions.loss, { params, inputs, targets }, { batch: batchOf(inputs, batch), precision, workspace }));
    },
    gradient(params, inputs, targets, grads, batch) {
      const J = interpret(functions.gradient, { params, inputs, targets, grads }, { batch: batchOf(inputs, batch), precision, workspace });
      return returned("gradient", J);
    },
  };
}
