import { describe, expect, it } from "vitest";
import {
  calledNumber,
  formatNumberForTrunk,
  isEmergencyCall,
  NoRouteError,
  normaliseNumber,
  RoutingError,
  routeNumber,
  TrunkIdentifier,
  UnroutableUriError,
} from "../../src/b2bua/routing.js";
import { parseConfig } from "../../src/config/index.js";
import { parseUri } from "../../src/sip/index.js";

const US = { format: "national" as const, defaultCountry: "US" };
const E164 = { format: "e164" as const };

const config = parseConfig(
  `
trunks:
  - name: a
    address: "127.0.0.1:5080"
    inbound: { acl: ["127.0.0.0/8", "2001:db8::/32"] }
  - name: b
    address: "127.0.0.1:5081"
    inbound: { acl: ["192.0.2.10"] }
  - name: fr
    address: "127.0.0.1:5082"
    numbers: { format: national, defaultCountry: FR }
routes:
  - match: "911|112"
    to: "trunk:a"
  - match: "\\\\+33[0-9]{9}"
    to: "trunk:fr"
  - match: "\\\\+1[0-9]{10}"
    to: ["trunk:b", "trunk:a", "trunk:b"]
`,
  "routing.yaml",
  { env: {} },
);

describe("number normalisation", () => {
  it("reads E.164 with visual separators", () => {
    expect(normaliseNumber("+1 (201) 555-0123", E164)).toEqual({
      number: "+12015550123",
      kind: "e164",
      dialled: "+12015550123",
    });
    expect(normaliseNumber("+33.1.42.68.53.00", E164).number).toBe("+33142685300");
  });

  it("reads national numbers with the default country", () => {
    expect(normaliseNumber("(201) 555-0123", US).number).toBe("+12015550123");
    expect(normaliseNumber("01 42 68 53 00", { format: "national", defaultCountry: "FR" }).number).toBe(
      "+33142685300",
    );
    // Without a country a national number stays as dialled rather than guessed.
    expect(normaliseNumber("2015550123", E164)).toMatchObject({ number: "2015550123", kind: "dialled" });
  });

  it("keeps short codes and service codes as dialled", () => {
    expect(normaliseNumber("911", US)).toEqual({ number: "911", kind: "dialled", dialled: "911" });
    expect(normaliseNumber("*21#", US)).toMatchObject({ number: "*21#", kind: "dialled" });
  });

  it("keeps a non-numeric user part as is", () => {
    expect(normaliseNumber("alice", US)).toEqual({ number: "alice", kind: "user", dialled: "alice" });
  });

  it("applies a global phone-context to a local number", () => {
    expect(normaliseNumber("142685300", E164, "+33")).toMatchObject({ number: "+33142685300", kind: "e164" });
    expect(normaliseNumber("5550123", US, "example.com").kind).toBe("dialled");
  });

  it("extracts the number from tel: and sip: URIs", () => {
    expect(calledNumber("tel:+1-201-555-0123", E164).number).toBe("+12015550123");
    expect(calledNumber("tel:142685300;phone-context=+33", E164).number).toBe("+33142685300");
    expect(calledNumber("sip:+12015550123@gw.example;user=phone", E164).number).toBe("+12015550123");
    expect(calledNumber("sip:142685300;phone-context=+33@gw.example;user=phone", E164).number).toBe(
      "+33142685300",
    );
    expect(calledNumber("sip:%28201%29555-0123@gw.example", US).number).toBe("+12015550123");
    expect(calledNumber(parseUri("sips:bob@biloxi.example"), US)).toMatchObject({
      number: "bob",
      kind: "user",
    });
  });

  it("refuses a URI without a user with 416", () => {
    expect(() => calledNumber("sip:gw.example", E164)).toThrow(UnroutableUriError);
    try {
      calledNumber("https://example.com/", E164);
    } catch (err) {
      expect(err).toBeInstanceOf(RoutingError);
      expect((err as RoutingError).status).toBe(416);
    }
  });

  it("formats numbers for a trunk's number format", () => {
    const fr = { format: "national" as const, defaultCountry: "FR" };
    expect(formatNumberForTrunk(normaliseNumber("+33142685300", E164), fr)).toBe("0142685300");
    expect(formatNumberForTrunk(normaliseNumber("+12015550123", E164), fr)).toBe("+12015550123");
    expect(formatNumberForTrunk(normaliseNumber("+12015550123", E164), US)).toBe("2015550123");
    expect(formatNumberForTrunk(normaliseNumber("+12015550123", E164), E164)).toBe("+12015550123");
    expect(formatNumberForTrunk(normaliseNumber("911", US), fr)).toBe("911");
  });
});

describe("routes", () => {
  it("picks the first matching route and its targets in failover order, without repeats", () => {
    const d = routeNumber(config, calledNumber("sip:2015550123@gw;user=phone", US));
    expect(d.routeIndex).toBe(2);
    expect(d.targets.map((t) => t.name)).toEqual(["b", "a"]);
    expect(routeNumber(config, normaliseNumber("+33142685300", E164)).targets.map((t) => t.name)).toEqual([
      "fr",
    ]);
    expect(routeNumber(config, normaliseNumber("911", US)).targets.map((t) => t.name)).toEqual(["a"]);
  });

  it("matches the whole number", () => {
    expect(() => routeNumber(config, normaliseNumber("9112", US))).toThrow(NoRouteError);
  });

  it("throws NoRouteError mapping to 404 when nothing matches", () => {
    try {
      routeNumber(config, normaliseNumber("+442079460000", E164));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NoRouteError);
      expect((err as NoRouteError).status).toBe(404);
      expect((err as NoRouteError).number).toBe("+442079460000");
    }
  });
});

describe("emergency detection", () => {
  const numbers = ["911", "112"];
  it("recognises urn:service:sos and its sub-services", () => {
    expect(isEmergencyCall("urn:service:sos", numbers)).toBe(true);
    expect(isEmergencyCall("urn:service:sos.fire", numbers)).toBe(true);
    expect(isEmergencyCall(parseUri("urn:service:SOS.police"), numbers)).toBe(true);
    expect(isEmergencyCall("urn:service:test.sos", numbers)).toBe(false);
    expect(isEmergencyCall("urn:service:counseling", numbers)).toBe(false);
  });

  it("recognises configured numbers in sip: and tel: URIs", () => {
    expect(isEmergencyCall("sip:911@gw.example;user=phone", numbers)).toBe(true);
    expect(isEmergencyCall("tel:112;phone-context=+33", numbers)).toBe(true);
    expect(isEmergencyCall("sip:9-1-1@gw.example", numbers)).toBe(true);
    expect(isEmergencyCall("sip:9112@gw.example", numbers)).toBe(false);
    expect(isEmergencyCall("sip:911@gw.example", [])).toBe(false);
    expect(isEmergencyCall("not a uri", numbers)).toBe(false);
  });
});

describe("trunk identification by source address", () => {
  const id = new TrunkIdentifier(config.trunks);
  it("finds the trunk whose ACL holds the address", () => {
    expect(id.identify("127.0.0.1")?.name).toBe("a");
    expect(id.identify("2001:db8::5")?.name).toBe("a");
    expect(id.identify("192.0.2.10")?.name).toBe("b");
    expect(id.identify("192.0.2.11")).toBeUndefined();
    expect(id.identify("::1")).toBeUndefined();
    expect(id.identify("::ffff:192.0.2.10")?.name).toBe("b");
  });
});
