import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// ARCHITECTURE §2: src/agent is a leaf; it imports nothing else of the project.
describe("src/agent layering", () => {
  it("imports only its own modules and packages", () => {
    const dir = new URL("../../src/agent/", import.meta.url);
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const text = readFileSync(new URL(name, dir), "utf8");
      const specifiers = [...text.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
      for (const spec of specifiers) {
        expect(spec.startsWith("../"), `${name} imports ${spec}`).toBe(false);
        if (spec.startsWith("./")) expect(spec.endsWith(".js"), `${name} imports ${spec}`).toBe(true);
      }
    }
  });
});
