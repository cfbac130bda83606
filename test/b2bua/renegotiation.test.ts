/**
 * Renegotiation with a fake media engine and a fake SIP dialog: what reaches
 * the engine, the SIP side and the DSIP side for each kind of re-offer.
 */
import { EventEmitter } from "node:events";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { MessageOf } from "../../src/agent/index.js";
import { Renegotiation, type RenegotiationHost } from "../../src/b2bua/renegotiation.js";
import { type MediaEngine, MediaEngineError, type MediaRequest } from "../../src/media/index.js";
import { type Dialog, SipStatusError, type SrfRequest, type SrfResponse } from "../../src/sip/index.js";

const rtpSdp = (dir: string) =>
  [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 4000 RTP/AVP 0",
    `a=${dir}`,
    "",
  ].join("\r\n");
const webrtcSdp = (dir: string, setup = "active") =>
  [
    "v=0",
    "o=- 2 0 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 0",
    "c=IN IP4 0.0.0.0",
    `a=${dir}`,
    "a=ice-ufrag:abcd",
    "a=ice-pwd:0123456789abcdef012345",
    `a=setup:${setup}`,
    "a=mid:0",
    "",
  ].join("\r\n");
const dirOf = (sdp: string) => /^a=(sendrecv|sendonly|recvonly|inactive)/m.exec(sdp)?.[1];

class FakeMedia {
  calls: Array<{ op: "offer" | "answer" } & MediaRequest> = [];
  fail = false;
  async offer(req: MediaRequest): Promise<string> {
    this.calls.push({ op: "offer", ...req });
    if (this.fail) throw new MediaEngineError("engine-error", "boom");
    const d = dirOf(req.sdp) ?? "sendrecv";
    return req.to === "webrtc" ? webrtcSdp(d, "actpass") : rtpSdp(d);
  }
  async answer(req: MediaRequest): Promise<string> {
    this.calls.push({ op: "answer", ...req });
    const d = dirOf(req.sdp) ?? "sendrecv";
    return req.to === "webrtc" ? webrtcSdp(d, "passive") : rtpSdp(d);
  }
}

class FakeDialog extends EventEmitter {
  local = { sdp: rtpSdp("sendrecv"), uri: "", contact: "" };
  remote = { sdp: rtpSdp("sendrecv"), uri: "" };
  modified: string[] = [];
  refuse: number | undefined;
  async modify(sdp: string): Promise<string> {
    this.modified.push(sdp);
    if (this.refuse) throw new SipStatusError(this.refuse, "Not Acceptable Here");
    return rtpSdp(dirOf(sdp) === "sendonly" ? "recvonly" : "sendrecv");
  }
}

function res(): SrfResponse & { sent: Array<{ status: number; body?: string }> } {
  const sent: Array<{ status: number; body?: string }> = [];
  return {
    sent,
    get finalSent() {
      return sent.length > 0;
    },
    send(status: number, opts?: { body?: string }) {
      sent.push({ status, ...(opts?.body !== undefined ? { body: opts.body } : {}) });
      return undefined;
    },
  } as unknown as SrfResponse & { sent: Array<{ status: number; body?: string }> };
}

function setup(sipIsCallee: boolean) {
  const media = new FakeMedia();
  const dialog = new FakeDialog();
  const sent: Array<Record<string, unknown>> = [];
  const failures: string[] = [];
  const host: RenegotiationHost = {
    callId: "call-1",
    media: media as unknown as MediaEngine,
    log: () => pino({ level: "silent" }),
    sipIsCallee,
    envelope: () => ({
      id: `e${sent.length}`,
      ts: 1,
      from: "did:web:gw",
      to: "did:key:peer",
      correlates: "call-1",
    }),
    send: (m) => sent.push(m as Record<string, unknown>),
    isEnded: () => failures.length > 0,
    mediaFailed: (during) => failures.push(during),
  };
  const r = new Renegotiation(
    host,
    webrtcSdp("sendrecv", sipIsCallee ? "actpass" : "active"),
    webrtcSdp("sendrecv"),
  );
  r.attach(dialog as unknown as Dialog);
  return { media, dialog, sent, failures, r };
}

const reinvite = (dialog: FakeDialog, body: string) => {
  const response = res();
  dialog.emit("modify", { body } as SrfRequest, response);
  return response;
};

const update = (id: string, changes: object) =>
  ({
    type: "dsip.update",
    id,
    from: "did:key:peer",
    to: "did:web:gw",
    correlates: "call-1",
    ts: 1,
    changes,
  }) as unknown as MessageOf<"dsip.update">;

