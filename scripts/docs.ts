/** Writes docs/functions.md from the table of functions, and schema/net.schema.json's layer definitions from the layer registry: `npm run docs`. */
import { writeFileSync } from "node:fs";
import { functionReference } from "../src/frontend/reference.ts";
import { SCHEMA_URL, netSchemaText } from "../src/spec/net-schema.ts";

writeFileSync(new URL("../docs/functions.md", import.meta.url), functionReference());
writeFileSync(SCHEMA_URL, netSchemaText());
