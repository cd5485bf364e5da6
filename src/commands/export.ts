/**
 * `bpgen export net.json --to pytorch|onnx [--params P] [--out PATH]`: the network for another framework. Each
 * target's exporter (src/interop/) returns its files, and they are written all or none.
 */
import { type Command, Option } from "commander";
import type { Exporter } from "../interop/export-request.ts";
import type { Done } from "./types.ts";

export const EXPORT_TARGETS = ["pytorch", "onnx"] as const;
type ExportTarget = (typeof EXPORT_TARGETS)[number];

interface ExportFlags {
  to: ExportTarget;
  params?: string;
  out?: string;
}

export function registerExport(program: Command, done: Done): void {
  program
    .command("export")
    .description("write the network for PyTorch (a Python module, its training script, safetensors weights) or as an ONNX model")
    .argument("<net.json>", "the network")
    .addOption(new Option("--to <target>", "pytorch or onnx").choices([...EXPORT_TARGETS]).makeOptionMandatory())
    .option("--params <file>", "trained parameters to carry over (.json, .bin or .safetensors, as bpgen train writes them)")
    .option("--out <path>", "pytorch: the folder (default <name>_pytorch/ beside net.json); onnx: the file")
    .action(async (file: string, flags: ExportFlags) => {
      done(await runExport(file, flags));
    });
}

async function runExport(file: string, flags: ExportFlags): Promise<number> {
  const [{ loadSpec }, { writeAllAtomically, describeWrites }, exporter] = await Promise.all([import("../spec/load.ts"), import("../files.ts"), exporterOf(flags.to)]);
  const loaded = loadSpec(file);
  const files = await exporter({ file, loaded, params: flags.params, out: flags.out });
  process.stdout.write(describeWrites(writeAllAtomically(files)));
  return 0;
}

async function exporterOf(target: ExportTarget): Promise<Exporter> {
  if (target === "onnx") return (await import("../interop/onnx/export.ts")).exportOnnx;
  return (await import("../interop/pytorch/export.ts")).exportPytorch;
}
