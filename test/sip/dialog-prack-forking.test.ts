/**
 * PRACK/100rel (RFC 3262) in both roles, forking (RFC 3261 §13.2.2.4) and the
 * 2xx that is never ACKed (§13.3.1.4), on a fake clock with real loopback.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createResponse } from "../../src/sip/builder.js";
import type { Dialog } from "../../src/sip/dialog/dialog.js";
import type { SipRequest } from "../../src/sip/message.js";
import type { FakeClock } from "../../src/sip/timers.js";
import { newClock, type Peer, RawPeer, SDP_A, SDP_B, settle, startPeer } from "../support/dialog-peers.js";
import { waitFor } from "../support/wait.js";

let clock: FakeClock;
let a: Peer;
let b: Peer;
let raw: RawPeer;

beforeEach(async () => {
  clock = newClock();
  a = await startPeer(clock);
  b = await startPeer(clock);
  raw = await RawPeer.start();
});

afterEach(async () => {
  await a.stack.close();
  await b.stack.close();
  raw.close();
});

/** A raw INVITE from the raw peer to `peer`. */
function rawInvite(peer: Peer, extra: Array<[string, string]> = [], callId = "raw-1@test"): SipRequest {
  const lines = [
    `INVITE ${peer.uri("bob")} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${raw.port};branch=z9hG4bK-raw-${callId.replace(/[^a-z0-9]/gi, "")}`,
    "Max-Forwards: 70",
    `From: <sip:raw@127.0.0.1>;tag=rawtag`,
    `To: <${peer.uri("bob")}>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    `Contact: <${raw.uri}>`,
    ...extra.map(([n, v]) => `${n}: ${v}`),
    "Content-Type: application/sdp",
    `Content-Length: ${Buffer.byteLength(SDP_A)}`,
    "",
    SDP_A,
  ];
  return parseRequest(lines.join("\r\n"));
}

import { parseMessage } from "../../src/sip/parser.js";

function parseRequest(text: string): SipRequest {
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe("PRACK / 100rel", () => {
  it("our UAS sends a reliable 183 to our UAC, which PRACKs; 200 follows the PRACK", async () => {
    let uas: Dialog | undefined;
    const order: string[] = [];
    b.srf.invite(async (req, res) => {
      res.send(183, { body: SDP_B });
      order.push("183 sent");
      uas = await b.srf.createUAS(req, res, { localSdp: SDP_B });
      order.push("200 sent");
    });
    const provisionals: number[] = [];
    const uac = await a.srf.createUAC(
      b.uri(),
      { localSdp: SDP_A },
      {
        cbProvisional: (r) => {
          provisionals.push(r.status);
          expect(r.require).toContain("100rel");
          expect(r.rseq).toBeGreaterThan(0);
        },
      },
    );
    expect(provisionals).toEqual([183]);
    expect(order).toEqual(["183 sent", "200 sent"]);
    expect(uac.remote.sdp).toBe(SDP_B);
    await waitFor(() => uas !== undefined, 1000);
    await uac.destroy();
    await waitFor(() => b.srf.counts().dialogs.total === 0, 1000);
  });

  it("does not send reliably when the UAC does not support 100rel", async () => {
    b.srf.invite(async (req, res) => {
      res.send(180);
      await b.srf.createUAS(req, res, { localSdp: SDP_B });
    });
    raw.send(rawInvite(b), b.port);
    const ringing = await waitForResponse(raw, 180);
    expect(ringing.hasHeader("rseq")).toBe(false);
    await waitForResponse(raw, 200);
  });

  it("retransmits a reliable 1xx at T1, 2T1, 4T1… with no T2 cap, then 500 at 64·T1", async () => {
    let failure: unknown;
    b.srf.invite(async (req, res) => {
      res.send(180);
      try {
        await b.srf.createUAS(req, res, { localSdp: SDP_B });
      } catch (err) {
        failure = err;
      }
    });
    raw.send(rawInvite(b, [["Require", "100rel"]]), b.port);
    await waitFor(() => countResponses(raw, 180) === 1, 1000);
    // retransmissions at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s: intervals 0.5, 1, 2, 4, 8, 16 (no cap at T2 = 4 s)
    const at = [500, 1500, 3500, 7500, 15500, 31500];
    let now = 0;
    for (let i = 0; i < at.length; i++) {
      clock.advance(at[i]! - 1 - now);
      await settle(15);
      expect(countResponses(raw, 180)).toBe(i + 1);
      clock.advance(1);
      now = at[i]!;
      await waitFor(() => countResponses(raw, 180) === i + 2, 1000, `retransmission ${i + 1}`);
    }
    clock.advance(32000 - now);
    const final = await waitForResponse(raw, 500);
    expect(final.status).toBe(500);
    await waitFor(() => failure !== undefined, 1000);
    expect(failure).toMatchObject({ status: 500 });
    expect(b.srf.counts().dialogs.total).toBe(0);
  });

  it("a PRACK stops the retransmissions; a PRACK with an unknown RAck gets 481", async () => {
    b.srf.invite(async (req, res) => {
      res.send(180);
      await b.srf.createUAS(req, res, { localSdp: SDP_B });
    });
    raw.send(rawInvite(b, [["Supported", "100rel"]]), b.port);
    const r180 = await waitForResponse(raw, 180);
    const rseq = r180.rseq!;
    const toTag = r180.to!.params.tag!;
    const prack = (rack: string, branch: string) =>
      parseRequest(
        [
          `PRACK ${b.uri("bob")} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${raw.port};branch=z9hG4bK-${branch}`,
          "Max-Forwards: 70",
          "From: <sip:raw@127.0.0.1>;tag=rawtag",
          `To: <${b.uri("bob")}>;tag=${toTag}`,
          "Call-ID: raw-1@test",
          `CSeq: ${branch === "p1" ? 2 : 3} PRACK`,
          `RAck: ${rack}`,
          "Content-Length: 0",
          "",
          "",
        ].join("\r\n"),
      );
    raw.send(prack(`${rseq + 5} 1 INVITE`, "p1"), b.port);
    await waitFor(() => raw.received.some((m) => !m.isRequest && m.status === 481), 1000);
    raw.send(prack(`${rseq} 1 INVITE`, "p2"), b.port);
    const ok = await waitForResponse(raw, 200);
    expect(ok.cseq!.method === "PRACK" || ok.cseq!.method === "INVITE").toBe(true);
    await waitFor(() => countResponses(raw, 200) >= 2, 1000, "200 PRACK and 200 INVITE");
    const before = countResponses(raw, 180);
    clock.advance(5000);
    await settle();
    expect(countResponses(raw, 180)).toBe(before);
  });
});

describe("forking", () => {
  it("keeps one early dialog per To tag, confirms the first 2xx, ACKs and BYEs the second", async () => {
    const p = a.srf.createUAC(raw.uri, { localSdp: SDP_A });
    const invite = await raw.waitForRequest("INVITE");
    const answer = (status: number, tag: string) => {
      const res = createResponse(invite, status, {
        toTag: tag,
        headers: [
          ["Contact", `<sip:${tag}@127.0.0.1:${raw.port}>`],
          ["Content-Type", "application/sdp"],
        ],
        body: status === 200 ? SDP_B : undefined,
      });
      raw.send(res, a.port);
    };
    answer(180, "fork1");
    answer(180, "fork2");
    await waitFor(() => a.srf.counts().dialogs.early === 2, 1000, "two early dialogs");
    answer(200, "fork2");
    const uac = await p;
    expect(uac.sip.remoteTag).toBe("fork2");
    const ack = await raw.waitForRequest("ACK");
    expect(ack.to!.params.tag).toBe("fork2");
    expect(ack.uriText).toBe(`sip:fork2@127.0.0.1:${raw.port}`);
    expect(a.srf.counts().dialogs).toMatchObject({ total: 1, confirmed: 1 });
    // the other fork answers too: ACK and BYE to it
    answer(200, "fork1");
    await raw.waitForRequest("ACK", 2);
    const bye = await raw.waitForRequest("BYE");
    expect(bye.to!.params.tag).toBe("fork1");
    expect(bye.uriText).toBe(`sip:fork1@127.0.0.1:${raw.port}`);
    raw.send(createResponse(bye, 200), a.port);
    await waitFor(() => a.srf.counts().dialogs.total === 1, 1000);
    // a retransmission of the winning 2xx is ACKed again
    answer(200, "fork2");
    await raw.waitForRequest("ACK", 3);
  });
});

describe("2xx never ACKed", () => {
  it("confirms the dialog, retransmits the 2xx, then BYEs after 64·T1", async () => {
    let dialog: Dialog | undefined;
    let reason = "";
    b.srf.invite(async (req, res) => {
      dialog = await b.srf.createUAS(req, res, { localSdp: SDP_B });
      dialog.on("destroy", (i: { reason: string }) => {
        reason = i.reason;
      });
    });
    raw.send(rawInvite(b), b.port);
    await waitForResponse(raw, 200);
    expect(dialog?.state).toBe("confirmed");
    clock.advance(31_999);
    await settle();
    expect(raw.requests("BYE")).toHaveLength(0);
    expect(countResponses(raw, 200)).toBeGreaterThan(1);
    clock.advance(1);
    const bye = await raw.waitForRequest("BYE");
    expect(bye.callId).toBe("raw-1@test");
    expect(reason).toBe("ack-timeout");
    expect(b.srf.counts().dialogs.total).toBe(0);
  });
});

function countResponses(peer: RawPeer, status: number): number {
  return peer.received.filter((m) => !m.isRequest && m.status === status).length;
}

async function waitForResponse(peer: RawPeer, status: number) {
  await waitFor(() => countResponses(peer, status) > 0, 2000, `${status}`);
  return peer.received.find((m) => !m.isRequest && m.status === status) as import("../../src/sip/message.js").SipResponse;
}
