/** What the benchmark asks of each implementation ("peer") of a reference network. */

/**
 * "bpgen" is the module compiled with compile()'s defaults (kernels "auto" once the option exists), the row every
 * ratio is taken against; "bpgen-js" and "bpgen-wasm" are the modules compiled with `kernels: "js"` / `"wasm"`,
 * present only when that option changes the generated module.
 */
export type PeerId = "bpgen" | "bpgen-js" | "bpgen-wasm" | "hand" | "jax" | "tf-cpu" | "tf-wasm" | "ort";

/** Every peer in table order. */
export const PEER_ORDER: readonly PeerId[] = ["bpgen", "bpgen-js", "bpgen-wasm", "hand", "jax", "tf-cpu", "tf-wasm", "ort"];

export function isPeerId(s: string): s is PeerId {
  return (PEER_ORDER as readonly string[]).includes(s);
}

export const PEER_LABEL: Record<PeerId, string> = {
  bpgen: "bpgen",
  "bpgen-js": "bpgen (js)",
  "bpgen-wasm": "bpgen (wasm)",
  hand: "hand-written",
  jax: "jax-js wasm",
  "tf-cpu": "TF.js cpu",
  "tf-wasm": "TF.js wasm",
  ort: "ORT-web wasm",
};

/** The label of a peer in a report; the default bpgen row is "bpgen (auto)" when there are several bpgen rows. */
export function peerLabel(id: PeerId, bpgenVariants: boolean): string {
  return id === "bpgen" && bpgenVariants ? "bpgen (auto)" : PEER_LABEL[id];
}

/**
 * One timed operation. Synchronous peers return when the work is done; asynchronous ones (onnxruntime-web's
 * session.run) resolve when it is, and the timing loop awaits each call.
 */
export type Call = { readonly sync: true; readonly run: () => void } | { readonly sync: false; readonly run: () => Promise<void> };

export const syncCall = (run: () => void): Call => ({ sync: true, run });
export const asyncCall = (run: () => Promise<void>): Call => ({ sync: false, run });

/** One network set up in one peer: its own copy of the parameters, the batch already in place. */
export interface PeerRun {
  readonly id: PeerId;
  /** Makes this peer's environment current (TF.js: its backend); called before each of its samples, untimed. */
  activate(): Promise<void>;
  /** J at the current parameters (mean loss over the batch plus the regularizer), no update; null: inference only. */
  readonly loss: (() => number) | null;
  /** One training step: forward, loss, full gradient, params −= lr · gradient; null: inference only. */
  readonly step: Call | null;
  /** One forward pass of the batch (network output: probabilities under softmax cross-entropy). */
  readonly forward: Call;
  /** The forward pass's output at the current parameters, copied out (for the check against bpgen's). */
  output(): Promise<Float32Array>;
  /** Throws if steps or passes leave objects of the peer's library alive (TF.js tensors, jax-js arrays). */
  verifyMemory?(): Promise<void>;
  dispose(): void;
}

/** The learning rate of every timed step: small, so the parameters barely move over thousands of steps. */
export const BENCH_LR = 1e-3;
