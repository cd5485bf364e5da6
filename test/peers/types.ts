/**
 * The shapes of the peer case tables (mathjs-cases.ts, tfjs-cases.ts) and of the gradient checks the harness
 * (test/peer-suites.test.ts) compiles. Every case of a peer's derivative tests has one record: in scope (a bpgen
 * net and the derivative values to match) or out of scope with one reason from a fixed list.
 */

/** A tensor: its shape and its values in row-major order (a scalar has shape [] and one value). */
export interface PeerTensor {
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/**
 * One gradient check: an equation-form net (equations defining `y`, a scalar loss, the learnable parameters and
 * the constant inputs) and the expected derivative of the loss with respect to each parameter, at one point.
 */
export interface GradientCheck {
  readonly equations: readonly string[];
  /** The loss expression: `y`, `sum(y)`, or weighted by the peer's dy: `dy * y`, `sum(dy .* y)`. */
  readonly loss: string;
  /** Scalar functions of `x` used by the equations (net.json's `functions`). */
  readonly functions?: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, PeerTensor>>;
  readonly inputs: Readonly<Record<string, PeerTensor>>;
  /** d loss / d param, row-major, per parameter. */
  readonly expected: Readonly<Record<string, readonly number[]>>;
  /** The peer's own tolerance where it states one (TF.js: |actual − expected| ≤ tolerance). */
  readonly tolerance?: number;
}

/** Where a case comes from: the peer's file, the line of its `it(...)`, and the test's name. */
export interface PeerSource {
  /** Short and unique: `<file>:<line> <describe> › <it>` (mathjs adds the expression). */
  readonly id: string;
  readonly file: string;
  readonly line: number;
  /** Anything the translation decided (folded shapes, conventions, peer quirks). */
  readonly note?: string;
}

export type Scoped<Reason extends string, In> = PeerSource & (({ readonly scope: "in" } & In) | { readonly scope: "out"; readonly reason: Reason });
