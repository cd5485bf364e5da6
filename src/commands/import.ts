/**
 * `bpgen import model.onnx [--out DIR] [--name NAME]`: an ONNX model as a net.json and a safetensors file of its
 * weights (src/interop/onnx/import.ts), written together or not at all; what the user must know (the loss chosen,
 * the input's layout) goes to stderr.
 */
import type { Command } from "commander";
import type { Done } from "./types.ts";

interface ImportFlags {
  out?: string;
  name?: string;
}

export function registerImport(program: Command, done: Done): void {
  program
    .command("import")
    .description("turn an ONNX model into a net.json (layer form) and a .safetensors file of its weights under bpgen's names")
    .argument("<model.onnx>", "the ONNX model")
    .option("-o, --out <dir>", "folder for <name>.json and <name>.safetensors (default: the model's folder)")
    .option("--name <name>", "the network's name (default: the model's graph name or file name)")
    .action(async (file: string, flags: ImportFlags) => {
      const [{ readFileSync }, { dirname, join }, { BpgenError }, { importOnnx, netJsonText }, { encodeSafetensors }, { describeWrites, writeAllAtomically }] = await Promise.all([
        import("node:fs"),
        import("node:path"),
        import("../errors.ts"),
        import("../interop/onnx/import.ts"),
        import("../interop/safetensors.ts"),
        import("../files.ts"),
      ]);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new BpgenError({ file, message: `cannot read the model: ${(e as Error).message}` });
      }
      const result = importOnnx(bytes, file, { name: flags.name });
      const dir = flags.out ?? dirname(file);
      const statuses = writeAllAtomically([
        { target: join(dir, `${result.name}.json`), data: netJsonText(result.spec) },
        { target: join(dir, `${result.name}.safetensors`), data: encodeSafetensors(result.tensors, { source: "bpgen import", net: result.name }) },
      ]);
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(describeWrites(statuses));
      done(0);
    });
}
