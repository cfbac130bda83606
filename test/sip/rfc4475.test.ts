import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  checkRequestSupport,
  DEFAULT_UAS_POLICY,
  parseMessage,
  SipStreamFramer,
  serializeMessage,
} from "../../src/sip/index.js";
import { elementOutcome, FIXTURES, messageOutcome, TORTURE_DIR, torture } from "./helpers.js";

interface Expectation {
  name: string;
  section: string;
  title: string;
  layer: "parse-valid" | "parse-invalid" | "application";
  expect: "accept" | "drop" | number;
  alt_expect?: "accept" | "drop" | number;
  our_outcome?: "accept" | "drop" | number;
  either_allowed?: boolean;
  choice_note: string;
}

const REGISTRAR_POLICY = { ...DEFAULT_UAS_POLICY, methods: [...DEFAULT_UAS_POLICY.methods, "REGISTER"] };

const outcomes: Expectation[] = JSON.parse(readFileSync(`${FIXTURES}rfc4475-outcomes.json`, "utf8"));

describe("RFC 4475 torture messages", () => {
  it("covers all 49 messages shipped with sip@0.0.6", () => {
    const rfcFiles = readdirSync(TORTURE_DIR)
      .filter((f) => f.endsWith(".dat"))
      .map((f) => f.slice(0, -4))
      .filter((n) => !["badcseq", "baddn_sep", "test"].includes(n));
    expect(outcomes).toHaveLength(49);
    expect(new Set(outcomes.map((o) => o.name))).toEqual(new Set(rfcFiles));
  });

  it("documents every choice where the RFC allows either outcome", () => {
    for (const o of outcomes) {
      if (o.either_allowed || o.alt_expect !== undefined) expect(o.choice_note, o.name).not.toBe("");
      if (o.our_outcome !== undefined) {
        expect([o.expect, o.alt_expect, "accept"], o.name).toContain(o.our_outcome);
      }
    }
  });

  for (const o of outcomes) {
    const want = o.our_outcome ?? o.expect;
    it(`${o.name} (§${o.section} ${o.title}) → ${want}`, () => {
      const buf = torture(o.name);
      // REGISTER tests presume a registrar (RFC 4475 §3.3); the gateway's default policy refuses REGISTER.
      const policy = buf.subarray(0, 9).toString() === "REGISTER " ? REGISTRAR_POLICY : DEFAULT_UAS_POLICY;
      const got = o.layer === "application" ? elementOutcome(buf, policy) : messageOutcome(buf);
      expect(got.outcome, got.reason).toBe(want);
      if (got.outcome !== "accept") expect(got.reason).toMatch(/\S/);
    });
  }

  it("re-serializes every accepted message byte for byte", () => {
    for (const o of outcomes) {
      const buf = torture(o.name);
      const got = messageOutcome(buf);
      if (got.outcome !== "accept" || !got.msg) continue;
      const out = serializeMessage(got.msg);
      const cl = got.msg.contentLength;
      // dblreq's datagram carries a second message after Content-Length: only the first is ours.
      // inv2543 has no Content-Length: serializing adds one, everything else stays.
      if (o.name === "inv2543") {
        expect(out.toString("latin1")).toContain(`Content-Length: ${got.msg.body.length}\r\n`);
        continue;
      }
      const expected = cl === undefined ? buf : buf.subarray(0, out.length);
      expect(out.equals(expected), o.name).toBe(true);
    }
  });

  it("zeromf: an endpoint processes Max-Forwards 0; a proxy answers 483 except for OPTIONS (RFC 3261 §16.3)", () => {
    const proxy = { ...DEFAULT_UAS_POLICY, role: "proxy" as const };
    expect(elementOutcome(torture("zeromf")).outcome).toBe("accept");
    expect(elementOutcome(torture("zeromf"), proxy).outcome).toBe("accept");
    const invite = Buffer.from(
      torture("zeromf").toString("latin1").replaceAll("OPTIONS", "INVITE"),
      "latin1",
    );
    expect(elementOutcome(invite, proxy).outcome).toBe(483);
    expect(elementOutcome(invite).outcome).toBe("accept");
  });

  it("a REGISTER reaching the gateway itself (not a registrar) gets 405 with Allow", () => {
    expect(elementOutcome(torture("cparam01")).outcome).toBe(405);
  });

  it("bext01: the 420 lists the unsupported option tags", () => {
    const parsed = messageOutcome(torture("bext01"));
    expect(parsed.outcome).toBe("accept");
    if (!parsed.msg?.isRequest) throw new Error("not a request");
    const r = checkRequestSupport(parsed.msg, DEFAULT_UAS_POLICY);
    expect(r?.status).toBe(420);
    expect(r?.headers[0]?.[0]).toBe("Unsupported");
    expect(r?.headers[0]?.[1]).toMatch(
      /^nothingsupportsthis, nothingsupportsthiseither, noproxiessupportthis, nordoanyproxiessupportthis$/,
    );
  });

  it("clerr: over a stream the framer waits for the missing octets instead of answering 400", () => {
    const framer = new SipStreamFramer();
    expect(framer.push(torture("clerr"))).toEqual([]);
    expect(framer.pendingBytes).toBeGreaterThan(0);
  });

  it("dblreq: only the first request of the datagram is taken", () => {
    const msg = parseMessage(torture("dblreq"));
    expect(msg.isRequest && msg.method).toBe("REGISTER");
    expect(msg.body.length).toBe(0);
  });

  it("esc02: RE%47IST%45R is an unknown method, not REGISTER", () => {
    const msg = parseMessage(torture("esc02"));
    expect(msg.isRequest && msg.method).toBe("RE%47IST%45R");
  });

  it("semiuri: the user part keeps its ';'", () => {
    const msg = parseMessage(torture("semiuri"));
    if (!msg.isRequest) throw new Error("not a request");
    expect(msg.uri).toMatchObject({ scheme: "sip", user: "user;par=u%40example.net", host: "example.com" });
  });
});
