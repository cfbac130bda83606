/** RFC 3263 §4.3 failover in SipStack.requestTo, with DNS replaced by a fake resolver. */
import { afterEach, describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import type { SipResponse } from "../../src/sip/message.js";
import { type DnsLookup, SipResolver } from "../../src/sip/resolver.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { TransportProtocol } from "../../src/sip/transport/types.js";

const FAST = { t1: 10, t2: 40, t4: 50 };
const stacks: SipStack[] = [];

afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

function dnsWith(targets: Array<{ name: string; port: number }>, protocol: "udp" | "tcp"): DnsLookup {
  return {
    resolveSrv: async (name) => {
      if (name !== `_sip._${protocol}.example.test`) throw new Error("ENOTFOUND");
      return targets.map((t, i) => ({ ...t, priority: i, weight: 0 }));
    },
    resolve4: async (name) => (name.endsWith(".example.test") ? ["127.0.0.1"] : []),
    resolve6: async () => [],
  };
}

async function stack(protocol: TransportProtocol, dns?: DnsLookup): Promise<SipStack> {
  const s = new SipStack({
    timers: FAST,
    transports: [{ protocol, host: "127.0.0.1", port: 0 }],
    ...(dns && { resolver: new SipResolver(dns) }),
  });
  await s.start();
  stacks.push(s);
  return s;
}

function options(protocol: "udp" | "tcp") {
  return createRequest({
    method: "OPTIONS",
    uri: `sip:bob@example.test;transport=${protocol}`,
    headers: [
      ["From", "<sip:a@example.com>;tag=fo"],
      ["To", "<sip:bob@example.test>"],
      ["Call-ID", `fo-${Math.random()}`],
      ["CSeq", "1 OPTIONS"],
    ],
  });
}

function finalVia(s: SipStack, protocol: "udp" | "tcp"): Promise<{ res: SipResponse; retargets: number }> {
  let retargets = 0;
  return new Promise((resolve, reject) => {
    void s
      .requestTo(options(protocol), {
        onResponse: (res) => res.status >= 200 && resolve({ res, retargets }),
        onRetarget: () => retargets++,
        onTimeout: () => reject(new Error("timeout")),
        onTransportError: reject,
      })
      .catch(reject);
  });
}

describe("SipStack.requestTo failover (RFC 3263 §4.3)", () => {
  it("moves to the next SRV target when the first refuses the connection", async () => {
    const uas = await stack("TCP");
    uas.onRequest = (tx) => tx.reply(200);
    const port = uas.transport("TCP")!.local.port;
    const uac = await stack(
      "TCP",
      dnsWith(
        [
          { name: "dead.example.test", port: 9 },
          { name: "live.example.test", port },
        ],
        "tcp",
      ),
    );
    const { res, retargets } = await finalVia(uac, "tcp");
    expect(res.status).toBe(200);
    expect(retargets).toBe(1);
  });

  it("moves on after a 503; with no target left it reports the 503 or the timeout", async () => {
    const busy = await stack("UDP");
    busy.onRequest = (tx) => tx.reply(503);
    const good = await stack("UDP");
    good.onRequest = (tx) => tx.reply(200);
    const p = (s: SipStack) => s.transport("UDP")!.local.port;
    const uac = await stack(
      "UDP",
      dnsWith(
        [
          { name: "busy.example.test", port: p(busy) },
          { name: "good.example.test", port: p(good) },
        ],
        "udp",
      ),
    );
    const { res, retargets } = await finalVia(uac, "udp");
    expect(res.status).toBe(200);
    expect(retargets).toBe(1);

    const onlyBusy = await stack("UDP", dnsWith([{ name: "busy.example.test", port: p(busy) }], "udp"));
    expect((await finalVia(onlyBusy, "udp")).res.status).toBe(503);
    await expect(
      finalVia(await stack("UDP", dnsWith([{ name: "x.example.test", port: 9 }], "udp")), "udp"),
    ).rejects.toThrow("timeout");
  });
});
