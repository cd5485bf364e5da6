/**
 * A kernel target: one folder under render/ and one record in render/backends.ts. The pipeline runs the
 * kernel-IR passes with the backend's tiles and code budget and names every value before any backend prints
 * anything; the module emitter (emit/module.ts) then asks each backend of the module's chain for its part:
 * declarations, and the statements of each exported function after its argument checks.
 *
 * A chain lists the module's backends in order of preference and ends with one that runs everywhere
 * (TypeScript): each earlier backend's statements run its kernels, or, where they cannot run (no WebAssembly
 * SIMD, say), the next backend's.
 */
import { type KernelName, type LoweredModule, functionNames } from "../lower/functions.ts";
import type { RecurrenceRow } from "../lower/build.ts";
import type { KernelFunction, Stmt } from "../lower/kernel.ts";
import type { IrNames } from "../lower/names.ts";
import type { TileChooser } from "../lower/passes/tile.ts";

export type Precision = "f32" | "f64";

/** `Float32Array` unless asked otherwise. */
export const DEFAULT_PRECISION: Precision = "f32";

/** The module's functions that run kernels, besides initParams and the optimizers. */
export type EntryName = KernelName | "sgdStep" | "kernelArrays";

/** What every backend needs to know about the module's arrays. */
export interface ModuleShape {
  /** "Float32Array" or "Float64Array". */
  readonly array: string;
  readonly precision: Precision;
  readonly paramCount: number;
  readonly inputSize: number;
  readonly targetSize: number;
  readonly outputSize: number;
  /** Numbers in the state array; 0 for a stateless network (whose functions take no state). */
  readonly stateCount: number;
  /** A network with recurrences: each one's part of a row of stateGradientNorms' output (empty: no such function). */
  readonly recurrences: readonly RecurrenceRow[];
}

/** The arrays a kernel function takes, in order (then the batch): its exported function's, less the scalars. */
export function kernelArrayNames(name: KernelName, shape: ModuleShape): string[] {
  const head = shape.stateCount > 0 ? ["params", "state", "inputs"] : ["params", "inputs"];
  switch (name) {
    case "forward":
    case "trainingForward":
      return [...head, "out"];
    case "loss":
    case "trainingLoss":
      return [...head, "targets"];
    case "gradient":
      return [...head, "targets", "grads"];
    case "stateGradientNorms":
      return [...head, "targets", "out"];
  }
}

/** What a backend renders: the lowered module after its own passes, named. */
export interface BackendInput {
  readonly lowered: LoweredModule;
  readonly names: IrNames;
  readonly shape: ModuleShape;
  /** Whether WebAssembly kernels also come in a relaxed-SIMD build. */
  readonly relaxedSimd: boolean;
  /** Whether WebAssembly kernels are built for several threads (passes/threads.ts, startThreads). */
  readonly threads: boolean;
  /** Whether another backend runs before this one (its kernels are then the fallback, not the exported functions' bodies). */
  readonly fallback: boolean;
  /** The argument checks of an exported function, for a backend that runs a function without calling another that checks. */
  readonly checks: (name: EntryName) => string[];
}

/** A backend's part of the module. */
export interface ModulePart {
  /** Top-level declarations before the exported functions (the TypeScript kernels' workspace). */
  readonly before: readonly string[];
  /** Top-level declarations after them (kernel functions, an embedded binary and the glue that runs it). */
  readonly after: readonly string[];
  /**
   * Text put into the module after formatting, by the placeholder that stands for it in `after`: long literals
   * (an embedded binary) the formatter would only read through. A placeholder must be laid out as its text would be.
   */
  readonly literals?: ReadonlyMap<string, string>;
  /** Code the backend lays out as the formatter would print it, put in after formatting (like `literals`). */
  readonly laidOut?: LaidOut;
  /**
   * The statements of exported function `name` after its argument checks. `next` runs the same function
   * with the next backend of the chain (undefined for the last one, which must always run).
   */
  entry(name: EntryName, next: readonly string[] | undefined): string[];
}

/**
 * Code laid out by its backend as the formatter would print it, so that the formatter (most of a large compile)
 * reads only the module around it. Each placeholder statement, alone on its line in the module's text, stands
 * for lines of code (indented as in the module); `statements` are those the backend leaves to the formatter (too
 * long for one line), formatted all at once and handed to `code`.
 */
export interface LaidOut {
  readonly statements: readonly LongStatement[];
  code(formatted: readonly string[]): ReadonlyMap<string, string>;
}

/** A statement for the formatter, at its depth of blocks in the module; formatted, its lines carry their indentation. */
export interface LongStatement {
  readonly depth: number;
  readonly text: string;
}

export interface Backend {
  /** The `--kernels` value that selects it. */
  readonly name: string;
  /** The register tile the tile pass records on each contraction. */
  readonly tiles: TileChooser;
  /** lower/walk.ts codeSize above which a function is passed again with less unrolling (Infinity: never). */
  readonly codeBudget: number;
  /** Short loops the unroll pass leaves as loops: the WebAssembly backend's loops that run in SIMD lanes. */
  readonly keepsLoop?: (loop: Extract<Stmt, { k: "loop" }>) => boolean;
  /** Whether it runs wherever the module runs, so that it can end a chain. */
  readonly runsEverywhere: boolean;
  /** Its part of a generated module; absent for a backend that is never shipped (the interpreter). */
  readonly module?: (input: BackendInput) => ModulePart;
}

/** The elements of a per-sample array for `batch` samples, as module code: `batch` or `batch * size`. */
export const perBatch = (size: number): string => (size === 1 ? "batch" : `batch * ${size}`);

/** The functions of a lowered module in the order the module prints them. */
export function functionsInOrder(lowered: LoweredModule): [KernelName, KernelFunction][] {
  return functionNames(lowered).map((name) => [name, lowered.functions[name] as KernelFunction]);
}
