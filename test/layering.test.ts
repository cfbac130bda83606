import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// ARCHITECTURE §2 for the layers this branch touches (src/agent has its own test).
const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Project folders (under src/) each file of `layer` imports, split into value and type-only imports. */
function imports(layer: string): Array<{ file: string; target: string; typeOnly: boolean }> {
  return files(join(SRC, layer)).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(/^(import|export)(\s+type)?[^;]*?from\s+"(\.[^"]+)"/gms)].map((m) => {
      const target = relative(SRC, resolve(file, "..", m[3]!)).split("/")[0]!;
      return { file: relative(SRC, file), target, typeOnly: m[2] !== undefined };
    });
  });
}

describe("layering", () => {
  it("src/sip imports nothing of the project outside src/sip", () => {
    for (const i of imports("sip")) expect(i.target, i.file).toBe("sip");
  });

  it("src/media imports nothing of the project outside src/media", () => {
    const all = imports("media");
    expect(all.length).toBeGreaterThan(0);
    for (const i of all) expect(i.target, i.file).toBe("media");
  });

  it("src/config imports nothing of the project but types", () => {
    for (const i of imports("config"))
      if (i.target !== "config") expect(i.typeOnly, `${i.file} → ${i.target}`).toBe(true);
  });

  it("src/b2bua imports the layers below it (sip, agent, mapping, media, config), never ops, cli or softphone", () => {
    expect(imports("b2bua").map((i) => i.target)).toEqual(
      expect.arrayContaining(["sip", "config", "agent", "media"]),
    );
    for (const i of imports("b2bua"))
      expect(["b2bua", "sip", "config", "mapping", "agent", "media"], `${i.file} → ${i.target}`).toContain(
        i.target,
      );
  });

  it("src/mapping imports only types of sip, agent and config, and nothing of b2bua, ops, cli or media", () => {
    const found = imports("mapping");
    expect(found.length).toBeGreaterThan(0);
    for (const i of found) {
      const where = `${i.file} → ${i.target}`;
      expect(["b2bua", "ops", "cli.ts", "cli", "media"], where).not.toContain(i.target);
      if (i.target !== "mapping") {
        expect(["sip", "agent", "config"], where).toContain(i.target);
        expect(i.typeOnly, where).toBe(true);
      }
    }
    // Only pure dependencies: no sockets, files, clocks or logs.
    for (const file of files(join(SRC, "mapping"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/from\s+"([^".][^"]*)"/g))
        expect(["libphonenumber-js/max"], relative(SRC, file)).toContain(m[1]);
      expect(text, relative(SRC, file)).not.toMatch(/Date\.now|new Date\(|console\./);
    }
  });

  it("src/sip/digest.ts uses only src/sip and node:crypto", () => {
    const text = readFileSync(join(SRC, "sip/digest.ts"), "utf8");
    const specs = [...text.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
    for (const s of specs) expect(s === "node:crypto" || s.startsWith("./"), s).toBe(true);
  });
});
