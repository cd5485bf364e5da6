/**
 * A recurrence written in equations (docs/net-json.md#recurrences): an entry of `equations` such as
 *
 *   { "recurrence": { "over": { "x_t": "x" }, "carry": { "h": "zeros(16)" },
 *                     "equations": ["h = tanh(Wx * x_t + Wh * h + b)"],
 *                     "outputs": { "hs": "h" }, "final": { "hT": "h" } } }
 *
 * becomes one Graph.recurrence: each carried name a carry, each row name a step of its sequence, the step's
 * equations the cell. Within a step a carried name reads the previous step's value until the step assigns it,
 * and the new value after; every carried name is assigned exactly once. `outputs` are read at the end of a
 * step and collected over all steps ([T, …]); `final` is read after the last step, from the carried names.
 *
 * The block's own names (rows, carried names, the step's names) exist only inside it; it hands out the names
 * of `outputs` and `final`. Like the plain equations, every problem is reported at once: a failed step
 * equation is reported and what uses its name is skipped.
 */
import type { MathNode } from "mathjs";
import { BpgenError, type ErrorDetail } from "../errors.ts";
import type { Graph } from "../ir/graph.ts";
import { type Node, sameShape, shapeText } from "../ir/node.ts";
import type { PathSegment } from "../spec/paths.ts";
import { identifierProblem } from "../spec/semantic.ts";
import type { RecurrenceBlock } from "../spec/types.ts";
import { DependsOnFailed, type Scope, buildExpression, parseExpression, tokenIndex } from "./expressions.ts";
import type { DepthMeter } from "./limits.ts";
import type { Problems } from "./problems.ts";

/** What a recurrence block is built with: the graph, and the names defined above it. */
export interface OuterContext {
  readonly g: Graph;
  readonly problems: Problems;
  readonly meter: DepthMeter;
  /** The scope of an expression `text` of the names defined above the block. */
  scope(text: string): Scope;
  /** Where a name is declared or defined already ("params", "equations[2]"…), if it is. */
  origin(name: string): string | undefined;
}

/** A step equation `name = expression`, parsed (equations.ts parseEquation). */
export interface StepEquation {
  readonly text: string;
  readonly name?: string;
  readonly value?: MathNode;
  readonly error?: BpgenError;
}

/** Thrown out of the cell when a step failed, to leave Graph.recurrence without finishing it (the problems are recorded). */
class StepFailed extends Error {}

/** The names a block uses inside itself: its rows, carried names and the names its step defines. */
export function innerNames(block: RecurrenceBlock, parse: (text: string) => StepEquation): string[] {
  const steps = block.equations.map((text) => parse(text).name).filter((n): n is string => n !== undefined);
  return [...new Set([...Object.keys(block.over ?? {}), ...Object.keys(block.carry), ...steps])];
}

/** The names a block hands out: its outputs and finals. */
export const handedOutNames = (block: RecurrenceBlock): string[] => [...Object.keys(block.outputs ?? {}), ...Object.keys(block.final ?? {})];

/**
 * Builds the block at `at` (["equations", i, "recurrence"]): each name it hands out, with its value, or
 * undefined when it could not be built (the reason is recorded in `outer.problems`, or was already).
 */
export function buildRecurrence(outer: OuterContext, block: RecurrenceBlock, at: PathSegment[], parse: (text: string) => StepEquation): Map<string, Node | undefined> {
  const handed = new Map<string, Node | undefined>(handedOutNames(block).map((n) => [n, undefined]));
  const steps = block.equations.map(parse);
  const namesOk = checkNames(outer, block, steps, at);
  const sequences = buildSequences(outer, block, at);
  const init = buildInitialValues(outer, block, at);
  if (!namesOk || !sequences || !init) return handed;

  let run: ReturnType<Graph["recurrence"]>;
  try {
    run = runCell(outer, block, steps, at, init, sequences);
  } catch (e) {
    if (e instanceof StepFailed) return handed;
    throw e;
  }
  Object.keys(block.outputs ?? {}).forEach((name, k) => handed.set(name, outer.g.name(run.stacks[k], name)));
  const finals = new Map(Object.keys(block.carry).map((name, k) => [name, run.finals[k]]));
  for (const [name, text] of Object.entries(block.final ?? {})) {
    handed.set(name, outer.problems.attempt([...at, "final", name], text, () => outer.g.name(buildFinal(outer, block, steps, finals, text), name)));
  }
  return handed;
}

