import { describe, expect, it } from "vitest";
import { AudioLeg, remoteSdpForWerift } from "../../src/softphone/media.js";

// The SDP the softphone puts in dsip.invite / dsip.answer, and what it accepts.
describe("softphone media (werift, loopback, no signalling)", () => {
  it("offers PCMU/0 + telephone-event/101 with every candidate; answers sendrecv; audio flows", async () => {
    const { leg: a, sdp: offer } = await AudioLeg.offer({ toneHz: 700 });
    expect(offer).toMatch(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 0 101\r$/m);
    expect(offer).toContain("a=rtpmap:0 PCMU/8000");
    expect(offer).toContain("a=rtpmap:101 telephone-event/8000");
    expect(offer).toMatch(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/m);
    expect(offer).toContain("a=end-of-candidates");
    expect(offer).toMatch(/^a=ssrc:\d+ cname:/m);
    expect(offer).toContain("a=setup:actpass");
    expect(offer).toContain("a=sendrecv");
    expect(offer).not.toMatch(/IP6/);

    // The short a=rtcp form (rtpengine) would make werift throw; it is dropped first.
    const { leg: b, sdp: answer } = await AudioLeg.answer(offer, { toneHz: 1300 });
    expect(answer).toContain("a=sendrecv");
    expect(answer).toMatch(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 0 101\r$/m);
    expect(answer).toContain("a=end-of-candidates");
    await a.setAnswer(answer.replace(/^a=rtcp:.*$/m, "a=rtcp:9"));
    expect(await a.waitConnected(5000)).toBe(true);
    expect(await b.waitConnected(5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(a.packetsReceived).toBeGreaterThan(10);
    expect(b.packetsReceived).toBeGreaterThan(10);
    expect(a.recordedSeconds).toBeGreaterThan(0.2);
    await Promise.all([a.close(), b.close()]);
  });

  it("refuses an offer without PCMU", async () => {
    const { leg, sdp } = await AudioLeg.offer({});
    const pcmaOnly = sdp
      .replace(/^m=audio 9 UDP\/TLS\/RTP\/SAVPF 0 101/m, "m=audio 9 UDP/TLS/RTP/SAVPF 8")
      .replace(/a=rtpmap:0 PCMU\/8000/, "a=rtpmap:8 PCMA/8000")
      .replace(/a=rtpmap:101 .*\r\na=fmtp:101 .*\r\n/, "");
    await expect(AudioLeg.answer(pcmaOnly, {})).rejects.toThrow();
    await leg.close();
  });

  it("drops only the address-less a=rtcp line", () => {
    const sdp = "a=mid:0\r\na=rtcp:40001\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=rtcp-mux\r\n";
    expect(remoteSdpForWerift(sdp)).toBe("a=mid:0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=rtcp-mux\r\n");
  });
});
