/**
 * What TCP and TLS share (RFC 3261 §18.3): a pool of connections keyed by the
 * remote ip:port, Content-Length framing, CRLF keep-alive answers (RFC 5626
 * §3.5.1), idle close, and limits so that one peer cannot hold unbounded
 * connections or buffer unbounded bytes.
 */
import type { Server, Socket } from "node:net";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../parser.js";
import { SipStreamFramer } from "../stream-framer.js";
import {
  type Endpoint,
  formatHostPort,
  type Transport,
  TransportError,
  type TransportHooks,
  type TransportOptions,
  type TransportProtocol,
} from "./types.js";

export interface StreamTransportOptions extends TransportOptions {
  /** Close a connection with no traffic for this long (default 120 s). */
  idleTimeoutMs?: number;
  /** Connections accepted from one remote IP (default 256). */
  maxConnectionsPerHost?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

const CRLF = Buffer.from("\r\n");

export abstract class StreamTransport implements Transport {
  abstract readonly protocol: TransportProtocol;
  readonly reliable = true;
  private server: Server | undefined;
  private boundPort = 0;
  private readonly connections = new Map<string, Socket>();
  private readonly perHost = new Map<string, number>();
  protected readonly maxSize: number;

  constructor(
    protected readonly opts: StreamTransportOptions,
    protected readonly hooks: TransportHooks,
  ) {
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  /** A listening server whose connection handler is `onAccepted`. */
  protected abstract createServer(onAccepted: (socket: Socket) => void): Server;
  /** An outgoing connection; "ready" is signalled by `onReady` (connect or secureConnect). */
  protected abstract connect(dest: Endpoint, onReady: () => void): Socket;

  get local(): Endpoint {
    return { protocol: this.protocol, host: this.opts.host, port: this.boundPort };
  }

  get sentBy(): string {
    return formatHostPort(this.opts.advertisedHost ?? this.opts.host, this.boundPort);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    const server = this.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off("error", reject);
        server.on("error", (err) =>
          this.hooks.onWarning?.(`${this.protocol}: server error`, { err: err.message }),
        );
        const addr = server.address();
        this.boundPort = typeof addr === "object" && addr ? addr.port : 0;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const host = socket.remoteAddress;
    const port = socket.remotePort;
    if (host === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    const limit = this.opts.maxConnectionsPerHost ?? 256;
    const count = this.perHost.get(host) ?? 0;
    if (count >= limit) {
      this.hooks.onWarning?.(`${this.protocol}: connection limit per host reached`, { host });
      socket.destroy();
      return;
    }
    this.adopt(socket, { protocol: this.protocol, host, port });
  }

  /** Registers a connection in the pool and wires framing, idle close and cleanup. */
  private adopt(socket: Socket, remote: Endpoint, outbound = false): void {
    let heardFromPeer = false;
    let reported = false;
    const key = formatHostPort(remote.host, remote.port);
    this.connections.set(key, socket);
    this.perHost.set(remote.host, (this.perHost.get(remote.host) ?? 0) + 1);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs ?? 120_000, () => socket.destroy());
    const framer = new SipStreamFramer({ maxMessageSize: this.maxSize });
    socket.on("data", (chunk: Buffer) => {
      heardFromPeer = true;
      for (const item of framer.push(chunk)) {
        if (item.kind === "message")
          this.hooks.onPacket({ data: item.data, source: remote, transport: this });
        else if (item.kind === "ping") socket.write(CRLF);
        else {
          // Framing is lost for good: without Content-Length we cannot find the next message.
          // The owner may still answer (400/413) on this socket; end() flushes that before closing.
          this.hooks.onWarning?.(`${this.protocol}: framing error, closing`, {
            key,
            reason: item.error.reason,
          });
          if (item.head)
            this.hooks.onUnframeable?.({ data: item.head, source: remote, transport: this }, item.error);
          socket.end();
          setTimeout(() => socket.destroy(), 2000).unref();
        }
      }
    });
    socket.on("error", (err) => {
      // "close" follows. Writes that already "succeeded" (TLS 1.3 client certificate refused after the
      // handshake, a reset) are lost, so the owner fails the transactions waiting on this peer.
      reported = true;
      this.hooks.onConnectionError?.(remote, err);
    });
    socket.once("close", () => {
      // An outgoing connection the peer closed without a word (e.g. our TLS client certificate refused
      // after a TLS 1.3 handshake) swallowed whatever we sent on it.
      if (outbound && !heardFromPeer && !reported) {
        this.hooks.onConnectionError?.(remote, new Error("closed by peer before any response"));
      }
      if (this.connections.get(key) === socket) this.connections.delete(key);
      const n = (this.perHost.get(remote.host) ?? 1) - 1;
      if (n <= 0) this.perHost.delete(remote.host);
      else this.perHost.set(remote.host, n);
    });
  }

  send(dest: Endpoint, data: Buffer, onError?: (err: Error) => void): void {
    const key = formatHostPort(dest.host, dest.port);
    let socket = this.connections.get(key);
    if (!socket || socket.destroyed) {
      if (!this.server) {
        if (onError)
          queueMicrotask(() => onError(new TransportError(`${this.protocol} transport closed`, dest)));
        return;
      }
      socket = this.openConnection(dest, key);
    }
    socket.write(data, (err) => {
      if (err && onError)
        onError(new TransportError(`${this.protocol} send failed: ${err.message}`, dest, { cause: err }));
    });
  }

  private openConnection(dest: Endpoint, key: string): Socket {
    const socket = this.connect(dest, () => socket.setTimeout(this.opts.idleTimeoutMs ?? 120_000));
    // Until connected, the timeout is the connect timeout; adopt() then sets the idle one.
    this.adopt(socket, { protocol: this.protocol, host: dest.host, port: dest.port }, true);
    socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000);
    this.connections.set(key, socket);
    return socket;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.connections.values()) socket.destroy();
    this.connections.clear();
    this.perHost.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
