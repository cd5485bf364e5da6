/**
 * `bpgen export net.json --to pytorch`: the network as a Python module (python.ts), its training script
 * (train-script.ts) and, with --params, its weights as a safetensors file with PyTorch's names beside them.
 * The layer form as torch.nn modules (plan.ts), the equation form as its expression graph in torch operations
 * (equations.ts); anything neither can express is one BpgenError, and nothing is written.
 */
import { basename, dirname, join } from "node:path";
import { BpgenError } from "../../errors.ts";
import type { OutputFile } from "../../files.ts";
import { isSoftmaxClassifier } from "../../ir/net.ts";
import { buildNet } from "../../pipeline.ts";
import { formatPath } from "../../spec/paths.ts";
import { type EquationEntry, type EquationNetSpec, type LayerNetSpec, type LayerSpec, type Locate, isLayerSpec } from "../../spec/types.ts";
import { encodeParams, loadParams } from "../../train/params.ts";
import { VERSION } from "../../version.ts";
import type { ExportRequest, Exporter } from "../export-request.ts";
import { metaOfNet } from "../net-meta.ts";
import { type TorchPlan, torchPlan } from "./plan.ts";
import { equationModuleFile } from "./equations.ts";
import { moduleFile } from "./python.ts";
import { trainScript } from "./train-script.ts";

/** Where the files go without --out: a folder beside net.json. */
export const defaultPytorchDir = (file: string, name: string) => join(dirname(file), `${name}_pytorch`);

export const exportPytorch: Exporter = async (request: ExportRequest): Promise<OutputFile[]> => {
  const { file, loaded } = request;
  const { spec } = loaded;
  if (!isLayerSpec(spec)) return exportEquations(request);
  const layers = spec as unknown as LayerNetSpec<LayerSpec>;
  const plan = planOrFail(layers, file, loaded.locate);
  const dir = request.out ?? defaultPytorchDir(file, spec.name);
  const files: OutputFile[] = [
    { target: join(dir, `${spec.name}.py`), data: moduleFile({ spec: layers, plan, file: basename(file), version: VERSION }) },
    { target: join(dir, `train_${spec.name}.py`), data: trainScript(spec.name, VERSION, layers.loss === "softmax_cross_entropy" ? "softmax" : layers.loss === "binary_cross_entropy" ? "binary" : "regression") },
  ];
  if (request.params !== undefined) files.push({ target: join(dir, `${spec.name}.safetensors`), data: weights(request, plan) });
  return files;
};

/** The equation form: its DAG as torch operations; the parameters with bpgen's names. */
function exportEquations(request: ExportRequest): OutputFile[] {
  const { file, loaded } = request;
  const spec = loaded.spec as unknown as EquationNetSpec<EquationEntry>;
  const net = buildNet(loaded.spec, loaded.locate);
  const { text, problems } = equationModuleFile(spec, net, basename(file), VERSION);
  if (problems.length > 0) throw new BpgenError(problems.map((p) => ({ file, ...p })));
  const dir = request.out ?? defaultPytorchDir(file, spec.name);
  const files: OutputFile[] = [
    { target: join(dir, `${spec.name}.py`), data: text },
    // what bpgen train's accuracy means for an equation net: a softmax classifier's, or none
    { target: join(dir, `train_${spec.name}.py`), data: trainScript(spec.name, VERSION, isSoftmaxClassifier(net) ? "softmax" : "regression") },
  ];
  if (request.params !== undefined) files.push({ target: join(dir, `${spec.name}.safetensors`), data: weights(request, undefined) });
  return files;
}

/** The plan; what PyTorch cannot express is one BpgenError listing every such part, located in net.json. */
function planOrFail(spec: LayerNetSpec<LayerSpec>, file: string, locate: Locate): TorchPlan {
  const plan = torchPlan(spec);
  if (plan.problems.length > 0) throw new BpgenError(plan.problems.map((p) => ({ file, ...locate(p.path), ...p, path: formatPath(p.path) })));
  return plan;
}

/** The --params file (any format bpgen reads) as safetensors with PyTorch's names, in f32 unless a value needs f64. */
function weights(request: ExportRequest, plan: TorchPlan | undefined): Uint8Array {
  const params = request.params as string;
  const net = buildNet(request.loaded.spec, request.loaded.locate);
  const meta = metaOfNet(net);
  const values = new Float64Array(meta.paramCount);
  // what PyTorch has no buffer for (the dropout generator) is not written: its values here do not matter
  const state = meta.stateCount === undefined ? undefined : new Float64Array(meta.stateCount);
  loadParams(params, meta, values, state, plan?.tensors);
  const exact = [values, state ?? new Float64Array(0)].every((a) => a.every((v) => Math.fround(v) === v || !Number.isFinite(v)));
  const [p, s] = exact ? [Float32Array.from(values), state && Float32Array.from(state)] : [values, state];
  return encodeParams("weights.safetensors", meta, p, s, plan?.tensors);
}
