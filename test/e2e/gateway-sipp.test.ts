/**
 * The gateway between real peers: SIPp uac → gateway (in process, from a temp
 * YAML config) → SIPp uas. Basic calls with CDRs in both stores, failover,
 * no route, overload with an emergency call let through, BYE from the callee;
 * after every test the gateway holds no call, dialog or transaction.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/b2bua/cdr.js";
import {
  jsonlRecords,
  scenario,
  sqliteRecords,
  startTestGateway,
  type TestGateway,
  waitDrained,
} from "../support/gateway.js";
import { requirePeer, runSipp, type SippResult } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");

// Ports of this file only (other e2e files use 25xxx).
const GW = 26060;
const UAC = 26061;
const UAS = 26062;
const UAS2 = 26063;
const UAC2 = 26064;
const UAC3 = 26065;
const DEAD = 26069; // nothing listens here
const NUMBER = "12015550123";

const PBX_TRUNK = `
  - name: pbx
    address: "127.0.0.1:${UAC}"
    inbound:
      acl: ["127.0.0.1/32"]`;

/** The PBX trunk demanding digest on top of its ACL (MD5 only: SIPp answers nothing else). */
const PBX_DIGEST_TRUNK = `${PBX_TRUNK}
      auth:
        realm: gw.test
        username: pbx-in
        password: s3cret-in
        algorithms: ["MD5"]`;

/** SIPp's digest credentials; its digest uri defaults to host:port, ours is the Request-URI (§22.4). */
function digestArgs(password: string): string[] {
  return ["-au", "pbx-in", "-ap", password, "-auth_uri", `${NUMBER}@127.0.0.1:${GW}`];
}

function carrier(name: string, port: number, transport = "udp"): string {
  return `
  - name: ${name}
    address: "127.0.0.1:${port}"
    transport: ${transport}`;
}

/** The PBX trunk plus one carrier trunk to the SIPp uas, every number routed to it. */
function oneCarrierConfig(): string {
  return `trunks:${PBX_TRUNK}${carrier("carrier-a", UAS)}
routes:
  - match: ".*"
    to: "trunk:carrier-a"`;
}

let t: TestGateway | undefined;

afterEach(async () => {
  const current = t;
  t = undefined;
  if (!current) return;
  try {
    await waitDrained(current.gw);
  } finally {
    await current.stop();
  }
}, 30_000);

function ok(r: SippResult, calls: number): void {
  expect({ exit: r.exitCode, ok: r.stats.successful, failed: r.stats.failed, errors: r.errors }).toEqual({
    exit: 0,
    ok: calls,
    failed: 0,
    errors: "",
  });
}

async function records(): Promise<{ sqlite: CallRecord[]; jsonl: CallRecord[] }> {
  await waitDrained(t!.gw);
  t!.gw.cdr!.flush();
  return { sqlite: sqliteRecords(t!.sqlite), jsonl: jsonlRecords(t!.jsonl) };
}

/** SIPP_DEBUG=DIR keeps each SIPp's message trace in DIR. */
function debug(port: number): string[] {
  const dir = process.env.SIPP_DEBUG;
  return dir ? ["-trace_msg", "-message_file", `${dir}/sipp-${port}.log`] : [];
}

function uas(calls: number, port = UAS, file?: string): Promise<SippResult> {
  return runSipp({
    scenario: file ? scenario(file) : "uas",
    localPort: port,
    calls,
    timeoutMs: 40_000,
    extra: debug(port),
  });
}

/**
 * A temp copy of a scenario with "486 Busy Here" / response="486" turned into
 * another status: SIPp checks status codes when it loads a scenario, so they
 * cannot come from -key.
 */
function with486As(file: string, status: number, reason: string): string {
  if (status === 486) return file;
  const out = join(mkdtempSync(join(tmpdir(), "dsip-sipp-")), file.replace("486", String(status)));
  const text = readFileSync(scenario(file), "utf8")
    .replaceAll("486 Busy Here", `${status} ${reason}`)
    .replaceAll('response="486"', `response="${status}"`);
  writeFileSync(out, text);
  return out;
}

