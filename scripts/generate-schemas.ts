// Writes docs/schemas/*.schema.json from the zod schemas in src/agent/messages.ts.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { messageJsonSchemas } from "../src/agent/json-schemas.js";

const dir = join(import.meta.dirname, "..", "docs", "schemas");
mkdirSync(dir, { recursive: true });
const files = messageJsonSchemas();
for (const name of readdirSync(dir)) {
  if (name.endsWith(".schema.json") && !files.has(name)) rmSync(join(dir, name));
}
for (const [name, text] of files) writeFileSync(join(dir, name), text);
process.stdout.write(`wrote ${files.size} schemas to docs/schemas/\n`);
