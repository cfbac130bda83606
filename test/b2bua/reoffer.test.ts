import { describe, expect, it } from "vitest";
import {
  answerDirection,
  localWebrtcAnswer,
  offeredDirection,
  withDirection,
} from "../../src/b2bua/reoffer.js";
import { sdpDirection } from "../../src/mapping/index.js";

const rtp = (extra: string[] = [], c = "127.0.0.1") =>
  [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    `c=IN IP4 ${c}`,
    "t=0 0",
    "m=audio 4000 RTP/AVP 0",
    ...extra,
    "",
  ].join("\r\n");

const webrtc = (setup: string, dir = "sendrecv") =>
  [
    "v=0",
    "o=- 2 0 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 0",
    "c=IN IP4 0.0.0.0",
    `a=${dir}`,
    "a=ice-ufrag:abcd",
    "a=ice-pwd:0123456789abcdef012345",
    "a=fingerprint:sha-256 AA:BB",
    `a=setup:${setup}`,
    "a=mid:0",
    "a=rtpmap:0 PCMU/8000",
    "",
  ].join("\r\n");

describe("re-offer SDP helpers", () => {
  it("offeredDirection: the attribute, an RFC 2543 hold (c=0.0.0.0) as inactive, none as sendrecv", () => {
    expect(offeredDirection(rtp(["a=sendonly"]))).toBe("sendonly");
    expect(offeredDirection(rtp([], "0.0.0.0"))).toBe("inactive");
    expect(offeredDirection(rtp())).toBe("sendrecv");
    // ICE's 0.0.0.0 placeholder is not a hold.
    expect(offeredDirection(webrtc("actpass"))).toBe("sendrecv");
  });

  it("answerDirection follows RFC 3264 §6.1", () => {
    expect(answerDirection("sendonly")).toBe("recvonly");
    expect(answerDirection("recvonly")).toBe("sendonly");
    expect(answerDirection("inactive")).toBe("inactive");
    expect(answerDirection("sendrecv")).toBe("sendrecv");
  });

  it("withDirection replaces in place, or appends after c=, and drops session-level ones", () => {
    const replaced = withDirection(webrtc("active"), "sendonly");
    expect(replaced).toBe(webrtc("active", "sendonly"));
    const added = withDirection(rtp(["a=rtpmap:0 PCMU/8000"]), "recvonly");
    expect(added.split("\r\n").slice(-3)).toEqual(["a=rtpmap:0 PCMU/8000", "a=recvonly", ""]);
    const session = withDirection(rtp().replace("t=0 0", "t=0 0\r\na=inactive"), "sendrecv");
    expect(session).not.toContain("a=inactive");
    expect(sdpDirection(session)).toBe("sendrecv");
  });

  it("localWebrtcAnswer: the peer's SDP, the answering direction, the DTLS role in use", () => {
    // The peer answered (active): kept.
    const a = localWebrtcAnswer(webrtc("active"), webrtc("actpass", "sendonly"), webrtc("actpass"));
    expect(sdpDirection(a)).toBe("recvonly");
    expect(a).toContain("a=setup:active");
    expect(a).toContain("a=ice-ufrag:abcd");
    // The peer offered (actpass) and the gateway answered active: the peer is passive.
    const b = localWebrtcAnswer(webrtc("actpass"), webrtc("actpass", "inactive"), webrtc("active"));
    expect(sdpDirection(b)).toBe("inactive");
    expect(b).toContain("a=setup:passive");
    const c = localWebrtcAnswer(webrtc("actpass"), webrtc("actpass"), webrtc("passive"));
    expect(c).toContain("a=setup:active");
    expect(sdpDirection(c)).toBe("sendrecv");
  });
});
