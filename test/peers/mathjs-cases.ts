/**
 * Every case of mathjs's derivative tests (josdejong/mathjs, test/unit-tests/function/algebra/derivative.test.js
 * at MATHJS_SOURCE.commit): one record per assertion. In scope: the peer's expression of x, the derivative string
 * the peer expects, the bpgen equation for y(x), and 3–5 points of the function's real domain (dyadic, so that
 * f32 and f64 evaluate at the same x) where the harness evaluates the expected string with mathjs.
 *
 * Decisions: implicit multiplication (`5x`) is kept, as bpgen parses mathjs syntax; nodes the peer builds by hand
 * with three arguments (`new OperatorNode('*', …, [3, x, sin(x)])`) are written as the binary chain they equal;
 * `f(x) = …` becomes a bpgen user function; `$x` is renamed `x` (bpgen names are identifiers); `log(a, b)` is
 * mathjs's log of a to base b; angles are radians.
 */
import type { Scoped } from "./types.ts";

export const MATHJS_SOURCE = {
  repository: "josdejong/mathjs",
  commit: "f7c10b1bc1324a25d117b668ea9a9c0232e2068e",
  file: "test/unit-tests/function/algebra/derivative.test.js",
} as const;

/** Why a case is out of scope (the whole list). */
export const MATHJS_OUT_OF_SCOPE = [
  "several variables",
  "error expected, no derivative value",
  "LaTeX output only, no derivative value",
  "peer expectation is not the derivative",
] as const;
export type MathjsOutOfScope = (typeof MATHJS_OUT_OF_SCOPE)[number];

export interface MathjsInScope {
  /** The function as a mathjs expression of x (what the peer differentiates). */
  readonly fx: string;
  /** The derivative the peer expects, as its string. */
  readonly derivative: string;
  /** Whether the peer asked for a simplified derivative (mathjs's default) or `{ simplify: false }`. */
  readonly simplify: boolean;
  /** bpgen's equations, defining y. */
  readonly equations: readonly string[];
  readonly functions?: Readonly<Record<string, string>>;
  /** Points of the function's real domain where the derivative is checked. */
  readonly points: readonly number[];
}

/** The peer's expression as it appears in the test (or how the test builds it), in and out of scope. */
export type MathjsCase = Scoped<MathjsOutOfScope, MathjsInScope> & { readonly expr: string };

// points (dyadic rationals)
const ANY = [-1.5, -0.375, 0.625, 2];
const NONZERO = ANY;
const POS = [0.25, 0.625, 1.5, 3];
/** x > 0 where x^x^x^x stays small (2^16 at 2) */
const POS_TOWER = [0.25, 0.625, 1.5, 2];
/** |2x| < 1 */
const INSIDE = [-0.375, -0.125, 0.0625, 0.3125];
/** |2x| > 1 */
const OUTSIDE = [-2, -0.75, 0.625, 1.5];
/** 2x > 1 */
const ABOVE_HALF = [0.625, 1, 1.75, 3];
/** 0 < 2x < 1 */
const UNIT_OPEN = [0.0625, 0.1875, 0.3125, 0.4375];
/** cos(2x) ≠ 0 (2x = -3, -0.75, 0.5, 2.5) */
const COS_NONZERO = [-1.5, -0.375, 0.25, 1.25];
/** sin(2x) ≠ 0 (2x = -2.5, -0.75, 1.25, 2.25) */
const SIN_NONZERO = [-1.25, -0.375, 0.625, 1.125];

const FILE = "derivative.test.js";

interface Extra {
  readonly bpgen?: string;
  readonly functions?: Readonly<Record<string, string>>;
  readonly simplify?: boolean;
  readonly fx?: string;
  readonly note?: string;
}

