/**
 * Writes the data of the adding problem (Hochreiter & Schmidhuber's long-range test of recurrent nets) as a CSV
 * for `bpgen train`: each row is a sequence of T steps of two channels, a value uniform in [0, 1] and a marker that
 * is 1 at two steps (one in the first half, one in the second) and 0 elsewhere; the target is the sum of the two
 * marked values. Predicting 1 whatever the row gives mse ½·Var = 1/12 ≈ 0.083; a net must carry the first marked
 * value across half the sequence or more to do better.
 *
 *   npx tsx scripts/adding-problem.ts [steps = 50] [rows = 3000] [seed = 1] > adding.csv
 *
 * The columns are v0, m0, v1, m1, …, y: a row's inputs are the [steps, 2] input of examples/adding_*.json, row-major.
 */
const [steps = 50, rows = 3000, seed = 1] = process.argv.slice(2).map(Number);
if (![steps, rows, seed].every(Number.isInteger) || steps < 2 || rows < 1) {
  process.stderr.write("usage: npx tsx scripts/adding-problem.ts [steps ≥ 2] [rows ≥ 1] [seed]\n");
  process.exit(2);
}

/** mulberry32: a small seeded generator, so the same arguments always write the same file. */
function generator(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = generator(seed);
const half = Math.floor(steps / 2);
const header = [...Array.from({ length: steps }, (_, t) => `v${t},m${t}`), "y"].join(",");
const lines = [header];
for (let r = 0; r < rows; r++) {
  const values = Array.from({ length: steps }, () => Math.round(random() * 1000) / 1000);
  const marked = [Math.floor(random() * half), half + Math.floor(random() * (steps - half))];
  const cells = values.map((v, t) => `${v},${marked.includes(t) ? 1 : 0}`);
  const sum = values[marked[0]] + values[marked[1]];
  lines.push(`${cells.join(",")},${Math.round(sum * 1000) / 1000}`);
}
process.stdout.write(`${lines.join("\n")}\n`);
