/**
 * One cold compile, run by bench/run.ts in a fresh process: node --import tsx bench/compile-child.ts <depth> <width>.
 * Prints the time to load the compiler's modules and the time of the first compile() (what `bpgen --stats` reports).
 */
import { scalingMlp } from "./nets.ts";

const [depth, width] = process.argv.slice(2).map(Number);
const t0 = performance.now();
const { compile } = await import("../src/pipeline.ts");
const loadMs = performance.now() - t0;
const t1 = performance.now();
const result = await compile(scalingMlp(depth, width));
const compileMs = performance.now() - t1;
process.stdout.write(`BENCH_COMPILE ${JSON.stringify({ loadMs, compileMs, bytes: result.stats.bytes })}\n`);
