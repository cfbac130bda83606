import type { SipParseError } from "../errors.js";
/** What every transport offers the layer above, and the addresses they speak in. */

export type TransportProtocol = "UDP" | "TCP" | "TLS" | "WS" | "WSS";

/** A transport-level address: protocol plus numeric IP (v4 or v6, no brackets) and port. */
export interface Endpoint {
  protocol: TransportProtocol;
  host: string;
  port: number;
}

export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== "UDP";
}

/** "127.0.0.1:5060" or "[::1]:5060". */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function endpointKey(ep: Endpoint): string {
  return `${ep.protocol} ${formatHostPort(ep.host, ep.port)}`;
}

/** Strips IPv6 brackets: "[::1]" → "::1". */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** One framed message as it came off the wire. */
export interface Packet {
  data: Buffer;
  source: Endpoint;
  /** The transport it arrived on. */
  transport: Transport;
}

export type PacketSink = (packet: Packet) => void;

export interface Transport {
  readonly protocol: TransportProtocol;
  readonly reliable: boolean;
  /** Where we listen (the real port once bound, also when 0 was asked for). */
  readonly local: Endpoint;
  /** host:port to put in Via sent-by and Contact. */
  readonly sentBy: string;
  listen(): Promise<void>;
  /** Sends one message; `onError` is called (at most once, asynchronously) when it cannot be sent. */
  send(dest: Endpoint, data: Buffer, onError?: (err: Error) => void): void;
  close(): Promise<void>;
  /** Open connections (0 for UDP), for metrics and leak tests. */
  readonly connectionCount: number;
}

export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(
    message: string,
    readonly dest?: Endpoint,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Everything a transport needs from its owner. */
export interface TransportHooks {
  onPacket: PacketSink;
  /**
   * A stream could not be framed (no or bad Content-Length, too large). The
   * owner may answer statelessly from `packet.data` (the message's start)
   * before the transport closes the connection.
   */
  onUnframeable?: (packet: Packet, err: SipParseError) => void;
  /** A connection broke with an error (reset, failed TLS handshake …): requests sent on it are lost. */
  onConnectionError?: (remote: Endpoint, err: Error) => void;
  /** Low-volume diagnostics (connection limits hit, framing errors, socket errors). */
  onWarning?: (msg: string, detail?: Record<string, unknown>) => void;
}

export interface TransportOptions {
  /** Numeric IP to bind: "127.0.0.1", "::1", "0.0.0.0". */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Advertised host for Via/Contact when it differs from the bind address. */
  advertisedHost?: string;
  maxMessageSize?: number;
}
