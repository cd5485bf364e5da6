/**
 * Counter-based random numbers for dropout: a hash of (seed, step, stream, counter) — no generator state to
 * advance, so the mask of one element is the same wherever and whenever it is computed (the forward and the
 * backward sweep of a step, the TypeScript and the WebAssembly kernels, f32 and f64 modules). `counter` is
 * s·size + e for element e of sample s (the `counter` leaf), `stream` tells two dropout layers apart, `seed`
 * and `step` live in the network's state. Only 32-bit integer arithmetic (Math.imul, xor, shifts): the
 * TypeScript kernels call templates/rng.ts `uniform24`, the WebAssembly kernels do the same with i32.mul
 * (render/wasm/function.ts).
 */
import type { Graph } from "./graph.ts";
import type { Node, Shape } from "./node.ts";
import type { StateLeaf } from "./net.ts";

/** One round: xor in a word, then murmur3's finaliser (multiplications by odd constants and xor-shifts). */
function mixRound(h: number, word: number): number {
  h = Math.imul(h ^ word, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * A uniform number in [0, 1) with 24 random bits (exact in f32 and f64) from four integers, each truncated to
 * 32 bits first (the values given are integers below 2^31). The reference of the op table's `uniform`;
 * templates/rng.ts `uniform24` is the same function for the modules (a test keeps the two equal).
 */
export function uniform24(seed: number, step: number, stream: number, counter: number): number {
  let h = mixRound(0x9e3779b9, seed | 0);
  h = mixRound(h, step | 0);
  h = mixRound(h, stream | 0);
  h = mixRound(h, counter | 0);
  return (h >>> 8) / 16777216;
}

/** The step counter wraps to 0 here: a Float32Array holds every integer below 2^24 exactly. */
export const STEP_PERIOD = 2 ** 24;

/** The generator's state leaves and their training updates: the step advances by one per training step. */
export interface RandomState {
  readonly seed: Node;
  readonly step: Node;
  readonly leaves: readonly StateLeaf[];
  /** step ← (step + 1) mod 2^24; the seed stays. */
  readonly updates: ReadonlyMap<Node, Node>;
}

/** The seed (set by initState's seed) and the step (0 at first) of a network's dropout layers. */
export function randomState(g: Graph, prefix = "rng"): RandomState {
  const seed = g.state(`${prefix}_seed`, []);
  const step = g.state(`${prefix}_step`, []);
  return {
    seed,
    step,
    leaves: [
      { name: `${prefix}_seed`, node: seed, shape: [], init: { kind: "seed" } },
      { name: `${prefix}_step`, node: step, shape: [], init: { kind: "constant", value: 0 } },
    ],
    updates: new Map([[step, g.make("mod", [g.add(step, g.constant(1)), g.constant(STEP_PERIOD)])]]),
  };
}

/**
 * The inverted-dropout mask of a value of `shape`: 1/(1 − rate) where the element's uniform number is at least
 * `rate`, 0 elsewhere. dropout(x) = x ⊙ mask: its gradient is the mask, the same node in forward and backward.
 */
export function dropoutMask(g: Graph, rng: RandomState, shape: Shape, rate: number, stream: number): Node {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`a dropout rate must be in [0, 1), got ${rate}`);
  const u = g.uniform(rng.seed, rng.step, g.constant(stream), g.counter(shape));
  return g.mul(g.make("ge", [u, g.constant(rate)]), g.constant(1 / (1 - rate)));
}
