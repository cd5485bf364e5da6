/** `bpgen gradcheck`: compiles every input in both precisions, then checks each (src/check/gradcheck.ts). */
import { expandInputs } from "../build/inputs.ts";
import { BpgenError } from "../errors.ts";
import { compileLoaded } from "../pipeline.ts";
import { loadSpec } from "../spec/load.ts";
import { isLayerSpec, type NetSpec } from "../spec/types.ts";
import type { TargetKind } from "./data.ts";
import { formatReport, gradcheck } from "./gradcheck.ts";
import { loadModule } from "./module.ts";

function targetKind(spec: NetSpec): TargetKind {
  if (!isLayerSpec(spec)) return "real";
  return spec.loss === "softmax_cross_entropy" ? "one-hot" : spec.loss === "binary_cross_entropy" ? "binary" : "real";
}

export async function runGradcheck(patterns: readonly string[], seed: number, batch: number): Promise<number> {
  // every input is compiled (and every error reported) before any check runs
  const modules: { file: string; spec: NetSpec; f64: string; f32: string }[] = [];
  const errors: BpgenError[] = [];
  for (const file of expandInputs(patterns)) {
    try {
      const loaded = loadSpec(file);
      const compile = async (precision: "f32" | "f64") => {
        try {
          return (await compileLoaded(loaded, { precision, sourceFile: file, format: false })).source;
        } catch (e) {
          if (e instanceof BpgenError && e.kind === "input") throw new BpgenError(e.details.map((d) => ({ ...d, file })));
          throw e;
        }
      };
      modules.push({ file, spec: loaded.spec, f64: await compile("f64"), f32: await compile("f32") });
    } catch (e) {
      if (!(e instanceof BpgenError) || e.kind === "internal") throw e;
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new BpgenError(errors.flatMap((e) => e.details));
  let failed = false;
  for (const { file, spec, f64, f32 } of modules) {
    const report = gradcheck(loadModule<Float64Array>(f64), loadModule<Float32Array>(f32), { seed, batch, targets: targetKind(spec) });
    process.stdout.write(`${formatReport(file, report)}\n`);
    failed ||= !report.ok;
  }
  return failed ? 1 : 0;
}
