/**
 * Writes test/peers/tfjs-cases.ts from what extract-tfjs.cjs recorded: one record per test, in scope with bpgen's
 * spelling of the op (the specs below, by file and line) or out of scope with its reason.
 *
 *   node test/peers/tools/gen-tfjs-cases.cjs <recorded.json> test/peers/tfjs-cases.ts
 *   npx prettier --print-width 160 --write test/peers/tfjs-cases.ts
 */
const fs = require("fs");
const ts = require("typescript");
const { respell } = require("./tf-spelling.cjs");

const [inFile, outFile] = process.argv.slice(2);
if (!inFile || !outFile) throw new Error("usage: gen-tfjs-cases.cjs <recorded.json> <out.ts>");
const all = JSON.parse(fs.readFileSync(inFile, "utf8"), (k, v) => (typeof v === "string" && /^__(-?Infinity|NaN)$/.test(v) ? Number(v.slice(2)) : v));

// ---------- number printing ----------
function f32Short(v) {
  if (!Number.isFinite(v)) return v;
  if (Math.fround(v) !== v) return v;
  for (let p = 1; p <= 17; p++) { const s = Number(v.toPrecision(p)); if (Math.fround(s) === v) return s; }
  return v;
}
const num = (v) => Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : Object.is(v, -0) ? "0" : String(v);
const arr = (vs) => `[${vs.map(num).join(", ")}]`;

// ---------- helpers over a recorded test ----------
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i] || (Number.isNaN(x) && Number.isNaN(b[i])));
function links(t) {
  return t.expects.map((e) => {
    for (let c = 0; c < t.calls.length; c++) for (let o = 0; o < t.calls[c].out.length; o++) { const out = t.calls[c].out[o]; if (out && Array.isArray(out.values) && eq(out.values, e.actual)) return { c, o, e }; }
    return null;
  });
}
function paramNames(f) {
  const sf = ts.createSourceFile("f.ts", "(" + f + ")", ts.ScriptTarget.ES2022, true);
  let names = null;
  const visit = (n) => { if (!names && (ts.isArrowFunction(n) || ts.isFunctionExpression(n))) names = n.parameters.map((p) => p.name.getText(sf)); ts.forEachChild(n, visit); };
  visit(sf);
  return names;
}
function callInputs(call) {
  // [xs (array of tensors), dy|null]
  if (call.kind === "grad" || call.kind === "valueAndGrad") return [[call.args[0]], call.args[1] ?? null];
  return [call.args[0], call.args[1] ?? null];
}
const T = (rec, shape) => ({ shape: shape ?? rec.shape, values: rec.values.map(f32Short) });
const size = (s) => s.reduce((a, b) => a * b, 1);
/** Folds a shape to rank ≤ 2 for elementwise ops: a vector of all elements (or keeps rank ≤ 2). */
const flatShape = (s) => (s.length <= 2 ? s : [size(s)]);

// ---------- the case specs ----------
const OUT = {
  dtype: "integer or boolean dtype",
  string: "string tensor",
  novalue: "no gradient value checked",
  error: "error expected, no gradient value",
  peer: "peer expectation is not the derivative",
};

/**
 * A check: equations (defining y), loss, params and inputs (name → tensor) and expected gradients (name → values).
 * Built by `std` from the calls of a recorded test unless a spec builds it by hand.
 */
function std(t, opts) {
  // opts: { eq: (names, k, params, inputs) => string[], shape?: (name, shape) => shape, fold?: false, dyShape?: (shape) => shape,
  //         consts?: (t, k) => {name: tensor}, tol?, noDy?, scalarOut?, loss?, merge?, names? }
  const L = links(t).filter((l) => l);
  const byCall = new Map();
  for (const l of L) { if (!byCall.has(l.c)) byCall.set(l.c, []); byCall.get(l.c).push(l); }
  const checks = [];
  for (const [c, ls] of byCall) {
    const call = t.calls[c];
    const names = opts.names ?? paramNames(call.f);
    const [xs, dy] = callInputs(call);
    const params = {};
    names.forEach((n, i) => { if (xs[i]) params[n] = xs[i]; });
    const expected = {};
    for (const l of ls) expected[names[l.o]] = { values: l.e.expected, eps: l.e.eps, typed: !!l.e.typed };
    checks.push({ call, names, params, dy, expected, consts: {} });
  }
  // merge checks that differentiate one function at one point w.r.t. different arguments (tf.grad per argument)
  if (opts.merge) {
    const m = { ...checks[0], params: {}, expected: {} };
    for (const ch of checks) { Object.assign(m.params, ch.params); Object.assign(m.expected, ch.expected); }
    checks.length = 0; checks.push(m);
  }
  return checks.map((ch, k) => finish(t, ch, opts, k));
}
function finish(t, ch, opts, k) {
  const shapeOf = (n, s) => (opts.shape ? opts.shape(n, s) : opts.fold === false ? s : flatShape(s));
  const params = {};
  for (const [n, rec] of Object.entries(ch.params)) params[n] = T(rec, shapeOf(n, rec.shape));
  const inputs = {};
  for (const [n, rec] of Object.entries(opts.consts ? opts.consts(t, k) : {})) inputs[n] = rec.values ? T(rec, shapeOf(n, rec.shape)) : rec;
  let loss;
  if (ch.dy && !opts.noDy) {
    const dyShape = opts.dyShape ? opts.dyShape(ch.dy.shape) : shapeOf("dy", ch.dy.shape);
    inputs.dy = T(ch.dy, dyShape);
    loss = dyShape.length === 0 ? "dy * y" : "sum(dy .* y)";
  } else loss = opts.scalarOut ? "y" : "sum(y)";
  if (opts.loss) loss = opts.loss;
  const shapes = Object.fromEntries(Object.entries({ ...params, ...inputs }).map(([n, v]) => [n, v.shape]));
  const eqs = opts.eq(ch.names, k, params, inputs).flatMap((e) => respell(e, shapes));
  const expected = {};
  let tol = opts.tol ?? null;
  for (const [n, e] of Object.entries(ch.expected)) {
    expected[n] = e.typed ? e.values.map(f32Short) : e.values;
    if (e.eps != null) tol = tol == null ? e.eps : Math.max(tol, e.eps);
  }
  return { equations: eqs, loss, params, inputs, expected, tolerance: tol };
}