function uac(
  calls: number,
  opts: { port?: number; file?: string; service?: string; rate?: number; extra?: string[] } = {},
): Promise<SippResult> {
  return runSipp({
    scenario: opts.file ? scenario(opts.file) : "uac",
    remote: `127.0.0.1:${GW}`,
    localPort: opts.port ?? UAC,
    calls,
    rate: opts.rate ?? 10,
    timeoutMs: 40_000,
    extra: ["-s", opts.service ?? NUMBER, ...(opts.extra ?? []), ...debug(opts.port ?? UAC)],
  });
}

describe.skipIf(!hasSipp)("gateway: SIPp uac → gateway → SIPp uas", () => {
  it("connects 25 calls and writes exactly 25 CDRs to SQLite and JSON lines", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    const callee = uas(25);
    const caller = await uac(25, { rate: 25 });
    ok(caller, 25);
    ok(await callee, 25);
    const { sqlite, jsonl } = await records();
    expect(sqlite).toHaveLength(25);
    expect(jsonl.map((r) => r.id)).toEqual(sqlite.map((r) => r.id));
    const aCallIds = new Set<string>();
    for (const r of sqlite) {
      expect(r).toMatchObject({ status: 200, hangupBy: "caller", reason: "BYE" });
      expect(r.legs.map((l) => [l.role, l.trunk, l.status])).toEqual([
        ["a", "pbx", undefined],
        ["b", "carrier-a", 200],
      ]);
      expect(r.legs[1]!.callId).not.toBe(r.legs[0]!.callId);
      expect(r.legs[1]!.callId.length).toBeGreaterThan(0);
      expect(r.to).toContain(NUMBER);
      expect(r.answer).not.toBeNull();
      expect(Date.parse(r.start)).toBeLessThanOrEqual(Date.parse(r.answer!));
      expect(Date.parse(r.answer!)).toBeLessThanOrEqual(Date.parse(r.end));
      expect(r.durationMs).toBe(Date.parse(r.end) - Date.parse(r.answer!));
      aCallIds.add(r.legs[0]!.callId);
    }
    expect(aCallIds.size).toBe(25);
    const metrics = await t.metrics.render();
    expect(metrics.body).toMatch(/dsip_gateway_calls_total\{status="200",class="2xx"\} 25/);
  }, 90_000);

  it("fails over: a dead TCP trunk, then a trunk answering 503, then one that answers", async () => {
    t = await startTestGateway(
      GW,
      `trunks:${PBX_TRUNK}${carrier("dead", DEAD, "tcp")}${carrier("down", UAS)}${carrier("up", UAS2)}
routes:
  - match: ".*"
    to: ["trunk:dead", "trunk:down", "trunk:up"]`,
    );
    const down = uas(3, UAS, "uas-503.xml");
    const up = uas(3, UAS2);
    const caller = await uac(3, { rate: 5 });
    ok(caller, 3);
    ok(await up, 3);
    ok(await down, 3);
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(3);
    for (const r of sqlite) {
      expect(r.status).toBe(200);
      expect(r.legs.map((l) => [l.role, l.trunk, l.status])).toEqual([
        ["a", "pbx", undefined],
        ["b", "dead", 503],
        ["b", "down", 503],
        ["b", "up", 200],
      ]);
    }
  }, 90_000);

  it("answers 404 when no route matches, and records it", async () => {
    t = await startTestGateway(
      GW,
      `trunks:${PBX_TRUNK}${carrier("carrier-a", UAS)}
routes:
  - match: "1[0-9]{10}"
    to: "trunk:carrier-a"`,
    );
    ok(await uac(2, { file: "uac-expect-404.xml", service: "555" }), 2);
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(2);
    for (const r of sqlite) expect(r).toMatchObject({ status: 404, hangupBy: "gateway", answer: null });
  }, 60_000);

  it("refuses a second concurrent call with 503 + Retry-After at maxCalls 1, yet lets 911 through", async () => {
    t = await startTestGateway(
      GW,
      `limits:
  maxCalls: 1
trunks:${PBX_TRUNK}${carrier("carrier-a", UAS)}
routes:
  - match: ".*"
    to: "trunk:carrier-a"`,
    );
    const callee = uas(2);
    // The first call holds the only slot for 4 s.
    const first = uac(1, { extra: ["-d", "4000"] });
    await waitFor(() => t!.gw.sessions.size === 1 && [...t!.gw.sessions][0]!.state === "connected", 10_000);
    ok(await uac(1, { port: UAC2, file: "uac-expect-503.xml" }), 1);
    ok(await uac(1, { port: UAC3, service: "911" }), 1);
    ok(await first, 1);
    ok(await callee, 2);
    const { sqlite } = await records();
    expect(sqlite.map((r) => r.status).sort()).toEqual([200, 200, 503]);
    const emergency = sqlite.find((r) => r.to.includes("911"))!;
    expect(emergency).toMatchObject({ status: 200, emergency: true });
    const metrics = await t.metrics.render();
    expect(metrics.body).toMatch(
      /dsip_gateway_overload_rejections_total\{scope="global",limit="maxCalls"\} 1/,
    );
  }, 60_000);

  it("ends A when B hangs up (BYE from the callee)", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    const callee = uas(3, UAS, "uas-bye.xml");
    ok(await uac(3, { file: "uac-recv-bye.xml" }), 3);
    ok(await callee, 3);
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(3);
    for (const r of sqlite) expect(r).toMatchObject({ status: 200, hangupBy: "callee", reason: "BYE" });
  }, 60_000);

  it("propagates CANCEL: 487 to the caller, CANCEL to the ringing callee", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    const callee = uas(3, UAS, "uas-ring-cancel.xml");
    ok(await uac(3, { file: "uac-cancel-ringing.xml" }), 3);
    ok(await callee, 3);
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(3);
    for (const r of sqlite) {
      expect(r).toMatchObject({ status: 487, hangupBy: "caller", reason: "CANCEL", answer: null });
      expect(r.legs[1]!.status).toBe(487);
    }
  }, 60_000);

  it.each([
    [486, "Busy Here"],
    [603, "Decline"],
    [404, "Not Found"],
  ])(
    "passes a callee's %i back to the caller without failing over",
    async (status, reason) => {
      t = await startTestGateway(
        GW,
        `trunks:${PBX_TRUNK}${carrier("refusing", UAS)}${carrier("spare", UAS2)}
routes:
  - match: ".*"
    to: ["trunk:refusing", "trunk:spare"]`,
      );
      const callee = uas(2, UAS, with486As("uas-486.xml", status, reason));
      ok(await uac(2, { file: with486As("uac-expect-486.xml", status, reason) }), 2);
      ok(await callee, 2);
      const { sqlite } = await records();
      expect(sqlite).toHaveLength(2);
      for (const r of sqlite) {
        expect(r).toMatchObject({ status, hangupBy: "callee", answer: null });
        expect(r.legs.map((l) => [l.role, l.trunk, l.status])).toEqual([
          ["a", "pbx", undefined],
          ["b", "refusing", status],
        ]);
      }
    },
    60_000,
  );

  it("answers 408 when the callee rings past the trunk's noAnswerTimeout, and CANCELs it", async () => {
    t = await startTestGateway(
      GW,
      `trunks:${PBX_TRUNK}${carrier("slow", UAS)}
    noAnswerTimeout: 1${carrier("spare", UAS2)}
routes:
  - match: ".*"
    to: ["trunk:slow", "trunk:spare"]`,
    );
    // uas-ring-cancel: 180, then waits for our CANCEL (→ 200, 487, ACK); the spare trunk is never tried.
    const callee = uas(2, UAS, "uas-ring-cancel.xml");
    const started = Date.now();
    ok(await uac(2, { file: with486As("uac-expect-486.xml", 408, "Request Timeout"), rate: 1 }), 2);
    ok(await callee, 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(2);
    for (const r of sqlite) {
      expect(r).toMatchObject({ status: 408, answer: null });
      expect(r.legs.map((l) => [l.role, l.trunk])).toEqual([
        ["a", "pbx"],
        ["b", "slow"],
      ]);
    }
  }, 60_000);

  it("relays re-INVITEs: hold (sendonly → recvonly) and resume (sendrecv) end to end", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    const callee = uas(3, UAS, "uas-reinvite.xml");
    ok(await uac(3, { file: "uac-reinvite.xml" }), 3);
    ok(await callee, 3);
    const { sqlite } = await records();
    expect(sqlite.map((r) => r.status)).toEqual([200, 200, 200]);
  }, 60_000);

  it("relays PRACK end to end: the caller requires 100rel, the callee's 183 arrives reliably", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    const callee = uas(3, UAS, "uas-early-media.xml");
    ok(await uac(3, { file: "uac-100rel.xml" }), 3);
    ok(await callee, 3);
    const { sqlite } = await records();
    expect(sqlite.map((r) => r.status)).toEqual([200, 200, 200]);
  }, 60_000);

  it("authenticates both ways: digest demanded from the caller's trunk, answered to the callee's", async () => {
    t = await startTestGateway(
      GW,
      `trunks:${PBX_DIGEST_TRUNK}
  - name: carrier-a
    address: "127.0.0.1:${UAS}"
    outbound:
      auth:
        username: gw-out
        password: s3cret-out
routes:
  - match: ".*"
    to: "trunk:carrier-a"`,
    );
    const callee = uas(3, UAS, "uas-digest.xml");
    ok(await uac(3, { file: "uac-digest.xml", extra: digestArgs("s3cret-in") }), 3);
    ok(await callee, 3);
    const { sqlite } = await records();
    // The challenged first INVITE is not a call attempt: one record per authenticated call.
    expect(sqlite.map((r) => r.status)).toEqual([200, 200, 200]);
  }, 60_000);

  it("challenges a caller with the wrong digest password again and never opens a B leg", async () => {
    t = await startTestGateway(
      GW,
      `trunks:${PBX_DIGEST_TRUNK}${carrier("carrier-a", UAS)}
routes:
  - match: ".*"
    to: "trunk:carrier-a"`,
    );
    // uac-digest-refused succeeds only when its second INVITE is challenged again.
    ok(await uac(2, { file: "uac-digest-refused.xml", extra: digestArgs("wrong") }), 2);
    // Challenges are not call attempts; a call that had reached routing would have a record.
    expect((await records()).sqlite).toHaveLength(0);
  }, 60_000);

  it("completes every call with 10 % packet loss on both legs (-lost 10)", async () => {
    t = await startTestGateway(GW, oneCarrierConfig());
    // uas-answer-at-once: SIPp's built-in uas cannot absorb a retransmitted INVITE after its 180 (see the file).
    const callee = runSipp({
      scenario: scenario("uas-answer-at-once.xml"),
      localPort: UAS,
      calls: 20,
      lost: 10,
      timeoutMs: 50_000,
    });
    const caller = await uac(20, { rate: 10, extra: ["-lost", "10"] });
    // With loss SIPp logs benign "dead call" retransmissions in its error file; the counts decide.
    const counts = (r: SippResult) => ({ exit: r.exitCode, ok: r.stats.successful, failed: r.stats.failed });
    expect(counts(caller)).toEqual({ exit: 0, ok: 20, failed: 0 });
    expect(counts(await callee)).toEqual({ exit: 0, ok: 20, failed: 0 });
    const { sqlite } = await records();
    expect(sqlite).toHaveLength(20);
    expect(sqlite.every((r) => r.status === 200)).toBe(true);
  }, 90_000);
});
