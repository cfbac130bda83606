/**
 * SIPp's built-in `uac` (INVITE, ACK, BYE) against a minimal UAS on our stack:
 * 1000 calls each over UDP, TCP, UDP with 10 % packet loss and UDP over IPv6, zero failed
 * calls, and an empty transaction table afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MinimalUas, startMinimalUas } from "../support/minimal-uas.js";
import { requirePeer, runSipp } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasSipp = requirePeer("sipp");
const CALLS = 1000;
// T1 = 100 ms keeps the drain (64·T1) short; T4 = 1 s bounds Timers I and K.
const TIMERS = { t1: 100, t2: 4000, t4: 1000 };

describe.skipIf(!hasSipp)("SIPp uac → our UAS", () => {
  let uas: MinimalUas;

  beforeAll(async () => {
    uas = await startMinimalUas({
      timers: TIMERS,
      transports: [
        { protocol: "UDP", host: "127.0.0.1", port: 0 },
        { protocol: "TCP", host: "127.0.0.1", port: 0 },
        { protocol: "UDP", host: "::1", port: 0 },
      ],
    });
  });

  afterAll(async () => {
    await uas?.stack.close();
  });

  async function drained(): Promise<void> {
    await waitFor(
      () => {
        const c = uas.stack.counts();
        return c.total === 0 && c.pending2xx === 0;
      },
      15_000,
      "transaction table to drain",
    );
  }

  it.each([
    ["UDP", "u1", 0, 25061, "127.0.0.1"],
    ["TCP", "t1", 0, 25062, "127.0.0.1"],
    ["UDP with -lost 10", "u1", 10, 25063, "127.0.0.1"],
    ["UDP over IPv6", "u1", 0, 25064, "::1"],
  ] as const)(
    "%s: 1000 calls, zero failed, no leak",
    async (_name, transport, lost, sippPort, ip) => {
      const protocol = transport === "t1" ? "TCP" : "UDP";
      const port = uas.stack.transport(protocol, ip)!.local.port;
      const before = { ...uas.stack.stats };
      const result = await runSipp({
        scenario: "uac",
        remote: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`,
        localPort: sippPort,
        localIp: ip,
        transport,
        calls: CALLS,
        rate: 200,
        lost,
        timeoutMs: 60_000,
      });
      // With loss, SIPp logs late retransmissions reaching finished calls ("Dead call … (successful)"); no abort is allowed.
      if (lost === 0) expect(result.errors, result.stderr).toBe("");
      else expect(result.errors).not.toMatch(/Aborting|unexpected/i);
      expect(result.exitCode).toBe(0);
      expect(result.stats.successful).toBe(CALLS);
      expect(result.stats.failed).toBe(0);
      if (lost > 0) {
        // Loss must have happened and been repaired on both sides.
        expect(result.stats.retransmissions).toBeGreaterThan(0);
        expect(uas.stack.stats.responseRetransmits).toBeGreaterThan(before.responseRetransmits);
      } else expect(result.stats.retransmissions).toBe(0);
      await drained();
      await waitFor(() => uas.stack.counts().connections === 0, 5000, "TCP connections to close");
    },
    120_000,
  );
});
