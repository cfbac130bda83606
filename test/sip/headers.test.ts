import { describe, expect, it } from "vitest";
import { parseMessage, SipParseError, type SipRequest } from "../../src/sip/index.js";
import { crlf } from "./helpers.js";

function request(...headers: string[]): SipRequest {
  const msg = parseMessage(
    crlf(
      "INVITE sip:bob@example.com SIP/2.0",
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
      "From: <sip:alice@example.com>;tag=1928301774",
      "To: <sip:bob@example.com>",
      "Call-ID: a84b4c76e66710@pc33.example.com",
      "CSeq: 314159 INVITE",
      ...headers,
      "",
      "",
    ),
  );
  if (!msg.isRequest) throw new Error("not a request");
  return msg;
}

describe("typed headers", () => {
  it("Via: every element across lines and commas, with rport, received and IPv6", () => {
    const msg = request(
      "v: SIP/2.0/TCP [2001:db8::9]:5070;rport;branch=z9hG4bKa, SIP / 2.0 / ws x.invalid;received=2001:db8::1",
    );
    expect(msg.via).toHaveLength(3);
    expect(msg.via[1]).toMatchObject({
      transport: "TCP",
      host: "[2001:db8::9]",
      port: 5070,
      params: { rport: null, branch: "z9hG4bKa" },
    });
    expect(msg.via[2]).toMatchObject({
      transport: "WS",
      host: "x.invalid",
      params: { received: "2001:db8::1" },
    });
  });

  it("From/To: display names quoted or not, tags, and addr-spec parameters", () => {
    const msg = request();
    expect(msg.from).toMatchObject({ params: { tag: "1928301774" }, angle: true });
    const q = parseMessage(
      crlf(
        "SIP/2.0 180 Ringing",
        "Via: SIP/2.0/UDP h;branch=z9hG4bKx",
        'From: "Alice \\"A\\" Liddell" <sip:alice@example.com>;tag=1',
        "To: Bob Smith <sip:bob@example.com>;tag=2",
        "Call-ID: c",
        "CSeq: 1 INVITE",
        "",
        "",
      ),
    );
    expect(q.from?.displayName).toBe('Alice "A" Liddell');
    expect(q.to).toMatchObject({ displayName: "Bob Smith", params: { tag: "2" } });
  });

  it("Contact: a list, the star form, expires and q", () => {
    const msg = request(
      'm: "x" <sip:a@h1>;q=0.7;expires=60, <sip:b@h2>',
      'Contact: sip:c@h3;+sip.instance="<urn:uuid:1>"',
    );
    const contact = msg.contact;
    if (contact === "*") throw new Error("star");
    expect(contact.map((c) => c.params.q ?? null)).toEqual(["0.7", null, null]);
    expect(contact[2]?.params["+sip.instance"]).toBe('"<urn:uuid:1>"');
    expect(request("Contact: *").contact).toBe("*");
  });

  it("Route and Record-Route must use angle brackets", () => {
    expect(request("Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>").route).toHaveLength(2);
    expect(() => request("Record-Route: sip:p1.example.com;lr").recordRoute).toThrow(SipParseError);
  });

  it("CSeq, Max-Forwards and Content-Length with their ranges", () => {
    expect(request().cseq).toEqual({ seq: 314159, method: "INVITE" });
    expect(request("Max-Forwards: 70").maxForwards).toBe(70);
    expect(() => request("Max-Forwards: 256").maxForwards).toThrow(/Max-Forwards out of range/);
    expect(() =>
      parseMessage(crlf("OPTIONS sip:a@b SIP/2.0", "CSeq: 2147483648 OPTIONS", "", "")),
    ).not.toThrow();
    expect(
      () => parseMessage(crlf("OPTIONS sip:a@b SIP/2.0", "CSeq: 2147483648 OPTIONS", "", "")).cseq,
    ).toThrow(/CSeq number out of range/);
  });

  it("Content-Type with parameters and the multipart boundary", () => {
    const msg = request('Content-Type: multipart/mixed; boundary="boundary1" ;charset=utf-8');
    expect(msg.contentType).toMatchObject({
      mediaType: "multipart/mixed",
      params: { boundary: '"boundary1"', charset: "utf-8" },
    });
  });

  it("Supported, Require and Proxy-Require as lower-cased option tags", () => {
    const msg = request(
      "k: 100rel, Timer",
      "Supported: replaces",
      "Require: 100rel",
      "Proxy-Require: sec-agree",
    );
    expect(msg.supported).toEqual(["100rel", "timer", "replaces"]);
    expect(msg.require).toEqual(["100rel"]);
    expect(msg.proxyRequire).toEqual(["sec-agree"]);
    expect(request("Supported:").supported).toEqual([]);
  });

  it("RSeq and RAck (RFC 3262)", () => {
    expect(request("RSeq: 988789").rseq).toBe(988789);
    expect(request("RAck: 776656 1 INVITE").rack).toEqual({ rseq: 776656, cseq: 1, method: "INVITE" });
    expect(() => request("RAck: 1 INVITE").rack).toThrow(SipParseError);
  });

  it("digest credentials and challenges, several per message, and unknown schemes", () => {
    const msg = request(
      'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae4", algorithm=SHA-256',
      "Proxy-Authorization: NoOneKnowsThisScheme opaque-data=here",
    );
    expect(msg.authorization[0]).toMatchObject({
      scheme: "Digest",
      params: { username: "bob", realm: "biloxi.com", qop: "auth", nc: "00000001", algorithm: "SHA-256" },
    });
    expect(msg.proxyAuthorization[0]).toMatchObject({
      scheme: "NoOneKnowsThisScheme",
      raw: "opaque-data=here",
    });
    const challenges = parseMessage(
      crlf(
        "SIP/2.0 401 Unauthorized",
        "Via: SIP/2.0/UDP h;branch=z9hG4bKx",
        "From: <sip:a@b>;tag=1",
        "To: <sip:a@b>;tag=2",
        "Call-ID: c",
        "CSeq: 1 REGISTER",
        'WWW-Authenticate: Digest realm="atlanta.com", nonce="n1", algorithm=SHA-256, qop="auth"',
        'WWW-Authenticate: Digest realm="atlanta.com", nonce="n1", algorithm=MD5, qop="auth"',
        "",
        "",
      ),
    );
    expect(challenges.wwwAuthenticate.map((c) => c.params.algorithm)).toEqual(["SHA-256", "MD5"]);
    expect(() => request('Authorization: Digest realm="a", realm="b"').authorization).toThrow(/Duplicate/);
  });

  it("Session-Expires and Min-SE (RFC 4028)", () => {
    expect(request("x: 1800;refresher=uac").sessionExpires).toMatchObject({
      seconds: 1800,
      refresher: "uac",
    });
    expect(request("Min-SE: 90").minSE).toBe(90);
    expect(() => request("Session-Expires: 1800;refresher=both").sessionExpires).toThrow(SipParseError);
  });

  it("Identity (RFC 8224), several kept in order, with info in brackets or not", () => {
    const msg = request(
      "Identity: eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.c2ln;info=<https://cert.example.org/passport.cer>;alg=ES256;ppt=shaken",
      'y: eyJhIjoxfQ..c2ln;info=https://cert.example.org/x.cer;ppt="rcd"',
    );
    expect(msg.identity).toHaveLength(2);
    expect(msg.identity[0]).toMatchObject({
      info: "https://cert.example.org/passport.cer",
      alg: "ES256",
      ppt: "shaken",
    });
    expect(msg.identity[1]).toMatchObject({
      token: "eyJhIjoxfQ..c2ln",
      info: "https://cert.example.org/x.cer",
      ppt: "rcd",
    });
  });

  it("P-Asserted-Identity with a sip and a tel URI, and Privacy", () => {
    const msg = request(
      'P-Asserted-Identity: "Alice" <sip:+15551234567@example.com;user=phone>, <tel:+15551234567>',
      "Privacy: id;header",
    );
    expect(msg.pAssertedIdentity.map((p) => p.uri.scheme)).toEqual(["sip", "tel"]);
    expect(msg.privacy).toEqual(["id", "header"]);
  });

  it("Geolocation keeps every value in order, and Geolocation-Routing", () => {
    const msg = request(
      "Geolocation: <https://lis.example.com/loc/1>",
      "Geolocation: <cid:target123@example.com>;inserted-by=gw",
      "Geolocation-Routing: yes",
    );
    expect(msg.geolocation.map((g) => g.uri.scheme)).toEqual(["https", "cid"]);
    expect(msg.geolocation[1]?.params["inserted-by"]).toBe("gw");
    expect(msg.geolocationRouting).toBe("yes");
  });

  it("Call-Info, folded, with purpose (RFC 7852 §7 style)", () => {
    const msg = parseMessage(
      crlf(
        "INVITE urn:service:sos SIP/2.0",
        "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKx",
        "From: <sip:a@b>;tag=1",
        "To: <urn:service:sos>",
        "Call-ID: c",
        "CSeq: 1 INVITE",
        "Call-Info: <https://www.example.com/23sedde3>;",
        "     purpose=EmergencyCallData.ProviderInfo,",
        "  <cid:1234567890@atlanta.example.com>;purpose=EmergencyCallData.DeviceInfo",
        "",
        "",
      ),
    );
    expect(msg.callInfo.map((c) => c.params.purpose)).toEqual([
      "EmergencyCallData.ProviderInfo",
      "EmergencyCallData.DeviceInfo",
    ]);
  });

  it("Resource-Priority, Priority and Reason", () => {
    const msg = request(
      "Resource-Priority: esnet.1, wps.0",
      "Priority: psap-callback",
      'Reason: Q.850;cause=16;text="Normal call clearing", SIP;cause=200',
    );
    expect(msg.resourcePriority).toEqual([
      { namespace: "esnet", priority: "1" },
      { namespace: "wps", priority: "0" },
    ]);
    expect(msg.priority).toBe("psap-callback");
    expect(msg.reason[0]).toMatchObject({ protocol: "Q.850", cause: 16, text: "Normal call clearing" });
    expect(msg.reason[1]).toMatchObject({ protocol: "SIP", cause: 200 });
  });

  it("a header nobody reads is never parsed: a malformed one costs nothing until read", () => {
    const msg = request("Session-Expires: soon", "X-Custom: ;;,,;", "Resource-Priority: nodot");
    expect(msg.header("x-custom")).toBe(";;,,;");
    expect(() => msg.sessionExpires).toThrow(/Session-Expires/);
    expect(() => msg.resourcePriority).toThrow(/Resource-Priority/);
    // the same error again, from the cache
    expect(() => msg.sessionExpires).toThrow(/Session-Expires/);
  });

  it("changing a header invalidates only its cached value", () => {
    const msg = request("Max-Forwards: 70");
    expect(msg.maxForwards).toBe(70);
    msg.setHeader("Max-Forwards", "69");
    expect(msg.maxForwards).toBe(69);
    msg.addHeader("Via", "SIP/2.0/UDP gw.example.com;branch=z9hG4bKgw", "first");
    expect(msg.topVia?.host).toBe("gw.example.com");
    msg.removeFirstListValue("via");
    expect(msg.topVia?.host).toBe("192.0.2.1");
  });
});