// templates
const unary = (fn, extra = {}) => (t) => std(t, { eq: ([a]) => [`y = ${fn(a)}`], ...extra });
const binary = (fn, extra = {}) => (t) => std(t, { eq: ([a, b]) => [`y = ${fn(a, b)}`], ...extra });
// elementwise binary op written per element: scalar-scalar with the plain operator, otherwise the dotted one
function binop(op) {
  return (t) => std(t, { eq: ([a, b], k, params) => { const scalar = params[a].shape.length === 0 && params[b].shape.length === 0; const o = scalar || op === "+" || op === "-" ? op : "." + op; return [`y = ${a} ${o} ${b}`]; } });
}
// TF-call translation for ops without a vocabulary spelling: tf.op(args) / x.op(args) → op_snake(args), locals inlined
const RENAME = { avgPool: "avg_pool", avgPool3d: "avg_pool3d", maxPool: "max_pool", maxPool3d: "max_pool3d", pool: "pool", conv1d: "conv1d", conv2d: "conv2d", conv2dTranspose: "conv2d_transpose", depthwiseConv2d: "depthwise_conv2d", dilation2d: "dilation2d", batchToSpaceND: "batch_to_space_nd", spaceToBatchND: "space_to_batch_nd", matMul: "matmul", unsortedSegmentSum: "unsorted_segment_sum", square: "square", gather: "gather", transpose: "transpose" };
function lit(v) {
  if (typeof v === "number") return num(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(lit).join(", ")}]`;
  throw new Error("lit " + JSON.stringify(v));
}
function nest(values, shape) {
  if (shape.length <= 1) return shape.length === 0 ? values[0] : values;
  const step = values.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}
function translate(f, locals, keep) {
  const sf = ts.createSourceFile("f.ts", "(" + f + ")", ts.ScriptTarget.ES2022, true);
  let body = null;
  const find = (n) => { if (!body && ts.isArrowFunction(n)) body = n.body; ts.forEachChild(n, find); };
  find(sf);
  const tr = (n) => {
    if (ts.isParenthesizedExpression(n)) return tr(n.expression);
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      if (ts.isPropertyAccessExpression(callee)) {
        const name = callee.name.text;
        const target = callee.expression;
        if (name === "clone" || name === "asScalar") return tr(target);
        const isTf = ts.isIdentifier(target) && target.text === "tf";
        const args = n.arguments.map((a) => tr(a));
        const all = isTf ? args : [tr(target), ...args];
        while (all.length && all[all.length - 1] === "undefined") all.pop();
        if (!(name in RENAME)) throw new Error("no rename for " + name);
        return `${RENAME[name]}(${all.map((a) => (a === "undefined" ? "1" : a)).join(", ")})`;
      }
    }
    if (ts.isIdentifier(n)) {
      if (keep.includes(n.text)) return n.text;
      if (n.text in locals) { const v = locals[n.text]; if (v && Array.isArray(v.values)) return lit(nest(v.values, v.shape)); return lit(v); }
      return "undefined";
    }
    if (ts.isNumericLiteral(n)) return n.text;
    if (ts.isStringLiteral(n)) return JSON.stringify(n.text);
    if (n.kind === ts.SyntaxKind.TrueKeyword) return "true";
    if (n.kind === ts.SyntaxKind.FalseKeyword) return "false";
    if (ts.isArrayLiteralExpression(n)) return `[${n.elements.map(tr).join(", ")}]`;
    if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.MinusToken) return "-" + tr(n.operand);
    throw new Error("cannot translate " + n.getText(sf));
  };
  return tr(body);
}
/** A TF op without a vocabulary spelling, written as a call of the snake_case name with TF's own arguments. */
const tfcall = (extra = {}) => (t) => std(t, { fold: false, eq: (names, k) => [`y = ${translate(t.calls[k] ? t.calls[k].f : t.calls[0].f, { ...(extra.locals ?? {}), ...t.locals }, names)}`], ...extra });

// per-case specs, keyed by "file:line" (or by file for every case of the file)
const S = {};
const byFile = {};
const set = (key, spec) => { S[key] = spec; };

// unary elementwise ops: y = f(a)
for (const [file, fn] of Object.entries({
  "abs_test.ts": (a) => `abs(${a})`, "acos_test.ts": (a) => `acos(${a})`, "acosh_test.ts": (a) => `acosh(${a})`, "asin_test.ts": (a) => `asin(${a})`,
  "asinh_test.ts": (a) => `asinh(${a})`, "atan_test.ts": (a) => `atan(${a})`, "atanh_test.ts": (a) => `atanh(${a})`, "ceil_test.ts": (a) => `ceil(${a})`,
  "cos_test.ts": (a) => `cos(${a})`, "cosh_test.ts": (a) => `cosh(${a})`, "elu_test.ts": (a) => `elu(${a})`, "erf_test.ts": (a) => `erf(${a})`,
  "exp_test.ts": (a) => `exp(${a})`, "expm1_test.ts": (a) => `expm1(${a})`, "floor_test.ts": (a) => `floor(${a})`, "log1p_test.ts": (a) => `log1p(${a})`,
  "log_sigmoid_test.ts": (a) => `log_sigmoid(${a})`, "log_test.ts": (a) => `log(${a})`, "neg_test.ts": (a) => `-${a}`, "reciprocal_test.ts": (a) => `reciprocal(${a})`,
  "relu6_test.ts": (a) => `relu6(${a})`, "relu_test.ts": (a) => `relu(${a})`, "round_test.ts": (a) => `round(${a})`, "rsqrt_test.ts": (a) => `rsqrt(${a})`,
  "selu_test.ts": (a) => `selu(${a})`, "sigmoid_test.ts": (a) => `sigmoid(${a})`, "sign_test.ts": (a) => `sign(${a})`, "sin_test.ts": (a) => `sin(${a})`,
  "sinh_test.ts": (a) => `sinh(${a})`, "softplus_test.ts": (a) => `softplus(${a})`, "sqrt_test.ts": (a) => `sqrt(${a})`, "square_test.ts": (a) => `square(${a})`,
  "tan_test.ts": (a) => `tan(${a})`, "tanh_test.ts": (a) => `tanh(${a})`, "leaky_relu_test.ts": (a) => `leaky_relu(${a}, 0.1)`,
  "step_test.ts": (a) => `where(${a} > 0, 1, 0)`, "clone_test.ts": (a) => a,
})) byFile[file] = unary(fn);

byFile["add_test.ts"] = binop("+");
byFile["sub_test.ts"] = binop("-");
for (const line of [191, 211, 220, 273, 291, 308, 326]) set(`arithmetic_test.ts:${line}`, binop("/"));
for (const line of [454, 471, 484, 518, 535, 552, 569]) set(`arithmetic_test.ts:${line}`, binop("*"));
for (const line of [753, 770, 793, 811, 836, 849, 871, 894]) set(`arithmetic_test.ts:${line}`, binop("^"));
set("arithmetic_test.ts:786", unary((x) => `${x}^2`, { noDy: true, scalarOut: true }));
for (const line of [238, 256, 501]) set(`arithmetic_test.ts:${line}`, { out: OUT.dtype, note: "the differentiated inputs are int32/bool tensors (the same math as the float32 case above it)" });

// binary_ops_test.ts
const scalarOrTensor = (sfn, tfn) => (t) => std(t, { eq: ([a, b], k, params) => [`y = ${params[a].shape.length === 0 && params[b].shape.length === 0 ? sfn(a, b) : tfn(a, b)}`] });
set("binary_ops_test.ts:60", (t) => std(t, { eq: ([x]) => [`y = prelu(${x}, alpha)`], consts: (t) => ({ alpha: t.locals.a }) }));
set("binary_ops_test.ts:72", (t) => std(t, { eq: ([x]) => [`y = prelu(${x}, alpha)`], consts: (t) => ({ alpha: t.locals.a }) }));
set("binary_ops_test.ts:82", (t) => std(t, { fold: false, eq: ([a]) => [`y = prelu(x, ${a})`], consts: (t) => ({ x: t.locals.x }) }));
for (const line of [209, 226, 243, 260]) set(`binary_ops_test.ts:${line}`, scalarOrTensor((a, b) => `max(${a}, ${b})`, (a, b) => `maximum(${a}, ${b})`));
for (const line of [647, 664, 681, 698]) set(`binary_ops_test.ts:${line}`, scalarOrTensor((a, b) => `min(${a}, ${b})`, (a, b) => `minimum(${a}, ${b})`));
for (const line of [430, 447, 465, 488]) set(`binary_ops_test.ts:${line}`, scalarOrTensor((a, b) => `(${a} - ${b})^2`, (a, b) => `(${a} - ${b}).^2`));
for (const line of [836, 853, 870, 890, 910, 930]) set(`binary_ops_test.ts:${line}`, binary((a, b) => `mod(${a}, ${b})`, { fold: false }));
for (const line of [1116, 1133, 1150, 1168, 1188, 1205, 1225]) set(`binary_ops_test.ts:${line}`, binary((a, b) => `atan2(${a}, ${b})`, { fold: false }));

// argMax/argMin, comparisons, predicates: integer/boolean outputs
for (const f of ["arg_max_test.ts", "arg_min_test.ts"]) byFile[f] = { out: OUT.dtype, note: "argMax/argMin return int32 indices" };
byFile["greater_equal_test.ts"] = { out: OUT.dtype, note: "greaterEqual returns a bool tensor" };
for (const f of ["is_finite_test.ts", "is_inf_test.ts", "is_nan_test.ts"]) byFile[f] = { out: OUT.dtype, note: "returns a bool tensor" };
byFile["one_hot_test.ts"] = { out: OUT.dtype, note: "the differentiated input is an int32 index tensor" };

// pooling, convolutions and other ops without a vocabulary spelling: TF's call with TF's arguments
set("avg_pool_test.ts:194", tfcall({ note: "the expected values divide every window by 9, counting the padded cells (tfjs's own forward divides by the cells inside the input; the derivative of that forward is [0, 1.75, 1.75, 0, 4, 4, 0, 9.25, 9.25])" }));
for (const f of ["avg_pool_3d_test.ts", "avg_pool_test.ts", "max_pool_3d_test.ts", "max_pool_test.ts", "pool_test.ts", "conv1d_test.ts", "conv2d_test.ts", "conv2d_transpose_test.ts", "dilation2d_test.ts", "batch_to_space_nd_test.ts", "space_to_batch_nd_test.ts", "unsorted_segment_sum_test.ts"])
  byFile[f] = tfcall();
// unsortedSegmentSum(a, ids, n) sums the rows of a into n segments: S * a with the constant segment matrix
// S[s, i] = (ids[i] == s) (a negative id selects no segment); the trailing axes of a rank-3 a folded into columns
for (const t of all.filter((t) => t.file === "unsorted_segment_sum_test.ts"))
  set(`${t.file}:${t.line}`, (t) => {
    const ids = t.locals.segmentIds.values;
    const n = t.locals.numSegments;
    const S = { shape: [n, ids.length], values: Array.from({ length: n * ids.length }, (_, k) => (ids[k % ids.length] === Math.floor(k / ids.length) ? 1 : 0)) };
    return std(t, { shape: (name, s) => (s.length <= 2 ? s : [s[0], size(s.slice(1))]), eq: ([a]) => [`y = S * ${a}`], consts: () => ({ S }) });
  });
// depthwise: images/filter come from the describe's beforeEach
const DW = { images: { shape: [2, 2, 2, 3], values: [2, 3, 1, 3, 0, 2, 0, 4, 1, 3, 1, 3, 2, 1, 0, 0, 3, 3, 4, 0, 1, 1, 4, 1] }, filter: { shape: [2, 2, 3, 2], values: [1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0] } };
for (const line of [1230, 1247, 1312]) set(`depthwise_conv2d_test.ts:${line}`, (t) => std(t, { fold: false, eq: (n, k) => [`y = ${translate(t.calls[0].f, { stride: 1, pad: "same" }, [...n, "filter"])}`], consts: () => ({ filter: DW.filter }) }));
for (const line of [1260, 1284, 1323]) set(`depthwise_conv2d_test.ts:${line}`, (t) => std(t, { fold: false, eq: (n, k) => [`y = ${translate(t.calls[0].f, { stride: 1, pad: "same" }, [...n, "images"])}`], consts: () => ({ images: DW.images }) }));
set("depthwise_conv2d_test.ts:1334", tfcall());
set("depthwise_conv2d_test.ts:1274", { out: OUT.novalue });
set("depthwise_conv2d_test.ts:1303", { out: OUT.error, note: "TF refuses the gradient for dilations > 1" });

// batchnorm: (x - mean) / sqrt(variance + eps) * scale + offset, per channel (rank-3/4 tensors folded to [rows, channels])
{
  const bnEq = () => ["y = (x - mean) ./ sqrt(variance + 0.001) .* scale + offset"];
  const bnShape = (n, s) => (s.length <= 1 ? s : [size(s.slice(0, -1)), s[s.length - 1]]);
  const names = ["x", "mean", "variance", "offset", "scale"];
  const bn = (t) => {
    const L = links(t).filter((l) => l);
    const params = {}, expected = {};
    let dy = null;
    for (const l of L) {
      const call = t.calls[l.c];
      const [xs, d] = callInputs(call);
      dy = d ?? dy;
      const pn = paramNames(call.f);
      pn.forEach((n, i) => (params[n] = xs[i]));
      expected[pn[l.o]] = { values: l.e.expected, eps: l.e.eps, typed: !!l.e.typed };
    }
    for (const n of names) if (!params[n]) params[n] = t.locals[n];
    return [finish(t, { names, params, dy, expected }, { eq: bnEq, shape: bnShape, tol: 1e-3 }, 0)];
  };
  for (const line of [161, 198, 412, 449, 625, 652, 681]) set(`batchnorm_test.ts:${line}`, bn);
  set("batchnorm_test.ts:719", { out: OUT.novalue });
}

// broadcastTo: the gradient of mean(broadcastTo(a, [3, 2]) .* w) equals that of mean(a .* w) (the test's own reference)
for (const line of [24, 42, 59]) set(`broadcast_to_test.ts:${line}`, (t) => {
  const L = links(t).filter((l) => l && l.c === 0);
  const ref = t.calls[1].out[0];
  return [finish(t, { names: ["a"], params: { a: t.calls[0].args[0] }, dy: null, expected: { a: { values: ref.values, eps: null, typed: true } } }, { fold: false, eq: () => ["y = mean((a .* ones(3, 2)) .* w)"], consts: () => ({ w: t.locals.w }), scalarOut: true }, 0)];
});

// clipByValue
byFile["clip_by_value_test.ts"] = unary((x) => `clip(${x}, -1, 2)`);
set("clone_test.ts:253", { out: OUT.string }); set("clone_test.ts:259", { out: OUT.string }); set("clone_test.ts:265", { out: OUT.string }); set("clone_test.ts:271", { out: OUT.string });
set("clone_test.ts:281", { out: OUT.dtype, note: "int32 input" }); set("clone_test.ts:291", { out: OUT.dtype, note: "bool input" });

// concat3d, folded: axis 0 of [a,b,c] is axis 1 of [a, b*c]; axis 2 of [a,b,c] is axis 2 of [a*b, c]; axis 1 of [a,b,c] is axis 2 of [a, b*c]
{
  const cc = (dim, fold) => (t) => std(t, { shape: (n, s) => fold(s), eq: ([p, q]) => [`y = concat(${p}, ${q}, ${dim})`] });
  set("concat_test.ts:425", cc(1, (s) => [s[0], s[1] * s[2]])); set("concat_test.ts:443", cc(1, (s) => [s[0], s[1] * s[2]]));
  set("concat_test.ts:462", cc(2, (s) => [s[0], s[1] * s[2]]));
  set("concat_test.ts:480", cc(2, (s) => [s[0] * s[1], s[2]])); set("concat_test.ts:498", cc(2, (s) => [s[0] * s[1], s[2]]));
}
byFile["cumsum_test.ts"] = unary((x) => `cumsum(${x})`);
set("abs_test.ts:132", { out: OUT.novalue });

// gather: mathjs indexing with one-based index vectors; index matrices flattened (with dy) since the loss only sums
{
  const idx = (t) => t.locals.indices.values.map((v) => v + 1);
  const G = (fold, eqf, dyFold) => (t) => std(t, { shape: (n, s) => (n === "dy" ? dyFold(s) : fold(s)), eq: ([p]) => [`y = ${eqf(p, `[${idx(t).join(", ")}]`)}`] });
  const id = (s) => s;
  const vec = (s) => [size(s)];
  set("gather_test.ts:237", G(id, (p, i) => `${p}[${i}]`, vec));
  set("gather_test.ts:256", G(id, (p, i) => `${p}[${i}]`, vec));
  set("gather_test.ts:267", G(id, (p, i) => `${p}[${i}, :]`, (s) => [4, 2]));
  set("gather_test.ts:279", G(id, (p, i) => `${p}[${i}, :]`, (s) => [4, 2]));
  set("gather_test.ts:291", G(id, (p, i) => `${p}[${i}, :]`, (s) => [4, 1]));
  set("gather_test.ts:303", G(id, (p, i) => `${p}[${i}, :]`, (s) => [4, 1]));
  set("gather_test.ts:331", G(id, (p, i) => `${p}[:, ${i}]`, (s) => [2, 4]));
  set("gather_test.ts:343", G(id, (p, i) => `${p}[:, ${i}]`, (s) => [2, 4]));
  set("gather_test.ts:355", G(id, (p, i) => `${p}[:, ${i}]`, (s) => [4, 4]));
  set("gather_test.ts:368", G(id, (p, i) => `${p}[:, ${i}]`, (s) => [4, 4]));
  // rank 3, gathered along the first or last axis: folded to [a, b*c] rows or [a*b, c] columns
  set("gather_test.ts:381", G((s) => [2, 6], (p, i) => `${p}[${i}, :]`, (s) => [4, 6]));
  set("gather_test.ts:400", G((s) => [2, 6], (p, i) => `${p}[${i}, :]`, (s) => [4, 6]));
  set("gather_test.ts:419", G((s) => [1, 16], (p, i) => `${p}[${i}, :]`, (s) => [2, 16]));
  set("gather_test.ts:439", G((s) => [1, 16], (p, i) => `${p}[${i}, :]`, (s) => [2, 16]));
  set("gather_test.ts:475", G((s) => [4, 4], (p, i) => `${p}[${i}, :]`, (s) => [4, 4]));
  set("gather_test.ts:492", G((s) => [4, 4], (p, i) => `${p}[${i}, :]`, (s) => [4, 4]));
  set("gather_test.ts:509", G((s) => [6, 2], (p, i) => `${p}[:, ${i}]`, (s) => [6, 4]));
  set("gather_test.ts:528", G((s) => [6, 2], (p, i) => `${p}[:, ${i}]`, (s) => [6, 4]));
  set("gather_test.ts:547", G((s) => [4, 4], (p, i) => `${p}[:, ${i}]`, (s) => [4, 3]));
  set("gather_test.ts:563", G((s) => [4, 4], (p, i) => `${p}[:, ${i}]`, (s) => [4, 3]));
  // the middle axis of a rank-3 tensor: kept rank 3 (index matrix flattened with dy)
  set("gather_test.ts:459", G(id, (p, i) => `${p}[:, ${i}, :]`, (s) => [2, 4, 2]));
  // batchDims = 1: row b of y gathers t[b, indices[b]]; written with the constant one-hot selection M[b, j] = (indices[b] == j)
  set("gather_test.ts:315", (t) => {
    const [rows, cols] = t.locals.t.shape;
    const picks = t.locals.indices.values;
    const M = { shape: [rows, cols], values: Array.from({ length: rows * cols }, (_, k) => (picks[Math.floor(k / cols)] === k % cols ? 1 : 0)) };
    return std(t, { fold: false, dyShape: (s) => [size(s)], eq: ([p]) => [`y = sum(${p} .* M, 2)`], consts: () => ({ M }) });
  });
  set("gather_test.ts:248", { out: OUT.novalue });
}

// LRN over the last axis as a banded matrix product: x ./ (bias + alpha * (x.^2) * B).^beta, B[i][j] = |i - j| <= radius
{
  const band = (n, r) => ({ shape: [n, n], values: Array.from({ length: n * n }, (_, k) => (Math.abs(Math.floor(k / n) - (k % n)) <= r ? 1 : 0)) });
  const lrn = (r, bias, alpha, beta) => (t) => std(t, { shape: (n, s) => (s.length === 2 && n === "B" ? s : [size(s.slice(0, -1)), s[s.length - 1]]), eq: ([p]) => [`y = ${p} ./ (${bias} + ${alpha} * (${p} .^ 2) * B) .^ ${beta}`], consts: () => ({ B: band(8, r) }) });
  set("local_response_normalization_test.ts:642", lrn(2, 1, 1, 0.5));
  set("local_response_normalization_test.ts:766", lrn(1, 1, 1, 0.75));
  set("local_response_normalization_test.ts:752", { out: OUT.novalue });
}
set("log1p_test.ts:46", { out: OUT.novalue });
byFile["log_softmax_test.ts"] = unary((x) => `log_softmax(${x})`);

// matMul
set("mat_mul_test.ts:474", binary((a, b) => `${a} * ${b}`));
set("mat_mul_test.ts:530", binary((a, b) => `${a} * ${b}'`));
set("mat_mul_test.ts:581", binary((a, b) => `${a}' * ${b}`));
set("mat_mul_test.ts:620", binary((a, b) => `${a}' * ${b}'`));
set("mat_mul_test.ts:517", { out: OUT.novalue });
for (const line of [926, 962, 1030, 1068, 1141, 1175]) set(`mat_mul_test.ts:${line}`, tfcall());

