import { describe, expect, it } from "vitest";
import {
  escapeUser,
  formatUri,
  isEmergencyServiceUrn,
  isTestServiceUrn,
  parseUri,
  SipParseError,
  telDigits,
  unescapeUriPart,
  withUri,
} from "../../src/sip/index.js";

describe("sip and sips URIs", () => {
  it("reads user, password, host, port, params and headers", () => {
    const uri = parseUri(
      "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr;maddr=10.0.0.1?subject=hi&priority=urgent",
    );
    expect(uri).toMatchObject({
      scheme: "sips",
      user: "alice",
      password: "secret",
      host: "[2001:db8::1]",
      port: 5061,
      params: { transport: "tcp", lr: null, maddr: "10.0.0.1" },
      headers: [
        ["subject", "hi"],
        ["priority", "urgent"],
      ],
    });
  });

  it("keeps verstat and other parameters that carriers put inside the user part", () => {
    const uri = parseUri(
      "sip:+15551234567;verstat=TN-Validation-Passed;cpc=ordinary@gw.example.com;user=phone",
    );
    expect(uri).toMatchObject({
      user: "+15551234567;verstat=TN-Validation-Passed;cpc=ordinary",
      params: { user: "phone" },
    });
  });

  it("lower-cases the scheme and parameter names but keeps values", () => {
    const uri = parseUri("SIP:Bob@Example.COM;Transport=TCP");
    expect(uri.scheme).toBe("sip");
    expect(uri).toMatchObject({ user: "Bob", host: "Example.COM", params: { transport: "TCP" } });
  });

  it("writes back exactly what it read, and from fields once changed", () => {
    const text = "sip:%61lice@example.com;lr";
    const uri = parseUri(text);
    expect(formatUri(uri)).toBe(text);
    expect(formatUri(withUri(uri, { host: "example.net" }))).toBe("sip:%61lice@example.net;lr");
  });

  it("unescapes and escapes user parts", () => {
    expect(unescapeUriPart("null-%00-null")).toBe("null-\u0000-null");
    expect(unescapeUriPart("I%20have%20spaces")).toBe("I have spaces");
    expect(escapeUser("a b@c#1")).toBe("a%20b%40c%231");
  });

  it.each([
    ["sip:", "no host"],
    ["sip:user@", "empty host"],
    ["sip:@example.com", "empty user"],
    ["sip:user@exa mple.com", "space in host"],
    ["sip:user@example.com:99999", "port out of range"],
    ["sip:user@example.com:", "empty port"],
    ["sip:user@[2001:db8::1", "unterminated IPv6"],
    ["sip:user@[not:an:ip]", "bad IPv6"],
    ["sip:2001:db8::10", "IPv6 without brackets"],
    ["sip:user@1.2.3", "numeric host that is no IPv4 address"],
    ["sip:user@256.1.1.1", "IPv4 octet out of range"],
    ["sip:us er@example.com", "space in user"],
    ["sip:user@example.com;=x", "empty parameter name"],
    ["sip:user@example.com;a=", "empty parameter value"],
    ["sip:user@example.com;a=%G1", "bad escape"],
    ["1sip:user@example.com", "scheme must start with a letter"],
    ["nocolon", "no scheme"],
  ])("refuses %s (%s)", (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });

  it("refuses headers in a Request-URI only", () => {
    expect(() => parseUri("sip:a@b?Route=%3Csip:c%3E", { requestUri: true })).toThrow(/Headers not allowed/);
    expect(parseUri("sip:a@b?Route=%3Csip:c%3E")).toMatchObject({ headers: [["Route", "%3Csip:c%3E"]] });
  });

  it("tolerates the RFC 5118 §4.10 three-colon IPv6 reference", () => {
    expect(parseUri("sip:user@[2001:db8:::192.0.2.1]")).toMatchObject({ host: "[2001:db8:::192.0.2.1]" });
  });
});

describe("tel URIs (RFC 3966)", () => {
  it("reads global numbers with visual separators and parameters", () => {
    const uri = parseUri("tel:+1-201-555-0123;ext=1234;isub=5");
    expect(uri).toMatchObject({
      scheme: "tel",
      number: "+1-201-555-0123",
      global: true,
      params: { ext: "1234", isub: "5" },
    });
    if (uri.scheme !== "tel") throw new Error();
    expect(telDigits(uri as never)).toBe("+12015550123");
  });

  it("reads local numbers with their phone-context", () => {
    expect(parseUri("tel:7042;phone-context=example.com")).toMatchObject({
      global: false,
      number: "7042",
      params: { "phone-context": "example.com" },
    });
    expect(parseUri("tel:*67#;phone-context=+1")).toMatchObject({ number: "*67#" });
  });

  it.each(["tel:7042", "tel:+", "tel:+1 555", "tel:", "tel:+1555;=x"])("refuses %s", (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });
});

describe("urn and other absolute URIs", () => {
  it("reads emergency service URNs (RFC 5031) and test URNs (RFC 6881)", () => {
    const sos = parseUri("urn:service:sos");
    expect(sos).toMatchObject({ scheme: "urn", nid: "service", nss: "sos" });
    expect(isEmergencyServiceUrn(sos)).toBe(true);
    expect(isEmergencyServiceUrn(parseUri("URN:Service:SOS.fire"))).toBe(true);
    expect(isEmergencyServiceUrn(parseUri("urn:service:sosx"))).toBe(false);
    expect(isEmergencyServiceUrn(parseUri("urn:service:test.sos"))).toBe(false);
    expect(isTestServiceUrn(parseUri("urn:service:test.sos.police"))).toBe(true);
    expect(formatUri(sos)).toBe("urn:service:sos");
  });

  it("keeps unknown schemes opaque", () => {
    expect(parseUri("cid:target123@atlanta.example.com")).toMatchObject({
      scheme: "cid",
      opaque: "target123@atlanta.example.com",
    });
    expect(parseUri("https://lis.example.com/loc/1")).toMatchObject({
      scheme: "https",
      opaque: "//lis.example.com/loc/1",
    });
    expect(parseUri("soap.beep://192.0.2.103:3002")).toMatchObject({ scheme: "soap.beep" });
  });

  it.each(["urn:", "urn:service", "urn::sos", "cid:", "https:a b"])("refuses %s", (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });
});
