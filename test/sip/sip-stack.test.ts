import dgram from "node:dgram";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import type { SipResponse } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parser.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { InviteClientTransaction } from "../../src/sip/transaction/invite-client.js";
import type { Endpoint, TransportProtocol } from "../../src/sip/transport/types.js";
import { waitFor } from "../support/wait.js";

// Short timers so Timer J/L/M drain quickly: 64·T1 = 640 ms.
const FAST = { t1: 10, t2: 40, t4: 50 };
const stacks: SipStack[] = [];

async function stack(protocol: TransportProtocol = "UDP", host = "127.0.0.1"): Promise<SipStack> {
  const s = new SipStack({ transports: [{ protocol, host, port: 0 }], timers: FAST });
  await s.start();
  stacks.push(s);
  return s;
}

function target(s: SipStack, protocol: TransportProtocol): Endpoint {
  const local = s.transport(protocol)!.local;
  return { protocol, host: local.host, port: local.port };
}

function newRequest(method: string, dest: Endpoint, callId = `c-${Math.random()}`, cseq = 1) {
  const host = dest.host.includes(":") ? `[${dest.host}]` : dest.host;
  return createRequest({
    method,
    uri: `sip:bob@${host}:${dest.port}`,
    headers: [
      ["From", "<sip:alice@example.com>;tag=ft"],
      ["To", "<sip:bob@example.com>"],
      ["Call-ID", callId],
      ["CSeq", `${cseq} ${method}`],
      ["Contact", "<sip:alice@127.0.0.1>"],
    ],
  });
}

function final(s: SipStack, method: string, dest: Endpoint): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    s.request(newRequest(method, dest), dest, {
      onResponse: (r) => {
        if (r.status >= 200) resolve(r);
      },
      onTimeout: () => reject(new Error("timeout")),
      onTransportError: reject,
    });
  });
}

afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

describe.each([
  ["UDP", "127.0.0.1"],
  ["TCP", "127.0.0.1"],
  ["UDP", "::1"],
  ["TCP", "::1"],
] as const)("SipStack over %s %s", (protocol, host) => {
  it("runs OPTIONS and INVITE/180/200/ACK/BYE end to end and leaves no transaction behind", async () => {
    const uac = await stack(protocol, host);
    const uas = await stack(protocol, host);
    const dest = target(uas, protocol);
    let acks = 0;
    uas.onAck = () => acks++;
    uas.onRequest = (tx) => {
      if (tx.request.method === "INVITE") {
        tx.reply(180);
        setTimeout(() => tx.reply(200, { headers: [["Contact", `<${uas.contactUri(protocol)}>`]] }), 20);
      } else tx.reply(200);
    };
    expect((await final(uac, "OPTIONS", dest)).status).toBe(200);

    const statuses: number[] = [];
    const invite = newRequest("INVITE", dest, "call-x");
    const ok = await new Promise<SipResponse>((resolve) => {
      const tx = uac.request(invite, dest, {
        onResponse: (r) => {
          statuses.push(r.status);
          if (r.status === 200) {
            uac.ack2xx(tx as InviteClientTransaction, r);
            resolve(r);
          }
        },
      });
    });
    expect(statuses).toEqual([180, 200]);
    await waitFor(() => acks === 1, 2000, "ACK at the UAS");
    const bye = createRequest({
      method: "BYE",
      uri: ok.contact === "*" ? "" : ok.contact[0]!.uri,
      headers: [
        ["From", invite.header("from")!],
        ["To", ok.header("to")!],
        ["Call-ID", "call-x"],
        ["CSeq", "2 BYE"],
      ],
    });
    const byeOk = await new Promise<SipResponse>((resolve) =>
      uac.request(bye, dest, { onResponse: (r) => r.status >= 200 && resolve(r) }),
    );
    expect(byeOk.status).toBe(200);
    await waitFor(
      () => uac.counts().total === 0 && uas.counts().total === 0,
      3000,
      "empty transaction tables",
    );
    expect(uas.counts().pending2xx).toBe(0);
    expect(uas.stats.strayAcks).toBe(0);
  });

  it("CANCELs a ringing INVITE: 200 for the CANCEL, 487 for the INVITE, ACKed by the transaction", async () => {
    const uac = await stack(protocol, host);
    const uas = await stack(protocol, host);
    const dest = target(uas, protocol);
    let cancelled = false;
    uas.onRequest = (tx) => {
      if (tx.request.method === "INVITE") {
        tx.reply(180);
        tx.onCancel = () => {
          cancelled = true;
        };
      }
    };
    const got: number[] = [];
    const cancelStatus = await new Promise<number>((resolve) => {
      const tx = uac.request(newRequest("INVITE", dest), dest, {
        onResponse: (r) => {
          got.push(r.status);
          if (r.status === 180)
            uac.cancel(tx as InviteClientTransaction, { onResponse: (c) => resolve(c.status) });
        },
      });
    });
    expect(cancelStatus).toBe(200);
    await waitFor(() => got.includes(487), 2000, "487");
    expect(cancelled).toBe(true);
    await waitFor(
      () => uac.counts().total === 0 && uas.counts().total === 0,
      3000,
      "empty transaction tables",
    );
  });
});