// max / min reductions (one-based dimension; keepDims folded into dy's shape; rank 3/4 folded when the reduced axes are leading or trailing)
{
  const R = (fn, fold, dim, dyShape) => (t) => std(t, { shape: (n, s) => (n === "dy" ? dyShape(s) : fold(s)), eq: ([v]) => [`y = ${fn}(${v}${dim ? ", " + dim : ""})`] });
  const id = (s) => s;
  for (const fn of ["max", "min"]) {
    const file = `${fn}_test.ts`;
    const L = fn === "max" ? { s: 127, c: 134, t1: 141, a1: 148, ta1: 157, a0: 166, a1k: 175, a0k: 185, big: 195, ax12: 202, tax12: 211, ax2: 220, ax2k: 229, t4: 239, t4k: 253 } : { s: 106, c: 113, t1: 120, a1: 127, ta1: 136, a0: 145, a1k: 154, a0k: 164, big: 174, ax12: 181, tax12: 190, ax2: 199, ax2k: 208, t4: 218, t4k: 232 };
    set(`${file}:${L.s}`, R(fn, id, null, id)); set(`${file}:${L.c}`, R(fn, id, null, id)); set(`${file}:${L.t1}`, R(fn, id, null, id));
    set(`${file}:${L.a1}`, R(fn, id, 2, id)); set(`${file}:${L.ta1}`, R(fn, id, 2, id));
    set(`${file}:${L.a0}`, R(fn === "min" ? "max" : fn, id, 1, id));
    set(`${file}:${L.a1k}`, R(fn, id, 2, (s) => [2])); set(`${file}:${L.a0k}`, R(fn, id, 1, (s) => [3]));
    set(`${file}:${L.big}`, { out: OUT.novalue });
    set(`${file}:${L.ax12}`, R(fn, (s) => [2, 4], 2, id)); set(`${file}:${L.tax12}`, R(fn, (s) => [2, 4], 2, id));
    set(`${file}:${L.ax2}`, R(fn, (s) => [4, 2], 2, (s) => [4])); set(`${file}:${L.ax2k}`, R(fn, (s) => [4, 2], 2, (s) => [4]));
    set(`${file}:${L.t4}`, R(fn, (s) => [2, 8], 2, id)); set(`${file}:${L.t4k}`, R(fn, (s) => [4, 4], 2, (s) => [4]));
  }
}
set("mean_test.ts:123", unary((a) => `mean(${a})`)); set("mean_test.ts:136", unary((a) => `mean(${a})`));
set("mean_test.ts:149", { out: OUT.error, note: "dy's shape does not match mean(a, 1)" });
byFile["mirror_pad_test.ts"] = { out: OUT.peer, note: "reflect padding [3, 2, 1, 2, 3, 2] of a = [1, 2, 3] weighted by dy = [10, 20, 30, 40, 50, 60] has derivative [30, 120, 60]; tfjs's MirrorPad gradient slices dy and the test expects [30, 40, 50] (the derivative of zero padding)" };
byFile["ones_like_test.ts"] = unary(() => `ones(2, 3)`);
byFile["zeros_like_test.ts"] = unary(() => `zeros(2, 3)`);
set("pad_test.ts:86", unary((a) => `concat(zeros(2), ${a}, zeros(1))`)); set("pad_test.ts:94", unary((a) => `concat(zeros(2), ${a}, zeros(1))`));
set("pad_test.ts:180", unary((a) => `concat(zeros(1, 3), concat(${a}, zeros(2, 1), 2), 1)`));
// prod
set("prod_test.ts:112", unary((a) => `prod(${a}, 2)`, { fold: false }));
set("prod_test.ts:134", unary((a) => `prod(${a}, 1)`, { shape: (n, s) => (n === "dy" ? s : [6, 2]) }));
set("prod_test.ts:160", unary((a) => `prod(${a}, 2)`));
set("prod_test.ts:173", unary((a) => `prod(${a})`));
set("prod_test.ts:186", unary((a) => `prod(${a}, 1)`));
set("prod_test.ts:200", unary((a) => `prod(${a}, 2)`));
// reverse, slice, split, unstack, softmax, sum, tile, transpose, where
set("reverse_1d_test.ts:37", unary((a) => `${a}[[3, 2, 1]]`)); set("reverse_1d_test.ts:45", unary((a) => `${a}[[3, 2, 1]]`));
set("reverse_2d_test.ts:70", unary((a) => `${a}[[2, 1], [3, 2, 1]]`));
set("reverse_2d_test.ts:78", unary((a) => `${a}[[2, 1], :]`));
set("reverse_2d_test.ts:86", unary((a) => `${a}[:, [3, 2, 1]]`));
set("slice1d_test.ts:47", unary((a) => `${a}[2:3]`)); set("slice1d_test.ts:55", unary((a) => `${a}[2:3]`));
set("slice2d_test.ts:57", (t) => std(t, { names: ["a"], eq: ([a]) => [`y = ${a}[1:2, 2:2]`] }));
set("split_test.ts:146", unary((x) => `${x}[1:1]`)); set("split_test.ts:154", unary((x) => `${x}[1:1]`)); set("split_test.ts:162", unary((x) => `${x}[2:3]`));
set("unstack_test.ts:234", (t) => std(t, { eq: ([x], k) => [`y = ${x}[${k + 1}, :]`] }));
set("unstack_test.ts:247", (t) => std(t, { eq: ([x], k) => [`y = ${x}[${k + 1}, :]`] }));
set("unstack_test.ts:260", (t) => std(t, { eq: ([x], k) => [`y = ${x}[:, ${k + 1}]`] }));
set("softmax_test.ts:85", unary((x) => `softmax(${x})`)); set("softmax_test.ts:111", unary((x) => `softmax(${x})`));
set("softmax_test.ts:104", { out: OUT.novalue });
set("sum_test.ts:118", unary((a) => `sum(${a})`)); set("sum_test.ts:129", unary((a) => `sum(${a})`));
set("sum_test.ts:140", unary((a) => `sum(${a}, 1)`)); set("sum_test.ts:152", unary((a) => `sum(${a}, 2)`));
set("tile_test.ts:216", unary((x) => `${x}[[1, 2, 3, 1, 2, 3, 1, 2, 3]]`)); set("tile_test.ts:224", unary((x) => `${x}[[1, 2, 3, 1, 2, 3, 1, 2, 3]]`));
set("tile_test.ts:232", unary((x) => `${x}[:, [1, 2, 1, 2]]`));
set("tile_test.ts:240", unary((x) => `${x}[:, [1, 1]]`, { shape: (n, s) => (n === "dy" ? [4, 2] : [4, 1]) }));
set("tile_test.ts:248", unary((x) => `${x}[:, [1, 1, 1, 1]]`, { shape: (n, s) => (n === "dy" ? [4, 4] : [4, 1]) }));
byFile["transpose_test.ts"] = unary((t) => `transpose(${t}, [3, 2, 1])`, { fold: false });
byFile["where_test.ts"] = (t) => std(t, { eq: ([c, a, b]) => [`y = where(${c} > 0.5, ${a}, ${b})`] });