describe("Renegotiation", () => {
  it("a SIP hold re-INVITE: engine re-offer (reverse on a DSIP → SIP call), 200 recvonly, dsip.update hold", async () => {
    const { media, dialog, sent, r } = setup(true);
    const response = reinvite(dialog, rtpSdp("sendonly"));
    await r.idle();
    expect(media.calls.map((c) => [c.op, c.from, c.to, c.reverse])).toEqual([
      ["offer", "rtp", "webrtc", true],
      ["answer", "webrtc", "rtp", true],
    ]);
    // The engine's WebRTC leg is answered with the peer's SDP: recvonly, and the role in use (passive).
    expect(dirOf(media.calls[1]!.sdp)).toBe("recvonly");
    expect(media.calls[1]!.sdp).toContain("a=setup:passive");
    expect(response.sent).toHaveLength(1);
    expect(response.sent[0]!.status).toBe(200);
    expect(dirOf(response.sent[0]!.body!)).toBe("recvonly");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: "dsip.update", correlates: "call-1", changes: { hold: true } });
    expect(dirOf((sent[0]!.changes as { media: { sdp: string } }).media.sdp)).toBe("sendonly");
  });

  it("an offerless re-INVITE gets the current SDP and nothing goes to DSIP; a body not SDP gets 488", async () => {
    const { media, dialog, sent, r } = setup(false);
    const a = reinvite(dialog, "");
    const b = reinvite(dialog, "hello");
    await r.idle();
    expect(a.sent).toEqual([{ status: 200, body: dialog.local.sdp }]);
    expect(b.sent).toEqual([{ status: 488 }]);
    expect(media.calls).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("the engine failing on a SIP re-offer: 503 and the call is ended", async () => {
    const { media, dialog, sent, failures, r } = setup(false);
    media.fail = true;
    const response = reinvite(dialog, rtpSdp("sendonly"));
    await r.idle();
    expect(response.sent).toEqual([{ status: 503 }]);
    expect(failures).toEqual(["INVITE re-offer"]);
    expect(sent).toEqual([]);
  });

  it("dsip.update hold: engine re-offer towards SIP (reverse on a SIP → DSIP call), re-INVITE sendonly, answer back", async () => {
    const { media, dialog, sent, r } = setup(false);
    r.onDsipUpdate(
      update("u1", { media: { sdp: webrtcSdp("sendonly") }, hold: true }),
      dialog as unknown as Dialog,
    );
    await r.idle();
    expect(media.calls.map((c) => [c.op, c.from, c.to, c.reverse])).toEqual([
      ["offer", "webrtc", "rtp", true],
      ["answer", "rtp", "webrtc", true],
    ]);
    expect(dialog.modified.map(dirOf)).toEqual(["sendonly"]);
    expect(sent).toEqual([]);
  });

  it("bad or refused dsip.update: dsip.error correlating the update, the call goes on", async () => {
    const { dialog, sent, failures, r } = setup(true);
    r.onDsipUpdate(update("u1", { hold: true }), dialog as unknown as Dialog);
    r.onDsipUpdate(
      update("u2", { media: { sdp: webrtcSdp("sendonly") }, hold: false }),
      dialog as unknown as Dialog,
    );
    r.onDsipUpdate(update("u3", { media: { sdp: "nope" } }), dialog as unknown as Dialog);
    r.onDsipUpdate(update("u4", { media: { sdp: webrtcSdp("sendonly") } }), undefined); // before the answer
    dialog.refuse = 488;
    r.onDsipUpdate(update("u5", { media: { sdp: webrtcSdp("sendonly") } }), dialog as unknown as Dialog);
    await r.idle();
    expect(sent.map((m) => [m.type, m.correlates, m.code])).toEqual([
      ["dsip.error", "u1", 422],
      ["dsip.error", "u2", 422],
      ["dsip.error", "u3", 488],
      ["dsip.error", "u4", 488],
      ["dsip.error", "u5", 488],
    ]);
    expect(failures).toEqual([]);
  });

  it("a re-INVITE refused by the SIP side: the engine's offer is closed with the SIP side's current SDP", async () => {
    const { media, dialog, sent, failures, r } = setup(true);
    dialog.refuse = 488;
    r.onDsipUpdate(update("u1", { media: { sdp: webrtcSdp("sendonly") } }), dialog as unknown as Dialog);
    await r.idle();
    expect(media.calls.map((c) => [c.op, c.from, c.to, c.reverse, dirOf(c.sdp)])).toEqual([
      ["offer", "webrtc", "rtp", false, "sendonly"],
      ["answer", "rtp", "webrtc", false, "sendrecv"],
    ]);
    expect(sent.map((m) => [m.type, m.correlates, m.code])).toEqual([["dsip.error", "u1", 488]]);
    expect(failures).toEqual([]);
  });
});
