/**
 * What a case's net needs from bpgen: the functions it calls (told apart by form where bpgen's support differs,
 * e.g. `max(a, b)` per element vs `max(A, d)` along a dimension), and syntax or shapes beyond scalar arithmetic
 * (indexing, comparisons, broadcasting, tensors of rank above 2). Read from the equations with mathjs's parser.
 */
import { parse, type MathNode } from "mathjs";

type Shape = readonly number[] | null;

const ARITHMETIC = new Set(["add", "subtract", "multiply", "divide", "pow", "dotMultiply", "dotDivide", "dotPow", "unaryMinus", "unaryPlus", "ctranspose"]);
const ELEMENTWISE_BINARY = new Set(["add", "subtract", "dotMultiply", "dotDivide", "dotPow"]);
const COMPARISONS = new Set(["larger", "smaller", "largerEq", "smallerEq", "equal", "unequal"]);
const REDUCTIONS = new Set(["sum", "mean", "prod", "cumsum", "max", "min"]);
const TWO_FORMS = new Set(["log", "leaky_relu", "elu", "nthRoot"]);

function broadcast(a: Shape, b: Shape, note: () => void): Shape {
  if (a === null || b === null) return null;
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (a.length === b.length && a.every((d, i) => d === b[i])) return a;
  note();
  const n = Math.max(a.length, b.length);
  const pa = [...Array(n - a.length).fill(1), ...a];
  const pb = [...Array(n - b.length).fill(1), ...b];
  return pa.map((d, i) => Math.max(d, pb[i]));
}

/**
 * The features of one net: `shapes` gives the parameters' and inputs' shapes, `userFunctions` the names of
 * net.json `functions`.
 */
export function featuresOf(
  expressions: readonly string[],
  shapes: Readonly<Record<string, readonly number[]>>,
  userFunctions: readonly string[] = [],
): Set<string> {
  const found = new Set<string>();
  const known = new Map<string, Shape>(Object.entries(shapes));
  if (Object.values(shapes).some((s) => s.length > 2)) found.add("tensors of rank > 2");
  if (userFunctions.length > 0) found.add("user functions");

  const visit = (node: MathNode, inIndex: boolean): Shape => {
    switch (node.type) {
      case "ConstantNode":
        return [];
      case "SymbolNode": {
        const name = (node as unknown as { name: string }).name;
        if (name === "pi") found.add("pi");
        return known.has(name) ? known.get(name)! : name === "pi" ? [] : null;
      }
      case "ParenthesisNode":
        return visit((node as unknown as { content: MathNode }).content, inIndex);
      case "ArrayNode": {
        const items = (node as unknown as { items: MathNode[] }).items;
        items.forEach((i) => visit(i, inIndex));
        if (!inIndex) found.add("constant arrays");
        return null;
      }
      case "AccessorNode": {
        const acc = node as unknown as { object: MathNode; index: { dimensions: MathNode[] } };
        visit(acc.object, inIndex);
        acc.index.dimensions.forEach((d) => visit(d, true));
        found.add("indexing/slicing");
        return null;
      }
      case "RangeNode": {
        const r = node as unknown as { start: MathNode; end: MathNode; step: MathNode | null };
        visit(r.start, true);
        visit(r.end, true);
        if (r.step) visit(r.step, true);
        return null;
      }
      case "ConditionalNode": {
        const c = node as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
        found.add("? :");
        visit(c.condition, inIndex);
        return broadcast(visit(c.trueExpr, inIndex), visit(c.falseExpr, inIndex), () => found.add("broadcasting"));
      }
      case "AssignmentNode": {
        const a = node as unknown as { object: { name: string }; value: MathNode };
        const shape = visit(a.value, inIndex);
        known.set(a.object.name, shape);
        return shape;
      }
      case "OperatorNode": {
        const op = node as unknown as { fn: string; args: MathNode[] };
        const shapes = op.args.map((a) => visit(a, inIndex));
        if (COMPARISONS.has(op.fn)) found.add("comparisons");
        else if (!ARITHMETIC.has(op.fn)) found.add(`operator ${op.fn}`);
        if (shapes.length === 1) return op.fn === "ctranspose" ? (shapes[0] && shapes[0].length === 2 ? [shapes[0][1], shapes[0][0]] : shapes[0]) : shapes[0];
        const [a, b] = shapes;
        const elementwise =
          ELEMENTWISE_BINARY.has(op.fn) ||
          COMPARISONS.has(op.fn) ||
          ((op.fn === "multiply" || op.fn === "divide" || op.fn === "pow") && (a?.length === 0 || b?.length === 0));
        if (elementwise) return broadcast(a, b, () => found.add("broadcasting"));
        return null;
      }
      case "FunctionNode": {
        const fnNode = node as unknown as { fn: { name: string }; args: MathNode[] };
        const name = fnNode.fn.name;
        const args = fnNode.args;
        const shapes = args.map((a) => visit(a, inIndex));
        if (userFunctions.includes(name)) return shapes[0] ?? null;
        if (REDUCTIONS.has(name)) {
          const dimension = args.length === 2 && args[1].type === "ConstantNode";
          if ((name === "max" || name === "min") && args.length === 2 && !dimension) {
            found.add(shapes.every((s) => s !== null && s.length === 0) ? `${name}(a, b)` : `${name}(a, b) of tensors`);
            return broadcast(shapes[0], shapes[1], () => found.add("broadcasting"));
          }
          found.add(args.length === 1 ? `${name}(A)` : `${name}(A, d)`);
          return null;
        }
        if (TWO_FORMS.has(name))
          found.add(args.length === 1 ? `${name}(x)` : name === "log" ? "log(x, b)" : name === "nthRoot" ? "nthRoot(x, n)" : `${name}(x, α)`);
        else if (name === "softmax" || name === "log_softmax")
          found.add(name === "softmax" ? (shapes[0]?.length === 2 ? "softmax (matrix rows)" : "softmax (vector)") : "log_softmax");
        else if (name === "transpose") found.add(args.length === 1 ? "transpose(A)" : "transpose(A, axes)");
        else found.add(name);
        if (name === "ones" || name === "zeros")
          return args.every((a) => a.type === "ConstantNode") ? args.map((a) => Number((a as unknown as { value: unknown }).value)) : null;
        if (["maximum", "minimum", "atan2", "mod", "prelu", "pow"].includes(name)) return broadcast(shapes[0], shapes[1], () => found.add("broadcasting"));
        if (name === "where")
          return broadcast(
            broadcast(shapes[0], shapes[1], () => found.add("broadcasting")),
            shapes[2],
            () => found.add("broadcasting"),
          );
        return args.length === 1 || ["leaky_relu", "elu", "clip", "clamp", "log"].includes(name) ? shapes[0] : null;
      }
      default:
        found.add(`syntax ${node.type}`);
        return null;
    }
  };
  for (const e of expressions) visit(parse(e), false);
  return found;
}