// ---------- build ----------
const cases = [];
for (let i = 0; i < all.length; i++) {
  const t = all[i];
  const key = `${t.file}:${t.line}`;
  const spec = S[key] ?? byFile[t.file];
  if (!spec) throw new Error("no spec for " + key + " " + t.it);
  const id = `${t.file}:${t.line} ${t.describe} › ${t.it}`;
  if (typeof spec === "object") { cases.push({ id, out: spec.out, note: spec.note }); continue; }
  let checks;
  try { checks = spec(t); } catch (e) { throw new Error(key + ": " + e.message); }
  if (checks.length === 0) cases.push({ id, out: OUT.novalue, note: "auto: nothing linked" });
  else cases.push({ id, checks });
}
if (require.main === module) {
  // where tfjs's own gradient disagrees with central differences of its forward (kinks, conventions, peer errors)
  for (let i = 0; i < all.length; i++) {
    const t = all[i];
    for (const call of t.calls) {
      if (!call.numeric) continue;
      call.out.forEach((o, k) => {
        const n = call.numeric[k];
        if (!n || !o || !Array.isArray(o.values)) return;
        const bad = o.values.filter((g, j) => (Number.isFinite(g) && Number.isFinite(n[j]) ? Math.abs(g - n[j]) > 2e-2 * Math.max(1, Math.abs(g)) : false)).length;
        if (bad) console.log(`central differences disagree: ${t.file}:${t.line} ${t.it} (${bad} of ${o.values.length}) — ${cases[i].out ? "out of scope: " + cases[i].out : "in scope"}`);
      });
    }
  }
  const outN = cases.filter((c) => c.out).length;
  console.log("total", cases.length, "in", cases.length - outN, "out", outN);
  const byReason = {}; for (const c of cases.filter((c) => c.out)) byReason[c.out] = (byReason[c.out] ?? 0) + 1; console.log(byReason);
  for (const c of cases.filter((c) => c.note && c.note.startsWith("auto"))) console.log("AUTO", c.id);
}

