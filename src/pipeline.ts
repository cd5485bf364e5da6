// STUB: being written. Signatures are fixed.
import type { NetSpec } from "./spec/types.ts";

export type Precision = "f32" | "f64";

export interface CompileOptions {
  precision?: Precision;
  /** The net.json path, named in the generated header and in error messages. */
  sourceFile?: string;
}

export interface CompileStats {
  forwardOps: number;
  gradientOps: number;
  lines: number;
  bytes: number;
  millis: number;
}

export interface CompileResult {
  source: string;
  stats: CompileStats;
}

export async function compile(_spec: NetSpec, _options: CompileOptions = {}): Promise<CompileResult> {
  throw new Error("not yet");
}

/** Loads, validates and compiles one net.json file. */
export async function compileFile(_file: string, _options: CompileOptions = {}): Promise<CompileResult> {
  throw new Error("not yet");
}
