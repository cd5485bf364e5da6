/** Writes docs/functions.md from the table of functions: `npm run docs`. */
import { writeFileSync } from "node:fs";
import { functionReference } from "../src/frontend/reference.ts";

writeFileSync(new URL("../docs/functions.md", import.meta.url), functionReference());
