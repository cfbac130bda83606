/** Wire-level behaviour of the stack against a hand-driven UDP peer: retransmissions, RFC 2543, stray ACKs, 100 Trying. */
import dgram from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { createRequest, createResponse } from "../../src/sip/builder.js";
import { SipRequest, type SipResponse } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parser.js";
import { serializeMessage } from "../../src/sip/serializer.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { InviteClientTransaction } from "../../src/sip/transaction/invite-client.js";
import type { AnyServerTransaction } from "../../src/sip/transaction/table.js";
import { waitFor } from "../support/wait.js";

const FAST = { t1: 10, t2: 40, t4: 50 };
const cleanup: Array<() => unknown> = [];

afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function setup(tryingDelayMs?: number) {
  const stack = new SipStack({
    timers: FAST,
    transports: [{ protocol: "UDP", host: "127.0.0.1", port: 0 }],
    ...(tryingDelayMs !== undefined && { tryingDelayMs }),
  });
  await stack.start();
  cleanup.push(() => stack.close());
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  cleanup.push(() => sock.close());
  const got: SipResponse[] = [];
  const requests: SipRequest[] = [];
  sock.on("message", (m) => {
    const parsed = parseMessage(m);
    if (parsed instanceof SipRequest) requests.push(parsed);
    else got.push(parsed);
  });
  const port = stack.transport("UDP")!.local.port;
  const me = sock.address().port;
  const send = (text: string) => sock.send(Buffer.from(text), port, "127.0.0.1");
  return { stack, got, requests, me, port, send };
}

function msg(
  method: string,
  me: number,
  opts: { branch?: string; toTag?: string; cseq?: string } = {},
): string {
  const branch = opts.branch === undefined ? "z9hG4bKwire1" : opts.branch;
  const via = `SIP/2.0/UDP 127.0.0.1:${me}${branch ? `;branch=${branch}` : ""}`;
  return (
    `${method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\n` +
    `From: <sip:alice@example.com>;tag=wf\r\nTo: <sip:bob@example.com>${opts.toTag ? `;tag=${opts.toTag}` : ""}\r\n` +
    `Call-ID: wire-call\r\nCSeq: ${opts.cseq ?? `1 ${method}`}\r\nContent-Length: 0\r\n\r\n`
  );
}

