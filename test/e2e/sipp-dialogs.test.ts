/**
 * The dialog layer and the application API against SIPp (our own scenarios
 * in test/sipp-scenarios/):
 *   (a) SIPp UAC requiring 100rel → createUAS: reliable 183, PRACK, 200;
 *   (b) SIPp UAC → createB2BUA → SIPp UAS: BYE from A, BYE from B, CANCEL
 *       before answer (487 to A, CANCEL with Reason to B), 486 passed back,
 *       B's early media relayed to a caller requiring 100rel (PRACK on A's leg),
 *       re-INVITE relayed;
 *   (d) after each run no dialog and no transaction is left.
 * Ports 25470–25472 and 25475 belong to this file.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Srf } from "../../src/sip/app/srf.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { SipUri } from "../../src/sip/uri.js";
import { requirePeer, runSipp, type SippResult } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const OUR_PORT = 25470;
const UAC_PORT = 25471;
const UAS_PORT = 25472;
const LOSSY_PORT = 25475;
const SCENARIOS = fileURLToPath(new URL("../sipp-scenarios/", import.meta.url));
const SDP =
  "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\n";

describe.skipIf(!hasSipp)("SIPp ↔ dialogs and B2BUA", () => {
  let stack: SipStack;
  let srf: Srf;
  const b2buaErrors: unknown[] = [];

  beforeAll(async () => {
    // T1 = 50 ms keeps the drain (64·T1 = 3.2 s) short; SIPp keeps its own 500 ms.
    stack = new SipStack({
      transports: [
        { protocol: "UDP", host: "127.0.0.1", port: OUR_PORT },
        { protocol: "TCP", host: "127.0.0.1", port: OUR_PORT },
      ],
      timers: { t1: 50, t2: 4000, t4: 1000 },
    });
    await stack.start();
    srf = new Srf(stack);
    srf.invite(async (req, res) => {
      const user = (req.msg.uri as SipUri).user;
      if (user === "prack") {
        res.send(183, { body: SDP });
        await srf.createUAS(req, res, { localSdp: SDP });
        return;
      }
      try {
        const tcp = user === "b2btcp" ? ";transport=tcp" : "";
        await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${UAS_PORT}${tcp}`, {
          proxyRequestHeaders: ["all", "-Authorization"],
        });
      } catch (err) {
        b2buaErrors.push(err);
      }
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function drained(): Promise<void> {
    await waitFor(
      () => {
        const c = srf.counts();
        return c.dialogs.total === 0 && c.transactions.total === 0 && c.transactions.pending2xx === 0;
      },
      15_000,
      "dialogs and transactions to drain",
    );
  }

  function expectOneGoodCall(r: SippResult, who: string): void {
    expect(r.errors, `${who}: ${r.errors}\n${r.stderr}`).toBe("");
    expect(r.stats.successful, `${who} successful`).toBe(1);
    expect(r.stats.failed, `${who} failed`).toBe(0);
    expect(r.exitCode, who).toBe(0);
  }

  function uac(scenario: string, service: string, transport: "u1" | "t1" = "u1"): Promise<SippResult> {
    return runSipp({
      scenario: `${SCENARIOS}${scenario}`,
      remote: `127.0.0.1:${OUR_PORT}`,
      localPort: UAC_PORT,
      transport,
      calls: 1,
      timeoutMs: 20_000,
      extra: ["-s", service],
    });
  }

  function uas(scenario: string, transport: "u1" | "t1" = "u1"): Promise<SippResult> {
    return runSipp({
      scenario: `${SCENARIOS}${scenario}`,
      localPort: UAS_PORT,
      transport,
      calls: 1,
      timeoutMs: 20_000,
    });
  }

  /** Starts the callee first (it must listen before the B2BUA's INVITE), then the caller. */
  async function bridged(uacScenario: string, uasScenario: string): Promise<[SippResult, SippResult]> {
    const callee = uas(uasScenario);
    await new Promise((r) => setTimeout(r, 300));
    const caller = await uac(uacScenario, "b2b");
    return [caller, await callee];
  }

  it("(a) SIPp UAC with Require: 100rel → createUAS: reliable 183, PRACK, 200, BYE", async () => {
    const r = await uac("uac-100rel.xml", "prack");
    expectOneGoodCall(r, "uac");
    await drained();
  }, 40_000);

  it("(b) B2BUA: call with BYE from A", async () => {
    const [a, b] = await bridged("uac-basic.xml", "uas-basic.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    await drained();
  }, 40_000);

  it("(b) B2BUA over TCP on both legs: BYE from A, then from B", async () => {
    for (const [u, b] of [
      ["uac-basic.xml", "uas-basic.xml"],
      ["uac-wait-bye.xml", "uas-send-bye.xml"],
    ] as const) {
      const callee = uas(b, "t1");
      await new Promise((r) => setTimeout(r, 300));
      const caller = await uac(u, "b2btcp", "t1");
      expectOneGoodCall(caller, "A");
      expectOneGoodCall(await callee, "B");
      await drained();
    }
  }, 60_000);

  it("(b) B2BUA: call with BYE from B", async () => {
    const [a, b] = await bridged("uac-wait-bye.xml", "uas-send-bye.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    await drained();
  }, 40_000);

  it("(b) B2BUA: CANCEL before answer → 487 to A, CANCEL with Reason to B", async () => {
    const before = b2buaErrors.length;
    const [a, b] = await bridged("uac-cancel.xml", "uas-cancelled.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    expect(b2buaErrors.slice(before)).toMatchObject([{ status: 487 }]);
    await drained();
  }, 40_000);

  it("(b) B2BUA: 486 from B is passed to A", async () => {
    const [a, b] = await bridged("uac-busy.xml", "uas-busy.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    await drained();
  }, 40_000);

  it("(b) B2BUA: caller requiring 100rel: B's 183 relayed reliably, PRACKed by A, then 200", async () => {
    const [a, b] = await bridged("uac-100rel.xml", "uas-early-media.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    await drained();
  }, 40_000);

  it("(b,d) B2BUA under load: 200 calls at 100/s, SIPp uac → us → SIPp uas, zero failed, nothing left", async () => {
    const callee = runSipp({ scenario: "uas", localPort: UAS_PORT, calls: 200, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    const caller = await runSipp({
      scenario: "uac",
      remote: `127.0.0.1:${OUR_PORT}`,
      localPort: UAC_PORT,
      calls: 200,
      rate: 100,
      timeoutMs: 30_000,
      extra: ["-s", "b2b"],
    });
    const b = await callee;
    expect(caller.stats.successful, caller.errors).toBe(200);
    expect(caller.stats.failed).toBe(0);
    expect(b.stats.successful, b.errors).toBe(200);
    expect(b.stats.failed).toBe(0);
    await drained();
  }, 60_000);

  it("(b) B2BUA: re-INVITE from A is relayed to B and the answer back", async () => {
    const [a, b] = await bridged("uac-reinvite.xml", "uas-reinvite.xml");
    expectOneGoodCall(a, "A");
    expectOneGoodCall(b, "B");
    await drained();
  }, 40_000);
});

/**
 * With loss, our T1 must not be far below SIPp's (500 ms): a Timer J of
 * 64·T1 shorter than SIPp's retransmission span would meet a late BYE
 * retransmission with 481. And SIPp's built-in uac takes *any* 200 as the
 * answer to its BYE: when its ACK and BYE are both lost, a retransmitted 2xx
 * to the INVITE "completes" the call on SIPp's side while our dialog waits
 * for an ACK, then BYEs at 64·T1 (SIPp logs "Dead call"). Frequent 2xx
 * retransmissions (small T1) make that likelier. T1 = 250 ms keeps the drain
 * at 16 s.
 */
describe.skipIf(!hasSipp)("SIPp ↔ B2BUA with packet loss", () => {
  let stack: SipStack;
  let srf: Srf;

  beforeAll(async () => {
    stack = new SipStack({
      transports: [{ protocol: "UDP", host: "127.0.0.1", port: LOSSY_PORT }],
      timers: { t1: 250, t2: 4000, t4: 1000 },
    });
    await stack.start();
    srf = new Srf(stack);
    srf.invite(async (req, res) => {
      await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${UAS_PORT}`).catch(() => {});
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("100 calls with 10 % loss on both SIPp sides: zero failed, nothing left", async () => {
    const callee = runSipp({
      scenario: `${SCENARIOS}uas-answer-at-once.xml`,
      localPort: UAS_PORT,
      calls: 100,
      lost: 10,
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    const caller = await runSipp({
      scenario: "uac",
      remote: `127.0.0.1:${LOSSY_PORT}`,
      localPort: UAC_PORT,
      calls: 100,
      rate: 50,
      lost: 10,
      timeoutMs: 60_000,
      extra: ["-s", "b2b"],
    });
    const b = await callee;
    // Late retransmissions reaching finished calls are logged as "Dead call … (successful)"; no abort is allowed.
    expect(caller.errors).not.toMatch(/Aborting|unexpected/i);
    expect(b.errors).not.toMatch(/Aborting|unexpected/i);
    expect(caller.stats.successful, caller.errors).toBe(100);
    expect(caller.stats.failed).toBe(0);
    expect(b.stats.failed, b.errors).toBe(0);
    expect(caller.stats.retransmissions + b.stats.retransmissions).toBeGreaterThan(0);
    await waitFor(
      () => {
        const c = srf.counts();
        return c.dialogs.total === 0 && c.transactions.total === 0 && c.transactions.pending2xx === 0;
      },
      30_000,
      "dialogs and transactions to drain",
    );
  }, 120_000);
});
