import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createRequest,
  createResponse,
  parseMessage,
  SipParseError,
  type SipRequest,
  serializeMessage,
  validateMessage,
} from "../../src/sip/index.js";
import { crlf, FIXTURES, messageOutcome } from "./helpers.js";

const BASE = [
  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc",
  "From: <sip:a@example.com>;tag=1",
  "To: <sip:b@example.com>",
  "Call-ID: call-1@example.com",
  "CSeq: 1 OPTIONS",
];

function options(...extra: string[]): Buffer {
  return crlf("OPTIONS sip:b@example.com SIP/2.0", ...BASE, ...extra, "", "");
}

describe("parser", () => {
  it("reads header names case-insensitively and in compact form", () => {
    const msg = parseMessage(
      crlf(
        "OPTIONS sip:b@example.com SIP/2.0",
        "v: SIP/2.0/UDP h;branch=z9hG4bK1",
        "f: <sip:a@x>;tag=1",
        "t: <sip:b@x>",
        "i: c1",
        "CSEQ: 1 OPTIONS",
        "l: 0",
        "",
        "",
      ),
    );
    validateMessage(msg);
    expect(msg.header("Via")).toBe("SIP/2.0/UDP h;branch=z9hG4bK1");
    expect(msg.header("call-id")).toBe("c1");
    expect(msg.callId).toBe("c1");
    expect(msg.headers[0]?.name).toBe("v");
  });

  it("unfolds continuation lines for reading but writes them back as received", () => {
    const buf = options("Subject: first part", "  second part", "\tthird part");
    const msg = parseMessage(buf);
    expect(msg.header("subject")).toBe("first part second part third part");
    expect(
      serializeMessage(msg).equals(
        Buffer.concat([buf.subarray(0, buf.length - 2), Buffer.from("Content-Length: 0\r\n\r\n")]),
      ),
    ).toBe(true);
  });

  it("keeps unknown headers byte-exact, including odd spacing and UTF-8", () => {
    const buf = options(
      "X-Weird   :   ;;,,  spaced  ",
      'X-Name: "Zoë Ünïcode" <sip:z@example.com>',
      "Content-Length: 0",
    );
    const msg = parseMessage(buf);
    expect(msg.header("x-name")).toBe('"Zoë Ünïcode" <sip:z@example.com>');
    expect(serializeMessage(msg).equals(buf)).toBe(true);
  });

  it("keeps invalid UTF-8 byte-exact too", () => {
    const head = options("X-Latin: caf\u00e9", "Content-Length: 0");
    const bytes = Buffer.from(head.toString("utf8").replace("café", "caf\u0000"), "utf8");
    bytes[bytes.indexOf(0)] = 0xe9; // a lone Latin-1 é: not UTF-8
    const msg = parseMessage(bytes);
    expect(msg.headerEncoding).toBe("latin1");
    expect(serializeMessage(msg).equals(bytes)).toBe(true);
  });

  it("ignores CRLFs before the start line (RFC 3261 §7.5)", () => {
    const msg = parseMessage(Buffer.concat([Buffer.from("\r\n\r\n"), options()]));
    expect(msg.isRequest && msg.method).toBe("OPTIONS");
  });

  it("takes the body as bytes, bounded by Content-Length", () => {
    const body = Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 7]);
    const buf = Buffer.concat([
      crlf(
        "MESSAGE sip:b@example.com SIP/2.0",
        ...BASE.slice(0, 4),
        "CSeq: 2 MESSAGE",
        "Content-Type: application/octet-stream",
        `Content-Length: ${body.length}`,
        "",
        "",
      ),
      body,
      Buffer.from("trailing junk"),
    ]);
    const msg = parseMessage(buf);
    validateMessage(msg);
    expect(msg.body.equals(body)).toBe(true);
  });

  it("accepts bare-LF messages from hand-written tools", () => {
    const msg = parseMessage(Buffer.from(options().toString().replaceAll("\r\n", "\n")));
    validateMessage(msg);
    expect(msg.cseq?.seq).toBe(1);
  });

  it.each<[string, Buffer, number | "drop", RegExp]>([
    ["an oversize message", Buffer.concat([options(), Buffer.alloc(70_000, 0x61)]), 413, /Too Large/],
    ["a header line without a colon", options("NoColonHere"), 400, /Malformed header line/],
    [
      "a folded line before any header",
      crlf("OPTIONS sip:b@example.com SIP/2.0", " folded", ...BASE, "", ""),
      400,
      /Continuation/,
    ],
    ["a space in a header name", options("Bad Name: x"), 400, /Invalid header name/],
    [
      "a tab in the request line",
      crlf("OPTIONS\tsip:b@example.com SIP/2.0", ...BASE, "", ""),
      400,
      /Request-Line/,
    ],
    ["SIP/3.0", crlf("OPTIONS sip:b@example.com SIP/3.0", ...BASE, "", ""), 505, /Version/],
    ["HTTP/1.1", crlf("GET / HTTP/1.1", "Host: x", "", ""), 400, /version/i],
    ["a response with a 2-digit code", crlf("SIP/2.0 99 Odd", ...BASE, "", ""), "drop", /status code/],
    ["a response with status 700", crlf("SIP/2.0 700 Odd", ...BASE, "", ""), "drop", /status code/i],
    [
      "a response missing Call-ID",
      crlf("SIP/2.0 200 OK", ...BASE.filter((h) => !h.startsWith("Call-ID")), "", ""),
      "drop",
      /Call-ID/,
    ],
    [
      "a request missing Via",
      crlf("OPTIONS sip:b@example.com SIP/2.0", ...BASE.slice(1), "", ""),
      "drop",
      /Via/,
    ],
    [
      "a request missing CSeq",
      crlf("OPTIONS sip:b@example.com SIP/2.0", ...BASE.slice(0, 4), "", ""),
      400,
      /Missing CSeq/,
    ],
    ["two To headers", options("To: <sip:c@example.com>"), 400, /single-value header To/],
    ["Max-Forwards 256", options("Max-Forwards: 256"), 400, /Max-Forwards/],
    [
      "a bad Call-ID",
      crlf(
        "OPTIONS sip:b@example.com SIP/2.0",
        ...BASE.slice(0, 3),
        "Call-ID: a b",
        "CSeq: 1 OPTIONS",
        "",
        "",
      ),
      400,
      /Call-ID/,
    ],
    [
      "a body without Content-Type",
      Buffer.concat([options("Content-Length: 3"), Buffer.from("abc")]),
      400,
      /Content-Type/,
    ],
    ["a non-numeric Content-Length", options("Content-Length: ten"), 400, /Content-Length/],
    ["only line ends", Buffer.from("\r\n\r\n"), 400, /Empty/],
    ["no end of headers", Buffer.from("OPTIONS sip:b@example.com SIP/2.0\r\nVia: x"), 400, /end of headers/],
  ])("refuses %s", (_what, buf, status, reason) => {
    const got = messageOutcome(buf);
    expect(got.outcome).toBe(status);
    expect(got.reason).toMatch(reason);
  });

  it("errors are typed and carry their status", () => {
    try {
      parseMessage(crlf("OPTIONS sip:b@example.com SIP/7.0", ...BASE, "", ""));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SipParseError);
      expect((err as SipParseError).status).toBe(505);
      expect((err as SipParseError).drop).toBe(false);
    }
  });

  it("parses emergency INVITEs to urn:service:sos with a multipart body (NG911 fixture)", () => {
    const buf = readFileSync(`${FIXTURES}ng911/dsip-to-esinet-invite.sip`);
    const msg = parseMessage(buf) as SipRequest;
    validateMessage(msg);
    expect(msg.uri).toMatchObject({ scheme: "urn", nid: "service", nss: "sos" });
    expect(msg.to?.uri).toMatchObject({ scheme: "urn" });
    expect(msg.geolocation[0]?.uri).toMatchObject({ scheme: "cid" });
    expect(msg.callInfo).toHaveLength(5);
    expect(msg.resourcePriority).toEqual([{ namespace: "esnet", priority: "1" }]);
    expect(serializeMessage(msg).equals(buf)).toBe(true);
  });
});

