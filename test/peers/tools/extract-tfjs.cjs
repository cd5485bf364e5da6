/**
 * Records what TensorFlow.js's op gradient tests compute, for gen-tfjs-cases.cjs: runs every it(...) of
 * tfjs-core/src/ops/*_test.ts that calls tf.grad/grads/valueAndGrad(s) with the real tfjs (CPU backend; the
 * devDependency) and records the tensors passed to the gradient functions, their results, a central-difference
 * check of those results, the expected values each expectArraysClose states, and the test's named locals.
 *
 *   node test/peers/tools/extract-tfjs.cjs <folder holding the *_test.ts files of tfjs-core/src/ops> <out.json>
 *
 * The tests run in this process with stand-ins for jasmine and tfjs's test utilities; nothing of them is kept
 * but the recorded values.
 */
const ts = require("typescript");
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");
tf.setBackend("cpu");
const [dir, outFile] = process.argv.slice(2);
if (!dir || !outFile) throw new Error("usage: extract-tfjs.cjs <ops test folder> <out.json>");

/** Every it(...) of the test files in `dir`, with its describe path, line, and whether it calls a gradient function. */
function listIts(dir) {
  const out = [];
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith("_test.ts")).sort()) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true);
    const visit = (node, describes) => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression.getText(sf);
        const a0 = node.arguments[0];
        const name = a0 && (ts.isStringLiteral(a0) || ts.isNoSubstitutionTemplateLiteral(a0)) ? a0.text : a0 ? a0.getText(sf) : "";
        if (callee === "describeWithFlags" || callee === "describe") {
          node.arguments.forEach((a) => ts.forEachChild(a, (c) => visit(c, [...describes, name])));
          return;
        }
        if (callee === "it" || callee === "fit" || callee === "xit") {
          const body = node.getText(sf);
          const grad = /tf\.(grad|grads|valueAndGrad|valueAndGrads|variableGrads|customGrad)\b|\.gradient\(|gradients?\(/.test(body);
          const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          out.push({ file: f, describe: describes.join(" > "), it: name, line, grad });
          return;
        }
      }
      ts.forEachChild(node, (c) => visit(c, describes));
    };
    visit(sf, []);
  }
  return out;
}

const allIts = listIts(dir);
{ const seen = {}; for (const o of allIts) { const k = o.file + "|" + o.describe + "|" + o.it; o.occ = seen[k] = (seen[k] ?? -1) + 1; } }
const its = allIts.filter((o) => o.grad);
const wanted = new Set(its.map((o) => `${o.file}:${o.line}`));

function tensorRec(t) {
  if (t instanceof tf.Tensor) {
    let values;
    try { values = Array.from(t.dataSync()); } catch (e) { values = "disposed"; }
    return { shape: t.shape, dtype: t.dtype, values: t.dtype === "string" ? values.map(String) : values };
  }
  if (typeof t === "number") return { shape: [], dtype: "number", values: [t] };
  if (Array.isArray(t)) return t.map(tensorRec);
  return t === undefined ? null : { other: typeof t };
}
function plain(v) {
  if (v instanceof tf.Tensor) return tensorRec(v);
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && v.constructor === Object) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return undefined;
}

