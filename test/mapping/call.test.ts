import { describe, expect, it } from "vitest";
import { type MessageOf, parseMessage, type Unsigned } from "../../src/agent/messages.js";
import {
  ANONYMOUS_FROM,
  CLEARING_REASONS,
  type DialogEnvelope,
  dsipAnswerToSip,
  dsipByeToSip,
  dsipCancelToSip,
  dsipErrorToSip,
  dsipInviteToSipInvite,
  dsipProgressToSip,
  dsipUpdateToSip,
  GATEWAY_FEATURES,
  sipAnswerToDsipAnswer,
  sipByeToDsipBye,
  sipCancelToDsipCancel,
  sipFailureToDsipError,
  sipInviteToDsipInvite,
  sipProvisionalToDsipProgress,
  sipReofferToDsipUpdate,
} from "../../src/mapping/call.js";
import { Directory } from "../../src/mapping/directory.js";
import { MappingError } from "../../src/mapping/errors.js";

const GW = "did:web:gw.example";
const ALICE = "did:key:z6MkAlice";
const BOB = "did:key:z6MkBob";
const SIG = { alg: "EdDSA" as const, kid: `${ALICE}#k`, jws: "e30..c2ln" };

const WEBRTC_SDP = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:0123456789abcdefghijkl",
  "a=rtpmap:111 opus/48000/2",
  "a=sendrecv",
  "",
].join("\r\n");
const HOLD_SDP = WEBRTC_SDP.replace("a=sendrecv", "a=sendonly");
const INACTIVE_SDP = WEBRTC_SDP.replace("a=sendrecv", "a=inactive");
const RTP_SDP =
  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n";
const RTP_HOLD_2543 = RTP_SDP.replace("c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0");

const directory = new Directory(GW, [
  { number: "+15551230001", did: ALICE, present: "+15551230001", display: "Alice" },
  { user: "bob", did: BOB },
]);

const env = (over: Partial<DialogEnvelope> = {}): DialogEnvelope => ({
  id: "m-2",
  ts: 1_700_000_000,
  from: GW,
  to: ALICE,
  correlates: "call-1",
  ...over,
});

/** Signs nothing: a schema check of what the mapping built, as a peer would parse it. */
function valid<T>(msg: T): T {
  parseMessage({ ...(msg as object), sig: SIG });
  return msg;
}

function thrown(f: () => unknown): MappingError {
  try {
    f();
  } catch (err) {
    if (err instanceof MappingError) return err;
    throw err;
  }
  throw new Error("did not throw");
}

function invite(over: Partial<MessageOf<"dsip.invite">> = {}): MessageOf<"dsip.invite"> {
  return {
    type: "dsip.invite",
    id: "call-9",
    ts: 1_700_000_000,
    from: ALICE,
    to: "tel:+12015550123",
    cap: { ver: "1.0", features: ["webrtc"] },
    media: { sdp: WEBRTC_SDP },
    sig: SIG,
    ...over,
  };
}

describe("INVITE → dsip.invite", () => {
  const base = {
    id: "call-1",
    ts: 1_700_000_000,
    gatewayDid: GW,
    calleeDid: ALICE,
    sdp: WEBRTC_SDP,
  };

  it("sends as the caller's tn DID with number, display, codecs and capabilities", () => {
    // What the mapping builds is what the agent signs.
    const msg: Unsigned<MessageOf<"dsip.invite">> & { from: string } = valid(
      sipInviteToDsipInvite({ ...base, callerNumber: "+12015550123", callerDisplay: "Carol" }),
    );
    expect(msg).toEqual({
      type: "dsip.invite",
      id: "call-1",
      ts: 1_700_000_000,
      from: "did:web:gw.example:tn:12015550123",
      to: ALICE,
      cap: { ver: "1.0", features: [...GATEWAY_FEATURES] },
      media: { sdp: WEBRTC_SDP, codecs: ["opus/48000/2", "PCMU/8000"] },
      caller: { number: "+12015550123", display: "Carol" },
    });
  });

  it("sends a withheld or number-less caller as the gateway, without number or name", () => {
    const withheld = sipInviteToDsipInvite({
      ...base,
      callerNumber: "+12015550123",
      callerDisplay: "Carol",
      callerPrivacy: true,
    });
    expect(withheld.from).toBe(GW);
    expect(withheld.caller).toBeUndefined();
    const unknown = sipInviteToDsipInvite({ ...base, callerNumber: "2015550123", callerDisplay: "Carol" });
    expect(unknown.from).toBe(GW);
    expect(unknown.caller).toEqual({ display: "Carol" });
  });

  it("marks emergency and PSAP callback priority, carries identity and exp", () => {
    const msg = valid(
      sipInviteToDsipInvite({
        ...base,
        priority: "psap-callback",
        identity: { stir: "A" },
        exp: 1_700_000_060,
      }),
    );
    expect(msg).toMatchObject({ priority: "emergency", identity: { stir: "A" }, exp: 1_700_000_060 });
    expect(sipInviteToDsipInvite({ ...base, priority: "Emergency" }).priority).toBe("emergency");
    expect(sipInviteToDsipInvite({ ...base, priority: "urgent" }).priority).toBeUndefined();
  });

  it("refuses a delayed offer (no SDP) with 488", () => {
    for (const sdp of [undefined, "", "hello"]) {
      const err = thrown(() => sipInviteToDsipInvite({ ...base, sdp }));
      expect(err).toMatchObject({ side: "sip", status: 488, code: 488, reason: "media:not-acceptable" });
    }
  });
});

