import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliProcess, freePort, runCli } from "./cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "dsip-check-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const BAD = `
http: { listen: "8080" }
trunks:
  - name: a
    address: "127.0.0.1:99999"
routes:
  - match: ".*"
    to: "trunk:b"
`;

describe("dsip-gateway check-config", () => {
  it("exits 0 with a one-line summary for a valid file", async () => {
    const r = await runCli(["check-config", "--config", "config/example.yaml"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(
      /config\/example\.yaml: valid; SIP udp:127\.0\.0\.1:5060 .*; 2 trunks; 3 routes/,
    );
  });

  it("exits 1 listing every error", async () => {
    const r = await runCli(["check-config", "--config", file("bad.yaml", BAD)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("3 error(s)");
    expect(r.stderr).toContain('http.listen: expected "host:port"');
    expect(r.stderr).toContain("trunks[0].address: expected");
    expect(r.stderr).toContain('routes[0].to: unknown trunk "b"');
  });

  it("exits 2 on usage errors", async () => {
    expect((await runCli(["check-config"])).code).toBe(2);
    expect((await runCli(["check-config", "--config", join(dir, "none.yaml")])).code).toBe(2);
  });
});

describe("dsip-gateway start --config", () => {
  it("refuses an invalid file with its errors", async () => {
    const r = await runCli(["start", "--config", file("bad-start.yaml", BAD), "--data-dir", join(dir, "d0")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('routes[0].to: unknown trunk "b"');
  });

  it("listens on the file's http.listen", async () => {
    const port = await freePort();
    const cfg = file("ok.yaml", `http:\n  listen: "127.0.0.1:${port}"\n`);
    const gw = new CliProcess(["start", "--config", cfg, "--data-dir", join(dir, "d1")]);
    try {
      await gw.waitForLine((l) => l.startsWith("listening on"));
      expect(gw.lines.join("\n")).toContain(`listening on http://127.0.0.1:${port}`);
      expect(gw.lines.join("\n")).toContain(`config: ${cfg}`);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
        "dsip_gateway_active_calls",
      );
    } finally {
      await gw.stop();
    }
  });
});
