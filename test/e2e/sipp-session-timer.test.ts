/**
 * (c) A real session-timer run against SIPp at RFC 4028's floor (Session-Expires
 * 90, Min-SE 90): our createUAS is the refresher and must send its UPDATE at
 * 45 s, within a second. Longer intervals are covered on the fake clock
 * (test/sip/session-timer.test.ts). Ports 25473–25474 belong to this file.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Srf } from "../../src/sip/app/srf.js";
import type { SrfRequest, SrfResponse } from "../../src/sip/dialog/request-response.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { requirePeer, runSipp } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const OUR_PORT = 25473;
const UAC_PORT = 25474;
const SCENARIO = fileURLToPath(new URL("../sipp-scenarios/uac-session-timer.xml", import.meta.url));
const SDP =
  "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\n";

describe.skipIf(!hasSipp)("SIPp ↔ session timer (real time)", () => {
  let stack: SipStack;
  let srf: Srf;
  let answeredAt = 0;
  const refreshes: number[] = [];

  beforeAll(async () => {
    stack = new SipStack({
      transports: [{ protocol: "UDP", host: "127.0.0.1", port: OUR_PORT }],
      timers: { t1: 50, t2: 4000, t4: 1000 },
    });
    await stack.start();
    srf = new Srf(stack, { sessionTimer: { sessionExpires: 90, minSE: 90 } });
    srf.invite(async (req: SrfRequest, res: SrfResponse) => {
      const dialog = await srf.createUAS(req, res, { localSdp: SDP });
      answeredAt = Date.now();
      dialog.on("refresh", () => refreshes.push(Date.now() - answeredAt));
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it("the refresher (us, refresher=uas) sends UPDATE at half of 90 s", async () => {
    const r = await runSipp({
      scenario: SCENARIO,
      remote: `127.0.0.1:${OUR_PORT}`,
      localPort: UAC_PORT,
      calls: 1,
      timeoutMs: 70_000,
      extra: ["-s", "timer"],
    });
    expect(r.errors, `${r.errors}\n${r.stderr}`).toBe("");
    expect(r.stats.successful).toBe(1);
    expect(r.stats.failed).toBe(0);
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!).toBeGreaterThanOrEqual(44_900);
    expect(refreshes[0]!).toBeLessThan(46_500);
    await waitFor(
      () => srf.counts().dialogs.total === 0 && srf.counts().transactions.total === 0,
      15_000,
      "dialogs and transactions to drain",
    );
  }, 100_000);
});