describe("dsip.invite → INVITE", () => {
  const ctx = { gatewayDid: GW, directory, fromHost: "gw.example" };

  it("targets a tel: number and presents the directory's number for the calling DID", () => {
    expect(dsipInviteToSipInvite(invite(), ctx)).toEqual({
      requestUri: "tel:+12015550123",
      target: { kind: "number", e164: "+12015550123" },
      from: { uri: "sip:+15551230001@gw.example;user=phone", display: "Alice" },
      to: { uri: "tel:+12015550123" },
      headers: [],
      body: WEBRTC_SDP,
      contentType: "application/sdp",
      emergency: false,
    });
  });

  it("targets the gateway's tn DIDs and local tel: numbers", () => {
    expect(dsipInviteToSipInvite(invite({ to: "did:web:gw.example:tn:12015550123" }), ctx).target).toEqual({
      kind: "number",
      e164: "+12015550123",
    });
    const local = dsipInviteToSipInvite(invite({ to: "tel:0142685300" }), {
      ...ctx,
      numbers: { defaultCountry: "FR" },
    });
    expect(local.requestUri).toBe("tel:+33142685300");
  });

  it("adds P-Asserted-Identity and X-DSIP-From only when asked", () => {
    const out = dsipInviteToSipInvite(invite(), { ...ctx, assertIdentity: true, exposeDid: true });
    expect(out.headers).toEqual([
      ["P-Asserted-Identity", "<sip:+15551230001@gw.example;user=phone>"],
      ["X-DSIP-From", `<${ALICE}>`],
    ]);
  });

  it("is anonymous with Privacy: id for a DID without a presented number, and never exposes it", () => {
    for (const from of [BOB, "did:key:z6MkStranger"]) {
      const out = dsipInviteToSipInvite(invite({ from }), { ...ctx, assertIdentity: true, exposeDid: true });
      expect(out.from).toEqual({ uri: "sip:anonymous@anonymous.invalid", display: "Anonymous" });
      expect(out.from).toEqual(ANONYMOUS_FROM);
      expect(out.headers).toEqual([["Privacy", "id"]]);
    }
  });

  it("marks emergency priority", () => {
    const out = dsipInviteToSipInvite(invite({ priority: "emergency", to: "tel:911" }), {
      ...ctx,
      numbers: { defaultCountry: "US" },
    });
    expect(out).toMatchObject({ requestUri: "tel:911", emergency: true });
    expect(out.headers).toContainEqual(["Priority", "emergency"]);
  });

  it("refuses a DSIP callee, a missing or non-SDP offer with the precise dsip code", () => {
    expect(thrown(() => dsipInviteToSipInvite(invite({ to: BOB }), ctx))).toMatchObject({
      side: "dsip",
      code: 404,
      reason: "number:not-found",
      status: 404,
    });
    expect(thrown(() => dsipInviteToSipInvite(invite({ media: undefined as never }), ctx))).toMatchObject({
      code: 422,
      reason: "schema:invalid",
    });
    expect(thrown(() => dsipInviteToSipInvite(invite({ media: { sdp: "" } }), ctx))).toMatchObject({
      code: 422,
    });
    expect(thrown(() => dsipInviteToSipInvite(invite({ media: { sdp: "hi" } }), ctx))).toMatchObject({
      code: 488,
      status: 488,
    });
  });
});

