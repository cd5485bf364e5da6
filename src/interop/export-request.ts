/**
 * What `bpgen export` hands each target's exporter: the network as loaded, the parameters file the user named
 * (any format train/params.ts reads), and where the result goes. An exporter returns the files to write; the
 * command writes them all or none.
 */
import type { OutputFile } from "../files.ts";
import type { LoadedSpec } from "../spec/types.ts";

export interface ExportRequest {
  /** The net.json path, for messages. */
  readonly file: string;
  readonly loaded: LoadedSpec;
  /** `--params`: trained parameters to carry over, undefined for a freshly initialised network. */
  readonly params?: string;
  /** `--out`: a file (ONNX) or a directory (PyTorch); each target has a default beside net.json. */
  readonly out?: string;
}

export type Exporter = (request: ExportRequest) => Promise<OutputFile[]>;