/**
 * The block as one Graph.recurrence: every carried name a carry (whether the step reads its previous value or not),
 * every output a stack (whether it changes from step to step or not). Throws StepFailed after reporting.
 */
function runCell(outer: OuterContext, block: RecurrenceBlock, steps: readonly StepEquation[], at: PathSegment[], init: ReadonlyMap<string, Node>, sequences: Sequences) {
  const carried = Object.keys(block.carry);
  const cell = new Cell(outer, block, steps, at, init);
  return outer.g.recurrence({
    length: sequences.length,
    reverse: block.reverse ?? false,
    init: carried.map((n) => init.get(n) as Node),
    names: carried,
    cell: ({ carries, step }) => cell.build(carries, new Map([...sequences.values].map(([row, seq]) => [row, step(seq)]))),
  });
}

/** Every name the block introduces is an identifier, new, and introduced once; reports each that is not. */
function checkNames(outer: OuterContext, block: RecurrenceBlock, steps: readonly StepEquation[], at: PathSegment[]): boolean {
  const seen = new Map<string, string>();
  let ok = true;
  const introduce = (name: string, segments: PathSegment[], text?: string) => {
    const problem = identifierProblem(name, "a recurrence");
    const first = outer.origin(name) ?? seen.get(name);
    const where = first === undefined ? undefined : first.startsWith("equations") || first.startsWith("recurrence") ? `by ${first}` : `in ${first}`;
    const error = problem
      ? new BpgenError({ ...problem, found: name })
      : where === undefined
        ? undefined
        : new BpgenError({ message: `"${name}" is already defined (${where})`, expected: "a new name for each row, carried name, step name, output and final value", found: name, index: tokenIndex(text, name, false) });
    if (error) {
      outer.problems.add(segments, text, error);
      ok = false;
    }
    if (!seen.has(name)) seen.set(name, `recurrence.${String(segments[segments.length - 2])}`);
  };
  for (const name of Object.keys(block.over ?? {})) introduce(name, [...at, "over", name]);
  for (const name of Object.keys(block.carry)) introduce(name, [...at, "carry", name]);
  steps.forEach((eq, j) => {
    // a carried name is assigned, not introduced; a step name assigned twice is reported where it is built
    if (eq.name !== undefined && !Object.hasOwn(block.carry, eq.name) && !steps.slice(0, j).some((e) => e.name === eq.name)) {
      introduce(eq.name, [...at, "equations", j], eq.text);
    }
  });
  for (const field of ["outputs", "final"] as const) for (const name of Object.keys(block[field] ?? {})) introduce(name, [...at, field, name]);
  return ok;
}

interface Sequences {
  readonly length: number;
  /** Each row name and the sequence whose rows it reads. */
  readonly values: Map<string, Node>;
}