/** An in-scope case: `expr` as the peer writes it, its expected derivative string, the points. */
function d(line: number, test: string, expr: string, derivative: string, points: readonly number[], extra: Extra = {}): MathjsCase {
  const fx = extra.fx ?? expr;
  return {
    id: `${FILE}:${line} ${test} › ${expr}`,
    file: FILE,
    line,
    expr,
    scope: "in",
    fx,
    derivative,
    simplify: extra.simplify ?? false,
    equations: [`y = ${extra.bpgen ?? fx}`],
    ...(extra.functions ? { functions: extra.functions } : {}),
    points,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

function out(line: number, test: string, expr: string, reason: MathjsOutOfScope, note?: string): MathjsCase {
  return { id: `${FILE}:${line} ${test} › ${expr}`, file: FILE, line, expr, scope: "out", reason, ...(note ? { note } : {}) };
}

const CONST = "should take the derivative of a constant";
const SIMPLIFY = "should reckon with option simplify";
const OPS = "should take the derivative of a OperatorNodes with SymbolNodes";
const FNS = "should properly take the derivative of mathematical functions";
const PARTIAL = "should take the partial derivative of an expression";
const ERR = "error expected, no derivative value" as const;
const THROWS = "should throw error if expressions contain unsupported operators or functions";

export const MATHJS_CASES: readonly MathjsCase[] = [
  d(20, CONST, "1", "0", ANY),
  d(21, CONST, "10000000", "0", ANY),
  d(25, SIMPLIFY, "2x", "2", ANY, { simplify: true, note: "default options (simplify)" }),
  d(26, SIMPLIFY, "2x", "2", ANY, { simplify: true, note: "{ simplify: true }" }),
  d(27, SIMPLIFY, "2x", "2 * 1", ANY, { note: "{ simplify: false }" }),
  d(31, "should create a function node", "sin(2x)", "2 * cos(2 x)", ANY, { simplify: true }),
  d(35, "should take the derivative of a SymbolNodes", "x", "1", ANY),
  d(39, "should maintain parenthesis of ParenthesisNodes", "(1)", "(0)", ANY),
  d(40, "should maintain parenthesis of ParenthesisNodes", "(x)", "(1)", ANY),
  d(44, "should take the derivative of FunctionAssignmentNodes", "f(x) = 5x + x + 2", "5 * 1 + 1 + 0", ANY, {
    fx: "5x + x + 2",
    bpgen: "f(x)",
    functions: { f: "5x + x + 2" },
  }),
  d(45, "should take the derivative of FunctionAssignmentNodes", "f(x) = 5 + 2", "0", ANY, { fx: "5 + 2", bpgen: "f(x)", functions: { f: "5 + 2" } }),
  out(46, "should take the derivative of FunctionAssignmentNodes", "f(y) = 5y + 2", "several variables", "a function of y, differentiated with respect to x"),
  d(51, "should take the derivative of FunctionAssignmentNodes", "5x + f(x) with f(x) = x + 2 (OperatorNode('+', [5x, f]))", "5 * 1 + 1 + 0", ANY, {
    fx: "5x + (x + 2)",
    bpgen: "5x + f(x)",
    functions: { f: "x + 2" },
  }),
  d(55, "should take the derivative of a OperatorNodes with ConstantNodes", "1 + 2", "0", ANY),
  d(56, "should take the derivative of a OperatorNodes with ConstantNodes", "-100^2 + 3*3/2 - 12", "0", ANY),
  d(58, "should take the derivative of a OperatorNodes with ConstantNodes", "OperatorNode('*', [3, 7^4, 123.124])", "0", ANY, { fx: "3 * 7^4 * 123.124" }),
  d(63, OPS, "-4x", "-4 * 1", ANY),
  d(65, OPS, "+4x", "+4 * 1", ANY),
  d(68, OPS, "OperatorNode('*', [3, x, sin(x)])", "3 * (1 * sin(x) + x * 1 * cos(x))", ANY, { fx: "3 * x * sin(x)" }),
  d(72, OPS, "5x + x + 2", "5 * 1 + 1 + 0", ANY),
  d(74, OPS, "5x - x - 2", "5 * 1 - 1 - 0", ANY),
  d(77, OPS, "OperatorNode('+', [x, sin(x), 5x])", "1 + 1 * cos(x) + 5 * 1", ANY, { fx: "x + sin(x) + 5x" }),
  d(80, OPS, "OperatorNode('*', [x, sin(x), 5x])", "1 * sin(x) * 5 x + x * 1 * cos(x) * 5 x + x * sin(x) * 5 * 1", ANY, { fx: "x * sin(x) * 5x" }),
  d(83, OPS, "2(x + x)", "2 * (1 + 1)", ANY),
  d(84, OPS, "(x + x)*2", "2 * (1 + 1)", ANY),
  d(87, OPS, "5x*3x", "5 * 1 * 3 x + 5 x * 3 * 1", ANY),
  d(90, OPS, "7x / 2", "7 * 1 / 2", ANY),
  d(93, OPS, "5 / (3x)", "-5 * (3 * 1) / (3 x) ^ 2", NONZERO),
  d(96, OPS, "(2x) / (3x + 2)", "((2 * 1) * (3 x + 2) - (2 x) * (3 * 1 + 0)) / (3 x + 2) ^ 2", ANY),
  d(99, OPS, "0^(2^x + x^3 + 2)", "0", POS, { note: "x > 0 keeps the exponent positive (0^negative is Infinity)" }),
  d(100, OPS, "1^(2^x + x^3 + 2)", "0", ANY),
  d(102, OPS, "10^(2x + 2)", "10 ^ (2 x + 2) * log(10) * (2 * 1 + 0)", ANY),
  d(105, OPS, "(x^x^x^x)^0", "0", POS_TOWER),
  d(107, OPS, "(x+2)^1", "(1 + 0)", ANY),
  d(109, OPS, "2x^2", "2 * 2 * 1 * x ^ (2 - 1)", ANY),
  d(112, OPS, "2x^-2", "2 * -2 * 1 * x ^ (-2 - 1)", NONZERO),
  d(116, OPS, "(x^3 + x)^(5x + 2)", "(x ^ 3 + x) ^ (5 x + 2) * ((3 * 1 * x ^ (3 - 1) + 1) * (5 x + 2) / (x ^ 3 + x) + (5 * 1 + 0) * log((x ^ 3 + x)))", POS),
  d(119, OPS, "-x", "-1", ANY),
  d(120, OPS, "1 - (-x)", "0 - (-1)", ANY),
  d(124, FNS, "cbrt(6x)", "6 * 1 / (3 * (6 x) ^ (2 / 3))", POS, { note: "x > 0: the expected string's (6x)^(2/3) is complex in mathjs for x < 0" }),
  d(125, FNS, "sqrt(6x)", "6 * 1 / (2 * sqrt(6 x))", POS),
  d(126, FNS, "nthRoot(6x)", "6 * 1 / (2 * sqrt(6 x))", POS, { note: "nthRoot with one argument is the square root" }),
  d(127, FNS, "nthRoot(6x, 3)", "1 / 3 * 6 * 1 * (6 x) ^ (1 / 3 - 1)", POS),
  d(129, FNS, "nthRoot((6x), (2x))", "(6 x) ^ (1 / (2 x)) * ((6 * 1) * 1 / (2 x) / (6 x) + -1 * (2 * 1) / (2 x) ^ 2 * log((6 x)))", POS),
  d(130, FNS, "log((6*x))", "(6 * 1) / (6 * x)", POS),
  d(131, FNS, "log10((6x))", "(6 * 1) / ((6 x) * log(10))", POS),
  d(132, FNS, "log((6x), 10)", "(6 * 1) / ((6 x) * log(10))", POS, { note: "log(value, base), mathjs's order" }),
  d(134, FNS, "log((2x), (3x))", "((2 * 1) / (2 x) * log((3 x)) - log((2 x)) * (3 * 1) / (3 x)) / log((3 x)) ^ 2", POS, {
    note: "log of 2x to base 3x; x > 0 and 3x ≠ 1",
  }),
  d(136, FNS, "log(x)", "1 / x", POS),
  d(138, FNS, "sin(2x)", "2 * 1 * cos(2 x)", ANY),
  d(139, FNS, "cos(2x)", "2 * 1 * -sin(2 x)", ANY),
  d(140, FNS, "tan(2x)", "2 * 1 * sec(2 x) ^ 2", COS_NONZERO),
  d(141, FNS, "sec(2x)", "2 * 1 * sec(2 x) * tan(2 x)", COS_NONZERO),
  d(142, FNS, "csc(2x)", "-(2 * 1) * csc(2 x) * cot(2 x)", SIN_NONZERO),
  d(143, FNS, "cot((2x))", "-(2 * 1) * csc((2 x)) ^ 2", SIN_NONZERO),
  d(144, FNS, "asin((2x))", "(2 * 1) / sqrt(1 - (2 x) ^ 2)", INSIDE),
  d(145, FNS, "acos((2x))", "-(2 * 1) / sqrt(1 - (2 x) ^ 2)", INSIDE),
  d(146, FNS, "atan((2x))", "(2 * 1) / ((2 x) ^ 2 + 1)", ANY),
  d(147, FNS, "asec((2x))", "(2 * 1) / (abs((2 x)) * sqrt((2 x) ^ 2 - 1))", OUTSIDE),
  d(148, FNS, "acsc((2x))", "-(2 * 1) / (abs((2 x)) * sqrt((2 x) ^ 2 - 1))", OUTSIDE),
  d(149, FNS, "acot((2x))", "-(2 * 1) / ((2 x) ^ 2 + 1)", NONZERO),
  d(150, FNS, "sinh(2x)", "2 * 1 * cosh(2 x)", ANY),
  d(151, FNS, "cosh(2x)", "2 * 1 * sinh(2 x)", ANY),
  d(152, FNS, "tanh(2x)", "2 * 1 * sech(2 x) ^ 2", ANY),
  d(153, FNS, "sech(2x)", "-(2 * 1) * sech(2 x) * tanh(2 x)", ANY),
  d(154, FNS, "csch(2x)", "-(2 * 1) * csch(2 x) * coth(2 x)", NONZERO),
  d(155, FNS, "coth(2x)", "-(2 * 1) * csch(2 x) ^ 2", NONZERO),
  d(156, FNS, "asinh((2x))", "(2 * 1) / sqrt((2 x) ^ 2 + 1)", ANY),
  d(157, FNS, "acosh((2x))", "(2 * 1) / sqrt((2 x) ^ 2 - 1)", ABOVE_HALF),
  d(158, FNS, "atanh((2x))", "(2 * 1) / (1 - (2 x) ^ 2)", INSIDE),
  d(159, FNS, "asech((2x))", "-(2 * 1) / ((2 x) * sqrt(1 - (2 x) ^ 2))", UNIT_OPEN),
  d(160, FNS, "acsch((2x))", "-(2 * 1) / (abs((2 x)) * sqrt((2 x) ^ 2 + 1))", NONZERO),
  out(
    161,
    FNS,
    "acoth((2x))",
    "peer expectation is not the derivative",
    "the peer expects -(2 * 1) / (1 - (2 x) ^ 2); d/dx acoth(2x) = 2 / (1 - 4x^2) (acoth(u) = atanh(1/u)), as central differences confirm",
  ),
  d(162, FNS, "abs(2x)", "2 * 1 * abs(2 x) / 2 x", NONZERO, {
    note: "the string reads 2·1·abs(2x)/(2x): mathjs's implicit multiplication binds tighter than /",
  }),
  d(165, FNS, "pow(0, 2^x + x^3 + 2)", "0", POS, { note: "x > 0 keeps the exponent positive" }),
  d(166, FNS, "pow(1, 2^x + x^3 + 2)", "0", ANY),
  d(167, FNS, "pow(10, 2x + 2)", "10 ^ (2 x + 2) * log(10) * (2 * 1 + 0)", ANY),
  d(168, FNS, "pow(x^x^x^x, 0)", "0", POS_TOWER),
  d(169, FNS, "pow(x + 2, 1)", "1 + 0", ANY),
  d(170, FNS, "2 * pow(x, 2)", "2 * 2 * 1 * x ^ (2 - 1)", ANY),
  d(171, FNS, "2 * pow(x, -2)", "2 * -2 * 1 * x ^ (-2 - 1)", NONZERO),
  d(172, FNS, "pow(x^3 + x, 5x + 2)", "(x ^ 3 + x) ^ (5 x + 2) * ((3 * 1 * x ^ (3 - 1) + 1) * (5 x + 2) / (x ^ 3 + x) + (5 * 1 + 0) * log(x ^ 3 + x))", POS),
  d(174, FNS, "exp(2x)", "2 * 1 * exp(2 x)", ANY),
  out(178, PARTIAL, "x + y", "several variables"),
  out(179, PARTIAL, "x + log(y)*y", "several variables"),
  out(181, PARTIAL, "x + y + z", "several variables"),
  out(182, PARTIAL, "x + log(y)*z", "several variables"),
  out(184, PARTIAL, "x + log(y)*x", "several variables"),
  out(187, PARTIAL, "x^2 + x*y + y^2", "several variables"),
  d(194, "should function properly even without being called within an evaluate", "2x^3", "2 * 3 * 1 * x ^ (3 - 1)", ANY),
  d(199, "should accept string and Node input", "x^2", "2 * x", ANY, { simplify: true, note: "string expression, string variable" }),
  d(200, "should accept string and Node input", "x^2", "2 * x", ANY, { simplify: true, note: "parsed expression, string variable" }),
  d(201, "should accept string and Node input", "x^2", "2 * x", ANY, { simplify: true, note: "string expression, parsed variable" }),
  d(202, "should accept string and Node input", "x^2", "2 * x", ANY, { simplify: true, note: "parsed expression, parsed variable" }),
  d(207, "should accept string input containing special characters", "1 + x", "1", ANY, { simplify: true }),
  d(208, "should accept string input containing special characters", "1 + $x", "1", ANY, {
    simplify: true,
    fx: "1 + x",
    note: "$x renamed x: bpgen names are identifiers",
  }),
  d(216, "expression parser › should evaluate a derivative containing string value", "x^2", "2 * x", ANY, {
    simplify: true,
    note: 'evaluate(\'derivative("x^2", "x")\')',
  }),
  d(223, "expression parser › should evaluate a derivative containing nodes", "x^2", "2 * x", ANY, {
    simplify: true,
    note: 'evaluate(\'derivative(parse("x^2"), parse("x"))\')',
  }),
  out(235, "should not drop any additional operator arguments", "OperatorNode('/', [12, 4, x])", ERR),
  out(240, "should not drop any additional operator arguments", "OperatorNode('^', [12, 4, x])", ERR),
  out(250, "should not mutate the input expression", "min(x, y)", ERR, "also several variables"),
  out(258, THROWS, "x << 2", ERR),
  out(259, THROWS, "subset(x)", ERR),
  out(260, THROWS, "max(x)", ERR),
  out(261, THROWS, "max(x, y)", ERR),
  out(262, THROWS, "max(x, 1)", ERR),
  out(263, THROWS, "add(2,3,x)", ERR),
  out(267, "should throw error for incorrect argument types", "derivative('42', '42')", ERR),
  out(271, "should throw error for incorrect argument types", "[1, 2; 3, 4]", ERR),
  out(275, "should throw error for incorrect argument types", "x + [1, 2; 3, 4]", ERR),
  out(281, "should throw error if incorrect number of arguments", "derivative('x + 2')", ERR),
  out(285, "should throw error if incorrect number of arguments", "derivative('x + 2', 'x', {}, true, 42)", ERR),
  out(291, "should throw error in case of an unknown function", "foo(x)", ERR),
  out(297, "should LaTeX expressions involving derivative", "derivative(x*y,x)", "LaTeX output only, no derivative value"),
  out(298, "should LaTeX expressions involving derivative", 'derivative("x*y",x)', "LaTeX output only, no derivative value"),
  out(299, "should LaTeX expressions involving derivative", 'derivative(x*y,"x")', "LaTeX output only, no derivative value"),
  out(300, "should LaTeX expressions involving derivative", 'derivative("x*y","x")', "LaTeX output only, no derivative value"),
];
