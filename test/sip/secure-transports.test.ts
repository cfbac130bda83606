/** TLS, WS and WSS transports: the same calls as over UDP/TCP, plus client-certificate checks. */
import { rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createRequest } from "../../src/sip/builder.js";
import type { SipResponse } from "../../src/sip/message.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { InviteClientTransaction } from "../../src/sip/transaction/invite-client.js";
import type { TransportSpec } from "../../src/sip/transport/manager.js";
import type { Endpoint, TransportProtocol } from "../../src/sip/transport/types.js";
import { makeSelfSignedCert, type TestCert } from "../support/certs.js";
import { requirePeer } from "../support/sipp.js";
import { waitFor } from "../support/wait.js";

const hasOpenssl = requirePeer("openssl");
const FAST = { t1: 10, t2: 40, t4: 50 };
let serverCert: TestCert;
let clientCert: TestCert;
const stacks: SipStack[] = [];

async function stack(spec: Omit<TransportSpec, "host" | "port">): Promise<SipStack> {
  const s = new SipStack({ transports: [{ host: "127.0.0.1", port: 0, ...spec }], timers: FAST });
  await s.start();
  stacks.push(s);
  return s;
}

function endpoint(s: SipStack, protocol: TransportProtocol): Endpoint {
  const l = s.transport(protocol)!.local;
  return { protocol, host: l.host, port: l.port };
}

function request(method: string, dest: Endpoint, cseq = 1) {
  return createRequest({
    method,
    uri: `sip:bob@127.0.0.1:${dest.port};transport=${dest.protocol.toLowerCase()}`,
    headers: [
      ["From", "<sip:alice@example.com>;tag=sec"],
      ["To", "<sip:bob@example.com>"],
      ["Call-ID", `sec-${Math.random()}`],
      ["CSeq", `${cseq} ${method}`],
    ],
  });
}

function finalOf(s: SipStack, method: string, dest: Endpoint): Promise<SipResponse> {
  return new Promise((resolve, reject) =>
    s.request(request(method, dest), dest, {
      onResponse: (r) => r.status >= 200 && resolve(r),
      onTimeout: () => reject(new Error("timeout")),
      onTransportError: reject,
    }),
  );
}

beforeAll(() => {
  if (!hasOpenssl) return;
  serverCert = makeSelfSignedCert("sip-server");
  clientCert = makeSelfSignedCert("sip-client");
});

afterAll(() => {
  for (const c of [serverCert, clientCert]) if (c) rmSync(c.dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe.skipIf(!hasOpenssl)("TLS, WS and WSS transports", () => {
  it.each(["TLS", "WS", "WSS"] as const)(
    "%s: OPTIONS and an INVITE dialog, then empty tables",
    async (protocol) => {
      const secure = protocol !== "WS";
      const serverTls = { certFile: serverCert.certFile, keyFile: serverCert.keyFile };
      const clientTls = { ...serverTls, caFile: serverCert.certFile };
      const uas = await stack({ protocol, ...(secure && { tls: serverTls }) });
      const uac = await stack({ protocol, ...(secure && { tls: clientTls }) });
      let acks = 0;
      uas.onAck = () => acks++;
      uas.onRequest = (tx) =>
        tx.request.method === "INVITE"
          ? tx.reply(200, { headers: [["Contact", `<${uas.contactUri(protocol)}>`]] })
          : tx.reply(200);
      const dest = endpoint(uas, protocol);
      expect((await finalOf(uac, "OPTIONS", dest)).status).toBe(200);
      const ok = await new Promise<SipResponse>((resolve) => {
        const tx = uac.request(request("INVITE", dest), dest, {
          onResponse: (r) => {
            if (r.status !== 200) return;
            uac.ack2xx(tx as InviteClientTransaction, r);
            resolve(r);
          },
        });
      });
      expect(ok.topVia!.transport).toBe(protocol);
      await waitFor(() => acks === 1, 2000, "ACK");
      expect(uac.counts().connections).toBe(1); // one connection reused for everything
      await waitFor(() => uac.counts().total === 0 && uas.counts().total === 0, 3000, "empty tables");
    },
  );

  it("TLS: a server that requires client certificates accepts a trusted client certificate and refuses an untrusted one", async () => {
    const uas = await stack({
      protocol: "TLS",
      tls: {
        certFile: serverCert.certFile,
        keyFile: serverCert.keyFile,
        caFile: clientCert.certFile,
        requestClientCert: true,
      },
    });
    uas.onRequest = (tx) => tx.reply(200);
    const dest = endpoint(uas, "TLS");
    const withCert = await stack({
      protocol: "TLS",
      tls: { certFile: clientCert.certFile, keyFile: clientCert.keyFile, caFile: serverCert.certFile },
    });
    expect((await finalOf(withCert, "OPTIONS", dest)).status).toBe(200);
    // Same CA trust, but presents the server's own certificate, which the server does not trust as a client.
    const untrusted = await stack({
      protocol: "TLS",
      tls: { certFile: serverCert.certFile, keyFile: serverCert.keyFile, caFile: serverCert.certFile },
    });
    await expect(finalOf(untrusted, "OPTIONS", dest)).rejects.toThrow(/TLS (send|connection) failed/);
  });

  it("WS: refuses a client without the sip subprotocol and answers CRLF keep-alives", async () => {
    const uas = await stack({ protocol: "WS" });
    const { port } = uas.transport("WS")!.local;
    const plain = new WebSocket(`ws://127.0.0.1:${port}`);
    const closed = await new Promise<boolean>((resolve) => {
      plain.on("error", () => resolve(true));
      plain.on("close", () => resolve(true));
      plain.on("open", () => undefined);
    });
    expect(closed).toBe(true);
    const sip = new WebSocket(`ws://127.0.0.1:${port}`, "sip");
    await new Promise((r) => sip.once("open", r));
    const pong = new Promise<string>((r) => sip.once("message", (d) => r(d.toString())));
    sip.send("\r\n\r\n");
    expect(await pong).toBe("\r\n");
    sip.close();
  });
});
