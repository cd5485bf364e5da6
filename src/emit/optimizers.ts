// STUB: optimizers in the generated module (issue 5) are being written.
export interface OptimizerContext {
  paramCount: number;
  /** "Float32Array" or "Float64Array" */
  array: string;
}

/** Statements (declarations, exported functions) appended to the module after sgdStep. */
export function optimizerSection(ctx: OptimizerContext): string[] {
  void ctx;
  return [];
}