describe("SipStack edge cases", () => {
  it("answers a CANCEL that matches nothing with 481 and a request with no handler with 503", async () => {
    const uac = await stack();
    const uas = await stack();
    const dest = target(uas, "UDP");
    expect((await final(uac, "CANCEL", dest)).status).toBe(481);
    expect((await final(uac, "OPTIONS", dest)).status).toBe(503);
  });

  it("answers a malformed request statelessly with 400 and drops garbage without crashing", async () => {
    const uas = await stack();
    uas.onRequest = (tx) => tx.reply(200);
    const dest = target(uas, "UDP");
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const replies: SipResponse[] = [];
    sock.on("message", (m) => replies.push(parseMessage(m) as SipResponse));
    const port = sock.address().port;
    const bad = `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    sock.send(Buffer.from("\x00\x01garbage"), dest.port, dest.host);
    sock.send(Buffer.from(bad), dest.port, dest.host);
    await waitFor(() => replies.length === 1, 2000, "400");
    expect(replies[0]!.status).toBe(400);
    expect(replies[0]!.reasonPhrase).toMatch(/CSeq/);
    expect(uas.stats.dropped).toBe(1);
    expect(uas.stats.rejected).toBe(1);
    expect(uas.counts().total).toBe(0);
    sock.close();
  });

  it("drops stray responses and counts them", async () => {
    const uas = await stack();
    const dest = target(uas, "UDP");
    const sock = dgram.createSocket("udp4");
    const stray =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnobody\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    sock.send(Buffer.from(stray), dest.port, dest.host);
    await waitFor(() => uas.stats.strayResponses === 1, 2000, "stray response");
    sock.close();
  });

  it("answers a CRLF keep-alive ping on TCP with CRLF (RFC 5626 §3.5.1) and frames split messages", async () => {
    const uas = await stack("TCP");
    uas.onRequest = (tx) => tx.reply(200);
    const dest = target(uas, "TCP");
    const sock = net.connect(dest.port, dest.host);
    let received = "";
    sock.on("data", (d) => {
      received += d.toString();
    });
    await new Promise((r) => sock.once("connect", r));
    sock.write("\r\n\r\n");
    await waitFor(() => received === "\r\n", 2000, "pong");
    const msg = `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKtcp\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: tcp1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    sock.write(msg.slice(0, 30));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(msg.slice(30));
    await waitFor(() => received.includes("SIP/2.0 200"), 2000, "200 over TCP");
    expect(uas.counts().connections).toBe(1);
    sock.destroy();
    await waitFor(() => uas.counts().connections === 0, 2000, "connection closed");
  });

  it("times out a non-INVITE to a silent UDP peer with Timer F and reports it", async () => {
    const uac = await stack();
    const silent = dgram.createSocket("udp4");
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    const dest: Endpoint = { protocol: "UDP", host: "127.0.0.1", port: silent.address().port };
    let sent = 0;
    silent.on("message", () => sent++);
    await expect(final(uac, "OPTIONS", dest)).rejects.toThrow("timeout");
    // E: 10, 20, 40, 40, … until F = 640 ms → about 18 transmissions
    expect(sent).toBeGreaterThan(10);
    expect(uac.counts().total).toBe(0);
    silent.close();
  });

  it("reports a transport error when a TCP peer is not listening", async () => {
    const uac = await stack("TCP");
    const dest: Endpoint = { protocol: "TCP", host: "127.0.0.1", port: 9 };
    await expect(final(uac, "OPTIONS", dest)).rejects.toThrow(/TCP send failed|ECONNREFUSED/);
    expect(uac.counts().total).toBe(0);
  });

  it("sends a request over 1300 octets to a UDP destination over TCP instead (RFC 3261 §18.1.1)", async () => {
    const port = 25190;
    const uas = new SipStack({
      timers: FAST,
      transports: [
        { protocol: "UDP", host: "127.0.0.1", port },
        { protocol: "TCP", host: "127.0.0.1", port },
      ],
    });
    await uas.start();
    stacks.push(uas);
    const uac = new SipStack({
      timers: FAST,
      transports: [
        { protocol: "UDP", host: "127.0.0.1", port: 0 },
        { protocol: "TCP", host: "127.0.0.1", port: 0 },
      ],
    });
    await uac.start();
    stacks.push(uac);
    const seen: string[] = [];
    uas.onRequest = (tx) => {
      seen.push(`${tx.source.protocol} ${tx.request.topVia!.transport}`);
      tx.reply(200);
    };
    const dest: Endpoint = { protocol: "UDP", host: "127.0.0.1", port };
    const big = newRequest("MESSAGE", dest);
    big.addHeader("Content-Type", "text/plain");
    big.body = Buffer.alloc(1500, "x");
    await new Promise<void>((resolve) =>
      uac.request(big, dest, { onResponse: (r) => r.status >= 200 && resolve() }),
    );
    expect((await final(uac, "OPTIONS", dest)).status).toBe(200);
    expect(seen).toEqual(["TCP TCP", "UDP UDP"]);
  });

  it("answers 503 when one source holds too many server transactions", async () => {
    const uac = await stack();
    const uas = new SipStack({
      timers: FAST,
      maxServerTransactionsPerSource: 2,
      transports: [{ protocol: "UDP", host: "127.0.0.1", port: 0 }],
    });
    await uas.start();
    stacks.push(uas);
    uas.onRequest = () => {}; // never answers: the INVITEs stay in Proceeding
    const dest = target(uas, "UDP");
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      uac.request(newRequest("INVITE", dest), dest, { onResponse: (r) => statuses.push(r.status) });
    }
    await waitFor(() => statuses.includes(503), 2000, "503");
    expect(uas.counts().inviteServer).toBe(2);
    expect(uas.stats.rejected).toBe(1);
  });

  it("does not count answered server transactions against their source", async () => {
    const uac = await stack();
    const uas = new SipStack({
      timers: FAST,
      maxServerTransactionsPerSource: 1,
      transports: [{ protocol: "UDP", host: "127.0.0.1", port: 0 }],
    });
    await uas.start();
    stacks.push(uas);
    uas.onRequest = (tx) => tx.reply(200);
    const dest = target(uas, "UDP");
    // Each answered OPTIONS lingers in Completed (Timer J) but no longer holds the source's quota.
    for (let i = 0; i < 3; i++) expect((await final(uac, "OPTIONS", dest)).status).toBe(200);
    expect(uas.counts().nonInviteServer).toBe(3);
    expect(uas.stats.rejected).toBe(0);
  });

  it("closes idle TCP connections", async () => {
    const uas = new SipStack({
      timers: FAST,
      transports: [{ protocol: "TCP", host: "127.0.0.1", port: 0, idleTimeoutMs: 150 }],
    });
    await uas.start();
    stacks.push(uas);
    uas.onRequest = (tx) => tx.reply(200);
    const uac = await stack("TCP");
    expect((await final(uac, "OPTIONS", target(uas, "TCP"))).status).toBe(200);
    expect(uas.counts().connections).toBe(1);
    await waitFor(() => uas.counts().connections === 0 && uac.counts().connections === 0, 3000, "idle close");
  });

  it("answers a TCP message it cannot frame (no Content-Length) with 400, then closes the connection", async () => {
    const uas = await stack("TCP");
    uas.onRequest = (tx) => tx.reply(200);
    const dest = target(uas, "TCP");
    const sock = net.connect(dest.port, dest.host);
    let received = "";
    sock.on("data", (d) => {
      received += d.toString();
    });
    const closed = new Promise((r) => sock.once("close", r));
    await new Promise((r) => sock.once("connect", r));
    sock.write(
      "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKnocl\r\nFrom: <sip:a@b>;tag=1\r\n" +
        "To: <sip:c@d>\r\nCall-ID: nocl\r\nCSeq: 1 OPTIONS\r\n\r\n",
    );
    await closed;
    expect(received).toMatch(/^SIP\/2\.0 400 Missing Content-Length/);
    expect(uas.stats.rejected).toBe(1);
  });
});
