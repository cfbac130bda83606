import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BencodeError, bdecode, bencode } from "../../src/media/bencode.js";
import { MediaEngineError, type MediaLogger } from "../../src/media/engine.js";
import { PortAllocator } from "../../src/media/ports.js";
import { buildRtp, isRtp, parseRtp } from "../../src/media/rtp.js";
import { ngFlags, packetsFrom } from "../../src/media/rtpengine.js";
import {
  addSsrc,
  buildRtpSdp,
  fullRtcpAttribute,
  keepCandidates,
  parseAudio,
  rewriteRtpSdp,
} from "../../src/media/sdp.js";
import {
  decodePcmu,
  encodePcmu,
  goertzelPower,
  linearToUlaw,
  ToneGenerator,
  toneRatio,
  ulawToLinear,
} from "../../src/media/tone.js";

describe("tone", () => {
  it("μ-law matches G.711 reference points and round-trips within its step size", () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0x00)).toBe(-32124);
    for (let x = -32000; x <= 32000; x += 97) {
      const y = ulawToLinear(linearToUlaw(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.max(8, Math.abs(x) / 16));
    }
    for (let b = 0; b < 256; b++) if (b !== 0x7f) expect(linearToUlaw(ulawToLinear(b))).toBe(b);
  });

  it("the generator makes 20 ms PCMU frames whose tone Goertzel finds, and tells the tones apart", () => {
    const gen = new ToneGenerator(700);
    const frames = Array.from({ length: 50 }, () => gen.pcmuFrame());
    expect(frames[0]!.length).toBe(160);
    const samples = decodePcmu(Buffer.concat(frames));
    expect(toneRatio(samples, 700, 1300)).toBeGreaterThan(1e4);
    expect(toneRatio(samples, 1300, 700)).toBeLessThan(1e-4);
    expect(goertzelPower(new Int16Array(8000), 700)).toBe(0);
    // Silence is not a tone.
    expect(toneRatio(decodePcmu(encodePcmu(new Int16Array(8000))), 700, 1300)).toBeLessThan(100);
  });
});

describe("rtp", () => {
  it("builds and parses a header, and tells RTCP apart under rtcp-mux", () => {
    const pkt = buildRtp({
      payloadType: 0,
      sequenceNumber: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0xdeadbeef,
      marker: true,
      payload: Buffer.from([1, 2, 3]),
    });
    const p = parseRtp(pkt)!;
    expect(p).toMatchObject({
      payloadType: 0,
      sequenceNumber: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0xdeadbeef,
      marker: true,
    });
    expect([...p.payload]).toEqual([1, 2, 3]);
    const rtcpRr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    expect(isRtp(rtcpRr)).toBe(false);
    expect(parseRtp(Buffer.from([0x80]))).toBeUndefined();
  });
});

describe("bencode", () => {
  it("round-trips the shapes ng uses", () => {
    const v = {
      command: "offer",
      "call-id": "a@b",
      flags: ["port-latching"],
      n: -12,
      sdp: "v=0\r\nü",
      nested: { l: [1, "x", []] },
    };
    expect(bdecode(bencode(v))).toEqual(v);
    expect(bencode({ b: 1, a: "x" }).toString()).toBe("d1:a1:x1:bi1ee");
    expect(bdecode("d6:result4:ponge")).toEqual({ result: "pong" });
  });

  it("rejects malformed input instead of guessing", () => {
    for (const bad of ["", "i12", "5:abc", "d3:keye", "l", "x", "i1ei2e", "di1ei2ee", "i1.5e"])
      expect(() => bdecode(bad), bad).toThrow(BencodeError);
    expect(() => bencode(1.5)).toThrow(BencodeError);
  });
});

const PHONE = [
  "v=0",
  "o=phone 7 7 IN IP4 10.0.0.5",
  "s=-",
  "c=IN IP4 10.0.0.5",
  "t=0 0",
  "m=audio 4000 RTP/AVP 0 8 101",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-16",
  "a=rtcp:4001",
  "a=sendonly",
  "",
].join("\r\n");

