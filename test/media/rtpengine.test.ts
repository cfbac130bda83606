import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMediaEngine,
  type MediaEngine,
  MediaEngineError,
  type MediaLogger,
} from "../../src/media/engine.js";
import { addSsrc, parseAudio } from "../../src/media/sdp.js";
import { lastSecondRatio, RtpPeer, WebRtcPeer } from "../support/media-peers.js";
import { hasRtpengine, type RunningRtpengine, startRtpengine } from "../support/rtpengine.js";

const RUN_MS = 3000;
const present = hasRtpengine();

function pcmu(r: { byPt: Map<number, number> }): number {
  return r.byPt.get(0) ?? 0;
}

describe.skipIf(!present)("rtpengine engine against a private rtpengine", () => {
  let rtpe: RunningRtpengine;
  let engine: MediaEngine;

  beforeAll(async () => {
    rtpe = await startRtpengine();
    engine = await createMediaEngine({
      engine: "rtpengine",
      rtpengine: { host: rtpe.host, port: rtpe.ngPort, timeoutMs: 2000 },
    });
  }, 20_000);

  afterAll(async () => {
    if (process.env.RTPE_LOG) console.log(rtpe?.log().split("\n").slice(-60).join("\n"));
    await engine?.close();
    await rtpe?.stop();
  });

  it("WebRTC offerer → RTP answerer (flag set A): tones both ways", async () => {
    const web = new WebRtcPeer();
    const phone = await RtpPeer.open();
    const callId = `rtpe-webrtc-offer-${process.pid}`;
    try {
      const toSip = await engine.offer({ callId, sdp: await web.createOffer(), from: "webrtc", to: "rtp" });
      const sipInfo = parseAudio(toSip);
      expect(sipInfo.proto).toBe("RTP/AVP");
      expect(sipInfo.ice).toBe(false);
      expect(sipInfo.codecs[0]!.name).toBe("PCMU");
      const tePt = sipInfo.codecs.find((c) => c.name === "telephone-event")?.pt ?? 126;
      phone.useRemote(toSip);

      const toWeb = await engine.answer({ callId, sdp: phone.sdp({ tePt }), from: "rtp", to: "webrtc" });
      expect(toWeb).toContain("UDP/TLS/RTP/SAVPF");
      expect(toWeb).toContain("a=fingerprint:");
      expect(toWeb).not.toMatch(/^a=rtcp:\d+\r?$/m);
      // The phone signals no SSRC and rtpengine passes its SSRC through; werift drops
      // unsignalled SSRCs, so a werift softphone needs it written in (docs/media.md).
      await web.acceptAnswer(addSsrc(toWeb, phone.ssrc));
      await web.connected();

      await Promise.all([web.sendTone(700, RUN_MS), phone.sendTone(1300, RUN_MS)]);
      await new Promise((r) => setTimeout(r, 300));

      expect(pcmu(phone.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(web.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(phone.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(web.received, 1300, 700)).toBeGreaterThanOrEqual(100);
      const st = await engine.refreshStats!(callId);
      expect(st!.packetsAtoB).toBeGreaterThanOrEqual(100);
      expect(st!.packetsBtoA).toBeGreaterThanOrEqual(100);
    } finally {
      await engine.delete(callId);
      phone.close();
      await web.close();
    }
    expect(engine.sessions()).toBe(0);
  });

  it("RTP offerer → WebRTC answerer (flag set B): tones both ways", async () => {
    const web = new WebRtcPeer();
    const phone = await RtpPeer.open();
    const callId = `rtpe-rtp-offer-${process.pid}`;
    try {
      const toWeb = await engine.offer({ callId, sdp: phone.sdp(), from: "rtp", to: "webrtc" });
      expect(toWeb).toContain("UDP/TLS/RTP/SAVPF");
      expect(toWeb).toContain("a=rtcp-mux");
      const webAnswer = await web.answer(addSsrc(toWeb, phone.ssrc));
      const toSip = await engine.answer({ callId, sdp: webAnswer, from: "webrtc", to: "rtp" });
      const sipInfo = parseAudio(toSip);
      expect(sipInfo.proto).toBe("RTP/AVP");
      expect(sipInfo.ice).toBe(false);
      phone.useRemote(toSip);
      await web.connected();

      await Promise.all([phone.sendTone(700, RUN_MS), web.sendTone(1300, RUN_MS)]);
      await new Promise((r) => setTimeout(r, 300));

      expect(pcmu(web.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(phone.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(web.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(phone.received, 1300, 700)).toBeGreaterThanOrEqual(100);
    } finally {
      await engine.delete(callId);
      phone.close();
      await web.close();
    }
    expect(engine.sessions()).toBe(0);
  });

  it("SDP shapes toward SIP for a Chrome-like offer: G.711 passed through, Opus only transcoded when G.711 is missing", async () => {
    const chrome = (pts: string, maps: string[]): string =>
      [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        `m=audio 9 UDP/TLS/RTP/SAVPF ${pts}`,
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "a=ice-ufrag:Ab12",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00",
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=sendrecv",
        "a=rtcp-mux",
        ...maps,
        "a=ssrc:1111 cname:x",
        "",
      ].join("\r\n");
    const full = chrome("111 0 8 110 126", [
      "a=rtpmap:111 opus/48000/2",
      "a=fmtp:111 minptime=10;useinbandfec=1",
      "a=rtpmap:0 PCMU/8000",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:110 telephone-event/48000",
      "a=rtpmap:126 telephone-event/8000",
    ]);
    const toSip = parseAudio(
      await engine.offer({ callId: `shape-${process.pid}`, sdp: full, from: "webrtc", to: "rtp" }),
    );
    await engine.delete(`shape-${process.pid}`);
    expect(toSip.proto).toBe("RTP/AVP");
    expect(toSip.ice).toBe(false);
    expect(toSip.codecs.map((c) => `${c.name}/${c.clock}`)).toEqual([
      "PCMU/8000",
      "PCMA/8000",
      "telephone-event/8000",
    ]);

    const opusOnly = chrome("111 126", ["a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000"]);
    const transcoded = parseAudio(
      await engine.offer({ callId: `opus-${process.pid}`, sdp: opusOnly, from: "webrtc", to: "rtp" }),
    );
    await engine.delete(`opus-${process.pid}`);
    const names = transcoded.codecs.map((c) => c.name);
    expect(names).toContain("PCMU");
    expect(names).toContain("PCMA");
    expect(names).not.toContain("opus");
    expect(engine.sessions()).toBe(0);
  });

  it("RTP ⇄ RTP: plain relay, a hold re-offer and a reverse re-offer from the callee", async () => {
    const caller = await RtpPeer.open();
    const callee = await RtpPeer.open();
    const callId = `rtpe-rtp-rtp-${process.pid}`;
    try {
      const toCallee = await engine.offer({ callId, sdp: caller.sdp(), from: "rtp", to: "rtp" });
      callee.useRemote(toCallee);
      expect(callee.remote!.port).toBeGreaterThanOrEqual(rtpe.portMin);
      caller.useRemote(await engine.answer({ callId, sdp: callee.sdp(), from: "rtp", to: "rtp" }));

      await Promise.all([caller.sendTone(700, RUN_MS), callee.sendTone(1300, RUN_MS)]);
      await new Promise((r) => setTimeout(r, 200));
      expect(pcmu(callee.received)).toBeGreaterThanOrEqual(100);
      expect(pcmu(caller.received)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(callee.received, 700, 1300)).toBeGreaterThanOrEqual(100);
      expect(lastSecondRatio(caller.received, 1300, 700)).toBeGreaterThanOrEqual(100);

      const hold = await engine.offer({
        callId,
        sdp: caller.sdp({ direction: "sendonly" }),
        from: "rtp",
        to: "rtp",
      });
      expect(parseAudio(hold).port).toBe(callee.remote!.port);
      expect(parseAudio(hold).direction).toBe("sendonly");
      const holdAns = await engine.answer({
        callId,
        sdp: callee.sdp({ direction: "recvonly" }),
        from: "rtp",
        to: "rtp",
      });
      expect(parseAudio(holdAns).port).toBe(caller.remote!.port);
      // The callee re-offers (reverse): its SDP goes to the caller on the caller-facing port.
      const rev = await engine.offer({ callId, sdp: callee.sdp(), from: "rtp", to: "rtp", reverse: true });
      expect(parseAudio(rev).port).toBe(caller.remote!.port);
      expect(parseAudio(rev).direction).toBe("sendrecv");
      const revAns = await engine.answer({
        callId,
        sdp: caller.sdp(),
        from: "rtp",
        to: "rtp",
        reverse: true,
      });
      expect(parseAudio(revAns).port).toBe(callee.remote!.port);
      expect(engine.sessions()).toBe(1);
    } finally {
      await engine.delete(callId);
      caller.close();
      callee.close();
    }
  });
});

describe("rtpengine engine failure", () => {
  it("a dead ng port is a MediaEngineError (503) within the timeout, and nothing is kept", async () => {
    const lines: string[] = [];
    const logger: MediaLogger = {
      info() {},
      debug() {},
      warn() {},
      error: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`),
    };
    const engine = await createMediaEngine(
      { engine: "rtpengine", rtpengine: { host: "127.0.0.1", port: 9, timeoutMs: 300 } },
      logger,
    );
    const t0 = Date.now();
    const err = await engine
      .offer({ callId: "dead", sdp: "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", from: "rtp", to: "rtp" })
      .catch((e) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(MediaEngineError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("unreachable");
    expect(err.message).toMatch(/did not answer 'offer' within 300 ms/);
    expect(took).toBeLessThan(1500);
    expect(engine.sessions()).toBe(0);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/rtpengine failed.*"callId":"dead".*"code":"unreachable"/);
    await engine.close();
  });
});