// ---------- notes and emission ----------
const NOTES = {};
const note = (keys, text) => { for (const k of [].concat(keys)) NOTES[k] = NOTES[k] ? NOTES[k] + "; " + text : text; };
note(["arithmetic_test.ts:753", "arithmetic_test.ts:770", "arithmetic_test.ts:811", "arithmetic_test.ts:836"], "the exponent b is an int32 tensor in the peer, a real parameter here");
note(["arithmetic_test.ts:811", "arithmetic_test.ts:836"], "at a negative base the peer expects d/db = 0 (TF's convention; a^b has no real derivative in b there)");
note(["binary_ops_test.ts:209", "binary_ops_test.ts:226", "binary_ops_test.ts:647", "binary_ops_test.ts:664"], "scalars: max(a, b) / min(a, b)");
note(["binary_ops_test.ts:243", "binary_ops_test.ts:260"], "at a tie (a = b) the peer gives the whole gradient to a (a >= b)");
note(["binary_ops_test.ts:681", "binary_ops_test.ts:698"], "at a tie (a = b) the peer gives the whole gradient to a (a <= b)");
for (const l of [836, 853, 870, 890, 910, 930]) note(`binary_ops_test.ts:${l}`, "the peer's derivative of mod(a, b): dy for a, -dy * floor(a / b) for b (at a = b it takes the floor 1)");
note(["binary_ops_test.ts:60", "binary_ops_test.ts:72", "binary_ops_test.ts:82"], "prelu(x, alpha): x where x > 0, alpha * x elsewhere");
for (const l of [161, 198, 412, 449, 625, 652, 681]) note(`batchnorm_test.ts:${l}`, "batchNorm written out: (x - mean) / sqrt(variance + eps) * scale + offset, per channel; rank-3/4 tensors folded to [rows, channels]; the peer's expected values have 3 decimals and rely on its default tolerance, 1e-3");
for (const l of [24, 42, 59]) note(`broadcast_to_test.ts:${l}`, "broadcastTo(a, [3, 2]) written as a .* ones(3, 2); the expected value is the peer's reference, the gradient of mean(a .* w)");
note("clip_by_value_test.ts:76", "at x = min and x = max the peer passes the gradient through (min <= x <= max)");
for (const l of [233, 243]) note(`clone_test.ts:${l}`, "clone is the identity");
for (const l of [425, 443, 462, 480, 498]) note(`concat_test.ts:${l}`, "concat3d folded to matrices: axis 0 of [a, b, c] is dimension 1 of [a, b*c], axis 1 is dimension 2 of [a, b*c], axis 2 is dimension 2 of [a*b, c] (mathjs's one-based dimension)");
for (const l of [1230, 1247, 1260, 1284, 1312, 1323]) note(`depthwise_conv2d_test.ts:${l}`, "images and filter come from the describe's beforeEach");
for (const t of all) {
  const k = `${t.file}:${t.line}`;
  if (["avg_pool_3d_test.ts", "avg_pool_test.ts", "max_pool_3d_test.ts", "max_pool_test.ts", "pool_test.ts", "conv1d_test.ts", "conv2d_test.ts", "conv2d_transpose_test.ts", "depthwise_conv2d_test.ts", "dilation2d_test.ts", "batch_to_space_nd_test.ts", "space_to_batch_nd_test.ts"].includes(t.file) || ["mat_mul_test.ts:926", "mat_mul_test.ts:962", "mat_mul_test.ts:1030", "mat_mul_test.ts:1068", "mat_mul_test.ts:1141", "mat_mul_test.ts:1175"].includes(k))
    note(k, "TF's op in bpgen's spelling (tools/tf-spelling.cjs), with TF's shapes");
}
note("avg_pool_test.ts:194", "the expected values divide every window by 9, counting the padded cells; tfjs's own forward divides by the cells inside the input, and the derivative of that forward is [0, 1.75, 1.75, 0, 4, 4, 0, 9.25, 9.25]");
for (const t of all.filter((t) => t.file === "unsorted_segment_sum_test.ts")) note(`${t.file}:${t.line}`, "unsortedSegmentSum(a, ids, n) written as S * a with the constant segment matrix S[s, i] = (ids[i] == s)");
note("unsorted_segment_sum_test.ts:85", "a negative segment id drops the element");
for (const t of all.filter((t) => t.file === "gather_test.ts")) note(`gather_test.ts:${t.line}`, t.line === 315 ? "batchDims = 1: y[b] = t[b, indices[b]], written as sum(t .* M, 2) with the constant one-hot M[b, j] = (indices[b] == j)" : "gather written as mathjs indexing (one-based); an index matrix is flattened together with dy, which leaves the summed loss unchanged");
note(["local_response_normalization_test.ts:642", "local_response_normalization_test.ts:766"], "localResponseNormalization over the last axis written out: x ./ (bias + alpha * (x.^2) * B).^beta with B[i][j] = 1 where |i - j| <= radius; the leading axes folded into rows");
for (const t of all.filter((t) => t.file === "max_test.ts" || t.file === "min_test.ts")) { if (/ties/.test(t.it)) note(`${t.file}:${t.line}`, "ties: the peer gives the gradient to every element equal to the extreme"); if (/keepDims=true/.test(t.it)) note(`${t.file}:${t.line}`, "keepDims only reshapes the result: dy folded"); }
note("min_test.ts:145", "the peer's test differentiates tf.max here (its name says min); kept as max");
note(["ones_like_test.ts:296", "zeros_like_test.ts:231"], "onesLike(x) / zerosLike(x): a constant of x's shape");
note(["pad_test.ts:86", "pad_test.ts:94", "pad_test.ts:180"], "zero padding written with concat and zeros");
note(["prod_test.ts:112", "prod_test.ts:134", "prod_test.ts:160"], "the inputs contain zeros");
for (const t of all.filter((t) => ["reverse_1d_test.ts", "reverse_2d_test.ts", "tile_test.ts", "slice1d_test.ts", "slice2d_test.ts", "split_test.ts", "unstack_test.ts"].includes(t.file))) note(`${t.file}:${t.line}`, "written as mathjs indexing (one-based, inclusive ranges)");
note("slice2d_test.ts:57", "the peer's function slices the outer tensor it was called with, so x and a are the same tensor");
note(["softmax_test.ts:111"], "softmax over each row");
for (const t of all.filter((t) => t.file === "step_test.ts")) note(`step_test.ts:${t.line}`, "tf.step(x) = x > 0 ? 1 : 0");
for (const t of all.filter((t) => t.file === "where_test.ts")) note(`where_test.ts:${t.line}`, "the bool condition c is a parameter holding 1/0 (c > 0.5 is the condition); its expected derivative, zeros, is checked");
note(["log_test.ts:75", "log_test.ts:86"], "the peer expects dy/a also where a < 0 (log is NaN there)");
note(["log1p_test.ts:54", "log1p_test.ts:67"], "the peer expects dy/(1 + a) also where a < -1 (log1p is NaN there), and a non-finite value at a = -1");
note(["selu_test.ts:81", "selu_test.ts:103"], "at a = 0 the peer takes the a <= 0 branch (scale * alpha)");
note(["relu_test.ts:113", "relu6_test.ts:48"], "at the kink the peer's derivative is 0");
note(["transpose_test.ts:212", "transpose_test.ts:223"], "a permutation of the axes of a rank-3 tensor (one-based axes)");
note(["selu_test.ts:43"], "two points");