describe("serializer and builder", () => {
  it("builds a request with Content-Length computed", () => {
    const req = createRequest({
      method: "INVITE",
      uri: "sip:+15551234567@gw.example.com;user=phone",
      headers: [
        ["Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnew"],
        ["Max-Forwards", "70"],
        ["From", "<sip:alice@example.com>;tag=a1"],
        ["To", "<sip:+15551234567@gw.example.com;user=phone>"],
        ["call-id", "built-1"],
        ["CSeq", "1 INVITE"],
        ["content-type", "application/sdp"],
      ],
      body: "v=0\r\n",
    });
    const text = serializeMessage(req).toString();
    expect(text).toBe(
      "INVITE sip:+15551234567@gw.example.com;user=phone SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnew\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:+15551234567@gw.example.com;user=phone>\r\nCall-ID: built-1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
    );
    const back = parseMessage(serializeMessage(req));
    validateMessage(back);
  });

  it("corrects a Content-Length that no longer matches the body", () => {
    const msg = parseMessage(
      Buffer.concat([options("Content-Type: text/plain", "l: 3"), Buffer.from("abc")]),
    );
    msg.body = Buffer.from("abcdef");
    expect(serializeMessage(msg).toString()).toContain("\r\nl: 6\r\n\r\nabcdef");
  });

  it("answers a request with Via, From, To, Call-ID and CSeq copied byte-exact and a To tag added", () => {
    const req = parseMessage(
      options("Via: SIP/2.0/TCP  second.example.com ;branch=z9hG4bK2", "Timestamp: 54"),
    ) as SipRequest;
    const res = createResponse(req, 200, { toTag: "xyz", headers: [["Allow", "INVITE, ACK"]] });
    const text = serializeMessage(res).toString();
    expect(text.startsWith("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc\r\n")).toBe(true);
    expect(text).toContain("Via: SIP/2.0/TCP  second.example.com ;branch=z9hG4bK2\r\n");
    expect(text).toContain("To: <sip:b@example.com>;tag=xyz\r\n");
    expect(text).not.toContain("Timestamp");
    expect(createResponse(req, 100).header("timestamp")).toBe("54");
    expect(createResponse(req, 100, { toTag: "t" }).header("to")).toBe("<sip:b@example.com>");
    const back = parseMessage(serializeMessage(res));
    validateMessage(back);
    expect(back.to?.params.tag).toBe("xyz");
  });

  it("can answer 400 even when the To header is unreadable", () => {
    const req = parseMessage(
      crlf(
        "OPTIONS sip:b@example.com SIP/2.0",
        ...BASE.slice(0, 2),
        'To: "unterminated <sip:b@x>',
        ...BASE.slice(3),
        "",
        "",
      ),
    ) as SipRequest;
    expect(() => validateMessage(req)).toThrow(/To/);
    const res = createResponse(req, 400, { reason: "Malformed To", toTag: "t" });
    expect(serializeMessage(res).toString()).toContain('To: "unterminated <sip:b@x>\r\n');
  });
});
