import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  boundaryOf,
  buildMultipart,
  createBodyPart,
  findPartByCid,
  newBoundary,
  parseMessage,
  parseMultipart,
  partContentDisposition,
  partContentId,
  partContentType,
  replacePart,
  SipParseError,
  serializeMessage,
} from "../../src/sip/index.js";
import { FIXTURES, torture } from "./helpers.js";

const ng911 = () => parseMessage(readFileSync(`${FIXTURES}ng911/dsip-to-esinet-invite.sip`));

describe("multipart/mixed bodies", () => {
  it("reads the parts of an NG911 INVITE with their Content-Type, Content-ID and disposition", () => {
    const msg = ng911();
    const mb = parseMultipart(msg.body, boundaryOf(msg.contentType!)!);
    expect(mb.parts.map((p) => partContentType(p)?.mediaType)).toEqual([
      "application/sdp",
      "application/pidf+xml",
      "application/emergencycalldata.providerinfo+xml",
      "application/emergencycalldata.serviceinfo+xml",
      "application/emergencycalldata.comment+xml",
    ]);
    expect(partContentId(mb.parts[1]!)).toBe("loc-8c1f3a@gw.dsip-gw.example.net");
    expect(partContentDisposition(mb.parts[2]!)).toMatchObject({ disposition: "by-reference" });
    // Geolocation: <cid:…> points at the PIDF-LO part
    const cid = msg.geolocation[0]!.uri;
    const part = findPartByCid(mb, `cid:${"opaque" in cid ? cid.opaque : ""}`);
    expect(part && partContentType(part)?.mediaType).toBe("application/pidf+xml");
    expect(part?.body.toString()).toContain("<presence");
  });

  it("rebuilds the body byte for byte", () => {
    const msg = ng911();
    const mb = parseMultipart(msg.body, boundaryOf(msg.contentType!)!);
    expect(buildMultipart(mb).equals(msg.body)).toBe(true);
  });

  it("replaces the SDP part only, leaving every other part and header byte-identical", () => {
    const msg = ng911();
    const mb = parseMultipart(msg.body, boundaryOf(msg.contentType!)!);
    const newSdp = createBodyPart(
      [["Content-Type", "application/sdp"]],
      "v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\n",
    );
    const out = buildMultipart(replacePart(mb, 0, newSdp));
    msg.body = out;
    const reparsed = parseMessage(serializeMessage(msg));
    const mb2 = parseMultipart(reparsed.body, boundaryOf(reparsed.contentType!)!);
    expect(mb2.parts[0]!.body.toString()).toBe("v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\n");
    for (let i = 1; i < mb.parts.length; i++) expect(mb2.parts[i]!.raw!.equals(mb.parts[i]!.raw!)).toBe(true);
    expect(reparsed.contentLength).toBe(out.length);
  });

  it("reads the binary part of RFC 4475 mpart01", () => {
    const msg = parseMessage(torture("mpart01"));
    const mb = parseMultipart(msg.body, boundaryOf(msg.contentType!)!);
    expect(mb.parts).toHaveLength(2);
    expect(partContentType(mb.parts[1]!)?.mediaType).toBe("application/octet-stream");
    expect(mb.parts[1]!.body.includes(0)).toBe(true);
    expect(buildMultipart(mb).equals(msg.body)).toBe(true);
  });

  it("builds a new body that parses back", () => {
    const boundary = newBoundary();
    const body = buildMultipart({
      boundary,
      preamble: Buffer.alloc(0),
      epilogue: Buffer.alloc(0),
      parts: [
        createBodyPart([["Content-Type", "application/sdp"]], "v=0\r\n"),
        createBodyPart(
          [
            ["Content-Type", "application/pidf+xml"],
            ["Content-ID", "<loc@gw>"],
          ],
          "<presence/>",
        ),
      ],
    });
    const mb = parseMultipart(body, boundary);
    expect(mb.parts.map((p) => p.body.toString())).toEqual(["v=0\r\n", "<presence/>"]);
    expect(partContentId(mb.parts[1]!)).toBe("loc@gw");
  });

  it.each([
    ["no boundary in the body", "just text"],
    ["no closing boundary", "--b\r\nContent-Type: text/plain\r\n\r\nx"],
    ["garbage after a boundary", "--bXX\r\n\r\nx\r\n--b--"],
  ])("refuses %s", (_what, body) => {
    expect(() => parseMultipart(Buffer.from(body), "b")).toThrow(SipParseError);
  });

  it("refuses an invalid boundary parameter", () => {
    expect(() => parseMultipart(Buffer.from("--x"), "bad boundary ")).toThrow(/boundary/);
    expect(() => parseMultipart(Buffer.from("--x"), "a".repeat(71))).toThrow(/boundary/);
  });
});
