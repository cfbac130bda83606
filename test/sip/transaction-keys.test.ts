import { describe, expect, it } from "vitest";
import { createRequest } from "../../src/sip/builder.js";
import type { SipRequest, SipResponse } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parser.js";
import { clientKey, clientKeyOfResponse, newBranch, serverKey } from "../../src/sip/transaction/keys.js";

function req(
  method: string,
  via: string,
  extra: Array<[string, string]> = [],
  cseqMethod = method,
): SipRequest {
  return createRequest({
    method,
    uri: "sip:bob@example.com",
    headers: [
      ["Via", via],
      ["From", "<sip:a@x>;tag=f1"],
      ["To", "<sip:b@y>"],
      ["Call-ID", "c1"],
      ["CSeq", `7 ${cseqMethod}`],
      ...extra,
    ],
  });
}

describe("transaction matching keys (RFC 3261 §17.1.3, §17.2.3)", () => {
  it("makes unique cookie branches of token characters", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const b = newBranch();
      expect(b).toMatch(/^z9hG4bK[A-Za-z0-9_-]{22}$/);
      seen.add(b);
    }
    expect(seen.size).toBe(10_000);
  });

  it("folds ACK into its INVITE and keeps CANCEL apart, while CANCEL can look up its INVITE", () => {
    const via = "SIP/2.0/UDP host.example:5070;branch=z9hG4bKabc";
    const inv = serverKey(req("INVITE", via));
    expect(serverKey(req("ACK", via))).toBe(inv);
    expect(serverKey(req("CANCEL", via))).not.toBe(inv);
    expect(serverKey(req("CANCEL", via), "INVITE")).toBe(inv);
  });

  it("distinguishes same branch from different sent-by", () => {
    expect(serverKey(req("INVITE", "SIP/2.0/UDP a:5060;branch=z9hG4bKx"))).not.toBe(
      serverKey(req("INVITE", "SIP/2.0/UDP b:5060;branch=z9hG4bKx")),
    );
  });

  it("falls back to RFC 2543 matching without the magic cookie; the ACK (with To tag) still meets its INVITE", () => {
    const via = "SIP/2.0/UDP old.example;branch=1234";
    const inv = serverKey(req("INVITE", via));
    expect(inv?.startsWith("2543")).toBe(true);
    const ackReq = createRequest({
      method: "ACK",
      uri: "sip:bob@example.com",
      headers: [
        ["Via", via],
        ["From", "<sip:a@x>;tag=f1"],
        ["To", "<sip:b@y>;tag=ours"],
        ["Call-ID", "c1"],
        ["CSeq", "7 ACK"],
      ],
    });
    expect(serverKey(ackReq)).toBe(inv);
    expect(serverKey(req("INVITE", "SIP/2.0/UDP old.example"))).not.toBe(inv);
  });

  it("keys responses by branch and CSeq method", () => {
    const res = parseMessage(
      Buffer.from(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
      ),
    ) as SipResponse;
    expect(clientKeyOfResponse(res)).toBe(clientKey("z9hG4bKq", "CANCEL"));
    expect(clientKey("z9hG4bKq", "CANCEL")).not.toBe(clientKey("z9hG4bKq", "INVITE"));
  });
});