describe("progress ⇄ 18x", () => {
  const progress = (
    stage: "trying" | "ringing" | "early-media",
    sdp?: string,
  ): MessageOf<"dsip.progress"> => ({
    type: "dsip.progress",
    ...env(),
    stage,
    ...(sdp ? { media: { sdp } } : {}),
    sig: SIG,
  });

  it("SIP → DSIP: 180 ringing, 18x with SDP early media, others trying", () => {
    expect(valid(sipProvisionalToDsipProgress(env(), { status: 180 }))).toMatchObject({ stage: "ringing" });
    expect(sipProvisionalToDsipProgress(env(), { status: 183, sdp: WEBRTC_SDP })).toMatchObject({
      stage: "early-media",
      media: { sdp: WEBRTC_SDP },
    });
    expect(sipProvisionalToDsipProgress(env(), { status: 180, sdp: WEBRTC_SDP }).stage).toBe("early-media");
    for (const status of [100, 181, 182, 183])
      expect(sipProvisionalToDsipProgress(env(), { status }).stage, String(status)).toBe("trying");
    expect(() => sipProvisionalToDsipProgress(env(), { status: 200 })).toThrow(RangeError);
  });

  it("DSIP → SIP: ringing 180, early-media 183 with SDP, trying nothing", () => {
    expect(dsipProgressToSip(progress("trying"))).toBeUndefined();
    expect(dsipProgressToSip(progress("ringing"))).toEqual({ status: 180, reasonPhrase: "Ringing" });
    expect(dsipProgressToSip(progress("ringing", WEBRTC_SDP))).toMatchObject({
      status: 180,
      body: WEBRTC_SDP,
    });
    expect(dsipProgressToSip(progress("early-media", WEBRTC_SDP))).toEqual({
      status: 183,
      reasonPhrase: "Session Progress",
      body: WEBRTC_SDP,
      contentType: "application/sdp",
    });
    expect(thrown(() => dsipProgressToSip(progress("early-media")))).toMatchObject({ code: 422 });
  });
});

describe("answer ⇄ 200", () => {
  it("SIP → DSIP: the 200's SDP, or the reliable 18x's answer", () => {
    expect(valid(sipAnswerToDsipAnswer(env(), { sdp: WEBRTC_SDP }))).toEqual({
      type: "dsip.answer",
      ...env(),
      media: { sdp: WEBRTC_SDP },
    });
    expect(sipAnswerToDsipAnswer(env(), { earlySdp: HOLD_SDP }).media.sdp).toBe(HOLD_SDP);
    expect(thrown(() => sipAnswerToDsipAnswer(env(), {}))).toMatchObject({ side: "sip", status: 488 });
  });

  it("DSIP → SIP: 200 OK with the answer", () => {
    const answer: MessageOf<"dsip.answer"> = {
      type: "dsip.answer",
      ...env(),
      media: { sdp: WEBRTC_SDP },
      sig: SIG,
    };
    expect(dsipAnswerToSip(answer)).toEqual({
      status: 200,
      reasonPhrase: "OK",
      body: WEBRTC_SDP,
      contentType: "application/sdp",
    });
    expect(thrown(() => dsipAnswerToSip({ ...answer, media: { sdp: "" } }))).toMatchObject({ code: 422 });
    expect(thrown(() => dsipAnswerToSip({ ...answer, media: { sdp: "x" } }))).toMatchObject({ code: 488 });
  });
});

describe("update ⇄ re-INVITE/UPDATE", () => {
  const update = (changes: Record<string, unknown>): MessageOf<"dsip.update"> => ({
    type: "dsip.update",
    ...env(),
    changes,
    sig: SIG,
  });

  it("SIP → DSIP: an offer becomes changes {media, hold}", () => {
    const r = sipReofferToDsipUpdate(env(), { method: "INVITE", sdp: WEBRTC_SDP });
    expect(r).toEqual({
      kind: "update",
      message: { type: "dsip.update", ...env(), changes: { media: { sdp: WEBRTC_SDP }, hold: false } },
    });
    if (r.kind === "update") valid(r.message);
    for (const sdp of [HOLD_SDP, INACTIVE_SDP, RTP_HOLD_2543]) {
      const held = sipReofferToDsipUpdate(env(), { method: "UPDATE", sdp });
      expect(held.kind === "update" && held.message.changes.hold).toBe(true);
    }
  });

  it("SIP → DSIP: an offerless re-INVITE or refresh stays on the SIP side", () => {
    expect(sipReofferToDsipUpdate(env(), { method: "INVITE" })).toEqual({ kind: "refresh" });
    expect(sipReofferToDsipUpdate(env(), { method: "UPDATE", sdp: "" })).toEqual({ kind: "refresh" });
    expect(thrown(() => sipReofferToDsipUpdate(env(), { method: "INVITE", sdp: "x" }))).toMatchObject({
      side: "sip",
      status: 488,
    });
  });

  it("DSIP → SIP: re-INVITE once confirmed, UPDATE while early", () => {
    const confirmed = { dialogState: "confirmed" as const, peerAllowsUpdate: false };
    expect(dsipUpdateToSip(update({ media: { sdp: WEBRTC_SDP } }), confirmed)).toEqual({
      method: "INVITE",
      body: WEBRTC_SDP,
      contentType: "application/sdp",
      hold: false,
    });
    expect(dsipUpdateToSip(update({ media: { sdp: HOLD_SDP }, hold: true }), confirmed).hold).toBe(true);
    expect(
      dsipUpdateToSip(update({ media: { sdp: RTP_SDP } }), { dialogState: "early", peerAllowsUpdate: true })
        .method,
    ).toBe("UPDATE");
  });

  it("DSIP → SIP: refuses an update without media, a contradicting hold flag, or an early re-offer SIP cannot carry", () => {
    const confirmed = { dialogState: "confirmed" as const, peerAllowsUpdate: true };
    expect(thrown(() => dsipUpdateToSip(update({ hold: true }), confirmed))).toMatchObject({
      side: "dsip",
      code: 422,
      reason: "schema:invalid",
    });
    expect(thrown(() => dsipUpdateToSip(update({ media: { sdp: "x" } }), confirmed))).toMatchObject({
      code: 488,
    });
    expect(
      thrown(() => dsipUpdateToSip(update({ media: { sdp: WEBRTC_SDP }, hold: true }), confirmed)),
    ).toMatchObject({ code: 422 });
    expect(
      thrown(() =>
        dsipUpdateToSip(update({ media: { sdp: WEBRTC_SDP } }), {
          dialogState: "early",
          peerAllowsUpdate: false,
        }),
      ),
    ).toMatchObject({ code: 488, status: 488 });
  });
});

