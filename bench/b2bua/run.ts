/**
 * B2BUA benchmark: SIPp `uac` → gateway (in process, with CDRs to SQLite and
 * JSON lines) → SIPp `uas`, stepping the call rate; then SIPp `uac` → Kamailio
 * answering statelessly (config/kamailio/bench.cfg) through the same steps, in
 * the same run, and the ratio of the highest clean rates. The harness is
 * bench/lib/stepping.ts (shared with bench/transactions).
 *
 *   npm run bench:b2bua
 *   BENCH_RATES=100,200 BENCH_SECONDS=5 npm run bench:b2bua
 *   BENCH_CDR=off npm run bench:b2bua      # without CDR writes, to see their cost
 *
 * Kamailio stateless is a ceiling (SIPp and the machine), not a like-for-like
 * competitor: the gateway runs two dialogs, four transactions per call and
 * a durable CDR.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Gateway } from "../../src/b2bua/gateway.js";
import { loadConfig } from "../../src/config/index.js";
import { hasCommand } from "../../test/support/sipp.js";
import { printSideBySide, type Step, stepKamailioStateless, stepRates } from "../lib/stepping.js";

const RATES = (process.env.BENCH_RATES ?? "100,200,400,600,800,1000,1500").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const GW_PORT = 26360;
const SIPP_UAC = 26361;
const SIPP_UAS = 26362;
const KAMAILIO_PORT = 26370;
const NUMBER = "12015550123";
/** BENCH_CDR=off measures the gateway without its durable CDR writes (two fsyncs per batch). */
const CDR = process.env.BENCH_CDR !== "off";

/** A SIPp uas for the whole run (stopped by us, not by a call count). */
function startSippUas(port: number): ChildProcess {
  return spawn(
    "sipp",
    ["-sn", "uas", "-i", "127.0.0.1", "-p", String(port), "-nostdin", "-fd", "3600", "-max_socket", "60000"],
    { stdio: "ignore" },
  );
}

async function benchGateway(): Promise<Step[]> {
  const dir = mkdtempSync(join(tmpdir(), "dsip-bench-b2bua-"));
  const file = join(dir, "bench.yaml");
  writeFileSync(
    file,
    `sip:
  listen: ["udp:127.0.0.1:${GW_PORT}"]
cdr:
  sqlite: ${CDR ? `"${join(dir, "cdr.sqlite")}"` : "null"}
  jsonl: ${CDR ? `"${join(dir, "cdr.jsonl")}"` : "null"}
logging:
  level: warn
trunks:
  - name: pbx
    address: "127.0.0.1:${SIPP_UAC}"
    inbound:
      acl: ["127.0.0.1/32"]
  - name: carrier
    address: "127.0.0.1:${SIPP_UAS}"
routes:
  - match: ".*"
    to: "trunk:carrier"
`,
  );
  const gateway = new Gateway(loadConfig(file, { env: {} }), {
    logger: pino({ level: "warn" }, pino.destination(2)),
  });
  await gateway.start();
  const uas = startSippUas(SIPP_UAS);
  await new Promise((r) => setTimeout(r, 500));
  try {
    return await stepRates("gateway", GW_PORT, {
      rates: RATES,
      seconds: SECONDS,
      sippPort: SIPP_UAC,
      extra: ["-s", NUMBER],
      onStep: () => {
        const c = gateway.counts();
        const m = process.memoryUsage();
        return `(calls ${c.calls}, dialogs ${c.dialogs.total}, transactions ${c.transactions.total}, heap ${(m.heapUsed / 1e6).toFixed(0)} MB, rss ${(m.rss / 1e6).toFixed(0)} MB)`;
      },
    });
  } finally {
    uas.kill("SIGTERM");
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!hasCommand("sipp")) throw new Error("sipp (Debian sip-tester) is required");
  const started = Date.now();
  const ours = await benchGateway();
  const kam = await stepKamailioStateless(KAMAILIO_PORT, {
    rates: RATES,
    seconds: SECONDS,
    sippPort: SIPP_UAC,
  });
  printSideBySide(
    `SIPp uac → X over UDP on loopback, ${SECONDS} s per step, INVITE→200 response times`,
    "gateway (B2BUA → SIPp uas, CDRs)",
    ours,
    kam,
    RATES,
  );
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
