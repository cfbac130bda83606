/**
 * Our UAC → Kamailio (stateful, record-routing: config/kamailio/proxy.cfg) →
 * our UAS, over UDP and over TCP. The ACK for 2xx and the BYE follow the
 * Record-Route back through the proxy; both stacks end with empty transaction
 * tables.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SipStack } from "../../src/sip/sip-stack.js";
import { kamailioConfig, type RunningKamailio, startKamailio } from "../support/kamailio.js";
import { runUac } from "../support/minimal-uac.js";
import { type MinimalUas, startMinimalUas } from "../support/minimal-uas.js";
import { requirePeer } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasKamailio = requirePeer("kamailio");
const PROXY_UDP_PORT = 25080;
const PROXY_TCP_PORT = 25081;
const CALLS = 500;
const TIMERS = { t1: 100, t2: 4000, t4: 1000 };

describe.skipIf(!hasKamailio)("our UAC → Kamailio stateful proxy → our UAS", () => {
  let kamailio: RunningKamailio | undefined;
  let uas: MinimalUas;
  let uac: SipStack;

  beforeAll(async () => {
    kamailio = await startKamailio(kamailioConfig("proxy.cfg"), [
      `udp:127.0.0.1:${PROXY_UDP_PORT}`,
      `tcp:127.0.0.1:${PROXY_TCP_PORT}`,
    ]);
    const transports = [
      { protocol: "UDP" as const, host: "127.0.0.1", port: 0 },
      { protocol: "TCP" as const, host: "127.0.0.1", port: 0 },
    ];
    uas = await startMinimalUas({ timers: TIMERS, transports });
    uac = new SipStack({ timers: TIMERS, transports });
    await uac.start();
  }, 20_000);

  afterAll(async () => {
    await uac?.close();
    await uas?.stack.close();
    await kamailio?.stop();
  });

  it.each([
    ["UDP", PROXY_UDP_PORT],
    ["TCP", PROXY_TCP_PORT],
  ] as const)(
    `%s: ${CALLS} calls through the proxy, ACK and BYE routed via Record-Route`,
    async (protocol, proxyPort) => {
      const uasPort = uas.stack.transport(protocol)!.local.port;
      const acksBefore = uas.acks;
      const invitesBefore = uas.invites;
      const result = await runUac({
        stack: uac,
        dest: { protocol, host: "127.0.0.1", port: proxyPort },
        requestUri: `sip:uas@127.0.0.1:${uasPort}${protocol === "TCP" ? ";transport=tcp" : ""}`,
        calls: CALLS,
        ratePerSecond: 100,
        deadlineMs: 60_000,
      });
      expect(result.failures, kamailio?.log()).toEqual([]);
      expect(result.ok).toBe(CALLS);
      expect(uas.invites - invitesBefore).toBe(CALLS);
      await waitFor(() => uas.acks - acksBefore >= CALLS, 5000, "every ACK at the UAS");
      await waitFor(
        () =>
          uac.counts().total === 0 && uas.stack.counts().total === 0 && uas.stack.counts().pending2xx === 0,
        15_000,
        "empty transaction tables",
      );
    },
    90_000,
  );
});