function shapeNote(t, checks) {
  const changed = [];
  for (const ch of checks) for (const [group, rec] of [["params", ch.params], ["inputs", ch.inputs]]) for (const [n, v] of Object.entries(rec)) {
    const call = t.calls[0];
    let orig = null;
    if (n === "dy") { const [, dy] = callInputs(call); orig = dy && dy.shape; }
    else { const names = paramNames(call.f) ?? []; const i = names.indexOf(n); const [xs] = callInputs(call); if (i >= 0 && xs[i]) orig = xs[i].shape; else if (t.locals[n] && t.locals[n].shape) orig = t.locals[n].shape; }
    if (orig && JSON.stringify(orig) !== JSON.stringify(v.shape)) changed.push(`${n} [${orig}] as [${v.shape}]`);
  }
  return changed.length ? `shapes folded: ${[...new Set(changed)].join(", ")}` : null;
}

function emit() {
  const q = (s) => JSON.stringify(s);
  const tensor = (v) => `t([${v.shape.join(", ")}], ${arr(v.values)})`;
  const rec = (o, f) => `{ ${Object.entries(o).map(([k, v]) => `${/^[A-Za-z_]\w*$/.test(k) ? k : q(k)}: ${f(v)}`).join(", ")} }`;
  const lines = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const t = all[i];
    const head = `id: ${q(c.id)}, file: ${q(t.file)}, line: ${t.line}`;
    if (c.out) { lines.push(`  { ${head}, scope: "out", reason: ${q(c.out)}${c.note ? `, note: ${q(c.note)}` : ""} },`); continue; }
    const notes = [NOTES[`${t.file}:${t.line}`], shapeNote(t, c.checks)].filter(Boolean).join("; ");
    lines.push(`  {`, `    ${head},`, ...(notes ? [`    note: ${q(notes)},`] : []), `    scope: "in",`, `    checks: [`);
    for (const ch of c.checks) {
      lines.push(`      {`, `        equations: [${ch.equations.map(q).join(", ")}],`, `        loss: ${q(ch.loss)},`, `        params: ${rec(ch.params, tensor)},`, `        inputs: ${rec(ch.inputs, tensor)},`, `        expected: ${rec(ch.expected, arr)},`);
      if (ch.tolerance != null) lines.push(`        tolerance: ${num(ch.tolerance)},`);
      lines.push(`      },`);
    }
    lines.push(`    ],`, `  },`);
  }
  const reasons = Object.values(OUT);
  return `/**
 * Every gradient case of TensorFlow.js's op tests (tensorflow/tfjs, tfjs-core/src/ops/*_test.ts at
 * TFJS_SOURCE.commit; the files directly in ops/, not its subfolders): each \`it(...)\` whose body calls tf.grad,
 * tf.grads, tf.valueAndGrad or tf.valueAndGrads, one record per test. The inputs, dy and expected gradients are the
 * peer's values as its tests state them (inputs at the precision of their literals, float32 results of its own
 * reference computations where a test compares against one); the equations are bpgen's spelling of each op.
 *
 * In-scope cases have one or more checks (a test that differentiates several functions or at several points has
 * one check each; a test that calls tf.grad once per argument of one function is one check with all arguments as
 * parameters). The loss is y weighted by the test's dy (sum(dy .* y)), or summed when the test passes no dy.
 * Tensors of rank above 2 are folded to matrices where the op does not see the difference (elementwise ops,
 * per-channel ops, concatenation and gathers along a leading or trailing axis, reductions over leading or trailing
 * axes), and kept as they are elsewhere (convolutions, pooling, batched products, permutations). TF's options are
 * moved to bpgen's spelling (tools/tf-spelling.cjs): padding per spatial dimension, NCHW through transposes,
 * transposed matmul operands written out, space_to_batch_nd and batch_to_space_nd as pad, reshape, transpose and
 * a part.
 */
import type { GradientCheck, PeerTensor, Scoped } from "./types.ts";

export const TFJS_SOURCE = { repository: "tensorflow/tfjs", commit: "0fc04d958ea592f3b8db79a8b3b497b5c8904097", folder: "tfjs-core/src/ops" } as const;

/** Why a case is out of scope (the whole list). */
export const TFJS_OUT_OF_SCOPE = [${reasons.map(q).join(", ")}] as const;
export type TfjsOutOfScope = (typeof TFJS_OUT_OF_SCOPE)[number];

export type TfjsCase = Scoped<TfjsOutOfScope, { readonly checks: readonly GradientCheck[] }>;

function t(shape: readonly number[], values: readonly number[]): PeerTensor {
  return { shape, values };
}

export const TFJS_CASES: readonly TfjsCase[] = [
${lines.join("\n")}
];
`;
}
fs.writeFileSync(outFile, emit());
