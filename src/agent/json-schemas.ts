/**
 * JSON Schemas (draft 2020-12) of every DSIP message type, generated from the zod
 * schemas that the agent parses with. `npm run schemas` writes them to
 * docs/schemas/; a test fails when the files and the code disagree.
 */
import { z } from "zod";
import { MESSAGE_SCHEMAS, MESSAGE_TYPES, SignatureSchema } from "./messages.js";

export function messageJsonSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  const emit = (name: string, title: string, schema: z.ZodType) => {
    const json = { title, ...z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" }) };
    files.set(`${name}.schema.json`, `${JSON.stringify(json, null, 2)}\n`);
  };
  for (const type of MESSAGE_TYPES) emit(type, type, MESSAGE_SCHEMAS[type]);
  emit("sig", "DSIP envelope signature", SignatureSchema);
  return files;
}