let cur = null; // current test record
function numericGrad(kind, f, args) {
  const single = kind === "grad" || kind === "valueAndGrad";
  const xs0 = (single ? [args[0]] : args[0]).map((x) => (x instanceof tf.Tensor ? x : tf.tensor(x)));
  const dy = args[1];
  const lossAt = (xs) => tf.tidy(() => { const y = single ? f(xs[0]) : f(...xs); const w = dy ? dy : tf.onesLike(y); return tf.sum(tf.mul(tf.cast(y, "float32"), w)).dataSync()[0]; });
  return xs0.map((x, i) => {
    if (x.dtype !== "float32" && x.dtype !== "int32") return null;
    const base = Array.from(x.dataSync());
    if (base.length > 300) return null;
    return base.map((v, j) => {
      const h = 1e-2 * Math.max(1, Math.abs(v));
      const at = (d) => { const vals = base.slice(); vals[j] = v + d; const xs = xs0.slice(); xs[i] = tf.tensor(vals, x.shape, "float32"); const r = lossAt(xs); xs[i].dispose(); return r; };
      return (at(h) - at(-h)) / (2 * h);
    });
  });
}
let describeLocals = [];
const shim = Object.create(tf);
const wrapGradFn = (kind, f, g) => (...args) => {
  const call = { kind, f: f.toString(), args: args.map(tensorRec) };
  const r = g(...args);
  if (kind === "grad") call.out = [tensorRec(r)];
  else if (kind === "grads") call.out = r.map(tensorRec);
  else if (kind === "valueAndGrad") call.out = [tensorRec(r.grad)], call.value = tensorRec(r.value);
  else if (kind === "valueAndGrads") call.out = r.grads.map(tensorRec), call.value = tensorRec(r.value);
  try { call.numeric = numericGrad(kind, f, args); } catch (e) { call.numericError = String(e.message).slice(0, 100); }
  if (cur) cur.calls.push(call);
  return r;
};
for (const kind of ["grad", "grads", "valueAndGrad", "valueAndGrads"]) {
  Object.defineProperty(shim, kind, { value: (f) => wrapGradFn(kind, f, tf[kind](f)) });
}
const flat = (x) => (x instanceof Float32Array || x instanceof Int32Array || x instanceof Uint8Array || x instanceof Float64Array) ? Array.from(x) : Array.isArray(x) ? x.flat(Infinity) : [x];
const testUtil = {
  expectArraysClose: (actual, expected, eps) => { if (cur) cur.expects.push({ kind: "close", actual: flat(actual), expected: flat(expected), eps: eps ?? null, typed: expected instanceof Float32Array }); },
  expectArraysEqual: (actual, expected) => { if (cur) cur.expects.push({ kind: "equal", actual: flat(actual), expected: flat(expected), eps: 0 }); },
  expectNumbersClose: (a, e, eps) => { if (cur) cur.expects.push({ kind: "number", actual: [a], expected: [e], eps: eps ?? null }); },
  expectValuesInRange: () => {}, expectPromiseToFail: () => {}, expectArrayBuffersEqual: () => {}, encodeStrings: (a) => a, createVideoElement: () => {}, play: () => {},
  testEpsilon: () => 1e-3,
};
const anyExpect = (v) => new Proxy(function () {}, { get: (_, p) => p === "not" ? anyExpect(v) : (...a) => { if ((p === "toThrowError" || p === "toThrow") && typeof v === "function") { try { v(); if (cur) cur.throws = false; } catch (e) { if (cur) cur.throws = String(e.message).slice(0, 200); } } } });
const jasmineUtil = {
  ALL_ENVS: {}, NODE_ENVS: {}, BROWSER_ENVS: {}, CHROME_ENVS: {}, HAS_WORKER: {}, HAS_NODE_WORKER: {}, SYNC_BACKEND_ENVS: {}, WEBGL_ENVS: {}, PACKED_ENVS: {},
  describeWithFlags: (name, _c, fn) => describe(name, fn),
};
const tests = [];
const stack = [];
let befores = [];
function describe(name, fn) { stack.push(name); const saved = describeLocals; const sb = befores; befores = [...befores]; describeLocals = [...describeLocals]; fn(); describeLocals = saved; befores = sb; stack.pop(); }
function it(name, fn) { tests.push({ describe: [...stack], name, fn, dlocals: describeLocals, befores }); }
function beforeEach(fn) { befores.push(fn); }
let currentFile = "";
const modules = {
  "../index": shim, "../test_util": testUtil, "../jasmine_util": jasmineUtil,
  "./selu_util": { SELU_SCALEALPHA: 1.7580993408473768599402175208123, SELU_SCALE: 1.0507009873554804934193349852946 },
  "./reduce_util": { PARALLELIZE_THRESHOLD: 30, computeOptimalWindowSize: (n) => n <= 30 ? n : Math.ceil(Math.sqrt(n)) },
  "../util": tf.util, "../tensor": { Tensor: tf.Tensor }, "../types": {}, "./identity_pool_test": { identityPoolTest: () => {} },
};
function req(m) { if (m in modules) return modules[m]; return new Proxy({}, { get: () => () => { throw new Error("stub " + m); } }); }

