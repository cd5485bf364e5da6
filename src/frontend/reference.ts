/**
 * docs/functions.md, printed from the table of functions (functions.ts) so the documentation cannot drift from
 * what the compiler accepts: every function with its arguments, domain and derivative convention, and which of
 * them are layer activations. `npm run docs` writes it; a test checks the committed file is current.
 */
import { ACTIVATIONS, BUILTINS, CONSTANTS, type Builtin, type Group } from "./functions.ts";

const GROUP_TITLES: Readonly<Record<Group, string>> = {
  arithmetic: "Arithmetic",
  exponential: "Exponentials, logarithms and powers",
  trigonometric: "Trigonometric and hyperbolic functions",
  activation: "Activations",
  steps: "Steps, rounding and clamps",
  comparison: "Comparisons and selection",
  reduction: "Reductions along a dimension",
  structure: "Structure: building and rearranging tensors",
  windows: "Convolution and pooling (channels last)",
};

/** The sections in the order of GROUP_TITLES. */
const GROUP_ORDER = Object.keys(GROUP_TITLES) as Group[];

/** `leaky_relu(x, alpha)`; optional arguments in brackets, a repeated one with an ellipsis. */
function signature(name: string, b: Builtin): string {
  const params = b.params.map((p, i) => {
    const last = i === b.params.length - 1;
    const text = b.variadic && last ? `${p.name}…` : p.name;
    return p.default === undefined ? text : `[${text}]`;
  });
  return `${name}(${params.join(", ")})`;
}

function argumentsText(b: Builtin): string {
  return b.params.map((p) => `${p.name}: ${p.meaning}${p.default === undefined ? "" : ` (default ${p.default})`}`).join("; ");
}

/** Table cells may not hold a bare `|`. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

function groupSection(group: Group): string[] {
  const rows = [...BUILTINS].filter(([name, b]) => b.group === group && name !== "linear");
  if (rows.length === 0) return [];
  const lines = [`## ${GROUP_TITLES[group]}`, "", "| function | arguments | domain | derivative | activation |", "| --- | --- | --- | --- | :-: |"];
  for (const [name, b] of rows) {
    const activation = ACTIVATIONS.includes(name) ? "yes" : "";
    lines.push(`| \`${signature(name, b)}\` | ${cell(argumentsText(b))} | ${cell(b.domain)} | ${cell(b.derivative)} | ${activation} |`);
  }
  lines.push("");
  return lines;
}

/** The whole of docs/functions.md. */
export function functionReference(): string {
  const constants = [...CONSTANTS].map(([name, value]) => `\`${name}\` = ${value}`).join(", ");
  const lines = [
    "<!-- Printed from src/frontend/functions.ts by `npm run docs`; edit that table, not this file. -->",
    "",
    "# Functions",
    "",
    "Every function an equation (or a layer's `activation`) may call, with its arguments, where it is defined and",
    "what bpgen takes as its derivative. Names and argument orders follow mathjs's expression language; where",
    "mathjs would read a call differently from bpgen (for example `max(A, 2)`, which in mathjs is the maximum along",
    "dimension 2), the call is an error that names both readings rather than a silent guess.",
    "",
    "- Dimensions are one-based, as in mathjs: for a matrix, dimension 1 runs down the columns and 2 along the rows.",
    "- Elementwise functions apply to each element of a tensor; functions of two or three arguments broadcast them",
    "  as numpy does (a scalar or a vector spreads over a matrix).",
    "- At kinks, ties and bounds bpgen follows PyTorch and TF.js where they agree (relu′(0) = 0, a clamp passes the",
    "  gradient at both bounds), and TF.js where they differ (a tie of `maximum`/`minimum` goes to the first operand;",
    "  along a dimension, every element equal to the maximum gets the gradient).",
    "- Steps and rounding (`sign`, `floor`, `ceil`, `round`, comparisons) have derivative 0 everywhere they are",
    "  defined: a network trained through them does not learn from them.",
    `- Activations are the elementwise functions of one argument (further arguments take their defaults): ${ACTIVATIONS.map((a) => `\`${a}\``).join(", ")}.`,
    `- Constants: ${constants}.`,
    "",
    "## Operators",
    "",
    "| operator | meaning | derivative |",
    "| --- | --- | --- |",
    "| `a + b`, `a - b`, `-a` | sum and difference, broadcasting | 1 and −1 to each operand |",
    "| `A * B` | matrix product (scalar times tensor scales) | `δ Bᵀ` to A, `Aᵀ δ` to B |",
    "| `a / s` | division by a scalar | `δ / s`, and `−Σ δ a / s²` to s |",
    "| `a .* b`, `a ./ b`, `a .^ b` | product, quotient and power element by element | as for scalars, per element |",
    "| `x ^ y` | power of scalars (of a tensor: per element inside a `functions` body) | as `pow` |",
    "| `A'` | transpose | the cotangent transposed back |",
    "| `a < b`, `>`, `<=`, `>=`, `==`, `!=` | 1 where the comparison holds, else 0 | 0 |",
    "| `c ? a : b` | `a` where c ≠ 0, else `b`, per element | to the branch taken |",
    "| `x[i, j]`, `x[2:5]`, `x[end]`, `x[[1, 3]]` | indexing: one-based, inclusive ranges, `:` for a whole dimension, lists gather | the cotangent scattered back (repeats add up) |",
    "| `[1, 2; 3, 4]` | a matrix (rows separated by `;`) of numbers or expressions | to each entry |",
    "",
    ...GROUP_ORDER.flatMap(groupSection),
    "## Stable forms",
    "",
    "Written-out forms are recognised and computed stably: `1 / (1 + exp(-x))` and `exp(x) / (1 + exp(x))` are",
    "`sigmoid(x)`, `log(1 + exp(x))` is `softplus(x)`, `log(sum(exp(x)))` is `logsumexp(x)` (also along a",
    "dimension), `exp(x) / sum(exp(x))` is `softmax(x)`, and `log(sigmoid(z))`, `log(1 - sigmoid(z))` and",
    "`log(softmax(z))` take their log-space forms, so losses stay finite for logits of any size.",
    "",
  ];
  return lines.join("\n");
}