describe("sdp", () => {
  it("parses the audio section, static payload types included", () => {
    const a = parseAudio(PHONE);
    expect(a).toMatchObject({
      address: "10.0.0.5",
      port: 4000,
      proto: "RTP/AVP",
      rtcpPort: 4001,
      direction: "sendonly",
      ice: false,
      rtcpMux: false,
    });
    expect(a.codecs.map((c) => `${c.name}/${c.pt}`)).toEqual(["PCMU/0", "PCMA/8", "telephone-event/101"]);
    expect(a.codecs[2]!.fmtp).toBe("0-16");
  });

  it("rewrites addresses and ports to the relay and keeps everything else", () => {
    const out = rewriteRtpSdp(PHONE, "192.0.2.1", 30000, 30001);
    expect(out).toContain("o=phone 7 7 IN IP4 192.0.2.1");
    expect(out).toContain("c=IN IP4 192.0.2.1");
    expect(out).toContain("m=audio 30000 RTP/AVP 0 8 101");
    expect(out).toContain("a=rtcp:30001 IN IP4 192.0.2.1");
    expect(out).not.toContain("10.0.0.5");
    expect(out).toContain("a=sendonly");
    expect(out).toContain("a=fmtp:101 0-16");
    // A hold written as c=0.0.0.0 stays a hold; an SDP without a=rtcp gets one.
    const hold = rewriteRtpSdp(
      PHONE.replace("c=IN IP4 10.0.0.5", "c=IN IP4 0.0.0.0").replace("a=rtcp:4001\r\n", ""),
      "192.0.2.1",
      30000,
      30001,
    );
    expect(hold).toContain("c=IN IP4 0.0.0.0");
    expect(hold).toContain("a=rtcp:30001 IN IP4 192.0.2.1");
  });

  it("builds an RTP/AVP answer, adds a missing a=ssrc, filters candidates", () => {
    const sdp = buildRtpSdp({
      host: "127.0.0.1",
      port: 30002,
      rtcpPort: 30003,
      codecs: [{ pt: 0, name: "PCMU", clock: 8000 }],
      direction: "recvonly",
      sessionId: "1",
      version: 2,
    });
    const a = parseAudio(sdp);
    expect(a).toMatchObject({ address: "127.0.0.1", port: 30002, rtcpPort: 30003, direction: "recvonly" });
    expect(parseAudio(addSsrc(sdp, 42)).ssrcs).toEqual([42]);
    expect(addSsrc(addSsrc(sdp, 42), 43)).toBe(addSsrc(sdp, 42));
    const cands = `${sdp}a=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=candidate:2 1 udp 1 192.0.2.9 5001 typ host\r\n`;
    expect(keepCandidates(cands, "127.0.0.1")).toContain("127.0.0.1 5000");
    expect(keepCandidates(cands, "127.0.0.1")).not.toContain("192.0.2.9");
    expect(() => parseAudio("v=0\r\n")).toThrow(/no m=audio/);
    expect(fullRtcpAttribute("m=audio 9 X 0\r\na=rtcp:9\r\na=rtcp:7 IN IP4 1.2.3.4\r\n")).toBe(
      "m=audio 9 X 0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=rtcp:7 IN IP4 1.2.3.4\r\n",
    );
  });
});

describe("rtpengine flags", () => {
  const webOffer =
    "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\na=ice-ufrag:x\r\n";
  it("flag set A toward SIP: pass G.711 through, strip the rest", () => {
    const f = ngFlags("offer", "webrtc", "rtp", webOffer);
    expect(f).toMatchObject({
      "transport-protocol": "RTP/AVP",
      ICE: "remove",
      DTLS: "off",
      "rtcp-mux": ["demux"],
    });
    expect(f.codec).toEqual({ strip: ["opus", "telephone-event/48000"], transcode: ["PCMU", "PCMA"] });
    const back = ngFlags("answer", "rtp", "webrtc", PHONE);
    expect(back).toMatchObject({
      "transport-protocol": "UDP/TLS/RTP/SAVPF",
      ICE: "force",
      "rtcp-mux": ["require"],
    });
    expect(back.flags).toContain("full-rtcp-attribute");
  });

  it("transcodes only when a side lacks G.711; rtp⇄rtp is plain", () => {
    const opusOnly = ngFlags("offer", "webrtc", "rtp", webOffer.replace(" 0 8 ", " "));
    expect(opusOnly.codec).toEqual({ mask: ["opus"], transcode: ["PCMU", "PCMA", "telephone-event"] });
    const b = ngFlags("offer", "rtp", "webrtc", PHONE);
    expect(b).toMatchObject({
      "transport-protocol": "UDP/TLS/RTP/SAVPF",
      ICE: "force",
      "rtcp-mux": ["offer"],
    });
    expect(b.codec).toBeUndefined();
    expect(ngFlags("offer", "rtp", "webrtc", PHONE.replace("RTP/AVP 0 8 101", "RTP/AVP 18")).codec).toEqual({
      transcode: ["PCMU", "PCMA"],
    });
    expect(ngFlags("offer", "rtp", "rtp", PHONE)).toEqual({
      replace: ["origin", "session-connection"],
      flags: ["port-latching"],
    });
  });

  it("reads packet counts from a query reply", () => {
    const reply = {
      result: "ok",
      tags: { a: { medias: [{ streams: [{ stats: { packets: 150 } }, { stats: { packets: 3 } }] }] } },
    };
    expect(packetsFrom(reply, "a")).toBe(150);
    expect(packetsFrom(reply, "b")).toBe(0);
  });
});

describe("logger", () => {
  it("a pino logger fits MediaLogger", () => {
    const log: MediaLogger = pino({ level: "silent" });
    expect(typeof log.error).toBe("function");
  });
});

describe("port allocation", () => {
  it("hands out even/odd pairs, skips ports held elsewhere, and reports exhaustion", async () => {
    const min = 19000 + (process.pid % 90) * 10;
    const alloc = new PortAllocator("127.0.0.1", min, min + 5); // pairs at min, min+2, min+4
    expect(alloc.capacity).toBe(3);
    // Someone else holds the middle pair's RTP port.
    const squatter = await import("node:dgram").then((d) => d.createSocket("udp4"));
    await new Promise<void>((r) => squatter.bind(min + 2, "127.0.0.1", () => r()));
    try {
      const a = await alloc.allocate();
      const b = await alloc.allocate();
      expect([a.rtpPort, b.rtpPort]).toEqual([min, min + 4]);
      expect(a.rtcp.address().port).toBe(min + 1);
      const err = await alloc.allocate().catch((e) => e);
      expect(err).toBeInstanceOf(MediaEngineError);
      expect(err.code).toBe("no-ports");
      a.release();
      a.release();
      expect(alloc.inUse).toBe(1);
      expect((await alloc.allocate()).rtpPort).toBe(min);
    } finally {
      squatter.close();
    }
  });
});
