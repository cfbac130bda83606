import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The softphone is a DSIP client: it may use src/agent, the pure tone tooling of
// src/media (μ-law, Goertzel) and packages; never the SIP stack, the B2BUA, the
// media engines or the config.
describe("src/softphone layering", () => {
  it("imports only itself, src/agent, src/media/tone.ts and packages (werift only through its public entry points)", () => {
    const dir = new URL("../../src/softphone/", import.meta.url);
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
      const text = readFileSync(new URL(name, dir), "utf8");
      for (const [, spec] of text.matchAll(/from\s+"([^"]+)"/g)) {
        if (spec!.startsWith("."))
          expect(
            /^\.\/[^/]+\.js$|^\.\.\/agent\/[^/]+\.js$|^\.\.\/media\/tone\.js$/.test(spec!),
            `${name} imports ${spec}`,
          ).toBe(true);
        if (spec!.startsWith("werift")) expect(["werift", "werift/nonstandard"], name).toContain(spec);
      }
    }
  });
});
