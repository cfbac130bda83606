import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MappingError } from "../../src/mapping/errors.js";
import {
  isTnDid,
  normaliseNumber,
  numberFromTnDid,
  resolveDsipTarget,
  tnDidFor,
  toE164,
} from "../../src/mapping/numbers.js";

const GW = "did:web:gw.example";
const LOCAL = "did:web:localhost%3A8080";

describe("tn DIDs", () => {
  it("names a number under the gateway's did:web and reads it back", () => {
    expect(tnDidFor(GW, "+15551234567")).toBe("did:web:gw.example:tn:15551234567");
    expect(numberFromTnDid(GW, "did:web:gw.example:tn:15551234567")).toBe("+15551234567");
    expect(tnDidFor(LOCAL, "+33142685300")).toBe("did:web:localhost%3A8080:tn:33142685300");
    expect(numberFromTnDid(LOCAL, "did:web:localhost%3A8080:tn:33142685300")).toBe("+33142685300");
  });

  it("compares the host the way did:web does (case, %3a)", () => {
    expect(tnDidFor("did:web:GW.Example", "+15551234567")).toBe("did:web:gw.example:tn:15551234567");
    expect(numberFromTnDid(LOCAL, "did:web:LOCALHOST%3a8080:tn:15551234567")).toBe("+15551234567");
  });

  it("rejects a tn DID of another host, another path or digits that cannot be E.164", () => {
    expect(numberFromTnDid(GW, "did:web:evil.example:tn:15551234567")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example.evil:tn:15551234567")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example:users:15551234567")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example:tn:05551234567")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example:tn:1234567890123456")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example:tn:1555:x")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:web:gw.example:tn:")).toBeUndefined();
    expect(numberFromTnDid(GW, "did:key:z6Mk")).toBeUndefined();
    expect(numberFromTnDid(LOCAL, "did:web:localhost:tn:15551234567")).toBeUndefined();
  });

  it("refuses a number that is not E.164 and a gateway DID that is not a bare did:web", () => {
    expect(() => tnDidFor(GW, "5551234567")).toThrow(MappingError);
    expect(() => tnDidFor(GW, "+0123")).toThrow(MappingError);
    expect(() => tnDidFor("did:key:z6Mk", "+15551234567")).toThrow(TypeError);
    expect(() => tnDidFor("did:web:gw.example:sub", "+15551234567")).toThrow(TypeError);
  });

  it("tells tn DIDs apart", () => {
    expect(isTnDid("did:web:gw.example:tn:15551234567")).toBe(true);
    expect(isTnDid("did:web:gw.example")).toBe(false);
    expect(isTnDid("did:key:z6Mk")).toBe(false);
  });

  it("round-trips every E.164 shape (property)", () => {
    const host = fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/),
        fc.constantFrom("example", "test"),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      )
      .map(([label, tld, port]) => `did:web:${label}.${tld}${port ? `%3A${port}` : ""}`);
    const e164 = fc.stringMatching(/^\+[1-9][0-9]{1,14}$/);
    fc.assert(
      fc.property(host, e164, (gw, number) => {
        const did = tnDidFor(gw, number);
        expect(isTnDid(did)).toBe(true);
        expect(numberFromTnDid(gw, did)).toBe(number);
      }),
    );
  });

  it("round-trips possible numbers through normalisation, tn DID and back (property)", () => {
    const us = fc.integer({ min: 2_012_000_000, max: 9_899_999_999 }).map((n) => `+1${n}`);
    fc.assert(
      fc.property(us, (text) => {
        const e164 = toE164(text);
        if (e164 === undefined) return;
        expect(numberFromTnDid(GW, tnDidFor(GW, e164))).toBe(e164);
        expect(toE164(e164)).toBe(e164);
      }),
    );
  });
});

describe("number normalisation (moved from routing)", () => {
  it("normalises E.164, national with a country, and leaves dial strings and users", () => {
    expect(normaliseNumber("+1 (201) 555-0123", {}).number).toBe("+12015550123");
    expect(normaliseNumber("(201) 555-0123", { defaultCountry: "US" }).number).toBe("+12015550123");
    expect(normaliseNumber("2015550123", {})).toMatchObject({ kind: "dialled" });
    expect(normaliseNumber("alice", {})).toEqual({ number: "alice", kind: "user", dialled: "alice" });
    expect(toE164("01 42 68 53 00", { defaultCountry: "FR" })).toBe("+33142685300");
    expect(toE164("911", { defaultCountry: "US" })).toBeUndefined();
  });
});

describe("resolveDsipTarget", () => {
  it("reads tel: URIs, the gateway's tn DIDs and other DIDs", () => {
    expect(resolveDsipTarget("tel:+1-201-555-0123", GW)).toEqual({ kind: "number", e164: "+12015550123" });
    expect(resolveDsipTarget("tel:2015550123;phone-context=+1", GW)).toEqual({
      kind: "number",
      e164: "+12015550123",
    });
    expect(resolveDsipTarget("tel:0142685300", GW, { defaultCountry: "FR" })).toEqual({
      kind: "number",
      e164: "+33142685300",
    });
    expect(resolveDsipTarget("tel:911", GW, { defaultCountry: "US" })).toEqual({
      kind: "dialled",
      digits: "911",
    });
    expect(resolveDsipTarget("did:web:gw.example:tn:15551234567", GW)).toEqual({
      kind: "number",
      e164: "+15551234567",
    });
    expect(resolveDsipTarget("did:web:other.example:tn:15551234567", GW)).toEqual({
      kind: "did",
      did: "did:web:other.example:tn:15551234567",
    });
    expect(resolveDsipTarget("did:key:z6MkAlice", GW)).toEqual({ kind: "did", did: "did:key:z6MkAlice" });
  });

  it("refuses a tel: URI that names no number with 404", () => {
    for (const bad of ["tel:", "tel:abc", "sip:alice@example.com", "mailto:x@example.com"]) {
      const err = (() => {
        try {
          resolveDsipTarget(bad, GW);
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(MappingError);
      expect(err).toMatchObject({ side: "dsip", code: 404, status: 404 });
    }
  });
});
