import { describe, expect, it } from "vitest";
import { type DnsLookup, numericTarget, orderSrv, SipResolver } from "../../src/sip/resolver.js";
import { parseUri, type SipUri } from "../../src/sip/uri.js";

const uri = (s: string) => parseUri(s) as SipUri;

function fakeDns(records: {
  naptr?: Record<
    string,
    Array<{
      flags: string;
      service: string;
      regexp: string;
      replacement: string;
      order: number;
      preference: number;
    }>
  >;
  srv?: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
}): DnsLookup & { queries: string[] } {
  const queries: string[] = [];
  const get = <T>(table: Record<string, T[]> | undefined, name: string, kind: string): Promise<T[]> => {
    queries.push(`${kind} ${name}`);
    const v = table?.[name];
    return v
      ? Promise.resolve(v)
      : Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }));
  };
  return {
    queries,
    resolveNaptr: (n) => get(records.naptr, n, "NAPTR"),
    resolveSrv: (n) => get(records.srv, n, "SRV"),
    resolve4: (n) => get(records.a, n, "A"),
    resolve6: (n) => get(records.aaaa, n, "AAAA"),
  };
}

describe("RFC 3263 target resolution", () => {
  it("short-circuits numeric hosts with no lookup, using transport and default ports", async () => {
    const dns = fakeDns({});
    const r = new SipResolver(dns);
    expect(await r.resolve(uri("sip:a@127.0.0.1"))).toEqual([
      { protocol: "UDP", host: "127.0.0.1", port: 5060 },
    ]);
    expect(await r.resolve(uri("sip:a@[::1]:5070;transport=tcp"))).toEqual([
      { protocol: "TCP", host: "::1", port: 5070 },
    ]);
    expect(numericTarget(uri("sips:a@10.0.0.1"))).toEqual({ protocol: "TLS", host: "10.0.0.1", port: 5061 });
    expect(dns.queries).toEqual([]);
  });

  it("uses only A/AAAA when a port is given", async () => {
    const dns = fakeDns({ a: { "sip.example": ["192.0.2.1"] } });
    expect(await new SipResolver(dns).resolve(uri("sip:sip.example:5080"))).toEqual([
      { protocol: "UDP", host: "192.0.2.1", port: 5080 },
    ]);
    expect(dns.queries.some((q) => q.startsWith("SRV") || q.startsWith("NAPTR"))).toBe(false);
  });

  it("follows NAPTR → SRV → A in order", async () => {
    const dns = fakeDns({
      naptr: {
        "example.com": [
          {
            flags: "s",
            service: "SIP+D2U",
            regexp: "",
            replacement: "_sip._udp.example.com",
            order: 20,
            preference: 0,
          },
          {
            flags: "s",
            service: "SIP+D2T",
            regexp: "",
            replacement: "_sip._tcp.example.com",
            order: 10,
            preference: 0,
          },
        ],
      },
      srv: { "_sip._tcp.example.com": [{ name: "pbx.example.com", port: 5070, priority: 1, weight: 1 }] },
      a: { "pbx.example.com": ["192.0.2.9"] },
    });
    expect(await new SipResolver(dns).resolve(uri("sip:bob@example.com"))).toEqual([
      { protocol: "TCP", host: "192.0.2.9", port: 5070 },
    ]);
  });

  it("uses SRV for an explicit transport, and falls back to A on 5060 without NAPTR/SRV", async () => {
    const dns = fakeDns({
      srv: { "_sip._tcp.example.org": [{ name: "b.example.org", port: 5999, priority: 1, weight: 0 }] },
      a: { "b.example.org": ["192.0.2.2"], "example.net": ["192.0.2.3"] },
    });
    const r = new SipResolver(dns);
    expect(await r.resolve(uri("sip:x@example.org;transport=tcp"))).toEqual([
      { protocol: "TCP", host: "192.0.2.2", port: 5999 },
    ]);
    expect(await r.resolve(uri("sip:x@example.net"))).toEqual([
      { protocol: "UDP", host: "192.0.2.3", port: 5060 },
    ]);
    await expect(r.resolve(uri("sip:x@nowhere.invalid"))).rejects.toThrow(/Cannot resolve/);
  });

  it("orders SRV by priority, then by weight", () => {
    const recs = [
      { name: "c", priority: 2, weight: 10 },
      { name: "a", priority: 1, weight: 0 },
      { name: "b", priority: 1, weight: 100 },
    ];
    expect(orderSrv(recs, () => 0.5).map((r) => r.name)).toEqual(["b", "a", "c"]);
  });
});
