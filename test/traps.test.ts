/**
 * What used to go wrong silently now throws: a batch taken from the inputs when omitted (and a length that is not
 * a whole number of samples refused), arrays of the wrong type, parameter and gradient arrays of the wrong length.
 * Run on both kernel back ends (vitest.config.ts).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModule, type NetModule } from "./helpers/load-module.ts";
import { compileFile } from "../src/pipeline.ts";
import { ROOT } from "./helpers/cli.ts";
import { withKernels } from "./helpers/kernels.ts";

let xor: NetModule<Float32Array>;
let mnist: NetModule<Float32Array>;

beforeAll(async () => {
  xor = loadModule<Float32Array>((await compileFile(join(ROOT, "examples", "xor_sigmoid.json"), withKernels({ format: false }))).source);
  mnist = loadModule<Float32Array>((await compileFile(join(ROOT, "examples", "mnist_mlp.json"), withKernels({ format: false }))).source);
});

const X = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
const Y = new Float32Array([0, 1, 1, 0]);

describe("traps that throw", () => {
  it("takes the batch from the inputs when it is omitted: all four rows count", () => {
    const p = xor.initParams(3);
    const all = xor.loss(p, X, Y, 4);
    expect(xor.loss(p, X, Y)).toBe(all);
    expect(xor.loss(p, X, Y)).not.toBe(xor.loss(p, X, Y, 1));
    const g = new Float32Array(xor.meta.paramCount);
    expect(xor.gradient(p, X, Y, g)).toBe(all);
  });

  it("refuses inputs that are not a whole number of samples, naming both numbers", () => {
    const p = xor.initParams(3);
    expect(() => xor.loss(p, X.subarray(0, 7), Y)).toThrow(RangeError);
    expect(() => xor.loss(p, X.subarray(0, 7), Y)).toThrow(/inputs\.length \(7\) is not a positive multiple of the size of one sample \(2\)/);
    const out = new Float32Array(4);
    expect(() => xor.forward(p, new Float32Array(0), out)).toThrow(/inputs\.length \(0\)/);
  });

  it("refuses an array of the other precision or a plain array, with a TypeError", () => {
    const p = xor.initParams(3);
    expect(() => xor.loss(Float64Array.from(p) as unknown as Float32Array, X, Y, 4)).toThrow(TypeError);
    expect(() => xor.loss(Float64Array.from(p) as unknown as Float32Array, X, Y, 4)).toThrow(/params must be a Float32Array, got Float64Array/);
    expect(() => xor.loss(p, [0, 0, 0, 1, 1, 0, 1, 1] as unknown as Float32Array, Y, 4)).toThrow(/inputs must be a Float32Array, got Array/);
    expect(() => mnist.forward(mnist.initParams(1), new Float64Array(784) as unknown as Float32Array, new Float32Array(10), 1)).toThrow(TypeError);
  });

  it("refuses parameters and gradients of another length (another network's, say)", () => {
    const g = new Float32Array(xor.meta.paramCount);
    expect(() => xor.gradient(mnist.initParams(1), X, Y, g, 4)).toThrow(/params needs exactly 17 numbers, got 101770/);
    expect(() => xor.gradient(xor.initParams(1), X, Y, new Float32Array(18), 4)).toThrow(/grads needs exactly 17 numbers, got 18/);
    expect(() => xor.sgdStep(new Float32Array(16), X, Y, 0.1, 4)).toThrow(RangeError);
  });

  it("refuses a batch that is not a positive integer", () => {
    const p = xor.initParams(3);
    for (const batch of [0, -1, 1.5, Number.NaN]) expect(() => xor.loss(p, X, Y, batch)).toThrow(/batch must be a positive integer/);
  });
});