describe("SipStack on the wire", () => {
  it("answers a retransmitted INVITE from the transaction, calling the TU once", async () => {
    const { stack, got, me, send } = await setup(-1);
    const txs: AnyServerTransaction[] = [];
    stack.onRequest = (tx) => {
      txs.push(tx);
      tx.reply(180);
    };
    send(msg("INVITE", me));
    await waitFor(() => got.length === 1, 2000, "180");
    send(msg("INVITE", me));
    await waitFor(() => got.length === 2, 2000, "180 again");
    expect(got.map((r) => r.status)).toEqual([180, 180]);
    expect(txs).toHaveLength(1);
  });

  it("sends 100 Trying when the TU takes longer than the delay", async () => {
    const { stack, got, me, send } = await setup(30);
    stack.onRequest = (tx) => {
      setTimeout(() => tx.reply(486), 120);
    };
    send(msg("INVITE", me));
    await waitFor(() => got.some((r) => r.status === 486), 2000, "486");
    expect(got[0]!.status).toBe(100);
    expect(got[0]!.to!.params.tag).toBeUndefined(); // 100 carries no tag
  });

  it("matches RFC 2543 requests (no magic cookie): retransmission and ACK of a non-2xx", async () => {
    const { stack, got, me, send } = await setup(-1);
    let calls = 0;
    let acks = 0;
    stack.onRequest = (tx) => {
      calls++;
      tx.reply(486);
    };
    stack.onAck = () => acks++;
    send(msg("INVITE", me, { branch: "" }));
    await waitFor(() => got.length >= 1, 2000, "486");
    const tag = got[0]!.to!.params.tag!;
    send(msg("INVITE", me, { branch: "" }));
    await waitFor(() => got.length >= 2, 2000, "486 again");
    send(msg("ACK", me, { branch: "", toTag: tag, cseq: "1 ACK" }));
    await waitFor(() => stack.counts().total === 0, 3000, "transaction to end");
    expect(calls).toBe(1);
    expect(acks).toBe(0); // absorbed by the transaction
    expect(got.every((r) => r.status === 486)).toBe(true);
  });

  it("passes a stray ACK up without answering it", async () => {
    const { stack, got, me, send } = await setup();
    const acks: string[] = [];
    stack.onAck = (ack) => acks.push(ack.callId!);
    send(msg("ACK", me, { toTag: "nobody", cseq: "1 ACK", branch: "z9hG4bKstray" }));
    await waitFor(() => acks.length === 1, 2000, "ACK");
    expect(stack.stats.strayAcks).toBe(1);
    expect(got).toHaveLength(0);
    expect(stack.counts().total).toBe(0);
  });

  it("answers CANCEL 200 but sends no 487 when the INVITE already got its 200", async () => {
    const { stack, got, me, send } = await setup(-1);
    stack.onRequest = (tx) => {
      if (tx.request.method === "INVITE") tx.reply(200);
    };
    send(msg("INVITE", me));
    await waitFor(() => got.length >= 1, 2000, "200");
    send(msg("CANCEL", me));
    await waitFor(() => got.some((r) => r.cseq!.method === "CANCEL"), 2000, "CANCEL answer");
    await new Promise((r) => setTimeout(r, 50));
    expect(got.find((r) => r.cseq!.method === "CANCEL")!.status).toBe(200);
    expect(got.some((r) => r.status === 487)).toBe(false);
  });

  it("retransmits a 2xx over UDP until the ACK arrives", async () => {
    const { stack, got, me, send } = await setup(-1);
    stack.onRequest = (tx) => tx.reply(200);
    send(msg("INVITE", me));
    await waitFor(() => got.length >= 3, 2000, "2xx retransmissions");
    const tag = got[0]!.to!.params.tag!;
    expect(stack.counts().pending2xx).toBe(1);
    send(msg("ACK", me, { toTag: tag, cseq: "1 ACK", branch: "z9hG4bKack2xx" }));
    await waitFor(() => stack.counts().pending2xx === 0, 2000, "ACK to stop them");
    expect(stack.stats.strayAcks).toBe(0);
  });

  it("answers 400 even when the parser refuses the whole request (Content-Length past the datagram)", async () => {
    const { stack, got, me, send } = await setup();
    stack.onRequest = (tx) => tx.reply(200);
    send(msg("OPTIONS", me).replace("Content-Length: 0", "Content-Length: 999"));
    await waitFor(() => got.length === 1, 2000, "400");
    expect(got[0]!.status).toBe(400);
    expect(got[0]!.reasonPhrase).toMatch(/Content-Length/);
    expect(got[0]!.callId).toBe("wire-call");
    expect(stack.stats.rejected).toBe(1);
    // Unanswerable: an ACK, and bytes with no request line.
    send(msg("ACK", me, { cseq: "1 ACK" }).replace("Content-Length: 0", "Content-Length: 999"));
    send("hello\r\n\r\n");
    await waitFor(() => stack.stats.dropped === 2, 2000, "drops");
    expect(got).toHaveLength(1);
  });

  it("passes an ACK that reuses the INVITE's branch to the TU while the transaction is Accepted", async () => {
    const { stack, got, me, send } = await setup(-1);
    let acks = 0;
    stack.onAck = () => acks++;
    stack.onRequest = (tx) => tx.reply(200);
    send(msg("INVITE", me));
    await waitFor(() => got.length >= 1, 2000, "200");
    send(msg("ACK", me, { toTag: got[0]!.to!.params.tag!, cseq: "1 ACK" }));
    await waitFor(() => acks === 1, 2000, "ACK at the TU");
    expect(stack.counts().pending2xx).toBe(0);
  });

  it("holds a CANCEL back until the first provisional response (RFC 3261 §9.1)", async () => {
    const { stack, requests, me, send } = await setup();
    const dest = { protocol: "UDP" as const, host: "127.0.0.1", port: me };
    const invite = createRequest({
      method: "INVITE",
      uri: `sip:peer@127.0.0.1:${me}`,
      headers: [
        ["From", "<sip:a@example.com>;tag=c1"],
        ["To", "<sip:peer@example.com>"],
        ["Call-ID", "cancel-early"],
        ["CSeq", "1 INVITE"],
      ],
    });
    const tx = stack.request(invite, dest, { onResponse() {} }) as InviteClientTransaction;
    expect(stack.cancel(tx)).toBe(true);
    await waitFor(() => requests.length >= 2, 2000, "INVITE retransmission");
    expect(requests.every((r) => r.method === "INVITE")).toBe(true);
    send(serializeMessage(createResponse(requests[0]!, 180, { toTag: "t" })).toString());
    await waitFor(() => requests.some((r) => r.method === "CANCEL"), 2000, "CANCEL after 180");
    const cancel = requests.find((r) => r.method === "CANCEL")!;
    expect(cancel.topVia!.params.branch).toBe(requests[0]!.topVia!.params.branch);
  });
});
