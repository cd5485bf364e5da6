/**
 * Prints math trees (math.ts) as LaTeX (for KaTeX and Markdown) or as plain Unicode text (the generated
 * code's comments and the derivation's text). One precedence table decides every parenthesis: sums < negation < products < powers <
 * atoms; a chain of one product is written without parentheses, two different products are kept apart.
 */
import type { MathExpr as Expr } from "./math.ts";
import type { Node } from "./node.ts";

export type Flavour = "latex" | "plain";

export interface Printer {
  print(e: Expr): string;
}

const SUM = 1;
const NEG = 2;
const PRODUCT = 3;
const POWER = 4;
const ATOM = 5;

type Printed = { text: string; prec: number; kind?: Expr["k"]; scripted?: boolean };

const LATEX_RELATION: Readonly<Record<string, string>> = { "≤": "\\le", "≥": "\\ge", "≠": "\\ne" };

const PRODUCT_SYMBOL = {
  latex: { scale: " \\cdot ", had: " \\odot ", mm: "\\, ", outer: " \\otimes " },
  plain: { scale: " · ", had: " ⊙ ", mm: " · ", outer: " ⊗ " },
};

/** `symbol(node)` names a symbol in the chosen flavour. */
export function printer(flavour: Flavour, symbol: (n: Node) => string): Printer {
  const latex = flavour === "latex";
  const wrap = (inner: string) => (latex && /\\frac|\\sum|\\begin/.test(inner) ? `\\left(${inner}\\right)` : `(${inner})`);
  const paren = (p: Printed, min: number) => (p.prec >= min ? p.text : wrap(p.text));
  const call = (name: string, args: readonly Printed[]) => `${name}${wrap(args.map((a) => a.text).join(", "))}`;
  /** A base for a superscript: an atom without a superscript of its own. */
  const base = (p: Printed) => (p.prec >= ATOM && !(latex && p.scripted) ? p.text : paren({ ...p, prec: 0 }, ATOM));

  const go = (e: Expr): Printed => {
    switch (e.k) {
      case "sym": {
        const text = symbol(e.node);
        return { text, prec: ATOM, scripted: text.includes("^") };
      }
      case "num":
        return { text: numberText(e.value, latex), prec: e.value < 0 ? NEG : ATOM };
      case "raw":
        return { text: latex ? e.latex : e.plain, prec: ATOM, scripted: latex && e.latex.includes("^") };
      case "neg":
        return { text: `-${paren(go(e.a), PRODUCT)}`, prec: NEG };
      case "add":
      case "sub": {
        const [a, b] = [go(e.a), go(e.b)];
        // a − (b + c), a − (−b) and a + (−b) keep their parentheses
        const right = b.prec === NEG || (e.k === "sub" && b.prec === SUM) ? paren({ ...b, prec: 0 }, ATOM) : paren(b, SUM);
        return { text: `${paren(a, SUM)} ${e.k === "add" ? "+" : "-"} ${right}`, prec: SUM };
      }
      case "scale":
      case "had":
      case "mm":
        return product(e.k, go(e.a), go(e.b));
      case "outer":
        return latex ? product("mm", go(e.a), go({ k: "T", a: e.b })) : product("outer", go(e.a), go(e.b));
      case "div": {
        const [a, b] = [go(e.a), go(e.b)];
        if (latex) return { text: `\\frac{${a.text}}{${b.text}}`, prec: ATOM };
        return { text: `${paren(a, PRODUCT)} / ${paren(b, POWER)}`, prec: PRODUCT, kind: "div" };
      }
      case "pow": {
        const [a, b] = [go(e.a), go(e.b)];
        return { text: latex ? `${base(a)}^{${b.text}}` : `${base(a)}^${paren(b, ATOM)}`, prec: POWER, scripted: true };
      }
      case "T":
        return { text: `${base(go(e.a))}${latex ? "^{\\top}" : "ᵀ"}`, prec: POWER, scripted: true };
      case "fn":
        return fn(e, e.args.map(go));
      case "cmp":
        return { text: `${go(e.a).text} ${latex ? (LATEX_RELATION[e.op] ?? e.op) : e.op} ${go(e.b).text}`, prec: 0 };
      case "ind":
        return { text: `${latex ? "\\mathbf{1}" : "1"}[${go(e.cond).text}]`, prec: ATOM };
      case "sel": {
        const [c, a, b] = [go(e.cond), go(e.a), go(e.b)];
        if (latex) return { text: `\\begin{cases} ${a.text} & \\text{if } ${c.text} \\\\ ${b.text} & \\text{otherwise} \\end{cases}`, prec: ATOM };
        return { text: `(${c.text} ? ${a.text} : ${b.text})`, prec: ATOM };
      }
      case "index":
        return { text: `${base(go(e.a))}[${e.parts}]`, prec: ATOM };
      case "sum":
        return { text: latex ? `\\sum ${paren({ ...go(e.a), prec: 0 }, ATOM)}` : `Σ(${go(e.a).text})`, prec: latex ? PRODUCT : ATOM };
      case "mean":
        return { text: latex ? `\\operatorname{mean}_{\\text{batch}} ${paren({ ...go(e.a), prec: 0 }, ATOM)}` : `mean_batch(${go(e.a).text})`, prec: latex ? PRODUCT : ATOM };
      case "bcast":
        return { text: `${paren(go(e.a), POWER)}${latex ? "\\,\\mathbf{1}" : "·𝟙"}`, prec: PRODUCT };
    }
  };

  /** A chain of one product needs no parentheses inside; a different product (or anything looser) does. */
  const product = (kind: "scale" | "had" | "mm" | "outer", a: Printed, b: Printed): Printed => {
    const side = (p: Printed, right: boolean) =>
      p.prec > PRODUCT || (p.prec === PRODUCT && p.kind === kind && !(right && kind === "outer")) ? p.text : paren({ ...p, prec: 0 }, ATOM);
    return { text: `${side(a, false)}${PRODUCT_SYMBOL[flavour][kind]}${side(b, true)}`, prec: PRODUCT, kind };
  };

  const fn = (e: Extract<Expr, { k: "fn" }>, args: readonly Printed[]): Printed => {
    if (e.form === "root") return { text: latex ? `\\sqrt{${args[0].text}}` : `√${wrap(args[0].text)}`, prec: ATOM };
    if (e.form === "list") return { text: `[${args.map((a) => a.text).join(", ")}]`, prec: ATOM };
    if (e.form === "bars") return { text: latex ? `\\left\\lvert ${args[0].text} \\right\\rvert` : `|${args[0].text}|`, prec: ATOM };
    return { text: call(latex ? e.latex : e.plain, args), prec: ATOM };
  };

  return { print: (e) => go(e).text };
}

/** 0.5, 3, 5 × 10⁻⁵: short decimals as they are, very small or large magnitudes in scientific form. */
export function numberText(v: number, latex: boolean): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) {
    const [mantissa, exponent] = v.toExponential().split("e");
    const exp = Number(exponent);
    return latex ? `${mantissa} \\times 10^{${exp}}` : `${mantissa}e${exp}`;
  }
  return String(v);
}
