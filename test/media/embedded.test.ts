import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedEngine } from "../../src/media/embedded.js";
import { createMediaEngine, type MediaEngine, MediaEngineError } from "../../src/media/engine.js";
import { parseAudio } from "../../src/media/sdp.js";
import { lastSecondRatio, RtpPeer, WebRtcPeer } from "../support/media-peers.js";

// A range of our own below the kernel's ephemeral ports (32768+) and clear of the SIP tests' fixed ports.
const PORT_MIN = 12000 + (process.pid % 35) * 200;
const RUN_MS = 3000;

function pcmu(r: { byPt: Map<number, number> }): number {
  return r.byPt.get(0) ?? 0;
}

describe("embedded engine: WebRTC ⇄ RTP over loopback", () => {
  let engine: MediaEngine;

  beforeAll(async () => {
    engine = await createMediaEngine({
      engine: "embedded",
      embedded: { host: "127.0.0.1", portMin: PORT_MIN, portMax: PORT_MIN + 199 },
    });
  });

  afterAll(async () => {
    await engine.close();
  });

  it("WebRTC offerer → RTP answerer: tones both ways, DTMF to the WebRTC side, freed on delete", async () => {
    const web = new WebRtcPeer();
    const phone = await RtpPeer.open();
    const callId = "emb-webrtc-offer";
    try {
      const toSip = await engine.offer({ callId, sdp: await web.createOffer(), from: "webrtc", to: "rtp" });
      const sipInfo = parseAudio(toSip);
      expect(sipInfo.proto).toBe("RTP/AVP");
      expect(sipInfo.ice).toBe(false);
      expect(sipInfo.address).toBe("127.0.0.1");
      expect(sipInfo.codecs.map((c) => c.name)).toEqual(["PCMU", "telephone-event"]);
      const tePt = sipInfo.codecs.find((c) => c.name === "telephone-event")!.pt;
      phone.useRemote(toSip);

      // Early media (183 with SDP) and then the 200 with the same SDP: one answer toward WebRTC.
      const toWeb = await engine.answer({ callId, sdp: phone.sdp({ tePt }), from: "rtp", to: "webrtc" });
      expect(await engine.answer({ callId, sdp: phone.sdp({ tePt }), from: "rtp", to: "webrtc" })).toBe(
        toWeb,
      );
      expect(toWeb).toContain("UDP/TLS/RTP/SAVPF");
      expect(toWeb).toContain("a=sendrecv");
      await web.acceptAnswer(toWeb);
      await web.connected();

      await Promise.all([web.sendTone(700, RUN_MS), phone.sendTone(1300, RUN_MS, { pt: tePt, event: 5 })]);
      await new Promise((r) => setTimeout(r, 300));

      expect(pcmu(phone.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(web.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(phone.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(web.received, 1300, 700)).toBeGreaterThanOrEqual(100);
      // RFC 4733 from the SIP phone kept its payload type through werift's sender.
      expect(web.received.byPt.get(tePt) ?? 0).toBeGreaterThanOrEqual(3);
      const st = engine.stats(callId)!;
      expect(st.packetsAtoB).toBeGreaterThanOrEqual(100);
      expect(st.packetsBtoA).toBeGreaterThanOrEqual(100);

      await engine.delete(callId);
      expect(engine.sessions()).toBe(0);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
    } finally {
      await engine.delete(callId);
      phone.close();
      await web.close();
    }
  });

  it("RTP offerer → WebRTC answerer: tones both ways, DTMF to the SIP side", async () => {
    const web = new WebRtcPeer();
    const phone = await RtpPeer.open();
    const callId = "emb-rtp-offer";
    try {
      const toWeb = await engine.offer({ callId, sdp: phone.sdp(), from: "rtp", to: "webrtc" });
      expect(toWeb).toContain("UDP/TLS/RTP/SAVPF");
      expect(toWeb).toContain("a=fingerprint:");
      expect(toWeb).toMatch(/a=candidate:.* 127\.0\.0\.1 /);
      const webAnswer = await web.answer(toWeb);
      const toSip = await engine.answer({ callId, sdp: webAnswer, from: "webrtc", to: "rtp" });
      // dsip.progress with SDP, then dsip.answer: the SIP offerer gets an identical SDP both times.
      expect(await engine.answer({ callId, sdp: webAnswer, from: "webrtc", to: "rtp" })).toBe(toSip);
      const sipInfo = parseAudio(toSip);
      expect(sipInfo.proto).toBe("RTP/AVP");
      expect(sipInfo.codecs[0]!.name).toBe("PCMU");
      expect(sipInfo.direction).toBe("sendrecv");
      phone.useRemote(toSip);
      await web.connected();

      await Promise.all([phone.sendTone(700, RUN_MS), web.sendTone(1300, RUN_MS, { event: 9 })]);
      await new Promise((r) => setTimeout(r, 300));

      // RFC 4733 from the WebRTC side reaches the phone with the offered telephone-event PT (101).
      expect(phone.received.byPt.get(101) ?? 0).toBeGreaterThanOrEqual(3);
      expect(pcmu(web.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(phone.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(web.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(phone.received, 1300, 700)).toBeGreaterThanOrEqual(100);
      const st = engine.stats(callId)!;
      expect(st.packetsAtoB).toBeGreaterThanOrEqual(100);
      expect(st.packetsBtoA).toBeGreaterThanOrEqual(100);
      await engine.delete(callId);
      expect(engine.sessions()).toBe(0);
    } finally {
      await engine.delete(callId);
      phone.close();
      await web.close();
    }
  });

  it("trickled candidates via ice() are accepted; a hold re-offer from the SIP callee renegotiates the WebRTC leg", async () => {
    const web = new WebRtcPeer();
    const phone = await RtpPeer.open();
    const callId = "emb-trickle";
    try {
      // Offer without candidates, then trickle them; the engine buffers them until it answers.
      const full = await web.createOffer();
      const candidates = full.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
      expect(candidates.length).toBeGreaterThan(0);
      const bare = full
        .split(/\r?\n/)
        .filter((l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates")
        .join("\r\n");
      const toSip = await engine.offer({ callId, sdp: bare, from: "webrtc", to: "rtp" });
      for (const c of candidates) await engine.ice!(callId, c);
      await engine.ice!(callId, null);
      phone.useRemote(toSip);
      await web.acceptAnswer(
        await engine.answer({ callId, sdp: phone.sdp({ tePt: 126 }), from: "rtp", to: "webrtc" }),
      );
      await web.connected();

      // The callee (SIP) puts the call on hold: a re-offer in the reverse direction.
      const holdOffer = await engine.offer({
        callId,
        sdp: phone.sdp({ tePt: 126, direction: "sendonly" }),
        from: "rtp",
        to: "webrtc",
        reverse: true,
      });
      expect(holdOffer).toContain("a=sendonly");
      await web.pc.setRemoteDescription({ type: "offer", sdp: holdOffer });
      await web.pc.setLocalDescription(await web.pc.createAnswer());
      const holdAnswer = await engine.answer({
        callId,
        sdp: web.pc.localDescription!.sdp,
        from: "webrtc",
        to: "rtp",
        reverse: true,
      });
      expect(parseAudio(holdAnswer).direction).toBe("recvonly");
      expect(parseAudio(holdAnswer).port).toBe(parseAudio(toSip).port);
      expect(engine.sessions()).toBe(1);

      // Media still flows from the held party's side (sendonly) after the renegotiation.
      await phone.sendTone(1300, 1500);
      await new Promise((r) => setTimeout(r, 200));
      expect(pcmu(web.received)).toBeGreaterThanOrEqual(50);
      expect(lastSecondRatio(web.received, 1300, 700)).toBeGreaterThanOrEqual(100);
      await engine.delete(callId);
      expect(engine.sessions()).toBe(0);
    } finally {
      await engine.delete(callId);
      phone.close();
      await web.close();
    }
  });

  it("werift refusing the WebRTC offer at answer time is a 503 that frees the call's ports", async () => {
    const phone = await RtpPeer.open();
    const callId = "emb-werift-fails";
    try {
      const web = [
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 0",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9",
        "a=rtpmap:0 PCMU/8000",
        "a=mid:0",
        "a=sendrecv",
        "a=candidate:garbage",
        "",
      ].join("\r\n");
      await engine.offer({ callId, sdp: web, from: "webrtc", to: "rtp" });
      expect((engine as EmbeddedEngine).portsInUse()).toBe(1);
      const err = await engine
        .answer({ callId, sdp: phone.sdp(), from: "rtp", to: "webrtc" })
        .catch((e) => e);
      expect(err).toBeInstanceOf(MediaEngineError);
      expect(err.status).toBe(503);
      expect(err.code).toBe("webrtc-failure");
      expect(engine.sessions()).toBe(0);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
      expect(
        await engine.answer({ callId, sdp: phone.sdp(), from: "rtp", to: "webrtc" }).catch((e) => e.code),
      ).toBe("no-session");
    } finally {
      await engine.delete(callId);
      phone.close();
    }
  });

  it("a WebRTC offer without G.711 fails with 503 and leaves nothing behind", async () => {
    const sdp = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "c=IN IP4 0.0.0.0",
      "a=rtpmap:111 opus/48000/2",
      "a=ice-ufrag:abcd",
      "a=ice-pwd:abcdefghijklmnopqrstuvwx",
      "a=fingerprint:sha-256 00:11",
      "a=setup:actpass",
      "a=mid:0",
      "a=rtcp-mux",
      "",
    ].join("\r\n");
    const err = await engine.offer({ callId: "emb-opus", sdp, from: "webrtc", to: "rtp" }).catch((e) => e);
    expect(err).toBeInstanceOf(MediaEngineError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("codec-mismatch");
    expect(engine.sessions()).toBe(0);
    expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
  });
});

describe("embedded engine: RTP ⇄ RTP relay", () => {
  it("relays tones both ways and latches onto the real source address", async () => {
    const engine = await createMediaEngine({
      engine: "embedded",
      embedded: { portMin: PORT_MIN + 100, portMax: PORT_MIN + 199 },
    });
    const caller = await RtpPeer.open();
    const callee = await RtpPeer.open();
    // The caller's SDP names a port nobody listens on (a NATed phone): only latching gets audio back to it.
    const dead = await RtpPeer.open();
    const deadPort = dead.port;
    dead.close();
    try {
      const callId = "emb-rtp-rtp";
      const toCallee = await engine.offer({
        callId,
        sdp: caller.sdp({ port: deadPort }),
        from: "rtp",
        to: "rtp",
      });
      const calleeView = parseAudio(toCallee);
      expect(calleeView.address).toBe("127.0.0.1");
      expect(calleeView.port).not.toBe(deadPort);
      expect(toCallee).toMatch(new RegExp(`a=rtcp:${calleeView.port + 1} IN IP4 127\\.0\\.0\\.1`));
      callee.useRemote(toCallee);
      const toCaller = await engine.answer({ callId, sdp: callee.sdp(), from: "rtp", to: "rtp" });
      caller.useRemote(toCaller);
      expect(caller.remote!.port).not.toBe(calleeView.port);

      await Promise.all([caller.sendTone(700, RUN_MS), callee.sendTone(1300, RUN_MS)]);
      await new Promise((r) => setTimeout(r, 200));
      expect(pcmu(callee.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(caller.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(callee.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(caller.received, 1300, 700)).toBeGreaterThanOrEqual(100);
      // Symmetric RTP: each phone hears the relay from the port it sends to.
      expect([...caller.sources]).toEqual([`127.0.0.1:${caller.remote!.port}`]);
      expect([...callee.sources]).toEqual([`127.0.0.1:${callee.remote!.port}`]);

      // Hold and resume by re-offer on the same call: same relay port, direction passed through.
      const hold = await engine.offer({
        callId,
        sdp: caller.sdp({ direction: "sendonly" }),
        from: "rtp",
        to: "rtp",
      });
      expect(parseAudio(hold).port).toBe(calleeView.port);
      expect(parseAudio(hold).direction).toBe("sendonly");
      const holdAns = await engine.answer({
        callId,
        sdp: callee.sdp({ direction: "recvonly" }),
        from: "rtp",
        to: "rtp",
      });
      expect(parseAudio(holdAns).direction).toBe("recvonly");
      const resume = await engine.offer({ callId, sdp: caller.sdp(), from: "rtp", to: "rtp" });
      expect(parseAudio(resume).direction).toBe("sendrecv");
      // The callee re-offers (reverse): its SDP goes to the caller on the caller-facing port.
      const rev = await engine.offer({ callId, sdp: callee.sdp(), from: "rtp", to: "rtp", reverse: true });
      expect(parseAudio(rev).port).toBe(caller.remote!.port);
      const revAns = await engine.answer({
        callId,
        sdp: caller.sdp(),
        from: "rtp",
        to: "rtp",
        reverse: true,
      });
      expect(parseAudio(revAns).port).toBe(calleeView.port);
      expect(engine.sessions()).toBe(1);
    } finally {
      caller.close();
      callee.close();
      await engine.close();
    }
    expect(engine.sessions()).toBe(0);
    expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
  });

  it("concurrent offers for one call build one session; a delete racing the first offer frees it", async () => {
    const engine = await createMediaEngine({
      engine: "embedded",
      embedded: { portMin: PORT_MIN + 170, portMax: PORT_MIN + 189 },
    });
    const phone = await RtpPeer.open();
    try {
      const [x, y] = await Promise.all([
        engine.offer({ callId: "race", sdp: phone.sdp(), from: "rtp", to: "rtp" }),
        engine.offer({ callId: "race", sdp: phone.sdp(), from: "rtp", to: "rtp" }),
      ]);
      expect(parseAudio(x).port).toBe(parseAudio(y).port);
      expect(engine.sessions()).toBe(1);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(2);
      const pending = engine
        .offer({ callId: "race2", sdp: phone.sdp(), from: "rtp", to: "rtp" })
        .catch((e) => e);
      await engine.delete("race2");
      await pending;
      await engine.delete("race");
      expect(engine.sessions()).toBe(0);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
    } finally {
      phone.close();
      await engine.close();
    }
  });

  it("port exhaustion is a MediaEngineError and frees the half-built call", async () => {
    // Four ports = two RTP/RTCP pairs = exactly one rtp⇄rtp call.
    const engine = await createMediaEngine({
      engine: "embedded",
      embedded: { portMin: PORT_MIN + 190, portMax: PORT_MIN + 193 },
    });
    const phone = await RtpPeer.open();
    try {
      await engine.offer({ callId: "one", sdp: phone.sdp(), from: "rtp", to: "rtp" });
      expect((engine as EmbeddedEngine).portsInUse()).toBe(2);
      const err = await engine
        .offer({ callId: "two", sdp: phone.sdp(), from: "rtp", to: "rtp" })
        .catch((e) => e);
      expect(err).toBeInstanceOf(MediaEngineError);
      expect(err.code).toBe("no-ports");
      expect(err.status).toBe(503);
      expect(engine.sessions()).toBe(1);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(2);
      await engine.delete("one");
      await engine.delete("never-existed");
      expect(engine.sessions()).toBe(0);
      expect((engine as EmbeddedEngine).portsInUse()).toBe(0);
      // Freed ports are usable again.
      await engine.offer({ callId: "three", sdp: phone.sdp(), from: "rtp", to: "rtp" });
      expect(engine.sessions()).toBe(1);
    } finally {
      phone.close();
      await engine.close();
    }
  });
});
