/**
 * `kill -9` of the gateway process with calls completing: every CDR the
 * gateway reported durable ("cdr written", logged only after the SQLite and
 * JSON-lines flush) is in SQLite afterwards. The same approach as the CDR
 * writer's own kill test (test/b2bua/cdr.test.ts), through the real CLI.
 * Also: SIGTERM drains (new calls get 503, /readyz is 503) and exits 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CliProcess, freePort } from "../cli/cli-process.js";
import { scenario, sqliteRecords } from "../support/gateway.js";
import { requirePeer, runSipp } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");

// Ports of this file only.
const GW = 26160;
const UAC = 26161;
const UAS = 26162;

const dir = mkdtempSync(join(tmpdir(), "dsip-gw-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, sipPort: number, uasPort: number): { file: string; sqlite: string } {
  const sqlite = join(dir, `${name}.sqlite`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `sip:
  listen: ["udp:127.0.0.1:${sipPort}"]
cdr:
  sqlite: "${sqlite}"
  jsonl: "${join(dir, `${name}.jsonl`)}"
logging:
  level: debug
trunks:
  - name: pbx
    address: "127.0.0.1:${UAC}"
    inbound:
      acl: ["127.0.0.1/32"]
  - name: carrier
    address: "127.0.0.1:${uasPort}"
routes:
  - match: ".*"
    to: "trunk:carrier"
`,
  );
  return { file, sqlite };
}

/** Ids of the CDRs the gateway logged as durable (pino JSON on stderr). */
function durableIds(stderr: string): string[] {
  const ids: string[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.includes('"cdr written"')) continue;
    try {
      ids.push((JSON.parse(line) as { cdrId: string }).cdrId);
    } catch {
      // a line cut by the kill
    }
  }
  return ids;
}

describe.skipIf(!hasSipp)("gateway process", () => {
  it("loses no durable CDR when killed with SIGKILL mid-traffic", async () => {
    const { file, sqlite } = config("kill", GW, UAS);
    const http = await freePort();
    const gw = new CliProcess(
      ["start", "--config", file, "--http", `127.0.0.1:${http}`, "--data-dir", join(dir, "data")],
      {},
    );
    try {
      await gw.waitForLine((l) => l.startsWith("SIP listening on"));
      expect(gw.lines.join("\n")).toContain(`SIP listening on udp:127.0.0.1:${GW}`);
      const callee = runSipp({ scenario: "uas", localPort: UAS, calls: 1000, timeoutMs: 10_000 });
      const caller = runSipp({
        scenario: "uac",
        remote: `127.0.0.1:${GW}`,
        localPort: UAC,
        calls: 1000,
        rate: 100,
        timeoutMs: 10_000,
        extra: ["-s", "12015550123"],
      });
      await waitFor(() => durableIds(gw.stderr).length >= 50, 20_000, "50 durable CDRs");
      await gw.stop("SIGKILL");
      expect(gw.child.signalCode).toBe("SIGKILL");
      const acknowledged = durableIds(gw.stderr);
      const stored = new Set(sqliteRecords(sqlite).map((r) => r.id));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.length);
      // The peers see the gateway vanish; they only need to stop.
      await Promise.all([caller, callee]);
    } finally {
      await gw.stop("SIGKILL");
    }
  }, 90_000);

  it("drains on SIGTERM: new calls get 503, /readyz turns 503, the process exits 0", async () => {
    const { file, sqlite } = config("term", GW + 3, UAS + 3);
    const http = await freePort();
    const gw = new CliProcess(
      [
        "start",
        "--config",
        file,
        "--http",
        `127.0.0.1:${http}`,
        "--data-dir",
        join(dir, "data2"),
        "--drain-timeout",
        "3",
      ],
      {},
    );
    try {
      await gw.waitForLine((l) => l.startsWith("SIP listening on"));
      const callee = runSipp({ scenario: "uas", localPort: UAS + 3, calls: 1, timeoutMs: 20_000 });
      // One long call (10 s) that the drain timeout (3 s) cuts short with BYEs.
      const caller = runSipp({
        scenario: "uac",
        remote: `127.0.0.1:${GW + 3}`,
        localPort: UAC + 3,
        calls: 1,
        timeoutMs: 20_000,
        extra: ["-s", "12015550123", "-d", "10000"],
      });
      await waitFor(() => gw.stderr.includes('"call connected"'), 10_000, "the call to connect");
      const exited = new Promise<number | null>((r) => gw.child.once("exit", (code) => r(code)));
      gw.child.kill("SIGTERM");
      await waitFor(() => gw.stderr.includes('"draining"'), 5000, "draining");
      expect((await fetch(`http://127.0.0.1:${http}/readyz`)).status).toBe(503);
      const refused = await runSipp({
        scenario: scenario("uac-expect-503.xml"),
        remote: `127.0.0.1:${GW + 3}`,
        localPort: UAC + 5, // 26166: UAS + 3 is 26165
        calls: 1,
        timeoutMs: 5000,
        extra: ["-s", "12015550123"],
      });
      expect({ ok: refused.stats.successful, errors: refused.errors }).toEqual({ ok: 1, errors: "" });
      expect(await exited).toBe(0);
      await Promise.all([caller, callee]);
      const records = sqliteRecords(sqlite);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: 200, hangupBy: "gateway", reason: "shutdown" });
    } finally {
      await gw.stop("SIGKILL");
    }
  }, 60_000);
});
