/**
 * `npm run demo`: the gateway between two SIPp peers on loopback. SIPp `uac`
 * places a few calls through the gateway to SIPp `uas`; then the demo prints
 * the call records and a ladder of the first call, drawn from the gateway's
 * own message log (both legs, as the gateway sent and received them).
 *
 * Ports (override with DEMO_PORT_BASE): base = gateway, base+1 = caller,
 * base+2 = callee.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Gateway } from "../../src/b2bua/gateway.js";
import { formatLadder, type TracedMessage, traceStack } from "../../src/b2bua/message-trace.js";
import { loadConfig } from "../../src/config/index.js";
import { hasCommand, runSipp } from "../../test/support/sipp.js";

const CALLS = Number(process.env.DEMO_CALLS ?? 5);
const BASE = Number(process.env.DEMO_PORT_BASE ?? 27060);
const GW = BASE;
const CALLER = BASE + 1;
const CALLEE = BASE + 2;

async function main(): Promise<void> {
  if (!hasCommand("sipp")) {
    process.stderr.write("demo: SIPp is not installed (Debian: apt-get install sip-tester)\n");
    process.exitCode = 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "dsip-demo-"));
  const file = join(dir, "demo.yaml");
  writeFileSync(
    file,
    `sip:
  listen: ["udp:127.0.0.1:${GW}"]
cdr:
  sqlite: "${join(dir, "cdr.sqlite")}"
  jsonl: "${join(dir, "cdr.jsonl")}"
logging:
  level: warn
trunks:
  - name: pbx
    address: "127.0.0.1:${CALLER}"
    inbound:
      acl: ["127.0.0.1/32"]
  - name: carrier
    address: "127.0.0.1:${CALLEE}"
routes:
  - match: ".*"
    to: "trunk:carrier"
`,
  );
  const config = loadConfig(file, { env: {} });
  const gateway = new Gateway(config, { logger: pino({ level: "warn" }, pino.destination(2)) });
  await gateway.start();
  const log: TracedMessage[] = [];
  const stopTrace = traceStack(gateway.stack, (m) => log.push(m));
  process.stdout.write(
    `gateway on ${gateway.listeners().join(", ")}: SIPp uac :${CALLER} → gateway → SIPp uas :${CALLEE}, ${CALLS} calls\n\n`,
  );
  try {
    const callee = runSipp({ scenario: "uas", localPort: CALLEE, calls: CALLS, timeoutMs: 30_000 });
    const caller = await runSipp({
      scenario: "uac",
      remote: `127.0.0.1:${GW}`,
      localPort: CALLER,
      calls: CALLS,
      rate: 5,
      timeoutMs: 30_000,
      extra: ["-s", "12015550123", "-d", "200"],
    });
    const uas = await callee;
    process.stdout.write(
      `caller: ${caller.stats.successful} successful, ${caller.stats.failed} failed; callee: ${uas.stats.successful} successful\n`,
    );
    // Let the last BYE's transaction settle, then take the records.
    for (let i = 0; i < 50 && gateway.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
    gateway.cdr?.flush();
    const records = gateway.cdr?.readSqlite() ?? [];
    process.stdout.write(`\ncall records (${records.length}):\n`);
    for (const r of records)
      process.stdout.write(
        `  ${r.start}  ${r.status} ${r.reason.padEnd(5)} ${String(r.durationMs).padStart(5)} ms  hangup by ${r.hangupBy}  ${r.legs
          .map((l) => `${l.role}:${l.trunk}`)
          .join(" → ")}\n`,
      );
    const first = records[0];
    if (first) {
      process.stdout.write(
        `\nladder of the first call (A-leg ${first.legs[0]!.callId}), from the gateway's message log:\n\n`,
      );
      process.stdout.write(
        `${formatLadder(
          log,
          { a: first.legs[0]!.callId, b: first.legs.slice(1).map((l) => l.callId) },
          { a: `A caller :${CALLER}`, gateway: `gateway :${GW}`, b: `B callee :${CALLEE}` },
        )}\n`,
      );
    }
  } finally {
    stopTrace();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
