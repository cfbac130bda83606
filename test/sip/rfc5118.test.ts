import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isSipUri, type NameAddr, serializeMessage } from "../../src/sip/index.js";
import { FIXTURES, messageOutcome } from "./helpers.js";

interface Case {
  file: string;
  section: string;
  title: string;
  expect: "accept" | number;
  checks: Record<string, unknown> & {
    requestUri?: string;
    requestUriHost?: string;
    requestUriPort?: number | null;
    requestUriUser?: string | null;
    toHost?: string;
    topVia?: { transport: string; host: string; port: number | null; branch?: string; received?: string };
    vias?: Array<{
      transport: string;
      host: string;
      port: number | null;
      branch?: string;
      received?: string;
    }>;
    contactHosts?: string[];
    contentLength?: number;
  };
}

const DIR = `${FIXTURES}rfc5118/`;
const cases: Case[] = JSON.parse(readFileSync(`${DIR}index.json`, "utf8"));

function hostOf(addr: NameAddr): string | undefined {
  return isSipUri(addr.uri) ? addr.uri.host : undefined;
}

describe("RFC 5118 IPv6 torture messages", () => {
  it("has all 12 messages", () => {
    expect(cases).toHaveLength(12);
  });

  for (const c of cases) {
    it(`${c.file} (§${c.section} ${c.title}) → ${c.expect}`, () => {
      const buf = readFileSync(`${DIR}${c.file}`);
      const got = messageOutcome(buf);
      expect(got.outcome, got.reason).toBe(c.expect);
      if (c.expect !== "accept" || !got.msg?.isRequest) return;
      const msg = got.msg;
      const k = c.checks;
      const uri = msg.uri;
      if (k.requestUri) expect(msg.uriText).toBe(k.requestUri);
      if (k.requestUriHost) expect(isSipUri(uri) && uri.host).toBe(k.requestUriHost);
      if (k.requestUriPort !== undefined)
        expect(isSipUri(uri) ? (uri.port ?? null) : "n/a").toBe(k.requestUriPort);
      if (k.requestUriUser !== undefined)
        expect(isSipUri(uri) ? (uri.user ?? null) : "n/a").toBe(k.requestUriUser);
      if (k.toHost) expect(hostOf(msg.to!)).toBe(k.toHost);
      const vias = k.vias ?? (k.topVia ? [k.topVia] : []);
      vias.forEach((v, i) => {
        const via = msg.via[i]!;
        expect(via.transport).toBe(v.transport);
        expect(via.host).toBe(v.host);
        expect(via.port ?? null).toBe(v.port);
        if (v.branch) expect(via.params.branch).toBe(v.branch);
        if (v.received) expect(via.params.received).toBe(v.received);
      });
      if (k.contactHosts) {
        const contact = msg.contact;
        if (contact === "*") throw new Error("unexpected *");
        expect(contact.map(hostOf)).toEqual(k.contactHosts);
      }
      if (k.contentLength !== undefined) expect(msg.body.length).toBe(k.contentLength);
      expect(serializeMessage(msg).equals(buf)).toBe(true);
    });
  }

  it("ipv6-bad is refused for the missing brackets, not for something else", () => {
    const got = messageOutcome(readFileSync(`${DIR}ipv6-bad.sip`));
    expect(got.reason).toMatch(/Request-URI/);
  });
});
