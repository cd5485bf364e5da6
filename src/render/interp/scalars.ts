/**
 * The scalar function of every elementwise op, as the TypeScript kernels compute it: the op table's reference
 * function (ir/ops.ts), except where the TypeScript renderer calls a helper of templates/math.ts instead
 * (render/ts/expressions.ts OP_TEXT) — then that same helper, so that both run the same arithmetic.
 * Importing templates/ is why the interpreter stays out of the package build (tsconfig.build.json): it is for
 * tests only.
 */
import { ELEMENTWISE_OPS, type ElementwiseOp } from "../../ir/node.ts";
import { elementwiseRule } from "../../ir/ops.ts";
import { erf, erfc, floorMod, roundHalfAway, sigmoid, softplus } from "../../../templates/math.ts";

export type Scalar = (...xs: number[]) => number;

/** The ops whose TypeScript line calls a template helper (OP_TEXT's `call("sigmoid")`, …), with that helper. */
const TEMPLATE_HELPERS: Partial<Record<ElementwiseOp, Scalar>> = {
  sigmoid,
  softplus,
  erf,
  erfc,
  round: roundHalfAway,
  mod: floorMod,
};

export const SCALARS: Readonly<Record<ElementwiseOp, Scalar>> = Object.fromEntries(
  ELEMENTWISE_OPS.map((op) => [op, TEMPLATE_HELPERS[op] ?? elementwiseRule(op).scalar]),
) as Record<ElementwiseOp, Scalar>;
