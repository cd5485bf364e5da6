/**
 * bpgen's spelling of the TF.js ops that gen-tfjs-cases.cjs first writes under TF's own names and arguments
 * (`max_pool(x, 2, 1, 0)`, `matmul(a, b, false, true)`, `conv2d(x, f, 1, 0, "NCHW")`): the function bpgen
 * defines for the same math, with TF's options moved to bpgen's (padding per spatial dimension, dilation
 * after padding, transposes written out), and the ops bpgen has no single function for (space_to_batch_nd,
 * batch_to_space_nd) spelled out as pad, reshape, transpose and a part.
 *
 *   respell(equation, shapes) → equations
 * `shapes` maps the names of the case's tensors to their shapes.
 */
"use strict";

/** Splits "a, [1, 2], "s"" at the commas outside brackets and quotes. */
function splitArgs(text) {
  const out = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quote = !quote;
    else if (!quote && (c === "[" || c === "(")) depth++;
    else if (!quote && (c === "]" || c === ")")) depth--;
    else if (!quote && depth === 0 && c === ",") {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** `y = name(args)` → { lhs, name, args }, or undefined for any other equation. */
function parseCall(equation) {
  const m = /^(\w+) = (\w+)\((.*)\)$/.exec(equation);
  return m ? { lhs: m[1], name: m[2], args: splitArgs(m[3]) } : undefined;
}

const json = (v) => JSON.stringify(v).replace(/,/g, ", ");
const list = (xs) => `[${xs.join(", ")}]`;

/** TF's explicit padding of every dimension of an NHWC tensor → bpgen's of the spatial ones. */
function spatialPadding(arg, spatial) {
  if (!arg.startsWith("[[")) return arg;
  const all = JSON.parse(arg);
  return json(all.slice(1, 1 + spatial));
}

/** The permutation that swaps the last two of `rank` dimensions (one-based). */
const swapLast = (rank) => list([...Array.from({ length: rank - 2 }, (_, d) => d + 1), rank, rank - 1]);

const RESPELL = {
  avg_pool: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = avg_pool2d(${x}, ${f}, ${s}, ${spatialPadding(p, 2)})`],
  max_pool: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = max_pool2d(${x}, ${f}, ${s}, ${spatialPadding(p, 2)})`],
  avg_pool3d: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = avg_pool3d(${x}, ${f}, ${s}, ${spatialPadding(p, 3)})`],
  max_pool3d: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = max_pool3d(${x}, ${f}, ${s}, ${spatialPadding(p, 3)})`],
  // tf.pool(x, window, type, pad, dilations = 1, strides = 1)
  pool: ({ lhs, args: [x, window, type, p, dilation = "1", stride = "1"] }) => [`${lhs} = ${JSON.parse(type)}_pool2d(${x}, ${window}, ${stride}, ${spatialPadding(p, 2)}, ${dilation})`],
  // tf.conv1d(x, f, stride, pad, "NWC", dilation = 1)
  conv1d: ({ lhs, args: [x, f, s, p, , dilation = "1"] }) => [`${lhs} = conv1d(${x}, ${f}, ${s}, ${spatialPadding(p, 1)}, ${dilation})`],
  // tf.conv2d(x, f, strides, pad, format = "NHWC"): NCHW read through transposes
  conv2d: ({ lhs, args: [x, f, s, p, format] }) =>
    format === '"NCHW"'
      ? [`${lhs} = transpose(conv2d(transpose(${x}, [1, 3, 4, 2]), ${f}, ${s}, ${spatialPadding(p, 2)}), [1, 4, 2, 3])`]
      : [`${lhs} = conv2d(${x}, ${f}, ${s}, ${spatialPadding(p, 2)})`],
  conv2d_transpose: ({ lhs, args: [x, f, out, s, p] }) => [`${lhs} = conv2d_transpose(${x}, ${f}, ${out}, ${s}, ${spatialPadding(p, 2)})`],
  depthwise_conv2d: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = depthwise_conv2d(${x}, ${f}, ${s}, ${spatialPadding(p, 2)})`],
  dilation2d: ({ lhs, args: [x, f, s, p] }) => [`${lhs} = dilation2d(${x}, ${f}, ${s}, ${spatialPadding(p, 2)})`],
  // tf.matMul(a, b, transposeA, transposeB)
  matmul: ({ lhs, args: [a, b, ta, tb] }, shapes) => {
    const side = (name, t) => (t === "true" ? `transpose(${name}, ${swapLast(shapes[name].length)})` : name);
    return [`${lhs} = matmul(${side(a, ta)}, ${side(b, tb)})`];
  },
  // the blocks of the padded spatial dimensions moved into the batch
  space_to_batch_nd: ({ lhs, args: [x, blockText, padsText] }, shapes) => {
    const shape = shapes[x];
    const block = JSON.parse(blockText);
    const pads = JSON.parse(padsText);
    const m = block.length;
    const rest = shape.slice(1 + m);
    const padded = shape.slice(1, 1 + m).map((s, k) => s + pads[k][0] + pads[k][1]);
    const split = [shape[0], ...padded.flatMap((p, k) => [p / block[k], block[k]]), ...rest];
    const perm = [...block.map((_, k) => 2 * k + 3), 1, ...block.map((_, k) => 2 * k + 2), ...rest.map((_, k) => 2 * m + 2 + k)];
    const out = [shape[0] * block.reduce((a, b) => a * b, 1), ...padded.map((p, k) => p / block[k]), ...rest];
    return [
      `p = pad(${x}, ${json([[0, 0], ...pads, ...rest.map(() => [0, 0])])})`,
      `${lhs} = reshape(transpose(reshape(p, ${list(split)}), ${list(perm)}), ${list(out)})`,
    ];
  },
  // the batch's blocks moved back into the spatial dimensions, then cropped
  batch_to_space_nd: ({ lhs, args: [x, blockText, cropsText] }, shapes) => {
    const shape = shapes[x];
    const block = JSON.parse(blockText);
    const crops = JSON.parse(cropsText);
    const m = block.length;
    const blocks = block.reduce((a, b) => a * b, 1);
    const spatial = shape.slice(1, 1 + m);
    const rest = shape.slice(1 + m);
    const split = [...block, shape[0] / blocks, ...spatial, ...rest];
    const perm = [m + 1, ...spatial.flatMap((_, k) => [m + 2 + k, k + 1]), ...rest.map((_, k) => 2 * m + 2 + k)];
    const joined = [shape[0] / blocks, ...spatial.map((s, k) => s * block[k]), ...rest];
    const parts = [":", ...joined.slice(1, 1 + m).map((size, k) => `${crops[k][0] + 1}:${size - crops[k][1]}`), ...rest.map(() => ":")];
    return [`u = reshape(transpose(reshape(${x}, ${list(split)}), ${list(perm)}), ${list(joined)})`, `${lhs} = u[${parts.join(", ")}]`];
  },
};

/** bpgen's equations for a TF-spelled one; any other equation as it is. */
function respell(equation, shapes) {
  const call = parseCall(equation);
  const rule = call && RESPELL[call.name];
  return rule ? rule(call, shapes) : [equation];
}

module.exports = { respell };