describe("bye/cancel ⇄ BYE/CANCEL", () => {
  const bye = (reason?: string): MessageOf<"dsip.bye"> => ({
    type: "dsip.bye",
    ...env(),
    ...(reason !== undefined ? { reason } : {}),
    sig: SIG,
  });
  const cancel = (reason?: string): MessageOf<"dsip.cancel"> => ({
    type: "dsip.cancel",
    ...env(),
    ...(reason !== undefined ? { reason } : {}),
    sig: SIG,
  });

  it.each(CLEARING_REASONS)("$reason ⇄ $protocol cause $cause, both ways", (row) => {
    const header = `${row.protocol};cause=${row.cause};text="${row.text}"`;
    expect(dsipByeToSip(bye(row.reason))).toEqual({ method: "BYE", headers: [["Reason", header]] });
    expect(dsipCancelToSip(cancel(row.reason))).toEqual({ method: "CANCEL", headers: [["Reason", header]] });
    expect(sipByeToDsipBye(env(), [header]).reason).toBe(row.reason);
    expect(sipCancelToDsipCancel(env(), [header]).reason).toBe(row.reason);
  });

  it("keeps unknown causes as q850:/sip: tokens, both ways", () => {
    expect(sipByeToDsipBye(env(), ["Q.850;cause=34"]).reason).toBe("q850:34");
    expect(dsipByeToSip(bye("q850:34")).headers).toEqual([["Reason", "Q.850;cause=34"]]);
    expect(sipCancelToDsipCancel(env(), ["SIP;cause=480"]).reason).toBe("sip:480");
    expect(dsipCancelToSip(cancel("sip:480")).headers).toEqual([["Reason", "SIP;cause=480"]]);
  });

  it("BYE without Reason is a hangup; CANCEL without Reason has none; DSIP without reason sends none", () => {
    expect(valid(sipByeToDsipBye(env()))).toEqual({ type: "dsip.bye", ...env(), reason: "hangup" });
    expect(valid(sipCancelToDsipCancel(env(), ["garbage;;", "X-Foo;cause=1"]))).toEqual({
      type: "dsip.cancel",
      ...env(),
    });
    expect(dsipByeToSip(bye())).toEqual({ method: "BYE", headers: [] });
    expect(dsipCancelToSip(cancel())).toEqual({ method: "CANCEL", headers: [] });
  });

  it("sends a free-form reason as normal clearing with its text", () => {
    expect(dsipByeToSip(bye("user left")).headers).toEqual([["Reason", 'Q.850;cause=16;text="user left"']]);
  });

  it("prefers a known cause among several Reason values", () => {
    expect(
      sipByeToDsipBye(env(), ['Q.850;cause=99, SIP;cause=200;text="Call completed elsewhere"']).reason,
    ).toBe("answered-elsewhere");
  });
});

describe("dsip.error ⇄ final failure", () => {
  it("maps a SIP failure to a dsip.error that parses", () => {
    expect(valid(sipFailureToDsipError(env(), 486, "Busy Here"))).toEqual({
      type: "dsip.error",
      ...env(),
      code: 486,
      reason: "callee:busy",
      detail: "Busy Here",
    });
  });

  it("maps a dsip.error to the SIP final response", () => {
    const err: MessageOf<"dsip.error"> = {
      type: "dsip.error",
      ...env(),
      code: 487,
      reason: "call:cancelled",
      sig: SIG,
    };
    expect(dsipErrorToSip(err)).toEqual({
      status: 487,
      reasonPhrase: "Request Terminated",
      reasonHeader: 'SIP;cause=487;text="call:cancelled"',
    });
  });
});
