/**
 * The documentation in the repo stays true: docs/functions.md is the one printed from the table of functions,
 * every relative link in the README and docs/ points at a file that exists, and the JSON schema knows every
 * activation.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, BUILTINS } from "../src/frontend/functions.ts";
import { functionReference } from "../src/frontend/reference.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("docs", () => {
  it("docs/functions.md is current (regenerate with npm run docs)", () => {
    expect(read("docs/functions.md")).toBe(functionReference());
  });

  it("lists every function of equations", () => {
    const reference = functionReference();
    for (const name of BUILTINS.keys()) if (name !== "linear") expect(reference, name).toContain(`\`${name}(`);
  });

  it("links only to files that exist", () => {
    const pages = ["README.md", ...readdirSync(new URL("docs/", root)).map((f) => `docs/${f}`)].filter((p) => p.endsWith(".md"));
    const broken: string[] = [];
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(new URL(target, new URL(page, root)))) broken.push(`${page} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("the README and the net.json reference point to the function list", () => {
    expect(read("README.md")).toContain("docs/functions.md");
    expect(read("docs/net-json.md")).toContain("functions.md");
  });
});

describe("schema/net.schema.json", () => {
  it("lists exactly the compiler's activations (editors complete them from it)", () => {
    const text = read("schema/net.schema.json");
    const listed = [...text.matchAll(/"enum": (\["linear",[^\]]*\])/g)].map((m) => JSON.parse(m[1] as string) as string[]);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toEqual([...ACTIVATIONS]);
  });
});