/** The sequences of `over` and the number of steps; undefined (reported) when one fails or their lengths differ. */
function buildSequences(outer: OuterContext, block: RecurrenceBlock, at: PathSegment[]): Sequences | undefined {
  const values = new Map<string, Node>();
  let ok = true;
  let length = block.steps;
  /** Where the number of steps came from, for the error of a sequence that disagrees. */
  let lengthFrom = block.steps === undefined ? undefined : `"steps": ${block.steps}`;
  for (const [row, text] of Object.entries(block.over ?? {})) {
    const value = outer.problems.attempt([...at, "over", row], text, () => {
      const seq = buildExpression(outer.g, parseExpression(text), outer.scope(text));
      if (seq.shape.length === 0) {
        throw new BpgenError({ message: `"${row}" reads one row per step, but ${text.trim()} is a scalar`, expected: "a sequence of shape [T, ...], one row per step", found: "shape []" });
      }
      const rows = seq.shape[0];
      if (length !== undefined && rows !== length) {
        throw new BpgenError({
          message: `${text.trim()} has ${rows} rows, but the recurrence runs ${length} steps (${lengthFrom})`,
          expected: `a sequence of ${length} rows, [${length}, ...]`,
          found: `shape ${shapeText(seq.shape)}`,
        });
      }
      length ??= rows;
      lengthFrom ??= `the rows of ${text.trim()}, read as "${row}"`;
      return seq;
    });
    if (value === undefined) ok = false;
    else values.set(row, value);
  }
  if (length === undefined && ok) {
    outer.problems.add([...at], undefined, new BpgenError({ message: "a recurrence without sequences needs its number of steps", expected: '"over": { "x_t": "x" } (x of shape [T, ...]) or "steps": T', found: "neither" }));
    return undefined;
  }
  return ok && length !== undefined ? { length, values } : undefined;
}

/** The initial value of each carried name, built from the names above the block; undefined when one fails. */
function buildInitialValues(outer: OuterContext, block: RecurrenceBlock, at: PathSegment[]): Map<string, Node> | undefined {
  const init = new Map<string, Node>();
  let ok = true;
  for (const [name, text] of Object.entries(block.carry)) {
    const value = outer.problems.attempt([...at, "carry", name], text, () => {
      const v = buildExpression(outer.g, parseExpression(text), outer.scope(text));
      outer.meter.check(v, `the initial value of "${name}"`);
      return v;
    });
    if (value === undefined) ok = false;
    else init.set(name, value);
  }
  return ok ? init : undefined;
}

/** One step of the block: its equations in order, then its outputs. */
class Cell {
  constructor(
    private readonly outer: OuterContext,
    private readonly block: RecurrenceBlock,
    private readonly steps: readonly StepEquation[],
    private readonly at: PathSegment[],
    private readonly init: ReadonlyMap<string, Node>,
  ) {}

  /** The carried names, in the block's order (that of the carries). */
  private get carried(): string[] {
    return Object.keys(this.block.carry);
  }

  /** The carried names' next values and the outputs, from the carries and the rows; throws StepFailed after reporting. */
  build(carries: readonly Node[], rows: ReadonlyMap<string, Node>): { next: Node[]; outputs: Node[] } {
    const { outer, at } = this;
    const values = new Map<string, Node>([...rows, ...this.carried.map((name, k): [string, Node] => [name, carries[k]])]);
    const next = new Map<string, Node>();
    /** Step names whose equation failed: what reads them is skipped. */
    const failed = new Set<string>();
    let ok = true;
    this.steps.forEach((eq, j) => {
      const value = outer.problems.attempt([...at, "equations", j], eq.text, () => {
        if (eq.error) throw eq.error;
        const name = eq.name as string;
        this.checkAssignment(name, j, next);
        const v = buildExpression(outer.g, eq.value as MathNode, this.scope(eq.text, eq.text.indexOf("=") + 1, values, failed, j));
        outer.meter.check(v, `the step equation defining "${name}"`);
        const start = this.init.get(name);
        if (start && !sameShape(start.shape, v.shape)) {
          throw new BpgenError({
            message: `carried "${name}" starts as ${shapeText(start.shape)} (its value in carry) but this step assigns it ${shapeText(v.shape)}`,
            expected: `a next value of shape ${shapeText(start.shape)}, the shape of the initial value`,
            found: `shape ${shapeText(v.shape)}`,
            index: tokenIndex(eq.text, name, false),
          });
        }
        return outer.g.name(v, start ? `${name}_next` : name);
      });
      if (eq.name === undefined || (values.has(eq.name) && !this.carried.includes(eq.name))) {
        ok &&= value !== undefined;
        return;
      }
      if (value === undefined) {
        ok = false;
        failed.add(eq.name);
        return;
      }
      values.set(eq.name, value);
      if (this.carried.includes(eq.name) && !next.has(eq.name)) next.set(eq.name, value);
    });
    for (const name of this.carried) {
      if (next.has(name) || failed.has(name)) continue;
      ok = false;
      outer.problems.add([...at, "carry", name], undefined, neverAssigned(name));
    }
    // an output the same at every step is that value repeated T times
    const outputs = Object.entries(this.block.outputs ?? {}).map(([name, text]) =>
      outer.problems.attempt([...at, "outputs", name], text, () => buildExpression(outer.g, parseExpression(text), this.scope(text, 0, values, failed, this.steps.length))),
    );
    if (!ok || outputs.some((o) => o === undefined)) throw new StepFailed();
    return { next: this.carried.map((name) => next.get(name) as Node), outputs: outputs as Node[] };
  }

