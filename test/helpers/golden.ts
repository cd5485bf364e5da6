/**
 * Golden files: committed expected outputs under test/golden/. To regenerate them after an intended change,
 * run the tests with UPDATE_GOLDEN=1 (e.g. `UPDATE_GOLDEN=1 npx vitest run test/graph.test.ts test/explain.test.ts`)
 * and review the diff before committing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./cli.ts";

const GOLDEN = join(ROOT, "test", "golden");

export function expectGolden(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
  }
  expect(existsSync(path), `${path} is missing: run with UPDATE_GOLDEN=1 to create it`).toBe(true);
  expect(actual).toBe(readFileSync(path, "utf8"));
}
