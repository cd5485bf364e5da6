/**
 * Takes the pictures of the gradient over the steps out of a `bpgen train` report, as standalone SVG files (the
 * README shows them): the curve of ‖∂L/∂h_t‖ over the steps, then each recurrent layer's epoch × step heat map.
 *
 *   npx tsx scripts/report-figures.ts runs/adding_rnn/report.html docs/adding_rnn
 *     → docs/adding_rnn-steps.svg, docs/adding_rnn-steps-h1.svg
 */
import { readFileSync, writeFileSync } from "node:fs";
import { CHART_STYLE } from "../src/train/report.ts";

const [report, prefix] = process.argv.slice(2);
if (!report || !prefix) {
  process.stderr.write("usage: npx tsx scripts/report-figures.ts <report.html> <output prefix>\n");
  process.exit(2);
}
const html = readFileSync(report, "utf8");
const start = html.indexOf('<h2 id="steps">');
if (start < 0) {
  process.stderr.write(`${report} has no gradient over the steps (a network without recurrent layers?)\n`);
  process.exit(2);
}
const end = html.indexOf("<h2", start + 1);
const section = html.slice(start, end < 0 ? undefined : end);
const svgs = section.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
// the curve first, then one heat map per layer, named by the layer ("‖∂L/∂h_t‖ of h1 per epoch …")
const names = svgs.map((svg, k) => (k === 0 ? "steps" : `steps-${/of (\S+) per epoch/.exec(svg.replace(/<[^>]+>/g, " "))?.[1] ?? k}`));
svgs.forEach((svg, k) => {
  // the page's style for the chart classes, and its white background; no tooltips (an image shows none)
  const styled = svg.replace(/><title>[^<]*<\/title><\/rect>/g, "/>").replace(/(<svg[^>]*>)/, `$1\n<style>text { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; } ${CHART_STYLE.replace(/\n/g, " ")}</style>\n<rect width="100%" height="100%" fill="#fff"/>`);
  const file = `${prefix}-${names[k]}.svg`;
  writeFileSync(file, `${styled}\n`);
  process.stdout.write(`wrote ${file}\n`);
});
