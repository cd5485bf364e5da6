/**
 * Elementwise math functions as WebAssembly code, for the renderer's activations.
 *
 *   const exp = math.use(mod, "exp", "f32x4"); // adds `math.exp.f32x4` to mod once, returns its handle
 *   f.localGet(v).call(exp);                     // v128 → v128
 *
 *   math.inline(f, "sigmoid", "f64");            // or: pops an f64, pushes sigmoid of it, in place
 *
 * Every function exists for the shapes f32, f64 (scalar → scalar) and f32x4, f64x2 (v128 → v128,
 * lane-wise), computed in the shape's own precision, deterministic (no relaxed SIMD), and with the
 * special values of JavaScript's Math (±0, ±Infinity, NaN). Methods are documented in each
 * function's file under math/.
 *
 * Promised bounds: f32 shapes ≤ 2 ulp (and ≤ 2 steps from the correctly rounded result), f64 shapes
 * ≤ 4 ulp. Measured maxima (test/wasm-math.test.ts: millions of random points over the whole domain
 * and focused ranges; f32 against f64 values, f64 against double-double references, sin/cos f64
 * against Math), scalar and SIMD shapes giving identical bits:
 *
 *   function   f32 / f32x4   f64 / f64x2
 *   exp          0.93          1.00
 *   expm1        1.47          2.00
 *   log          0.75          0.73
 *   log1p        0.75          0.76
 *   tanh         1.28          1.27
 *   sigmoid      1.57          1.55
 *   softplus     1.39          1.25
 *   erf          0.99          1.20
 *   sin          0.74          1.00   (|x| ≤ 6434 for f32, ≤ 1.6e6 for f64; beyond: finite, in [−1, 1])
 *   cos          0.75          1.00
 *
 * Code size (bytes of a module holding all ten): f32 3.7 KB, f64 5.6 KB, f32x4 7.7 KB, f64x2 9.7 KB.
 */
import type { FuncRef, FunctionBuilder, ModuleBuilder } from "./encoder.ts";
import { MATH_SHAPES, MathEmitter, type MathShape, SHAPES, type Val } from "./math/dsl.ts";
import { sigmoid, softplus, tanh } from "./math/activations.ts";
import { erf } from "./math/erf.ts";
import { exp, expm1 } from "./math/exp.ts";
import { log, log1p } from "./math/log.ts";
import { cos, sin } from "./math/trig.ts";

export type { MathShape } from "./math/dsl.ts";

/** The functions the library provides. */
export type MathFunction = "exp" | "expm1" | "log" | "log1p" | "tanh" | "sigmoid" | "softplus" | "erf" | "sin" | "cos";

type Implementation = (m: MathEmitter, x: Val) => Val;

const IMPLEMENTATIONS: Readonly<Record<MathFunction, Implementation>> = {
  exp,
  expm1,
  log,
  log1p,
  tanh,
  sigmoid,
  softplus,
  erf,
  sin,
  cos,
};

export const MATH_FUNCTIONS = Object.keys(IMPLEMENTATIONS) as readonly MathFunction[];

const added = new WeakMap<ModuleBuilder, Map<string, FuncRef>>();

/** The name the function gets in the module (and its name section): `math.<fn>.<shape>`. */
export function mathFunctionName(fn: MathFunction, shape: MathShape): string {
  return `math.${fn}.${shape}`;
}

/**
 * The function `fn` for `shape` in `mod`, added on first use (once per module). Its signature is
 * `(x: T) -> T` with T = f32, f64 or v128 (for f32x4 and f64x2).
 */
export function useMath(mod: ModuleBuilder, fn: MathFunction, shape: MathShape): FuncRef {
  checkRequest(fn, shape);
  let functions = added.get(mod);
  if (!functions) {
    functions = new Map();
    added.set(mod, functions);
  }
  const name = mathFunctionName(fn, shape);
  let ref = functions.get(name);
  if (!ref) {
    const type = SHAPES[shape].type.float;
    ref = mod.function(name, { params: { x: type }, results: [type] }, (f, { x }) => {
      const m = new MathEmitter(SHAPES[shape]);
      m.emit(f, IMPLEMENTATIONS[fn](m, m.input(x)));
    });
    functions.set(name, ref);
  }
  return ref;
}

/**
 * Writes `fn` for `shape` inline into `f`: pops the argument (f32, f64 or v128) and pushes the
 * result. Uses a few locals of `f`. Larger code than a call, but no call overhead.
 */
export function emitMathInline(f: FunctionBuilder, fn: MathFunction, shape: MathShape): void {
  checkRequest(fn, shape);
  const info = SHAPES[shape];
  const arg = f.local(info.type.float, `${fn}_arg`);
  f.localSet(arg);
  const m = new MathEmitter(info);
  m.emit(f, IMPLEMENTATIONS[fn](m, m.input(arg)));
}

function checkRequest(fn: string, shape: string): void {
  if (!Object.hasOwn(IMPLEMENTATIONS, fn)) throw new Error(`math: no function "${fn}" (have ${MATH_FUNCTIONS.join(", ")})`);
  if (!MATH_SHAPES.includes(shape as MathShape)) throw new Error(`math: no shape "${shape}" (have ${MATH_SHAPES.join(", ")})`);
}

/** The library as one object: `math.use(mod, "tanh", "f32x4")`, `math.inline(f, "exp", "f64")`. */
export const math = {
  use: useMath,
  inline: emitMathInline,
  functions: MATH_FUNCTIONS,
  shapes: MATH_SHAPES,
  functionName: mathFunctionName,
} as const;
