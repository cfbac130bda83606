/**
 * Turning a SIP URI into transport endpoints (RFC 3263, client side). Numeric
 * hosts short-circuit without any lookup; names go through DNS (`node:dns`
 * Resolver, which tests can point at their own server or replace entirely):
 * explicit port → A/AAAA only; otherwise SRV for the transport, then A/AAAA.
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { Endpoint, TransportProtocol } from "./transport/types.js";
import { bareHost } from "./transport/types.js";
import type { SipUri } from "./uri.js";

/** The part of node:dns/promises Resolver that target resolution uses. */
export interface DnsLookup {
  resolveSrv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveNaptr?(name: string): Promise<
    Array<{
      flags: string;
      service: string;
      regexp: string;
      replacement: string;
      order: number;
      preference: number;
    }>
  >;
}

export class ResolveError extends Error {
  override readonly name = "ResolveError";
}

function protocolOf(uri: SipUri): TransportProtocol {
  const t = uri.params.transport?.toUpperCase();
  if (uri.scheme === "sips") return t === "WS" || t === "WSS" ? "WSS" : "TLS";
  if (t === "TCP" || t === "TLS" || t === "WS" || t === "WSS" || t === "UDP") return t;
  return "UDP";
}

function defaultPort(protocol: TransportProtocol): number {
  return protocol === "TLS" || protocol === "WSS" ? 5061 : 5060;
}

/** The endpoint of a URI with a numeric host (maddr wins), or undefined when DNS is needed. */
export function numericTarget(uri: SipUri): Endpoint | undefined {
  const host = bareHost(uri.params.maddr ?? uri.host);
  if (isIP(host) === 0) return undefined;
  const protocol = protocolOf(uri);
  return { protocol, host, port: uri.port ?? defaultPort(protocol) };
}

const SRV_PREFIX: Record<TransportProtocol, string> = {
  UDP: "_sip._udp.",
  TCP: "_sip._tcp.",
  TLS: "_sips._tcp.",
  WS: "_sip._ws.",
  WSS: "_sips._ws.",
};

const NAPTR_SERVICES: Record<string, TransportProtocol> = {
  "SIP+D2U": "UDP",
  "SIP+D2T": "TCP",
  "SIPS+D2T": "TLS",
  "SIP+D2W": "WS",
  "SIPS+D2W": "WSS",
};

export class SipResolver {
  constructor(private readonly dns: DnsLookup = new Resolver({ timeout: 2000, tries: 2 })) {}

  /** Endpoints to try, in order. Throws ResolveError when nothing resolves. */
  async resolve(uri: SipUri): Promise<Endpoint[]> {
    const numeric = numericTarget(uri);
    if (numeric) return [numeric];
    const host = bareHost(uri.params.maddr ?? uri.host);
    const explicit = uri.params.transport !== undefined || uri.scheme === "sips";
    let protocol = protocolOf(uri);
    if (uri.port !== undefined) return this.addresses(host, uri.port, protocol);
    if (!explicit && this.dns.resolveNaptr) {
      const fromNaptr = await this.viaNaptr(host);
      if (fromNaptr.length > 0) return fromNaptr;
    }
    const srv = await this.srv(SRV_PREFIX[protocol] + host, protocol);
    if (srv.length > 0) return srv;
    if (!explicit) protocol = "UDP";
    return this.addresses(host, defaultPort(protocol), protocol);
  }

  private async viaNaptr(host: string): Promise<Endpoint[]> {
    let records: Awaited<ReturnType<NonNullable<DnsLookup["resolveNaptr"]>>> = [];
    try {
      records = (await this.dns.resolveNaptr?.(host)) ?? [];
    } catch {
      return [];
    }
    const usable = records
      .filter((r) => r.flags.toLowerCase() === "s" && NAPTR_SERVICES[r.service.toUpperCase()] !== undefined)
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const r of usable) {
      const out = await this.srv(r.replacement, NAPTR_SERVICES[r.service.toUpperCase()]!);
      if (out.length > 0) return out;
    }
    return [];
  }

  /** SRV targets by priority, weighted-random within a priority (RFC 2782), each expanded to addresses. */
  private async srv(name: string, protocol: TransportProtocol): Promise<Endpoint[]> {
    let records: Awaited<ReturnType<DnsLookup["resolveSrv"]>>;
    try {
      records = await this.dns.resolveSrv(name);
    } catch {
      return [];
    }
    const ordered = orderSrv(records);
    const out: Endpoint[] = [];
    for (const r of ordered) {
      try {
        out.push(...(await this.addresses(r.name, r.port, protocol)));
      } catch {
        // a dead target is skipped; the next one may work
      }
    }
    return out;
  }

  private async addresses(host: string, port: number, protocol: TransportProtocol): Promise<Endpoint[]> {
    if (isIP(host) !== 0) return [{ protocol, host, port }];
    const [v4, v6] = await Promise.all([
      this.dns.resolve4(host).catch(() => [] as string[]),
      this.dns.resolve6(host).catch(() => [] as string[]),
    ]);
    const all = [...v4, ...v6];
    if (all.length === 0) throw new ResolveError(`Cannot resolve ${host}`);
    return all.map((ip) => ({ protocol, host: ip, port }));
  }
}

/** Priority ascending; within a priority, weighted random order. */
export function orderSrv<T extends { priority: number; weight: number }>(
  records: T[],
  random = Math.random,
): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: T[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = [...byPriority.get(p)!];
    while (group.length > 0) {
      const total = group.reduce((s, r) => s + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let x = random() * total;
        pick = group.length - 1;
        for (let i = 0; i < group.length; i++) {
          x -= group[i]!.weight;
          if (x < 0) {
            pick = i;
            break;
          }
        }
      }
      out.push(group.splice(pick, 1)[0]!);
    }
  }
  return out;
}
