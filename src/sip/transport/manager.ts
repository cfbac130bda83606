/**
 * Owns the listening transports and picks the one that sends to a given
 * endpoint (same protocol, same IP family).
 */
import { isIPv6 } from "node:net";
import { TcpTransport } from "./tcp.js";
import { type TlsFiles, TlsTransport } from "./tls.js";
import {
  type Endpoint,
  type Transport,
  TransportError,
  type TransportHooks,
  type TransportProtocol,
} from "./types.js";
import { UdpTransport } from "./udp.js";
import { WsTransport } from "./ws.js";

export interface TransportSpec {
  protocol: TransportProtocol;
  /** Numeric IP to bind (IPv4 or IPv6). */
  host: string;
  /** 0 or absent picks a free port. */
  port?: number;
  advertisedHost?: string;
  /** TCP/TLS: idle connection close (default 120 s). */
  idleTimeoutMs?: number;
  /** TCP/TLS/WS: accepted connections per remote IP (default 256). */
  maxConnectionsPerHost?: number;
  /** TLS and WSS: certificate, key, CA and client-certificate policy. */
  tls?: TlsFiles;
}

/** Builds transports for protocols this module does not know (TLS, WS) without importing them here. */
export type TransportFactory = (
  spec: TransportSpec,
  hooks: TransportHooks,
  maxMessageSize: number,
) => Transport;

function requireTls(spec: TransportSpec): TlsFiles {
  if (!spec.tls) throw new TransportError(`${spec.protocol} transport needs tls.certFile and tls.keyFile`);
  return spec.tls;
}

export class TransportManager {
  readonly transports: Transport[] = [];

  constructor(
    specs: TransportSpec[],
    hooks: TransportHooks,
    maxMessageSize: number,
    factories: Partial<Record<TransportProtocol, TransportFactory>> = {},
  ) {
    for (const spec of specs) {
      const opts = {
        host: spec.host,
        port: spec.port ?? 0,
        maxMessageSize,
        ...(spec.advertisedHost !== undefined && { advertisedHost: spec.advertisedHost }),
        ...(spec.idleTimeoutMs !== undefined && { idleTimeoutMs: spec.idleTimeoutMs }),
        ...(spec.maxConnectionsPerHost !== undefined && {
          maxConnectionsPerHost: spec.maxConnectionsPerHost,
        }),
      };
      const factory = factories[spec.protocol];
      if (factory) this.transports.push(factory(spec, hooks, maxMessageSize));
      else if (spec.protocol === "UDP") this.transports.push(new UdpTransport(opts, hooks));
      else if (spec.protocol === "TCP") this.transports.push(new TcpTransport(opts, hooks));
      else if (spec.protocol === "TLS") this.transports.push(new TlsTransport(opts, hooks, requireTls(spec)));
      else if (spec.protocol === "WS") this.transports.push(new WsTransport(opts, hooks));
      else if (spec.protocol === "WSS")
        this.transports.push(new WsTransport({ ...opts, tls: requireTls(spec) }, hooks));
      else throw new TransportError(`No factory for transport ${spec.protocol}`);
    }
  }

  async listen(): Promise<void> {
    for (const t of this.transports) await t.listen();
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()));
  }

  /** The transport that can reach `dest`, or undefined. */
  forDestination(dest: Endpoint): Transport | undefined {
    const v6 = isIPv6(dest.host);
    return this.transports.find((t) => t.protocol === dest.protocol && isIPv6(t.local.host) === v6);
  }

  get connectionCount(): number {
    let n = 0;
    for (const t of this.transports) n += t.connectionCount;
    return n;
  }
}