  /** A name on the left of a step equation: a carried name assigned once, or a step name defined once. */
  private checkAssignment(name: string, j: number, next: ReadonlyMap<string, Node>): void {
    const index = tokenIndex(this.steps[j].text, name, false);
    if (this.carried.includes(name)) {
      if (next.has(name)) throw new BpgenError({ message: `carried "${name}" is assigned twice in the step`, expected: "one assignment of each carried name per step (use a new name for an intermediate value)", found: name, index });
      return;
    }
    const first = this.steps.findIndex((e) => e.name === name);
    if (first !== j) {
      throw new BpgenError({ message: `"${name}" is already defined (by equations[${first}] of this step)`, expected: "a new name on the left of each step equation, or a carried name", found: name, index });
    }
  }

  /** The scope of a step's expression: the step's names so far, then the names above the block. */
  private scope(text: string, from: number, values: ReadonlyMap<string, Node>, failed: ReadonlySet<string>, current: number): Scope {
    const above = this.outer.scope(text);
    return {
      ...above,
      from,
      lookup: (n) => {
        if (failed.has(n)) throw new DependsOnFailed(n);
        return values.get(n) ?? above.lookup(n);
      },
      names: () => [...values.keys(), ...above.names()],
      explainUnknown: (n) => this.laterInStep(n, current) ?? above.explainUnknown?.(n),
    };
  }

  /** The error for a step name read before the step equation that defines it. */
  private laterInStep(name: string, current: number): ErrorDetail | undefined {
    const at = this.steps.findIndex((e) => e.name === name);
    if (at < 0) return undefined;
    if (at === current) {
      return { message: `"${name}" is used in its own definition`, expected: "an expression of the rows, the carried names and the step names defined above this step equation", found: `${name} on both sides` };
    }
    return { message: `"${name}" is used before it is defined in the step`, expected: `step names defined above (move equations[${at}] of the step above this one)`, found: `"${name}" is defined later, by equations[${at}] of the step` };
  }
}

/** A final value: an expression of the carried names after the last step and of the names above the block. */
function buildFinal(outer: OuterContext, block: RecurrenceBlock, steps: readonly StepEquation[], finals: ReadonlyMap<string, Node>, text: string): Node {
  const above = outer.scope(text);
  const stepNames = new Set([...Object.keys(block.over ?? {}), ...steps.map((e) => e.name)]);
  return buildExpression(outer.g, parseExpression(text), {
    ...above,
    lookup: (n) => finals.get(n) ?? above.lookup(n),
    names: () => [...finals.keys(), ...above.names()],
    explainUnknown: (n) =>
      stepNames.has(n)
        ? {
            message: `final reads "${n}", a value of one step`,
            expected: "an expression of the carried names (their values after the last step); carry a value to hand out its last one, or collect every step's in outputs",
            found: n,
          }
        : above.explainUnknown?.(n),
  });
}

function neverAssigned(name: string): BpgenError {
  return new BpgenError({
    message: `carried "${name}" is never assigned in the step`,
    expected: `an equation "${name} = ..." among the recurrence's equations, giving its value for the next step`,
    found: `no step equation assigns "${name}"`,
  });
}
