/** UDP transport (RFC 3261 §18 over dgram): one socket, one datagram = one message. */
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../parser.js";
import {
  type Endpoint,
  formatHostPort,
  type Transport,
  TransportError,
  type TransportHooks,
  type TransportOptions,
} from "./types.js";

export class UdpTransport implements Transport {
  readonly protocol = "UDP" as const;
  readonly reliable = false;
  readonly connectionCount = 0;
  private socket: dgram.Socket | undefined;
  private boundPort = 0;
  private readonly maxSize: number;

  constructor(
    private readonly opts: TransportOptions,
    private readonly hooks: TransportHooks,
  ) {
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  get local(): Endpoint {
    return { protocol: "UDP", host: this.opts.host, port: this.boundPort };
  }

  get sentBy(): string {
    return formatHostPort(this.opts.advertisedHost ?? this.opts.host, this.boundPort);
  }

  listen(): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.opts.host) ? "udp6" : "udp4" });
    this.socket = socket;
    socket.on("message", (data, rinfo) => {
      // Oversized datagrams are dropped before parsing: nobody gets to make us buffer them.
      if (data.length > this.maxSize) {
        this.hooks.onWarning?.("udp: oversized datagram dropped", { from: rinfo.address, size: data.length });
        return;
      }
      this.hooks.onPacket({
        data,
        source: { protocol: "UDP", host: rinfo.address, port: rinfo.port },
        transport: this,
      });
    });
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.opts.port, this.opts.host, () => {
        socket.off("error", reject);
        // ICMP errors and the like must never crash the process.
        socket.on("error", (err) => this.hooks.onWarning?.("udp: socket error", { err: err.message }));
        this.boundPort = socket.address().port;
        resolve();
      });
    });
  }

  send(dest: Endpoint, data: Buffer, onError?: (err: Error) => void): void {
    const socket = this.socket;
    if (!socket) {
      if (onError) queueMicrotask(() => onError(new TransportError("UDP transport not listening", dest)));
      return;
    }
    socket.send(data, dest.port, dest.host, (err) => {
      if (err && onError)
        onError(new TransportError(`UDP send failed: ${err.message}`, dest, { cause: err }));
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }
}
