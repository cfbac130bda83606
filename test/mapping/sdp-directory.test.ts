import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { Directory } from "../../src/mapping/directory.js";
import { normaliseNumber } from "../../src/mapping/numbers.js";
import { isHoldSdp, looksLikeSdp, sdpCodecs, sdpDirection } from "../../src/mapping/sdp.js";

const sdp = (...lines: string[]) =>
  ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0", ...lines, ""].join("\r\n");

describe("SDP direction attributes", () => {
  it.each([
    ["sendrecv", false],
    ["sendonly", true],
    ["inactive", true],
    ["recvonly", false],
  ] as const)("a=%s → hold %s", (dir, hold) => {
    const body = sdp("c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0", `a=${dir}`);
    expect(sdpDirection(body)).toBe(dir);
    expect(isHoldSdp(body)).toBe(hold);
  });

  it("reads the audio stream's attribute before the session's, and defaults to sendrecv", () => {
    expect(sdpDirection(sdp("a=sendonly", "m=audio 4000 RTP/AVP 0", "a=sendrecv"))).toBe("sendrecv");
    expect(sdpDirection(sdp("a=inactive", "m=audio 4000 RTP/AVP 0"))).toBe("inactive");
    expect(sdpDirection(sdp("m=video 4002 RTP/AVP 96", "a=inactive", "m=audio 4000 RTP/AVP 0"))).toBe(
      "sendrecv",
    );
    expect(sdpDirection(sdp("m=audio 4000 RTP/AVP 0"))).toBe("sendrecv");
  });

  it("takes c=0.0.0.0 as RFC 2543 hold, except under ICE where it is a placeholder", () => {
    expect(isHoldSdp(sdp("c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0"))).toBe(true);
    expect(isHoldSdp(sdp("m=audio 4000 RTP/AVP 0", "c=IN IP4 0.0.0.0"))).toBe(true);
    expect(isHoldSdp(sdp("m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=ice-ufrag:x"))).toBe(
      false,
    );
  });

  it("lists codecs of the audio stream in offer order, static types without rtpmap too", () => {
    expect(
      sdpCodecs(
        sdp(
          "m=audio 4000 RTP/AVP 111 0 8 101",
          "a=rtpmap:111 opus/48000/2",
          "a=rtpmap:101 telephone-event/8000",
        ),
      ),
    ).toEqual(["opus/48000/2", "PCMU/8000", "PCMA/8000", "telephone-event/8000"]);
    expect(sdpCodecs("v=0\r\n")).toEqual([]);
  });

  it("recognises SDP by its version line", () => {
    expect(looksLikeSdp(sdp())).toBe(true);
    expect(looksLikeSdp("v=0\nfoo")).toBe(true);
    expect(looksLikeSdp("")).toBe(false);
    expect(looksLikeSdp(undefined)).toBe(false);
    expect(looksLikeSdp("<xml/>")).toBe(false);
  });
});

describe("Directory", () => {
  const config = parseConfig(
    `
numbers: { defaultCountry: US }
directory:
  - number: "+15551230001"
    did: "did:key:z6MkAlice"
    display: Alice
  - number: "(555) 123-0002"
    did: "did:key:z6MkAlice"
    present: "+15551230001"
  - user: alice
    did: "did:key:z6MkAlice"
  - user: "1001"
    did: "did:key:z6MkBob"
  - user: carol
    did: "did:web:carol.example"
    present: "+15551230003"
`,
    "directory.yaml",
    { env: {} },
  );
  const dir = Directory.fromConfig(config, "did:web:gw.example");

  it("maps numbers and users to DIDs (SIP → DSIP)", () => {
    expect(dir.didForNumber("+15551230001")).toBe("did:key:z6MkAlice");
    expect(dir.didForNumber("+15551230002")).toBe("did:key:z6MkAlice");
    expect(dir.didForNumber("+15551239999")).toBeUndefined();
    expect(dir.didForUser("alice")).toBe("did:key:z6MkAlice");
    expect(dir.didForUser("Alice")).toBeUndefined();
    expect(dir.didForCalled(normaliseNumber("555-123-0002", { defaultCountry: "US" }))).toBe(
      "did:key:z6MkAlice",
    );
    expect(dir.didForCalled(normaliseNumber("1001", { defaultCountry: "US" }))).toBe("did:key:z6MkBob");
    expect(dir.didForCalled(normaliseNumber("alice", {}))).toBe("did:key:z6MkAlice");
    expect(dir.hasNumber("+15551230002")).toBe(true);
  });

  it("maps DIDs to the number they present (DSIP → SIP)", () => {
    expect(dir.presentedFor("did:key:z6MkAlice")).toEqual({ e164: "+15551230001", display: "Alice" });
    expect(dir.presentedFor("did:web:carol.example")).toEqual({ e164: "+15551230003" });
    // A user entry without present: anonymous.
    expect(dir.presentedFor("did:key:z6MkBob")).toEqual({});
    expect(dir.presentedFor("did:key:z6MkNobody")).toEqual({});
  });

  it("names the gateway's tn DIDs", () => {
    expect(dir.tnDid("+15551230001")).toBe("did:web:gw.example:tn:15551230001");
    expect(dir.numberOf("did:web:gw.example:tn:15551230001")).toBe("+15551230001");
    expect(dir.numberOf("did:key:z6MkAlice")).toBeUndefined();
  });

  it("keeps the first of duplicates in a hand-built list, and a later present for a DID that had none", () => {
    const d = new Directory("did:web:gw.example", [
      { user: "x", did: "did:key:z6MkX" },
      { user: "x", did: "did:key:z6MkY" },
      { number: "+15551230009", did: "did:key:z6MkX", present: "+15551230009" },
    ]);
    expect(d.didForUser("x")).toBe("did:key:z6MkX");
    expect(d.presentedFor("did:key:z6MkX")).toEqual({ e164: "+15551230009" });
  });
});

describe("SDP reading on arbitrary input", () => {
  it("never throws and always answers a direction", () => {
    const line = fc.oneof(
      fc.constantFrom(
        "m=audio 4000 RTP/AVP 0 8",
        "a=sendonly",
        "a=inactive",
        "c=IN IP4 0.0.0.0",
        "a=rtpmap:0 PCMU/8000",
      ),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const body = ["v=0", ...lines].join("\r\n");
        expect(["sendrecv", "sendonly", "recvonly", "inactive"]).toContain(sdpDirection(body));
        expect(typeof isHoldSdp(body)).toBe("boolean");
        expect(Array.isArray(sdpCodecs(body))).toBe(true);
      }),
    );
  });
});
