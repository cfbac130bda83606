import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("dsip-gateway start", () => {
  it("prints what the gateway offers so far", () => {
    const out = execFileSync("npx", ["tsx", "src/cli.ts", "start"], { encoding: "utf8" });
    expect(out).toContain("dsip-gateway");
    expect(out).toContain("sip parse");
  });
});
