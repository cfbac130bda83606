/**
 * Our stack as the UAC against SIPp's built-in `uas`: 1000 calls each over
 * UDP, TCP and UDP with SIPp dropping 10 % of packets; zero failed calls on
 * either side and an empty transaction table afterwards.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SipStack } from "../../src/sip/sip-stack.js";
import { runUac } from "../support/minimal-uac.js";
import { requirePeer, runSipp } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const CALLS = 1000;
const TIMERS = { t1: 100, t2: 4000, t4: 1000 };
// SIPp's built-in uas (180 then 200) cannot take a retransmitted INVITE after its 200 was dropped
// (it only matches retransmissions against the first reply it sent), so the loss run uses a 200-only UAS.
const ANSWER_AT_ONCE = fileURLToPath(new URL("../sipp-scenarios/uas-answer-at-once.xml", import.meta.url));

describe.skipIf(!hasSipp)("our UAC → SIPp uas", () => {
  let stack: SipStack | undefined;

  afterEach(async () => {
    await stack?.close();
  });

  it.each([
    ["UDP", "u1", 0, 25071],
    ["TCP", "t1", 0, 25072],
    ["UDP with -lost 10", "u1", 10, 25073],
  ] as const)(
    "%s: 1000 calls, zero failed, no leak",
    async (_name, transport, lost, sippPort) => {
      const protocol = transport === "t1" ? "TCP" : "UDP";
      stack = new SipStack({ timers: TIMERS, transports: [{ protocol, host: "127.0.0.1", port: 0 }] });
      await stack.start();
      const scenario = lost > 0 ? ANSWER_AT_ONCE : "uas";
      const sipp = runSipp({
        scenario,
        localPort: sippPort,
        transport,
        calls: CALLS,
        lost,
        timeoutMs: 60_000,
      });
      await new Promise((r) => setTimeout(r, 500)); // let SIPp bind
      const result = await runUac({
        stack,
        dest: { protocol, host: "127.0.0.1", port: sippPort },
        requestUri: `sip:service@127.0.0.1:${sippPort}${protocol === "TCP" ? ";transport=tcp" : ""}`,
        calls: CALLS,
        ratePerSecond: 200,
        deadlineMs: 60_000,
      });
      const sippResult = await sipp;
      expect(result.failures, sippResult.errors).toEqual([]);
      expect(result.ok).toBe(CALLS);
      expect(sippResult.exitCode, sippResult.stderr + sippResult.errors).toBe(0);
      expect(sippResult.stats.successful).toBe(CALLS);
      expect(sippResult.stats.failed).toBe(0);
      if (lost > 0) {
        expect(stack.stats.requestRetransmits).toBeGreaterThan(0);
        expect(sippResult.stats.retransmissions).toBeGreaterThan(0);
      } else expect(stack.stats.requestRetransmits).toBe(0);
      const s = stack;
      await waitFor(() => s.counts().total === 0, 15_000, "transaction table to drain");
    },
    120_000,
  );
});