function instrument(sf) {
  // after each variable statement inside any block: __rec({names})
  const factory = ts.factory;
  const names = (b) => ts.isIdentifier(b) ? [b.text] : ts.isArrayBindingPattern(b) || ts.isObjectBindingPattern(b) ? b.elements.flatMap((e) => ts.isOmittedExpression(e) ? [] : names(e.name)) : [];
  const transformer = (ctx) => (root) => {
    const visit = (node) => {
      node = ts.visitEachChild(node, visit, ctx);
      if (ts.isBlock(node) || ts.isSourceFile(node)) {
        if (ts.isSourceFile(node)) return node;
        const out = [];
        for (const s of node.statements) {
          out.push(s);
          if (ts.isVariableStatement(s)) {
            const ns = s.declarationList.declarations.flatMap((d) => names(d.name));
            if (ns.length) out.push(factory.createExpressionStatement(factory.createCallExpression(factory.createIdentifier("__rec"), undefined, [factory.createObjectLiteralExpression(ns.map((n) => factory.createShorthandPropertyAssignment(n)))])));
          }
        }
        return factory.updateBlock(node, out);
      }
      return node;
    };
    return ts.visitNode(root, visit);
  };
  return ts.transform(sf, [transformer]).transformed[0];
}

function __rec(obj) {
  const target = cur ? cur.locals : null;
  for (const [k, v] of Object.entries(obj)) {
    const p = plain(v);
    if (p === undefined) continue;
    if (target) target[k] = p; else describeLocals.push([k, p]);
  }
}

(async () => {
  const out = [];
  const files = [...new Set(its.map((o) => o.file))];
  for (const f of files) {
    currentFile = f;
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    const inst = instrument(sf);
    const printed = ts.createPrinter().printFile(inst);
    const js = ts.transpileModule(printed, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    tests.length = 0;
    // line numbers: map test names from its.json
    try {
      new Function("require", "exports", "describe", "it", "fit", "xit", "expect", "__rec", "beforeEach", "afterEach", "beforeAll", "afterAll", "jasmine", "fail", "spyOn", "pending", "xdescribe", "fdescribe", js)(
        req, {}, describe, it, it, it, anyExpect, __rec, beforeEach, () => {}, () => {}, () => {}, { DEFAULT_TIMEOUT_INTERVAL: 0, any: () => ({}), objectContaining: () => ({}) }, () => {}, () => {}, () => {}, () => {}, describe);
    } catch (e) { console.error("load", f, e.message); }
    const mine = its.filter((o) => o.file === f);
    for (const o of mine) {
      const t = tests.filter((t) => t.name === o.it && t.describe.join(" > ") === o.describe)[o.occ];
      if (!t) { out.push({ file: f, line: o.line, describe: o.describe, it: o.it, error: "not found" }); continue; }
      t.used = true;
      cur = { file: f, line: o.line, describe: o.describe, it: o.it, calls: [], expects: [], locals: Object.fromEntries(t.dlocals) };
      try { for (const b of t.befores) await b(); await t.fn(); } catch (e) { cur.error = String(e && e.message).slice(0, 300); }
      out.push(cur);
      cur = null;
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(out, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? `__${v}` : v)));
  const errs = out.filter((o) => o.error);
  console.log("tests", out.length, "errors", errs.length);
  for (const e of errs) console.log("  ", e.file, e.line, e.it, "::", e.error);
})();
