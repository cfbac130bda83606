import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_SPECS } from "../../src/agent/errors.js";
import { messageJsonSchemas } from "../../src/agent/json-schemas.js";
import { MESSAGE_TYPES } from "../../src/agent/messages.js";

const schemasDir = new URL("../../docs/schemas/", import.meta.url);
const wireDoc = readFileSync(new URL("../../docs/dsip-wire.md", import.meta.url), "utf8");

describe("docs stay in step with the code", () => {
  it("docs/schemas holds exactly what `npm run schemas` generates", () => {
    const generated = messageJsonSchemas();
    const onDisk = readdirSync(schemasDir).filter((n) => n.endsWith(".schema.json"));
    expect(onDisk.sort()).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) {
      expect(readFileSync(new URL(name, schemasDir), "utf8"), `${name} is stale: run npm run schemas`).toBe(
        text,
      );
    }
  });

  it("docs/dsip-wire.md documents every message type and every error code", () => {
    for (const type of MESSAGE_TYPES) expect(wireDoc, type).toContain(`\`${type}\``);
    for (const spec of Object.values(ERROR_SPECS)) {
      expect(wireDoc, spec.reason).toMatch(new RegExp(`\\| ${spec.code} \\| \`${spec.reason}\` \\|`));
    }
  });
});
