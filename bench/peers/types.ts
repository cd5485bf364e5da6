/** What the benchmark asks of each implementation ("peer") of a reference network. */

export type PeerId = "bpgen" | "hand" | "tf-cpu" | "tf-wasm";

export const PEER_LABEL: Record<PeerId, string> = {
  bpgen: "bpgen (f32)",
  hand: "hand-written",
  "tf-cpu": "TF.js cpu",
  "tf-wasm": "TF.js wasm",
};

/** One network set up in one peer: its own copy of the parameters, the batch already in place. */
export interface PeerRun {
  readonly id: PeerId;
  /** Makes this peer's environment current (TF.js: its backend); called before each of its samples, untimed. */
  activate(): Promise<void>;
  /** J at the current parameters (mean loss over the batch plus the regularizer); no update. */
  loss(): number;
  /** One training step: forward, loss, full gradient, params −= lr · gradient. */
  step(): void;
  /** One forward pass of the batch (network output: probabilities under softmax cross-entropy). */
  forward(): void;
  dispose(): void;
}

/** The learning rate of every timed step: small, so the parameters barely move over thousands of steps. */
export const BENCH_LR = 1e-3;
