import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// ARCHITECTURE §2: src/sip (dialogs and the application API included) is a leaf.
describe("src/sip layering", () => {
  it("imports nothing of the project outside src/sip", () => {
    const root = fileURLToPath(new URL("../../src/sip/", import.meta.url));
    const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((n) => n.endsWith(".ts"));
    expect(files.some((f) => f.startsWith("dialog"))).toBe(true);
    for (const name of files) {
      const file = join(root, name);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from\s+|import\()"([^"]+)"/g)) {
        const spec = m[1]!;
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(file), spec);
        expect(relative(root, target).startsWith(".."), `${name} imports ${spec}`).toBe(false);
        expect(spec.endsWith(".js"), `${name} imports ${spec}`).toBe(true);
      }
    }
  });
});
