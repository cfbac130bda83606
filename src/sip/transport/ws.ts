/**
 * WebSocket and secure WebSocket transports (RFC 7118): subprotocol "sip",
 * one SIP message per WebSocket message (text or binary), connections pooled
 * by remote ip:port like the stream transports. Reliable: no retransmissions.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { WebSocket, WebSocketServer } from "ws";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../parser.js";
import type { TlsFiles } from "./tls.js";
import {
  type Endpoint,
  formatHostPort,
  type Transport,
  TransportError,
  type TransportHooks,
  type TransportOptions,
} from "./types.js";

export interface WsTransportOptions extends TransportOptions {
  /** Present for WSS. */
  tls?: TlsFiles;
  /** Close a connection idle for this long (default 120 s). */
  idleTimeoutMs?: number;
  /** Connections accepted from one remote IP (default 256). */
  maxConnectionsPerHost?: number;
}

const SUBPROTOCOL = "sip";

export class WsTransport implements Transport {
  readonly reliable = true;
  readonly protocol: "WS" | "WSS";
  private server: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private boundPort = 0;
  private readonly connections = new Map<string, WebSocket>();
  private readonly perHost = new Map<string, number>();
  private readonly maxSize: number;

  constructor(
    private readonly opts: WsTransportOptions,
    private readonly hooks: TransportHooks,
  ) {
    this.protocol = opts.tls ? "WSS" : "WS";
    this.maxSize = opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  }

  get local(): Endpoint {
    return { protocol: this.protocol, host: this.opts.host, port: this.boundPort };
  }

  get sentBy(): string {
    return formatHostPort(this.opts.advertisedHost ?? this.opts.host, this.boundPort);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private tlsOptions(): https.ServerOptions | undefined {
    const files = this.opts.tls;
    if (!files) return undefined;
    return {
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      ...(files.caFile !== undefined && { ca: readFileSync(files.caFile) }),
      requestCert: files.requestClientCert ?? false,
      rejectUnauthorized: (files.requestClientCert ?? false) && (files.rejectUnauthorized ?? true),
    };
  }

  listen(): Promise<void> {
    const tlsOptions = this.tlsOptions();
    const server = tlsOptions ? https.createServer(tlsOptions) : http.createServer();
    server.on("request", (_req, res) => {
      res.writeHead(426, { Upgrade: "websocket" }).end();
    });
    this.server = server;
    this.wss = new WebSocketServer({
      server,
      maxPayload: this.maxSize,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      verifyClient: (info, done) => {
        const host = info.req.socket.remoteAddress ?? "";
        const limit = this.opts.maxConnectionsPerHost ?? 256;
        if ((this.perHost.get(host) ?? 0) >= limit) done(false, 503, "Too many connections");
        else done(true);
      },
    });
    this.wss.on("connection", (ws, req) => {
      if (ws.protocol !== SUBPROTOCOL) {
        ws.close(1002, "SIP subprotocol required");
        return;
      }
      const host = req.socket.remoteAddress;
      const port = req.socket.remotePort;
      if (host === undefined || port === undefined) {
        ws.terminate();
        return;
      }
      this.adopt(ws, { protocol: this.protocol, host, port });
    });
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

  private adopt(ws: WebSocket, remote: Endpoint): void {
    const key = formatHostPort(remote.host, remote.port);
    this.connections.set(key, ws);
    this.perHost.set(remote.host, (this.perHost.get(remote.host) ?? 0) + 1);
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => ws.terminate(), this.opts.idleTimeoutMs ?? 120_000);
      idle.unref();
    };
    touch();
    ws.on("message", (data, isBinary) => {
      touch();
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      // RFC 7118 §5: a message consisting of only CRLFs is a keep-alive; answer like RFC 5626 on streams.
      if (!isBinary && /^(\r\n)+$/.test(buf.toString("latin1"))) {
        ws.send("\r\n");
        return;
      }
      this.hooks.onPacket({ data: buf, source: remote, transport: this });
    });
    ws.on("error", (err) => {
      // "close" follows; see StreamTransport for why the owner hears about it.
      this.hooks.onConnectionError?.(remote, err);
    });
    ws.once("close", () => {
      if (idle) clearTimeout(idle);
      if (this.connections.get(key) === ws) this.connections.delete(key);
      const n = (this.perHost.get(remote.host) ?? 1) - 1;
      if (n <= 0) this.perHost.delete(remote.host);
      else this.perHost.set(remote.host, n);
    });
  }

  send(dest: Endpoint, data: Buffer, onError?: (err: Error) => void): void {
    const key = formatHostPort(dest.host, dest.port);
    let ws = this.connections.get(key);
    if (!ws || ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) {
      if (!this.server) {
        if (onError)
          queueMicrotask(() => onError(new TransportError(`${this.protocol} transport closed`, dest)));
        return;
      }
      ws = this.connect(dest);
    }
    const socket = ws;
    const write = () =>
      socket.send(data, { binary: false }, (err) => {
        if (err && onError)
          onError(new TransportError(`${this.protocol} send failed: ${err.message}`, dest, { cause: err }));
      });
    if (socket.readyState === WebSocket.OPEN) write();
    else {
      let opened = false;
      socket.once("open", () => {
        opened = true;
        write();
      });
      socket.once("close", () => {
        if (!opened && onError)
          onError(new TransportError(`${this.protocol} connection to ${key} failed`, dest));
      });
    }
  }

  private connect(dest: Endpoint): WebSocket {
    const scheme = this.protocol === "WSS" ? "wss" : "ws";
    const files = this.opts.tls;
    const ws = new WebSocket(`${scheme}://${formatHostPort(dest.host, dest.port)}`, SUBPROTOCOL, {
      localAddress: this.opts.host,
      maxPayload: this.maxSize,
      ...(files && {
        cert: readFileSync(files.certFile),
        key: readFileSync(files.keyFile),
        ...(files.caFile !== undefined && { ca: readFileSync(files.caFile) }),
        rejectUnauthorized: files.rejectUnauthorized ?? true,
      }),
    });
    this.adopt(ws, dest);
    return ws;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const ws of this.connections.values()) ws.terminate();
    this.connections.clear();
    this.perHost.clear();
    this.wss?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
