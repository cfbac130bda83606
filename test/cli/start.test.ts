import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliProcess, freePort, runCli } from "./cli-process.js";

describe("dsip-gateway start", () => {
  it("says what is listening and serves health, its DID document and /dsip", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dsip-start-"));
    const port = await freePort();
    const gw = new CliProcess(["start", "--http", `127.0.0.1:${port}`, "--data-dir", join(dir, "data")]);
    try {
      await gw.waitForLine((l) => l.startsWith("listening on"));
      const out = gw.lines.join("\n");
      expect(out).toContain("dsip-gateway");
      expect(out).toContain(`listening on http://127.0.0.1:${port}`);
      expect(out).toContain("/dsip");
      expect(out).toContain("sip parse");
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      expect(health).toMatchObject({ status: "ok", did: `did:web:localhost%3A${port}` });
      const doc = (await (await fetch(`http://127.0.0.1:${port}/.well-known/did.json`)).json()) as {
        id: string;
        service: { serviceEndpoint: { ws: string[] } }[];
      };
      expect(doc.id).toBe(`did:web:localhost%3A${port}`);
      expect(doc.service[0].serviceEndpoint.ws).toEqual([`ws://127.0.0.1:${port}/dsip`]);
      expect(statSync(join(dir, "data", "gateway-key.json")).mode & 0o777).toBe(0o600);
    } finally {
      await gw.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 on a bad --http value", async () => {
    expect((await runCli(["start", "--http", "nonsense"])).code).toBe(2);
  });
});
